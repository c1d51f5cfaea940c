//! Binding: resolving columns against a schema, type-checking, and coercing literals.

use arrow::array::new_empty_array;
use arrow::compute::kernels::numeric;
use arrow::compute::{CastOptions, can_cast_types, cast_with_options};

use super::{BinaryOp, Expr, Function};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::{DataType, PrimitiveType, Scalar, StructType};

/// An expression checked against a schema: column paths spelled as in the schema, literals of
/// the types they are compared with, and every other conversion an explicit `CAST`.
///
/// Made by [`Expr::bind`]; evaluate it with [`BoundExpr::evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct BoundExpr {
    pub(super) expr: Expr,
    pub(super) data_type: DataType,
}

impl BoundExpr {
    /// The checked expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The type of its values.
    pub fn data_type(&self) -> &DataType {
        &self.data_type
    }

    /// The top-level columns the expression reads, in order of first use.
    pub fn top_level_columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for path in self.expr.column_paths() {
            if let Some(first) = path.first()
                && !out.contains(&first.as_str())
            {
                out.push(first);
            }
        }
        out
    }
}

impl Expr {
    /// Check the expression against `schema` (the table's logical schema).
    ///
    /// Unknown columns are an error naming the available ones. A literal compared with (or
    /// combined with) a value of another type is converted to that type when it can be exactly
    /// (`date_col = '2021-01-01'`, `long_col = 3`, `decimal_col > 1`); otherwise both sides are
    /// cast to a common type, or the types are incompatible and binding fails.
    pub fn bind(&self, schema: &StructType) -> DeltaResult<BoundExpr> {
        let (expr, data_type) = bind(self, schema)?;
        Ok(BoundExpr { expr, data_type })
    }

    /// [`Expr::bind`], requiring a boolean expression.
    pub fn bind_predicate(&self, schema: &StructType) -> DeltaResult<BoundExpr> {
        let (expr, data_type) = bind(self, schema)?;
        let expr = expect_boolean(expr, &data_type, self)?;
        Ok(BoundExpr {
            expr,
            data_type: DataType::Primitive(PrimitiveType::Boolean),
        })
    }
}

fn invalid(message: impl Into<String>) -> DeltaError {
    DeltaError::InvalidExpression(message.into())
}

fn boolean() -> DataType {
    DataType::Primitive(PrimitiveType::Boolean)
}

fn type_name(t: &DataType) -> String {
    match t {
        DataType::Primitive(p) => p.to_string(),
        DataType::Struct(_) => "struct".into(),
        DataType::Array(_) => "array".into(),
        DataType::Map(_) => "map".into(),
    }
}

/// A boolean expression, converting a NULL or string literal (`'true'`) when needed.
fn expect_boolean(expr: Expr, ty: &DataType, context: &Expr) -> DeltaResult<Expr> {
    if *ty == boolean() {
        return Ok(expr);
    }
    if let Expr::Literal(value) = &expr
        && let Some(v) = coerce_literal(value, PrimitiveType::Boolean)
    {
        return Ok(Expr::Literal(v));
    }
    Err(invalid(format!(
        "expected a boolean but {context} is of type {}",
        type_name(ty)
    )))
}

fn resolve_column(path: &[String], schema: &StructType) -> DeltaResult<(Expr, DataType)> {
    let mut fields = schema;
    let mut resolved = Vec::with_capacity(path.len());
    let mut data_type = None;
    for (depth, name) in path.iter().enumerate() {
        let Some(field) = fields.field(name) else {
            let available: Vec<&str> = fields.fields.iter().map(|f| f.name.as_str()).collect();
            let place = if depth == 0 {
                "the table".to_string()
            } else {
                format!("struct '{}'", resolved.join("."))
            };
            return Err(invalid(format!(
                "column '{}' does not exist in {place}; available: {}",
                path.join("."),
                available.join(", ")
            )));
        };
        resolved.push(field.name.clone());
        data_type = Some(field.data_type.clone());
        if depth + 1 < path.len() {
            match &field.data_type {
                DataType::Struct(s) => fields = s,
                other => {
                    return Err(invalid(format!(
                        "'{}' is of type {}, not a struct: cannot read '{}'",
                        resolved.join("."),
                        type_name(other),
                        path.join(".")
                    )));
                }
            }
        }
    }
    let data_type = data_type.ok_or_else(|| invalid("empty column path"))?;
    Ok((Expr::Column(resolved), data_type))
}

fn bind(e: &Expr, schema: &StructType) -> DeltaResult<(Expr, DataType)> {
    match e {
        Expr::Column(path) => resolve_column(path, schema),
        Expr::Literal(value) => {
            if value.primitive_type() == PrimitiveType::Variant {
                return Err(invalid("variant literals are not supported"));
            }
            Ok((e.clone(), DataType::Primitive(value.primitive_type())))
        }
        Expr::Not(inner) => {
            let (x, t) = bind(inner, schema)?;
            Ok((!expect_boolean(x, &t, inner)?, boolean()))
        }
        Expr::Negative(inner) => {
            let (x, t) = bind(inner, schema)?;
            let ty = numeric_type(&t, inner)?;
            if let Expr::Literal(value) = &x {
                return Ok((Expr::Literal(negate_literal(value)?), DataType::Primitive(ty)));
            }
            Ok((-x, t))
        }
        Expr::Binary { op, left, right } => bind_binary(*op, left, right, schema, e),
        Expr::IsNull { expr, negated } => {
            let (x, _) = bind(expr, schema)?;
            Ok((
                Expr::IsNull {
                    expr: Box::new(x),
                    negated: *negated,
                },
                boolean(),
            ))
        }
        Expr::InList { expr, list, negated } => {
            let items = std::iter::once(expr.as_ref())
                .chain(list)
                .map(|x| bind(x, schema))
                .collect::<DeltaResult<Vec<_>>>()?;
            let (mut items, _) = unify(items, e)?;
            let expr = Box::new(items.remove(0));
            Ok((
                Expr::InList {
                    expr,
                    list: items,
                    negated: *negated,
                },
                boolean(),
            ))
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let items = vec![bind(expr, schema)?, bind(low, schema)?, bind(high, schema)?];
            let (items, _) = unify(items, e)?;
            let [expr, low, high]: [Expr; 3] = items.try_into().map_err(|_| invalid("BETWEEN needs three operands"))?;
            Ok((
                Expr::Between {
                    expr: Box::new(expr),
                    low: Box::new(low),
                    high: Box::new(high),
                    negated: *negated,
                },
                boolean(),
            ))
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
            case_insensitive,
        } => {
            let x = expect_string(bind(expr, schema)?, expr)?;
            let p = expect_string(bind(pattern, schema)?, pattern)?;
            let p = match (escape, p) {
                (None, p) => p,
                (Some(c), Expr::Literal(Scalar::String(s))) => {
                    Expr::Literal(Scalar::String(with_backslash_escape(&s, *c)?))
                }
                (Some(_), _) => return Err(invalid(format!("the pattern of {e} must be a literal to use ESCAPE"))),
            };
            Ok((
                Expr::Like {
                    expr: Box::new(x),
                    pattern: Box::new(p),
                    escape: None,
                    negated: *negated,
                    case_insensitive: *case_insensitive,
                },
                boolean(),
            ))
        }
        Expr::Cast { expr, to } => {
            let (x, t) = bind(expr, schema)?;
            let DataType::Primitive(from) = t else {
                return Err(invalid(format!("cannot cast {} to {to}: {e}", type_name(&t))));
            };
            if from == *to {
                return Ok((x, t));
            }
            let arrow_from = DataType::Primitive(from).to_arrow()?;
            let arrow_to = DataType::Primitive(*to).to_arrow()?;
            if !can_cast_types(&arrow_from, &arrow_to) {
                return Err(invalid(format!("cannot cast {from} to {to}: {e}")));
            }
            if let Expr::Literal(value) = &x {
                return Ok((Expr::Literal(cast_literal(value, *to)?), DataType::Primitive(*to)));
            }
            Ok((x.cast(*to), DataType::Primitive(*to)))
        }
        Expr::Function { func, args } => {
            let bound = args.iter().map(|a| bind(a, schema)).collect::<DeltaResult<Vec<_>>>()?;
            match func {
                Function::Lower | Function::Upper => {
                    let [arg] = <[_; 1]>::try_from(bound)
                        .map_err(|_| invalid(format!("{} takes one argument: {e}", func.name())))?;
                    let x = expect_string(arg, e)?;
                    Ok((Expr::call(*func, [x]), DataType::Primitive(PrimitiveType::String)))
                }
                Function::Coalesce => {
                    if bound.is_empty() {
                        return Err(invalid(format!("coalesce needs at least one argument: {e}")));
                    }
                    let (items, ty) = unify(bound, e)?;
                    Ok((Expr::call(*func, items), DataType::Primitive(ty)))
                }
            }
        }
    }
}

fn bind_binary(
    op: BinaryOp,
    left: &Expr,
    right: &Expr,
    schema: &StructType,
    context: &Expr,
) -> DeltaResult<(Expr, DataType)> {
    let (l, lt) = bind(left, schema)?;
    let (r, rt) = bind(right, schema)?;
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        let l = expect_boolean(l, &lt, left)?;
        let r = expect_boolean(r, &rt, right)?;
        return Ok((super::boxed_binary(op, l, r), boolean()));
    }
    let (items, ty) = unify(vec![(l, lt), (r, rt)], context)?;
    let [mut l, mut r]: [Expr; 2] = items
        .try_into()
        .map_err(|_| invalid("binary operator needs two operands"))?;
    if op.is_comparison() {
        if ty == PrimitiveType::Variant {
            return Err(invalid(format!("variant values cannot be compared: {context}")));
        }
        return Ok((super::boxed_binary(op, l, r), boolean()));
    }
    let mut ty = numeric_type(&DataType::Primitive(ty), context)?;
    if op == BinaryOp::Divide && is_integral(ty) {
        // Integer division gives a double, as in Spark SQL.
        ty = PrimitiveType::Double;
        l = cast_to(l, ty)?;
        r = cast_to(r, ty)?;
    }
    let result = arithmetic_result_type(op, ty).map_err(|reason| invalid(format!("{context}: {reason}")))?;
    Ok((super::boxed_binary(op, l, r), DataType::Primitive(result)))
}

/// The type arrow's kernel gives for `op` on two values of type `ty` (decimal precision rules).
fn arithmetic_result_type(op: BinaryOp, ty: PrimitiveType) -> Result<PrimitiveType, String> {
    let arrow_type = DataType::Primitive(ty).to_arrow().map_err(|e| e.to_string())?;
    let empty = new_empty_array(&arrow_type);
    let result = match op {
        BinaryOp::Plus => numeric::add(&empty, &empty),
        BinaryOp::Minus => numeric::sub(&empty, &empty),
        BinaryOp::Multiply => numeric::mul(&empty, &empty),
        BinaryOp::Divide => numeric::div(&empty, &empty),
        _ => numeric::rem(&empty, &empty),
    }
    .map_err(|e| e.to_string())?;
    match DataType::try_from_arrow(result.data_type()).map_err(|e| e.to_string())? {
        DataType::Primitive(p) => Ok(p),
        other => Err(format!("unexpected result type {}", type_name(&other))),
    }
}

fn expect_string((x, t): (Expr, DataType), context: &Expr) -> DeltaResult<Expr> {
    if t == DataType::Primitive(PrimitiveType::String) {
        return Ok(x);
    }
    if let Expr::Literal(v) = &x
        && v.is_null()
    {
        return Ok(Expr::Literal(Scalar::Null(PrimitiveType::String)));
    }
    Err(invalid(format!(
        "expected a string but {context} is of type {}",
        type_name(&t)
    )))
}

fn numeric_type(t: &DataType, context: &Expr) -> DeltaResult<PrimitiveType> {
    match t {
        DataType::Primitive(p) if is_numeric(*p) => Ok(*p),
        other => Err(invalid(format!(
            "expected a number but {context} is of type {}",
            type_name(other)
        ))),
    }
}

fn is_integral(t: PrimitiveType) -> bool {
    use PrimitiveType as P;
    matches!(t, P::Byte | P::Short | P::Integer | P::Long)
}

fn is_numeric(t: PrimitiveType) -> bool {
    use PrimitiveType as P;
    is_integral(t) || matches!(t, P::Float | P::Double | P::Decimal(..))
}

/// Digits needed for any value of an integral type.
fn integral_digits(t: PrimitiveType) -> u8 {
    use PrimitiveType as P;
    match t {
        P::Byte => 3,
        P::Short => 5,
        P::Integer => 10,
        _ => 19,
    }
}

fn decimal(int_digits: u8, scale: i8) -> PrimitiveType {
    let scale = scale.max(0);
    let precision = (int_digits.saturating_add(scale as u8)).min(38);
    PrimitiveType::Decimal(precision.max(1), scale.min(precision as i8))
}

/// The type two values of types `a` and `b` are both converted to, if there is one.
pub(crate) fn common_type(a: PrimitiveType, b: PrimitiveType) -> Option<PrimitiveType> {
    use PrimitiveType as P;
    if a == b {
        return Some(a);
    }
    Some(match (a, b) {
        (x, y) if is_integral(x) && is_integral(y) => {
            if integral_digits(x) >= integral_digits(y) {
                x
            } else {
                y
            }
        }
        (P::Decimal(p, s), i) | (i, P::Decimal(p, s)) if is_integral(i) => {
            decimal(integral_digits(i).max(p.saturating_sub(s.max(0) as u8)), s)
        }
        (P::Decimal(p1, s1), P::Decimal(p2, s2)) => {
            let int = p1
                .saturating_sub(s1.max(0) as u8)
                .max(p2.saturating_sub(s2.max(0) as u8));
            decimal(int, s1.max(s2))
        }
        (x, y) if is_numeric(x) && is_numeric(y) => P::Double,
        (P::Date, t @ (P::Timestamp | P::TimestampNtz)) | (t @ (P::Timestamp | P::TimestampNtz), P::Date) => t,
        (P::Timestamp, P::TimestampNtz) | (P::TimestampNtz, P::Timestamp) => P::Timestamp,
        _ => return None,
    })
}

/// `value` as a value of type `to`, if that loses nothing (a string literal is parsed).
pub(crate) fn coerce_literal(value: &Scalar, to: PrimitiveType) -> Option<Scalar> {
    use PrimitiveType as P;
    let from = value.primitive_type();
    if from == to {
        return Some(value.clone());
    }
    match value {
        Scalar::Null(_) => return Some(Scalar::Null(to)),
        Scalar::String(s) => return Scalar::parse(s, to),
        _ => {}
    }
    let exact = match (from, to) {
        (f, t) if is_numeric(f) && is_numeric(t) => true,
        (P::Date, P::Timestamp | P::TimestampNtz)
        | (P::Timestamp | P::TimestampNtz, P::Timestamp | P::TimestampNtz) => true,
        _ => return None,
    };
    let converted = cast_literal(value, to).ok()?;
    if converted.is_null() {
        return None;
    }
    let same = match (value, &converted) {
        (Scalar::Float(a), Scalar::Double(b)) => f64::from(*a) == *b || a.is_nan() && b.is_nan(),
        (Scalar::Double(a), Scalar::Float(b)) => *a == f64::from(*b) || a.is_nan() && b.is_nan(),
        _ if is_numeric(from) => value.compare(&converted) == Some(std::cmp::Ordering::Equal),
        _ => true,
    };
    (exact && same).then_some(converted)
}

/// `CAST(value AS to)` computed now; an invalid conversion gives NULL, as at run time.
fn cast_literal(value: &Scalar, to: PrimitiveType) -> DeltaResult<Scalar> {
    let target = DataType::Primitive(to).to_arrow()?;
    let array = value.to_array(1)?;
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    let cast = cast_with_options(&array, &target, &options)?;
    Scalar::from_array(cast.as_ref(), 0)
}

fn negate_literal(value: &Scalar) -> DeltaResult<Scalar> {
    let overflow = || invalid(format!("-({value}) overflows"));
    Ok(match value {
        Scalar::Null(t) => Scalar::Null(*t),
        Scalar::Byte(v) => Scalar::Byte(v.checked_neg().ok_or_else(overflow)?),
        Scalar::Short(v) => Scalar::Short(v.checked_neg().ok_or_else(overflow)?),
        Scalar::Integer(v) => Scalar::Integer(v.checked_neg().ok_or_else(overflow)?),
        Scalar::Long(v) => Scalar::Long(v.checked_neg().ok_or_else(overflow)?),
        Scalar::Float(v) => Scalar::Float(-v),
        Scalar::Double(v) => Scalar::Double(-v),
        Scalar::Decimal(v, p, s) => Scalar::Decimal(-v, *p, *s),
        other => return Err(invalid(format!("cannot negate {other}"))),
    })
}

/// A LIKE pattern with escape character `escape` rewritten to use `\\` (the evaluator's escape).
fn with_backslash_escape(pattern: &str, escape: char) -> DeltaResult<String> {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            let next = chars.next().ok_or_else(|| {
                invalid(format!(
                    "LIKE pattern '{pattern}' ends with its escape character '{escape}'"
                ))
            })?;
            out.push('\\');
            out.push(next);
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn cast_to(e: Expr, to: PrimitiveType) -> DeltaResult<Expr> {
    Ok(match e {
        Expr::Literal(v) => Expr::Literal(cast_literal(&v, to)?),
        other => other.cast(to),
    })
}

/// Bring `items` to one primitive type: literals are converted when exact, other values cast.
fn unify(items: Vec<(Expr, DataType)>, context: &Expr) -> DeltaResult<(Vec<Expr>, PrimitiveType)> {
    let mut prims = Vec::with_capacity(items.len());
    for (e, t) in items {
        match t {
            DataType::Primitive(p) => prims.push((e, p)),
            other => {
                return Err(invalid(format!(
                    "{} values cannot be used in {context}",
                    type_name(&other)
                )));
            }
        }
    }
    let incompatible =
        |a: PrimitiveType, b: PrimitiveType| invalid(format!("incompatible types {a} and {b} in {context}"));
    let is_literal = |e: &Expr| matches!(e, Expr::Literal(_));
    // The type of the non-literal operands decides; literals follow when they can.
    let mut target: Option<PrimitiveType> = None;
    for (_, t) in prims.iter().filter(|(e, _)| !is_literal(e)) {
        target = Some(match target {
            None => *t,
            Some(a) => common_type(a, *t).ok_or_else(|| incompatible(a, *t))?,
        });
    }
    let from_values = target.is_some();
    for (e, t) in prims.iter().filter(|(e, _)| is_literal(e)) {
        let Expr::Literal(value) = e else { continue };
        if value.is_null() {
            continue;
        }
        target = Some(match target {
            None => *t,
            Some(a) if coerce_literal(value, a).is_some() => a,
            Some(a) => match common_type(a, *t) {
                Some(c) => c,
                // Only literals so far, and they all convert to this one's type ('1' = 1.5).
                None if !from_values
                    && prims
                        .iter()
                        .all(|(e, _)| matches!(e, Expr::Literal(v) if coerce_literal(v, *t).is_some())) =>
                {
                    *t
                }
                None if from_values && matches!(value, Scalar::String(_)) => {
                    return Err(invalid(format!("{value} is not a valid {a} in {context}")));
                }
                None => return Err(incompatible(a, *t)),
            },
        });
    }
    let target = match target {
        Some(t) => t,
        None => prims.first().map_or(PrimitiveType::String, |(_, t)| *t),
    };
    let out = prims
        .into_iter()
        .map(|(e, t)| match e {
            Expr::Literal(value) => coerce_literal(&value, target)
                .map(Expr::Literal)
                .ok_or_else(|| invalid(format!("{value} is not a valid {target} in {context}"))),
            other if t == target => Ok(other),
            other => Ok(other.cast(target)),
        })
        .collect::<DeltaResult<Vec<_>>>()?;
    Ok((out, target))
}

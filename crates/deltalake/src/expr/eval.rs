//! Vectorized evaluation of bound expressions over Arrow record batches.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Datum, Int64Array, RecordBatch, Scalar as ArrowScalar, StringArray,
    make_array,
};
use arrow::buffer::NullBuffer;
use arrow::compute::kernels::comparison::{ilike, like, nilike, nlike};
use arrow::compute::kernels::zip::zip;
use arrow::compute::kernels::{cmp, numeric};
use arrow::compute::{
    CastOptions, and_kleene, cast_with_options, filter_record_batch, is_not_null, is_null, not, nullif, or_kleene,
};
use arrow::datatypes::{DataType as ArrowType, Fields};

use super::{BinaryOp, BoundExpr, Expr, Function};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::{DataType, Scalar};

impl BoundExpr {
    /// Evaluate over `batch`, whose columns carry the names of the schema the expression was
    /// bound to: one value per row.
    pub fn evaluate(&self, batch: &RecordBatch) -> DeltaResult<ArrayRef> {
        eval(self.expr(), batch)?.into_array(batch.num_rows())
    }

    /// Evaluate a predicate over `batch`: TRUE, FALSE or NULL per row.
    pub fn evaluate_predicate(&self, batch: &RecordBatch) -> DeltaResult<BooleanArray> {
        let result = self.evaluate(batch)?;
        result.as_boolean_opt().cloned().ok_or_else(|| {
            DeltaError::InvalidExpression(format!(
                "{} is not a predicate (type {})",
                self.expr(),
                result.data_type()
            ))
        })
    }

    /// The rows of `batch` for which the predicate is TRUE.
    pub fn filter(&self, batch: &RecordBatch) -> DeltaResult<RecordBatch> {
        let mask = self.evaluate_predicate(batch)?;
        if mask.true_count() == batch.num_rows() {
            return Ok(batch.clone());
        }
        Ok(filter_record_batch(batch, &mask)?)
    }
}

/// An intermediate result: a column, or one value standing for every row.
enum Value {
    Array(ArrayRef),
    /// A one-element array, and the same array marked as a scalar for the kernels.
    Scalar(ArrayRef, ArrowScalar<ArrayRef>),
}

impl Value {
    fn scalar(array: ArrayRef) -> Self {
        Value::Scalar(array.clone(), ArrowScalar::new(array))
    }

    fn datum(&self) -> &dyn Datum {
        match self {
            Value::Array(a) => a,
            Value::Scalar(_, s) => s,
        }
    }

    fn is_scalar(&self) -> bool {
        matches!(self, Value::Scalar(..))
    }

    /// The underlying array: the column, or the one-element array of a scalar.
    fn array(&self) -> &ArrayRef {
        match self {
            Value::Array(a) | Value::Scalar(a, _) => a,
        }
    }

    fn into_array(self, len: usize) -> DeltaResult<ArrayRef> {
        match self {
            Value::Array(a) => Ok(a),
            Value::Scalar(a, _) => Scalar::from_array(a.as_ref(), 0)?.to_array(len),
        }
    }

    /// A result computed from the underlying arrays of `inputs`: a scalar if they all are.
    fn derived(inputs: &[&Value], array: ArrayRef) -> Value {
        if inputs.iter().all(|v| v.is_scalar()) {
            Value::scalar(array)
        } else {
            Value::Array(array)
        }
    }
}

fn eval(e: &Expr, batch: &RecordBatch) -> DeltaResult<Value> {
    let rows = batch.num_rows();
    Ok(match e {
        Expr::Column(path) => Value::Array(column(batch, path)?),
        Expr::Literal(value) => Value::scalar(value.to_array(1)?),
        Expr::Not(inner) => {
            let v = eval(inner, batch)?;
            let out = not(boolean(&v)?)?;
            Value::derived(&[&v], Arc::new(out))
        }
        Expr::Negative(inner) => {
            let v = eval(inner, batch)?;
            let out = numeric::neg(v.array().as_ref())?;
            Value::derived(&[&v], out)
        }
        Expr::Binary { op, left, right } => {
            let l = eval(left, batch)?;
            let r = eval(right, batch)?;
            let out: ArrayRef = match op {
                BinaryOp::And | BinaryOp::Or => {
                    let (la, ra) = (l.array(), r.array());
                    let (la, ra) = (expand(&l, la, rows)?, expand(&r, ra, rows)?);
                    let (lb, rb) = (as_boolean(&la)?, as_boolean(&ra)?);
                    let out = if *op == BinaryOp::And {
                        and_kleene(lb, rb)?
                    } else {
                        or_kleene(lb, rb)?
                    };
                    return Ok(Value::derived(&[&l, &r], Arc::new(out)));
                }
                op if op.is_comparison() => Arc::new(compare(*op, &l, &r)?),
                BinaryOp::Plus => numeric::add(l.datum(), r.datum())?,
                BinaryOp::Minus => numeric::sub(l.datum(), r.datum())?,
                BinaryOp::Multiply => numeric::mul(l.datum(), r.datum())?,
                BinaryOp::Divide => numeric::div(l.datum(), non_zero(&r)?.datum())?,
                _ => numeric::rem(l.datum(), non_zero(&r)?.datum())?,
            };
            Value::derived(&[&l, &r], out)
        }
        Expr::IsNull { expr, negated } => {
            let v = eval(expr, batch)?;
            let out = if *negated {
                is_not_null(v.array().as_ref())?
            } else {
                is_null(v.array().as_ref())?
            };
            Value::derived(&[&v], Arc::new(out))
        }
        Expr::InList { expr, list, negated } => {
            let x = eval(expr, batch)?;
            let mut all_scalar = x.is_scalar();
            let mut acc: Option<BooleanArray> = None;
            for item in list {
                let v = eval(item, batch)?;
                all_scalar &= v.is_scalar();
                let hit = compare(BinaryOp::Eq, &x, &v)?;
                acc = Some(match acc {
                    None => hit,
                    Some(prev) => or_same_length(&prev, &hit, rows)?,
                });
            }
            let mut out = acc.unwrap_or_else(|| BooleanArray::from(vec![false; if all_scalar { 1 } else { rows }]));
            if *negated {
                out = not(&out)?;
            }
            finish_boolean(out, all_scalar)
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let x = eval(expr, batch)?;
            let lo = eval(low, batch)?;
            let hi = eval(high, batch)?;
            let above = compare(BinaryOp::GtEq, &x, &lo)?;
            let below = compare(BinaryOp::LtEq, &x, &hi)?;
            let (above, below) = same_length(above, below, rows)?;
            let mut out = and_kleene(&above, &below)?;
            if *negated {
                out = not(&out)?;
            }
            finish_boolean(out, x.is_scalar() && lo.is_scalar() && hi.is_scalar())
        }
        Expr::Like {
            expr,
            pattern,
            negated,
            case_insensitive,
            ..
        } => {
            let x = eval(expr, batch)?;
            let p = eval(pattern, batch)?;
            let out = match (negated, case_insensitive) {
                (false, false) => like(x.datum(), p.datum())?,
                (true, false) => nlike(x.datum(), p.datum())?,
                (false, true) => ilike(x.datum(), p.datum())?,
                (true, true) => nilike(x.datum(), p.datum())?,
            };
            Value::derived(&[&x, &p], Arc::new(out))
        }
        Expr::Cast { expr, to } => {
            let v = eval(expr, batch)?;
            let target = DataType::Primitive(*to).to_arrow()?;
            let out = cast_with_options(
                v.array(),
                &target,
                &CastOptions {
                    safe: true,
                    ..Default::default()
                },
            )?;
            Value::derived(&[&v], out)
        }
        Expr::Function { func, args } => {
            let values = args.iter().map(|a| eval(a, batch)).collect::<DeltaResult<Vec<_>>>()?;
            let refs: Vec<&Value> = values.iter().collect();
            let out = match func {
                Function::Lower | Function::Upper => {
                    let [v] = refs.as_slice() else {
                        return Err(DeltaError::InvalidExpression(format!(
                            "{} takes one argument",
                            func.name()
                        )));
                    };
                    let strings = v.array().as_string_opt::<i32>().ok_or_else(|| {
                        DeltaError::InvalidExpression(format!("{} expects a string argument", func.name()))
                    })?;
                    let lower = *func == Function::Lower;
                    let out: StringArray = strings
                        .iter()
                        .map(|s| s.map(|s| if lower { s.to_lowercase() } else { s.to_uppercase() }))
                        .collect();
                    Arc::new(out) as ArrayRef
                }
                Function::Coalesce => {
                    let all_scalar = refs.iter().all(|v| v.is_scalar());
                    let len = if all_scalar { 1 } else { rows };
                    let mut iter = refs.iter();
                    let first = iter
                        .next()
                        .ok_or_else(|| DeltaError::InvalidExpression("coalesce needs an argument".into()))?;
                    let mut acc = expand(first, first.array(), len)?;
                    for v in iter {
                        let next = expand(v, v.array(), len)?;
                        acc = zip(&is_not_null(acc.as_ref())?, &acc, &next)?;
                    }
                    acc
                }
            };
            Value::derived(&refs, out)
        }
    })
}

fn finish_boolean(out: BooleanArray, scalar: bool) -> Value {
    let out: ArrayRef = Arc::new(out);
    if scalar { Value::scalar(out) } else { Value::Array(out) }
}

fn boolean(v: &Value) -> DeltaResult<&BooleanArray> {
    as_boolean(v.array())
}

fn as_boolean(a: &ArrayRef) -> DeltaResult<&BooleanArray> {
    a.as_boolean_opt()
        .ok_or_else(|| DeltaError::InvalidExpression(format!("expected booleans, found {}", a.data_type())))
}

/// The array of `v` with one value per row (scalars repeated).
fn expand(v: &Value, array: &ArrayRef, rows: usize) -> DeltaResult<ArrayRef> {
    if v.is_scalar() && array.len() != rows {
        return Scalar::from_array(array.as_ref(), 0)?.to_array(rows);
    }
    Ok(array.clone())
}

/// Two boolean results brought to one length: a one-element (scalar) result is repeated.
fn same_length(a: BooleanArray, b: BooleanArray, rows: usize) -> DeltaResult<(BooleanArray, BooleanArray)> {
    if a.len() == b.len() {
        return Ok((a, b));
    }
    let widen = |x: BooleanArray| -> DeltaResult<BooleanArray> {
        if x.len() == rows {
            return Ok(x);
        }
        let repeated = Scalar::from_array(&x, 0)?.to_array(rows)?;
        Ok(repeated.as_boolean().clone())
    };
    Ok((widen(a)?, widen(b)?))
}

fn or_same_length(a: &BooleanArray, b: &BooleanArray, rows: usize) -> DeltaResult<BooleanArray> {
    let (a, b) = same_length(a.clone(), b.clone(), rows)?;
    Ok(or_kleene(&a, &b)?)
}

fn compare(op: BinaryOp, l: &Value, r: &Value) -> DeltaResult<BooleanArray> {
    let (l, r) = (l.datum(), r.datum());
    Ok(match op {
        BinaryOp::Eq => cmp::eq(l, r)?,
        BinaryOp::NotEq => cmp::neq(l, r)?,
        BinaryOp::Lt => cmp::lt(l, r)?,
        BinaryOp::LtEq => cmp::lt_eq(l, r)?,
        BinaryOp::Gt => cmp::gt(l, r)?,
        BinaryOp::GtEq => cmp::gt_eq(l, r)?,
        BinaryOp::NullSafeEq => cmp::not_distinct(l, r)?,
        other => {
            return Err(DeltaError::InvalidExpression(format!(
                "{} is not a comparison",
                other.symbol()
            )));
        }
    })
}

/// The divisor with zeros replaced by NULL, so that division by zero is NULL.
fn non_zero(divisor: &Value) -> DeltaResult<Value> {
    let array = divisor.array();
    let zero = cast_with_options(&Int64Array::from(vec![0]), array.data_type(), &CastOptions::default())?;
    let is_zero = cmp::eq(array, &ArrowScalar::new(zero))?;
    let out = nullif(array.as_ref(), &is_zero)?;
    Ok(Value::derived(&[divisor], out))
}

fn find_field(fields: &Fields, name: &str) -> Option<usize> {
    fields
        .iter()
        .position(|f| f.name() == name)
        .or_else(|| fields.iter().position(|f| f.name().eq_ignore_ascii_case(name)))
}

/// The column at `path`; a field of a null struct is null.
fn column(batch: &RecordBatch, path: &[String]) -> DeltaResult<ArrayRef> {
    let missing = || {
        DeltaError::InvalidExpression(format!(
            "column '{}' is not in the batch (columns: {})",
            path.join("."),
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    let (first, rest) = path.split_first().ok_or_else(missing)?;
    let index = find_field(batch.schema().fields(), first).ok_or_else(missing)?;
    let mut array = batch.column(index).clone();
    for name in rest {
        let ArrowType::Struct(fields) = array.data_type() else {
            return Err(missing());
        };
        let index = find_field(fields, name).ok_or_else(missing)?;
        let parent = array.as_struct();
        let child = parent.column(index).clone();
        array = match NullBuffer::union(parent.nulls(), child.nulls()) {
            Some(nulls) if Some(&nulls) != child.nulls() => {
                make_array(child.to_data().into_builder().nulls(Some(nulls)).build()?)
            }
            _ => child,
        };
    }
    Ok(array)
}

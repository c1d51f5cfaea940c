//! DataFusion filter expressions translated into the crate's [`Expr`], so that a query's `WHERE`
//! clause skips files and filters rows inside the Delta scan.
//!
//! Only what means exactly the same in both is translated: columns, typed literals, comparisons,
//! `AND` / `OR` / `NOT`, `IS [NOT] NULL`, `[NOT] IN`, `[NOT] BETWEEN` and `[NOT] [I]LIKE`.
//! Arithmetic, casts and function calls are left to DataFusion (their overflow and error rules
//! differ), which is why a filter the scan takes is always applied exactly.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::{Between, InList, Like};
use datafusion::logical_expr::{BinaryExpr, Expr as DfExpr, Operator};

use crate::expr::{BinaryOp, Expr};
use crate::protocol::{PrimitiveType, Scalar};

/// The crate's expression for `expr`, or `None` when part of it has no exact equivalent.
pub(crate) fn to_delta_expr(expr: &DfExpr) -> Option<Expr> {
    let boxed = |e: &DfExpr| to_delta_expr(e).map(Box::new);
    Some(match expr {
        DfExpr::Column(column) => Expr::Column(vec![column.name.clone()]),
        DfExpr::Literal(value, _) => Expr::Literal(to_scalar(value)?),
        DfExpr::BinaryExpr(BinaryExpr { left, op, right }) => Expr::Binary {
            op: to_binary_op(*op)?,
            left: boxed(left)?,
            right: boxed(right)?,
        },
        DfExpr::Not(inner) => Expr::Not(boxed(inner)?),
        DfExpr::IsNull(inner) => Expr::IsNull {
            expr: boxed(inner)?,
            negated: false,
        },
        DfExpr::IsNotNull(inner) => Expr::IsNull {
            expr: boxed(inner)?,
            negated: true,
        },
        DfExpr::InList(InList { expr, list, negated }) => Expr::InList {
            expr: boxed(expr)?,
            list: list.iter().map(to_delta_expr).collect::<Option<_>>()?,
            negated: *negated,
        },
        DfExpr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) => Expr::Between {
            expr: boxed(expr)?,
            low: boxed(low)?,
            high: boxed(high)?,
            negated: *negated,
        },
        DfExpr::Like(Like {
            negated,
            expr,
            pattern,
            escape_char,
            case_insensitive,
        }) => Expr::Like {
            expr: boxed(expr)?,
            pattern: boxed(pattern)?,
            escape: *escape_char,
            negated: *negated,
            case_insensitive: *case_insensitive,
        },
        _ => return None,
    })
}

/// The operator with the same meaning, among the logical and comparison operators.
fn to_binary_op(op: Operator) -> Option<BinaryOp> {
    Some(match op {
        Operator::Eq => BinaryOp::Eq,
        Operator::NotEq => BinaryOp::NotEq,
        Operator::Lt => BinaryOp::Lt,
        Operator::LtEq => BinaryOp::LtEq,
        Operator::Gt => BinaryOp::Gt,
        Operator::GtEq => BinaryOp::GtEq,
        Operator::IsNotDistinctFrom => BinaryOp::NullSafeEq,
        Operator::And => BinaryOp::And,
        Operator::Or => BinaryOp::Or,
        _ => return None,
    })
}

/// The scalar of a DataFusion literal of a Delta type.
fn to_scalar(value: &ScalarValue) -> Option<Scalar> {
    macro_rules! typed {
        ($v:expr, $variant:ident, $ty:ident) => {
            match $v {
                Some(v) => Scalar::$variant(v.clone()),
                None => Scalar::Null(PrimitiveType::$ty),
            }
        };
    }
    Some(match value {
        ScalarValue::Boolean(v) => typed!(v, Boolean, Boolean),
        ScalarValue::Int8(v) => typed!(v, Byte, Byte),
        ScalarValue::Int16(v) => typed!(v, Short, Short),
        ScalarValue::Int32(v) => typed!(v, Integer, Integer),
        ScalarValue::Int64(v) => typed!(v, Long, Long),
        ScalarValue::Float32(v) => typed!(v, Float, Float),
        ScalarValue::Float64(v) => typed!(v, Double, Double),
        ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => typed!(v, String, String),
        ScalarValue::Binary(v) | ScalarValue::LargeBinary(v) | ScalarValue::BinaryView(v) => {
            typed!(v, Binary, Binary)
        }
        ScalarValue::Date32(v) => typed!(v, Date, Date),
        ScalarValue::TimestampMicrosecond(v, Some(_)) => typed!(v, Timestamp, Timestamp),
        ScalarValue::TimestampMicrosecond(v, None) => typed!(v, TimestampNtz, TimestampNtz),
        ScalarValue::Decimal128(v, precision, scale) => match v {
            Some(v) => Scalar::Decimal(*v, *precision, *scale),
            None => Scalar::Null(PrimitiveType::Decimal(*precision, *scale)),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{col, lit};

    use super::*;
    use crate::expr;

    #[test]
    fn translates_comparisons_and_logic() {
        let df = col("year")
            .eq(lit(2021i32))
            .and(col("name").like(lit("a%")).or(col("v").is_null()));
        let ours = expr::col("year")
            .eq(expr::lit(2021i32))
            .and(expr::col("name").like(expr::lit("a%")).or(expr::col("v").is_null()));
        assert_eq!(to_delta_expr(&df), Some(ours));
    }

    #[test]
    fn translates_in_between_and_null_literals() {
        let df = col("a").in_list(vec![lit(1i64), lit(ScalarValue::Int64(None))], true);
        let Some(Expr::InList { list, negated, .. }) = to_delta_expr(&df) else {
            panic!("not translated");
        };
        assert!(negated);
        assert_eq!(list[1], Expr::Literal(Scalar::Null(PrimitiveType::Long)));
        let df = col("d").between(lit(ScalarValue::Date32(Some(1))), lit(ScalarValue::Date32(Some(9))));
        assert_eq!(
            to_delta_expr(&df),
            Some(expr::col("d").between(expr::lit(Scalar::Date(1)), expr::lit(Scalar::Date(9))))
        );
        let ts = lit(ScalarValue::TimestampMicrosecond(Some(5), Some("UTC".into())));
        assert_eq!(
            to_delta_expr(&col("t").gt(ts)),
            Some(expr::col("t").gt(expr::lit(Scalar::Timestamp(5))))
        );
    }

    #[test]
    fn leaves_arithmetic_casts_and_functions_to_datafusion() {
        use datafusion::arrow::datatypes::DataType;
        assert_eq!(to_delta_expr(&(col("a") + lit(1i64)).gt(lit(2i64))), None);
        assert_eq!(
            to_delta_expr(&datafusion::logical_expr::cast(col("a"), DataType::Float64).gt(lit(2.5))),
            None
        );
        assert_eq!(
            to_delta_expr(&datafusion::functions::expr_fn::lower(col("s")).eq(lit("x"))),
            None
        );
        // One untranslatable side of an AND makes the whole filter untranslatable.
        assert_eq!(
            to_delta_expr(&col("a").eq(lit(1i64)).and((col("a") % lit(2i64)).eq(lit(0i64)))),
            None
        );
    }
}

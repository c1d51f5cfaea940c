//! Filters in disjunctive normal form: the `[("year", "=", 2021), ("month", ">", 6)]` tuples of
//! the Python and pyarrow APIs, turned into an [`Expr`].
//!
//! A filter is an OR of conjunctions, each an AND of `(column, op, value)` terms. The column is a
//! top-level column name (taken whole: dots are part of the name). Values are literals; binding
//! the expression to a schema ([`Expr::bind_predicate`]) converts them to the column's type, so a
//! string such as `"2021"` compares as a number against an integer column.

use std::fmt;
use std::str::FromStr;

use super::{BinaryOp, Expr, lit};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::Scalar;

/// The operator of a [`DnfTerm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnfOp {
    /// `=` (also written `==`)
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `in`: the value is one of a list.
    In,
    /// `not in`: the value is none of a list.
    NotIn,
}

impl DnfOp {
    /// The comparison operator, for every operator but `in` and `not in`.
    fn comparison(self) -> Option<BinaryOp> {
        Some(match self {
            Self::Eq => BinaryOp::Eq,
            Self::NotEq => BinaryOp::NotEq,
            Self::Lt => BinaryOp::Lt,
            Self::LtEq => BinaryOp::LtEq,
            Self::Gt => BinaryOp::Gt,
            Self::GtEq => BinaryOp::GtEq,
            Self::In | Self::NotIn => return None,
        })
    }
}

impl FromStr for DnfOp {
    type Err = DeltaError;

    /// Parse `=`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `in` or `not in` (case-insensitive).
    fn from_str(op: &str) -> DeltaResult<Self> {
        let words: Vec<String> = op.split_whitespace().map(str::to_ascii_lowercase).collect();
        Ok(match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["=" | "=="] => Self::Eq,
            ["!="] => Self::NotEq,
            ["<"] => Self::Lt,
            ["<="] => Self::LtEq,
            [">"] => Self::Gt,
            [">="] => Self::GtEq,
            ["in"] => Self::In,
            ["not", "in"] => Self::NotIn,
            _ => {
                return Err(DeltaError::InvalidExpression(format!(
                    "invalid filter operator '{op}': use one of =, ==, !=, <, <=, >, >=, in, not in"
                )));
            }
        })
    }
}

impl fmt::Display for DnfOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Eq => "=",
            Self::NotEq => "!=",
            Self::Lt => "<",
            Self::LtEq => "<=",
            Self::Gt => ">",
            Self::GtEq => ">=",
            Self::In => "in",
            Self::NotIn => "not in",
        })
    }
}

/// The value of a [`DnfTerm`]: one literal for a comparison, a list for `in` and `not in`.
#[derive(Debug, Clone, PartialEq)]
pub enum DnfValue {
    /// One value.
    Scalar(Scalar),
    /// A list of values.
    List(Vec<Scalar>),
}

impl<T: Into<Scalar>> From<T> for DnfValue {
    fn from(value: T) -> Self {
        Self::Scalar(value.into())
    }
}

/// One `(column, op, value)` term of a DNF filter.
#[derive(Debug, Clone, PartialEq)]
pub struct DnfTerm {
    /// The top-level column name.
    pub column: String,
    /// The operator.
    pub op: DnfOp,
    /// The value compared with.
    pub value: DnfValue,
}

impl DnfTerm {
    /// A term with the operator spelt as in the tuple filters (`"="`, `"not in"`, ...).
    pub fn new(column: impl Into<String>, op: &str, value: impl Into<DnfValue>) -> DeltaResult<Self> {
        Ok(Self {
            column: column.into(),
            op: op.parse()?,
            value: value.into(),
        })
    }

    /// The term as an expression. A null value makes `=` an `IS NULL` test and `!=` an
    /// `IS NOT NULL` test. `in` and `not in` test membership as pyarrow's `is_in` does, never
    /// giving NULL: a null value is in the list exactly when the list holds a null, so `not in`
    /// keeps null values unless the list holds one.
    pub fn to_expr(&self) -> DeltaResult<Expr> {
        let column = Expr::Column(vec![self.column.clone()]);
        let invalid = |why: &str| {
            DeltaError::InvalidExpression(format!(
                "invalid filter ({}, {}, {}): {why}",
                self.column,
                self.op,
                self.value_text()
            ))
        };
        match (&self.value, self.op.comparison()) {
            (DnfValue::Scalar(value), Some(op)) => match (value.is_null(), op) {
                (false, _) => Ok(Expr::Binary {
                    op,
                    left: Box::new(column),
                    right: Box::new(lit(value.clone())),
                }),
                (true, BinaryOp::Eq) => Ok(column.is_null()),
                (true, BinaryOp::NotEq) => Ok(column.is_not_null()),
                (true, _) => Err(invalid("a null value only works with = and !=")),
            },
            (DnfValue::List(_), Some(_)) => Err(invalid("a list needs the operator 'in' or 'not in'")),
            (DnfValue::Scalar(_), None) => Err(invalid("'in' and 'not in' need a list of values")),
            (DnfValue::List(values), None) => {
                let negated = self.op == DnfOp::NotIn;
                let has_null = values.iter().any(Scalar::is_null);
                let non_null: Vec<Expr> = values.iter().filter(|v| !v.is_null()).cloned().map(lit).collect();
                // A null value is in the list exactly when the list holds a null.
                let null_kept = has_null != negated;
                let null_test = if null_kept {
                    column.clone().is_null()
                } else {
                    column.clone().is_not_null()
                };
                if non_null.is_empty() {
                    return Ok(if has_null { null_test } else { lit(negated) });
                }
                let listed = Expr::InList {
                    expr: Box::new(column),
                    list: non_null,
                    negated,
                };
                // `listed` is NULL for a null value, which a filter drops: the null test decides
                // where that is wrong.
                Ok(if null_kept {
                    listed.or(null_test)
                } else if has_null {
                    listed.and(null_test)
                } else {
                    listed
                })
            }
        }
    }

    fn value_text(&self) -> String {
        match &self.value {
            DnfValue::Scalar(v) => v.to_string(),
            DnfValue::List(values) => {
                let items: Vec<String> = values.iter().map(Scalar::to_string).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

impl Expr {
    /// The expression of a filter in disjunctive normal form: the OR of `disjuncts`, each the AND
    /// of its terms. An empty conjunction (which would match everything) and an empty filter are
    /// errors, as they are usually mistakes.
    ///
    /// ```
    /// use deltalake::expr::DnfTerm;
    /// # fn main() -> deltalake::DeltaResult<()> {
    /// let filter = deltalake::Expr::from_dnf(vec![
    ///     vec![DnfTerm::new("year", "=", 2021i64)?],
    ///     vec![DnfTerm::new("year", "=", 2020i64)?, DnfTerm::new("month", ">=", 10i64)?],
    /// ])?;
    /// assert_eq!(filter.to_string(), "year = 2021 OR year = 2020 AND month >= 10");
    /// # Ok(()) }
    /// ```
    pub fn from_dnf<C>(disjuncts: impl IntoIterator<Item = C>) -> DeltaResult<Expr>
    where
        C: IntoIterator<Item = DnfTerm>,
    {
        disjuncts
            .into_iter()
            .map(|conjunction| {
                conjunction
                    .into_iter()
                    .map(|term| term.to_expr())
                    .reduce(|a, b| Ok(a?.and(b?)))
                    .unwrap_or_else(|| {
                        Err(DeltaError::InvalidExpression(
                            "empty conjunction in filter: pass no filter to match everything".into(),
                        ))
                    })
            })
            .reduce(|a, b| Ok(a?.or(b?)))
            .unwrap_or_else(|| Err(DeltaError::InvalidExpression("empty filter".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::col;
    use crate::protocol::{DataType, PrimitiveType, StructField, StructType};

    fn term(column: &str, op: &str, value: impl Into<DnfValue>) -> DnfTerm {
        DnfTerm::new(column, op, value).unwrap()
    }

    fn list(values: &[i64]) -> DnfValue {
        DnfValue::List(values.iter().map(|v| Scalar::Long(*v)).collect())
    }

    fn error(result: DeltaResult<impl fmt::Debug>) -> String {
        match result {
            Err(DeltaError::InvalidExpression(m)) => m,
            other => panic!("expected an invalid expression, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_operator() {
        for (text, op) in [
            ("=", DnfOp::Eq),
            ("==", DnfOp::Eq),
            ("!=", DnfOp::NotEq),
            ("<", DnfOp::Lt),
            ("<=", DnfOp::LtEq),
            (">", DnfOp::Gt),
            (">=", DnfOp::GtEq),
            ("in", DnfOp::In),
            ("IN", DnfOp::In),
            ("not in", DnfOp::NotIn),
            ("NOT  IN", DnfOp::NotIn),
        ] {
            assert_eq!(text.parse::<DnfOp>().unwrap(), op, "{text}");
        }
        for bad in ["~", "", "<>", "not", "in not", "=>"] {
            assert!(error(bad.parse::<DnfOp>()).contains("invalid filter operator"), "{bad}");
        }
    }

    #[test]
    fn builds_or_of_ands() {
        let filter = Expr::from_dnf(vec![
            vec![term("a", "=", 1i64), term("b", "<", "x")],
            vec![term("c", ">=", 2.5f64)],
        ])
        .unwrap();
        let expected = col("a")
            .eq(lit(1i64))
            .and(col("b").lt(lit("x")))
            .or(col("c").gt_eq(lit(2.5f64)));
        assert_eq!(filter, expected);
        assert_eq!(filter.to_string(), "a = 1 AND b < 'x' OR c >= 2.5e0");
    }

    #[test]
    fn column_names_are_taken_whole() {
        let filter = Expr::from_dnf([[term("a.b", "!=", 1i64)]]).unwrap();
        assert_eq!(filter, Expr::Column(vec!["a.b".into()]).not_eq(lit(1i64)));
    }

    #[test]
    fn in_lists_and_nulls() {
        let null = || Scalar::Null(PrimitiveType::Long);
        assert_eq!(
            term("a", "in", list(&[1, 2])).to_expr().unwrap().to_string(),
            "a IN (1, 2)"
        );
        assert_eq!(
            term("a", "not in", list(&[1])).to_expr().unwrap().to_string(),
            "a NOT IN (1) OR a IS NULL"
        );
        let with_null = DnfValue::List(vec![Scalar::Long(1), null()]);
        assert_eq!(
            term("a", "in", with_null.clone()).to_expr().unwrap(),
            col("a").in_list([lit(1i64)]).or(col("a").is_null())
        );
        assert_eq!(
            term("a", "not in", with_null).to_expr().unwrap().to_string(),
            "a NOT IN (1) AND a IS NOT NULL"
        );
        assert_eq!(term("a", "in", list(&[])).to_expr().unwrap(), lit(false));
        assert_eq!(term("a", "not in", list(&[])).to_expr().unwrap(), lit(true));
        assert_eq!(term("a", "=", null()).to_expr().unwrap(), col("a").is_null());
        assert_eq!(term("a", "!=", null()).to_expr().unwrap(), col("a").is_not_null());
        assert!(error(term("a", "<", null()).to_expr()).contains("only works with = and !="));
    }

    #[test]
    fn rejects_mismatched_values_and_empty_filters() {
        assert!(error(term("a", "=", list(&[1])).to_expr()).contains("needs the operator 'in'"));
        assert!(error(term("a", "in", 1i64).to_expr()).contains("need a list"));
        assert!(error(Expr::from_dnf(Vec::<Vec<DnfTerm>>::new())).contains("empty filter"));
        assert!(error(Expr::from_dnf([vec![term("a", "=", 1i64)], vec![]])).contains("empty conjunction"));
    }

    #[test]
    fn string_values_bind_to_the_column_type() {
        let schema = StructType::new(vec![
            StructField::new("year", DataType::Primitive(PrimitiveType::Integer), true),
            StructField::new("day", DataType::Primitive(PrimitiveType::Date), true),
        ]);
        let filter = Expr::from_dnf([[term("year", ">", "2020"), term("day", "=", "2021-01-02")]]).unwrap();
        let bound = filter.bind_predicate(&schema).unwrap();
        assert_eq!(bound.expr().to_string(), "year > 2020 AND day = DATE '2021-01-02'");
        let unknown = Expr::from_dnf([[term("month", "=", 1i64)]]).unwrap();
        assert!(error(unknown.bind_predicate(&schema)).contains("column 'month' does not exist"));
        let not_a_year = Expr::from_dnf([[term("year", "=", "soon")]]).unwrap();
        assert!(error(not_a_year.bind_predicate(&schema)).contains("not a valid"));
    }
}

//! Expressions: the one expression facility of the crate.
//!
//! An [`Expr`] is built with the helpers ([`col`], [`lit`] and the methods on `Expr`) or parsed
//! from SQL ([`Expr::parse`] / [`parse_predicate`]); it prints back as SQL through `Display`.
//! [`Expr::bind`] checks it against a schema, resolving columns and coercing literals, and gives a
//! [`BoundExpr`] that evaluates over Arrow record batches ([`BoundExpr::evaluate`]) and prunes
//! data files by partition values and statistics ([`FileSkipping`]).
//!
//! Semantics follow SQL: comparisons with NULL are NULL, AND / OR use three-valued logic,
//! `x IN (.., NULL)` is NULL when nothing matches, and a filter keeps only rows where the
//! predicate is TRUE. Integer overflow in arithmetic is an error; division or remainder by zero
//! is NULL; `/` on integers divides as doubles (as Spark does); an invalid `CAST` is NULL.

mod bind;
mod display;
mod dnf;
mod eval;
mod parse;
mod prune;
mod stats;

use crate::protocol::{PrimitiveType, Scalar};

pub use bind::BoundExpr;
pub use dnf::{DnfOp, DnfTerm, DnfValue};
pub use parse::parse_predicate;
pub use prune::FileSkipping;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `=`
    Eq,
    /// `!=` (also written `<>`)
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `<=>`: equality where NULL equals NULL and the result is never NULL.
    NullSafeEq,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Multiply,
    /// `/`
    Divide,
    /// `%`
    Modulo,
}

impl BinaryOp {
    /// Whether this is a comparison (its result is a boolean of two values of one type).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            Self::Eq | Self::NotEq | Self::Lt | Self::LtEq | Self::Gt | Self::GtEq | Self::NullSafeEq
        )
    }

    /// Whether this is an arithmetic operator.
    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            Self::Plus | Self::Minus | Self::Multiply | Self::Divide | Self::Modulo
        )
    }

    /// The comparison with its operands swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> Self {
        match self {
            Self::Lt => Self::Gt,
            Self::LtEq => Self::GtEq,
            Self::Gt => Self::Lt,
            Self::GtEq => Self::LtEq,
            other => other,
        }
    }

    /// The comparison that is TRUE exactly where this one is FALSE (NULL stays NULL).
    pub fn negated(self) -> Option<Self> {
        Some(match self {
            Self::Eq => Self::NotEq,
            Self::NotEq => Self::Eq,
            Self::Lt => Self::GtEq,
            Self::LtEq => Self::Gt,
            Self::Gt => Self::LtEq,
            Self::GtEq => Self::Lt,
            _ => return None,
        })
    }

    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::NotEq => "!=",
            Self::Lt => "<",
            Self::LtEq => "<=",
            Self::Gt => ">",
            Self::GtEq => ">=",
            Self::NullSafeEq => "<=>",
            Self::And => "AND",
            Self::Or => "OR",
            Self::Plus => "+",
            Self::Minus => "-",
            Self::Multiply => "*",
            Self::Divide => "/",
            Self::Modulo => "%",
        }
    }
}

/// A scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `lower(string)`
    Lower,
    /// `upper(string)`
    Upper,
    /// `coalesce(a, b, ...)`: the first non-null argument.
    Coalesce,
}

impl Function {
    /// The function called `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "lower" | "lcase" => Self::Lower,
            "upper" | "ucase" => Self::Upper,
            "coalesce" => Self::Coalesce,
            _ => return None,
        })
    }

    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lower => "lower",
            Self::Upper => "upper",
            Self::Coalesce => "coalesce",
        }
    }
}

/// An expression over the columns of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column, by its path: one name for a top-level column, more for a field nested in structs.
    Column(Vec<String>),
    /// A constant.
    Literal(Scalar),
    /// `NOT expr`
    Not(Box<Expr>),
    /// `-expr`
    Negative(Box<Expr>),
    /// `left op right`
    Binary {
        /// The operator.
        op: BinaryOp,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
    },
    /// `expr IS [NOT] NULL`
    IsNull {
        /// The operand.
        expr: Box<Expr>,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `expr [NOT] IN (list)`
    InList {
        /// The value looked up.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high` (bounds included).
    Between {
        /// The value tested.
        expr: Box<Expr>,
        /// The lower bound.
        low: Box<Expr>,
        /// The upper bound.
        high: Box<Expr>,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// `expr [NOT] LIKE pattern [ESCAPE 'c']` (`ILIKE` when case-insensitive). `%` matches any
    /// text, `_` one character; the escape character (default `\`) makes the next one literal.
    Like {
        /// The text tested.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// The escape character, when not the default `\`.
        escape: Option<char>,
        /// `NOT LIKE`.
        negated: bool,
        /// `ILIKE`.
        case_insensitive: bool,
    },
    /// `CAST(expr AS type)`
    Cast {
        /// The value converted.
        expr: Box<Expr>,
        /// The target type.
        to: PrimitiveType,
    },
    /// A function call.
    Function {
        /// The function.
        func: Function,
        /// The arguments.
        args: Vec<Expr>,
    },
}

/// A column reference; dots separate nested fields (`col("a.b")` is field `b` of struct `a`).
/// Use [`Expr::Column`] directly for names that contain dots.
pub fn col(path: &str) -> Expr {
    Expr::Column(path.split('.').map(str::to_string).collect())
}

/// A literal value.
pub fn lit(value: impl Into<Scalar>) -> Expr {
    Expr::Literal(value.into())
}

fn boxed_binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

impl Expr {
    /// Parse a SQL expression (see [`parse_predicate`]).
    pub fn parse(sql: &str) -> crate::DeltaResult<Self> {
        parse_predicate(sql)
    }

    /// `self = other`
    pub fn eq(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::Eq, self, other)
    }

    /// `self != other`
    pub fn not_eq(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::NotEq, self, other)
    }

    /// `self < other`
    pub fn lt(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::Lt, self, other)
    }

    /// `self <= other`
    pub fn lt_eq(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::LtEq, self, other)
    }

    /// `self > other`
    pub fn gt(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::Gt, self, other)
    }

    /// `self >= other`
    pub fn gt_eq(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::GtEq, self, other)
    }

    /// `self <=> other`
    pub fn null_safe_eq(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::NullSafeEq, self, other)
    }

    /// `self AND other`
    pub fn and(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::And, self, other)
    }

    /// `self OR other`
    pub fn or(self, other: Expr) -> Expr {
        boxed_binary(BinaryOp::Or, self, other)
    }

    /// `self IS NULL`
    pub fn is_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: false,
        }
    }

    /// `self IS NOT NULL`
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: true,
        }
    }

    /// `self IN (list)`
    pub fn in_list(self, list: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::InList {
            expr: Box::new(self),
            list: list.into_iter().collect(),
            negated: false,
        }
    }

    /// `self BETWEEN low AND high`
    pub fn between(self, low: Expr, high: Expr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: Box::new(low),
            high: Box::new(high),
            negated: false,
        }
    }

    /// `self LIKE pattern`
    pub fn like(self, pattern: Expr) -> Expr {
        Expr::Like {
            expr: Box::new(self),
            pattern: Box::new(pattern),
            escape: None,
            negated: false,
            case_insensitive: false,
        }
    }

    /// `CAST(self AS to)`
    pub fn cast(self, to: PrimitiveType) -> Expr {
        Expr::Cast {
            expr: Box::new(self),
            to,
        }
    }

    /// A call of `func`.
    pub fn call(func: Function, args: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::Function {
            func,
            args: args.into_iter().collect(),
        }
    }

    /// The conjunction of `exprs` (`TRUE` when empty).
    pub fn and_all(exprs: impl IntoIterator<Item = Expr>) -> Expr {
        exprs.into_iter().reduce(Expr::and).unwrap_or(lit(true))
    }

    /// The direct sub-expressions.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Column(_) | Expr::Literal(_) => vec![],
            Expr::Not(e) | Expr::Negative(e) | Expr::IsNull { expr: e, .. } | Expr::Cast { expr: e, .. } => {
                vec![e]
            }
            Expr::Binary { left, right, .. } => vec![left, right],
            Expr::InList { expr, list, .. } => std::iter::once(expr.as_ref()).chain(list).collect(),
            Expr::Between { expr, low, high, .. } => vec![expr, low, high],
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::Function { args, .. } => args.iter().collect(),
        }
    }

    /// The column paths the expression reads, in order of first use, without duplicates.
    pub fn column_paths(&self) -> Vec<&[String]> {
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a [String]>) {
            if let Expr::Column(path) = e {
                if !out.contains(&path.as_slice()) {
                    out.push(path);
                }
                return;
            }
            for child in e.children() {
                walk(child, out);
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }
}

impl std::ops::Not for Expr {
    type Output = Expr;

    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

impl std::ops::Neg for Expr {
    type Output = Expr;

    fn neg(self) -> Expr {
        Expr::Negative(Box::new(self))
    }
}

macro_rules! arithmetic_operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl std::ops::$trait for Expr {
            type Output = Expr;

            fn $method(self, rhs: Expr) -> Expr {
                boxed_binary($op, self, rhs)
            }
        }
    };
}

arithmetic_operator!(Add, add, BinaryOp::Plus);
arithmetic_operator!(Sub, sub, BinaryOp::Minus);
arithmetic_operator!(Mul, mul, BinaryOp::Multiply);
arithmetic_operator!(Div, div, BinaryOp::Divide);
arithmetic_operator!(Rem, rem, BinaryOp::Modulo);

#[cfg(test)]
mod tests;

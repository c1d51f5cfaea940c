//! Printing expressions as SQL that [`super::parse_predicate`] reads back.

use std::fmt;

use chrono::DateTime;

use super::parse::is_keyword;
use super::{BinaryOp, Expr};
use crate::protocol::{PrimitiveType, Scalar};

/// Binding strength, loosest first: OR, AND, NOT, predicates, `+ -`, `* / %`, unary minus, atoms.
fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Binary { op: BinaryOp::Or, .. } => 1,
        Expr::Binary { op: BinaryOp::And, .. } => 2,
        Expr::Not(_) => 3,
        Expr::Binary { op, .. } if op.is_comparison() => 4,
        Expr::IsNull { .. } | Expr::InList { .. } | Expr::Between { .. } | Expr::Like { .. } => 4,
        Expr::Binary {
            op: BinaryOp::Plus | BinaryOp::Minus,
            ..
        } => 5,
        Expr::Binary { .. } => 6,
        Expr::Negative(_) => 7,
        Expr::Column(_) | Expr::Literal(_) | Expr::Cast { .. } | Expr::Function { .. } => 8,
    }
}

struct Operand<'a>(&'a Expr, u8);

impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if precedence(self.0) < self.1 {
            write!(f, "({})", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Quote an identifier with backticks unless it is a plain, non-reserved word.
pub(crate) fn fmt_identifier(name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_keyword(name);
    if plain {
        f.write_str(name)
    } else {
        write!(f, "`{}`", name.replace('`', "``"))
    }
}

fn fmt_literal(value: &Scalar, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match value {
        Scalar::Boolean(true) => f.write_str("TRUE"),
        Scalar::Boolean(false) => f.write_str("FALSE"),
        Scalar::Double(v) => fmt_float(*v, None, f),
        Scalar::Float(v) => fmt_float(f64::from(*v), Some(PrimitiveType::Float), f),
        Scalar::TimestampNtz(v) => match DateTime::from_timestamp_micros(*v) {
            Some(dt) => write!(f, "TIMESTAMP_NTZ '{}'", dt.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")),
            None => write!(f, "CAST({v} AS TIMESTAMP_NTZ)"),
        },
        other => write!(f, "{other}"),
    }
}

fn fmt_float(v: f64, cast_to: Option<PrimitiveType>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let text = if v.is_nan() {
        "'NaN'".to_string()
    } else if v.is_infinite() {
        format!("'{}Infinity'", if v < 0.0 { "-" } else { "" })
    } else {
        // Exponent notation reads back as a double, never as a decimal or an integer.
        format!("{v:e}")
    };
    match (cast_to, v.is_finite()) {
        (None, true) => f.write_str(&text),
        (None, false) => write!(f, "CAST({text} AS DOUBLE)"),
        (Some(ty), _) => write!(f, "CAST({text} AS {})", sql_type_name(ty)),
    }
}

/// The SQL name of a type, as `CAST` accepts it.
pub(crate) fn sql_type_name(ty: PrimitiveType) -> String {
    match ty {
        PrimitiveType::Byte => "TINYINT".into(),
        PrimitiveType::Short => "SMALLINT".into(),
        PrimitiveType::Integer => "INT".into(),
        PrimitiveType::Long => "BIGINT".into(),
        PrimitiveType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
        other => other.to_string().to_ascii_uppercase(),
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = precedence(self);
        match self {
            Expr::Column(path) => {
                for (i, part) in path.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    fmt_identifier(part, f)?;
                }
                Ok(())
            }
            Expr::Literal(value) => fmt_literal(value, f),
            Expr::Not(e) => write!(f, "NOT {}", Operand(e, p)),
            Expr::Negative(e) => match e.as_ref() {
                Expr::Column(_) | Expr::Function { .. } | Expr::Cast { .. } => write!(f, "-{e}"),
                // A literal written as a cast (a float, an infinite double) reads back as a cast.
                Expr::Literal(_) if e.to_string().starts_with("CAST(") => write!(f, "-{e}"),
                _ => write!(f, "-({e})"),
            },
            Expr::Binary { op, left, right } => {
                // Comparisons do not chain; the other operators associate to the left.
                let left_min = if op.is_comparison() { p + 1 } else { p };
                write!(
                    f,
                    "{} {} {}",
                    Operand(left, left_min),
                    op.symbol(),
                    Operand(right, p + 1)
                )
            }
            Expr::IsNull { expr, negated } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{} IS {not}NULL", Operand(expr, p + 1))
            }
            Expr::InList { expr, list, negated } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{} {not}IN (", Operand(expr, p + 1))?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(
                    f,
                    "{} {not}BETWEEN {} AND {}",
                    Operand(expr, p + 1),
                    Operand(low, p + 1),
                    Operand(high, p + 1)
                )
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
                case_insensitive,
            } => {
                let not = if *negated { "NOT " } else { "" };
                let op = if *case_insensitive { "ILIKE" } else { "LIKE" };
                write!(f, "{} {not}{op} {}", Operand(expr, p + 1), Operand(pattern, p + 1))?;
                match escape {
                    Some(c) => write!(f, " ESCAPE {}", Scalar::String(c.to_string())),
                    None => Ok(()),
                }
            }
            Expr::Cast { expr, to } => write!(f, "CAST({expr} AS {})", sql_type_name(*to)),
            Expr::Function { func, args } => {
                write!(f, "{}(", func.name())?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}

//! Single typed values: partition values, statistics bounds and expression literals.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray, new_null_array,
};
use arrow::datatypes::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::schema::{DataType, PrimitiveType};
use crate::error::{DeltaError, DeltaResult};

/// A single value of a primitive Delta type.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A null of the given type.
    Null(PrimitiveType),
    /// A boolean.
    Boolean(bool),
    /// An 8-bit integer.
    Byte(i8),
    /// A 16-bit integer.
    Short(i16),
    /// A 32-bit integer.
    Integer(i32),
    /// A 64-bit integer.
    Long(i64),
    /// A 32-bit float.
    Float(f32),
    /// A 64-bit float.
    Double(f64),
    /// Text.
    String(String),
    /// Bytes.
    Binary(Vec<u8>),
    /// Days since the epoch.
    Date(i32),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
    /// Microseconds since the epoch, no time zone.
    TimestampNtz(i64),
    /// Unscaled value, precision and scale.
    Decimal(i128, u8, i8),
}

const UNIX_EPOCH_DAY: NaiveDate = DateTime::UNIX_EPOCH.naive_utc().date();

impl Scalar {
    /// The type of the value.
    pub fn primitive_type(&self) -> PrimitiveType {
        use PrimitiveType as P;
        match self {
            Self::Null(t) => *t,
            Self::Boolean(_) => P::Boolean,
            Self::Byte(_) => P::Byte,
            Self::Short(_) => P::Short,
            Self::Integer(_) => P::Integer,
            Self::Long(_) => P::Long,
            Self::Float(_) => P::Float,
            Self::Double(_) => P::Double,
            Self::String(_) => P::String,
            Self::Binary(_) => P::Binary,
            Self::Date(_) => P::Date,
            Self::Timestamp(_) => P::Timestamp,
            Self::TimestampNtz(_) => P::TimestampNtz,
            Self::Decimal(_, p, s) => P::Decimal(*p, *s),
        }
    }

    /// Whether this is a null.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null(_))
    }

    /// Parse a serialised partition value (`None` is a null partition) as the spec's
    /// "Partition Value Serialization" describes.
    pub fn parse_partition_value(value: Option<&str>, ty: PrimitiveType) -> DeltaResult<Self> {
        let Some(s) = value else {
            return Ok(Self::Null(ty));
        };
        if s.is_empty() && ty != PrimitiveType::String {
            return Ok(Self::Null(ty));
        }
        Self::parse(s, ty)
            .ok_or_else(|| DeltaError::InvalidArgument(format!("partition value '{s}' is not a valid {ty}")))
    }

    /// Parse the text form of a value of type `ty` (partition values, statistics, literals).
    pub fn parse(s: &str, ty: PrimitiveType) -> Option<Self> {
        use PrimitiveType as P;
        Some(match ty {
            P::String => Self::String(s.to_string()),
            P::Boolean => match s.to_ascii_lowercase().as_str() {
                "true" => Self::Boolean(true),
                "false" => Self::Boolean(false),
                _ => return None,
            },
            P::Byte => Self::Byte(s.trim().parse().ok()?),
            P::Short => Self::Short(s.trim().parse().ok()?),
            P::Integer => Self::Integer(s.trim().parse().ok()?),
            P::Long => Self::Long(s.trim().parse().ok()?),
            P::Float => Self::Float(s.trim().parse().ok()?),
            P::Double => Self::Double(s.trim().parse().ok()?),
            P::Binary => Self::Binary(s.as_bytes().to_vec()),
            P::Date => Self::Date(parse_date(s)?),
            P::Timestamp => Self::Timestamp(parse_timestamp(s, true)?),
            P::TimestampNtz => Self::TimestampNtz(parse_timestamp(s, false)?),
            P::Decimal(p, sc) => Self::Decimal(parse_decimal(s, sc)?, p, sc),
            P::Variant => return None,
        })
    }

    /// Read a statistics value (`minValues` / `maxValues` entries) of type `ty`.
    pub fn from_stats_json(value: &serde_json::Value, ty: PrimitiveType) -> Option<Self> {
        use PrimitiveType as P;
        use serde_json::Value as V;
        match (value, ty) {
            (V::Null, _) => None,
            (V::String(s), _) => Self::parse(s, ty),
            (V::Bool(b), P::Boolean) => Some(Self::Boolean(*b)),
            (V::Number(n), P::Byte) => n.as_i64().and_then(|v| i8::try_from(v).ok()).map(Self::Byte),
            (V::Number(n), P::Short) => n.as_i64().and_then(|v| i16::try_from(v).ok()).map(Self::Short),
            (V::Number(n), P::Integer) => n.as_i64().and_then(|v| i32::try_from(v).ok()).map(Self::Integer),
            (V::Number(n), P::Long) => n.as_i64().map(Self::Long),
            (V::Number(n), P::Float) => n.as_f64().map(|v| Self::Float(v as f32)),
            (V::Number(n), P::Double) => n.as_f64().map(Self::Double),
            (V::Number(n), P::Decimal(..)) => Self::parse(&n.to_string(), ty),
            (V::Number(n), P::Date) => n.as_i64().and_then(|v| i32::try_from(v).ok()).map(Self::Date),
            _ => None,
        }
    }

    /// An Arrow array holding this value `len` times, of the type `data_type` maps to.
    pub fn to_array(&self, len: usize) -> DeltaResult<ArrayRef> {
        Ok(match self {
            Self::Null(t) => new_null_array(&DataType::Primitive(*t).to_arrow()?, len),
            Self::Boolean(v) => Arc::new(BooleanArray::from(vec![*v; len])),
            Self::Byte(v) => Arc::new(Int8Array::from_value(*v, len)),
            Self::Short(v) => Arc::new(Int16Array::from_value(*v, len)),
            Self::Integer(v) => Arc::new(Int32Array::from_value(*v, len)),
            Self::Long(v) => Arc::new(Int64Array::from_value(*v, len)),
            Self::Float(v) => Arc::new(Float32Array::from_value(*v, len)),
            Self::Double(v) => Arc::new(Float64Array::from_value(*v, len)),
            Self::String(v) => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, len))),
            Self::Binary(v) => Arc::new(BinaryArray::from_iter_values(std::iter::repeat_n(v, len))),
            Self::Date(v) => Arc::new(Date32Array::from_value(*v, len)),
            Self::Timestamp(v) => Arc::new(TimestampMicrosecondArray::from_value(*v, len).with_timezone("UTC")),
            Self::TimestampNtz(v) => Arc::new(TimestampMicrosecondArray::from_value(*v, len)),
            Self::Decimal(v, p, s) => Arc::new(Decimal128Array::from_value(*v, len).with_precision_and_scale(*p, *s)?),
        })
    }

    /// An Arrow array of type `ty` holding `values` (nulls for nulls); a value of another type
    /// is an error.
    pub fn to_array_of(values: &[Scalar], ty: PrimitiveType) -> DeltaResult<ArrayRef> {
        macro_rules! collect {
            ($array:ty, $variant:ident) => {
                collect!($array, $variant, |x: &_| *x)
            };
            ($array:ty, $variant:ident, $get:expr) => {{
                let out: $array = values
                    .iter()
                    .map(|v| match v {
                        Self::$variant(x) => Ok(Some($get(x))),
                        Self::Null(_) => Ok(None),
                        other => Err(DeltaError::schema(format!("{other} is not a {ty}"))),
                    })
                    .collect::<DeltaResult<_>>()?;
                out
            }};
        }
        use PrimitiveType as P;
        Ok(match ty {
            P::Boolean => Arc::new(collect!(BooleanArray, Boolean)),
            P::Byte => Arc::new(collect!(Int8Array, Byte)),
            P::Short => Arc::new(collect!(Int16Array, Short)),
            P::Integer => Arc::new(collect!(Int32Array, Integer)),
            P::Long => Arc::new(collect!(Int64Array, Long)),
            P::Float => Arc::new(collect!(Float32Array, Float)),
            P::Double => Arc::new(collect!(Float64Array, Double)),
            P::String => Arc::new(collect!(StringArray, String, |x: &String| x.clone())),
            P::Binary => Arc::new(collect!(BinaryArray, Binary, |x: &Vec<u8>| x.clone())),
            P::Date => Arc::new(collect!(Date32Array, Date)),
            P::Timestamp => Arc::new(collect!(TimestampMicrosecondArray, Timestamp).with_timezone("UTC")),
            P::TimestampNtz => Arc::new(collect!(TimestampMicrosecondArray, TimestampNtz)),
            P::Decimal(p, s) => {
                let out: Decimal128Array = values
                    .iter()
                    .map(|v| match v {
                        Self::Decimal(x, _, vs) if *vs == s => Ok(Some(*x)),
                        Self::Null(_) => Ok(None),
                        other => Err(DeltaError::schema(format!("{other} is not a {ty}"))),
                    })
                    .collect::<DeltaResult<_>>()?;
                Arc::new(out.with_precision_and_scale(p, s)?)
            }
            P::Variant => return Err(DeltaError::schema("variant values have no scalar array form")),
        })
    }

    /// Compare two values of comparable types; `None` for nulls or incomparable types.
    pub fn compare(&self, other: &Self) -> Option<Ordering> {
        use Scalar as S;
        match (self, other) {
            (S::Boolean(a), S::Boolean(b)) => a.partial_cmp(b),
            (S::String(a), S::String(b)) => a.partial_cmp(b),
            (S::Binary(a), S::Binary(b)) => a.partial_cmp(b),
            (S::Date(a), S::Date(b)) => a.partial_cmp(b),
            (S::Timestamp(a), S::Timestamp(b)) | (S::TimestampNtz(a), S::TimestampNtz(b)) => a.partial_cmp(b),
            (S::Decimal(a, _, sa), S::Decimal(b, _, sb)) => {
                let (a, b) = align_decimals(*a, *sa, *b, *sb)?;
                a.partial_cmp(&b)
            }
            _ => match (self.as_f64_exact(), other.as_f64_exact()) {
                (Some(Num::Int(a)), Some(Num::Int(b))) => a.partial_cmp(&b),
                (Some(a), Some(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                _ => None,
            },
        }
    }

    fn as_f64_exact(&self) -> Option<Num> {
        Some(match self {
            Self::Byte(v) => Num::Int(i128::from(*v)),
            Self::Short(v) => Num::Int(i128::from(*v)),
            Self::Integer(v) => Num::Int(i128::from(*v)),
            Self::Long(v) => Num::Int(i128::from(*v)),
            Self::Float(v) => Num::Float(f64::from(*v)),
            Self::Double(v) => Num::Float(*v),
            Self::Decimal(v, _, s) => Num::Float(*v as f64 / 10f64.powi(i32::from(*s))),
            _ => return None,
        })
    }
}

impl Scalar {
    /// The value at `row` of an array of a Delta primitive's Arrow type.
    pub fn from_array(array: &dyn Array, row: usize) -> DeltaResult<Self> {
        use arrow::datatypes::{DataType as A, TimeUnit};
        let ty = DataType::try_from_arrow(array.data_type())?;
        let DataType::Primitive(ty) = ty else {
            return Err(DeltaError::schema(format!(
                "{} is not a primitive type",
                array.data_type()
            )));
        };
        if array.is_null(row) {
            return Ok(Self::Null(ty));
        }
        Ok(match array.data_type() {
            A::Boolean => Self::Boolean(array.as_boolean().value(row)),
            A::Int8 => Self::Byte(array.as_primitive::<Int8Type>().value(row)),
            A::Int16 => Self::Short(array.as_primitive::<Int16Type>().value(row)),
            A::Int32 => Self::Integer(array.as_primitive::<Int32Type>().value(row)),
            A::Int64 => Self::Long(array.as_primitive::<Int64Type>().value(row)),
            A::Float32 => Self::Float(array.as_primitive::<Float32Type>().value(row)),
            A::Float64 => Self::Double(array.as_primitive::<Float64Type>().value(row)),
            A::Utf8 => Self::String(array.as_string::<i32>().value(row).to_string()),
            A::LargeUtf8 => Self::String(array.as_string::<i64>().value(row).to_string()),
            A::Utf8View => Self::String(array.as_string_view().value(row).to_string()),
            A::Binary => Self::Binary(array.as_binary::<i32>().value(row).to_vec()),
            A::LargeBinary => Self::Binary(array.as_binary::<i64>().value(row).to_vec()),
            A::Date32 => Self::Date(array.as_primitive::<Date32Type>().value(row)),
            A::Timestamp(TimeUnit::Microsecond, tz) => {
                let v = array.as_primitive::<TimestampMicrosecondType>().value(row);
                if tz.is_some() {
                    Self::Timestamp(v)
                } else {
                    Self::TimestampNtz(v)
                }
            }
            A::Decimal128(p, s) => Self::Decimal(array.as_primitive::<Decimal128Type>().value(row), *p, *s),
            other => {
                return Err(DeltaError::schema(format!(
                    "cannot take a single value of type {other}"
                )));
            }
        })
    }

    /// The value as the specification serialises partition values; `None` for null.
    pub fn to_partition_string(&self) -> Option<String> {
        Some(match self {
            Self::Null(_) => return None,
            Self::String(s) => s.clone(),
            Self::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            Self::Date(_) => self
                .to_string()
                .trim_start_matches("DATE '")
                .trim_end_matches('\'')
                .to_string(),
            Self::Timestamp(v) | Self::TimestampNtz(v) => DateTime::from_timestamp_micros(*v)?
                .naive_utc()
                .format("%Y-%m-%d %H:%M:%S%.6f")
                .to_string(),
            other => other.to_string(),
        })
    }
}

macro_rules! scalar_from {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for Scalar {
            fn from(v: $t) -> Self {
                Self::$variant(v.into())
            }
        })*
    };
}

scalar_from!(bool => Boolean, i8 => Byte, i16 => Short, i32 => Integer, i64 => Long, f32 => Float, f64 => Double, String => String, &str => String);

#[derive(Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Self::Int(v) => v as f64,
            Self::Float(v) => v,
        }
    }
}

fn align_decimals(a: i128, sa: i8, b: i128, sb: i8) -> Option<(i128, i128)> {
    let scale = |v: i128, by: i8| v.checked_mul(10i128.checked_pow(u32::from(by.unsigned_abs()))?);
    match sa.cmp(&sb) {
        Ordering::Equal => Some((a, b)),
        Ordering::Less => Some((scale(a, sb - sa)?, b)),
        Ordering::Greater => Some((a, scale(b, sa - sb)?)),
    }
}

fn parse_date(s: &str) -> Option<i32> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    i32::try_from(d.signed_duration_since(UNIX_EPOCH_DAY).num_days()).ok()
}

/// Timestamps appear as `2021-01-01 10:00:00[.ffffff]` in partition values and as RFC 3339 in
/// statistics; UTC timestamps may carry an offset.
fn parse_timestamp(s: &str, utc: bool) -> Option<i64> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc).timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ] {
        if fmt.ends_with("%:z") {
            if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
                return Some(dt.with_timezone(&Utc).timestamp_micros());
            }
        } else if let Ok(dt) = NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), fmt) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    if !utc || s.len() == 10 {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        return Some(d.and_time(NaiveTime::MIN).and_utc().timestamp_micros());
    }
    None
}

fn parse_decimal(s: &str, scale: i8) -> Option<i128> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        // Scientific notation (1.5E+2) as some writers emit it.
        let f: f64 = s.parse().ok()?;
        return Some((f * 10f64.powi(i32::from(scale))).round() as i128);
    }
    let scale = usize::try_from(scale).ok()?;
    if frac.len() > scale && frac[scale..].bytes().any(|b| b != b'0') {
        return None;
    }
    let mut text = String::with_capacity(int.len() + scale);
    text.push_str(int);
    text.extend(frac.chars().chain(std::iter::repeat('0')).take(scale));
    let v: i128 = if text.is_empty() { 0 } else { text.parse().ok()? };
    Some(if neg { -v } else { v })
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null(_) => f.write_str("NULL"),
            Self::Boolean(v) => write!(f, "{v}"),
            Self::Byte(v) => write!(f, "{v}"),
            Self::Short(v) => write!(f, "{v}"),
            Self::Integer(v) => write!(f, "{v}"),
            Self::Long(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v}"),
            Self::Double(v) => write!(f, "{v}"),
            Self::String(v) => write!(f, "'{}'", v.replace('\'', "''")),
            Self::Binary(v) => write!(f, "X'{}'", v.iter().map(|b| format!("{b:02X}")).collect::<String>()),
            Self::Date(v) => match UNIX_EPOCH_DAY.checked_add_signed(chrono::Duration::days(i64::from(*v))) {
                Some(d) => write!(f, "DATE '{d}'"),
                None => write!(f, "DATE {v}"),
            },
            Self::Timestamp(v) | Self::TimestampNtz(v) => match DateTime::from_timestamp_micros(*v) {
                Some(dt) => write!(f, "TIMESTAMP '{}'", dt.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")),
                None => write!(f, "TIMESTAMP {v}"),
            },
            Self::Decimal(v, _, s) => {
                let s = usize::try_from(*s).unwrap_or(0);
                let digits = v.unsigned_abs().to_string();
                let digits = format!("{digits:0>width$}", width = s + 1);
                let (int, frac) = digits.split_at(digits.len() - s);
                let sign = if *v < 0 { "-" } else { "" };
                if s == 0 {
                    write!(f, "{sign}{int}")
                } else {
                    write!(f, "{sign}{int}.{frac}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrimitiveType as P;

    #[test]
    fn parses_partition_values_of_every_type() {
        let cases = [
            (
                "2021-01-01 10:30:00",
                P::Timestamp,
                Scalar::Timestamp(1_609_497_000_000_000),
            ),
            (
                "2021-01-01T10:30:00.000001Z",
                P::Timestamp,
                Scalar::Timestamp(1_609_497_000_000_001),
            ),
            (
                "2021-01-01 10:30:00",
                P::TimestampNtz,
                Scalar::TimestampNtz(1_609_497_000_000_000),
            ),
            ("1970-01-02", P::Date, Scalar::Date(1)),
            ("-12.50", P::Decimal(5, 3), Scalar::Decimal(-12500, 5, 3)),
            ("true", P::Boolean, Scalar::Boolean(true)),
            ("-7", P::Byte, Scalar::Byte(-7)),
            ("a=b/c", P::String, Scalar::String("a=b/c".into())),
        ];
        for (text, ty, expected) in cases {
            assert_eq!(
                Scalar::parse_partition_value(Some(text), ty).unwrap(),
                expected,
                "{text}"
            );
        }
        assert!(Scalar::parse_partition_value(None, P::Long).unwrap().is_null());
        assert!(Scalar::parse_partition_value(Some(""), P::Integer).unwrap().is_null());
        assert!(Scalar::parse_partition_value(Some("x"), P::Integer).is_err());
        assert_eq!(
            Scalar::parse_partition_value(Some("0001-01-01 00:00:00"), P::Timestamp).unwrap(),
            Scalar::Timestamp(-62_135_596_800_000_000)
        );
    }

    #[test]
    fn compares_across_numeric_types_and_decimal_scales() {
        assert_eq!(Scalar::Integer(3).compare(&Scalar::Long(4)), Some(Ordering::Less));
        assert_eq!(Scalar::Double(2.5).compare(&Scalar::Long(2)), Some(Ordering::Greater));
        assert_eq!(
            Scalar::Decimal(150, 5, 2).compare(&Scalar::Decimal(15, 5, 1)),
            Some(Ordering::Equal)
        );
        assert_eq!(Scalar::Null(P::Long).compare(&Scalar::Long(1)), None);
        assert_eq!(Scalar::Decimal(-1205, 6, 2).to_string(), "-12.05");
    }

    #[test]
    fn partition_strings_round_trip_through_the_parser() {
        let values = [
            Scalar::Timestamp(1_609_497_000_000_001),
            Scalar::TimestampNtz(-62_135_596_800_000_000),
            Scalar::Date(-1),
            Scalar::Decimal(-1205, 6, 2),
            Scalar::Boolean(false),
            Scalar::Long(i64::MIN),
            Scalar::Double(1.5),
            Scalar::String("a b=/%".into()),
        ];
        for v in values {
            let text = v.to_partition_string().unwrap();
            assert_eq!(
                Scalar::parse_partition_value(Some(&text), v.primitive_type()).unwrap(),
                v,
                "{text}"
            );
            let array = v.to_array(2).unwrap();
            assert_eq!(Scalar::from_array(array.as_ref(), 1).unwrap(), v);
        }
        assert_eq!(Scalar::Null(P::Long).to_partition_string(), None);
    }
}

//! Ruby data as Arrow record batches: an Array of Hashes (rows) or a Hash of Arrays (columns).
//!
//! Values are read into plain Rust cells while the GVL is held, each column's type is inferred
//! from its values (Integer → long, Float → double, String → string, binary String → binary,
//! `true`/`false` → boolean, Time → timestamp (UTC), Date → date, BigDecimal → decimal(38, s),
//! Hash → struct, Array → array), then cast to the table's type for that column when the table
//! exists.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, LargeListArray,
    NullArray, RecordBatch, StringArray, StructArray, TimestampMicrosecondArray, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use magnus::prelude::*;
use magnus::value::ReprValue;
use magnus::{Error, Float, Integer, RArray, RClass, RHash, RString, Ruby, Symbol, Time, Value};

use crate::error::{internal, invalid_argument};

/// One Ruby value, read.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bin(Vec<u8>),
    /// Microseconds since the epoch, UTC.
    Time(i64),
    /// Days since the epoch.
    Date(i32),
    /// Unscaled value and scale.
    Decimal(i128, i8),
    List(Vec<Cell>),
    Struct(Vec<(String, Cell)>),
}

/// The type inferred for a column.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Bin,
    Time,
    Date,
    Decimal(i8),
    List(Box<Kind>),
    Struct(Vec<(String, Kind)>),
}

/// The Ruby classes that are read specially.
struct Classes {
    date: Option<RClass>,
    big_decimal: Option<RClass>,
}

impl Classes {
    fn new(ruby: &Ruby) -> Self {
        let class = |name: &str| ruby.class_object().const_get::<_, RClass>(name).ok();
        Self {
            date: class("Date"),
            big_decimal: class("BigDecimal"),
        }
    }
}

/// `data` (an Array of Hashes, or a Hash of column name to Array) as one record batch; columns
/// found in `hint` (the table's schema) get its types.
pub fn batch_from_ruby(ruby: &Ruby, data: Value, hint: Option<&Schema>) -> Result<RecordBatch, Error> {
    let classes = Classes::new(ruby);
    let columns: Vec<(String, Vec<Cell>)> = if let Some(rows) = RArray::from_value(data) {
        rows_to_columns(ruby, &classes, rows)?
    } else if let Some(hash) = RHash::from_value(data) {
        let mut columns = Vec::new();
        hash.foreach(|key: Value, values: Value| {
            let name = key_name(key)?;
            let values = RArray::from_value(values)
                .ok_or_else(|| invalid_argument(format!("column {name} must be an Array of values")))?;
            let mut cells = Vec::with_capacity(values.len());
            for i in 0..values.len() {
                cells.push(read(ruby, &classes, values.entry(i as isize)?)?);
            }
            columns.push((name, cells));
            Ok(magnus::r_hash::ForEach::Continue)
        })?;
        columns
    } else {
        return Err(invalid_argument(format!(
            "data must be an Array of Hashes, a Hash of Arrays or respond to arrow_c_stream, not {}",
            unsafe { data.classname() }
        )));
    };
    if columns.is_empty() {
        return Err(invalid_argument("data has no columns"));
    }
    let rows = columns[0].1.len();
    if let Some((name, cells)) = columns.iter().find(|(_, c)| c.len() != rows) {
        return Err(invalid_argument(format!(
            "column {name} has {} values, the first column {rows}",
            cells.len()
        )));
    }
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for (name, cells) in columns {
        let kind = cells
            .iter()
            .try_fold(Kind::Null, |kind, cell| unify(&kind, &kind_of(cell)?))
            .map_err(|e| invalid_argument(format!("column {name}: {e}")))?;
        let mut array =
            build(&kind, &cells.iter().collect::<Vec<_>>()).map_err(|e| internal(format!("column {name}: {e}")))?;
        let target = hint
            .and_then(|s| s.field_with_name(&name).ok())
            .map(|f| f.data_type().clone());
        let target = match (target, &kind) {
            (Some(t), _) => Some(t),
            // A column of nils only: a nullable string column rather than Arrow's null type.
            (None, Kind::Null) => Some(DataType::Utf8),
            (None, _) => None,
        };
        if let Some(target) = target.filter(|t| t != array.data_type()) {
            let strict = arrow::compute::CastOptions {
                safe: false,
                ..Default::default()
            };
            array = arrow::compute::cast_with_options(&array, &target, &strict).map_err(|e| {
                crate::error::to_rb(deltalake::DeltaError::Schema(format!(
                    "column {name}: cannot convert {} values to the table's {target}: {e}",
                    array.data_type()
                )))
            })?;
        }
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    RecordBatch::try_new(schema, arrays).map_err(|e| invalid_argument(e.to_string()))
}

fn rows_to_columns(ruby: &Ruby, classes: &Classes, rows: RArray) -> Result<Vec<(String, Vec<Cell>)>, Error> {
    // Column order: first seen; a key missing from a row is nil there.
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut columns: Vec<(String, Vec<Cell>)> = Vec::new();
    for r in 0..rows.len() {
        let row: Value = rows.entry(r as isize)?;
        let hash = RHash::from_value(row)
            .ok_or_else(|| invalid_argument(format!("row {r} is not a Hash: {}", row.inspect())))?;
        hash.foreach(|key: Value, value: Value| {
            let name = key_name(key)?;
            let cell = read(ruby, classes, value)?;
            let at = match index.get(&name) {
                Some(&at) => at,
                None => {
                    index.insert(name.clone(), columns.len());
                    columns.push((name, vec![Cell::Null; r]));
                    columns.len() - 1
                }
            };
            let column = &mut columns[at].1;
            column.resize(r, Cell::Null);
            column.push(cell);
            Ok(magnus::r_hash::ForEach::Continue)
        })?;
    }
    for (_, cells) in &mut columns {
        cells.resize(rows.len(), Cell::Null);
    }
    Ok(columns)
}

fn key_name(key: Value) -> Result<String, Error> {
    if let Some(s) = RString::from_value(key) {
        return s.to_string();
    }
    if let Some(sym) = Symbol::from_value(key) {
        return Ok(sym.name()?.into_owned());
    }
    Err(invalid_argument(format!(
        "column names must be Strings or Symbols, not {}",
        key.inspect()
    )))
}

fn read(ruby: &Ruby, classes: &Classes, value: Value) -> Result<Cell, Error> {
    if value.is_nil() {
        return Ok(Cell::Null);
    }
    if magnus::value::Qtrue::from_value(value).is_some() {
        return Ok(Cell::Bool(true));
    }
    if magnus::value::Qfalse::from_value(value).is_some() {
        return Ok(Cell::Bool(false));
    }
    if let Some(i) = Integer::from_value(value) {
        return Ok(Cell::Int(i.to_i64()?));
    }
    if let Some(f) = Float::from_value(value) {
        return Ok(Cell::Float(f.to_f64()));
    }
    if let Some(s) = RString::from_value(value) {
        // SAFETY: the bytes are copied before any Ruby code runs.
        let bytes = unsafe { s.as_slice() }.to_vec();
        if s.enc_get() == ruby.ascii8bit_encindex() {
            return Ok(Cell::Bin(bytes));
        }
        return String::from_utf8(bytes).map(Cell::Str).map_err(|_| {
            invalid_argument(format!(
                "{} is not valid UTF-8 (binary data must be ASCII-8BIT)",
                value.inspect()
            ))
        });
    }
    if let Some(sym) = Symbol::from_value(value) {
        return Ok(Cell::Str(sym.name()?.into_owned()));
    }
    if let Some(t) = Time::from_value(value) {
        let spec = t.timespec()?;
        let micros = spec
            .tv_sec
            .checked_mul(1_000_000)
            .and_then(|s| s.checked_add(spec.tv_nsec / 1_000));
        return micros
            .map(Cell::Time)
            .ok_or_else(|| invalid_argument(format!("{} is out of range", value.inspect())));
    }
    if classes.date.is_some_and(|c| value.is_kind_of(c)) {
        let jd: i64 = value.funcall("jd", ())?;
        return i32::try_from(jd - 2_440_588)
            .map(Cell::Date)
            .map_err(|_| invalid_argument(format!("{} is out of range", value.inspect())));
    }
    if classes.big_decimal.is_some_and(|c| value.is_kind_of(c)) {
        let text: String = value.funcall("to_s", ("F",))?;
        return parse_decimal(&text)
            .ok_or_else(|| invalid_argument(format!("{} does not fit a decimal(38)", value.inspect())));
    }
    if let Some(items) = RArray::from_value(value) {
        let mut cells = Vec::with_capacity(items.len());
        for i in 0..items.len() {
            cells.push(read(ruby, classes, items.entry(i as isize)?)?);
        }
        return Ok(Cell::List(cells));
    }
    if let Some(hash) = RHash::from_value(value) {
        let mut fields = Vec::new();
        hash.foreach(|key: Value, item: Value| {
            fields.push((key_name(key)?, read(ruby, classes, item)?));
            Ok(magnus::r_hash::ForEach::Continue)
        })?;
        return Ok(Cell::Struct(fields));
    }
    Err(invalid_argument(format!(
        "cannot write {} ({}): use Integer, Float, String, true/false, Time, Date, BigDecimal, nil, Array or Hash",
        value.inspect(),
        unsafe { value.classname() }
    )))
}

/// `"-12.345"` as `(-12345, 3)`; NaN and infinities are refused.
fn parse_decimal(text: &str) -> Option<Cell> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    // BigDecimal#to_s("F") writes "1.0" for 1: trailing zeros of the fraction carry no scale.
    let fraction = fraction.trim_end_matches('0');
    if !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) || whole.is_empty() {
        return None;
    }
    let scale = i8::try_from(fraction.len()).ok().filter(|s| *s <= 38)?;
    let unscaled: i128 = format!("{whole}{fraction}").parse().ok()?;
    Some(Cell::Decimal(if negative { -unscaled } else { unscaled }, scale))
}

fn kind_of(cell: &Cell) -> Result<Kind, String> {
    Ok(match cell {
        Cell::Null => Kind::Null,
        Cell::Bool(_) => Kind::Bool,
        Cell::Int(_) => Kind::Int,
        Cell::Float(_) => Kind::Float,
        Cell::Str(_) => Kind::Str,
        Cell::Bin(_) => Kind::Bin,
        Cell::Time(_) => Kind::Time,
        Cell::Date(_) => Kind::Date,
        Cell::Decimal(_, scale) => Kind::Decimal(*scale),
        Cell::List(items) => Kind::List(Box::new(
            items.iter().try_fold(Kind::Null, |k, c| unify(&k, &kind_of(c)?))?,
        )),
        Cell::Struct(fields) => Kind::Struct(
            fields
                .iter()
                .map(|(name, c)| Ok((name.clone(), kind_of(c)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// The type holding values of both kinds.
fn unify(a: &Kind, b: &Kind) -> Result<Kind, String> {
    Ok(match (a, b) {
        (Kind::Null, other) | (other, Kind::Null) => other.clone(),
        (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
        (Kind::Decimal(x), Kind::Decimal(y)) => Kind::Decimal(*x.max(y)),
        (Kind::List(x), Kind::List(y)) => Kind::List(Box::new(unify(x, y)?)),
        (Kind::Struct(x), Kind::Struct(y)) => {
            let mut fields = x.clone();
            for (name, kind) in y {
                match fields.iter_mut().find(|(n, _)| n == name) {
                    Some((_, existing)) => *existing = unify(existing, kind)?,
                    None => fields.push((name.clone(), kind.clone())),
                }
            }
            Kind::Struct(fields)
        }
        (x, y) if x == y => x.clone(),
        (x, y) => return Err(format!("values of different types ({} and {})", name(x), name(y))),
    })
}

fn name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Null => "nil",
        Kind::Bool => "true/false",
        Kind::Int => "Integer",
        Kind::Float => "Float",
        Kind::Str => "String",
        Kind::Bin => "binary String",
        Kind::Time => "Time",
        Kind::Date => "Date",
        Kind::Decimal(_) => "BigDecimal",
        Kind::List(_) => "Array",
        Kind::Struct(_) => "Hash",
    }
}

/// The Arrow array of `cells`, all of `kind` (or null).
fn build(kind: &Kind, cells: &[&Cell]) -> Result<ArrayRef, arrow::error::ArrowError> {
    macro_rules! collect {
        ($array:ty, $variant:pat => $value:expr) => {
            Arc::new(
                cells
                    .iter()
                    .map(|c| match c {
                        $variant => Some($value),
                        _ => None,
                    })
                    .collect::<$array>(),
            ) as ArrayRef
        };
    }
    Ok(match kind {
        Kind::Null => Arc::new(NullArray::new(cells.len())),
        Kind::Bool => collect!(BooleanArray, Cell::Bool(b) => *b),
        Kind::Int => collect!(Int64Array, Cell::Int(i) => *i),
        Kind::Float => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Float(f) => Some(*f),
                    Cell::Int(i) => Some(*i as f64),
                    _ => None,
                })
                .collect::<Float64Array>(),
        ),
        Kind::Str => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect::<StringArray>(),
        ),
        Kind::Bin => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Bin(b) => Some(b.as_slice()),
                    _ => None,
                })
                .collect::<BinaryArray>(),
        ),
        Kind::Time => Arc::new(collect_time(cells).with_timezone("UTC")),
        Kind::Date => collect!(Date32Array, Cell::Date(d) => *d),
        Kind::Decimal(scale) => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Decimal(v, s) => Some(*v * 10i128.pow(u32::try_from(*scale - *s).unwrap_or(0))),
                    _ => None,
                })
                .collect::<Decimal128Array>()
                .with_precision_and_scale(38, *scale)?,
        ),
        Kind::List(item) => {
            let mut offsets = Vec::with_capacity(cells.len() + 1);
            offsets.push(0i64);
            let mut children: Vec<&Cell> = Vec::new();
            let mut valid = Vec::with_capacity(cells.len());
            for cell in cells {
                if let Cell::List(items) = cell {
                    children.extend(items.iter());
                    valid.push(true);
                } else {
                    valid.push(false);
                }
                offsets.push(children.len() as i64);
            }
            let values = build(item, &children)?;
            let field = Arc::new(Field::new("element", values.data_type().clone(), true));
            Arc::new(LargeListArray::try_new(
                field,
                OffsetBuffer::new(offsets.into()),
                values,
                Some(NullBuffer::from(valid)),
            )?)
        }
        Kind::Struct(fields) => {
            if fields.is_empty() {
                return Ok(new_null_array(&DataType::Struct(Fields::empty()), cells.len()));
            }
            let null = Cell::Null;
            let mut arrays = Vec::with_capacity(fields.len());
            for (name, kind) in fields {
                let column: Vec<&Cell> = cells
                    .iter()
                    .map(|c| match c {
                        Cell::Struct(values) => values.iter().find(|(n, _)| n == name).map_or(&null, |(_, v)| v),
                        _ => &null,
                    })
                    .collect();
                arrays.push(build(kind, &column)?);
            }
            let valid: Vec<bool> = cells.iter().map(|c| matches!(c, Cell::Struct(_))).collect();
            let fields: Fields = fields
                .iter()
                .zip(&arrays)
                .map(|((n, _), a)| Field::new(n, a.data_type().clone(), true))
                .collect();
            Arc::new(StructArray::try_new(fields, arrays, Some(NullBuffer::from(valid)))?)
        }
    })
}

fn collect_time(cells: &[&Cell]) -> TimestampMicrosecondArray {
    cells
        .iter()
        .map(|c| match c {
            Cell::Time(t) => Some(*t),
            _ => None,
        })
        .collect()
}

//! Arrow data as Ruby values: Integer, Float, String (UTF-8, or ASCII-8BIT for binary), `true` and
//! `false`, `Time` in UTC, `Date`, `BigDecimal`, `nil`, and Hash / Array for nested types.
//!
//! Each column is converted in one pass into a Ruby Array (kept alive by the GC as an ordinary
//! object), and rows are assembled from those arrays.

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericBinaryArray, GenericByteViewArray, GenericListArray,
    GenericStringArray, MapArray, OffsetSizeTrait, PrimitiveArray, RecordBatch, StructArray,
};
use arrow::datatypes::{
    ArrowPrimitiveType, BinaryViewType, DataType, Date32Type, Date64Type, Float16Type, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, StringViewType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use magnus::prelude::*;
use magnus::time::{Offset, Timespec};
use magnus::{Error, IntoValue, RArray, RHash, Ruby, Value};

use crate::error::internal;

/// Days from the Julian day number 0 to 1970-01-01 (`Date.jd` takes Julian day numbers).
const UNIX_EPOCH_JD: i64 = 2_440_588;

/// The rows of `batch` as an Array of Hashes keyed by column name.
pub fn batch_rows(ruby: &Ruby, batch: &RecordBatch) -> Result<RArray, Error> {
    let columns = batch_columns(ruby, batch)?;
    let keys = column_keys(ruby, batch)?;
    let rows = ruby.ary_new_capa(batch.num_rows());
    for row in 0..batch.num_rows() {
        let hash = ruby.hash_new();
        for i in 0..batch.num_columns() {
            let key: Value = keys.entry(i as isize)?;
            let column: RArray = columns.entry(i as isize)?;
            hash.aset(key, column.entry::<Value>(row as isize)?)?;
        }
        rows.push(hash)?;
    }
    Ok(rows)
}

/// The columns of `batch` as a Hash of column name to Array of values.
pub fn batch_hash(ruby: &Ruby, batch: &RecordBatch) -> Result<RHash, Error> {
    let columns = batch_columns(ruby, batch)?;
    let keys = column_keys(ruby, batch)?;
    let hash = ruby.hash_new();
    for i in 0..batch.num_columns() {
        hash.aset(keys.entry::<Value>(i as isize)?, columns.entry::<Value>(i as isize)?)?;
    }
    Ok(hash)
}

/// One frozen String per column name, shared by every row's Hash.
fn column_keys(ruby: &Ruby, batch: &RecordBatch) -> Result<RArray, Error> {
    let keys = ruby.ary_new_capa(batch.num_columns());
    for field in batch.schema_ref().fields() {
        let key = ruby.str_new(field.name());
        key.freeze();
        keys.push(key)?;
    }
    Ok(keys)
}

fn batch_columns(ruby: &Ruby, batch: &RecordBatch) -> Result<RArray, Error> {
    let columns = ruby.ary_new_capa(batch.num_columns());
    for column in batch.columns() {
        columns.push(column_values(ruby, column)?)?;
    }
    Ok(columns)
}

/// Every value of `array` as a Ruby Array.
pub fn column_values(ruby: &Ruby, array: &ArrayRef) -> Result<RArray, Error> {
    let out = ruby.ary_new_capa(array.len());
    match array.data_type() {
        DataType::Null => {
            for _ in 0..array.len() {
                out.push(ruby.qnil())?;
            }
        }
        DataType::Boolean => push_each(ruby, &out, array.as_boolean(), |_, a: &BooleanArray, i| {
            Ok(a.value(i).into_value_with(ruby))
        })?,
        DataType::Int8 => push_ints::<Int8Type>(ruby, &out, array)?,
        DataType::Int16 => push_ints::<Int16Type>(ruby, &out, array)?,
        DataType::Int32 => push_ints::<Int32Type>(ruby, &out, array)?,
        DataType::Int64 => push_ints::<Int64Type>(ruby, &out, array)?,
        DataType::UInt8 => push_ints::<UInt8Type>(ruby, &out, array)?,
        DataType::UInt16 => push_ints::<UInt16Type>(ruby, &out, array)?,
        DataType::UInt32 => push_ints::<UInt32Type>(ruby, &out, array)?,
        DataType::UInt64 => push_each(ruby, &out, array.as_primitive::<UInt64Type>(), |r, a, i| {
            Ok(r.integer_from_u64(a.value(i)).as_value())
        })?,
        DataType::Float16 => push_each(ruby, &out, array.as_primitive::<Float16Type>(), |r, a, i| {
            Ok(r.float_from_f64(a.value(i).to_f64()).as_value())
        })?,
        DataType::Float32 => push_each(ruby, &out, array.as_primitive::<Float32Type>(), |r, a, i| {
            Ok(r.float_from_f64(f64::from(a.value(i))).as_value())
        })?,
        DataType::Float64 => push_each(ruby, &out, array.as_primitive::<Float64Type>(), |r, a, i| {
            Ok(r.float_from_f64(a.value(i)).as_value())
        })?,
        DataType::Utf8 => push_strings(ruby, &out, array.as_string::<i32>())?,
        DataType::LargeUtf8 => push_strings(ruby, &out, array.as_string::<i64>())?,
        DataType::Utf8View => push_each(
            ruby,
            &out,
            array.as_string_view(),
            |r, a: &GenericByteViewArray<StringViewType>, i| Ok(r.str_new(a.value(i)).as_value()),
        )?,
        DataType::Binary => push_binaries(ruby, &out, array.as_binary::<i32>())?,
        DataType::LargeBinary => push_binaries(ruby, &out, array.as_binary::<i64>())?,
        DataType::BinaryView => push_each(
            ruby,
            &out,
            array.as_binary_view(),
            |r, a: &GenericByteViewArray<BinaryViewType>, i| Ok(r.str_from_slice(a.value(i)).as_value()),
        )?,
        DataType::FixedSizeBinary(_) => push_each(ruby, &out, array.as_fixed_size_binary(), |r, a, i| {
            Ok(r.str_from_slice(a.value(i)).as_value())
        })?,
        DataType::Date32 => {
            let jd = date_class(ruby)?;
            push_each(ruby, &out, array.as_primitive::<Date32Type>(), |_, a, i| {
                jd.funcall("jd", (i64::from(a.value(i)) + UNIX_EPOCH_JD,))
            })?
        }
        DataType::Date64 => {
            let jd = date_class(ruby)?;
            push_each(ruby, &out, array.as_primitive::<Date64Type>(), |_, a, i| {
                jd.funcall("jd", (a.value(i).div_euclid(86_400_000) + UNIX_EPOCH_JD,))
            })?
        }
        DataType::Timestamp(unit, _) => {
            let per_second: i64 = match unit {
                TimeUnit::Second => 1,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1_000_000,
                TimeUnit::Nanosecond => 1_000_000_000,
            };
            let ticks: Vec<Option<i64>> = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().iter().collect(),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().iter().collect(),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().iter().collect(),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().iter().collect(),
            };
            let nanos_per_tick = 1_000_000_000 / per_second;
            for tick in ticks {
                let value = match tick {
                    None => ruby.qnil().as_value(),
                    Some(t) => {
                        let spec = Timespec {
                            tv_sec: t.div_euclid(per_second),
                            tv_nsec: t.rem_euclid(per_second) * nanos_per_tick,
                        };
                        ruby.time_timespec_new(spec, Offset::utc())?.as_value()
                    }
                };
                out.push(value)?;
            }
        }
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => {
            let text = arrow::compute::cast(array, &DataType::Utf8).map_err(|e| internal(e.to_string()))?;
            let kernel = ruby.module_kernel();
            push_each(ruby, &out, text.as_string::<i32>(), |_, a, i| {
                kernel.funcall("BigDecimal", (a.value(i),))
            })?
        }
        DataType::Struct(_) => push_structs(ruby, &out, array.as_struct())?,
        DataType::List(_) => push_lists(ruby, &out, array.as_list::<i32>())?,
        DataType::LargeList(_) => push_lists(ruby, &out, array.as_list::<i64>())?,
        DataType::FixedSizeList(_, _) | DataType::ListView(_) | DataType::LargeListView(_) => {
            let field = match array.data_type() {
                DataType::FixedSizeList(f, _) | DataType::ListView(f) | DataType::LargeListView(f) => f.clone(),
                _ => return Err(internal("unreachable list type")),
            };
            let list = arrow::compute::cast(array, &DataType::LargeList(field)).map_err(|e| internal(e.to_string()))?;
            push_lists(ruby, &out, list.as_list::<i64>())?
        }
        DataType::Map(_, _) => push_maps(ruby, &out, array.as_map())?,
        DataType::Dictionary(_, value_type) => {
            let values = arrow::compute::cast(array, value_type).map_err(|e| internal(e.to_string()))?;
            return column_values(ruby, &values);
        }
        DataType::RunEndEncoded(_, values) => {
            let plain = arrow::compute::cast(array, values.data_type()).map_err(|e| internal(e.to_string()))?;
            return column_values(ruby, &plain);
        }
        other => {
            // Time, duration, interval: shown as text rather than refused.
            let text = arrow::compute::cast(array, &DataType::Utf8)
                .map_err(|e| internal(format!("cannot convert a {other} column to Ruby values: {e}")))?;
            push_strings(ruby, &out, text.as_string::<i32>())?
        }
    }
    Ok(out)
}

/// Push `convert(ruby, array, i)` for each valid slot and `nil` for each null one.
fn push_each<A: Array>(
    ruby: &Ruby,
    out: &RArray,
    array: &A,
    mut convert: impl FnMut(&Ruby, &A, usize) -> Result<Value, Error>,
) -> Result<(), Error> {
    for i in 0..array.len() {
        if array.is_null(i) {
            out.push(ruby.qnil())?;
        } else {
            out.push(convert(ruby, array, i)?)?;
        }
    }
    Ok(())
}

fn push_ints<T>(ruby: &Ruby, out: &RArray, array: &ArrayRef) -> Result<(), Error>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i64>,
{
    push_each(ruby, out, array.as_primitive::<T>(), |r, a: &PrimitiveArray<T>, i| {
        Ok(r.integer_from_i64(a.value(i).into()).as_value())
    })
}

fn push_strings<O: OffsetSizeTrait>(ruby: &Ruby, out: &RArray, array: &GenericStringArray<O>) -> Result<(), Error> {
    push_each(ruby, out, array, |r, a, i| Ok(r.str_new(a.value(i)).as_value()))
}

fn push_binaries<O: OffsetSizeTrait>(ruby: &Ruby, out: &RArray, array: &GenericBinaryArray<O>) -> Result<(), Error> {
    push_each(ruby, out, array, |r, a, i| Ok(r.str_from_slice(a.value(i)).as_value()))
}

fn push_structs(ruby: &Ruby, out: &RArray, array: &StructArray) -> Result<(), Error> {
    let children = ruby.ary_new_capa(array.num_columns());
    let keys = ruby.ary_new_capa(array.num_columns());
    for (field, child) in array.fields().iter().zip(array.columns()) {
        let key = ruby.str_new(field.name());
        key.freeze();
        keys.push(key)?;
        children.push(column_values(ruby, child)?)?;
    }
    for i in 0..array.len() {
        if array.is_null(i) {
            out.push(ruby.qnil())?;
            continue;
        }
        let hash = ruby.hash_new();
        for c in 0..array.num_columns() {
            let child: RArray = children.entry(c as isize)?;
            hash.aset(keys.entry::<Value>(c as isize)?, child.entry::<Value>(i as isize)?)?;
        }
        out.push(hash)?;
    }
    Ok(())
}

fn push_lists<O: OffsetSizeTrait>(ruby: &Ruby, out: &RArray, array: &GenericListArray<O>) -> Result<(), Error> {
    // Only the part of the child array the slots refer to is converted.
    let offsets = array.value_offsets();
    let (first, last) = (offsets[0].as_usize(), offsets[array.len()].as_usize());
    let values = array.values().slice(first, last - first);
    let items = column_values(ruby, &values)?;
    for i in 0..array.len() {
        if array.is_null(i) {
            out.push(ruby.qnil())?;
            continue;
        }
        let start = offsets[i].as_usize() - first;
        let len = offsets[i + 1].as_usize() - offsets[i].as_usize();
        out.push(items.subseq(start, len).unwrap_or_else(|| ruby.ary_new()))?;
    }
    Ok(())
}

fn push_maps(ruby: &Ruby, out: &RArray, array: &MapArray) -> Result<(), Error> {
    let offsets = array.value_offsets();
    let (first, last) = (offsets[0] as usize, offsets[array.len()] as usize);
    let keys = column_values(ruby, &array.keys().slice(first, last - first))?;
    let values = column_values(ruby, &array.values().slice(first, last - first))?;
    for i in 0..array.len() {
        if array.is_null(i) {
            out.push(ruby.qnil())?;
            continue;
        }
        let hash = ruby.hash_new();
        for j in (offsets[i] as usize - first)..(offsets[i + 1] as usize - first) {
            hash.aset(keys.entry::<Value>(j as isize)?, values.entry::<Value>(j as isize)?)?;
        }
        out.push(hash)?;
    }
    Ok(())
}

/// Ruby's `Date` class (the gem requires "date").
fn date_class(ruby: &Ruby) -> Result<Value, Error> {
    ruby.class_object().const_get("Date")
}

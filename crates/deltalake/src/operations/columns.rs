//! Arrow work done a column at a time, each column a task on the CPU pool: concatenating batches
//! and gathering rows.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, BooleanBufferBuilder, DictionaryArray, GenericByteBuilder, Int32Array,
    RecordBatch, RecordBatchOptions, UInt64Array, new_empty_array,
};
use arrow::buffer::NullBuffer;
use arrow::compute::{cast, concat, take};
use arrow::datatypes::{
    BinaryType, ByteArrayType, DataType, Field, Int32Type, LargeBinaryType, LargeUtf8Type, Schema, SchemaRef, Utf8Type,
};
use arrow::error::ArrowError;

use super::key_map::Distinct;
use crate::cpu_pool;
use crate::error::DeltaResult;

/// The rows of `batches` as one batch, concatenated a column at a time on the CPU pool (each
/// column's arrays dropped once copied, so the rows are held about once).
pub(crate) async fn concat_columns(schema: &SchemaRef, batches: Vec<RecordBatch>) -> DeltaResult<RecordBatch> {
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let mut columns: Vec<Vec<ArrayRef>> = vec![Vec::with_capacity(batches.len()); schema.fields().len()];
    for batch in batches {
        for (column, array) in columns.iter_mut().zip(batch.columns()) {
            column.push(array.clone());
        }
    }
    let concatenated = on_pool(
        columns
            .into_iter()
            .zip(schema.fields().iter().cloned())
            .map(|(arrays, field)| {
                move || match arrays.is_empty() {
                    true => Ok(new_empty_array(field.data_type())),
                    false => concat_arrays(&arrays),
                }
            }),
    )
    .await?;
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        concatenated,
        &options,
    )?)
}

/// `arrays` (of one type) as one array.
fn concat_arrays(arrays: &[ArrayRef]) -> Result<ArrayRef, ArrowError> {
    match arrays[0].data_type() {
        DataType::Dictionary(keys, _) if **keys == DataType::Int32 => concat_dictionaries(arrays),
        _ => concat(&arrays.iter().map(AsRef::as_ref).collect::<Vec<&dyn Array>>()),
    }
}

/// Dictionary arrays concatenated into one with a dictionary of distinct values. Each distinct
/// dictionary (by identity: the batches of a row group share one) is read once; Arrow's `concat`
/// counts the dictionary of every batch, and past the output's length merges them all value by
/// value. Dictionaries of other than strings and binaries are left to Arrow.
fn concat_dictionaries(arrays: &[ArrayRef]) -> Result<ArrayRef, ArrowError> {
    let arrow_concat = || concat(&arrays.iter().map(AsRef::as_ref).collect::<Vec<&dyn Array>>());
    let dictionaries: Vec<&DictionaryArray<Int32Type>> = arrays.iter().map(|a| a.as_dictionary()).collect();
    let mut unique: Vec<&ArrayRef> = Vec::new();
    let mut index: HashMap<*const (), usize> = HashMap::new();
    let uses: Vec<usize> = dictionaries
        .iter()
        .map(|d| {
            *index.entry(Arc::as_ptr(d.values()).cast::<()>()).or_insert_with(|| {
                unique.push(d.values());
                unique.len() - 1
            })
        })
        .collect();
    let merged = match unique[0].data_type() {
        DataType::Utf8 => merge_values::<Utf8Type>(&unique),
        DataType::LargeUtf8 => merge_values::<LargeUtf8Type>(&unique),
        DataType::Binary => merge_values::<BinaryType>(&unique),
        DataType::LargeBinary => merge_values::<LargeBinaryType>(&unique),
        _ => None,
    };
    let Some((values, new_keys)) = merged else {
        return arrow_concat();
    };
    let len = dictionaries.iter().map(|d| d.len()).sum();
    let mut keys = Vec::with_capacity(len);
    for (dictionary, used) in dictionaries.iter().zip(uses) {
        let new_key = &new_keys[used];
        // Keys of null rows may hold anything: they become 0.
        keys.extend(
            dictionary
                .keys()
                .values()
                .iter()
                .map(|k| usize::try_from(*k).ok().and_then(|k| new_key.get(k)).map_or(0, |k| *k)),
        );
    }
    let nulls = dictionaries.iter().any(|d| d.keys().null_count() > 0).then(|| {
        let mut valid = BooleanBufferBuilder::new(len);
        for dictionary in &dictionaries {
            match dictionary.keys().nulls() {
                Some(nulls) => valid.append_buffer(nulls.inner()),
                None => valid.append_n(dictionary.len(), true),
            }
        }
        NullBuffer::new(valid.finish())
    });
    Ok(Arc::new(DictionaryArray::try_new(
        Int32Array::new(keys.into(), nulls),
        values,
    )?))
}

/// The distinct values of string or binary `dictionaries` (a null value kept once, last), and
/// for each dictionary the new key of each of its values; `None` past the keys' range.
fn merge_values<T: ByteArrayType>(dictionaries: &[&ArrayRef]) -> Option<(ArrayRef, Vec<Vec<i32>>)> {
    const NULL: u32 = u32::MAX;
    let mut distinct = Distinct::default();
    let mut merged = GenericByteBuilder::<T>::new();
    let mut ids = Vec::with_capacity(dictionaries.len());
    for values in dictionaries {
        let values = values.as_bytes::<T>();
        let of_values: Vec<u32> = (0..values.len())
            .map(|i| match values.is_valid(i) {
                true => {
                    let id = distinct.id(values.value(i).as_ref());
                    if id as usize == merged.len() {
                        merged.append_value(values.value(i));
                    }
                    id
                }
                false => NULL,
            })
            .collect();
        ids.push(of_values);
    }
    let null = i32::try_from(merged.len()).ok()?;
    if ids.iter().flatten().any(|id| *id == NULL) {
        merged.append_null();
    }
    let new_keys = ids
        .into_iter()
        .map(|of_values| {
            of_values
                .into_iter()
                .map(|id| match id {
                    NULL => Some(null),
                    id => i32::try_from(id).ok(),
                })
                .collect::<Option<Vec<i32>>>()
        })
        .collect::<Option<_>>()?;
    Some((Arc::new(merged.finish()), new_keys))
}

/// `batches` (of `schema`, some columns maybe dictionary-encoded) with one schema: a column stays
/// a dictionary where every batch holds it as the same dictionary type, else it is decoded to its
/// type in `schema`. The common schema, and the batches in it.
pub(crate) fn common_dictionaries(
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
) -> DeltaResult<(SchemaRef, Vec<RecordBatch>)> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let mut types = batches.iter().map(|b| b.schema_ref().field(i).data_type().clone());
            let common = match types.next() {
                Some(first @ DataType::Dictionary(..)) if types.all(|t| t == first) => first,
                _ => field.data_type().clone(),
            };
            field.as_ref().clone().with_data_type(common)
        })
        .collect();
    let common = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let batches = batches
        .into_iter()
        .map(|batch| cast_columns(&batch, &common))
        .collect::<DeltaResult<_>>()?;
    Ok((common, batches))
}

/// `batch` in `schema`, its columns cast where their types differ (dictionaries decoded).
fn cast_columns(batch: &RecordBatch, schema: &SchemaRef) -> DeltaResult<RecordBatch> {
    if batch.schema_ref() == schema {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<Result<_, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(schema.clone(), columns, &options)?)
}

/// The rows `indices` of `batch` in `schema` (dictionary columns decoded to its types), each
/// column gathered on the CPU pool.
pub(crate) async fn take_columns(
    batch: &RecordBatch,
    indices: &UInt64Array,
    schema: &SchemaRef,
) -> DeltaResult<RecordBatch> {
    let columns = on_pool(batch.columns().iter().zip(schema.fields()).map(|(column, field)| {
        let (column, indices, target) = (column.clone(), indices.clone(), field.data_type().clone());
        move || {
            let taken = take(&column, &indices, None)?;
            match taken.data_type() == &target {
                true => Ok(taken),
                false => cast(&taken, &target),
            }
        }
    }))
    .await?;
    let options = RecordBatchOptions::new().with_row_count(Some(indices.len()));
    Ok(RecordBatch::try_new_with_options(schema.clone(), columns, &options)?)
}

/// Run each of `jobs` (making an array) on the CPU pool; the arrays in order.
async fn on_pool<F>(jobs: impl Iterator<Item = F>) -> DeltaResult<Vec<ArrayRef>>
where
    F: FnOnce() -> Result<ArrayRef, ArrowError> + Send + 'static,
{
    let tasks: Vec<_> = jobs.map(cpu_pool::spawn).collect();
    let mut arrays = Vec::with_capacity(tasks.len());
    for task in tasks {
        arrays.push(task.await.map_err(|e| ArrowError::ComputeError(e.to_string()))??);
    }
    Ok(arrays)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{AsArray, Int32Array, StringArray};
    use arrow::datatypes::Int32Type;

    use super::*;

    #[tokio::test]
    async fn concatenates_and_gathers_by_column() {
        let batch = |ids: Vec<i32>, names: Vec<&str>| {
            RecordBatch::try_from_iter(vec![
                ("id", Arc::new(Int32Array::from(ids)) as ArrayRef),
                ("name", Arc::new(StringArray::from(names)) as _),
            ])
            .unwrap()
        };
        let first = batch(vec![1, 2], vec!["a", "b"]);
        let schema = first.schema();
        let all = concat_columns(&schema, vec![first, batch(vec![3], vec!["c"])])
            .await
            .unwrap();
        assert_eq!(all.num_rows(), 3);
        let taken = take_columns(&all, &UInt64Array::from(vec![2, 0]), &schema)
            .await
            .unwrap();
        assert_eq!(taken.column(0).as_primitive::<Int32Type>().values(), &[3, 1]);
        assert_eq!(taken.column(1).as_string::<i32>().value(0), "c");
        // No batches: no rows, every column.
        let none = concat_columns(&schema, Vec::new()).await.unwrap();
        assert_eq!((none.num_rows(), none.num_columns()), (0, 2));
    }

    #[tokio::test]
    async fn dictionaries_are_concatenated_into_their_distinct_values() {
        let dictionary = |keys: Vec<Option<i32>>, values: Vec<&str>| {
            Arc::new(DictionaryArray::new(
                Int32Array::from(keys),
                Arc::new(StringArray::from(values)),
            )) as ArrayRef
        };
        let shared = dictionary(vec![Some(1), None, Some(0)], vec!["a", "b"]);
        let other = dictionary(vec![Some(2), Some(0)], vec!["c", "a", "e"]);
        let arrays = [shared.slice(0, 2), other, shared.slice(1, 2)];
        let schema = Arc::new(Schema::new(vec![Field::new("n", shared.data_type().clone(), true)]));
        let batches = arrays
            .iter()
            .map(|a| RecordBatch::try_new(schema.clone(), vec![a.clone()]).unwrap())
            .collect();
        let all = concat_columns(&schema, batches).await.unwrap();
        let column = all.column(0).as_dictionary::<Int32Type>();
        assert_eq!(column.values().len(), 4, "each value once");
        let decoded = cast(all.column(0), &DataType::Utf8).unwrap();
        assert_eq!(
            decoded.as_string::<i32>().iter().collect::<Vec<_>>(),
            [Some("b"), None, Some("e"), Some("c"), None, Some("a")]
        );
    }
}

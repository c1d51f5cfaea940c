//! Arrow work done a column at a time, each column a task on the CPU pool: concatenating batches
//! and gathering rows.

use arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, UInt64Array, new_empty_array};
use arrow::compute::{concat, take};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;

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
                    false => concat(&arrays.iter().map(AsRef::as_ref).collect::<Vec<&dyn Array>>()),
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

/// The rows `indices` of `batch`, each column gathered on the CPU pool.
pub(crate) async fn take_columns(batch: &RecordBatch, indices: &UInt64Array) -> DeltaResult<RecordBatch> {
    let columns = on_pool(batch.columns().iter().map(|column| {
        let (column, indices) = (column.clone(), indices.clone());
        move || take(&column, &indices, None)
    }))
    .await?;
    let options = RecordBatchOptions::new().with_row_count(Some(indices.len()));
    Ok(RecordBatch::try_new_with_options(batch.schema(), columns, &options)?)
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
        let taken = take_columns(&all, &UInt64Array::from(vec![2, 0])).await.unwrap();
        assert_eq!(taken.column(0).as_primitive::<Int32Type>().values(), &[3, 1]);
        assert_eq!(taken.column(1).as_string::<i32>().value(0), "c");
        // No batches: no rows, every column.
        let none = concat_columns(&schema, Vec::new()).await.unwrap();
        assert_eq!((none.num_rows(), none.num_columns()), (0, 2));
    }
}

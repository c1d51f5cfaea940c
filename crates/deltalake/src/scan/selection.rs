//! Deletion vectors as selection vectors: for each file that has one, a mask over all its rows
//! that is `true` for the rows kept. For readers that read the Parquet files themselves (polars'
//! `scan_delta` through the Python package) and need to drop the deleted rows.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, BooleanArray, ListArray, RecordBatch, StringArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use futures::{StreamExt, TryStreamExt};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use super::load_deletion_vector;
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::actions::live_rows;
use crate::snapshot::Snapshot;
use crate::storage::LogStore;

/// Deletion vectors read at once.
const CONCURRENT_READS: usize = 16;

/// The schema of [`selection_vectors`]: `filepath` (the data file's URI) and `selection_vector`
/// (one boolean per row of the file, `true` where the row is kept).
pub static SELECTION_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("filepath", DataType::Utf8, false),
        Field::new(
            "selection_vector",
            DataType::List(Arc::new(Field::new_list_field(DataType::Boolean, false))),
            false,
        ),
    ]))
});

/// One row per active file of `snapshot` with a deletion vector, in [`SELECTION_SCHEMA`]. The
/// row count of a file comes from its `numRecords` statistic, else from its Parquet footer.
pub async fn selection_vectors(snapshot: &Snapshot, store: &dyn LogStore) -> DeltaResult<RecordBatch> {
    let files: Vec<_> = snapshot
        .files()
        .iter()
        .filter_map(|f| {
            let dv = f.deletion_vector()?;
            // All the file's rows, deleted or not: the mask covers each of them.
            Some((f.path().to_string(), f.size(), live_rows(f.stats(), None), dv))
        })
        .collect();
    let masks: Vec<(String, BooleanArray)> = futures::stream::iter(files)
        .map(|(path, size, rows, dv)| async move {
            let deleted = load_deletion_vector(store, &dv, &path).await?;
            let rows = match rows {
                Some(rows) => rows,
                None => footer_row_count(store, &path, size).await?,
            };
            let uri = snapshot
                .table_root()
                .join(&path)
                .map_err(|e| DeltaError::invalid_data_file(&path, e))?;
            Ok::<_, DeltaError>((uri.to_string(), deleted.keep_mask(0, rows)))
        })
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await?;
    let paths = StringArray::from_iter_values(masks.iter().map(|(uri, _)| uri.as_str()));
    let values: Vec<&dyn Array> = masks.iter().map(|(_, mask)| mask as &dyn Array).collect();
    let values = if values.is_empty() {
        Arc::new(BooleanArray::from(Vec::<bool>::new())) as _
    } else {
        arrow::compute::concat(&values)?
    };
    let offsets = OffsetBuffer::from_lengths(masks.iter().map(|(_, mask)| mask.len()));
    let item = Arc::new(Field::new_list_field(DataType::Boolean, false));
    let lists = ListArray::try_new(item, offsets, values, None)?;
    Ok(RecordBatch::try_new(
        SELECTION_SCHEMA.clone(),
        vec![Arc::new(paths), Arc::new(lists)],
    )?)
}

/// The row count in the footer of the data file at `path` (as in the log).
async fn footer_row_count(store: &dyn LogStore, path: &str, size: i64) -> DeltaResult<usize> {
    let location = store.resolve_file(path)?;
    let mut reader = store.file_reader(location, u64::try_from(size).ok().filter(|s| *s > 0));
    let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
        .await
        .map_err(|e| DeltaError::invalid_data_file(path, e))?;
    usize::try_from(metadata.metadata().file_metadata().num_rows())
        .map_err(|_| DeltaError::invalid_data_file(path, "negative row count in the footer"))
}

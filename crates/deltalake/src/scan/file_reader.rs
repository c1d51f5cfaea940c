//! Reading one data file into batches of the scan's logical schema: column mapping, missing
//! columns, type conversion, partition values and deletion vectors.

use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::compute::{and, filter_record_batch, not};
use arrow::datatypes::{DataType as ArrowType, Field, FieldRef, Fields, Schema as ArrowSchema, SchemaRef, TimeUnit};
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use parquet::basic::Type as PhysicalType;

use crate::arrow_utils::{FieldMatch, conform_array};
use crate::error::{DeltaError, DeltaResult};
use crate::expr::BoundExpr;
use crate::protocol::Scalar;
use crate::protocol::deletion_vector::{DeletedRows, DeletionVectorDescriptor};
use crate::storage::{LogStore, ObjectFileReader, get_range};

/// What every file of one scan shares.
#[derive(Debug)]
pub(crate) struct ScanContext {
    /// The log store.
    pub store: Arc<dyn LogStore>,
    /// The schema batches are produced in before the final projection.
    pub read_schema: SchemaRef,
    /// Indices into `read_schema` of the columns the caller asked for.
    pub output_projection: Vec<usize>,
    /// The final schema.
    pub output_schema: SchemaRef,
    /// Whether each field of `read_schema` is a partition column.
    pub is_partition: Vec<bool>,
    /// How file columns are matched to table columns.
    pub matcher: FieldMatch,
    /// Rows are kept only where this predicate (over `read_schema`) is TRUE.
    pub filter: Option<BoundExpr>,
    /// Rows per batch.
    pub batch_size: usize,
}

/// One file to read.
#[derive(Debug, Clone)]
pub struct ScanFile {
    /// The path in the log.
    pub path: String,
    /// Size in bytes.
    pub size: i64,
    /// Partition values, one per partition column of the read schema (in read-schema order).
    pub partition_values: Vec<Scalar>,
    /// Which of the file's rows to return.
    pub rows: RowSelection,
}

/// Which rows of a data file a read returns.
#[derive(Debug, Clone, Default)]
pub enum RowSelection {
    /// Every row.
    #[default]
    All,
    /// The rows this deletion vector does not delete (the live rows of a file).
    Live(DeletionVectorDescriptor),
    /// The rows `after` deletes that `before` did not: what a commit deleted by deletion vector.
    NewlyDeleted {
        /// The vector the file had before the commit, if any.
        before: Option<DeletionVectorDescriptor>,
        /// The vector the commit gave the file.
        after: DeletionVectorDescriptor,
    },
}

impl RowSelection {
    /// The live rows of a file with an optional deletion vector.
    pub fn live(dv: Option<DeletionVectorDescriptor>) -> Self {
        dv.map_or(Self::All, Self::Live)
    }
}

/// A [`RowSelection`] with its vectors loaded.
enum LoadedSelection {
    All,
    Live(DeletedRows),
    NewlyDeleted {
        before: Option<DeletedRows>,
        after: DeletedRows,
    },
}

impl LoadedSelection {
    async fn load(selection: &RowSelection, store: &dyn LogStore, display: &str) -> DeltaResult<Self> {
        Ok(match selection {
            RowSelection::All => Self::All,
            RowSelection::Live(dv) => Self::Live(load_deletion_vector(store, dv, display).await?),
            RowSelection::NewlyDeleted { before, after } => Self::NewlyDeleted {
                before: match before {
                    Some(dv) => Some(load_deletion_vector(store, dv, display).await?),
                    None => None,
                },
                after: load_deletion_vector(store, after, display).await?,
            },
        })
    }

    /// The rows to keep among `first_row..first_row + len`, or `None` for all of them.
    fn mask(&self, first_row: u64, len: usize) -> DeltaResult<Option<BooleanArray>> {
        Ok(match self {
            Self::All => None,
            Self::Live(deleted) => Some(deleted.keep_mask(first_row, len)),
            Self::NewlyDeleted { before, after } => {
                let deleted_now = not(&after.keep_mask(first_row, len))?;
                Some(match before {
                    Some(before) => and(&deleted_now, &before.keep_mask(first_row, len))?,
                    None => deleted_now,
                })
            }
        })
    }
}

/// Read `file` as a stream of batches of the context's output schema.
pub(crate) async fn read_file(
    ctx: Arc<ScanContext>,
    file: ScanFile,
) -> DeltaResult<BoxStream<'static, DeltaResult<RecordBatch>>> {
    let store = ctx.store.clone();
    let location = store.resolve_file(&file.path)?;
    let display = location.to_string();
    let selection = LoadedSelection::load(&file.rows, store.as_ref(), &display).await?;
    let data_fields: Vec<FieldRef> = ctx
        .read_schema
        .fields()
        .iter()
        .zip(&ctx.is_partition)
        .filter(|(_, p)| !**p)
        .map(|(f, _)| f.clone())
        .collect();
    let size = u64::try_from(file.size).ok().filter(|s| *s > 0);
    let invalid = |e: &dyn std::fmt::Display| DeltaError::invalid_data_file(&display, e);

    let (mut stream, file_fields) = if data_fields.is_empty() {
        (None, Fields::empty())
    } else {
        let mut reader = ObjectFileReader::new(store.object_store().clone(), location.clone(), size);
        let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
            .await
            .map_err(|e| map_open_error(e, &display))?;
        let metadata = with_microsecond_int96(metadata).map_err(|e| invalid(&e))?;
        let file_schema = metadata.schema().clone();
        // The reader returns columns in file order, whatever order they are asked in.
        let mut roots: Vec<usize> = data_fields
            .iter()
            .filter_map(|f| ctx.matcher.position(f, file_schema.fields()))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        let mask = ProjectionMask::roots(metadata.parquet_schema(), roots.clone());
        let fields: Fields = roots.iter().map(|i| file_schema.field(*i).clone()).collect();
        let stream = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, metadata)
            .with_projection(mask)
            .with_batch_size(ctx.batch_size)
            .build()
            .map_err(|e| invalid(&e))?;
        (Some(stream), fields)
    };

    // A file whose columns are all partition columns (or absent) still has rows: count them.
    if stream.is_none() {
        let rows = count_rows(store.as_ref(), &location, size, &display).await?;
        let batch = RecordBatch::try_new_with_options(
            Arc::new(ArrowSchema::empty()),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?;
        let out = to_logical(&ctx, &file, &file_fields, &batch, 0, &selection, &display);
        return Ok(futures::stream::iter(std::iter::once(out)).boxed());
    }

    let mut first_row = 0u64;
    let ctx2 = ctx.clone();
    let stream = async_stream(move |tx| async move {
        let stream = stream.as_mut().expect("checked above");
        while let Some(batch) = stream.next().await {
            let out = batch
                .map_err(|e| DeltaError::invalid_data_file(&display, e))
                .and_then(|batch| {
                    let rows = batch.num_rows() as u64;
                    let out = to_logical(&ctx2, &file, &file_fields, &batch, first_row, &selection, &display);
                    first_row += rows;
                    out
                });
            // Batches the filter emptied are not worth sending.
            if ctx2.filter.is_some() && out.as_ref().is_ok_and(|b| b.num_rows() == 0) {
                continue;
            }
            let failed = out.is_err();
            if tx.send(out).await.is_err() || failed {
                break;
            }
        }
    });
    Ok(stream)
}

/// Run `producer` as a task feeding a bounded channel, and return the receiving stream.
fn async_stream<F, Fut>(producer: F) -> BoxStream<'static, DeltaResult<RecordBatch>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<DeltaResult<RecordBatch>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(producer(tx));
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) }).boxed()
}

fn map_open_error(e: parquet::errors::ParquetError, display: &str) -> DeltaError {
    match e {
        parquet::errors::ParquetError::External(inner) => match inner.downcast::<object_store::Error>() {
            Ok(os) if matches!(*os, object_store::Error::NotFound { .. }) => {
                DeltaError::invalid_data_file(display, "the file listed in the log does not exist")
            }
            Ok(os) => DeltaError::ObjectStore(*os),
            Err(other) => DeltaError::invalid_data_file(display, other),
        },
        other => DeltaError::invalid_data_file(display, other),
    }
}

async fn count_rows(store: &dyn LogStore, location: &Path, size: Option<u64>, display: &str) -> DeltaResult<usize> {
    let mut reader = ObjectFileReader::new(store.object_store().clone(), location.clone(), size);
    let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
        .await
        .map_err(|e| map_open_error(e, display))?;
    Ok(usize::try_from(metadata.metadata().file_metadata().num_rows()).unwrap_or_default())
}

/// Delta timestamps have microsecond precision; INT96 values read as nanoseconds overflow outside
/// 1677..2262, so ask the reader for microseconds instead.
fn with_microsecond_int96(metadata: ArrowReaderMetadata) -> parquet::errors::Result<ArrowReaderMetadata> {
    let has_int96 = metadata
        .parquet_schema()
        .columns()
        .iter()
        .any(|c| c.physical_type() == PhysicalType::INT96);
    if !has_int96 {
        return Ok(metadata);
    }
    let schema = metadata.schema();
    let fields: Fields = schema.fields().iter().map(|f| Arc::new(nanos_to_micros(f))).collect();
    let hint = Arc::new(ArrowSchema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(metadata.metadata().clone(), ArrowReaderOptions::new().with_schema(hint))
}

fn nanos_to_micros(field: &Field) -> Field {
    let t = match field.data_type() {
        ArrowType::Timestamp(TimeUnit::Nanosecond, tz) => ArrowType::Timestamp(TimeUnit::Microsecond, tz.clone()),
        ArrowType::Struct(children) => {
            ArrowType::Struct(children.iter().map(|c| Arc::new(nanos_to_micros(c))).collect())
        }
        ArrowType::List(item) => ArrowType::List(Arc::new(nanos_to_micros(item))),
        ArrowType::Map(entries, sorted) => ArrowType::Map(Arc::new(nanos_to_micros(entries)), *sorted),
        other => other.clone(),
    };
    field.clone().with_data_type(t)
}

/// The rows a deletion vector of `data_file` deletes, read inline or from its file.
pub(crate) async fn load_deletion_vector(
    store: &dyn LogStore,
    dv: &DeletionVectorDescriptor,
    data_file: &str,
) -> DeltaResult<DeletedRows> {
    let Some(url) = dv.absolute_path(store.root_url())? else {
        return dv.read_inline();
    };
    let location = store.resolve_file(url.as_str())?;
    let display = location.to_string();
    let range = dv.file_byte_range()?;
    let bytes = get_range(store.object_store().as_ref(), &location, range)
        .await
        .map_err(|e| match e {
            object_store::Error::NotFound { .. } => {
                DeltaError::invalid_data_file(&display, format!("deletion vector of {data_file} does not exist"))
            }
            other => {
                DeltaError::invalid_data_file(&display, format!("cannot read deletion vector of {data_file}: {other}"))
            }
        })?;
    DeletedRows::from_file_bytes(&bytes, dv, &display)
}

/// Turn one batch of file columns into the read schema and keep the selected rows.
fn to_logical(
    ctx: &ScanContext,
    file: &ScanFile,
    file_fields: &Fields,
    batch: &RecordBatch,
    first_row: u64,
    selection: &LoadedSelection,
    display: &str,
) -> DeltaResult<RecordBatch> {
    let rows = batch.num_rows();
    let mut partition_values = file.partition_values.iter();
    let columns = ctx
        .read_schema
        .fields()
        .iter()
        .zip(&ctx.is_partition)
        .map(|(field, is_partition)| -> DeltaResult<ArrayRef> {
            if *is_partition {
                let value = partition_values.next().ok_or_else(|| {
                    DeltaError::invalid_data_file(display, format!("no partition value for '{}'", field.name()))
                })?;
                let array = value.to_array(rows)?;
                return conform_array(&array, field, FieldMatch::Name, display);
            }
            match ctx.matcher.position(field, file_fields) {
                Some(i) => conform_array(batch.column(i), field, ctx.matcher, display),
                None => Ok(new_null_array(field.data_type(), rows)),
            }
        })
        .collect::<DeltaResult<Vec<_>>>()?;
    let schema = relaxed_schema(&ctx.read_schema, &columns);
    let mut out =
        RecordBatch::try_new_with_options(schema, columns, &RecordBatchOptions::new().with_row_count(Some(rows)))?;
    if let Some(mask) = selection.mask(first_row, rows)? {
        out = filter_record_batch(&out, &mask)?;
    }
    if let Some(filter) = &ctx.filter {
        out = filter.filter(&out)?;
    }
    let projected = out.project(&ctx.output_projection)?;
    if projected.schema() == ctx.output_schema {
        return Ok(projected);
    }
    // Prefer the declared schema; keep the relaxed one where nulls made that impossible.
    Ok(projected
        .clone()
        .with_schema(ctx.output_schema.clone())
        .unwrap_or(projected))
}

/// Non-nullable fields that hold nulls (a column added after this file was written) are relaxed.
fn relaxed_schema(schema: &SchemaRef, columns: &[ArrayRef]) -> SchemaRef {
    if schema
        .fields()
        .iter()
        .zip(columns)
        .all(|(f, c)| f.is_nullable() || c.null_count() == 0 && f.data_type() == c.data_type())
    {
        return schema.clone();
    }
    let fields: Fields = schema
        .fields()
        .iter()
        .zip(columns)
        .map(|(f, c)| Arc::new(Field::new(f.name(), c.data_type().clone(), true).with_metadata(f.metadata().clone())))
        .collect();
    Arc::new(ArrowSchema::new_with_metadata(fields, schema.metadata().clone()))
}

//! Reading one data file into batches of the scan's logical schema: column mapping, missing
//! columns, type conversion, partition values and deletion vectors.

use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::compute::{and, filter_record_batch, not};
use arrow::datatypes::{DataType as ArrowType, Field, FieldRef, Fields, Schema as ArrowSchema, SchemaRef, TimeUnit};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
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
    /// Dictionary-encoded string and binary columns are returned as dictionary arrays.
    pub dictionaries: bool,
    /// How many batches a unit decodes ahead of its consumer at most.
    pub batches_ahead: usize,
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

/// How many batches a unit decodes ahead of its consumer at most, unless a scan says otherwise.
pub(crate) const MAX_BATCHES_AHEAD: usize = 128;

/// Read `files` as one stream of batches of the context's output schema, each with the index
/// of its file: files in order, the rows of each file in order.
///
/// A file is read in units of one row group, each decoded by a task of its own, `concurrency`
/// units at once: the unit being consumed and those after it, which decode ahead of the consumer
/// (the whole row group, or [`MAX_BATCHES_AHEAD`] batches of it) so that every core decodes
/// while a fast consumer waits for the unit it needs. Memory stays bounded by `concurrency`
/// units whatever the pace of the consumer.
pub(crate) fn read_files(
    ctx: Arc<ScanContext>,
    files: Vec<ScanFile>,
    concurrency: usize,
) -> BoxStream<'static, DeltaResult<(usize, RecordBatch)>> {
    futures::stream::iter(files.into_iter().enumerate())
        .map(move |(index, file)| open_file(ctx.clone(), index, file))
        .buffered(concurrency)
        .map_ok(|units| futures::stream::iter(units.into_iter().map(Ok::<_, DeltaError>)))
        .try_flatten()
        // Starting a unit spawns its task: at most `concurrency` are started before being consumed.
        .map_ok(|unit| futures::future::ready(Ok::<_, DeltaError>(unit.start())))
        .try_buffered(concurrency)
        .try_flatten()
        .boxed()
}

/// A file opened for reading: what its units share.
struct OpenFile {
    ctx: Arc<ScanContext>,
    index: usize,
    file: ScanFile,
    display: String,
    selection: LoadedSelection,
    /// The file's fields read, matched to the read schema by `to_logical`.
    file_fields: Fields,
}

/// Part of a file decoded by one task.
enum ReadUnit {
    /// Row groups of a file with data columns, the first one starting at row `first_row`.
    RowGroups {
        file: Arc<OpenFile>,
        reader: ObjectFileReader,
        metadata: ArrowReaderMetadata,
        mask: ProjectionMask,
        row_groups: Vec<usize>,
        first_row: u64,
        rows: usize,
    },
    /// A file whose columns are all partition columns (or absent): only its row count is read.
    Rows { file: Arc<OpenFile>, rows: usize },
}

/// Open `file`: load its deletion vector and Parquet footer, and split it into units.
async fn open_file(ctx: Arc<ScanContext>, index: usize, file: ScanFile) -> DeltaResult<Vec<ReadUnit>> {
    let store = ctx.store.clone();
    let location = store.resolve_file(&file.path)?;
    let display = store.display_location(&location);
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
    let mut reader = store.file_reader(location.clone(), size);
    let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
        .await
        .map_err(|e| map_open_error(e, &display))?;
    let open = |file_fields| {
        Arc::new(OpenFile {
            ctx: ctx.clone(),
            index,
            file,
            display: display.clone(),
            selection,
            file_fields,
        })
    };
    if data_fields.is_empty() {
        let rows = usize::try_from(metadata.metadata().file_metadata().num_rows()).unwrap_or_default();
        return Ok(vec![ReadUnit::Rows {
            file: open(Fields::empty()),
            rows,
        }]);
    }
    let mut metadata = with_microsecond_int96(metadata).map_err(|e| DeltaError::invalid_data_file(&display, e))?;
    // The reader returns columns in file order, whatever order they are asked in.
    let mut roots: Vec<usize> = data_fields
        .iter()
        .filter_map(|f| ctx.matcher.position(f, metadata.schema().fields()))
        .collect();
    roots.sort_unstable();
    roots.dedup();
    if ctx.dictionaries {
        metadata = with_dictionaries(metadata, &roots).map_err(|e| DeltaError::invalid_data_file(&display, e))?;
    }
    let file_schema = metadata.schema().clone();
    let mask = ProjectionMask::roots(metadata.parquet_schema(), roots.clone());
    let file = open(roots.iter().map(|i| file_schema.field(*i).clone()).collect());
    let mut first_row = 0u64;
    let mut units = Vec::new();
    for (i, row_group) in metadata.metadata().row_groups().iter().enumerate() {
        let rows = usize::try_from(row_group.num_rows()).unwrap_or_default();
        units.push(ReadUnit::RowGroups {
            file: file.clone(),
            reader: reader.clone(),
            metadata: metadata.clone(),
            mask: mask.clone(),
            row_groups: vec![i],
            first_row,
            rows,
        });
        first_row += rows as u64;
    }
    Ok(units)
}

impl ReadUnit {
    /// Start decoding: a task of its own feeds the returned stream.
    fn start(self) -> BoxStream<'static, DeltaResult<(usize, RecordBatch)>> {
        let (file, reader, metadata, mask, row_groups, first_row, rows) = match self {
            Self::Rows { file, rows } => {
                let batch = RecordBatch::try_new_with_options(
                    Arc::new(ArrowSchema::empty()),
                    vec![],
                    &RecordBatchOptions::new().with_row_count(Some(rows)),
                )
                .map_err(DeltaError::from)
                .and_then(|batch| file.to_logical(&batch, 0))
                .map(|batch| (file.index, batch));
                return futures::stream::once(futures::future::ready(batch)).boxed();
            }
            Self::RowGroups {
                file,
                reader,
                metadata,
                mask,
                row_groups,
                first_row,
                rows,
            } => (file, reader, metadata, mask, row_groups, first_row, rows),
        };
        let ctx = file.ctx.clone();
        // Room for the whole unit (bounded), and for an error.
        let ahead = rows.div_ceil(ctx.batch_size).clamp(1, ctx.batches_ahead.max(1)) + 1;
        let (tx, rx) = tokio::sync::mpsc::channel(ahead);
        tokio::spawn(async move {
            let invalid = |e: &dyn std::fmt::Display| DeltaError::invalid_data_file(&file.display, e);
            let stream = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, metadata)
                .with_projection(mask)
                .with_row_groups(row_groups)
                .with_batch_size(ctx.batch_size)
                .build();
            let mut stream = match stream {
                Ok(stream) => stream,
                Err(e) => {
                    let _ = tx.send(Err(invalid(&e))).await;
                    return;
                }
            };
            let mut next_row = first_row;
            while let Some(batch) = stream.next().await {
                let out = batch.map_err(|e| invalid(&e)).and_then(|batch| {
                    let first = next_row;
                    next_row += batch.num_rows() as u64;
                    file.to_logical(&batch, first)
                });
                // Batches the filter emptied are not worth sending.
                if ctx.filter.is_some() && out.as_ref().is_ok_and(|b| b.num_rows() == 0) {
                    continue;
                }
                let failed = out.is_err();
                if tx.send(out.map(|b| (file.index, b))).await.is_err() || failed {
                    break;
                }
            }
        });
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) }).boxed()
    }
}

impl OpenFile {
    fn to_logical(&self, batch: &RecordBatch, first_row: u64) -> DeltaResult<RecordBatch> {
        to_logical(
            &self.ctx,
            &self.file,
            &self.file_fields,
            batch,
            first_row,
            &self.selection,
            &self.display,
        )
    }
}

fn map_open_error(e: parquet::errors::ParquetError, display: &str) -> DeltaError {
    match e {
        parquet::errors::ParquetError::External(inner) => match inner.downcast::<object_store::Error>() {
            Ok(os) if matches!(*os, object_store::Error::NotFound { .. }) => DeltaError::FileNotFound {
                path: display.to_string(),
                reason: "the data file listed in the log does not exist".into(),
            },
            Ok(os) => DeltaError::ObjectStore(*os),
            Err(other) => DeltaError::invalid_data_file(display, other),
        },
        other => DeltaError::invalid_data_file(display, other),
    }
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
    read_as(&metadata, fields)
}

/// The reader of `metadata` asked for `fields`: the file's fields, some of them of other types.
fn read_as(metadata: &ArrowReaderMetadata, fields: Fields) -> parquet::errors::Result<ArrowReaderMetadata> {
    let hint = Arc::new(ArrowSchema::new_with_metadata(
        fields,
        metadata.schema().metadata().clone(),
    ));
    ArrowReaderMetadata::try_new(metadata.metadata().clone(), ArrowReaderOptions::new().with_schema(hint))
}

/// Ask the reader for the top-level string and binary columns among `roots` that every row group
/// stores with a dictionary as `Dictionary(Int32, _)` arrays: the values stay in the dictionary.
fn with_dictionaries(metadata: ArrowReaderMetadata, roots: &[usize]) -> parquet::errors::Result<ArrowReaderMetadata> {
    let parquet = metadata.parquet_schema();
    let chunks = metadata.metadata().row_groups();
    let encoded: Vec<usize> = (0..parquet.num_columns())
        .filter(|leaf| {
            chunks
                .iter()
                .all(|rg| rg.column(*leaf).dictionary_page_offset().is_some())
        })
        .map(|leaf| parquet.get_column_root_idx(leaf))
        .filter(|root| roots.contains(root))
        .collect();
    let schema = metadata.schema();
    let mut changed = false;
    let fields: Fields = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match f.data_type() {
            ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Binary | ArrowType::LargeBinary
                if encoded.contains(&i) =>
            {
                changed = true;
                let dictionary = ArrowType::Dictionary(Box::new(ArrowType::Int32), Box::new(f.data_type().clone()));
                Arc::new(f.as_ref().clone().with_data_type(dictionary))
            }
            _ => f.clone(),
        })
        .collect();
    if !changed {
        return Ok(metadata);
    }
    read_as(&metadata, fields)
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

pub(crate) async fn load_deletion_vector(
    store: &dyn LogStore,
    dv: &DeletionVectorDescriptor,
    data_file: &str,
) -> DeltaResult<DeletedRows> {
    let Some(url) = dv.absolute_path(store.root_url())? else {
        return dv.read_inline();
    };
    let location = store.resolve_file(url.as_str())?;
    let display = store.display_location(&location);
    let range = dv.file_byte_range()?;
    let bytes = get_range(store.object_store().as_ref(), &location, range)
        .await
        .map_err(|e| match e {
            object_store::Error::NotFound { .. } => DeltaError::FileNotFound {
                path: display.clone(),
                reason: format!("the deletion vector of {data_file} does not exist"),
            },
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
                Some(i) if ctx.dictionaries && is_dictionary_of(batch.column(i).data_type(), field.data_type()) => {
                    Ok(batch.column(i).clone())
                }
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

/// Whether `t` is a dictionary with Int32 keys of `values`.
fn is_dictionary_of(t: &ArrowType, values: &ArrowType) -> bool {
    matches!(t, ArrowType::Dictionary(keys, v) if **keys == ArrowType::Int32 && **v == *values)
}

/// The schema of `columns`: `schema`, with the types of the columns (dictionaries kept as they
/// are) and non-nullable fields that hold nulls (a column added after this file was written)
/// relaxed.
fn relaxed_schema(schema: &SchemaRef, columns: &[ArrayRef]) -> SchemaRef {
    let fits = |f: &FieldRef, c: &ArrayRef| f.data_type() == c.data_type() && (f.is_nullable() || c.null_count() == 0);
    if schema.fields().iter().zip(columns).all(|(f, c)| fits(f, c)) {
        return schema.clone();
    }
    let fields: Fields = schema
        .fields()
        .iter()
        .zip(columns)
        .map(|(f, c)| match fits(f, c) {
            true => f.clone(),
            false => Arc::new(
                Field::new(f.name(), c.data_type().clone(), f.is_nullable() || c.null_count() > 0)
                    .with_metadata(f.metadata().clone()),
            ),
        })
        .collect();
    Arc::new(ArrowSchema::new_with_metadata(fields, schema.metadata().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Int64Array};
    use arrow::datatypes::Int64Type;
    use futures::TryStreamExt;

    use crate::protocol::deletion_vector::z85_encode;
    use crate::storage::ObjectLogStore;

    /// An inline deletion vector deleting `rows`.
    fn inline_dv(rows: &[u64]) -> DeletionVectorDescriptor {
        let mut data = DeletedRows::from_rows(rows.iter().copied()).serialize();
        let size = data.len() as i32;
        data.resize(data.len().div_ceil(4) * 4, 0);
        DeletionVectorDescriptor {
            storage_type: "i".into(),
            path_or_inline_dv: z85_encode(&data),
            offset: None,
            size_in_bytes: size,
            cardinality: rows.len() as i64,
        }
    }

    #[tokio::test]
    async fn row_groups_decoded_at_once_come_back_in_order_with_their_deletion_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(ArrowSchema::new(vec![Field::new("id", ArrowType::Int64, false)]));
        let file = std::fs::File::create(dir.path().join("part.parquet")).unwrap();
        let properties = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(100))
            .build();
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(properties)).unwrap();
        let ids = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from_iter_values(0..1000))]).unwrap();
        writer.write(&ids).unwrap();
        assert_eq!(writer.close().unwrap().num_row_groups(), 10);
        let size = std::fs::metadata(dir.path().join("part.parquet")).unwrap().len() as i64;

        let url = crate::storage::table_url(dir.path().to_str().unwrap()).unwrap();
        let context = |batches_ahead| {
            Arc::new(ScanContext {
                store: Arc::new(ObjectLogStore::for_url(&url, &Default::default()).unwrap()),
                read_schema: schema.clone(),
                output_projection: vec![0],
                output_schema: schema.clone(),
                is_partition: vec![false],
                matcher: FieldMatch::Name,
                filter: None,
                // Batches that do not divide the row groups.
                batch_size: 30,
                dictionaries: false,
                batches_ahead,
            })
        };
        let deleted = [0, 99, 100, 101, 555, 999];
        let scan_file = |rows| ScanFile {
            path: "part.parquet".into(),
            size,
            partition_values: vec![],
            rows,
        };
        let files = vec![
            scan_file(RowSelection::Live(inline_dv(&deleted))),
            scan_file(RowSelection::All),
            scan_file(RowSelection::NewlyDeleted {
                before: Some(inline_dv(&[0, 99])),
                after: inline_dv(&deleted),
            }),
        ];
        // Units decoding one batch ahead, or the whole unit, give the same rows.
        for (concurrency, batches_ahead) in [
            (1, MAX_BATCHES_AHEAD),
            (3, MAX_BATCHES_AHEAD),
            (16, MAX_BATCHES_AHEAD),
            (3, 1),
        ] {
            let read: Vec<(usize, RecordBatch)> = read_files(context(batches_ahead), files.clone(), concurrency)
                .try_collect()
                .await
                .unwrap();
            let rows: Vec<(usize, i64)> = read
                .iter()
                .flat_map(|(file, batch)| {
                    let ids = batch.column(0).as_primitive::<Int64Type>().values().to_vec();
                    ids.into_iter().map(move |id| (*file, id))
                })
                .collect();
            let expected: Vec<(usize, i64)> = (0..1000)
                .filter(|id| !deleted.contains(&(*id as u64)))
                .map(|id| (0, id))
                .chain((0..1000).map(|id| (1, id)))
                .chain([100, 101, 555, 999].map(|id| (2, id)))
                .collect();
            assert_eq!(
                rows, expected,
                "concurrency {concurrency}, {batches_ahead} batches ahead"
            );
        }
    }

    #[tokio::test]
    async fn dictionary_encoded_strings_are_returned_as_dictionaries_when_asked() {
        // `a` is stored with a dictionary, `b` without: only `a` comes back as a dictionary.
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(ArrowSchema::new(vec![
            Field::new("a", ArrowType::Utf8, true),
            Field::new("b", ArrowType::Utf8, true),
        ]));
        let values: arrow::array::StringArray = (0..100).map(|i| (i % 7 != 0).then(|| format!("v{}", i % 5))).collect();
        let file = std::fs::File::create(dir.path().join("part.parquet")).unwrap();
        let properties = parquet::file::properties::WriterProperties::builder()
            .set_column_dictionary_enabled("b".into(), false)
            .build();
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(properties)).unwrap();
        let columns: Vec<ArrayRef> = vec![Arc::new(values.clone()), Arc::new(values.clone())];
        writer
            .write(&RecordBatch::try_new(schema.clone(), columns).unwrap())
            .unwrap();
        writer.close().unwrap();
        let size = std::fs::metadata(dir.path().join("part.parquet")).unwrap().len() as i64;
        let url = crate::storage::table_url(dir.path().to_str().unwrap()).unwrap();
        for dictionaries in [false, true] {
            let ctx = Arc::new(ScanContext {
                store: Arc::new(ObjectLogStore::for_url(&url, &Default::default()).unwrap()),
                read_schema: schema.clone(),
                output_projection: vec![0, 1],
                output_schema: schema.clone(),
                is_partition: vec![false, false],
                matcher: FieldMatch::Name,
                filter: None,
                batch_size: 8192,
                dictionaries,
                batches_ahead: MAX_BATCHES_AHEAD,
            });
            let file = ScanFile {
                path: "part.parquet".into(),
                size,
                partition_values: vec![],
                rows: RowSelection::All,
            };
            let read: Vec<(usize, RecordBatch)> = read_files(ctx, vec![file], 2).try_collect().await.unwrap();
            let batch = &read[0].1;
            let a = batch.column(0);
            let expected = match dictionaries {
                true => ArrowType::Dictionary(Box::new(ArrowType::Int32), Box::new(ArrowType::Utf8)),
                false => ArrowType::Utf8,
            };
            assert_eq!(
                (a.data_type(), batch.schema().field(0).data_type()),
                (&expected, &expected)
            );
            assert_eq!(batch.column(1).data_type(), &ArrowType::Utf8);
            let decoded = arrow::compute::cast(a, &ArrowType::Utf8).unwrap();
            assert_eq!(decoded.as_string::<i32>(), &values);
            assert_eq!(batch.column(1).as_string::<i32>(), &values);
        }
    }
}

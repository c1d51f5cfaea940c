//! Writing record batches into Parquet data files of a table: one open file per partition,
//! rolled at the target size, its columns encoded in parallel and streamed to the object store,
//! each file described by an `add` action.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{RecordBatch, make_array};
use arrow::datatypes::{Schema, SchemaRef};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::buffered::BufWriter;
use parquet::arrow::ArrowSchemaConverter;
use parquet::basic::{Compression, Encoding, Type as PhysicalType};
use parquet::file::properties::WriterProperties;
use tracing::debug;

use super::encoder::{MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, ParallelEncoder};
use super::partition::{log_path, split_by_partition};
use super::stats::{StatsCollector, StatsConfig};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::actions::StringMap;
use crate::protocol::{Add, StructType};
use crate::storage::LogStore;

/// Default target size of data files: 100 MiB.
pub const DEFAULT_TARGET_FILE_SIZE: usize = 100 * 1024 * 1024;

/// Default bound on the encoded data held in memory across all open files: 256 MiB.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 256 * 1024 * 1024;

/// Bytes a data file on the local file system is written in.
const LOCAL_PART_BYTES: usize = 512 * 1024;

/// How data files are written.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Roll to a new file once a file reaches about this many bytes.
    pub target_file_size: usize,
    /// Parquet writer properties (compression, row group size, dictionary, bloom filters...).
    pub properties: WriterProperties,
    /// When the row groups being built in all open files (one per partition) hold more than this
    /// many bytes, the largest is flushed early, so memory stays bounded however many partitions
    /// the data has.
    pub max_buffered_bytes: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            target_file_size: DEFAULT_TARGET_FILE_SIZE,
            properties: WriterProperties::builder().set_compression(Compression::SNAPPY).build(),
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
        }
    }
}

/// An error when a column's configured encoding cannot encode its values (the Parquet writer
/// would panic on it).
fn check_encodings(properties: &WriterProperties, schema: &Schema) -> DeltaResult<()> {
    let descriptor = ArrowSchemaConverter::new().convert(schema)?;
    for column in descriptor.columns() {
        let Some(encoding) = properties.encoding(column.path()) else {
            continue;
        };
        let fits = match encoding {
            Encoding::PLAIN => true,
            Encoding::RLE => column.physical_type() == PhysicalType::BOOLEAN,
            Encoding::DELTA_BINARY_PACKED => {
                matches!(column.physical_type(), PhysicalType::INT32 | PhysicalType::INT64)
            }
            Encoding::DELTA_LENGTH_BYTE_ARRAY => column.physical_type() == PhysicalType::BYTE_ARRAY,
            Encoding::DELTA_BYTE_ARRAY => matches!(
                column.physical_type(),
                PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY
            ),
            Encoding::BYTE_STREAM_SPLIT => !matches!(
                column.physical_type(),
                PhysicalType::BOOLEAN | PhysicalType::BYTE_ARRAY | PhysicalType::INT96
            ),
            _ => false,
        };
        if !fits {
            return Err(DeltaError::InvalidArgument(format!(
                "encoding {encoding} cannot encode column '{}' (Parquet type {})",
                column.path(),
                column.physical_type()
            )));
        }
    }
    Ok(())
}

/// The table layout a writer writes into.
#[derive(Debug, Clone)]
pub struct TableLayout {
    /// The logical schema (every column, partition columns included).
    pub schema: StructType,
    /// Partition columns (logical names).
    pub partition_columns: Vec<String>,
    /// Whether column mapping is on (physical names and field ids in files).
    pub column_mapping: bool,
    /// Which columns get statistics.
    pub stats: StatsConfig,
}

struct OpenFile {
    encoder: ParallelEncoder,
    relative_path: String,
    stats: StatsCollector,
    partition_values: StringMap,
}

/// Writes batches of a table's logical schema into data files and returns their `add` actions.
pub struct DataWriter {
    store: Arc<dyn LogStore>,
    layout: TableLayout,
    config: WriterConfig,
    /// The logical schema of file columns (partition columns removed).
    data_schema: StructType,
    /// The Arrow schema of files (physical names).
    file_schema: SchemaRef,
    partition_indices: Vec<usize>,
    partition_physical: Vec<String>,
    open: HashMap<String, OpenFile>,
    done: Vec<Add>,
    files_started: usize,
}

impl DataWriter {
    /// A writer for a table with this layout.
    pub fn new(store: Arc<dyn LogStore>, layout: TableLayout, config: WriterConfig) -> DeltaResult<Self> {
        let mut partition_indices = Vec::new();
        let mut partition_physical = Vec::new();
        for name in &layout.partition_columns {
            let i = layout.schema.index_of(name).ok_or_else(|| {
                DeltaError::InvalidArgument(format!("partition column '{name}' is not in the schema"))
            })?;
            partition_indices.push(i);
            partition_physical.push(layout.schema.fields[i].physical_name().to_string());
        }
        let data_schema = StructType::new(
            layout
                .schema
                .fields
                .iter()
                .enumerate()
                .filter(|(i, _)| !partition_indices.contains(i))
                .map(|(_, f)| f.clone())
                .collect(),
        );
        let file_schema = Arc::new(data_schema.to_physical_arrow(layout.column_mapping)?);
        check_encodings(&config.properties, &file_schema)?;
        Ok(Self {
            store,
            layout,
            config,
            data_schema,
            file_schema,
            partition_indices,
            partition_physical,
            open: HashMap::new(),
            done: Vec::new(),
            files_started: 0,
        })
    }

    /// Write a batch whose columns are the table's, in schema order, with the table's Arrow types.
    pub async fn write(&mut self, batch: &RecordBatch) -> DeltaResult<()> {
        for slice in split_by_partition(batch, &self.partition_indices, &self.partition_physical)? {
            if slice.batch.num_rows() == 0 {
                continue;
            }
            let physical = self.to_physical(&slice.batch)?;
            // Out of the map while written to; back in unless it is full (on an error the writer
            // is aborted, which drops the open files anyway).
            let mut file = match self.open.remove(&slice.directory) {
                Some(file) => file,
                None => self.start_file(&slice.directory, slice.values)?,
            };
            // Each open file holds up to two chunks (one gathering, one encoding): a quarter of
            // the budget goes to chunks, the rest to the row groups they encode into.
            let chunk = self.config.max_buffered_bytes / (8 * (self.open.len() + 1));
            file.encoder
                .set_chunk_bytes(chunk.clamp(MIN_CHUNK_BYTES, MAX_CHUNK_BYTES));
            file.stats.update(&slice.batch)?;
            file.encoder.write(&physical).await?;
            if file.encoder.estimated_size() >= self.config.target_file_size {
                let add = close(&self.store, file).await?;
                self.done.push(add);
            } else {
                self.open.insert(slice.directory, file);
            }
        }
        self.bound_memory().await
    }

    /// Flush the largest row groups in progress until they fit in the memory budget.
    async fn bound_memory(&mut self) -> DeltaResult<()> {
        let mut buffered: usize = self.open.values().map(|f| f.encoder.in_progress_memory()).sum();
        while buffered > self.config.max_buffered_bytes {
            let Some(file) = self
                .open
                .values_mut()
                .max_by_key(|f| f.encoder.in_progress_memory())
                .filter(|f| f.encoder.in_progress_memory() > 0)
            else {
                break;
            };
            buffered -= file.encoder.in_progress_memory();
            file.encoder.flush().await?;
        }
        Ok(())
    }

    /// Close every open file and return the `add` actions of all files written.
    pub async fn finish(mut self) -> DeltaResult<Vec<Add>> {
        let mut open: Vec<_> = self.open.drain().collect();
        open.sort_by(|a, b| a.0.cmp(&b.0));
        // Closing encodes each file's last row group: with many partitions open that is most of
        // the work, so files close a few at a time to keep every core busy.
        let at_once = std::thread::available_parallelism().map_or(2, |n| n.get());
        let store = &self.store;
        let closed: Vec<Add> = futures::stream::iter(open.into_iter().map(|(_, file)| close(store, file)))
            .buffered(at_once)
            .try_collect()
            .await?;
        self.done.extend(closed);
        debug!(files = self.done.len(), "finished writing data files");
        Ok(self.done)
    }

    /// Give up: delete the files finished so far (best effort; they were never committed, so no
    /// reader can see them either way) and drop the open ones.
    pub async fn abort(mut self) {
        self.open.clear();
        for add in std::mem::take(&mut self.done) {
            if let Ok(location) = self.store.resolve_file(&add.path)
                && let Err(e) = self.store.object_store().delete(&location).await
            {
                debug!(path = %add.path, error = %e, "could not delete an uncommitted data file");
            }
        }
    }

    fn start_file(&mut self, directory: &str, partition_values: StringMap) -> DeltaResult<OpenFile> {
        let codec = match self
            .config
            .properties
            .compression(&parquet::schema::types::ColumnPath::new(Vec::new()))
        {
            Compression::UNCOMPRESSED => String::new(),
            other => format!(
                ".{}",
                format!("{other:?}")
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_lowercase()
            ),
        };
        let relative_path = format!(
            "{directory}part-{:05}-{}-c000{codec}.parquet",
            self.files_started,
            uuid::Uuid::new_v4()
        );
        self.files_started += 1;
        let location = self.store.resolve_file(&log_path(&relative_path))?;
        let sink = self.sink(location);
        let encoder = ParallelEncoder::try_new(
            relative_path.clone(),
            sink,
            self.file_schema.clone(),
            self.config.properties.clone(),
        )?;
        let stats = StatsCollector::new(&self.data_schema, &[], &self.layout.stats)?;
        Ok(OpenFile {
            encoder,
            relative_path,
            stats,
            partition_values,
        })
    }

    /// The upload of a new file. Object stores buffer what a file's first part will hold (10 MiB)
    /// and upload parts of that size, several at once: held for every open partition, those
    /// buffers would outgrow the writer's budget. Local files need no large parts, so they are
    /// written a MiB at a time; remote stores keep their part size (S3 refuses parts under 5 MiB).
    fn sink(&self, location: object_store::path::Path) -> BufWriter {
        let store = self.store.object_store().clone();
        match self.store.root_url().scheme() {
            "file" => BufWriter::with_capacity(store, location, LOCAL_PART_BYTES).with_max_concurrency(2),
            _ => BufWriter::new(store, location),
        }
    }

    /// Rename columns to physical names (same data, other field names and ids).
    fn to_physical(&self, batch: &RecordBatch) -> DeltaResult<RecordBatch> {
        if !self.layout.column_mapping && batch.schema().fields() == self.file_schema.fields() {
            return Ok(batch.clone());
        }
        let columns = batch
            .columns()
            .iter()
            .zip(self.file_schema.fields())
            .map(|(c, f)| {
                Ok(make_array(
                    c.to_data().into_builder().data_type(f.data_type().clone()).build()?,
                ))
            })
            .collect::<DeltaResult<Vec<_>>>()?;
        Ok(RecordBatch::try_new(self.file_schema.clone(), columns)?)
    }
}

async fn close(store: &Arc<dyn LogStore>, file: OpenFile) -> DeltaResult<Add> {
    let OpenFile {
        encoder,
        relative_path,
        stats,
        partition_values,
    } = file;
    encoder.close().await?;
    let path = log_path(&relative_path);
    let location = store.resolve_file(&path)?;
    let meta = crate::storage::head(store.object_store().as_ref(), &location).await?;
    Ok(Add::new_file(
        path,
        partition_values,
        meta.size,
        meta.last_modified.timestamp_millis(),
        Some(stats.to_json()),
    ))
}

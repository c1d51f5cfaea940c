//! Parquet encoding of one data file, its columns encoded in parallel.
//!
//! Rows are gathered into chunks; the columns of a chunk are encoded by one task each on the CPU
//! pool while the caller prepares the next chunk (the tasks of the previous chunk are awaited only
//! when the next one is ready). A finished row group is assembled on the pool too and streamed to
//! the object store, so only the row group in progress is held in memory, as with `ArrowWriter`.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::RecordBatch;
use arrow::datatypes::{FieldRef, SchemaRef};
use bytes::Bytes;
use object_store::buffered::BufWriter;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use tokio::io::AsyncWriteExt;

use crate::cpu_pool;
use crate::error::{DeltaError, DeltaResult};

/// Rows are handed to the column encoders in chunks of at most this many bytes of Arrow data,
/// large enough that a task per column is cheap beside the work it does.
pub(super) const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// The smallest chunk a writer with many files open is given.
pub(super) const MIN_CHUNK_BYTES: usize = 512 * 1024;

/// The bytes of the file not yet sent to the object store.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Make room for `bytes` more, so a row group is copied in once, not regrown as it comes in.
    fn reserve(&self, bytes: usize) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).reserve(bytes);
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A column writer encoding a chunk on the CPU pool; it is handed back when done.
type Encoding = cpu_pool::Task<Result<ArrowColumnWriter, ParquetError>>;

/// Writes one Parquet file, encoding the columns of each row group in parallel.
pub(super) struct ParallelEncoder {
    path: String,
    /// `None` only while a row group is being assembled on a blocking thread.
    file: Option<SerializedFileWriter<SharedBuffer>>,
    buffer: SharedBuffer,
    factory: Arc<ArrowRowGroupWriterFactory>,
    fields: Vec<FieldRef>,
    sink: BufWriter,
    max_rows: usize,
    max_bytes: usize,
    /// Rows are encoded once this many bytes of them are gathered.
    chunk_bytes: usize,
    /// The column writers of the row group in progress, encoding its latest chunk (`None`
    /// before the row group's first chunk).
    columns: Option<Vec<Encoding>>,
    row_group_rows: usize,
    row_groups: usize,
    /// Encoded size of the row group in progress, as of the last chunk encoded.
    encoded: usize,
    /// Memory its column writers hold, as of the last chunk encoded: the encoded pages and what
    /// is not encoded yet (dictionaries and their keys).
    held: usize,
    /// Arrow size of the chunk being encoded.
    encoding_bytes: usize,
    /// Rows gathered for the next chunk, and their Arrow size.
    pending: Vec<RecordBatch>,
    pending_bytes: usize,
    /// Bytes handed to the object store.
    uploaded: usize,
}

impl ParallelEncoder {
    /// An encoder writing a file of `schema` with `properties` into `sink`; `path` names it in errors.
    pub(super) fn try_new(
        path: String,
        sink: BufWriter,
        schema: SchemaRef,
        properties: WriterProperties,
    ) -> DeltaResult<Self> {
        let max_rows = properties.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        let max_bytes = properties.max_row_group_bytes().unwrap_or(usize::MAX);
        let buffer = SharedBuffer::default();
        // The file writer of `ArrowWriter` carries the Arrow schema in its footer, as usual.
        let (file, factory) = ArrowWriter::try_new(buffer.clone(), schema.clone(), Some(properties))
            .and_then(ArrowWriter::into_serialized_writer)
            .map_err(|e| write_error(&path, e))?;
        Ok(Self {
            path,
            file: Some(file),
            buffer,
            factory: Arc::new(factory),
            fields: schema.fields().iter().cloned().collect(),
            sink,
            max_rows,
            max_bytes,
            chunk_bytes: MAX_CHUNK_BYTES,
            columns: None,
            row_group_rows: 0,
            row_groups: 0,
            encoded: 0,
            held: 0,
            encoding_bytes: 0,
            pending: Vec::new(),
            pending_bytes: 0,
            uploaded: 0,
        })
    }

    /// Add rows; they are encoded once a chunk is full or their row group ends.
    pub(super) async fn write(&mut self, batch: &RecordBatch) -> DeltaResult<()> {
        let mut rest = batch.clone();
        while rest.num_rows() > 0 {
            let room = self.max_rows - self.row_group_rows;
            let take = rest.num_rows().min(room);
            let head = rest.slice(0, take);
            rest = rest.slice(take, rest.num_rows() - take);
            self.row_group_rows += take;
            for column in head.columns() {
                self.pending_bytes += column.to_data().get_slice_memory_size()?;
            }
            self.pending.push(head);
            if self.row_group_rows >= self.max_rows {
                self.flush().await?;
            } else if self.pending_bytes >= self.chunk_bytes {
                self.encode_pending().await?;
                if self.encoded >= self.max_bytes {
                    self.flush().await?;
                }
            }
        }
        Ok(())
    }

    /// Encode rows once `bytes` of them are gathered (from the next rows on): a writer with many
    /// files open gives each smaller chunks, as every file holds up to two.
    pub(super) fn set_chunk_bytes(&mut self, bytes: usize) {
        self.chunk_bytes = bytes.max(1);
    }

    /// About how much memory the row group in progress holds: its column writers' and its rows'
    /// not encoded yet.
    pub(super) fn in_progress_memory(&self) -> usize {
        self.held + self.encoding_bytes + self.pending_bytes
    }

    /// About how many bytes the file will take with the row group in progress.
    pub(super) fn estimated_size(&self) -> usize {
        let in_progress = self.encoded + self.encoding_bytes + self.pending_bytes;
        self.uploaded + self.buffer.0.lock().map_or(0, |b| b.len()) + in_progress
    }

    /// Finish the row group in progress and send it to the object store.
    pub(super) async fn flush(&mut self) -> DeltaResult<()> {
        self.encode_pending().await?;
        let Some(columns) = self.columns.take() else {
            return Ok(());
        };
        let writers = self.settle(columns).await?;
        let mut file = self
            .file
            .take()
            .ok_or_else(|| self.failed("the file writer was lost"))?;
        let path = self.path.clone();
        let buffer = self.buffer.clone();
        let file = cpu_pool::spawn(move || {
            let chunks = writers
                .into_iter()
                .map(ArrowColumnWriter::close)
                .collect::<Result<Vec<ArrowColumnChunk>, _>>()?;
            let size: i64 = chunks.iter().map(|c| c.close().metadata.compressed_size()).sum();
            buffer.reserve(usize::try_from(size).unwrap_or(0));
            let mut row_group = file.next_row_group()?;
            for chunk in chunks {
                chunk.append_to_row_group(&mut row_group)?;
            }
            row_group.close()?;
            file.flush()?;
            Ok(file)
        })
        .await
        .map_err(|e| self.failed(e))?
        .map_err(|e: ParquetError| write_error(&path, e))?;
        self.file = Some(file);
        self.row_group_rows = 0;
        self.row_groups += 1;
        self.encoded = 0;
        self.held = 0;
        self.upload().await
    }

    /// Write the footer and complete the upload.
    pub(super) async fn close(mut self) -> DeltaResult<()> {
        self.flush().await?;
        let file = self
            .file
            .take()
            .ok_or_else(|| self.failed("the file writer was lost"))?;
        file.close().map_err(|e| write_error(&self.path, e))?;
        self.upload().await?;
        self.sink.shutdown().await.map_err(|e| self.failed(e))
    }

    /// Encode the gathered rows: one task on the CPU pool per column, left running until the next chunk.
    async fn encode_pending(&mut self) -> DeltaResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let writers = match self.columns.take() {
            Some(columns) => self.settle(columns).await?,
            None => self
                .factory
                .create_column_writers(self.row_groups)
                .map_err(|e| write_error(&self.path, e))?,
        };
        let batches = std::mem::take(&mut self.pending);
        self.encoding_bytes = std::mem::take(&mut self.pending_bytes);
        // The leaves of each batch, regrouped by column writer.
        let mut leaves: Vec<Vec<_>> = writers.iter().map(|_| Vec::with_capacity(batches.len())).collect();
        for batch in &batches {
            let mut writer_leaves = leaves.iter_mut();
            for (field, column) in self.fields.iter().zip(batch.columns()) {
                for leaf in compute_leaves(field, column).map_err(|e| write_error(&self.path, e))? {
                    writer_leaves
                        .next()
                        .ok_or_else(|| self.failed("more leaf columns than column writers"))?
                        .push(leaf);
                }
            }
        }
        let tasks = writers
            .into_iter()
            .zip(leaves)
            .map(|(mut writer, leaves)| {
                cpu_pool::spawn(move || {
                    for leaf in &leaves {
                        writer.write(leaf)?;
                    }
                    Ok(writer)
                })
            })
            .collect();
        self.columns = Some(tasks);
        Ok(())
    }

    /// The column writers once their encoding tasks are done; updates the encoded size.
    async fn settle(&mut self, tasks: Vec<Encoding>) -> DeltaResult<Vec<ArrowColumnWriter>> {
        let mut writers = Vec::with_capacity(tasks.len());
        for task in tasks {
            let writer = task.await.map_err(|e| self.failed(e))?;
            writers.push(writer.map_err(|e| write_error(&self.path, e))?);
        }
        self.encoded = writers.iter().map(ArrowColumnWriter::get_estimated_total_bytes).sum();
        self.held = writers.iter().map(ArrowColumnWriter::memory_size).sum();
        self.encoding_bytes = 0;
        Ok(writers)
    }

    /// Send the bytes written so far to the object store (without copying them).
    async fn upload(&mut self) -> DeltaResult<()> {
        let bytes = self.buffer.take();
        if bytes.is_empty() {
            return Ok(());
        }
        self.uploaded += bytes.len();
        self.sink.put(Bytes::from(bytes)).await.map_err(|e| self.failed(e))
    }

    fn failed(&self, reason: impl std::fmt::Display) -> DeltaError {
        DeltaError::invalid_data_file(&self.path, format!("cannot write: {reason}"))
    }
}

/// A Parquet encoding error while writing the file at `path`.
fn write_error(path: &str, e: ParquetError) -> DeltaError {
    DeltaError::invalid_data_file(path, format!("cannot write: {e}"))
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, Int32Array, Int64Array, ListArray, StringArray, StructArray};
    use arrow::datatypes::{DataType, Field, Int32Type};
    use object_store::memory::InMemory;
    use object_store::path::Path;
    use object_store::{ObjectStore, ObjectStoreExt};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn batch(first: i64, rows: i64) -> RecordBatch {
        let ids = first..first + rows;
        let nested = StructArray::from(vec![
            (
                Arc::new(Field::new("a", DataType::Int32, true)),
                Arc::new(Int32Array::from_iter(
                    ids.clone().map(|i| (i % 7 != 0).then_some(i as i32)),
                )) as ArrayRef,
            ),
            (
                Arc::new(Field::new("b", DataType::Utf8, true)),
                Arc::new(StringArray::from_iter_values(
                    ids.clone().map(|i| format!("v{}", i % 1000)),
                )) as ArrayRef,
            ),
        ]);
        let lists = ListArray::from_iter_primitive::<Int32Type, _, _>(
            ids.clone().map(|i| (i % 5 != 0).then(|| vec![Some(i as i32), None])),
        );
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from_iter_values(ids)) as ArrayRef),
            ("nested", Arc::new(nested) as ArrayRef),
            ("list", Arc::new(lists) as ArrayRef),
        ])
        .unwrap()
    }

    #[tokio::test]
    async fn chunks_and_row_groups_encoded_in_parallel_read_back_unchanged() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("file.parquet");
        let batches: Vec<_> = (0..10).map(|b| batch(b * 60_000, 60_000)).collect();
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(250_000))
            .build();
        let sink = BufWriter::new(store.clone(), path.clone());
        let mut encoder =
            ParallelEncoder::try_new("file.parquet".into(), sink, batches[0].schema(), properties).unwrap();
        for b in &batches {
            encoder.write(b).await.unwrap();
            assert!(encoder.estimated_size() > 0);
        }
        encoder.close().await.unwrap();

        let bytes = store.get(&path).await.unwrap().bytes().await.unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
        let row_groups: Vec<i64> = reader.metadata().row_groups().iter().map(|rg| rg.num_rows()).collect();
        assert_eq!(row_groups, vec![250_000, 250_000, 100_000]);
        assert_eq!(reader.schema().fields(), batches[0].schema().fields());
        let read: Vec<RecordBatch> = reader.build().unwrap().collect::<Result<_, _>>().unwrap();
        let expected = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        let actual = arrow::compute::concat_batches(&batches[0].schema(), &read).unwrap();
        assert_eq!(actual, expected);
    }
}

//! Arrow record batch streams across the boundary: a blocking reader over an async stream, the
//! Arrow C stream interface out and in, and the pump that feeds a blocking reader to the writer.

use std::sync::Arc;
use std::thread::JoinHandle;

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use futures::StreamExt;
use tokio::runtime::Runtime;

use super::runtime::{refuse_nested, runtime};
use crate::error::{DeltaError, DeltaResult};
use crate::operations::write::InputStream;
use crate::scan::RecordBatchStream;

/// A synchronous [`RecordBatchReader`] over an async batch stream: each `next` drives the stream
/// on the process's runtime until it yields a batch. Errors of the core travel inside
/// [`ArrowError::ExternalError`] and come back out with [`DeltaError::from`].
pub struct BlockingReader {
    schema: SchemaRef,
    stream: RecordBatchStream,
    runtime: Arc<Runtime>,
}

impl std::fmt::Debug for BlockingReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingReader").field("schema", &self.schema).finish()
    }
}

impl BlockingReader {
    /// A reader of `stream`, whose batches have `schema`.
    pub fn new(schema: SchemaRef, stream: RecordBatchStream) -> DeltaResult<Self> {
        Ok(Self {
            schema,
            stream,
            runtime: runtime()?,
        })
    }

    /// A reader over batches already in memory.
    pub fn from_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> DeltaResult<Self> {
        Self::new(schema, futures::stream::iter(batches.into_iter().map(Ok)).boxed())
    }

    /// Export the reader through the Arrow C stream interface; the consumer owns the result and
    /// releases it.
    pub fn into_ffi(self) -> FFI_ArrowArrayStream {
        FFI_ArrowArrayStream::new(Box::new(self))
    }
}

impl Iterator for BlockingReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = refuse_nested() {
            return Some(Err(ArrowError::ExternalError(Box::new(e))));
        }
        let next = self.runtime.block_on(self.stream.next())?;
        Some(next.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for BlockingReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// A reader of an Arrow C stream handed in by a foreign caller (a PyCapsule's stream, a C
/// `struct ArrowArrayStream`, ...); the stream is moved out of `stream`, which is left released.
///
/// # Safety
/// `stream` must point to a valid, not yet released `FFI_ArrowArrayStream`.
pub unsafe fn import_ffi_stream(stream: *mut FFI_ArrowArrayStream) -> DeltaResult<RecordBatchStreamReader> {
    if stream.is_null() {
        return Err(DeltaError::InvalidArgument("the Arrow stream is a null pointer".into()));
    }
    // SAFETY: the caller guarantees a valid stream; `from_raw` moves it and marks the original
    // released, so the producer's release callback runs exactly once, when the reader is dropped.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(stream) };
    RecordBatchStreamReader::try_new(stream)
        .map_err(|e| DeltaError::InvalidArgument(format!("invalid Arrow stream: {e}")))
}

/// The writer's input, read from a blocking reader on a thread of its own.
#[derive(Debug)]
pub struct Pump {
    thread: JoinHandle<()>,
}

impl Pump {
    /// Read `reader` on a new thread and hand its batches to the returned stream through a small
    /// channel, so a producer that blocks (a Python generator, a foreign C stream, a stream of
    /// this crate driving the runtime) never runs on the runtime's workers. The thread stops
    /// after the batch it is reading once the stream is dropped.
    pub fn start<R>(reader: R) -> DeltaResult<(SchemaRef, InputStream, Pump)>
    where
        R: RecordBatchReader + Send + 'static,
    {
        let schema = reader.schema();
        let (sender, receiver) = tokio::sync::mpsc::channel(2);
        let thread = std::thread::Builder::new()
            .name("deltalake-input".into())
            .spawn(move || {
                for batch in reader {
                    if sender.blocking_send(batch.map_err(DeltaError::from)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| DeltaError::NotSupported(format!("cannot start the input thread: {e}")))?;
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|batch| (batch, receiver))
        })
        .boxed();
        Ok((schema, stream, Pump { thread }))
    }

    /// Wait for the reading thread to stop (call after the stream is dropped).
    pub fn finish(self) -> DeltaResult<()> {
        self.thread.join().map_err(|_| {
            DeltaError::Arrow(ArrowError::ExternalError(
                "the thread reading the input data panicked".into(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use futures::TryStreamExt;

    use super::*;
    use crate::bindings::block_on;

    fn batch(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
    }

    #[test]
    fn round_trips_through_the_c_stream_interface() {
        let batches = vec![batch(&[1, 2]), batch(&[3])];
        let reader = BlockingReader::from_batches(batches[0].schema(), batches.clone()).unwrap();
        let mut ffi = reader.into_ffi();
        let imported = unsafe { import_ffi_stream(&mut ffi) }.unwrap();
        let read: Vec<_> = imported.collect::<Result<_, _>>().unwrap();
        assert_eq!(read, batches);
        assert!(unsafe { import_ffi_stream(std::ptr::null_mut()) }.is_err());
    }

    #[test]
    fn errors_of_the_core_cross_the_stream_intact() {
        let schema = batch(&[]).schema();
        let failing = futures::stream::iter([Err(DeltaError::InvalidArgument("bad row".into()))]).boxed();
        let mut reader = BlockingReader::new(schema, failing).unwrap();
        let err = DeltaError::from(reader.next().unwrap().unwrap_err());
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidArgument);
        assert!(reader.next().is_none());
    }

    #[test]
    fn refuses_to_be_read_inside_a_runtime() {
        let b = batch(&[1]);
        let mut reader = BlockingReader::from_batches(b.schema(), vec![b]).unwrap();
        let err = runtime()
            .unwrap()
            .block_on(async { reader.next() })
            .unwrap()
            .unwrap_err();
        assert_eq!(DeltaError::from(err).kind(), crate::error::ErrorKind::NotSupported);
        assert_eq!(reader.next().unwrap().unwrap().num_rows(), 1);
    }

    #[test]
    fn pump_feeds_the_writer_and_stops_when_dropped() {
        let batches: Vec<_> = (0..10).map(|i| batch(&[i])).collect();
        let reader = arrow::array::RecordBatchIterator::new(batches.clone().into_iter().map(Ok), batches[0].schema());
        let (schema, stream, pump) = Pump::start(reader).unwrap();
        assert_eq!(schema, batches[0].schema());
        let read: Vec<_> = block_on(stream.try_collect::<Vec<_>>()).unwrap().unwrap();
        assert_eq!(read, batches);
        pump.finish().unwrap();

        let endless = std::iter::repeat_with(|| Ok(batch(&[1])));
        let reader = arrow::array::RecordBatchIterator::new(endless, batch(&[]).schema());
        let (_, mut stream, pump) = Pump::start(reader).unwrap();
        block_on(stream.next()).unwrap().unwrap().unwrap();
        drop(stream);
        pump.finish().unwrap();
    }
}

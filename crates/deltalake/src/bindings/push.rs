//! A write fed one batch at a time by a caller that has no stream of its own to hand over (a C
//! program filling Arrow arrays in a loop).

use std::thread::JoinHandle;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::requests::{WriteRequest, WriteTarget};
use super::runtime::{block_on, large_stack_thread, refuse_nested};
use crate::DeltaTable;
use crate::error::{DeltaError, DeltaResult};

/// A write whose batches are pushed in by the caller. The write runs on a thread of its own and
/// takes the batches through a small channel, so it encodes and uploads one batch while the caller
/// builds the next; [`PushWrite::push`] blocks while the writer is two batches behind. Nothing is
/// committed until [`PushWrite::finish`]; a `PushWrite` dropped before that commits nothing.
/// For blocking hosts: `push` refuses to run inside an async runtime.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{Int64Array, RecordBatch};
/// use arrow::datatypes::{DataType, Field, Schema};
/// use deltalake::bindings::{PushWrite, WriteRequest, WriteTarget};
///
/// let dir = tempfile::tempdir().unwrap();
/// let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
/// let target = WriteTarget::Location { uri: dir.path().to_str().unwrap().into(), storage_options: Default::default() };
/// let mut write = PushWrite::start(WriteRequest::default(), target, schema.clone()).unwrap();
/// for first in [0i64, 10] {
///     let ids = Int64Array::from_iter_values(first..first + 10);
///     write.push(RecordBatch::try_new(schema.clone(), vec![Arc::new(ids)]).unwrap()).unwrap();
/// }
/// let table = write.finish().unwrap();
/// assert_eq!(table.version(), 0);
/// ```
#[derive(Debug)]
pub struct PushWrite {
    schema: SchemaRef,
    sender: Option<mpsc::Sender<DeltaResult<RecordBatch>>>,
    worker: Option<JoinHandle<DeltaResult<DeltaTable>>>,
}

impl PushWrite {
    /// Start writing batches of `schema` into `target`.
    pub fn start(request: WriteRequest, target: WriteTarget, schema: SchemaRef) -> DeltaResult<Self> {
        let (sender, receiver) = mpsc::channel(2);
        let input = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|batch| (batch, receiver))
        })
        .boxed();
        let write_schema = schema.clone();
        let worker = large_stack_thread()
            .spawn(move || block_on(request.execute(target, write_schema, input))?)
            .map_err(|e| DeltaError::NotSupported(format!("cannot start the write's thread: {e}")))?;
        Ok(Self {
            schema,
            sender: Some(sender),
            worker: Some(worker),
        })
    }

    /// The schema the batches must have.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Hand over one batch. A batch of another schema is refused (the write goes on); when the
    /// write itself has failed, its error is returned and the write is over.
    pub fn push(&mut self, batch: RecordBatch) -> DeltaResult<()> {
        refuse_nested()?;
        if batch.schema().fields() != self.schema.fields() {
            return Err(DeltaError::Schema(format!(
                "the batch's schema {} is not the write's {}",
                batch.schema(),
                self.schema
            )));
        }
        let sender = self.sender.as_ref().ok_or_else(over)?;
        if sender.blocking_send(Ok(batch)).is_err() {
            // The writer stopped reading: it failed.
            self.sender = None;
            return Err(self.join().err().unwrap_or_else(over));
        }
        Ok(())
    }

    /// End the input and wait for the write to commit; the table at its new version.
    pub fn finish(mut self) -> DeltaResult<DeltaTable> {
        self.sender = None;
        self.join()
    }

    fn join(&mut self) -> DeltaResult<DeltaTable> {
        let worker = self.worker.take().ok_or_else(over)?;
        worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl Drop for PushWrite {
    /// Abandon an unfinished write: the writer gets an error instead of the end of its input, so it
    /// commits nothing; wait for it to stop.
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take()
            && let Err(mpsc::error::TrySendError::Full(abandon)) = sender.try_send(Err(DeltaError::Cancelled))
        {
            // The writer is behind: wait for room, on a thread of its own (never on a runtime's).
            std::thread::scope(|scope| {
                scope.spawn(move || sender.blocking_send(abandon));
            });
        }
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn over() -> DeltaError {
    DeltaError::InvalidArgument("the write is over: it failed or was finished".into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]))
    }

    fn ids(range: std::ops::Range<i64>) -> RecordBatch {
        RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from_iter_values(range))]).unwrap()
    }

    fn target(dir: &tempfile::TempDir) -> WriteTarget {
        WriteTarget::Location {
            uri: dir.path().to_str().unwrap().into(),
            storage_options: Default::default(),
        }
    }

    fn count(table: &DeltaTable) -> usize {
        let batches = block_on(async { table.scan().build()?.collect().await })
            .unwrap()
            .unwrap();
        batches.iter().map(RecordBatch::num_rows).sum()
    }

    #[test]
    fn pushed_batches_commit_once_finished() {
        let dir = tempfile::tempdir().unwrap();
        let mut write = PushWrite::start(WriteRequest::default(), target(&dir), schema()).unwrap();
        for i in 0..5 {
            write.push(ids(i * 100..(i + 1) * 100)).unwrap();
        }
        // A batch of another schema is refused and the write goes on.
        let other = RecordBatch::try_from_iter([("id", Arc::new(StringArray::from(vec!["x"])) as _)]).unwrap();
        assert!(matches!(write.push(other), Err(DeltaError::Schema(_))));
        let table = write.finish().unwrap();
        assert_eq!((table.version(), count(&table)), (0, 500));
    }

    #[test]
    fn an_abandoned_write_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut write = PushWrite::start(WriteRequest::default(), target(&dir), schema()).unwrap();
        write.push(ids(0..10)).unwrap();
        drop(write);
        assert!(
            !block_on(DeltaTable::exists(dir.path().to_str().unwrap(), Default::default()))
                .unwrap()
                .unwrap()
        );
    }

    #[test]
    fn a_failed_write_reports_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let request = WriteRequest {
            partition_by: Some(vec!["missing".into()]),
            ..Default::default()
        };
        let mut write = PushWrite::start(request, target(&dir), schema()).unwrap();
        let mut error = None;
        for i in 0..10 {
            if let Err(e) = write.push(ids(i..i + 1)) {
                error = Some(e);
                break;
            }
        }
        let error = match error {
            Some(e) => e,
            None => write.finish().unwrap_err(),
        };
        assert!(error.to_string().contains("missing"), "{error}");
    }
}

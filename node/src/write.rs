//! Writes streamed from JavaScript: Arrow IPC bytes pushed chunk by chunk (each Promise resolves
//! once the writer took the batches, so a fast producer waits for a slow writer), decoded with
//! the facade's `IpcDecoder` and fed through a small channel into the core's writer.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use deltalake::bindings::{CancellationToken, IpcDecoder, WriteRequest, WriteTarget, cancellable, read_ipc};
use deltalake::{DeltaError, DeltaResult, DeltaTable};
use futures::StreamExt;
use napi::bindgen_prelude::{Buffer, Object};
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::{Mutex, mpsc};

use crate::error::to_napi;
use crate::table::{CommitSettings, RawTable, TableSlot, WriterSettings, commit_options, writer_options};
use crate::task::{on_thread, promise_of};

/// The options of a write.
#[napi(object)]
#[derive(Default)]
pub struct WriteOptions {
    /// `error` (default), `append`, `overwrite` or `ignore`.
    pub mode: Option<String>,
    /// `merge` or `overwrite` to let the data change the table's schema.
    pub schema_mode: Option<String>,
    /// Partition columns of a new table.
    pub partition_by: Option<Vec<String>>,
    /// Name of a new table.
    pub name: Option<String>,
    /// Description of a new table.
    pub description: Option<String>,
    /// Table properties of a new table.
    pub configuration: Option<HashMap<String, String>>,
    /// With `overwrite`, replace only the rows matching this SQL predicate.
    pub predicate: Option<String>,
    /// Storage options of a table given by URI.
    pub storage_options: Option<HashMap<String, String>>,
    /// Parquet settings.
    pub writer: Option<WriterSettings>,
    /// Commit settings.
    pub commit: Option<CommitSettings>,
}

/// One write in progress: push Arrow IPC bytes, then finish.
#[napi]
pub struct RawWriter {
    state: Arc<Mutex<State>>,
    decoder: Arc<SharedDecoder>,
    slot: Option<Arc<TableSlot>>,
    cancel: CancellationToken,
}

enum State {
    /// No schema seen yet: the write starts with the first batch's schema.
    Waiting(Box<(WriteRequest, WriteTarget)>),
    /// The writer is running.
    Running(Running),
    /// Finished or failed.
    Done,
}

struct Running {
    schema: SchemaRef,
    sender: mpsc::Sender<DeltaResult<RecordBatch>>,
    task: Pin<Box<dyn Future<Output = DeltaResult<DeltaTable>> + Send>>,
}

impl RawWriter {
    /// Start the write of batches of `schema`.
    fn start(
        request: WriteRequest,
        target: WriteTarget,
        schema: SchemaRef,
        cancel: CancellationToken,
    ) -> DeltaResult<Running> {
        let (sender, mut receiver) = mpsc::channel(2);
        let input = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed();
        let write_schema = schema.clone();
        let task = Box::pin(on_thread(None, move || async move {
            cancellable(request.execute(target, write_schema, input), &cancel).await?
        }));
        Ok(Running { schema, sender, task })
    }
}

/// Decoded batches from one push.
struct Pushed {
    schema: Option<SchemaRef>,
    batches: Vec<RecordBatch>,
}

#[napi]
impl RawWriter {
    /// A write into `table` (its loaded snapshot is reused, and it moves to the new version) or
    /// into the table at `uri`.
    #[napi(constructor)]
    pub fn new(table: Option<&RawTable>, uri: Option<String>, options: Option<WriteOptions>) -> Result<Self> {
        let options = options.unwrap_or_default();
        let request = WriteRequest {
            mode: options.mode.as_deref().unwrap_or("error").parse().map_err(to_napi)?,
            schema_mode: match options.schema_mode.as_deref() {
                Some(mode) => mode.parse().map_err(to_napi)?,
                None => Default::default(),
            },
            partition_by: options.partition_by,
            configuration: options.configuration.unwrap_or_default(),
            name: options.name,
            description: options.description,
            predicate: options.predicate,
            writer: writer_options(options.writer).unwrap_or_default(),
            commit: commit_options(options.commit)?,
        };
        let (target, slot) = match (table, uri) {
            (Some(table), _) => (
                WriteTarget::Table(table.current().map_err(to_napi)?),
                Some(table.slot()),
            ),
            (None, Some(uri)) => (
                WriteTarget::Location {
                    uri,
                    storage_options: options.storage_options.unwrap_or_default(),
                },
                None,
            ),
            (None, None) => {
                return Err(to_napi(DeltaError::InvalidArgument(
                    "a table or a URI is needed".into(),
                )));
            }
        };
        Ok(Self {
            state: Arc::new(Mutex::new(State::Waiting(Box::new((request, target))))),
            decoder: Arc::new(std::sync::Mutex::new(Some(IpcDecoder::new()))),
            slot: slot.map(Arc::new),
            cancel: CancellationToken::new(),
        })
    }

    /// Take `chunk`: a whole IPC stream (`whole`, as `tableToIPC` makes one per batch) or the
    /// next piece of one stream that runs across pushes. Resolves once the writer has taken
    /// its batches.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn push<'env>(&self, env: &'env Env, chunk: Buffer, whole: bool) -> Result<Object<'env>> {
        // The batches decoded from it view the JavaScript buffer's memory: no copy.
        let bytes = Bytes::from_owner(chunk);
        let state = self.state.clone();
        let decoder = self.decoder.clone();
        let cancel = self.cancel.clone();
        promise_of(env, None, async move {
            let mut guard = state.lock().await;
            let pushed = match whole {
                true => read_ipc(bytes).map(|(schema, batches)| Pushed {
                    schema: Some(schema),
                    batches,
                }),
                false => decode(&decoder, bytes),
            };
            let pushed = match pushed {
                Ok(pushed) => pushed,
                Err(err) => {
                    fail(&mut guard).await;
                    return Err(err);
                }
            };
            if let State::Waiting(_) = &*guard {
                let Some(schema) = pushed.schema.clone() else {
                    return Ok(());
                };
                let State::Waiting(waiting) = std::mem::replace(&mut *guard, State::Done) else {
                    return Ok(());
                };
                let (request, target) = *waiting;
                *guard = State::Running(RawWriter::start(request, target, schema, cancel)?);
            }
            let State::Running(running) = &mut *guard else {
                return Err(DeltaError::InvalidArgument("the write has ended".into()));
            };
            if let Some(schema) = &pushed.schema
                && !same_columns(schema, &running.schema)
            {
                let message = format!(
                    "a batch's schema differs from the first batch's: {schema:?} is not {:?}",
                    running.schema
                );
                fail(&mut guard).await;
                return Err(DeltaError::schema(message));
            }
            for batch in pushed.batches {
                if running.sender.send(Ok(batch)).await.is_err() {
                    // The writer stopped early: its error says why.
                    return Err(fail(&mut guard).await.unwrap_or(DeltaError::Cancelled));
                }
            }
            Ok(())
        })
    }

    /// End the input and commit; resolves to the new version.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn finish<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let state = self.state.clone();
        let decoder = self.decoder.clone();
        let slot = self.slot.clone();
        promise_of(env, None, async move {
            let mut guard = state.lock().await;
            if let Err(err) = end(&decoder) {
                fail(&mut guard).await;
                return Err(err);
            }
            let running = match std::mem::replace(&mut *guard, State::Done) {
                State::Running(running) => running,
                State::Waiting(_) => {
                    return Err(DeltaError::InvalidArgument(
                        "no data to write: the input held no Arrow schema".into(),
                    ));
                }
                State::Done => return Err(DeltaError::InvalidArgument("the write has ended".into())),
            };
            drop(running.sender);
            let table = running.task.await?;
            let version = table.version();
            if let Some(slot) = slot {
                slot.set(table);
            }
            Ok(version)
        })
    }

    /// Stop the write; nothing is committed.
    #[napi]
    pub fn abort(&self) {
        self.cancel.cancel();
    }
}

/// Stop a running write (its input ends with an error) and return the writer's error, if any.
async fn fail(state: &mut State) -> Option<DeltaError> {
    let State::Running(running) = std::mem::replace(state, State::Done) else {
        return None;
    };
    let _ = running
        .sender
        .send(Err(DeltaError::InvalidArgument("the write was abandoned".into())))
        .await;
    drop(running.sender);
    running.task.await.err()
}

fn same_columns(a: &SchemaRef, b: &SchemaRef) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

type SharedDecoder = std::sync::Mutex<Option<IpcDecoder>>;

/// Decode the next piece of a stream that runs across pushes; the schema is returned with the
/// piece that completes it.
fn decode(decoder: &SharedDecoder, bytes: Bytes) -> DeltaResult<Pushed> {
    let mut guard = decoder.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let decoder = guard
        .as_mut()
        .ok_or_else(|| DeltaError::InvalidArgument("the Arrow stream has ended".into()))?;
    let had_schema = decoder.schema().is_some();
    let batches = decoder.push(bytes)?;
    Ok(Pushed {
        schema: if had_schema { None } else { decoder.schema() },
        batches,
    })
}

/// Check that a stream pushed in pieces ended on a message boundary.
fn end(decoder: &SharedDecoder) -> DeltaResult<()> {
    let mut guard = decoder.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match guard.take() {
        Some(decoder) if decoder.schema().is_some() => decoder.finish(),
        _ => Ok(()),
    }
}

//! The face of the crate that language bindings (Python, Ruby, Node, the C ABI and Go) are
//! built on, so that each binding only translates types: see `docs/bindings.md`.
//!
//! - [`runtime`](self::runtime): one Tokio runtime per process (a forked child gets its own),
//!   [`block_on`], [`block_on_interruptible`] with a host's interrupt check, and a
//!   [`CancellationToken`] for hosts that cancel from another thread; [`on_large_stack`] and
//!   [`spawn_on_large_stack`] run an operation on a thread whose stack fits its future.
//! - Streams: [`BlockingReader`] turns a scan into a synchronous `RecordBatchReader` and an
//!   Arrow C stream ([`BlockingReader::into_ffi`]); [`import_ffi_stream`] and [`Pump`] take a
//!   host's Arrow C stream as a writer's input; [`PushWrite`] takes batches one at a time from a
//!   host with no stream to hand over; [`ipc_chunks`], [`IpcDecoder`] and [`read_ipc`]
//!   do the same with Arrow IPC bytes.
//! - Requests: every operation as plain values ([`WriteRequest`], [`MergeRequest`] with
//!   [`MergeClause`]s, [`OptimizeRequest`], ...) with [`WriterOptions`] and [`CommitOptions`].
//! - Logs: [`init_logging`] shows the core's progress on standard error (`RUST_LOG`).
//! - Results: [`metrics_json`] (the `deltalake` PyPI package's keys), [`FileListing`], and errors
//!   classified by [`DeltaError::kind`](crate::DeltaError::kind).
//!
//! ```
//! use deltalake::bindings::{self, WriteRequest, WriteTarget};
//! use deltalake::operations::write::SaveMode;
//!
//! # fn main() -> deltalake::DeltaResult<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let uri = dir.path().to_str().unwrap().to_string();
//! let batch = arrow::array::RecordBatch::try_from_iter([(
//!     "id",
//!     std::sync::Arc::new(arrow::array::Int64Array::from(vec![1, 2, 3])) as arrow::array::ArrayRef,
//! )])?;
//! // What a binding does with its host's arguments: plain values in, a blocking call.
//! let request = WriteRequest { mode: "overwrite".parse::<SaveMode>()?, ..Default::default() };
//! let target = WriteTarget::Location { uri: uri.clone(), storage_options: Default::default() };
//! let input = futures::StreamExt::boxed(futures::stream::iter([Ok(batch.clone())]));
//! let table = bindings::block_on(request.execute(target, batch.schema(), input))??;
//! assert_eq!(table.version(), 0);
//!
//! // And a scan handed out as a blocking Arrow reader (or an Arrow C stream with `into_ffi`).
//! let scan = table.scan().build()?;
//! let reader = bindings::BlockingReader::new(scan.schema(), scan.execute())?;
//! let rows: usize = reader.map(|b| b.map(|b| b.num_rows())).sum::<Result<_, _>>()?;
//! assert_eq!(rows, 3);
//! # Ok(()) }
//! ```

mod external;
mod files;
mod filesystem;
mod ipc;
mod logging;
mod metrics;
mod options;
mod post_commit;
mod push;
mod requests;
pub mod runtime;
mod schema;
mod stream;
mod version;

pub use crate::transaction::check_custom_metadata;
pub use external::{CreateWithFilesRequest, ExternalFile, WriteFilesRequest};
pub use files::{FileListing, decoded_path, location_of};
pub use filesystem::{Entry, EntryKind, TableFileSystem};
pub use ipc::{IpcDecoder, IpcEncoder, ipc_chunks, read_ipc};
pub use logging::{DEFAULT_LOG_FILTER, init_logging};
pub use metrics::{camel_case_keys, metrics_json};
pub use options::{BloomFilterOptions, ColumnOptions, CommitOptions, WriterOptions};
pub use post_commit::cleanup_expired_logs;
pub use push::PushWrite;
pub use requests::{
    AlterRequest, CreateMode, CreateRequest, DeleteRequest, Filter, MergeClause, MergeClauseKind, MergeRequest,
    OptimizeRequest, RepairRequest, RestoreRequest, RestoreTarget, UpdateRequest, VacuumRequest, WriteRequest,
    WriteTarget,
};
pub use runtime::{
    CancellationToken, OPERATION_STACK_SIZE, block_on, block_on_interruptible, cancellable, on_large_stack, runtime,
    spawn_on_large_stack,
};
pub use schema::invariants;
pub use stream::{BlockingReader, Pump, import_ffi_stream};
pub use version::CORE_VERSION;

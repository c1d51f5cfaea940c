//! The native addon of the `deltalake` npm package: Delta tables for Node.js on the core's
//! binding facade (`deltalake::bindings`). The JavaScript wrapper (`index.js`) gives the public
//! API; this crate only translates values between JavaScript and the facade.
//!
//! Every call that reads or writes storage returns a Promise whose work runs on the core's Tokio
//! runtime, never on the JavaScript thread; the result is converted back on the JavaScript thread.

mod error;
mod stream;
mod table;
mod task;
mod write;

pub use stream::RawStream;
pub use table::RawTable;
pub use task::AbortToken;
pub use write::RawWriter;

use deltalake::bindings::{DEFAULT_LOG_FILTER, init_logging as init_core_logging};
use napi_derive::napi;

/// Logs the core's progress to standard error (`initLogging` in index.js); false when the process
/// already logs.
#[napi]
pub fn init_logging() -> bool {
    init_core_logging(DEFAULT_LOG_FILTER)
}

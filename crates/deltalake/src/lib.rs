//! A native Rust implementation of the [Delta Lake](https://delta.io) table format.
//!
//! Open a table with [`DeltaTable::open`] (or [`DeltaTable::builder`] for a version, a timestamp or
//! storage options), look at its [`Snapshot`], and read it with [`DeltaTable::scan`] as a stream
//! of Arrow record batches.

mod add_actions;
mod arrow_utils;
pub mod bindings;
pub mod clustering;
mod cpu_pool;
#[cfg(feature = "datafusion")]
pub mod datafusion;
pub mod error;
pub mod expr;
pub mod log;
pub mod operations;
pub mod protocol;
pub mod scan;
pub mod snapshot;
pub mod storage;
pub mod table;
mod telemetry;
pub mod transaction;
pub mod write;

pub use error::{DeltaError, DeltaResult};
pub use expr::{Expr, col, lit};
pub use scan::{Scan, ScanBuilder};
pub use snapshot::Snapshot;
pub use table::{DeltaTable, DeltaTableBuilder};

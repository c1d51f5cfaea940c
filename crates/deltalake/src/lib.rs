//! A native Rust implementation of the [Delta Lake](https://delta.io) table format.
//!
//! Open a table with [`DeltaTable::open`] (or [`DeltaTable::builder`] for a version, a timestamp or
//! storage options), look at its [`Snapshot`], and read it with [`DeltaTable::scan`] as a stream
//! of Arrow record batches.
//!
//! The public surface is what users and bindings need: [`table`] and [`snapshot`] (with the
//! snapshot's columnar file list), [`scan`], [`operations`] (one builder per operation, and the
//! writer's [`WriterConfig`](operations::write::WriterConfig)), [`transaction`] (commits of
//! actions a caller built), [`protocol`] (actions, schema, table configuration), [`storage`],
//! [`expr`], [`error`] and the [`bindings`] facade. How the log is listed, replayed and
//! checkpointed, and how Parquet files are encoded, stay inside the crate; every type that a
//! public item hands out can be named from one of the modules above (`unnameable_types` is
//! denied).

#![warn(unnameable_types)]

mod add_actions;
mod arrow_utils;
pub mod bindings;
pub mod clustering;
mod cpu_pool;
#[cfg(feature = "datafusion")]
pub mod datafusion;
pub mod error;
pub mod expr;
mod log;
pub mod operations;
pub mod protocol;
pub mod scan;
pub mod snapshot;
pub mod storage;
pub mod table;
mod telemetry;
pub mod transaction;
mod write;

pub use error::{DeltaError, DeltaResult};
pub use expr::{Expr, col, lit};
pub use scan::{Scan, ScanBuilder};
pub use snapshot::Snapshot;
pub use table::{DeltaTable, DeltaTableBuilder};

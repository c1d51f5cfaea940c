//! SQL over Delta tables with [DataFusion](https://datafusion.apache.org) (cargo feature
//! `datafusion`).
//!
//! [`DeltaTableProvider`] is a DataFusion table reading a Delta table through the crate's own
//! scan (file skipping, deletion vectors, column mapping, partition values);
//! [`DeltaSessionExt::register_delta`] registers one in a `SessionContext`. DataFusion is built on
//! an older arrow-rs than this crate: [`bridge`] moves schemas and batches between the two without
//! copying data.
//!
//! ```no_run
//! # async fn example() -> deltalake::DeltaResult<()> {
//! use datafusion::prelude::SessionContext;
//! use deltalake::datafusion::DeltaSessionExt;
//!
//! let ctx = SessionContext::new();
//! ctx.register_delta("trips", &deltalake::DeltaTable::open("path/to/trips").await?)?;
//! ctx.register_delta("zones", &deltalake::DeltaTable::open("path/to/zones").await?)?;
//! let batches = ctx
//!     .sql("SELECT z.name, count(*) FROM trips t JOIN zones z ON t.zone = z.id GROUP BY z.name")
//!     .await?
//!     .collect()
//!     .await?;
//! # Ok(()) }
//! ```

pub mod bridge;
mod exec;
mod filter;
mod provider;

use std::sync::Arc;

use datafusion::prelude::SessionContext;

pub use exec::DeltaScanExec;
pub use provider::DeltaTableProvider;

use crate::error::DeltaResult;
use crate::table::DeltaTable;

/// Delta tables in a DataFusion [`SessionContext`].
pub trait DeltaSessionExt {
    /// Make the loaded version of `table` queryable as `name` (replacing a table of that name).
    fn register_delta(&self, name: &str, table: &DeltaTable) -> DeltaResult<()>;
}

impl DeltaSessionExt for SessionContext {
    fn register_delta(&self, name: &str, table: &DeltaTable) -> DeltaResult<()> {
        let provider = Arc::new(DeltaTableProvider::try_new(table)?);
        self.deregister_table(name)?;
        self.register_table(name, provider)?;
        Ok(())
    }
}

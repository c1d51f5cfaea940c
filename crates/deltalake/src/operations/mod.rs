//! Table operations, each a builder that ends in one transaction.

pub mod create;
pub mod restore;
pub mod write;

use std::sync::Arc;

use crate::error::DeltaResult;
use crate::snapshot::Snapshot;
use crate::storage::LogStore;
use crate::table::DeltaTable;

/// The table at `version`, just committed on top of `read` (replaying only the new commits when the
/// operation read a snapshot).
pub(crate) async fn table_after_commit(
    store: Arc<dyn LogStore>,
    read: Option<Arc<Snapshot>>,
    version: i64,
) -> DeltaResult<DeltaTable> {
    if let Some(read) = read
        && let Some(next) = read.advance(store.as_ref(), Some(version)).await?
    {
        return Ok(DeltaTable::from_parts(store, Arc::new(next)));
    }
    DeltaTable::open_with(store, Some(version)).await
}

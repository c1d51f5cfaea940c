//! Table operations, each a builder that ends in one transaction.

pub mod alter;
mod assign;
mod columns;
pub mod convert;
pub mod create;
pub mod delete;
pub mod filesystem_check;
mod generate;
mod key_map;
mod matching;
pub mod merge;
pub mod optimize;
pub mod restore;
mod rewrite;
pub mod update;
pub mod vacuum;
pub mod write;

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};

use crate::error::{DeltaError, DeltaResult};
use crate::snapshot::Snapshot;
use crate::storage::LogStore;
use crate::table::DeltaTable;

pub(crate) use generate::generate_symlink_manifests;

/// The table at `version`, just committed on top of `read` (replaying only the new commits, without
/// listing the log, when the operation read a snapshot).
pub(crate) async fn table_after_commit(
    store: Arc<dyn LogStore>,
    read: Option<Arc<Snapshot>>,
    version: i64,
) -> DeltaResult<DeltaTable> {
    match read {
        Some(read) if read.version() < version => {
            let next = read.advance_to_committed(store.as_ref(), version).await?;
            Ok(DeltaTable::from_parts(store, Arc::new(next)))
        }
        _ => DeltaTable::open_with(store, Some(version)).await,
    }
}

/// The paths (as in the log) among `paths` whose data files do not exist, in no particular order.
pub(crate) async fn missing_files<'a>(
    store: &dyn LogStore,
    paths: impl Iterator<Item = &'a str>,
) -> DeltaResult<Vec<String>> {
    let locations = paths
        .map(|p| store.resolve_file(p).map(|l| (p.to_string(), l)))
        .collect::<DeltaResult<Vec<_>>>()?;
    let objects = store.object_store();
    futures::stream::iter(locations)
        .map(|(path, location)| async move {
            match crate::storage::head(objects.as_ref(), &location).await {
                Ok(_) => Ok(None),
                Err(object_store::Error::NotFound { .. }) => Ok(Some(path)),
                Err(e) => Err(DeltaError::from(e)),
            }
        })
        .buffer_unordered(32)
        .try_filter_map(|missing| async move { Ok(missing) })
        .try_collect()
        .await
}

//! Log cleanup: deleting commit and checkpoint files older than the log retention, keeping every
//! file a retained version needs.

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectMeta;
use tracing::info;

use super::listing::LogListing;
use super::replay::Replayed;
use crate::error::DeltaResult;
use crate::storage::LogStore;

/// Delete log files that expired before `cutoff_ms` (milliseconds since the epoch), for a table
/// read at `snapshot` (a [`Snapshot`](crate::Snapshot) or the [`Replayed`] state of a version).
///
/// Only files of versions older than the newest checkpoint written before the cutoff go: that
/// checkpoint and the commits after it still rebuild every retained version. Returns how many
/// files were deleted.
pub async fn cleanup_log(store: &dyn LogStore, snapshot: &impl AsRef<Replayed>, cutoff_ms: i64) -> DeltaResult<usize> {
    let version = snapshot.as_ref().version;
    let listing = LogListing::list(store, None).await?;
    let expired = |m: &ObjectMeta| m.last_modified.timestamp_millis() <= cutoff_ms;
    // The newest complete checkpoint, not newer than the snapshot, that expired itself.
    let Some(keep_from) = listing
        .checkpoints
        .keys()
        .rev()
        .filter(|v| **v <= version)
        .find_map(|v| {
            listing
                .checkpoint_at_or_before(*v)
                .filter(|(cv, files)| cv == v && files.iter().all(|f| expired(&f.meta)))
        })
        .map(|(v, _)| v)
    else {
        return Ok(0);
    };
    let all: Vec<ObjectMeta> = store.object_store().list(Some(&store.log_path())).try_collect().await?;
    let doomed: Vec<_> = all
        .into_iter()
        .filter(|meta| {
            let Some(name) = meta.location.filename() else {
                return false;
            };
            // Commits, checkpoints and checksums are named by their zero-padded version.
            let version = name.get(..20).and_then(|v| v.parse::<i64>().ok());
            version.is_some_and(|v| v < keep_from) && name.as_bytes().get(20) == Some(&b'.') && expired(meta)
        })
        .map(|meta| Ok(meta.location))
        .collect();
    let deleted: Vec<_> = store
        .object_store()
        .delete_stream(futures::stream::iter(doomed).boxed())
        .try_collect()
        .await?;
    let deleted = deleted.len();
    info!(deleted, keep_from, "cleaned up expired log files");
    Ok(deleted)
}

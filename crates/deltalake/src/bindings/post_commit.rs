//! What follows a commit besides the automatic checkpoint: deleting expired log files (the
//! Python API's `PostCommitHookProperties(cleanup_expired_logs=...)`).

use crate::error::DeltaResult;
use crate::table::DeltaTable;

/// After a commit that made `table`'s version: when that version is due a checkpoint (a multiple
/// of `delta.checkpointInterval`, so the commit wrote one) and log cleanup is on —
/// `cleanup_expired_logs`, or `delta.enableExpiredLogCleanup` (default true) when `None` —
/// delete the log files older than `delta.logRetentionDuration` that no retained version needs.
/// Returns how many were deleted.
pub async fn cleanup_expired_logs(table: &DeltaTable, cleanup_expired_logs: Option<bool>) -> DeltaResult<usize> {
    let snapshot = table.snapshot();
    let config = snapshot.table_config();
    let version = snapshot.version();
    let interval = config.checkpoint_interval()?;
    if version <= 0 || interval <= 0 || version % interval != 0 {
        return Ok(0);
    }
    if !cleanup_expired_logs.unwrap_or_else(|| config.expired_log_cleanup()) {
        return Ok(0);
    }
    table.cleanup_metadata().await
}

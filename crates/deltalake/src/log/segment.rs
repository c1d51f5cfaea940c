//! The log segment of a version: the checkpoint to start from and the commits after it.

use futures::StreamExt;
use object_store::ObjectMeta;
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use super::listing::{LogFile, LogListing};
use crate::error::{DeltaError, DeltaResult};
use crate::storage::LogStore;

/// The `_delta_log/_last_checkpoint` hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastCheckpoint {
    /// The version of the latest checkpoint.
    pub version: i64,
    /// Number of actions in it (with those of its sidecars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Number of parts of a multi-part checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
    /// Size in bytes of the checkpoint files (with its sidecars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_in_bytes: Option<i64>,
    /// Number of `add` actions in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_of_add_files: Option<i64>,
}

impl LastCheckpoint {
    /// Read the hint; a missing or unreadable hint is `None` (it is only an optimisation).
    pub async fn read(store: &dyn LogStore) -> Option<Self> {
        let path = store.log_path().join("_last_checkpoint");
        let read = store.read_log_files(vec![path.clone()]).next().await;
        let bytes = match read.unwrap_or_else(|| Ok(Default::default())) {
            Ok(b) => b,
            Err(object_store::Error::NotFound { .. }) => return None,
            Err(e) => {
                warn!(%path, error = %e, "cannot read _last_checkpoint, listing the whole log");
                return None;
            }
        };
        match serde_json::from_slice(&bytes) {
            Ok(hint) => Some(hint),
            Err(e) => {
                warn!(%path, error = %e, "ignoring invalid _last_checkpoint");
                None
            }
        }
    }
}

impl LastCheckpoint {
    /// Write this hint unless `_delta_log/_last_checkpoint` already names a newer checkpoint (a
    /// concurrent writer's): the hint never moves backwards. Returns whether it was written.
    ///
    /// The put replaces the file atomically; a writer racing between the read and the put can
    /// still move the hint back, which only costs readers a longer listing.
    pub async fn publish(&self, store: &dyn LogStore) -> DeltaResult<bool> {
        if let Some(current) = Self::read(store).await
            && current.version > self.version
        {
            debug!(
                current = current.version,
                ours = self.version,
                "_last_checkpoint is newer, kept"
            );
            return Ok(false);
        }
        let path = store.log_path().join("_last_checkpoint");
        let body = serde_json::to_vec(self)?;
        object_store::ObjectStoreExt::put(store.object_store().as_ref(), &path, body.into()).await?;
        Ok(true)
    }
}

/// What a snapshot is built from: a checkpoint (maybe none) and the commits after it, in order.
#[derive(Debug, Clone)]
pub struct LogSegment {
    /// The version this segment describes.
    pub version: i64,
    /// Checkpoint version and files (several for a multi-part checkpoint).
    pub checkpoint: Option<(i64, Vec<LogFile>)>,
    /// Commits after the checkpoint, ascending, ending at `version`.
    pub commits: Vec<(i64, ObjectMeta)>,
    /// The latest version the listing saw.
    pub latest_version: i64,
}

impl LogSegment {
    /// Find the segment of `version` (the latest when `None`).
    pub async fn load(store: &dyn LogStore, version: Option<i64>) -> DeltaResult<Self> {
        let hint = LastCheckpoint::read(store).await.map(|h| h.version);
        let hint = hint.filter(|h| version.is_none_or(|v| *h <= v));
        let listing = LogListing::list(store, hint).await?;
        match (hint, Self::from_listing(store, &listing, version)) {
            // The hint pointed at a checkpoint that is missing or incomplete: list everything.
            (Some(h), result) if listing.checkpoint_at_or_before(h).is_none_or(|(v, _)| v != h) || result.is_err() => {
                debug!(hint = h, "stale _last_checkpoint, listing the whole log");
                let listing = LogListing::list(store, None).await?;
                Self::from_listing(store, &listing, version)
            }
            (_, result) => result,
        }
    }

    /// Build the segment of `version` from a listing.
    pub fn from_listing(store: &dyn LogStore, listing: &LogListing, version: Option<i64>) -> DeltaResult<Self> {
        let uri = store.root_url().to_string();
        let latest_checkpoint = listing.checkpoints.keys().next_back().copied();
        let latest = match (listing.latest_commit(), latest_checkpoint) {
            (None, None) => return Err(DeltaError::NotATable { uri }),
            (a, b) => a.max(b).unwrap_or_default(),
        };
        let target = version.unwrap_or(latest);
        if target < 0 || target > latest {
            return Err(DeltaError::VersionNotFound {
                uri,
                version: target,
                reason: format!("the latest version is {latest}"),
            });
        }
        let checkpoint = listing.checkpoint_at_or_before(target);
        let start = checkpoint.as_ref().map_or(0, |(v, _)| v + 1);
        let commits: Vec<(i64, ObjectMeta)> = listing
            .commits
            .range(start..)
            .take_while(|(v, _)| **v <= target)
            .map(|(v, m)| (*v, m.clone()))
            .collect();
        let mut expected = start;
        for (v, _) in &commits {
            if *v != expected {
                return Err(missing_commit(store, expected, target));
            }
            expected += 1;
        }
        if expected != target + 1 {
            if checkpoint.is_none() && listing.commits.keys().next().is_some_and(|first| *first > target) {
                return Err(DeltaError::VersionNotFound {
                    uri,
                    version: target,
                    reason: "its commits were removed by log cleanup and no checkpoint covers it".into(),
                });
            }
            return Err(missing_commit(store, expected, target));
        }
        Ok(Self {
            version: target,
            checkpoint,
            commits,
            latest_version: latest,
        })
    }
}

fn missing_commit(store: &dyn LogStore, missing: i64, target: i64) -> DeltaError {
    let path = store.log_path().join(super::commit_file_name(missing).as_str());
    if missing == 0 {
        return DeltaError::invalid_log(
            path.to_string(),
            Some(0),
            format!("no checkpoint at or before version {target} and the commit of version 0 is missing"),
        );
    }
    DeltaError::invalid_log(
        path.to_string(),
        Some(missing),
        format!("commit file missing: the log has a gap before version {target}"),
    )
}

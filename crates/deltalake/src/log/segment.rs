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

/// Commits looked up by name at a time after a hinted checkpoint (see [`LogSegment::load`]).
const LOOKUP_BATCH: i64 = 16;

/// At most this many commits after a hinted checkpoint are looked up by name; a longer log is
/// listed, which also finds checkpoints newer than the hint.
const LOOKED_UP_COMMITS: usize = 64;

/// What a snapshot is built from: a checkpoint (maybe none) and the commits after it, in order.
#[derive(Debug, Clone)]
pub struct LogSegment {
    /// The version this segment describes.
    pub version: i64,
    /// Checkpoint version and files (several for a multi-part checkpoint).
    pub checkpoint: Option<(i64, Vec<LogFile>)>,
    /// Commits after the checkpoint, ascending, ending at `version`.
    pub commits: Vec<(i64, ObjectMeta)>,
}

impl LogSegment {
    /// Find the segment of `version` (the latest when `None`).
    pub async fn load(store: &dyn LogStore, version: Option<i64>) -> DeltaResult<Self> {
        let hint = LastCheckpoint::read(store)
            .await
            .filter(|h| version.is_none_or(|v| h.version <= v));
        if let Some(hint) = &hint
            && let Some(segment) = Self::look_up(store, hint, version).await?
        {
            return Ok(segment);
        }
        let hint = hint.map(|h| h.version);
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

    /// The segment of `version` (the latest when `None`) found by looking up the files of the
    /// hinted checkpoint and the commits from its version on by name, on stores where that beats
    /// listing the log. `None` when the store lists, or when anything differs from the simple
    /// case (a checkpoint file or the hinted version's commit missing, more than
    /// [`LOOKED_UP_COMMITS`] commits after it, `version` not found): the caller lists.
    ///
    /// Log cleanup removes the oldest versions first, so while the commit of the hinted version
    /// is there every later commit is too, and the first missing version ends the log. A newer
    /// checkpoint than the hint's is not looked for: its commits are replayed instead.
    async fn look_up(store: &dyn LogStore, hint: &LastCheckpoint, version: Option<i64>) -> DeltaResult<Option<Self>> {
        let start = hint.version;
        let checkpoint: Vec<String> = match hint.parts {
            None => vec![format!("{start:020}.checkpoint.parquet")],
            Some(parts) => (1..=parts)
                .map(|part| format!("{start:020}.checkpoint.{part:010}.{parts:010}.parquet"))
                .collect(),
        };
        let mut names = checkpoint.clone();
        names.extend((start..=start + LOOKUP_BATCH).map(super::commit_file_name));
        let Some(found) = store.lookup_log(names) else {
            return Ok(None);
        };
        let mut found = found.await?.into_iter();
        let Some(files) = found
            .by_ref()
            .take(checkpoint.len())
            .map(|meta| meta.and_then(LogFile::parse))
            .collect::<Option<Vec<LogFile>>>()
        else {
            return Ok(None);
        };
        if found.next().flatten().is_none() {
            return Ok(None);
        }
        // The commits after the checkpoint, a batch of lookups at a time until one is missing.
        let mut commits: Vec<ObjectMeta> = Vec::new();
        let mut batch: Vec<Option<ObjectMeta>> = found.collect();
        loop {
            let present = batch.iter().take_while(|meta| meta.is_some()).count();
            if batch[present..].iter().any(Option::is_some) {
                // A gap: not the simple case.
                return Ok(None);
            }
            let complete = present == batch.len();
            commits.extend(batch.into_iter().flatten());
            if !complete {
                break;
            }
            if commits.len() >= LOOKED_UP_COMMITS {
                return Ok(None);
            }
            let next = start + 1 + commits.len() as i64;
            let Some(more) = store.lookup_log((next..next + LOOKUP_BATCH).map(super::commit_file_name).collect())
            else {
                return Ok(None);
            };
            batch = more.await?;
        }
        let latest = start + commits.len() as i64;
        let target = version.unwrap_or(latest);
        if target > latest {
            return Ok(None);
        }
        commits.truncate(usize::try_from(target - start).unwrap_or_default());
        Ok(Some(Self {
            version: target,
            checkpoint: Some((start, files)),
            commits: (start + 1..).zip(commits).collect(),
        }))
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use bytes::Bytes;
    use futures::FutureExt;
    use futures::future::BoxFuture;
    use futures::stream::BoxStream;
    use object_store::ObjectStore;
    use object_store::path::Path;
    use url::Url;

    use super::*;
    use crate::storage::ObjectLogStore;

    /// A local table's log store that refuses to list its log: loads that succeed looked their
    /// files up by name.
    #[derive(Debug)]
    struct Unlisted(ObjectLogStore);

    impl LogStore for Unlisted {
        fn object_store(&self) -> &Arc<dyn ObjectStore> {
            self.0.object_store()
        }
        fn root_url(&self) -> &Url {
            self.0.root_url()
        }
        fn root_path(&self) -> &Path {
            self.0.root_path()
        }
        fn write_commit(&self, version: i64, body: Bytes) -> BoxFuture<'_, DeltaResult<()>> {
            self.0.write_commit(version, body)
        }
        fn list_log(&self, _: Option<&str>) -> BoxFuture<'_, DeltaResult<Vec<ObjectMeta>>> {
            async { Err(DeltaError::InvalidArgument("listed".into())) }.boxed()
        }
        fn lookup_log(&self, names: Vec<String>) -> Option<BoxFuture<'_, DeltaResult<Vec<Option<ObjectMeta>>>>> {
            self.0.lookup_log(names)
        }
        fn read_log_files(&self, files: Vec<Path>) -> BoxStream<'_, object_store::Result<Bytes>> {
            self.0.read_log_files(files)
        }
    }

    fn touch(log: &std::path::Path, names: impl IntoIterator<Item = String>) {
        for name in names {
            std::fs::write(log.join(name), b"{}\n").unwrap();
        }
    }

    fn commits(versions: std::ops::RangeInclusive<i64>) -> impl Iterator<Item = String> {
        versions.map(crate::log::commit_file_name)
    }

    /// The versions of the segment's checkpoint and commits, or the error's text.
    async fn load(store: &dyn LogStore, version: Option<i64>) -> Result<(i64, usize, Vec<i64>), String> {
        let segment = LogSegment::load(store, version).await.map_err(|e| e.to_string())?;
        let (checkpoint, files) = segment.checkpoint.expect("a checkpoint");
        let versions = segment.commits.iter().map(|(v, _)| *v).collect();
        if let Some(version) = version {
            assert_eq!(segment.version, version);
        }
        Ok((checkpoint, files.len(), versions))
    }

    #[tokio::test]
    async fn local_logs_are_looked_up_from_the_hint_without_listing() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("_delta_log");
        std::fs::create_dir(&log).unwrap();
        let url = Url::from_directory_path(dir.path()).unwrap();
        let store = Unlisted(ObjectLogStore::for_url(&url, &HashMap::new()).unwrap());
        let hint = |body: &str| std::fs::write(log.join("_last_checkpoint"), body).unwrap();
        hint(r#"{"version":2}"#);
        touch(
            &log,
            commits(0..=4).chain(["00000000000000000002.checkpoint.parquet".into()]),
        );
        assert_eq!(load(&store, None).await, Ok((2, 1, vec![3, 4])));
        assert_eq!(load(&store, Some(3)).await, Ok((2, 1, vec![3])));
        assert_eq!(load(&store, Some(2)).await, Ok((2, 1, vec![])));

        // Batches of lookups up to the bound.
        touch(&log, commits(5..=40));
        assert_eq!(load(&store, None).await, Ok((2, 1, (3..=40).collect())));

        // A multi-part checkpoint, all its parts there.
        hint(r#"{"version":2,"parts":2}"#);
        touch(
            &log,
            (1..=2).map(|p| format!("00000000000000000002.checkpoint.{p:010}.0000000002.parquet")),
        );
        assert_eq!(load(&store, None).await, Ok((2, 2, (3..=40).collect())));

        // Whatever differs from the simple case is listed.
        let listed = Err("invalid argument: listed".to_string());
        assert_eq!(load(&store, Some(41)).await, listed, "a version past the end");
        std::fs::remove_file(log.join("00000000000000000002.checkpoint.0000000002.0000000002.parquet")).unwrap();
        assert_eq!(load(&store, None).await, listed, "a part missing");
        hint(r#"{"version":2}"#);
        touch(&log, commits(41..=2 + LOOKED_UP_COMMITS as i64));
        assert_eq!(load(&store, None).await, listed, "more commits than looked up");
        std::fs::remove_file(log.join(crate::log::commit_file_name(30))).unwrap();
        assert_eq!(load(&store, None).await, listed, "a gap");
        std::fs::remove_file(log.join(crate::log::commit_file_name(2))).unwrap();
        assert_eq!(
            load(&store, Some(4)).await,
            listed,
            "the hinted version's commit cleaned up"
        );
    }
}

//! Reading commits one by one: history, commit timestamps, time travel by timestamp and tailing.

use futures::TryStreamExt;

use super::listing::LogListing;
use super::replay::{read_commit, read_commits_in_order};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::{Action, CommitInfo};
use crate::storage::LogStore;

/// One commit of the log with its actions.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The version.
    pub version: i64,
    /// Commit time in milliseconds: the in-commit timestamp when present, else the file time.
    pub timestamp: i64,
    /// The actions, in file order.
    pub actions: Vec<Action>,
}

impl Commit {
    /// The commit's `commitInfo`, if it has one.
    pub fn commit_info(&self) -> Option<&CommitInfo> {
        self.actions.iter().find_map(|a| match a {
            Action::CommitInfo(ci) => Some(ci),
            _ => None,
        })
    }
}

/// Read the commits with versions in `from..=to` (to the latest when `None`), in order.
/// Versions that no longer exist (cleaned up) are an error.
pub async fn read_commits(store: &dyn LogStore, from: i64, to: Option<i64>) -> DeltaResult<Vec<Commit>> {
    let listing = LogListing::list(store, Some(from)).await?;
    let to = match to {
        Some(v) => v,
        None => match listing.latest_commit() {
            Some(v) => v,
            None => return Ok(Vec::new()),
        },
    };
    if from > to {
        return Ok(Vec::new());
    }
    let metas: Vec<_> = listing.commits.range(from..=to).map(|(v, m)| (*v, m.clone())).collect();
    if let Some(gap) = (from..=to)
        .zip(metas.iter().map(|(v, _)| *v))
        .find(|(want, have)| want != have)
    {
        return Err(DeltaError::VersionNotFound {
            uri: store.root_url().to_string(),
            version: gap.0,
            reason: "its commit file is not in the log".into(),
        });
    }
    if metas.len() as i64 != to - from + 1 {
        return Err(DeltaError::VersionNotFound {
            uri: store.root_url().to_string(),
            version: from + metas.len() as i64,
            reason: "its commit file is not in the log".into(),
        });
    }
    read_commits_in_order(store, metas)
        .map_ok(|(version, meta, actions)| {
            let ict = actions.iter().find_map(|a| match a {
                Action::CommitInfo(ci) => ci.in_commit_timestamp,
                _ => None,
            });
            Commit {
                version,
                timestamp: ict.unwrap_or(meta.last_modified.timestamp_millis()),
                actions,
            }
        })
        .try_collect()
        .await
}

/// The `commitInfo` of the newest `limit` commits (all when `None`), newest first.
pub async fn history(store: &dyn LogStore, latest: i64, limit: Option<usize>) -> DeltaResult<Vec<(i64, CommitInfo)>> {
    let listing = LogListing::list(store, None).await?;
    let versions: Vec<_> = listing
        .commits
        .range(..=latest)
        .rev()
        .take(limit.unwrap_or(usize::MAX))
        .map(|(v, m)| (*v, m.clone()))
        .collect();
    read_commits_in_order(store, versions)
        .map_ok(|(version, meta, actions)| {
            let mut info = actions
                .into_iter()
                .find_map(|a| match a {
                    Action::CommitInfo(ci) => Some(ci),
                    _ => None,
                })
                .unwrap_or_default();
            info.timestamp = info
                .in_commit_timestamp
                .or(info.timestamp)
                .or(Some(meta.last_modified.timestamp_millis()));
            (version, info)
        })
        .try_collect()
        .await
}

/// The latest version committed at or before `timestamp_ms`.
///
/// Commit times are the in-commit timestamps where the commit has one, else the commit file
/// times made monotonic (a commit is never earlier than the one before it).
pub async fn version_at_timestamp(store: &dyn LogStore, timestamp_ms: i64) -> DeltaResult<i64> {
    let listing = LogListing::list(store, None).await?;
    let uri = store.root_url().to_string();
    let commits: Vec<_> = listing.commits.iter().map(|(v, m)| (*v, m.clone())).collect();
    if commits.is_empty() {
        return Err(DeltaError::NotATable { uri });
    }
    // Commits with in-commit timestamps are a suffix of the log: find where it starts by binary search.
    let read_ict = |i: usize| {
        let (version, meta) = commits[i].clone();
        async move {
            let actions = read_commit(store, version, &meta).await?;
            Ok::<_, DeltaError>(actions.into_iter().find_map(|a| match a {
                Action::CommitInfo(ci) => ci.in_commit_timestamp,
                _ => None,
            }))
        }
    };
    let mut file_time_commits = commits.as_slice();
    let last = commits.len() - 1;
    if let Some(last_ict) = read_ict(last).await? {
        // The first commit with an in-commit timestamp, by binary search.
        let (mut lo, mut hi) = (0usize, last);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if read_ict(mid).await?.is_some() {
                hi = mid
            } else {
                lo = mid + 1
            }
        }
        let first_ict = lo;
        let first_ts = read_ict(first_ict).await?.unwrap_or(last_ict);
        if timestamp_ms >= first_ts {
            // The last commit at or before the timestamp, by binary search over [first_ict, last].
            let (mut lo, mut hi) = (first_ict, last);
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if read_ict(mid).await?.is_some_and(|ts| ts <= timestamp_ms) {
                    lo = mid
                } else {
                    hi = mid - 1
                }
            }
            return Ok(commits[lo].0);
        }
        file_time_commits = &commits[..first_ict];
    }
    let mut previous = i64::MIN;
    let mut found = None;
    for (version, meta) in file_time_commits {
        let ts = meta.last_modified.timestamp_millis().max(previous.saturating_add(1));
        previous = ts;
        if ts > timestamp_ms {
            break;
        }
        found = Some(*version);
    }
    found.ok_or_else(|| before_first(&uri, timestamp_ms))
}

fn before_first(uri: &str, timestamp_ms: i64) -> DeltaError {
    let when =
        chrono::DateTime::from_timestamp_millis(timestamp_ms).map_or(timestamp_ms.to_string(), |t| t.to_rfc3339());
    DeltaError::VersionNotFound {
        uri: uri.to_string(),
        version: -1,
        reason: format!("no version was committed at or before {when}"),
    }
}

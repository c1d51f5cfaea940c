//! Vacuum: delete the data files (and deletion-vector files) that no version within the retention
//! period needs any more.
//!
//! A file is kept when the loaded version uses it, or when it was removed less than the retention
//! period ago (a reader may still be on an older version, a writer may still be committing it).
//! Everything else under the table root that is older than the retention period goes, except the
//! log and hidden files (`_…`, `.…`). The "lite" mode only deletes files the log says were removed,
//! without listing storage.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path;
use serde_json::{Map, Value};
use tracing::info;

use crate::error::{DeltaError, DeltaResult};
use crate::protocol::DeletionVectorDescriptor;
use crate::storage::LogStore;
use crate::table::DeltaTable;
use crate::telemetry::{Figures, operation_span, traced};
use crate::transaction::{CommitBuilder, CommitProperties, Operation};

/// How the files to delete are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VacuumMode {
    /// List the table directory: also deletes files never committed (failed writes).
    #[default]
    Full,
    /// Only the files the log removed (no listing; cheaper on large tables).
    Lite,
}

/// What a vacuum deleted (or would delete, in a dry run).
///
/// Serialises (for bindings) with the `deltalake` PyPI package's keys: the field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VacuumMetrics {
    /// Whether nothing was deleted.
    pub dry_run: bool,
    /// The files deleted, as paths relative to the table root, sorted.
    pub files_deleted: Vec<String>,
}

/// Deletes files that no retained version needs.
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
/// let (table, metrics) = table.vacuum().with_dry_run(false).await?;
/// println!("{} files deleted", metrics.files_deleted.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct VacuumBuilder {
    table: DeltaTable,
    retention: Option<Duration>,
    enforce_retention: bool,
    dry_run: bool,
    mode: VacuumMode,
    commit_properties: CommitProperties,
}

impl VacuumBuilder {
    /// A vacuum of `table` at its loaded version.
    pub fn new(table: DeltaTable) -> Self {
        Self {
            table,
            retention: None,
            enforce_retention: true,
            dry_run: false,
            mode: VacuumMode::Full,
            commit_properties: CommitProperties::default(),
        }
    }

    /// Keep files removed less than this long ago (default: `delta.deletedFileRetentionDuration`,
    /// 7 days unless the table says otherwise).
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// Allow a retention shorter than the table's (by default refused: readers of recent versions
    /// and writers still committing could lose files).
    pub fn with_enforce_retention(mut self, enforce: bool) -> Self {
        self.enforce_retention = enforce;
        self
    }

    /// Only report what would be deleted.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// How the files to delete are found (default [`VacuumMode::Full`]).
    pub fn with_mode(mut self, mode: VacuumMode) -> Self {
        self.mode = mode;
        self
    }

    /// Retries, user metadata and extra commit information of the `VACUUM START` / `VACUUM END`
    /// commits.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// Run the vacuum; returns the table (at the `VACUUM END` version unless a dry run) and what was deleted.
    pub async fn execute(self) -> DeltaResult<(DeltaTable, VacuumMetrics)> {
        let span = operation_span!("vacuum", self.table.log_store().redacted_url());
        traced(span, self.run(), |(table, m)| Figures {
            version: Some(table.version()),
            files: Some(m.files_deleted.len()),
            ..Figures::default()
        })
        .await
    }

    /// The vacuum itself, inside the span of [`Self::execute`].
    async fn run(self) -> DeltaResult<(DeltaTable, VacuumMetrics)> {
        let started = Instant::now();
        let store = self.table.log_store().clone();
        let snapshot = self.table.snapshot().clone();
        let uri = store.root_url().to_string();
        snapshot.protocol().ensure_writable(&uri)?;
        let table_retention = snapshot.table_config().deleted_file_retention()?;
        let retention = self.retention.unwrap_or(table_retention);
        if self.enforce_retention && retention < table_retention {
            return Err(DeltaError::InvalidArgument(format!(
                "vacuum retention of {} hours is shorter than the table's delta.deletedFileRetentionDuration \
                 ({} hours): readers and writers of recent versions could lose files; disable the retention \
                 check to vacuum anyway",
                retention.as_secs() / 3600,
                table_retention.as_secs() / 3600
            )));
        }
        let now = Utc::now().timestamp_millis();
        let cutoff = now.saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));

        // Every file a retained version may read: active files, recent tombstones and their vectors.
        let mut keep: HashSet<Path> = HashSet::new();
        for file in snapshot.files().iter() {
            keep.extend(storage_paths(store.as_ref(), file.path(), file.deletion_vector())?);
        }
        let mut expired = Vec::new();
        for tombstone in snapshot.tombstones().iter() {
            let paths = storage_paths(store.as_ref(), tombstone.path(), tombstone.deletion_vector())?;
            if tombstone.deletion_timestamp().unwrap_or(0) > cutoff {
                keep.extend(paths);
            } else {
                expired.extend(paths);
            }
        }

        let mut candidates: Vec<Path> = match self.mode {
            VacuumMode::Full => list_candidates(store.as_ref(), cutoff).await?,
            VacuumMode::Lite => expired,
        };
        let root_path = store.root_path().clone();
        candidates.retain(|p| !keep.contains(p) && p.prefix_match(&root_path).is_some());
        candidates.sort();
        candidates.dedup();
        if self.mode == VacuumMode::Lite {
            candidates = still_stored(store.as_ref(), candidates).await?;
        }
        let relative = |p: &Path| -> String {
            p.prefix_match(&root_path)
                .map(|parts| {
                    parts
                        .map(|part| part.as_ref().to_string())
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .unwrap_or_else(|| p.to_string())
        };
        let metrics = VacuumMetrics {
            dry_run: self.dry_run,
            files_deleted: candidates.iter().map(relative).collect(),
        };
        if self.dry_run {
            info!(table = %uri, files = candidates.len(), "vacuum dry run");
            return Ok((self.table, metrics));
        }

        let start = self
            .commit(
                "VACUUM START",
                object(&[
                    ("retentionCheckEnabled", Value::from(self.enforce_retention)),
                    (
                        "defaultRetentionMillis",
                        Value::from(table_retention.as_millis() as u64),
                    ),
                    ("specifiedRetentionMillis", Value::from(retention.as_millis() as u64)),
                ]),
                object(&[("numFilesToDelete", Value::from(candidates.len()))]),
                &self.table,
            )
            .await?;
        let deleted = store
            .object_store()
            .delete_stream(futures::stream::iter(candidates.into_iter().map(Ok)).boxed())
            .try_fold(0usize, |n, _| async move { Ok(n + 1) })
            .await?;
        let end = self
            .commit(
                "VACUUM END",
                object(&[("status", Value::from("COMPLETED"))]),
                object(&[("numDeletedFiles", Value::from(deleted))]),
                &start,
            )
            .await?;
        info!(
            table = %uri,
            deleted,
            elapsed_ms = started.elapsed().as_millis() as u64,
            version = end.version(),
            "vacuumed"
        );
        Ok((end, metrics))
    }

    /// Commit a vacuum marker (no actions, only commit information) on top of `base`.
    async fn commit(
        &self,
        operation: &str,
        parameters: Map<String, Value>,
        metrics: Map<String, Value>,
        base: &DeltaTable,
    ) -> DeltaResult<DeltaTable> {
        let store = base.log_store().clone();
        let result = CommitBuilder::new(Operation::new(operation, parameters))
            .with_metrics(metrics)
            .with_properties(self.commit_properties.clone())
            .commit(store.as_ref(), Some(base.snapshot()))
            .await?;
        super::table_after_commit(store, Some(base.snapshot().clone()), result.version).await
    }
}

impl std::future::IntoFuture for VacuumBuilder {
    type Output = DeltaResult<(DeltaTable, VacuumMetrics)>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// Where a data file and its deletion-vector file (if stored in a file) live in the store.
fn storage_paths(store: &dyn LogStore, path: &str, dv: Option<DeletionVectorDescriptor>) -> DeltaResult<Vec<Path>> {
    let mut paths = vec![store.resolve_file(path)?];
    if let Some(url) = dv.map(|d| d.absolute_path(store.root_url())).transpose()?.flatten() {
        paths.push(store.resolve_file(url.as_str())?);
    }
    Ok(paths)
}

/// The files under the table root last modified before `cutoff_ms`, except the log and hidden
/// files and directories.
async fn list_candidates(store: &dyn LogStore, cutoff_ms: i64) -> DeltaResult<Vec<Path>> {
    let root = store.root_path().clone();
    let root_parts = root.parts().count();
    store
        .object_store()
        .list(Some(&root))
        .map_err(DeltaError::from)
        .try_filter_map(|meta| async move {
            let hidden = meta
                .location
                .parts()
                .skip(root_parts)
                .any(|p| p.as_ref().starts_with('_') || p.as_ref().starts_with('.'));
            let old = meta.last_modified.timestamp_millis() < cutoff_ms;
            Ok((!hidden && old).then_some(meta.location))
        })
        .try_collect()
        .await
}

/// The paths of `paths` still in storage: tombstones outlive their files, so lite mode would
/// otherwise report the files an earlier vacuum deleted again.
async fn still_stored(store: &dyn LogStore, paths: Vec<Path>) -> DeltaResult<Vec<Path>> {
    let objects = store.object_store();
    let mut stored: Vec<Path> = futures::stream::iter(paths)
        .map(|path| async move {
            match objects.head(&path).await {
                Ok(_) => Ok(Some(path)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(DeltaError::from(e)),
            }
        })
        .buffer_unordered(32)
        .try_filter_map(|path| async move { Ok(path) })
        .try_collect()
        .await?;
    stored.sort();
    Ok(stored)
}

/// A JSON object of these pairs.
fn object(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

//! File-system check: remove from the table the data files that no longer exist in storage
//! (deleted by hand or by a foreign vacuum), so that reads stop failing on them.

use chrono::Utc;
use serde_json::{Map, Value};
use tracing::{info, warn};

use super::{missing_files, table_after_commit};
use crate::error::DeltaResult;
use crate::protocol::Action;
use crate::table::DeltaTable;
use crate::transaction::{CommitBuilder, CommitProperties, Operation, ReadScope};

/// What a file-system check found (and removed, unless it was a dry run).
///
/// Serialises (for bindings) with the `deltalake` PyPI package's keys: the field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileSystemCheckMetrics {
    /// Whether nothing was committed.
    pub dry_run: bool,
    /// Paths (as in the log) of the files that are missing, sorted.
    pub files_removed: Vec<String>,
}

/// Removes from the log the files that are missing from storage.
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
/// let (table, metrics) = table.filesystem_check().with_dry_run(false).await?;
/// println!("{} missing files removed", metrics.files_removed.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileSystemCheckBuilder {
    table: DeltaTable,
    dry_run: bool,
    commit_properties: CommitProperties,
}

impl FileSystemCheckBuilder {
    /// A check of `table` at its loaded version.
    pub fn new(table: DeltaTable) -> Self {
        Self {
            table,
            dry_run: false,
            commit_properties: CommitProperties::default(),
        }
    }

    /// Only report the missing files, commit nothing.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Retries, user metadata and extra commit information.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// Run the check; returns the table (at a new version when files were removed) and the findings.
    pub async fn execute(self) -> DeltaResult<(DeltaTable, FileSystemCheckMetrics)> {
        let store = self.table.log_store().clone();
        let snapshot = self.table.snapshot().clone();
        let mut missing = missing_files(store.as_ref(), snapshot.files().iter().map(|f| f.path())).await?;
        missing.sort();
        let metrics = FileSystemCheckMetrics {
            dry_run: self.dry_run,
            files_removed: missing,
        };
        if metrics.files_removed.is_empty() || self.dry_run {
            if !metrics.files_removed.is_empty() {
                warn!(table = %store.root_url(), missing = metrics.files_removed.len(), "missing data files (dry run)");
            }
            return Ok((self.table, metrics));
        }
        snapshot.protocol().ensure_writable(store.root_url().as_str())?;
        let now = Utc::now().timestamp_millis();
        let removes: Vec<Action> = snapshot
            .files()
            .iter()
            .filter(|f| {
                metrics
                    .files_removed
                    .binary_search_by(|m| m.as_str().cmp(f.path()))
                    .is_ok()
            })
            .map(|f| Action::Remove(f.to_remove(now, true)))
            .collect();
        let mut report = Map::new();
        report.insert("numFilesRemoved".into(), Value::from(removes.len()));
        let result = CommitBuilder::new(Operation::new("FSCK", Map::new()))
            .with_actions(removes)
            .with_read_scope(ReadScope::Files(metrics.files_removed.iter().cloned().collect()))
            .with_metrics(report)
            .with_properties(self.commit_properties)
            .commit(store.as_ref(), Some(&snapshot))
            .await?;
        info!(table = %store.root_url(), removed = metrics.files_removed.len(), version = result.version, "file-system check");
        let table = table_after_commit(store, Some(snapshot), result.version).await?;
        Ok((table, metrics))
    }
}

impl std::future::IntoFuture for FileSystemCheckBuilder {
    type Output = DeltaResult<(DeltaTable, FileSystemCheckMetrics)>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

//! Restoring a table to an earlier version: a new commit whose files, schema and properties are
//! those of that version.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tracing::info;

use super::{missing_files, table_after_commit};
use crate::error::{DeltaError, DeltaResult};
use crate::log::{FileKey, version_at_timestamp};
use crate::protocol::{Action, Protocol};
use crate::snapshot::Snapshot;
use crate::table::DeltaTable;
use crate::transaction::{CommitBuilder, CommitProperties, Operation, ReadScope};

/// What a restore did, as recorded in `commitInfo.operationMetrics`.
///
/// Serialises (for bindings) with the `deltalake` PyPI package's keys (`numRestoredFile`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreMetrics {
    /// Files of the target version added back.
    #[serde(rename = "numRestoredFile")]
    pub num_restored_files: usize,
    /// Files of the current version removed.
    #[serde(rename = "numRemovedFile")]
    pub num_removed_files: usize,
    /// Bytes added back.
    pub restored_files_size: i64,
    /// Bytes removed.
    pub removed_files_size: i64,
    /// Files in the table after the restore.
    pub num_of_files_after_restore: usize,
    /// Bytes in the table after the restore.
    pub table_size_after_restore: i64,
}

impl RestoreMetrics {
    fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("numRestoredFiles".into(), self.num_restored_files.into());
        m.insert("numRemovedFiles".into(), self.num_removed_files.into());
        m.insert("restoredFilesSize".into(), self.restored_files_size.into());
        m.insert("removedFilesSize".into(), self.removed_files_size.into());
        m.insert("numOfFilesAfterRestore".into(), self.num_of_files_after_restore.into());
        m.insert("tableSizeAfterRestore".into(), self.table_size_after_restore.into());
        m
    }
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Version(i64),
    Timestamp(DateTime<Utc>),
}

/// Restores a table to an earlier version or timestamp.
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
/// let (table, metrics) = table.restore().to_version(3).await?;
/// println!("version {}: {} files restored", table.version(), metrics.num_restored_files);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RestoreBuilder {
    table: DeltaTable,
    target: Option<Target>,
    ignore_missing_files: bool,
    allow_protocol_downgrade: bool,
    commit_properties: CommitProperties,
}

impl RestoreBuilder {
    /// A restore of `table`, on top of its loaded version.
    pub fn new(table: DeltaTable) -> Self {
        Self {
            table,
            target: None,
            ignore_missing_files: false,
            allow_protocol_downgrade: false,
            commit_properties: CommitProperties::default(),
        }
    }

    /// Restore the state of this version.
    pub fn to_version(mut self, version: i64) -> Self {
        self.target = Some(Target::Version(version));
        self
    }

    /// Restore the state of the latest version committed at or before this time.
    pub fn to_timestamp(mut self, timestamp: DateTime<Utc>) -> Self {
        self.target = Some(Target::Timestamp(timestamp));
        self
    }

    /// Restore even if data files of the target version are gone (vacuumed); by default that is an
    /// error, because the restored table would reference missing files.
    pub fn with_ignore_missing_files(mut self, ignore: bool) -> Self {
        self.ignore_missing_files = ignore;
        self
    }

    /// Also restore an older protocol (by default the current protocol is kept when it is newer,
    /// since readers and writers already rely on it).
    pub fn with_protocol_downgrade_allowed(mut self, allow: bool) -> Self {
        self.allow_protocol_downgrade = allow;
        self
    }

    /// Retries, user metadata and extra commit information.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// Commit the restore; returns the table at the new version and what changed.
    pub async fn execute(self) -> DeltaResult<(DeltaTable, RestoreMetrics)> {
        let store = self.table.log_store().clone();
        let current = self.table.snapshot().clone();
        let version = match self.target {
            None => {
                return Err(DeltaError::InvalidArgument(
                    "restore needs a target: call to_version or to_timestamp".into(),
                ));
            }
            Some(Target::Version(v)) => v,
            Some(Target::Timestamp(ts)) => version_at_timestamp(store.as_ref(), ts.timestamp_millis()).await?,
        };
        if version >= current.version() {
            return Err(DeltaError::InvalidArgument(format!(
                "cannot restore {} to version {version}: the table is at version {}; restore goes back only",
                store.root_url(),
                current.version()
            )));
        }
        let target = Snapshot::load(store.as_ref(), Some(version)).await?;
        current.protocol().ensure_writable(store.root_url().as_str())?;

        let target_keys: HashSet<FileKey> = target.files().iter().map(|f| f.key()).collect();
        let current_keys: HashSet<FileKey> = current.files().iter().map(|f| f.key()).collect();
        let now = Utc::now().timestamp_millis();
        let mut metrics = RestoreMetrics {
            num_of_files_after_restore: target.files().len(),
            table_size_after_restore: target.files().total_size(),
            ..Default::default()
        };
        let mut removes = Vec::new();
        for file in current.files().iter().filter(|f| !target_keys.contains(&f.key())) {
            metrics.num_removed_files += 1;
            metrics.removed_files_size += file.size();
            removes.push(Action::Remove(file.to_remove(now, true)));
        }
        let mut adds = Vec::new();
        for file in target.files().iter().filter(|f| !current_keys.contains(&f.key())) {
            metrics.num_restored_files += 1;
            metrics.restored_files_size += file.size();
            let mut add = file.to_add();
            add.data_change = true;
            adds.push(add);
        }
        if !self.ignore_missing_files {
            let missing = missing_files(store.as_ref(), adds.iter().map(|a| a.path.as_str())).await?;
            if !missing.is_empty() {
                let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
                return Err(DeltaError::InvalidArgument(format!(
                    "cannot restore {} to version {version}: {} of its data files are gone (vacuumed?), \
                     e.g. {}; restore with ignore_missing_files to restore anyway",
                    store.root_url(),
                    missing.len(),
                    shown.join(", ")
                )));
            }
        }

        let mut actions = Vec::new();
        let protocol = restored_protocol(current.protocol(), target.protocol(), self.allow_protocol_downgrade);
        if &protocol != current.protocol() {
            actions.push(Action::Protocol(protocol));
        }
        if target.metadata() != current.metadata() {
            actions.push(Action::Metadata(target.metadata().clone()));
        }
        actions.extend(removes);
        actions.extend(adds.into_iter().map(Action::Add));

        let mut parameters = Map::new();
        parameters.insert("version".into(), Value::from(version));
        if let Some(Target::Timestamp(ts)) = self.target {
            parameters.insert("timestamp".into(), Value::from(ts.to_rfc3339()));
        }
        let result = CommitBuilder::new(Operation::new("RESTORE", parameters))
            .with_actions(actions)
            .with_read_scope(ReadScope::Table)
            .with_metrics(metrics.to_json())
            .with_properties(self.commit_properties)
            .commit(store.as_ref(), Some(&current))
            .await?;
        info!(
            table = %store.root_url(),
            from = current.version(),
            to = version,
            committed = result.version,
            restored = metrics.num_restored_files,
            removed = metrics.num_removed_files,
            "restored"
        );
        let table = table_after_commit(store, Some(current), result.version).await?;
        Ok((table, metrics))
    }
}

impl std::future::IntoFuture for RestoreBuilder {
    type Output = DeltaResult<(DeltaTable, RestoreMetrics)>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// The protocol after the restore: the target's, but never older than the current one unless a
/// downgrade is allowed.
fn restored_protocol(current: &Protocol, target: &Protocol, allow_downgrade: bool) -> Protocol {
    if allow_downgrade {
        target.clone()
    } else if current.covers(target) {
        current.clone()
    } else {
        current.merge(target)
    }
}

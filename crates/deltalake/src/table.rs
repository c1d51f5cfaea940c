//! [`DeltaTable`]: a table location with its log store and current snapshot.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{DeltaError, DeltaResult};
pub use crate::log::{CheckpointOptions, Commit, LastCheckpoint};
use crate::log::{
    cleanup_log, history, read_commits, version_at_timestamp, write_checkpoint_with, write_log_compaction,
};
use crate::operations::alter::AlterTableBuilder;
use crate::operations::convert::ConvertToDeltaBuilder;
use crate::operations::create::CreateBuilder;
use crate::operations::delete::DeleteBuilder;
use crate::operations::filesystem_check::FileSystemCheckBuilder;
use crate::operations::merge::{MergeBuilder, MergeSource};
use crate::operations::optimize::OptimizeBuilder;
use crate::operations::restore::RestoreBuilder;
use crate::operations::update::UpdateBuilder;
use crate::operations::vacuum::VacuumBuilder;
use crate::operations::write::WriteBuilder;
use crate::protocol::CommitInfo;
use crate::scan::ScanBuilder;
use crate::scan::cdf::ChangeDataFeed;
use crate::snapshot::Snapshot;
use crate::storage::{LogStore, StorageOptions, table_url};
use crate::telemetry::{Figures, operation_span, traced};

/// A Delta table opened at some version.
///
/// ```no_run
/// # async fn example() -> deltalake::DeltaResult<()> {
/// use futures::TryStreamExt;
/// let table = deltalake::DeltaTable::open("path/to/table").await?;
/// println!("version {} with {} files", table.version(), table.snapshot().files().len());
/// let batches: Vec<_> = table.scan().with_columns(["id"]).build()?.execute().try_collect().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DeltaTable {
    store: Arc<dyn LogStore>,
    snapshot: Arc<Snapshot>,
}

/// Where and at which version to open a table.
#[derive(Clone, Default)]
pub struct DeltaTableBuilder {
    location: String,
    version: Option<i64>,
    timestamp: Option<DateTime<Utc>>,
    storage_options: HashMap<String, String>,
    log_store: Option<Arc<dyn LogStore>>,
}

impl std::fmt::Debug for DeltaTableBuilder {
    /// Storage option values that may be secrets are redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaTableBuilder")
            .field("location", &self.location)
            .field("version", &self.version)
            .field("timestamp", &self.timestamp)
            .field("storage_options", &StorageOptions::from_map(&self.storage_options))
            .field("log_store", &self.log_store)
            .finish()
    }
}

impl DeltaTableBuilder {
    /// A builder for the table at `location` (a URI or a local path).
    pub fn new(location: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            ..Default::default()
        }
    }

    /// Open this version instead of the latest.
    pub fn with_version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    /// Open the latest version committed at or before this time.
    pub fn with_timestamp(mut self, timestamp: DateTime<Utc>) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Storage backend options (credentials, endpoints, ...).
    pub fn with_storage_options(mut self, options: HashMap<String, String>) -> Self {
        self.storage_options = options;
        self
    }

    /// Use this log store instead of one derived from the location.
    pub fn with_log_store(mut self, store: Arc<dyn LogStore>) -> Self {
        self.log_store = Some(store);
        self
    }

    /// The log store this builder opens.
    pub fn build_log_store(&self) -> DeltaResult<Arc<dyn LogStore>> {
        match &self.log_store {
            Some(store) => Ok(store.clone()),
            None => {
                let url = table_url(&self.location)?;
                crate::storage::open_log_store(&url, &self.storage_options)
            }
        }
    }

    /// Whether a Delta table (a `_delta_log` with at least one commit or checkpoint) exists at
    /// the location. A missing location is `false`; storage failures are errors.
    pub async fn exists(&self) -> DeltaResult<bool> {
        let store = self.build_log_store()?;
        match crate::log::LogListing::list(store.as_ref(), None).await {
            Ok(listing) => Ok(listing.latest_commit().is_some() || !listing.checkpoints.is_empty()),
            Err(DeltaError::NotATable { .. } | DeltaError::ObjectStore(object_store::Error::NotFound { .. })) => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The location, without credentials, for logs.
    pub(crate) fn redacted_location(&self) -> String {
        match url::Url::parse(&self.location) {
            Ok(url) => crate::storage::options::redact_url(&url),
            Err(_) => self.location.clone(),
        }
    }

    /// Load the table.
    pub async fn load(self) -> DeltaResult<DeltaTable> {
        let store = self.build_log_store()?;
        let version = match (self.version, self.timestamp) {
            (Some(_), Some(_)) => {
                return Err(DeltaError::InvalidArgument(
                    "give a version or a timestamp, not both".into(),
                ));
            }
            (Some(v), None) => Some(v),
            (None, Some(ts)) => Some(version_at_timestamp(store.as_ref(), ts.timestamp_millis()).await?),
            (None, None) => None,
        };
        DeltaTable::open_with(store, version).await
    }
}

impl DeltaTable {
    /// Whether a Delta table exists at `location` (see [`DeltaTableBuilder::exists`]).
    ///
    /// ```no_run
    /// # async fn example() -> deltalake::DeltaResult<()> {
    /// let options = [("aws_region".to_string(), "eu-west-1".to_string())].into();
    /// if deltalake::DeltaTable::exists("s3://bucket/events", options).await? {
    ///     println!("found");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn exists(location: impl Into<String>, storage_options: HashMap<String, String>) -> DeltaResult<bool> {
        DeltaTableBuilder::new(location)
            .with_storage_options(storage_options)
            .exists()
            .await
    }

    /// Open the latest version of the table at `location`.
    pub async fn open(location: impl Into<String>) -> DeltaResult<Self> {
        DeltaTableBuilder::new(location).load().await
    }

    /// Open the table of `store` at `version` (the latest when `None`).
    pub async fn open_with(store: Arc<dyn LogStore>, version: Option<i64>) -> DeltaResult<Self> {
        let span = operation_span!("open", store.redacted_url());
        let load = async {
            let snapshot = Snapshot::load(store.as_ref(), version).await?;
            Ok(Self {
                store,
                snapshot: Arc::new(snapshot),
            })
        };
        traced(span, load, |table: &Self| Figures {
            version: Some(table.version()),
            files: Some(table.snapshot.files().len()),
            ..Figures::default()
        })
        .await
    }

    /// A table from its store and snapshot.
    pub fn from_parts(store: Arc<dyn LogStore>, snapshot: Arc<Snapshot>) -> Self {
        Self { store, snapshot }
    }

    /// A builder writing data into the table at `location` (created when absent); `.await` it.
    pub fn write(location: impl Into<String>) -> WriteBuilder {
        WriteBuilder::new(DeltaTableBuilder::new(location))
    }

    /// A builder for a new table at `location`; `.await` it to create the table.
    pub fn create(location: impl Into<String>) -> CreateBuilder {
        CreateBuilder::new(DeltaTableBuilder::new(location))
    }

    /// Make a Delta table of the Parquet files under `location`, in place.
    pub fn convert_to_delta(location: impl Into<String>) -> ConvertToDeltaBuilder {
        ConvertToDeltaBuilder::new(DeltaTableBuilder::new(location))
    }

    /// A builder to open a table at a version or timestamp, or with storage options.
    pub fn builder(location: impl Into<String>) -> DeltaTableBuilder {
        DeltaTableBuilder::new(location)
    }

    /// The loaded version.
    pub fn version(&self) -> i64 {
        self.snapshot.version()
    }

    /// The loaded snapshot.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// The log store.
    pub fn log_store(&self) -> &Arc<dyn LogStore> {
        &self.store
    }

    /// The table location.
    pub fn uri(&self) -> &str {
        self.store.root_url().as_str()
    }

    /// Move to the latest version, replaying only the new commits. Returns whether it changed.
    pub async fn refresh(&mut self) -> DeltaResult<bool> {
        match self.snapshot.advance(self.store.as_ref(), None).await? {
            Some(next) => {
                self.snapshot = Arc::new(next);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Load another version (newer versions are reached incrementally).
    pub async fn load_version(&mut self, version: i64) -> DeltaResult<()> {
        if version > self.version()
            && let Some(next) = self.snapshot.advance(self.store.as_ref(), Some(version)).await?
        {
            self.snapshot = Arc::new(next);
            return Ok(());
        }
        self.snapshot = Arc::new(Snapshot::load(self.store.as_ref(), Some(version)).await?);
        Ok(())
    }

    /// Load the latest version committed at or before `timestamp`.
    pub async fn load_timestamp(&mut self, timestamp: DateTime<Utc>) -> DeltaResult<()> {
        let version = version_at_timestamp(self.store.as_ref(), timestamp.timestamp_millis()).await?;
        self.load_version(version).await
    }

    /// The commit information of the newest `limit` versions up to the loaded one, newest first.
    pub async fn history(&self, limit: Option<usize>) -> DeltaResult<Vec<(i64, CommitInfo)>> {
        history(self.store.as_ref(), self.version(), limit).await
    }

    /// The commits after `version` up to the latest, for readers that follow a table.
    pub async fn commits_after(&self, version: i64) -> DeltaResult<Vec<Commit>> {
        read_commits(self.store.as_ref(), version + 1, None).await
    }

    /// The change data feed from version `start` to the loaded version.
    pub fn changes(&self, start: i64) -> DeltaResult<ChangeDataFeed> {
        ChangeDataFeed::new(self.snapshot.clone(), self.store.clone(), start)
    }

    /// The change data feed, by versions or timestamps, with a projection and a filter (see
    /// [`ChangeDataFeedBuilder`](crate::scan::cdf::ChangeDataFeedBuilder)).
    pub fn load_cdf(&self) -> crate::scan::cdf::ChangeDataFeedBuilder {
        crate::scan::cdf::ChangeDataFeedBuilder::new(self.clone())
    }

    /// Write a checkpoint of the loaded version (a V2 checkpoint with sidecars when the table has
    /// the `v2Checkpoint` feature) and point `_last_checkpoint` at it.
    pub async fn create_checkpoint(&self) -> DeltaResult<LastCheckpoint> {
        self.create_checkpoint_with(&CheckpointOptions::default()).await
    }

    /// [`create_checkpoint`](Self::create_checkpoint) with options (the sidecar size of V2
    /// checkpoints).
    pub async fn create_checkpoint_with(&self, options: &CheckpointOptions) -> DeltaResult<LastCheckpoint> {
        write_checkpoint_with(self.store.as_ref(), self.snapshot.as_ref(), options).await
    }

    /// Write the symlink manifests of the loaded version (`_symlink_format_manifest/`, one per
    /// partition directory) for engines that read tables through Hive symlink tables; returns how
    /// many were written. Nothing is committed; tables with deletion vectors are refused.
    pub async fn generate_symlink_manifests(&self) -> DeltaResult<usize> {
        crate::operations::generate_symlink_manifests(self).await
    }

    /// Write the log compaction file of commits `start..=end`: their reconciled actions in one
    /// file (`<start>.<end>.compacted.json`) that readers may read instead of the commits.
    ///
    /// ```no_run
    /// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
    /// // The state commits 1 to 9 make, in one file.
    /// let written = table.compact_logs(1, 9).await?;
    /// println!("{written}");
    /// # Ok(()) }
    /// ```
    pub async fn compact_logs(&self, start: i64, end: i64) -> DeltaResult<object_store::path::Path> {
        write_log_compaction(self.store.as_ref(), start, end).await
    }

    /// Delete log files older than `delta.logRetentionDuration` that no retained version needs.
    /// Returns how many files were deleted.
    pub async fn cleanup_metadata(&self) -> DeltaResult<usize> {
        let retention = self.snapshot.table_config().log_retention()?;
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = chrono::Utc::now().timestamp_millis().saturating_sub(retention_ms);
        cleanup_log(self.store.as_ref(), self.snapshot.as_ref(), cutoff).await
    }

    /// Restore this table to an earlier version or timestamp, as a new commit on top of the loaded
    /// version.
    pub fn restore(&self) -> RestoreBuilder {
        RestoreBuilder::new(self.clone())
    }

    /// Find the data files of the loaded version that are missing from storage and remove them from
    /// the table (see [`FileSystemCheckBuilder`]).
    pub fn filesystem_check(&self) -> FileSystemCheckBuilder {
        FileSystemCheckBuilder::new(self.clone())
    }

    /// Delete the files no version within the retention period needs (see [`VacuumBuilder`]).
    pub fn vacuum(&self) -> VacuumBuilder {
        VacuumBuilder::new(self.clone())
    }

    /// Change the table's constraints, properties, columns, features, name or description (see
    /// [`AlterTableBuilder`]).
    pub fn alter(&self) -> AlterTableBuilder {
        AlterTableBuilder::new(self.clone())
    }

    /// Delete the rows matching a predicate (all rows without one), as a new commit on top of the
    /// loaded version (see [`DeleteBuilder`]).
    pub fn delete(&self) -> DeleteBuilder {
        DeleteBuilder::new(self.clone())
    }

    /// Update the rows matching a predicate (all rows without one), as a new commit on top of the
    /// loaded version (see [`UpdateBuilder`]).
    pub fn update(&self) -> UpdateBuilder {
        UpdateBuilder::new(self.clone())
    }

    /// Merge `source` rows into the table, joined on the SQL `predicate` (`target.id = source.id`),
    /// as a new commit on top of the loaded version (see [`MergeBuilder`]).
    pub fn merge(&self, source: impl Into<MergeSource>, predicate: impl Into<String>) -> MergeBuilder {
        MergeBuilder::new(self.clone(), source, predicate)
    }

    /// Compact small files or Z-order rows, as a new commit on top of the loaded version (see
    /// [`OptimizeBuilder`]).
    pub fn optimize(&self) -> OptimizeBuilder {
        OptimizeBuilder::new(self.clone())
    }

    /// A scan of the loaded snapshot.
    pub fn scan(&self) -> ScanBuilder {
        ScanBuilder::new(self.snapshot.clone(), self.store.clone())
    }

    /// The deletion vectors of the loaded snapshot as selection vectors, one row per file that has
    /// one (see [`SELECTION_SCHEMA`](crate::scan::SELECTION_SCHEMA)): for readers that read the
    /// Parquet files themselves.
    ///
    /// ```no_run
    /// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
    /// let masks = table.deletion_vectors().await?;
    /// println!("{} files have deleted rows", masks.num_rows());
    /// # Ok(()) }
    /// ```
    pub async fn deletion_vectors(&self) -> DeltaResult<arrow::array::RecordBatch> {
        crate::scan::selection_vectors(&self.snapshot, self.store.as_ref()).await
    }
}

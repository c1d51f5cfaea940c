//! A snapshot: the immutable state of a table at one version.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::{StreamExt, TryStreamExt};
use url::Url;

use crate::error::{DeltaError, DeltaResult};
pub use crate::log::{
    ADD_SCHEMA, ActionList, ActionRow, Adds, FileKey, FileList, FileView, TOMBSTONE_SCHEMA, TombstoneList,
    TombstoneView, Tombstones,
};
use crate::log::{LogSegment, Replayed, replay};
pub use crate::protocol::ColumnMappingMode;
use crate::protocol::{DomainMetadata, Metadata, Protocol, StructType, TableConfig, TableFeature, Txn};
use crate::storage::LogStore;

/// Batches of a file list beyond which [`Snapshot::advance_to_committed`] merges them.
const MAX_LIST_BATCHES: usize = 16;

/// `batches` merged into one when there are more than [`MAX_LIST_BATCHES`] of one schema.
fn compacted(batches: &[RecordBatch]) -> Option<Vec<RecordBatch>> {
    if batches.len() <= MAX_LIST_BATCHES {
        return None;
    }
    let merged = arrow::compute::concat_batches(&batches[0].schema(), batches).ok()?;
    Some(vec![merged])
}

/// The state of a table at one version: protocol, metadata, schema and active files.
///
/// Cheap to share: hold it in an `Arc`; the file list is columnar.
#[derive(Debug, Clone)]
pub struct Snapshot {
    table_root: Url,
    state: Replayed,
    schema: StructType,
    arrow_schema: SchemaRef,
    config: TableConfig,
    column_mapping: ColumnMappingMode,
}

impl Snapshot {
    /// Load the snapshot of `version` (the latest when `None`).
    pub async fn load(store: &dyn LogStore, version: Option<i64>) -> DeltaResult<Self> {
        let segment = LogSegment::load(store, version).await?;
        let state = replay(store, &segment, None).await?;
        Self::from_state(store, state)
    }

    /// The snapshot of a newer version built on top of this one by replaying only the commits after
    /// it (the latest when `version` is `None`). `Ok(None)` when there is nothing newer.
    pub async fn advance(&self, store: &dyn LogStore, version: Option<i64>) -> DeltaResult<Option<Self>> {
        let listing = crate::log::LogListing::list(store, Some(self.version() + 1)).await?;
        let Some(latest) = listing.latest_commit() else {
            return Ok(None);
        };
        let target = version.unwrap_or(latest);
        if target <= self.version() {
            return Ok(None);
        }
        let commits: Vec<_> = listing
            .commits
            .range(self.version() + 1..=target)
            .map(|(v, m)| (*v, m.clone()))
            .collect();
        if commits.len() as i64 != target - self.version() {
            let uri = store.root_url().to_string();
            return Err(DeltaError::VersionNotFound {
                uri,
                version: target,
                reason: format!("the latest version is {latest}"),
            });
        }
        let segment = LogSegment {
            version: target,
            checkpoint: None,
            commits,
        };
        let state = replay(store, &segment, Some(&self.state)).await?;
        Self::from_state(store, state).map(Some)
    }

    /// The snapshot of `version`, built on this one from commits the caller knows exist (it has
    /// just committed `version`, so every version up to it is there): they are read directly,
    /// without listing the log.
    pub async fn advance_to_committed(&self, store: &dyn LogStore, version: i64) -> DeltaResult<Self> {
        if version <= self.version() {
            return Err(DeltaError::InvalidArgument(format!(
                "version {version} is not after the snapshot's version {}",
                self.version()
            )));
        }
        let objects = store.object_store();
        let commits = futures::stream::iter(self.version() + 1..=version)
            .map(|v| {
                let path = store.log_path().join(crate::storage::commit_file_name(v).as_str());
                async move {
                    crate::storage::head(objects.as_ref(), &path)
                        .await
                        .map(|meta| (v, meta))
                }
            })
            .buffered(16)
            .try_collect::<Vec<_>>()
            .await?;
        let segment = LogSegment {
            version,
            checkpoint: None,
            commits,
        };
        let mut state = replay(store, &segment, Some(&self.state)).await?;
        // Each step adds a batch to the file list: merge them once there are many, so a table
        // advanced commit after commit keeps a few large batches rather than one per commit.
        if let Some(files) = compacted(state.files.batches()) {
            state.files = FileList::new(files);
        }
        if let Some(tombstones) = compacted(state.tombstones.batches()) {
            state.tombstones = TombstoneList::new(tombstones);
        }
        Self::from_state(store, state)
    }

    fn from_state(store: &dyn LogStore, state: Replayed) -> DeltaResult<Self> {
        let schema = state.metadata.schema()?;
        let arrow_schema = Arc::new(schema.to_arrow()?);
        let config = TableConfig::new(&state.metadata.configuration);
        let column_mapping = config
            .column_mapping_mode()
            .map_err(|_| DeltaError::UnsupportedFeature {
                uri: store.root_url().to_string(),
                kind: "reader",
                features: vec![format!(
                    "columnMapping mode '{}'",
                    config
                        .get(crate::protocol::table_config::COLUMN_MAPPING_MODE)
                        .unwrap_or_default()
                )],
            })?;
        Ok(Self {
            table_root: store.root_url().clone(),
            state,
            schema,
            arrow_schema,
            config,
            column_mapping,
        })
    }

    /// The table root.
    pub fn table_root(&self) -> &Url {
        &self.table_root
    }

    /// The version.
    pub fn version(&self) -> i64 {
        self.state.version
    }

    /// The commit timestamp of the version in milliseconds (in-commit timestamp or file time).
    pub fn timestamp(&self) -> i64 {
        self.state.timestamp
    }

    /// The protocol.
    pub fn protocol(&self) -> &Protocol {
        &self.state.protocol
    }

    /// The metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.state.metadata
    }

    /// The logical schema.
    pub fn schema(&self) -> &StructType {
        &self.schema
    }

    /// The logical schema as Arrow.
    pub fn arrow_schema(&self) -> &SchemaRef {
        &self.arrow_schema
    }

    /// The partition columns (logical names).
    pub fn partition_columns(&self) -> &[String] {
        &self.state.metadata.partition_columns
    }

    /// Table properties.
    pub fn properties(&self) -> &HashMap<String, String> {
        &self.state.metadata.configuration
    }

    /// The table properties, parsed.
    pub fn table_config(&self) -> &TableConfig {
        &self.config
    }

    /// Whether `feature` is in force on this table: see [`TableConfig::is_enabled`].
    pub fn is_feature_enabled(&self, feature: TableFeature) -> bool {
        self.config.is_enabled(&self.state.protocol, feature)
    }

    /// The column mapping mode.
    pub fn column_mapping_mode(&self) -> ColumnMappingMode {
        self.column_mapping
    }

    /// The active files.
    pub fn files(&self) -> &FileList {
        &self.state.files
    }

    /// Files removed from the table and not re-added: the tombstones a checkpoint keeps until
    /// they expire (`delta.deletedFileRetentionDuration`).
    pub fn tombstones(&self) -> &TombstoneList {
        &self.state.tombstones
    }

    /// The latest transaction of an application, for idempotent writes.
    pub fn txn(&self, app_id: &str) -> Option<&Txn> {
        self.state.txns.get(app_id)
    }

    /// All application transactions.
    pub fn txns(&self) -> &HashMap<String, Txn> {
        &self.state.txns
    }

    /// The active metadata domains.
    pub fn domain_metadata(&self) -> &HashMap<String, DomainMetadata> {
        &self.state.domains
    }

    /// The clustering columns of a clustered table (logical names, nested ones joined by dots;
    /// none after `CLUSTER BY NONE`), or `None` when the table is not clustered. Fails when the
    /// clustering domain is malformed or names a column the schema lacks.
    ///
    /// ```no_run
    /// # async fn example() -> deltalake::DeltaResult<()> {
    /// let table = deltalake::DeltaTable::open("path/to/table").await?;
    /// if let Some(columns) = table.snapshot().clustering_columns()? {
    ///     println!("clustered by {columns:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn clustering_columns(&self) -> DeltaResult<Option<Vec<String>>> {
        Ok(self
            .clustering_paths()?
            .map(|paths| paths.into_iter().map(|p| p.join(".")).collect()))
    }

    /// The clustering columns as logical paths (top-level name first); see
    /// [`Snapshot::clustering_columns`].
    pub(crate) fn clustering_paths(&self) -> DeltaResult<Option<Vec<Vec<String>>>> {
        crate::clustering::clustering_paths(self.protocol(), &self.schema, &self.state.domains)
    }
}

/// The reconciled log state a snapshot is made of (what `log` needs to checkpoint it).
impl AsRef<Replayed> for Snapshot {
    fn as_ref(&self) -> &Replayed {
        &self.state
    }
}

//! What DELETE and UPDATE write: new data files, deletion vectors on existing files, change data
//! files (`_change_data/`), and the add / remove / cdc actions describing them.

use std::sync::Arc;

use arrow::array::{BooleanArray, RecordBatch, StringArray};
use arrow::compute::{and, filter_record_batch, not};
use arrow::datatypes::SchemaRef;
use object_store::ObjectStoreExt;
use serde_json::Value;

use super::matching::{Candidate, FileRows};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::deletion_vector::DeletionVectorWriter;
use crate::protocol::table_config::StatsConfig;
use crate::protocol::{
    Action, Add, AddCdcFile, DataType, DeletedRows, PrimitiveType, StructField, StructType, TableFeature,
};
use crate::scan::cdf::CHANGE_TYPE;
use crate::snapshot::{ColumnMappingMode, Snapshot};
use crate::storage::{LogStore, ObjectLogStore};
use crate::write::{DataWriter, TableLayout, WriterConfig};

/// The directory of change data files, under the table root.
const CHANGE_DATA_DIR: &str = "_change_data";

/// What is dropped from one file rewritten a batch at a time.
#[derive(Debug, Default)]
pub(crate) struct DroppedRows {
    /// The rows dropped, by row number in the file (kept with deletion vectors only).
    rows: DeletedRows,
    /// Live rows kept.
    kept: usize,
}

/// Counts of what a rewrite did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RewriteCounts {
    /// Files removed from the table.
    pub removed_files: usize,
    /// Data files added.
    pub added_files: usize,
    /// Change data files added.
    pub added_change_files: usize,
    /// Deletion vectors added to existing files.
    pub deletion_vectors_added: usize,
    /// Rows copied unchanged into new files.
    pub copied_rows: usize,
}

/// The files an operation writes and the actions that commit them.
pub(crate) struct Rewrite {
    store: Arc<dyn LogStore>,
    data: DataWriter,
    changes: Option<ChangeDataWriter>,
    vectors: DeletionVectorWriter,
    deletion_vectors: bool,
    actions: Vec<Action>,
    counts: RewriteCounts,
}

impl Rewrite {
    /// A rewrite of `snapshot`'s files: with deletion vectors when the table enables them
    /// (`delta.enableDeletionVectors` and the `deletionVectors` feature), recording change data
    /// when `delta.enableChangeDataFeed` is on.
    /// Files are written with `config` (change data files too).
    pub fn new(snapshot: &Snapshot, store: Arc<dyn LogStore>, config: WriterConfig) -> DeltaResult<Self> {
        Self::with_layout(snapshot, store, layout_of(snapshot)?, config)
    }

    /// [`Rewrite::new`], writing files laid out as `layout` (the table's, with an evolved schema).
    pub fn with_layout(
        snapshot: &Snapshot,
        store: Arc<dyn LogStore>,
        layout: TableLayout,
        config: WriterConfig,
    ) -> DeltaResult<Self> {
        let data = DataWriter::new(store.clone(), layout.clone(), config.clone())?;
        let changes = snapshot
            .is_feature_enabled(TableFeature::ChangeDataFeed)
            .then(|| ChangeDataWriter::new(layout, &store, config))
            .transpose()?;
        let deletion_vectors = snapshot.is_feature_enabled(TableFeature::DeletionVectors);
        Ok(Self {
            store,
            data,
            changes,
            vectors: DeletionVectorWriter::new(),
            deletion_vectors,
            actions: Vec::new(),
            counts: RewriteCounts::default(),
        })
    }

    /// Whether rows are dropped by deletion vectors, never by copying the other rows.
    pub fn uses_deletion_vectors(&self) -> bool {
        self.deletion_vectors
    }

    /// Whether change data is recorded.
    pub fn records_changes(&self) -> bool {
        self.changes.is_some()
    }

    /// Write new rows (the table's columns) into new data files.
    pub async fn write_rows(&mut self, rows: &RecordBatch) -> DeltaResult<()> {
        if rows.num_rows() > 0 {
            self.data.write(rows).await?;
        }
        Ok(())
    }

    /// Record `rows` in the change data feed as `change_type` (nothing when it is off).
    pub async fn write_changes(&mut self, rows: &RecordBatch, change_type: &str) -> DeltaResult<()> {
        match &mut self.changes {
            Some(changes) => changes.write(rows, change_type).await,
            None => Ok(()),
        }
    }

    /// Remove `file` from the table.
    pub fn remove(&mut self, file: &Candidate) {
        self.actions.push(Action::Remove(file.remove.clone()));
        self.counts.removed_files += 1;
    }

    /// Drop the `dropped` rows of one batch of a file (its rows from `first_row` on) and keep
    /// its other `live` rows: copied into new files, or left where they are when deletion
    /// vectors are used. [`Rewrite::drop_rows`] ends the file.
    pub async fn drop_batch_rows(
        &mut self,
        file: &mut DroppedRows,
        batch: &RecordBatch,
        first_row: u64,
        live: &BooleanArray,
        dropped: &BooleanArray,
    ) -> DeltaResult<()> {
        let kept = and(live, &not(dropped)?)?;
        file.kept += kept.true_count();
        match self.deletion_vectors {
            true => {
                let rows = dropped.values().set_indices().map(|i| first_row + i as u64);
                file.rows.union_with(&DeletedRows::from_rows(rows));
            }
            false => self.copy_rows(&filter_record_batch(batch, &kept)?).await?,
        }
        Ok(())
    }

    /// [`Rewrite::drop_batch_rows`] dropping the matching rows of `rows`.
    pub async fn drop_matched_rows(&mut self, file: &mut DroppedRows, rows: &FileRows) -> DeltaResult<()> {
        self.drop_batch_rows(file, &rows.batch, rows.first_row, &rows.live()?, &rows.matched)
            .await
    }

    /// End dropping rows from `file` (whose deletion vector deletes `deleted`): removed when no
    /// live row is left, else given a new deletion vector, or removed with its other rows
    /// copied (by [`Rewrite::drop_batch_rows`]).
    pub fn drop_rows(
        &mut self,
        file: &Candidate,
        dropped: DroppedRows,
        deleted: Option<&DeletedRows>,
    ) -> DeltaResult<()> {
        if dropped.kept == 0 || !self.deletion_vectors {
            self.remove(file);
            return Ok(());
        }
        let mut rows = dropped.rows;
        if let Some(deleted) = deleted {
            rows.union_with(deleted);
        }
        let descriptor = self.vectors.add(&rows)?;
        self.actions.push(Action::Remove(file.remove.clone()));
        self.actions.push(Action::Add(Add {
            deletion_vector: Some(descriptor),
            stats: file.add.stats.as_deref().map(loose_bounds).transpose()?,
            data_change: true,
            ..file.add.clone()
        }));
        self.counts.deletion_vectors_added += 1;
        Ok(())
    }

    /// Copy rows of a file being rewritten, unchanged, into new data files.
    pub async fn copy_rows(&mut self, rows: &RecordBatch) -> DeltaResult<()> {
        self.write_rows(rows).await?;
        self.counts.copied_rows += rows.num_rows();
        Ok(())
    }

    /// Close every file and return the actions (removes, then adds, then change data files) and
    /// counts. Files are deleted again on failure.
    pub async fn finish(self) -> DeltaResult<(Vec<Action>, RewriteCounts)> {
        let Self {
            store,
            data,
            changes,
            vectors,
            mut actions,
            mut counts,
            ..
        } = self;
        let adds = match data.finish().await {
            Ok(adds) => adds,
            Err(e) => {
                if let Some(changes) = changes {
                    changes.writer.abort().await;
                }
                return Err(e);
            }
        };
        counts.added_files = adds.len();
        actions.extend(adds.into_iter().map(Action::Add));
        if let Some(changes) = changes {
            let cdc = changes.finish().await?;
            counts.added_change_files = cdc.len();
            actions.extend(cdc.into_iter().map(Action::Cdc));
        }
        if let Some((path, bytes)) = vectors.finish() {
            let location = store.resolve_file(&path)?;
            store.object_store().put(&location, bytes.into()).await?;
        }
        Ok((actions, counts))
    }

    /// Give up: delete the files written so far (best effort).
    pub async fn abort(self) {
        self.data.abort().await;
        if let Some(changes) = self.changes {
            changes.writer.abort().await;
        }
    }
}

/// How `snapshot`'s data files are laid out.
pub(crate) fn layout_of(snapshot: &Snapshot) -> DeltaResult<TableLayout> {
    Ok(TableLayout {
        schema: snapshot.schema().clone(),
        partition_columns: snapshot.partition_columns().to_vec(),
        column_mapping: snapshot.column_mapping_mode() != ColumnMappingMode::None,
        stats: snapshot.table_config().stats_config()?,
    })
}

/// `stats` with `tightBounds: false`: once a deletion vector hides rows, the minimums and
/// maximums may be those of deleted rows.
fn loose_bounds(stats: &str) -> DeltaResult<String> {
    let mut value: Value = serde_json::from_str(stats)?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| DeltaError::InvalidArgument(format!("file statistics are not a JSON object: {stats}")))?;
    object.insert("tightBounds".into(), Value::Bool(false));
    Ok(value.to_string())
}

/// Writes change data files: the table's columns and `_change_type`, under `_change_data/`.
struct ChangeDataWriter {
    writer: DataWriter,
    schema: SchemaRef,
}

impl ChangeDataWriter {
    fn new(mut layout: TableLayout, store: &Arc<dyn LogStore>, config: WriterConfig) -> DeltaResult<Self> {
        let mut fields = layout.schema.fields.clone();
        fields.push(StructField::new(
            CHANGE_TYPE,
            DataType::Primitive(PrimitiveType::String),
            true,
        ));
        layout.schema = StructType::new(fields);
        layout.stats = StatsConfig::default();
        let schema = Arc::new(layout.schema.to_arrow()?);
        // The data writer names files relative to its root: root it at the change data directory.
        let root_url = store
            .root_url()
            .join(&format!("{CHANGE_DATA_DIR}/"))
            .map_err(|e| DeltaError::InvalidArgument(format!("table root {}: {e}", store.root_url())))?;
        let changes = ObjectLogStore::new(
            store.object_store().clone(),
            root_url,
            store.root_path().clone().join(CHANGE_DATA_DIR),
        );
        let writer = DataWriter::new(Arc::new(changes), layout, config)?;
        Ok(Self { writer, schema })
    }

    async fn write(&mut self, rows: &RecordBatch, change_type: &str) -> DeltaResult<()> {
        if rows.num_rows() == 0 {
            return Ok(());
        }
        let mut columns = rows.columns().to_vec();
        columns.push(Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            change_type,
            rows.num_rows(),
        ))));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        self.writer.write(&batch).await
    }

    async fn finish(self) -> DeltaResult<Vec<AddCdcFile>> {
        Ok(self
            .writer
            .finish()
            .await?
            .into_iter()
            .map(|add| AddCdcFile {
                path: format!("{CHANGE_DATA_DIR}/{}", add.path),
                partition_values: add.partition_values,
                size: add.size,
                data_change: false,
                tags: None,
            })
            .collect())
    }
}

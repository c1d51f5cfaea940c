//! Tombstones: the `remove` actions a snapshot keeps for checkpoints (and VACUUM), held as Arrow
//! batches with only the fields a checkpoint records (no `stats`, no `tags`).

use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder, StructArray,
};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType as ArrowType, Field, Int64Type, Schema as ArrowSchema, SchemaRef};

use super::action_list::{ActionList, ActionRow};
use super::file_list::{
    DeletionVectorBuilder, FileKey, StringMapBuilder, action_rows, append_map, deletion_vector_at,
    deletion_vector_fields, string_map_builder, string_map_type,
};
use crate::error::DeltaResult;
use crate::protocol::{DeletionVectorDescriptor, Remove};

/// The schema of tombstone batches: the `remove` fields a checkpoint keeps, with the spec's names.
pub static TOMBSTONE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(ArrowSchema::new(vec![
        Field::new("path", ArrowType::Utf8, true),
        Field::new("deletionTimestamp", ArrowType::Int64, true),
        Field::new("dataChange", ArrowType::Boolean, true),
        Field::new("extendedFileMetadata", ArrowType::Boolean, true),
        Field::new("partitionValues", string_map_type(), true),
        Field::new("size", ArrowType::Int64, true),
        Field::new("deletionVector", ArrowType::Struct(deletion_vector_fields()), true),
        Field::new("baseRowId", ArrowType::Int64, true),
        Field::new("defaultRowCommitVersion", ArrowType::Int64, true),
    ]))
});

mod col {
    pub const PATH: usize = 0;
    pub const DELETION_TIMESTAMP: usize = 1;
    pub const DELETION_VECTOR: usize = 6;
}

/// The `remove` rows of [`TOMBSTONE_SCHEMA`], viewed as [`TombstoneView`]s.
#[derive(Debug, Clone, Copy)]
pub struct Tombstones;

impl ActionRow for Tombstones {
    type View<'a> = TombstoneView<'a>;

    fn view(batch: &RecordBatch, row: usize) -> TombstoneView<'_> {
        TombstoneView::new(batch, row)
    }
}

/// The tombstones of a snapshot: files removed and not re-added, held as batches of [`TOMBSTONE_SCHEMA`].
pub type TombstoneList = ActionList<Tombstones>;

impl ActionList<Tombstones> {
    /// The tombstones deleted after `cutoff_ms` (milliseconds since the epoch); those without a
    /// deletion timestamp count as expired.
    pub fn unexpired(&self, cutoff_ms: i64) -> DeltaResult<Vec<RecordBatch>> {
        self.batches()
            .iter()
            .map(|batch| {
                let times = batch.column(col::DELETION_TIMESTAMP).as_primitive::<Int64Type>();
                let keep: BooleanArray = times.iter().map(|t| Some(t.is_some_and(|t| t > cutoff_ms))).collect();
                Ok(filter_record_batch(batch, &keep)?)
            })
            .filter(|b| b.as_ref().map_or(true, |b| b.num_rows() > 0))
            .collect()
    }
}

/// One tombstone of a [`TombstoneList`].
#[derive(Debug, Clone, Copy)]
pub struct TombstoneView<'a> {
    batch: &'a RecordBatch,
    row: usize,
}

impl<'a> TombstoneView<'a> {
    /// The tombstone at `row` of `batch` (a batch of [`TOMBSTONE_SCHEMA`]).
    pub fn new(batch: &'a RecordBatch, row: usize) -> Self {
        Self { batch, row }
    }

    /// The path of the removed file, as written in the log.
    pub fn path(&self) -> &'a str {
        let a = self.batch.column(col::PATH).as_string::<i32>();
        if a.is_valid(self.row) { a.value(self.row) } else { "" }
    }

    /// When the file was removed, in milliseconds since the epoch.
    pub fn deletion_timestamp(&self) -> Option<i64> {
        let a = self.batch.column(col::DELETION_TIMESTAMP).as_primitive::<Int64Type>();
        a.is_valid(self.row).then(|| a.value(self.row))
    }

    /// The deletion vector of the removed logical file, if any.
    pub fn deletion_vector(&self) -> Option<DeletionVectorDescriptor> {
        deletion_vector_at(self.batch.column(col::DELETION_VECTOR).as_struct(), self.row)
    }

    /// The key of the removed logical file.
    pub fn key(&self) -> FileKey {
        FileKey::new(self.path(), self.deletion_vector().as_ref())
    }
}

/// Appends typed [`Remove`] actions into a batch of [`TOMBSTONE_SCHEMA`].
pub(super) struct TombstoneBatchBuilder {
    path: StringBuilder,
    deletion_timestamp: Int64Builder,
    data_change: BooleanBuilder,
    extended_file_metadata: BooleanBuilder,
    partition_values: StringMapBuilder,
    size: Int64Builder,
    deletion_vector: DeletionVectorBuilder,
    base_row_id: Int64Builder,
    default_row_commit_version: Int64Builder,
}

impl Default for TombstoneBatchBuilder {
    fn default() -> Self {
        Self {
            path: StringBuilder::new(),
            deletion_timestamp: Int64Builder::new(),
            data_change: BooleanBuilder::new(),
            extended_file_metadata: BooleanBuilder::new(),
            partition_values: string_map_builder(),
            size: Int64Builder::new(),
            deletion_vector: DeletionVectorBuilder::default(),
            base_row_id: Int64Builder::new(),
            default_row_commit_version: Int64Builder::new(),
        }
    }
}

impl TombstoneBatchBuilder {
    /// Append one remove.
    pub(super) fn append(&mut self, remove: &Remove) -> DeltaResult<()> {
        self.path.append_value(&remove.path);
        self.deletion_timestamp.append_option(remove.deletion_timestamp);
        self.data_change.append_value(remove.data_change);
        self.extended_file_metadata.append_option(remove.extended_file_metadata);
        append_map(&mut self.partition_values, remove.partition_values.as_ref())?;
        self.size.append_option(remove.size);
        self.deletion_vector.append(remove.deletion_vector.as_ref());
        self.base_row_id.append_option(remove.base_row_id);
        self.default_row_commit_version
            .append_option(remove.default_row_commit_version);
        Ok(())
    }

    /// Whether nothing was appended.
    pub(super) fn is_empty(&self) -> bool {
        self.deletion_vector.len() == 0
    }

    /// The batch of everything appended.
    pub(super) fn finish(mut self) -> DeltaResult<RecordBatch> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.path.finish()),
            Arc::new(self.deletion_timestamp.finish()),
            Arc::new(self.data_change.finish()),
            Arc::new(self.extended_file_metadata.finish()),
            Arc::new(self.partition_values.finish()),
            Arc::new(self.size.finish()),
            Arc::new(self.deletion_vector.finish()?),
            Arc::new(self.base_row_id.finish()),
            Arc::new(self.default_row_commit_version.finish()),
        ];
        Ok(RecordBatch::try_new(TOMBSTONE_SCHEMA.clone(), columns)?)
    }
}

/// Convert the `remove` column of a checkpoint batch into a batch of [`TOMBSTONE_SCHEMA`],
/// keeping only rows that hold a remove.
pub(super) fn tombstones_from_checkpoint(remove: &StructArray, context: &str) -> DeltaResult<RecordBatch> {
    action_rows(remove, &TOMBSTONE_SCHEMA, col::PATH, context)
}

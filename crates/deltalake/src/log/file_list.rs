//! The columnar list of a snapshot's active files: Arrow batches of `add` actions.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Int32Builder, Int64Builder, MapBuilder, MapFieldNames,
    RecordBatch, StringArray, StringBuilder, StructArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType as ArrowType, Field, Fields, Int32Type, Int64Type, Schema as ArrowSchema, SchemaRef};

use super::action_list::{ActionList, ActionRow};
use crate::arrow_utils::{FieldMatch, conform_array, conform_struct, with_offset_time_zones};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::actions::StringMap;
use crate::protocol::{Add, DeletionVectorDescriptor, Remove};

/// The Arrow type of `partitionValues` and `tags`: a map of strings to nullable strings.
pub(super) fn string_map_type() -> ArrowType {
    ArrowType::Map(
        Arc::new(Field::new(
            "key_value",
            ArrowType::Struct(Fields::from(vec![
                Field::new("key", ArrowType::Utf8, false),
                Field::new("value", ArrowType::Utf8, true),
            ])),
            false,
        )),
        false,
    )
}

fn map_field_names() -> MapFieldNames {
    MapFieldNames {
        entry: "key_value".into(),
        key: "key".into(),
        value: "value".into(),
    }
}

/// The fields of the `deletionVector` struct.
pub(super) fn deletion_vector_fields() -> Fields {
    Fields::from(vec![
        Field::new("storageType", ArrowType::Utf8, true),
        Field::new("pathOrInlineDv", ArrowType::Utf8, true),
        Field::new("offset", ArrowType::Int32, true),
        Field::new("sizeInBytes", ArrowType::Int32, true),
        Field::new("cardinality", ArrowType::Int64, true),
    ])
}

/// The schema of file list batches: the fields of the `add` action, with the spec's names.
pub static ADD_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(ArrowSchema::new(vec![
        Field::new("path", ArrowType::Utf8, true),
        Field::new("partitionValues", string_map_type(), true),
        Field::new("size", ArrowType::Int64, true),
        Field::new("modificationTime", ArrowType::Int64, true),
        Field::new("dataChange", ArrowType::Boolean, true),
        Field::new("stats", ArrowType::Utf8, true),
        Field::new("tags", string_map_type(), true),
        Field::new("deletionVector", ArrowType::Struct(deletion_vector_fields()), true),
        Field::new("baseRowId", ArrowType::Int64, true),
        Field::new("defaultRowCommitVersion", ArrowType::Int64, true),
        Field::new("clusteringProvider", ArrowType::Utf8, true),
    ]))
});

mod col {
    pub const PATH: usize = 0;
    pub const PARTITION_VALUES: usize = 1;
    pub const SIZE: usize = 2;
    pub const MODIFICATION_TIME: usize = 3;
    pub const DATA_CHANGE: usize = 4;
    pub const STATS: usize = 5;
    pub const TAGS: usize = 6;
    pub const DELETION_VECTOR: usize = 7;
    pub const BASE_ROW_ID: usize = 8;
    pub const DEFAULT_ROW_COMMIT_VERSION: usize = 9;
    pub const CLUSTERING_PROVIDER: usize = 10;
}

/// The `add` rows of [`ADD_SCHEMA`], viewed as [`FileView`]s.
#[derive(Debug, Clone, Copy)]
pub struct Adds;

impl ActionRow for Adds {
    type View<'a> = FileView<'a>;

    fn view(batch: &RecordBatch, row: usize) -> FileView<'_> {
        FileView::new(batch, row)
    }
}

/// The active files of a snapshot, held as Arrow batches of [`ADD_SCHEMA`].
pub type FileList = ActionList<Adds>;

impl ActionList<Adds> {
    /// Total size of the files in bytes.
    pub fn total_size(&self) -> i64 {
        self.batches()
            .iter()
            .map(|b| {
                b.column(col::SIZE)
                    .as_primitive::<Int64Type>()
                    .iter()
                    .flatten()
                    .sum::<i64>()
            })
            .sum()
    }
}

/// One file of a [`FileList`].
#[derive(Debug, Clone, Copy)]
pub struct FileView<'a> {
    batch: &'a RecordBatch,
    row: usize,
}

impl<'a> FileView<'a> {
    /// The file at `row` of `batch` (a batch of the file-list schema).
    pub fn new(batch: &'a RecordBatch, row: usize) -> Self {
        Self { batch, row }
    }

    fn string(&self, col: usize) -> Option<&'a str> {
        let a = self.batch.column(col).as_string::<i32>();
        a.is_valid(self.row).then(|| a.value(self.row))
    }

    fn optional_long(&self, col: usize) -> Option<i64> {
        let a = self.batch.column(col).as_primitive::<Int64Type>();
        a.is_valid(self.row).then(|| a.value(self.row))
    }

    fn long(&self, col: usize) -> i64 {
        self.optional_long(col).unwrap_or_default()
    }

    fn string_map(&self, col: usize) -> Option<HashMap<&'a str, Option<&'a str>>> {
        let map = self.batch.column(col).as_map();
        if map.is_null(self.row) {
            return None;
        }
        let offsets = map.value_offsets();
        let (start, end) = (offsets[self.row] as usize, offsets[self.row + 1] as usize);
        let keys = map.keys().as_string::<i32>();
        let values = map.values().as_string::<i32>();
        Some(
            (start..end)
                .map(|i| (keys.value(i), values.is_valid(i).then(|| values.value(i))))
                .collect(),
        )
    }

    /// The path as written in the log (URL-encoded, relative to the table root unless absolute).
    pub fn path(&self) -> &'a str {
        self.string(col::PATH).unwrap_or_default()
    }

    /// Size in bytes.
    pub fn size(&self) -> i64 {
        self.long(col::SIZE)
    }

    /// Modification time in milliseconds since the epoch.
    pub fn modification_time(&self) -> i64 {
        self.long(col::MODIFICATION_TIME)
    }

    /// The statistics JSON, if recorded.
    pub fn stats(&self) -> Option<&'a str> {
        self.string(col::STATS)
    }

    /// Partition values keyed by physical column name (`None` for a null partition).
    pub fn partition_values(&self) -> HashMap<&'a str, Option<&'a str>> {
        self.string_map(col::PARTITION_VALUES).unwrap_or_default()
    }

    /// The deletion vector of the file, if any.
    pub fn deletion_vector(&self) -> Option<DeletionVectorDescriptor> {
        deletion_vector_at(self.batch.column(col::DELETION_VECTOR).as_struct(), self.row)
    }

    /// The live rows of the file by its statistics (`numRecords` less the deletion vector's
    /// cardinality); `None` without statistics.
    pub fn live_rows(&self) -> Option<usize> {
        crate::protocol::actions::live_rows(self.stats(), self.deletion_vector().as_ref())
    }

    /// The key that identifies the logical file: path and deletion vector id.
    pub fn key(&self) -> FileKey {
        FileKey::new(self.path(), self.deletion_vector().as_ref())
    }

    /// The file as an `add` action, every field kept.
    pub fn to_add(&self) -> Add {
        Add {
            path: self.path().to_string(),
            partition_values: owned_map(self.string_map(col::PARTITION_VALUES).unwrap_or_default()),
            size: self.size(),
            modification_time: self.modification_time(),
            data_change: {
                let a = self.batch.column(col::DATA_CHANGE).as_boolean();
                a.is_valid(self.row) && a.value(self.row)
            },
            stats: self.stats().map(str::to_string),
            tags: self.string_map(col::TAGS).map(owned_map),
            deletion_vector: self.deletion_vector(),
            base_row_id: self.optional_long(col::BASE_ROW_ID),
            default_row_commit_version: self.optional_long(col::DEFAULT_ROW_COMMIT_VERSION),
            clustering_provider: self.string(col::CLUSTERING_PROVIDER).map(str::to_string),
        }
    }

    /// A `remove` action for the file (with its extended metadata), stamped `deletion_timestamp`;
    /// `data_change` is false when the rows live on in other files (compaction).
    pub fn to_remove(&self, deletion_timestamp: i64, data_change: bool) -> Remove {
        let add = self.to_add();
        Remove {
            path: add.path,
            deletion_timestamp: Some(deletion_timestamp),
            data_change,
            extended_file_metadata: Some(true),
            partition_values: Some(add.partition_values),
            size: Some(add.size),
            stats: add.stats,
            tags: add.tags,
            deletion_vector: add.deletion_vector,
            base_row_id: add.base_row_id,
            default_row_commit_version: add.default_row_commit_version,
        }
    }
}

fn owned_map(map: HashMap<&str, Option<&str>>) -> StringMap {
    map.into_iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect()
}

/// The deletion vector at `row` of a `deletionVector` struct column.
pub(super) fn deletion_vector_at(dv: &StructArray, row: usize) -> Option<DeletionVectorDescriptor> {
    if dv.is_null(row) {
        return None;
    }
    let s = |i: usize| {
        let a = dv.column(i).as_string::<i32>();
        a.is_valid(row).then(|| a.value(row).to_string())
    };
    let int = |i: usize| {
        let a = dv.column(i).as_primitive::<Int32Type>();
        a.is_valid(row).then(|| a.value(row))
    };
    let card = dv.column(4).as_primitive::<Int64Type>();
    Some(DeletionVectorDescriptor {
        storage_type: s(0)?,
        path_or_inline_dv: s(1)?,
        offset: int(2),
        size_in_bytes: int(3).unwrap_or_default(),
        cardinality: if card.is_valid(row) { card.value(row) } else { 0 },
    })
}

/// Identity of a logical file in reconciliation: its path plus the unique id of its deletion vector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileKey {
    path: String,
    dv_id: Option<String>,
}

impl FileKey {
    /// The key of `path` with an optional deletion vector.
    pub fn new(path: &str, dv: Option<&DeletionVectorDescriptor>) -> Self {
        Self {
            path: path.to_string(),
            dv_id: dv.map(DeletionVectorDescriptor::unique_id),
        }
    }
}

/// A builder of `partitionValues` / `tags` map columns.
pub(super) type StringMapBuilder = MapBuilder<StringBuilder, StringBuilder>;

/// A new, empty [`StringMapBuilder`] with the spec's entry names.
pub(super) fn string_map_builder() -> StringMapBuilder {
    MapBuilder::new(Some(map_field_names()), StringBuilder::new(), StringBuilder::new())
}

/// Append one map (`None` for a null map).
pub(super) fn append_map(builder: &mut StringMapBuilder, map: Option<&StringMap>) -> DeltaResult<()> {
    let Some(map) = map else {
        builder.append(false)?;
        return Ok(());
    };
    for (k, v) in map {
        builder.keys().append_value(k);
        builder.values().append_option(v.as_deref());
    }
    builder.append(true)?;
    Ok(())
}

/// Builds a `deletionVector` struct column.
#[derive(Default)]
pub(super) struct DeletionVectorBuilder {
    storage_type: StringBuilder,
    path: StringBuilder,
    offset: Int32Builder,
    size: Int32Builder,
    cardinality: Int64Builder,
    valid: Vec<bool>,
}

impl DeletionVectorBuilder {
    /// Append one descriptor (`None` for a file without deletion vector).
    pub(super) fn append(&mut self, dv: Option<&DeletionVectorDescriptor>) {
        self.storage_type.append_option(dv.map(|d| d.storage_type.as_str()));
        self.path.append_option(dv.map(|d| d.path_or_inline_dv.as_str()));
        self.offset.append_option(dv.and_then(|d| d.offset));
        self.size.append_option(dv.map(|d| d.size_in_bytes));
        self.cardinality.append_option(dv.map(|d| d.cardinality));
        self.valid.push(dv.is_some());
    }

    /// Number of rows appended.
    pub(super) fn len(&self) -> usize {
        self.valid.len()
    }

    /// The column of everything appended.
    pub(super) fn finish(&mut self) -> DeltaResult<StructArray> {
        Ok(StructArray::try_new(
            deletion_vector_fields(),
            vec![
                Arc::new(self.storage_type.finish()),
                Arc::new(self.path.finish()),
                Arc::new(self.offset.finish()),
                Arc::new(self.size.finish()),
                Arc::new(self.cardinality.finish()),
            ],
            Some(NullBuffer::from(std::mem::take(&mut self.valid))),
        )?)
    }
}

/// Appends typed [`Add`] actions into a batch of [`ADD_SCHEMA`].
pub struct AddBatchBuilder {
    path: StringBuilder,
    partition_values: StringMapBuilder,
    size: Int64Builder,
    modification_time: Int64Builder,
    data_change: BooleanBuilder,
    stats: StringBuilder,
    tags: StringMapBuilder,
    deletion_vector: DeletionVectorBuilder,
    base_row_id: Int64Builder,
    default_row_commit_version: Int64Builder,
    clustering_provider: StringBuilder,
}

impl Default for AddBatchBuilder {
    fn default() -> Self {
        Self {
            path: StringBuilder::new(),
            partition_values: string_map_builder(),
            size: Int64Builder::new(),
            modification_time: Int64Builder::new(),
            data_change: BooleanBuilder::new(),
            stats: StringBuilder::new(),
            tags: string_map_builder(),
            deletion_vector: DeletionVectorBuilder::default(),
            base_row_id: Int64Builder::new(),
            default_row_commit_version: Int64Builder::new(),
            clustering_provider: StringBuilder::new(),
        }
    }
}

impl AddBatchBuilder {
    /// Append one add.
    pub fn append(&mut self, add: &Add) -> DeltaResult<()> {
        self.path.append_value(&add.path);
        append_map(&mut self.partition_values, Some(&add.partition_values))?;
        self.size.append_value(add.size);
        self.modification_time.append_value(add.modification_time);
        self.data_change.append_value(add.data_change);
        self.stats.append_option(add.stats.as_deref());
        append_map(&mut self.tags, add.tags.as_ref())?;
        self.deletion_vector.append(add.deletion_vector.as_ref());
        self.base_row_id.append_option(add.base_row_id);
        self.default_row_commit_version
            .append_option(add.default_row_commit_version);
        self.clustering_provider
            .append_option(add.clustering_provider.as_deref());
        Ok(())
    }

    /// Number of adds appended.
    pub fn len(&self) -> usize {
        self.deletion_vector.len()
    }

    /// Whether nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch of everything appended.
    pub fn finish(mut self) -> DeltaResult<RecordBatch> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.path.finish()),
            Arc::new(self.partition_values.finish()),
            Arc::new(self.size.finish()),
            Arc::new(self.modification_time.finish()),
            Arc::new(self.data_change.finish()),
            Arc::new(self.stats.finish()),
            Arc::new(self.tags.finish()),
            Arc::new(self.deletion_vector.finish()?),
            Arc::new(self.base_row_id.finish()),
            Arc::new(self.default_row_commit_version.finish()),
            Arc::new(self.clustering_provider.finish()),
        ];
        Ok(RecordBatch::try_new(ADD_SCHEMA.clone(), columns)?)
    }
}

/// Convert the `add` column of a checkpoint batch into a batch of [`ADD_SCHEMA`], keeping
/// only rows that hold an add. `partitionValues_parsed` is dropped; `stats_parsed` supplies the
/// statistics of files whose `stats` string is absent (`delta.checkpoint.writeStatsAsJson=false`).
pub fn adds_from_checkpoint(add: &StructArray, context: &str) -> DeltaResult<RecordBatch> {
    let batch = action_rows(add, &ADD_SCHEMA, col::PATH, context)?;
    let Some(parsed) = add.column_by_name("stats_parsed").and_then(|c| c.as_struct_opt()) else {
        return Ok(batch);
    };
    let stats = batch.column(col::STATS);
    if stats.null_count() == 0 {
        return Ok(batch);
    }
    // Row positions of `batch` in `add`, to find each file's parsed statistics.
    let mask = action_mask(add, add.column_by_name("path"));
    let parsed = match &mask {
        Some(mask) => arrow::compute::filter(parsed, mask)?,
        None => Arc::new(parsed.clone()) as ArrayRef,
    };
    let mut columns = batch.columns().to_vec();
    columns[col::STATS] = stats_or_parsed(stats.as_string::<i32>(), parsed.as_struct())?;
    Ok(RecordBatch::try_new(ADD_SCHEMA.clone(), columns)?)
}

/// Rows of `source` (a struct column of a checkpoint) that hold an action: the struct and its
/// `path` are not null. `None` when every row does.
fn action_mask(source: &StructArray, path: Option<&ArrayRef>) -> Option<BooleanArray> {
    let present = match (source.nulls(), path.and_then(|p| p.logical_nulls())) {
        (None, None) => return None,
        (a, b) => NullBuffer::union(a, b.as_ref()),
    };
    present.map(|valid| BooleanArray::new(valid.into_inner(), None))
}

/// The actions of a checkpoint struct column as a batch of `schema` (whose column `path_col` is
/// the path), dropping rows that hold another kind of action.
pub(super) fn action_rows(
    source: &StructArray,
    schema: &SchemaRef,
    path_col: usize,
    context: &str,
) -> DeltaResult<RecordBatch> {
    let conformed = conform_struct(source, schema.fields(), FieldMatch::Name, context)?;
    // Rows where the struct itself is null are dropped below; their children are ignored.
    let batch = RecordBatch::try_new(schema.clone(), conformed.columns().to_vec())?;
    match action_mask(source, Some(conformed.column(path_col))) {
        None => Ok(batch),
        Some(mask) => Ok(keep_rows(&batch, &mask)?),
    }
}

/// The rows of `batch` where `mask` is true: a slice, without copying, where they are contiguous
/// (a checkpoint usually holds its actions of one kind together), else a filtered copy.
fn keep_rows(batch: &RecordBatch, mask: &BooleanArray) -> Result<RecordBatch, arrow::error::ArrowError> {
    let kept = mask.true_count();
    let first = mask.values().set_indices().next().unwrap_or_default();
    if mask.null_count() == 0 && (kept == 0 || mask.values().slice(first, kept).count_set_bits() == kept) {
        return Ok(batch.slice(first, kept));
    }
    arrow::compute::filter_record_batch(batch, mask)
}

/// The `stats` strings, with those missing rebuilt as JSON from `stats_parsed`.
fn stats_or_parsed(stats: &StringArray, parsed: &StructArray) -> DeltaResult<ArrayRef> {
    // Timestamps print as RFC 3339 with a `+00:00` offset.
    let parsed_type = ArrowType::Struct(parsed.fields().clone());
    let printable = Field::new("stats_parsed", with_offset_time_zones(&parsed_type), true);
    let printable = conform_array(
        &(Arc::new(parsed.clone()) as ArrayRef),
        &printable,
        FieldMatch::Name,
        "stats_parsed",
    )?;
    let printable = printable.as_struct();
    let batch = RecordBatch::try_new(
        Arc::new(ArrowSchema::new(printable.fields().clone())),
        printable.columns().to_vec(),
    )?;
    let mut json = Vec::new();
    let mut writer = arrow_json::LineDelimitedWriter::new(&mut json);
    writer.write(&batch)?;
    writer.finish()?;
    drop(writer);
    let text = String::from_utf8(json).map_err(|e| DeltaError::schema(format!("statistics: {e}")))?;
    let lines: Vec<&str> = text.lines().collect();
    let rebuilt: StringArray = (0..stats.len())
        .map(|row| {
            if stats.is_valid(row) {
                Some(stats.value(row))
            } else {
                lines
                    .get(row)
                    .copied()
                    .filter(|line| parsed.is_valid(row) && *line != "{}")
            }
        })
        .collect();
    Ok(Arc::new(rebuilt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;

    #[test]
    fn kept_rows_are_sliced_when_contiguous_and_filtered_otherwise() {
        let batch =
            RecordBatch::try_from_iter([("v", Arc::new(Int32Array::from(vec![1, 2, 3, 4])) as ArrayRef)]).unwrap();
        let values = |mask: Vec<bool>| {
            let kept = keep_rows(&batch, &BooleanArray::from(mask)).unwrap();
            kept.column(0).as_primitive::<Int32Type>().values().to_vec()
        };
        assert_eq!(values(vec![false, true, true, false]), [2, 3]);
        assert_eq!(values(vec![true, false, true, true]), [1, 3, 4]);
        assert_eq!(values(vec![false, false, false, false]), Vec::<i32>::new());
        assert_eq!(values(vec![true, true, true, true]), [1, 2, 3, 4]);
    }
}

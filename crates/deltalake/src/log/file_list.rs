//! The columnar list of a snapshot's active files: Arrow batches of `add` actions.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int32Builder, Int64Builder, MapBuilder, MapFieldNames, RecordBatch,
    StringBuilder, StructArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType as ArrowType, Field, Fields, Int32Type, Int64Type, Schema as ArrowSchema, SchemaRef};

use crate::arrow_utils::{FieldMatch, conform_struct};
use crate::error::DeltaResult;
use crate::protocol::actions::StringMap;
use crate::protocol::{Add, DeletionVectorDescriptor, Remove};

fn string_map_type() -> ArrowType {
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

fn deletion_vector_fields() -> Fields {
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

/// The active files of a snapshot, held as Arrow batches of [`ADD_SCHEMA`].
#[derive(Debug, Clone, Default)]
pub struct FileList {
    batches: Vec<RecordBatch>,
    len: usize,
}

impl FileList {
    /// A list made of batches already in [`ADD_SCHEMA`].
    pub fn new(batches: Vec<RecordBatch>) -> Self {
        let batches: Vec<_> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        let len = batches.iter().map(RecordBatch::num_rows).sum();
        Self { batches, len }
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The underlying batches (schema [`ADD_SCHEMA`]).
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Iterate over the files.
    pub fn iter(&self) -> impl Iterator<Item = FileView<'_>> + '_ {
        self.batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |row| FileView { batch: b, row }))
    }

    /// Total size of the files in bytes.
    pub fn total_size(&self) -> i64 {
        self.batches
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
        let dv = self.batch.column(col::DELETION_VECTOR).as_struct();
        if dv.is_null(self.row) {
            return None;
        }
        let s = |i: usize| {
            let a = dv.column(i).as_string::<i32>();
            a.is_valid(self.row).then(|| a.value(self.row).to_string())
        };
        let int = |i: usize| {
            let a = dv.column(i).as_primitive::<Int32Type>();
            a.is_valid(self.row).then(|| a.value(self.row))
        };
        let card = dv.column(4).as_primitive::<Int64Type>();
        Some(DeletionVectorDescriptor {
            storage_type: s(0)?,
            path_or_inline_dv: s(1)?,
            offset: int(2),
            size_in_bytes: int(3).unwrap_or_default(),
            cardinality: if card.is_valid(self.row) {
                card.value(self.row)
            } else {
                0
            },
        })
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

/// Appends typed [`Add`] actions into a batch of [`ADD_SCHEMA`].
pub struct AddBatchBuilder {
    path: StringBuilder,
    partition_values: MapBuilder<StringBuilder, StringBuilder>,
    size: Int64Builder,
    modification_time: Int64Builder,
    data_change: BooleanBuilder,
    stats: StringBuilder,
    tags: MapBuilder<StringBuilder, StringBuilder>,
    dv_storage_type: StringBuilder,
    dv_path: StringBuilder,
    dv_offset: Int32Builder,
    dv_size: Int32Builder,
    dv_cardinality: Int64Builder,
    dv_valid: Vec<bool>,
    base_row_id: Int64Builder,
    default_row_commit_version: Int64Builder,
    clustering_provider: StringBuilder,
}

impl Default for AddBatchBuilder {
    fn default() -> Self {
        let map = || MapBuilder::new(Some(map_field_names()), StringBuilder::new(), StringBuilder::new());
        Self {
            path: StringBuilder::new(),
            partition_values: map(),
            size: Int64Builder::new(),
            modification_time: Int64Builder::new(),
            data_change: BooleanBuilder::new(),
            stats: StringBuilder::new(),
            tags: map(),
            dv_storage_type: StringBuilder::new(),
            dv_path: StringBuilder::new(),
            dv_offset: Int32Builder::new(),
            dv_size: Int32Builder::new(),
            dv_cardinality: Int64Builder::new(),
            dv_valid: Vec::new(),
            base_row_id: Int64Builder::new(),
            default_row_commit_version: Int64Builder::new(),
            clustering_provider: StringBuilder::new(),
        }
    }
}

fn append_map(builder: &mut MapBuilder<StringBuilder, StringBuilder>, map: Option<&StringMap>) -> DeltaResult<()> {
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
        let dv = add.deletion_vector.as_ref();
        self.dv_storage_type.append_option(dv.map(|d| d.storage_type.as_str()));
        self.dv_path.append_option(dv.map(|d| d.path_or_inline_dv.as_str()));
        self.dv_offset.append_option(dv.and_then(|d| d.offset));
        self.dv_size.append_option(dv.map(|d| d.size_in_bytes));
        self.dv_cardinality.append_option(dv.map(|d| d.cardinality));
        self.dv_valid.push(dv.is_some());
        self.base_row_id.append_option(add.base_row_id);
        self.default_row_commit_version
            .append_option(add.default_row_commit_version);
        self.clustering_provider
            .append_option(add.clustering_provider.as_deref());
        Ok(())
    }

    /// Number of adds appended.
    pub fn len(&self) -> usize {
        self.dv_valid.len()
    }

    /// Whether nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.dv_valid.is_empty()
    }

    /// The batch of everything appended.
    pub fn finish(mut self) -> DeltaResult<RecordBatch> {
        let dv = StructArray::try_new(
            deletion_vector_fields(),
            vec![
                Arc::new(self.dv_storage_type.finish()),
                Arc::new(self.dv_path.finish()),
                Arc::new(self.dv_offset.finish()),
                Arc::new(self.dv_size.finish()),
                Arc::new(self.dv_cardinality.finish()),
            ],
            Some(NullBuffer::from(std::mem::take(&mut self.dv_valid))),
        )?;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.path.finish()),
            Arc::new(self.partition_values.finish()),
            Arc::new(self.size.finish()),
            Arc::new(self.modification_time.finish()),
            Arc::new(self.data_change.finish()),
            Arc::new(self.stats.finish()),
            Arc::new(self.tags.finish()),
            Arc::new(dv),
            Arc::new(self.base_row_id.finish()),
            Arc::new(self.default_row_commit_version.finish()),
            Arc::new(self.clustering_provider.finish()),
        ];
        Ok(RecordBatch::try_new(ADD_SCHEMA.clone(), columns)?)
    }
}

/// Convert the `add` column of a checkpoint batch into a batch of [`ADD_SCHEMA`], keeping
/// only rows that hold an add. Extra fields (`stats_parsed`, `partitionValues_parsed`) are dropped.
pub fn adds_from_checkpoint(add: &StructArray, context: &str) -> DeltaResult<RecordBatch> {
    let conformed = conform_struct(add, ADD_SCHEMA.fields(), FieldMatch::Name, context)?;
    let present = match (add.nulls(), conformed.column(col::PATH).nulls()) {
        (None, None) => None,
        (a, b) => NullBuffer::union(a, b),
    };
    // Rows where the struct itself is null are dropped below; their children are ignored.
    let batch = RecordBatch::try_new(ADD_SCHEMA.clone(), conformed.columns().to_vec())?;
    match present {
        None => Ok(batch),
        Some(valid) => {
            let mask = arrow::array::BooleanArray::new(valid.into_inner(), None);
            Ok(arrow::compute::filter_record_batch(&batch, &mask)?)
        }
    }
}

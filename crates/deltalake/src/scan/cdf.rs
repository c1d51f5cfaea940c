//! Reading the change data feed between two versions: `_change_data` files where a commit wrote
//! them, else its added and removed files (and the rows a new deletion vector deletes), with `_change_type`, `_commit_version` and
//! `_commit_timestamp` columns.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema as ArrowSchema, SchemaRef, TimeUnit};
use futures::StreamExt;

use super::file_reader::{MAX_BATCHES_AHEAD, RowSelection, ScanContext, ScanFile, read_files};
use super::{RecordBatchStream, partition_scalars};
use crate::arrow_utils::FieldMatch;
use crate::error::{DeltaError, DeltaResult};
use crate::log::read_commits;
use crate::protocol::actions::StringMap;
use crate::protocol::{Action, Remove, TableFeature};
use crate::snapshot::{ColumnMappingMode, Snapshot};
use crate::storage::LogStore;

/// The column naming the kind of change: `insert`, `delete`, `update_preimage`, `update_postimage`.
pub const CHANGE_TYPE: &str = "_change_type";
/// The column holding the version of the change.
pub const COMMIT_VERSION: &str = "_commit_version";
/// The column holding the commit time of the change.
pub const COMMIT_TIMESTAMP: &str = "_commit_timestamp";

/// One file of the feed and what its rows are.
struct ChangeFile {
    file: ScanFile,
    /// `None` when the file carries its own `_change_type` column (a `cdc` file).
    change_type: Option<&'static str>,
    version: i64,
    timestamp_ms: i64,
}

/// Reads the changes of versions `start..=end` of a table.
#[derive(Debug)]
pub struct ChangeDataFeed {
    snapshot: Arc<Snapshot>,
    store: Arc<dyn LogStore>,
    start: i64,
    end: i64,
}

impl ChangeDataFeed {
    /// Changes of `start..=end`; `snapshot` is the table at `end` (its schema is used).
    pub fn new(snapshot: Arc<Snapshot>, store: Arc<dyn LogStore>, start: i64) -> DeltaResult<Self> {
        let end = snapshot.version();
        if start < 0 || start > end {
            return Err(DeltaError::InvalidArgument(format!(
                "change data feed start version {start} is not within 0..={end}"
            )));
        }
        if !snapshot.is_feature_enabled(TableFeature::ChangeDataFeed) {
            return Err(DeltaError::InvalidArgument(format!(
                "the change data feed is not enabled on {} (delta.enableChangeDataFeed)",
                store.root_url()
            )));
        }
        Ok(Self {
            snapshot,
            store,
            start,
            end,
        })
    }

    /// The schema of the feed: the table columns and the three change columns.
    pub fn schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .snapshot
            .arrow_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(CHANGE_TYPE, ArrowType::Utf8, false));
        fields.push(Field::new(COMMIT_VERSION, ArrowType::Int64, false));
        fields.push(Field::new(
            COMMIT_TIMESTAMP,
            ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ));
        Arc::new(ArrowSchema::new(fields))
    }

    /// Read the changes, in commit order.
    pub async fn execute(&self) -> DeltaResult<RecordBatchStream> {
        let snapshot = &self.snapshot;
        let logical = snapshot.schema();
        let table_schema = snapshot.arrow_schema();
        let mut read_fields: Vec<Field> = table_schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        read_fields.push(Field::new(CHANGE_TYPE, ArrowType::Utf8, true));
        let read_schema = Arc::new(ArrowSchema::new(read_fields));
        let mut is_partition: Vec<bool> = logical
            .fields
            .iter()
            .map(|f| {
                snapshot
                    .partition_columns()
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&f.name))
            })
            .collect();
        is_partition.push(false);
        let partition_fields: Vec<_> = logical
            .fields
            .iter()
            .zip(&is_partition)
            .filter(|(_, p)| **p)
            .map(|(f, _)| f.clone())
            .collect();

        let mut files = Vec::new();
        for commit in read_commits(self.store.as_ref(), self.start, Some(self.end)).await? {
            let mut change = |path: &str, size, pv: &StringMap, rows, change_type| -> DeltaResult<()> {
                let partition_values = partition_scalars(&partition_fields, pv, path)?;
                files.push(ChangeFile {
                    file: ScanFile {
                        path: path.to_string(),
                        size,
                        partition_values,
                        rows,
                    },
                    change_type,
                    version: commit.version,
                    timestamp_ms: commit.timestamp,
                });
                Ok(())
            };
            let cdc: Vec<_> = commit
                .actions
                .iter()
                .filter_map(|a| if let Action::Cdc(c) = a { Some(c) } else { None })
                .collect();
            if !cdc.is_empty() {
                // The writer recorded the changes itself.
                for c in cdc {
                    change(&c.path, c.size, &c.partition_values, RowSelection::All, None)?;
                }
                continue;
            }
            let removed: HashMap<&str, &Remove> = commit
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Remove(r) if r.data_change => Some((r.path.as_str(), r)),
                    _ => None,
                })
                .collect();
            let mut rewritten = HashSet::new();
            for action in &commit.actions {
                let Action::Add(add) = action else { continue };
                if !add.data_change {
                    continue;
                }
                match (&add.deletion_vector, removed.get(add.path.as_str())) {
                    // The same file with a new deletion vector: the rows it newly deletes were deleted.
                    (Some(after), Some(remove)) => {
                        rewritten.insert(add.path.as_str());
                        let rows = RowSelection::NewlyDeleted {
                            before: remove.deletion_vector.clone(),
                            after: after.clone(),
                        };
                        change(&add.path, add.size, &add.partition_values, rows, Some("delete"))?;
                    }
                    (dv, _) => {
                        let rows = RowSelection::live(dv.clone());
                        change(&add.path, add.size, &add.partition_values, rows, Some("insert"))?;
                    }
                }
            }
            for action in &commit.actions {
                let Action::Remove(remove) = action else { continue };
                let path = remove.path.as_str();
                if !remove.data_change || rewritten.contains(path) {
                    continue;
                }
                let pv = remove.partition_values.clone().unwrap_or_default();
                let rows = RowSelection::live(remove.deletion_vector.clone());
                change(path, remove.size.unwrap_or(0), &pv, rows, Some("delete"))?;
            }
        }

        let matcher = match snapshot.column_mapping_mode() {
            ColumnMappingMode::None => FieldMatch::Name,
            ColumnMappingMode::Name => FieldMatch::PhysicalName,
            ColumnMappingMode::Id => FieldMatch::Id,
        };
        let context = Arc::new(ScanContext {
            store: self.store.clone(),
            read_schema: read_schema.clone(),
            output_projection: (0..read_schema.fields().len()).collect(),
            output_schema: read_schema,
            is_partition,
            matcher,
            filter: None,
            batch_size: 8192,
            dictionaries: false,
            batches_ahead: MAX_BATCHES_AHEAD,
        });
        let schema = self.schema();
        let scan_files = files.iter().map(|change| change.file.clone()).collect();
        let stream = read_files(context, scan_files, 4)
            .map(move |read| read.and_then(|(index, batch)| with_change_columns(&schema, &files[index], batch)))
            .boxed();
        Ok(stream)
    }
}

fn with_change_columns(schema: &SchemaRef, change: &ChangeFile, batch: RecordBatch) -> DeltaResult<RecordBatch> {
    let rows = batch.num_rows();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let change_type_index = columns.len() - 1;
    if let Some(kind) = change.change_type {
        columns[change_type_index] = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(kind, rows)));
    }
    columns.push(Arc::new(Int64Array::from_value(change.version, rows)));
    columns.push(Arc::new(
        TimestampMicrosecondArray::from_value(change.timestamp_ms * 1000, rows).with_timezone("UTC"),
    ));
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(&columns)
        .map(|(f, c)| f.as_ref().clone().with_nullable(f.is_nullable() || c.null_count() > 0))
        .collect();
    Ok(RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns)?)
}

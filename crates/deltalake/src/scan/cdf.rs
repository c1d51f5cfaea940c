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

/// Reads the change data feed of a table between two versions or two points in time, with a
/// projection and a row filter: what `load_cdf` offers in every binding.
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
/// use futures::TryStreamExt;
/// let (schema, changes) = table
///     .load_cdf()
///     .with_starting_version(2)
///     .with_columns(["id", "_change_type"])
///     .with_predicate("id > 10")
///     .execute()
///     .await?;
/// let batches: Vec<_> = changes.try_collect().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ChangeDataFeedBuilder {
    table: crate::DeltaTable,
    starting_version: i64,
    ending_version: Option<i64>,
    starting_timestamp: Option<chrono::DateTime<chrono::Utc>>,
    ending_timestamp: Option<chrono::DateTime<chrono::Utc>>,
    allow_out_of_range: bool,
    columns: Option<Vec<String>>,
    predicate: Option<String>,
}

impl ChangeDataFeedBuilder {
    /// The feed of `table` from version 0 to its loaded version.
    pub fn new(table: crate::DeltaTable) -> Self {
        Self {
            table,
            starting_version: 0,
            ending_version: None,
            starting_timestamp: None,
            ending_timestamp: None,
            allow_out_of_range: false,
            columns: None,
            predicate: None,
        }
    }

    /// Start at this version (default 0).
    pub fn with_starting_version(mut self, version: i64) -> Self {
        self.starting_version = version;
        self
    }

    /// End at this version (default: the loaded one).
    pub fn with_ending_version(mut self, version: i64) -> Self {
        self.ending_version = Some(version);
        self
    }

    /// Start at the first version committed at or after this time (overrides the starting version).
    pub fn with_starting_timestamp(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.starting_timestamp = Some(at);
        self
    }

    /// End at the last version committed at or before this time (overrides the ending version).
    pub fn with_ending_timestamp(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.ending_timestamp = Some(at);
        self
    }

    /// A start after the end gives an empty feed instead of an error.
    pub fn with_allow_out_of_range(mut self, allow: bool) -> Self {
        self.allow_out_of_range = allow;
        self
    }

    /// Only these columns (table columns and the change columns), in this order.
    pub fn with_columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Only the changed rows matching this SQL predicate (on the feed's columns).
    pub fn with_predicate(mut self, sql: impl Into<String>) -> Self {
        self.predicate = Some(sql.into());
        self
    }

    /// The feed's schema and its batches, read as the consumer asks for them.
    pub async fn execute(self) -> DeltaResult<(SchemaRef, RecordBatchStream)> {
        let store = self.table.log_store().clone();
        let start = match self.starting_timestamp {
            // The first version committed at or after the timestamp.
            Some(at) => match crate::log::version_at_timestamp(store.as_ref(), at.timestamp_millis() - 1).await {
                Ok(v) => v + 1,
                Err(DeltaError::VersionNotFound { .. }) => 0,
                Err(e) => return Err(e),
            },
            None => self.starting_version,
        };
        let end = match self.ending_timestamp {
            Some(at) => Some(crate::log::version_at_timestamp(store.as_ref(), at.timestamp_millis()).await?),
            None => self.ending_version,
        };
        let end_table = match end {
            Some(v) if v != self.table.version() => crate::DeltaTable::open_with(store, Some(v)).await?,
            _ => self.table,
        };
        if self.allow_out_of_range && start > end_table.version() {
            let empty: RecordBatchStream = futures::stream::empty().boxed();
            return Ok((Arc::new(ArrowSchema::empty()), empty));
        }
        let feed = end_table.changes(start)?;
        let schema = feed.schema();
        let mut stream = feed.execute().await?;
        if let Some(sql) = &self.predicate {
            let fields = crate::protocol::StructType::try_from_arrow(&schema)?;
            let filter = crate::Expr::parse(sql)?.bind_predicate(&fields)?;
            stream = stream.map(move |batch| batch.and_then(|b| filter.filter(&b))).boxed();
        }
        let Some(columns) = self.columns else {
            return Ok((schema, stream));
        };
        let indices = columns
            .iter()
            .map(|c| {
                schema
                    .index_of(c)
                    .map_err(|_| DeltaError::InvalidArgument(format!("column '{c}' is not in the change data feed")))
            })
            .collect::<DeltaResult<Vec<_>>>()?;
        let projected = Arc::new(schema.project(&indices)?);
        let stream = stream
            .map(move |batch| batch.and_then(|b| Ok(b.project(&indices)?)))
            .boxed();
        Ok((projected, stream))
    }
}

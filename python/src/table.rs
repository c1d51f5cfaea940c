//! `RawDeltaTable`: a loaded table, the reads on it (with filters), the row-level operations on it
//! (delete, update) and the maintenance operations on it (restore, file-system check, optimize,
//! vacuum, alter, checkpoints, log cleanup).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use deltalake::log::FileView;
use deltalake::operations::alter::AlterTableBuilder;
use deltalake::operations::merge::MergeSource;
use deltalake::operations::optimize::OptimizeType;
use deltalake::operations::vacuum::VacuumMode;
use deltalake::protocol::StructType;
use deltalake::write::WriterConfig;
use deltalake::{DeltaError as CoreError, DeltaTable, Expr};
use futures::StreamExt;
use percent_encoding::percent_decode_str;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use url::Url;

use crate::arrow_interop::{ArrowStream, reader_from_py};
use crate::error::to_py;
use crate::filter::PyFilter;
use crate::merge::{PyMergeClause, add_clause, metrics_dict};
use crate::runtime::{block_on, runtime};
use crate::write::{PyCommitProperties, PyWriterProperties};

/// A Delta table loaded at some version (wrapped by `deltalake.DeltaTable`).
#[pyclass(module = "deltalake._internal", frozen)]
pub struct RawDeltaTable {
    table: Mutex<DeltaTable>,
}

/// `(id, name, description, partition_columns, created_time, configuration)`.
type MetadataTuple = (
    String,
    Option<String>,
    Option<String>,
    Vec<String>,
    Option<i64>,
    HashMap<String, String>,
);

/// `(min_reader_version, min_writer_version, reader_features, writer_features)`.
type ProtocolTuple = (i32, i32, Option<Vec<String>>, Option<Vec<String>>);

impl RawDeltaTable {
    pub(crate) fn current(&self) -> DeltaTable {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn replace(&self, table: DeltaTable) {
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = table;
    }

    /// Run `change` on a copy of the table with the GIL released, keep the table it gives and
    /// return the rest of its result.
    fn update_with<T, F, Fut>(&self, py: Python<'_>, change: F) -> PyResult<T>
    where
        F: FnOnce(DeltaTable) -> Fut,
        Fut: Future<Output = Result<(DeltaTable, T), CoreError>> + Send,
        T: Send,
    {
        let (table, result) = block_on(py, change(self.current()))?.map_err(to_py)?;
        self.replace(table);
        Ok(result)
    }

    /// Commit the change `change` makes to an alteration of the table and move to the new version.
    fn alter(
        &self,
        py: Python<'_>,
        commit_properties: Option<PyCommitProperties>,
        change: impl FnOnce(AlterTableBuilder) -> AlterTableBuilder,
    ) -> PyResult<()> {
        let mut alter = change(self.current().alter());
        if let Some(commit) = &commit_properties {
            alter = alter.with_commit_properties(commit.to_core()?);
        }
        self.update_with(py, |_| async move { Ok((alter.execute().await?, ())) })
    }

    /// `each` of the active files, or of those that may hold rows matching `filter` (by partition
    /// values and statistics).
    fn selected_files<T>(
        &self,
        filter: Option<PyFilter>,
        each: impl FnMut(FileView<'_>) -> PyResult<T>,
    ) -> PyResult<Vec<T>> {
        let table = self.current();
        let files = table.snapshot().files().iter();
        let Some(filter) = filter else {
            return files.map(each).collect();
        };
        let scan = table.scan().with_filter(filter.into_expr()?).build().map_err(to_py)?;
        let keep: HashSet<&str> = scan.files().iter().map(|f| f.path.as_str()).collect();
        files.filter(|f| keep.contains(f.path())).map(each).collect()
    }
}

#[pymethods]
impl RawDeltaTable {
    /// Load the table at `table_uri` (the latest version unless `version` is given).
    #[new]
    #[pyo3(signature = (table_uri, version = None, storage_options = None))]
    fn new(
        py: Python<'_>,
        table_uri: String,
        version: Option<i64>,
        storage_options: Option<HashMap<String, String>>,
    ) -> PyResult<Self> {
        let mut builder = DeltaTable::builder(table_uri).with_storage_options(storage_options.unwrap_or_default());
        if let Some(version) = version {
            builder = builder.with_version(version);
        }
        let table = block_on(py, builder.load())?.map_err(to_py)?;
        Ok(Self {
            table: Mutex::new(table),
        })
    }

    /// Whether a Delta table exists at `table_uri`.
    #[staticmethod]
    #[pyo3(signature = (table_uri, storage_options = None))]
    fn is_deltatable(
        py: Python<'_>,
        table_uri: String,
        storage_options: Option<HashMap<String, String>>,
    ) -> PyResult<bool> {
        let builder = DeltaTable::builder(table_uri).with_storage_options(storage_options.unwrap_or_default());
        let store = builder.build_log_store().map_err(to_py)?;
        let listing = block_on(py, async move {
            deltalake::log::LogListing::list(store.as_ref(), None).await
        })?;
        match listing {
            Ok(listing) => Ok(listing.latest_commit().is_some() || !listing.checkpoints.is_empty()),
            Err(CoreError::NotATable { .. } | CoreError::ObjectStore(object_store::Error::NotFound { .. })) => {
                Ok(false)
            }
            Err(e) => Err(to_py(e)),
        }
    }

    /// The loaded version.
    fn version(&self) -> i64 {
        self.current().version()
    }

    /// The table location as a URL.
    fn table_uri(&self) -> String {
        self.current().uri().to_string()
    }

    /// The paths of the active files relative to the table root (decoded); with a `filter`, only
    /// the files that may hold matching rows.
    #[pyo3(signature = (filter = None))]
    fn files(&self, filter: Option<PyFilter>) -> PyResult<Vec<String>> {
        self.selected_files(filter, |f| Ok(decoded_path(&f)))
    }

    /// The size in bytes of each active file, by its path relative to the table root (decoded).
    fn get_add_file_sizes(&self) -> HashMap<String, i64> {
        let table = self.current();
        table
            .snapshot()
            .files()
            .iter()
            .map(|f| (decoded_path(&f), f.size()))
            .collect()
    }

    /// The absolute locations of the active files (local paths for local tables); with a
    /// `filter`, only the files that may hold matching rows.
    #[pyo3(signature = (filter = None))]
    fn file_uris(&self, filter: Option<PyFilter>) -> PyResult<Vec<String>> {
        let root = self.current().snapshot().table_root().clone();
        self.selected_files(filter, |f| {
            let url = root
                .join(f.path())
                .map_err(|e| PyValueError::new_err(format!("invalid file path {}: {e}", f.path())))?;
            Ok(file_location(&url))
        })
    }

    /// The schema as Delta JSON.
    fn schema_json(&self) -> String {
        self.current().snapshot().schema().to_json()
    }

    /// The metadata action's fields.
    fn metadata(&self) -> MetadataTuple {
        let table = self.current();
        let m = table.snapshot().metadata();
        (
            m.id.clone(),
            m.name.clone(),
            m.description.clone(),
            m.partition_columns.clone(),
            m.created_time,
            m.configuration.clone(),
        )
    }

    /// The protocol action's fields.
    fn protocol(&self) -> ProtocolTuple {
        let table = self.current();
        let p = table.snapshot().protocol();
        (
            p.min_reader_version,
            p.min_writer_version,
            p.reader_features.clone(),
            p.writer_features.clone(),
        )
    }

    /// The commit information of the newest `limit` versions, newest first, as JSON objects
    /// with a `version` field.
    #[pyo3(signature = (limit = None))]
    fn history(&self, py: Python<'_>, limit: Option<usize>) -> PyResult<Vec<String>> {
        let table = self.current();
        let commits = block_on(py, async move { table.history(limit).await })?.map_err(to_py)?;
        commits
            .into_iter()
            .map(|(version, info)| {
                let mut value = serde_json::to_value(info).map_err(|e| to_py(CoreError::from(e)))?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("version".into(), version.into());
                }
                Ok(value.to_string())
            })
            .collect()
    }

    /// Load another version.
    fn load_version(&self, py: Python<'_>, version: i64) -> PyResult<()> {
        self.update_with(py, |mut table| async move {
            table.load_version(version).await?;
            Ok((table, ()))
        })
    }

    /// Load the latest version committed at or before `timestamp_ms` (milliseconds since the epoch).
    fn load_timestamp(&self, py: Python<'_>, timestamp_ms: i64) -> PyResult<()> {
        let timestamp = datetime_from_ms(timestamp_ms)?;
        self.update_with(py, |mut table| async move {
            table.load_timestamp(timestamp).await?;
            Ok((table, ()))
        })
    }

    /// Move to the latest version, replaying only the new commits.
    fn update_incremental(&self, py: Python<'_>) -> PyResult<()> {
        self.update_with(py, |mut table| async move {
            table.refresh().await?;
            Ok((table, ()))
        })
    }

    /// The partition values of each active file (of each file that may hold rows matching
    /// `filter`, when given), keyed by column name (`None` for null).
    #[pyo3(signature = (filter = None))]
    fn partitions(&self, filter: Option<PyFilter>) -> PyResult<Vec<HashMap<String, Option<String>>>> {
        let table = self.current();
        let snapshot = table.snapshot();
        let columns: Vec<(&str, &str)> = snapshot
            .partition_columns()
            .iter()
            .map(|c| {
                let physical = snapshot.schema().field(c).map_or(c.as_str(), |f| f.physical_name());
                (c.as_str(), physical)
            })
            .collect();
        self.selected_files(filter, |f| {
            let values = f.partition_values();
            Ok(columns
                .iter()
                .map(|(name, physical)| {
                    let value = values.get(physical).copied().flatten().map(str::to_string);
                    (name.to_string(), value)
                })
                .collect())
        })
    }

    /// The active files with statistics and partition values as an Arrow stream.
    #[pyo3(signature = (flatten = false))]
    fn add_actions(&self, flatten: bool) -> PyResult<ArrowStream> {
        let table = self.current();
        let batch = table.snapshot().add_actions_table(flatten).map_err(to_py)?;
        Ok(ArrowStream::from_batches(batch.schema(), vec![batch]))
    }

    /// The deletion vectors as keep masks, one row per file that has one: `filepath` (located as
    /// `file_uris` gives it) and `selection_vector` (`true` for the rows kept).
    fn deletion_vectors(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let table = self.current();
        let batch = block_on(py, async move { table.deletion_vectors().await })?.map_err(to_py)?;
        let uris = batch.column(0).as_string::<i32>();
        let locations: Vec<String> = uris
            .iter()
            .flatten()
            .map(|uri| Url::parse(uri).map_or_else(|_| uri.to_string(), |url| file_location(&url)))
            .collect();
        let columns = vec![
            Arc::new(StringArray::from(locations)) as ArrayRef,
            batch.column(1).clone(),
        ];
        let batch = RecordBatch::try_new(batch.schema(), columns).map_err(|e| to_py(CoreError::from(e)))?;
        Ok(ArrowStream::from_batches(batch.schema(), vec![batch]))
    }

    /// Read the table (or `columns` of it, or the rows matching every one of `filters`) into
    /// memory with the GIL released.
    #[pyo3(signature = (columns = None, filters = Vec::new()))]
    fn read_all(&self, py: Python<'_>, columns: Option<Vec<String>>, filters: Vec<PyFilter>) -> PyResult<ArrowStream> {
        let scan = scan_of(&self.current(), columns, filters)?;
        let schema = scan.schema();
        let batches = block_on(py, async move { scan.collect().await })?.map_err(to_py)?;
        Ok(ArrowStream::from_batches(schema, batches))
    }

    /// A stream of the table's batches (of `columns`, of the rows matching every one of
    /// `filters`), read as the consumer asks for them.
    #[pyo3(signature = (columns = None, filters = Vec::new()))]
    fn read_stream(&self, columns: Option<Vec<String>>, filters: Vec<PyFilter>) -> PyResult<ArrowStream> {
        let scan = scan_of(&self.current(), columns, filters)?;
        Ok(ArrowStream::from_async(scan.schema(), scan.execute(), runtime()?))
    }

    /// The change data feed between two versions (or the versions at two timestamps, in
    /// milliseconds), with `columns` only and the rows matching the SQL `predicate` only, when
    /// given.
    #[pyo3(signature = (starting_version = 0, ending_version = None, starting_timestamp_ms = None,
        ending_timestamp_ms = None, columns = None, allow_out_of_range = false, predicate = None))]
    #[allow(clippy::too_many_arguments)]
    fn load_cdf(
        &self,
        py: Python<'_>,
        starting_version: i64,
        ending_version: Option<i64>,
        starting_timestamp_ms: Option<i64>,
        ending_timestamp_ms: Option<i64>,
        columns: Option<Vec<String>>,
        allow_out_of_range: bool,
        predicate: Option<String>,
    ) -> PyResult<ArrowStream> {
        let table = self.current();
        let store = table.log_store().clone();
        let feed = block_on(py, async move {
            let start = match starting_timestamp_ms {
                // The first version committed at or after the timestamp.
                Some(ms) => match deltalake::log::version_at_timestamp(store.as_ref(), ms - 1).await {
                    Ok(v) => v + 1,
                    Err(CoreError::VersionNotFound { .. }) => 0,
                    Err(e) => return Err(e),
                },
                None => starting_version,
            };
            let end = match (ending_timestamp_ms, ending_version) {
                (Some(ms), _) => Some(deltalake::log::version_at_timestamp(store.as_ref(), ms).await?),
                (None, version) => version,
            };
            let end_table = match end {
                Some(v) if v != table.version() => DeltaTable::open_with(store, Some(v)).await?,
                _ => table,
            };
            if allow_out_of_range && start > end_table.version() {
                return Ok(None);
            }
            let feed = end_table.changes(start)?;
            let schema = feed.schema();
            Ok(Some((schema, feed.execute().await?)))
        })?
        .map_err(to_py)?;
        let Some((schema, stream)) = feed else {
            return Ok(ArrowStream::from_batches(
                Arc::new(arrow::datatypes::Schema::empty()),
                Vec::new(),
            ));
        };
        let stream = match predicate {
            Some(sql) => {
                let fields = StructType::try_from_arrow(&schema).map_err(to_py)?;
                let filter = Expr::parse(&sql)
                    .and_then(|e| e.bind_predicate(&fields))
                    .map_err(to_py)?;
                stream.map(move |batch| batch.and_then(|b| filter.filter(&b))).boxed()
            }
            None => stream,
        };
        let Some(columns) = columns else {
            return Ok(ArrowStream::from_async(schema, stream, runtime()?));
        };
        let indices = columns
            .iter()
            .map(|c| {
                schema
                    .index_of(c)
                    .map_err(|_| PyValueError::new_err(format!("column '{c}' is not in the change data feed")))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let projected = Arc::new(schema.project(&indices).map_err(|e| to_py(e.into()))?);
        let stream = stream
            .map(move |batch| batch.and_then(|b| Ok(b.project(&indices)?)))
            .boxed();
        Ok(ArrowStream::from_async(projected, stream, runtime()?))
    }

    /// Restore the table to `version`, or to the version current at `timestamp_ms`, as a new
    /// commit; returns the metrics of the reference package (`numRemovedFile`,
    /// `numRestoredFile`) and the sizes of the Delta protocol's RESTORE metrics.
    #[pyo3(signature = (version = None, timestamp_ms = None, ignore_missing_files = false,
        protocol_downgrade_allowed = false, commit_properties = None))]
    fn restore(
        &self,
        py: Python<'_>,
        version: Option<i64>,
        timestamp_ms: Option<i64>,
        ignore_missing_files: bool,
        protocol_downgrade_allowed: bool,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<HashMap<&'static str, i64>> {
        let mut restore = self
            .current()
            .restore()
            .with_ignore_missing_files(ignore_missing_files)
            .with_protocol_downgrade_allowed(protocol_downgrade_allowed);
        restore = match (version, timestamp_ms) {
            (Some(version), None) => restore.to_version(version),
            (None, Some(ms)) => restore.to_timestamp(datetime_from_ms(ms)?),
            _ => return Err(PyValueError::new_err("give exactly one of a version and a timestamp")),
        };
        if let Some(commit) = &commit_properties {
            restore = restore.with_commit_properties(commit.to_core()?);
        }
        let metrics = self.update_with(py, |_| restore.execute())?;
        Ok(HashMap::from([
            ("numRemovedFile", count(metrics.num_removed_files)),
            ("numRestoredFile", count(metrics.num_restored_files)),
            ("removedFilesSize", metrics.removed_files_size),
            ("restoredFilesSize", metrics.restored_files_size),
            ("numOfFilesAfterRestore", count(metrics.num_of_files_after_restore)),
            ("tableSizeAfterRestore", metrics.table_size_after_restore),
        ]))
    }

    /// Delete the rows matching the SQL `predicate` (every row without one); returns the metrics
    /// with the reference package's keys (`num_deleted_rows`, `num_added_files`, ...).
    #[pyo3(signature = (predicate = None, commit_properties = None))]
    fn delete(
        &self,
        py: Python<'_>,
        predicate: Option<String>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<HashMap<&'static str, i64>> {
        let mut delete = self.current().delete();
        if let Some(sql) = predicate {
            delete = delete.with_predicate(sql);
        }
        if let Some(commit) = &commit_properties {
            delete = delete.with_commit_properties(commit.to_core()?);
        }
        let m = self.update_with(py, |_| delete.execute())?;
        Ok(HashMap::from([
            ("num_deleted_rows", count(m.num_deleted_rows)),
            ("num_added_files", count(m.num_added_files)),
            ("num_removed_files", count(m.num_removed_files)),
            ("num_copied_rows", count(m.num_copied_rows)),
            ("num_added_change_files", count(m.num_added_change_files)),
            ("num_deletion_vectors_added", count(m.num_deletion_vectors_added)),
            ("execution_time_ms", millis(m.execution_time_ms)),
            ("scan_time_ms", millis(m.scan_time_ms)),
            ("rewrite_time_ms", millis(m.rewrite_time_ms)),
        ]))
    }

    /// Set each column of `updates` to the value of its SQL expression in the rows matching the
    /// SQL `predicate` (every row without one); returns the metrics with the reference package's
    /// keys (`num_updated_rows`, `num_added_files`, ...).
    #[pyo3(signature = (updates, predicate = None, commit_properties = None))]
    fn update(
        &self,
        py: Python<'_>,
        updates: Vec<(String, String)>,
        predicate: Option<String>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<HashMap<&'static str, i64>> {
        let mut update = self.current().update();
        for (column, sql) in updates {
            update = update.with_update(column, sql);
        }
        if let Some(sql) = predicate {
            update = update.with_predicate(sql);
        }
        if let Some(commit) = &commit_properties {
            update = update.with_commit_properties(commit.to_core()?);
        }
        let m = self.update_with(py, |_| update.execute())?;
        Ok(HashMap::from([
            ("num_updated_rows", count(m.num_updated_rows)),
            ("num_added_files", count(m.num_added_files)),
            ("num_removed_files", count(m.num_removed_files)),
            ("num_copied_rows", count(m.num_copied_rows)),
            ("num_added_change_files", count(m.num_added_change_files)),
            ("num_deletion_vectors_added", count(m.num_deletion_vectors_added)),
            ("execution_time_ms", millis(m.execution_time_ms)),
            ("scan_time_ms", millis(m.scan_time_ms)),
            ("rewrite_time_ms", millis(m.rewrite_time_ms)),
        ]))
    }

    /// Merge the Arrow `source` into the table, joined on the SQL `predicate`, applying
    /// `clauses` (see `deltalake.TableMerger`) in order; returns the metrics with the reference
    /// package's keys (`num_source_rows`, `num_target_rows_inserted`, ...).
    #[pyo3(signature = (source, predicate, clauses, source_alias = None, target_alias = None,
        merge_schema = false, commit_properties = None))]
    #[allow(clippy::too_many_arguments)]
    fn merge(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        predicate: String,
        clauses: Vec<PyMergeClause>,
        source_alias: Option<String>,
        target_alias: Option<String>,
        merge_schema: bool,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<HashMap<&'static str, i64>> {
        let reader = reader_from_py(source)?;
        let schema = arrow::array::RecordBatchReader::schema(&reader);
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| to_py(CoreError::from(e)))?;
        let source = MergeSource::Stream(schema, futures::stream::iter(batches.into_iter().map(Ok)).boxed());
        let mut merge = self.current().merge(source, predicate).with_merge_schema(merge_schema);
        if let Some(alias) = source_alias {
            merge = merge.with_source_alias(alias);
        }
        if let Some(alias) = target_alias {
            merge = merge.with_target_alias(alias);
        }
        if let Some(commit) = &commit_properties {
            merge = merge.with_commit_properties(commit.to_core()?);
        }
        for clause in clauses {
            merge = add_clause(merge, clause)?;
        }
        let metrics = self.update_with(py, |_| merge.execute())?;
        Ok(metrics_dict(&metrics))
    }

    /// Compact the small files (or, with `z_order_columns`, rewrite the files sorted by the
    /// Z-order of those columns) of the partitions matching `partition_filters`; returns the
    /// metrics as a JSON object (`numFilesAdded`, `numFilesRemoved`, `filesAdded`, ...).
    #[pyo3(signature = (z_order_columns = None, partition_filters = None, target_size = None,
        max_concurrent_tasks = None, writer_properties = None, commit_properties = None))]
    #[allow(clippy::too_many_arguments)]
    fn optimize(
        &self,
        py: Python<'_>,
        z_order_columns: Option<Vec<String>>,
        partition_filters: Option<PyFilter>,
        target_size: Option<u64>,
        max_concurrent_tasks: Option<usize>,
        writer_properties: Option<PyWriterProperties>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<String> {
        let mut optimize = self.current().optimize();
        if let Some(columns) = z_order_columns {
            optimize = optimize.with_type(OptimizeType::ZOrder(columns));
        }
        if let Some(filter) = partition_filters {
            optimize = optimize.with_filter(filter.into_expr()?);
        }
        if let Some(bytes) = target_size {
            optimize = optimize.with_target_size(bytes);
        }
        if let Some(tasks) = max_concurrent_tasks {
            optimize = optimize.with_max_concurrent_tasks(tasks);
        }
        if let Some(properties) = &writer_properties {
            optimize = optimize.with_writer_config(WriterConfig {
                properties: properties.to_parquet()?,
                ..WriterConfig::default()
            });
        }
        if let Some(commit) = &commit_properties {
            optimize = optimize.with_commit_properties(commit.to_core()?);
        }
        let metrics = self.update_with(py, |_| optimize.execute())?;
        Ok(serde_json::Value::Object(metrics.to_json()).to_string())
    }

    /// Delete the files no version within the retention needs (only list them when `dry_run`);
    /// `full` lists the table directory (also finding files never committed), otherwise only the
    /// files the log removed are considered. Returns the paths relative to the table root.
    #[pyo3(signature = (dry_run = true, retention_hours = None, enforce_retention_duration = true,
        full = false, commit_properties = None))]
    fn vacuum(
        &self,
        py: Python<'_>,
        dry_run: bool,
        retention_hours: Option<u64>,
        enforce_retention_duration: bool,
        full: bool,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<Vec<String>> {
        let mut vacuum = self
            .current()
            .vacuum()
            .with_dry_run(dry_run)
            .with_enforce_retention(enforce_retention_duration)
            .with_mode(if full { VacuumMode::Full } else { VacuumMode::Lite });
        if let Some(hours) = retention_hours {
            let seconds = hours
                .checked_mul(3600)
                .ok_or_else(|| PyValueError::new_err(format!("retention of {hours} hours is too long")))?;
            vacuum = vacuum.with_retention(std::time::Duration::from_secs(seconds));
        }
        if let Some(commit) = &commit_properties {
            vacuum = vacuum.with_commit_properties(commit.to_core()?);
        }
        let metrics = self.update_with(py, |_| vacuum.execute())?;
        Ok(metrics.files_deleted)
    }

    /// Add the CHECK constraint `name` (a SQL predicate every row must satisfy).
    #[pyo3(signature = (name, expression, commit_properties = None))]
    fn add_constraint(
        &self,
        py: Python<'_>,
        name: String,
        expression: String,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, commit_properties, |alter| alter.add_constraint(name, expression))
    }

    /// Drop the CHECK constraint `name`; a missing one is an error unless `if_exists`.
    #[pyo3(signature = (name, if_exists = false, commit_properties = None))]
    fn drop_constraint(
        &self,
        py: Python<'_>,
        name: String,
        if_exists: bool,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, commit_properties, |alter| alter.drop_constraint(name, if_exists))
    }

    /// Append the (nullable) fields of `schema_json` (a Delta struct type as JSON) to the schema.
    #[pyo3(signature = (schema_json, commit_properties = None))]
    fn add_columns(
        &self,
        py: Python<'_>,
        schema_json: &str,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        let fields = StructType::from_json(schema_json).map_err(to_py)?.fields;
        self.alter(py, commit_properties, |alter| alter.add_columns(fields))
    }

    /// Set table properties (`delta.*` values are checked; features they need are added).
    #[pyo3(signature = (properties, commit_properties = None))]
    fn set_table_properties(
        &self,
        py: Python<'_>,
        properties: HashMap<String, String>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, commit_properties, |alter| alter.set_properties(properties))
    }

    /// Add table features to the protocol by name (`deletionVectors`, `columnMapping`, ...).
    #[pyo3(signature = (features, commit_properties = None))]
    fn add_features(
        &self,
        py: Python<'_>,
        features: Vec<String>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, commit_properties, |alter| alter.add_features(features))
    }

    /// Set the table's name.
    #[pyo3(signature = (name, commit_properties = None))]
    fn set_table_name(
        &self,
        py: Python<'_>,
        name: String,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, commit_properties, |alter| alter.set_name(name))
    }

    /// Set the table's description.
    #[pyo3(signature = (description, commit_properties = None))]
    fn set_table_description(
        &self,
        py: Python<'_>,
        description: String,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, commit_properties, |alter| alter.set_description(description))
    }

    /// Remove from the table the files missing from storage (only list them when `dry_run`);
    /// returns `(dry_run, paths of the missing files)`.
    #[pyo3(signature = (dry_run = false, commit_properties = None))]
    fn repair(
        &self,
        py: Python<'_>,
        dry_run: bool,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<(bool, Vec<String>)> {
        let mut check = self.current().filesystem_check().with_dry_run(dry_run);
        if let Some(commit) = &commit_properties {
            check = check.with_commit_properties(commit.to_core()?);
        }
        let metrics = self.update_with(py, |_| check.execute())?;
        Ok((metrics.dry_run, metrics.files_removed))
    }

    /// Write a checkpoint of the loaded version.
    fn create_checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        let table = self.current();
        block_on(py, async move { table.create_checkpoint().await })?.map_err(to_py)?;
        Ok(())
    }

    /// Delete the log files older than the log retention that no retained version needs; returns
    /// how many were deleted.
    fn cleanup_metadata(&self, py: Python<'_>) -> PyResult<usize> {
        let table = self.current();
        block_on(py, async move { table.cleanup_metadata().await })?.map_err(to_py)
    }

    /// The latest transaction version recorded for application `app_id`.
    fn transaction_version(&self, app_id: &str) -> Option<i64> {
        self.current().snapshot().txn(app_id).map(|t| t.version)
    }
}

/// A count as a Python int (metrics dicts hold `i64`).
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A duration in milliseconds as a Python int.
fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// The time `ms` milliseconds after the epoch.
fn datetime_from_ms(ms: i64) -> PyResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| PyValueError::new_err(format!("timestamp {ms} ms is out of range")))
}

fn scan_of(table: &DeltaTable, columns: Option<Vec<String>>, filters: Vec<PyFilter>) -> PyResult<deltalake::Scan> {
    let mut builder = table.scan();
    if let Some(columns) = columns {
        builder = builder.with_columns(columns);
    }
    for filter in filters {
        builder = builder.with_filter(filter.into_expr()?);
    }
    builder.build().map_err(to_py)
}

/// The path of a file relative to the table root, URL-decoded.
fn decoded_path(file: &FileView<'_>) -> String {
    percent_decode_str(file.path()).decode_utf8_lossy().into_owned()
}

/// Where a file is, as the reference package gives it: a local path for local files, else the URI.
fn file_location(url: &Url) -> String {
    match url.to_file_path() {
        Ok(path) if url.scheme() == "file" => path.to_string_lossy().into_owned(),
        _ => url.to_string(),
    }
}

//! `RawDeltaTable`: a loaded table, the reads on it (with filters), and the operations on it,
//! each a request of the core's binding facade filled from the Python arguments.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use deltalake::bindings::{
    AlterRequest, CommitOptions, DeleteRequest, FileListing, Filter, MergeClause, MergeRequest, OptimizeRequest, Pump,
    RepairRequest, RestoreRequest, RestoreTarget, UpdateRequest, VacuumRequest, WriteFilesRequest,
    cleanup_expired_logs as cleanup_expired_logs_after, location_of, metrics_json,
};
use deltalake::operations::alter::TableChange;
use deltalake::operations::merge::MergeSource;
use deltalake::operations::optimize::OptimizeType;
use deltalake::protocol::StructType;
use deltalake::{DeltaError as CoreError, DeltaTable};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;

use crate::arrow_interop::{ArrowStream, reader_from_py};
use crate::error::to_py;
use crate::filter::PyFilter;
use crate::runtime::run;
use crate::schema::delta_schema_from_py;
use crate::write::{PyAddAction, PyCommitProperties, PyPostCommitHooks, PyWriterProperties, commit_options};

/// A Delta table loaded at some version (wrapped by `deltalake.DeltaTable`).
#[pyclass(module = "deltalake._internal", frozen)]
pub struct RawDeltaTable {
    table: Mutex<DeltaTable>,
    /// The last `add_actions` table made, with the version and `flatten` it was made for (a
    /// version's files never change, so asking again costs nothing).
    add_actions: Mutex<Option<(i64, bool, RecordBatch)>>,
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

/// One merge clause as `TableMerger` records it: `(kind, predicate, updates, except_cols)`,
/// where kind is the name of the `TableMerger` method (`when_matched_update`, ...).
type PyMergeClause = (
    String,
    Option<String>,
    Option<Vec<(String, String)>>,
    Option<Vec<String>>,
);

impl RawDeltaTable {
    pub(crate) fn current(&self) -> DeltaTable {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn replace(&self, table: DeltaTable) {
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = table;
    }

    /// Run an operation that gives a new table and metrics; keep the table, return the metrics
    /// as a dict with the reference package's keys.
    fn operate<'py, M, Fut>(&self, py: Python<'py>, operation: Fut) -> PyResult<Bound<'py, PyAny>>
    where
        Fut: Future<Output = Result<(DeltaTable, M), CoreError>> + Send,
        M: Serialize + Send,
    {
        let (table, metrics) = run(py, operation)?;
        self.replace(table);
        to_dict(py, &metrics)
    }

    /// Commit an alteration made of one change and move to the new version.
    fn alter(&self, py: Python<'_>, change: TableChange, commit: Option<PyCommitProperties>) -> PyResult<()> {
        let request = AlterRequest {
            change,
            commit: commit_options(commit)?,
        };
        let table = self.current();
        let altered = run(py, request.execute(&table))?;
        self.replace(altered);
        Ok(())
    }

    /// Move to another version (or the latest) through `load`.
    fn reload<F, Fut>(&self, py: Python<'_>, load: F) -> PyResult<()>
    where
        F: FnOnce(DeltaTable) -> Fut,
        Fut: Future<Output = Result<DeltaTable, CoreError>> + Send,
    {
        let table = run(py, load(self.current()))?;
        self.replace(table);
        Ok(())
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
        Ok(Self {
            table: Mutex::new(run(py, builder.load())?),
            add_actions: Mutex::new(None),
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
        run(py, DeltaTable::exists(table_uri, storage_options.unwrap_or_default()))
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
        let table = self.current();
        let files = FileListing::new(&table, filter.map(Filter::from)).map_err(to_py)?;
        Ok(files.paths().collect())
    }

    /// The size in bytes of each active file, by its path relative to the table root (decoded).
    fn get_add_file_sizes(&self) -> PyResult<HashMap<String, i64>> {
        let table = self.current();
        let files = FileListing::new(&table, None).map_err(to_py)?;
        Ok(files.paths().zip(files.sizes()).collect())
    }

    /// The absolute locations of the active files (local paths for local tables); with a
    /// `filter`, only the files that may hold matching rows.
    #[pyo3(signature = (filter = None))]
    fn file_uris(&self, filter: Option<PyFilter>) -> PyResult<Vec<String>> {
        let table = self.current();
        let files = FileListing::new(&table, filter.map(Filter::from)).map_err(to_py)?;
        files.locations().collect::<Result<_, _>>().map_err(to_py)
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
        let commits = run(py, async move { table.history(limit).await })?;
        commits
            .into_iter()
            .map(|(version, info)| {
                let mut value = serde_json::to_value(info).map_err(|e| to_py(e.into()))?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("version".into(), version.into());
                }
                Ok(value.to_string())
            })
            .collect()
    }

    /// Load another version.
    fn load_version(&self, py: Python<'_>, version: i64) -> PyResult<()> {
        self.reload(py, |mut table| async move {
            table.load_version(version).await?;
            Ok(table)
        })
    }

    /// Load the latest version committed at or before `timestamp_ms` (milliseconds since the epoch).
    fn load_timestamp(&self, py: Python<'_>, timestamp_ms: i64) -> PyResult<()> {
        let timestamp = datetime_from_ms(timestamp_ms)?;
        self.reload(py, |mut table| async move {
            table.load_timestamp(timestamp).await?;
            Ok(table)
        })
    }

    /// Move to the latest version, replaying only the new commits.
    fn update_incremental(&self, py: Python<'_>) -> PyResult<()> {
        self.reload(py, |mut table| async move {
            table.refresh().await?;
            Ok(table)
        })
    }

    /// The partition values of each active file (of each file that may hold rows matching
    /// `filter`, when given), keyed by column name (`None` for null).
    #[pyo3(signature = (filter = None))]
    fn partitions(&self, filter: Option<PyFilter>) -> PyResult<Vec<HashMap<String, Option<String>>>> {
        let table = self.current();
        let files = FileListing::new(&table, filter.map(Filter::from)).map_err(to_py)?;
        Ok(files
            .partition_values()
            .map(|values| values.into_iter().collect())
            .collect())
    }

    /// The active files with statistics and partition values as an Arrow stream.
    #[pyo3(signature = (flatten = false))]
    fn add_actions(&self, py: Python<'_>, flatten: bool) -> PyResult<ArrowStream> {
        let table = self.current();
        let version = table.version();
        let cached = {
            let cache = self.add_actions.lock().unwrap_or_else(PoisonError::into_inner);
            match cache.as_ref() {
                Some((v, f, batch)) if *v == version && *f == flatten => Some(batch.clone()),
                _ => None,
            }
        };
        let batch = match cached {
            Some(batch) => batch,
            None => {
                // Made without the GIL and without the cache's lock (another thread may wait on it
                // holding the GIL).
                let batch = py
                    .detach(|| table.snapshot().add_actions_table(flatten))
                    .map_err(to_py)?;
                *self.add_actions.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((version, flatten, batch.clone()));
                batch
            }
        };
        ArrowStream::from_batches(batch.schema(), vec![batch])
    }

    /// The deletion vectors as keep masks, one row per file that has one: `filepath` (located as
    /// `file_uris` gives it) and `selection_vector` (`true` for the rows kept).
    fn deletion_vectors(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let table = self.current();
        let batch = run(py, async move { table.deletion_vectors().await })?;
        let locations: StringArray = batch
            .column(0)
            .as_string::<i32>()
            .iter()
            .map(|uri| uri.map(location_of))
            .collect();
        let columns = vec![Arc::new(locations) as ArrayRef, batch.column(1).clone()];
        let batch = RecordBatch::try_new(batch.schema(), columns).map_err(|e| to_py(e.into()))?;
        ArrowStream::from_batches(batch.schema(), vec![batch])
    }

    /// Read the table (or `columns` of it, or the rows matching every one of `filters`) into
    /// memory with the GIL released.
    #[pyo3(signature = (columns = None, filters = Vec::new()))]
    fn read_all(&self, py: Python<'_>, columns: Option<Vec<String>>, filters: Vec<PyFilter>) -> PyResult<ArrowStream> {
        let scan = scan_of(&self.current(), columns, filters)?;
        let schema = scan.schema();
        let batches = run(py, async move { scan.collect().await })?;
        ArrowStream::from_batches(schema, batches)
    }

    /// A stream of the table's batches (of `columns`, of the rows matching every one of
    /// `filters`), read as the consumer asks for them.
    #[pyo3(signature = (columns = None, filters = Vec::new()))]
    fn read_stream(&self, columns: Option<Vec<String>>, filters: Vec<PyFilter>) -> PyResult<ArrowStream> {
        let scan = scan_of(&self.current(), columns, filters)?;
        ArrowStream::from_async(scan.schema(), scan.execute())
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
        let mut feed = self
            .current()
            .load_cdf()
            .with_starting_version(starting_version)
            .with_allow_out_of_range(allow_out_of_range);
        if let Some(version) = ending_version {
            feed = feed.with_ending_version(version);
        }
        if let Some(ms) = starting_timestamp_ms {
            feed = feed.with_starting_timestamp(datetime_from_ms(ms)?);
        }
        if let Some(ms) = ending_timestamp_ms {
            feed = feed.with_ending_timestamp(datetime_from_ms(ms)?);
        }
        if let Some(columns) = columns {
            feed = feed.with_columns(columns);
        }
        if let Some(sql) = predicate {
            feed = feed.with_predicate(sql);
        }
        let (schema, stream) = run(py, feed.execute())?;
        ArrowStream::from_async(schema, stream)
    }

    /// Restore the table to `version`, or to the version current at `timestamp_ms`, as a new
    /// commit; returns the metrics of the reference package (`numRemovedFile`,
    /// `numRestoredFile`) and the sizes of the Delta protocol's RESTORE metrics.
    #[pyo3(signature = (version = None, timestamp_ms = None, ignore_missing_files = false,
        protocol_downgrade_allowed = false, commit_properties = None))]
    fn restore<'py>(
        &self,
        py: Python<'py>,
        version: Option<i64>,
        timestamp_ms: Option<i64>,
        ignore_missing_files: bool,
        protocol_downgrade_allowed: bool,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let target = match (version, timestamp_ms) {
            (Some(version), None) => RestoreTarget::Version(version),
            (None, Some(ms)) => RestoreTarget::Timestamp(datetime_from_ms(ms)?),
            _ => return Err(PyValueError::new_err("give exactly one of a version and a timestamp")),
        };
        let request = RestoreRequest {
            ignore_missing_files,
            protocol_downgrade_allowed,
            commit: commit_options(commit_properties)?,
            ..RestoreRequest::new(target)
        };
        let table = self.current();
        self.operate(py, request.execute(&table))
    }

    /// Delete the rows matching the SQL `predicate` (every row without one); returns the metrics
    /// with the reference package's keys (`num_deleted_rows`, `num_added_files`, ...).
    #[pyo3(signature = (predicate = None, writer_properties = None, commit_properties = None))]
    fn delete<'py>(
        &self,
        py: Python<'py>,
        predicate: Option<String>,
        writer_properties: Option<PyWriterProperties>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = DeleteRequest {
            predicate,
            writer: writer_properties.map(|p| p.to_options(None)),
            commit: commit_options(commit_properties)?,
        };
        let table = self.current();
        self.operate(py, request.execute(&table))
    }

    /// Set each column of `updates` to the value of its SQL expression in the rows matching the
    /// SQL `predicate` (every row without one); returns the metrics with the reference package's
    /// keys (`num_updated_rows`, `num_added_files`, ...).
    #[pyo3(signature = (updates, predicate = None, writer_properties = None, commit_properties = None))]
    fn update<'py>(
        &self,
        py: Python<'py>,
        updates: Vec<(String, String)>,
        predicate: Option<String>,
        writer_properties: Option<PyWriterProperties>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = UpdateRequest {
            updates,
            predicate,
            writer: writer_properties.map(|p| p.to_options(None)),
            commit: commit_options(commit_properties)?,
        };
        let table = self.current();
        self.operate(py, request.execute(&table))
    }

    /// Merge the Arrow `source` into the table, joined on the SQL `predicate`, applying
    /// `clauses` (see `deltalake.TableMerger`) in order; returns the metrics with the reference
    /// package's keys (`num_source_rows`, `num_target_rows_inserted`, ...).
    #[pyo3(signature = (source, predicate, clauses, source_alias = None, target_alias = None,
        merge_schema = false, writer_properties = None, commit_properties = None))]
    #[allow(clippy::too_many_arguments)]
    fn merge<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'_, PyAny>,
        predicate: String,
        clauses: Vec<PyMergeClause>,
        source_alias: Option<String>,
        target_alias: Option<String>,
        merge_schema: bool,
        writer_properties: Option<PyWriterProperties>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let clauses = clauses
            .into_iter()
            .map(|(kind, predicate, updates, except)| {
                Ok(MergeClause {
                    predicate,
                    assignments: updates.unwrap_or_default(),
                    except: except.unwrap_or_default(),
                    ..MergeClause::new(kind.parse().map_err(to_py)?)
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let request = MergeRequest {
            predicate,
            source_alias,
            target_alias,
            merge_schema,
            clauses,
            writer: writer_properties.map(|p| p.to_options(None)),
            commit: commit_options(commit_properties)?,
        };
        let (schema, input, pump) = Pump::start(reader_from_py(source)?).map_err(to_py)?;
        let table = self.current();
        let merged = self.operate(py, request.execute(&table, MergeSource::Stream(schema, input)));
        py.detach(|| pump.finish()).map_err(to_py)?;
        merged
    }

    /// Compact the small files (or, with `z_order_columns`, rewrite the files sorted by the
    /// Z-order of those columns) of the partitions matching `partition_filters`; returns the
    /// metrics (`numFilesAdded`, `numFilesRemoved`, `filesAdded`, ...).
    #[pyo3(signature = (z_order_columns = None, partition_filters = None, target_size = None,
        max_concurrent_tasks = None, writer_properties = None, commit_properties = None))]
    #[allow(clippy::too_many_arguments)]
    fn optimize<'py>(
        &self,
        py: Python<'py>,
        z_order_columns: Option<Vec<String>>,
        partition_filters: Option<PyFilter>,
        target_size: Option<u64>,
        max_concurrent_tasks: Option<usize>,
        writer_properties: Option<PyWriterProperties>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = OptimizeRequest {
            kind: z_order_columns.map_or(OptimizeType::Compact, OptimizeType::ZOrder),
            partition_filter: partition_filters.map(Filter::from),
            target_size,
            max_concurrent_tasks,
            writer: writer_properties.map(|p| p.to_options(None)),
            commit: commit_options(commit_properties)?,
        };
        let table = self.current();
        self.operate(py, request.execute(&table))
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
        let request = VacuumRequest {
            retention_hours,
            dry_run,
            enforce_retention_duration,
            full,
            commit: commit_options(commit_properties)?,
        };
        let table = self.current();
        let (table, metrics) = run(py, request.execute(&table))?;
        self.replace(table);
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
        self.alter(py, TableChange::AddConstraint { name, expression }, commit_properties)
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
        self.alter(py, TableChange::DropConstraint { name, if_exists }, commit_properties)
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
        self.alter(py, TableChange::AddColumns(fields), commit_properties)
    }

    /// Set table properties (`delta.*` values are checked; features they need are added).
    #[pyo3(signature = (properties, commit_properties = None))]
    fn set_table_properties(
        &self,
        py: Python<'_>,
        properties: HashMap<String, String>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, TableChange::SetProperties(properties), commit_properties)
    }

    /// Add table features to the protocol by name (`deletionVectors`, `columnMapping`, ...).
    #[pyo3(signature = (features, commit_properties = None))]
    fn add_features(
        &self,
        py: Python<'_>,
        features: Vec<String>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, TableChange::AddFeatures(features), commit_properties)
    }

    /// Set the table's name.
    #[pyo3(signature = (name, commit_properties = None))]
    fn set_table_name(
        &self,
        py: Python<'_>,
        name: String,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, TableChange::SetName(name), commit_properties)
    }

    /// Set the table's description.
    #[pyo3(signature = (description, commit_properties = None))]
    fn set_table_description(
        &self,
        py: Python<'_>,
        description: String,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, TableChange::SetDescription(description), commit_properties)
    }

    /// Add or replace metadata entries of a column.
    #[pyo3(signature = (column, metadata, commit_properties = None))]
    fn set_column_metadata(
        &self,
        py: Python<'_>,
        column: String,
        metadata: HashMap<String, String>,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(
            py,
            TableChange::SetColumnMetadata { column, metadata },
            commit_properties,
        )
    }

    /// Make a non-nullable column nullable.
    #[pyo3(signature = (column, commit_properties = None))]
    fn drop_column_not_null(
        &self,
        py: Python<'_>,
        column: String,
        commit_properties: Option<PyCommitProperties>,
    ) -> PyResult<()> {
        self.alter(py, TableChange::DropNotNull { column }, commit_properties)
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
        let request = RepairRequest {
            dry_run,
            commit: commit_options(commit_properties)?,
        };
        let table = self.current();
        let (table, metrics) = run(py, request.execute(&table))?;
        self.replace(table);
        Ok((metrics.dry_run, metrics.files_removed))
    }

    /// Write a checkpoint of the loaded version.
    fn create_checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        let table = self.current();
        run(py, async move { table.create_checkpoint().await })?;
        Ok(())
    }

    /// Write the symlink manifests of the loaded version.
    fn generate(&self, py: Python<'_>) -> PyResult<()> {
        let table = self.current();
        run(py, async move { table.generate_symlink_manifests().await })?;
        Ok(())
    }

    /// Write the log compaction file of commits `starting_version..=ending_version`.
    fn compact_logs(&self, py: Python<'_>, starting_version: i64, ending_version: i64) -> PyResult<()> {
        let table = self.current();
        run(
            py,
            async move { table.compact_logs(starting_version, ending_version).await },
        )?;
        Ok(())
    }

    /// Delete the log files older than the log retention that no retained version needs; returns
    /// how many were deleted.
    fn cleanup_metadata(&self, py: Python<'_>) -> PyResult<usize> {
        let table = self.current();
        run(py, async move { table.cleanup_metadata().await })
    }

    /// Commit files written elsewhere on top of the loaded version and move to the new one:
    /// `actions` are `AddAction`s and `RemoveAction`s (removes only with `mode` `append`);
    /// `overwrite` also removes the files of the partitions `partitions_filters` (tuple filters)
    /// selects, all without it. `schema` must be the table's; `partition_by` is the table's.
    /// The post-commit log cleanup runs as `post_commithook_properties` says.
    #[pyo3(signature = (actions, mode, partition_by, schema, partitions_filters = None, commit_properties = None,
        post_commithook_properties = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_write_transaction(
        &self,
        py: Python<'_>,
        actions: Vec<Bound<'_, PyAny>>,
        mode: &str,
        partition_by: Vec<String>,
        schema: &Bound<'_, PyAny>,
        partitions_filters: Option<&Bound<'_, PyAny>>,
        commit_properties: Option<PyCommitProperties>,
        post_commithook_properties: Option<PyPostCommitHooks>,
    ) -> PyResult<()> {
        let _ = partition_by;
        let hooks = post_commithook_properties.unwrap_or_default();
        let mut files = Vec::new();
        let mut removes = Vec::new();
        for action in actions {
            if action.hasattr("deletion_timestamp")? {
                removes.push((
                    action.getattr("path")?.extract()?,
                    action.getattr("data_change")?.extract()?,
                ));
            } else {
                files.push(action.extract::<PyAddAction>()?.into_file());
            }
        }
        // Tuple filters in the partition form the Python side gives them.
        let partition_filter = match partitions_filters {
            Some(filters) if !filters.is_none() => {
                let normalised = py.import("deltalake.table")?.getattr("_dnf")?.call1((filters, true))?;
                normalised.extract::<Option<PyFilter>>()?.map(Filter::from)
            }
            _ => None,
        };
        let request = WriteFilesRequest {
            mode: mode.parse().map_err(to_py)?,
            partition_filter,
            files,
            removes,
            commit: CommitOptions {
                create_checkpoint: Some(hooks.create_checkpoint),
                ..commit_options(commit_properties)?
            },
        };
        let schema = delta_schema_from_py(schema)?;
        let table = self.current();
        let written = run(py, async move { request.execute(&table, &schema).await })?;
        if hooks.create_checkpoint {
            let cleanup = hooks.cleanup_expired_logs;
            run(py, cleanup_expired_logs_after(&written, cleanup))?;
        }
        self.replace(written);
        Ok(())
    }

    /// The post-commit log cleanup: when the loaded version was due a checkpoint, delete the
    /// expired log files (`cleanup_expired_logs`, or the table's `delta.enableExpiredLogCleanup`
    /// when `None`); returns how many were deleted.
    #[pyo3(signature = (cleanup_expired_logs = None))]
    fn cleanup_expired_logs(&self, py: Python<'_>, cleanup_expired_logs: Option<bool>) -> PyResult<usize> {
        let table = self.current();
        run(py, async move {
            cleanup_expired_logs_after(&table, cleanup_expired_logs).await
        })
    }

    /// The latest transaction version recorded for application `app_id`.
    fn transaction_version(&self, app_id: &str) -> Option<i64> {
        self.current().snapshot().txn(app_id).map(|t| t.version)
    }
}

/// `metrics` as a dict with the reference package's keys.
fn to_dict<'py>(py: Python<'py>, metrics: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = metrics_json(metrics).map_err(to_py)?.to_string();
    py.import("json")?.call_method1("loads", (json,))
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
        builder = builder.with_filter(Filter::from(filter).into_expr().map_err(to_py)?);
    }
    builder.build().map_err(to_py)
}

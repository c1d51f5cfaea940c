//! Writing Arrow data into tables, creating tables and converting Parquet directories; the
//! settings objects of the Python API read into the core's plain-data options.

use std::collections::HashMap;
use std::sync::Arc;

use deltalake::bindings::{
    BloomFilterOptions, ColumnOptions, CommitOptions, CreateRequest, CreateWithFilesRequest, ExternalFile, Pump,
    WriteRequest, WriteTarget, WriterOptions, cleanup_expired_logs as cleanup_expired_logs_after,
};
use deltalake::protocol::StructType;
use deltalake::{DeltaError as CoreError, DeltaTable};
use pyo3::prelude::*;

use crate::arrow_interop::{reader_from_py, schema_from_py};
use crate::error::{invalid_argument_error, to_py};
use crate::runtime::run;
use crate::schema::delta_schema_from_py;
use crate::table::RawDeltaTable;

/// The Parquet settings of `deltalake.WriterProperties`, read from its attributes (`compression`
/// holds the codec with its level, as `"ZSTD(3)"`).
#[derive(FromPyObject)]
pub struct PyWriterProperties {
    compression: Option<String>,
    max_row_group_size: Option<usize>,
    data_page_size_limit: Option<usize>,
    dictionary_page_size_limit: Option<usize>,
    data_page_row_count_limit: Option<usize>,
    write_batch_size: Option<usize>,
    statistics_truncate_length: Option<usize>,
    default_column_properties: Option<PyColumnProperties>,
    column_properties: Option<HashMap<String, PyColumnProperties>>,
}

/// The settings of `deltalake.ColumnProperties`, read from its attributes.
#[derive(FromPyObject)]
pub struct PyColumnProperties {
    dictionary_enabled: Option<bool>,
    statistics_enabled: Option<String>,
    bloom_filter_properties: Option<PyBloomFilterProperties>,
    encoding: Option<String>,
}

/// The settings of `deltalake.BloomFilterProperties`, read from its attributes.
#[derive(FromPyObject)]
pub struct PyBloomFilterProperties {
    set_bloom_filter_enabled: Option<bool>,
    fpp: Option<f64>,
    ndv: Option<u64>,
}

impl PyColumnProperties {
    fn to_options(&self) -> ColumnOptions {
        ColumnOptions {
            dictionary_enabled: self.dictionary_enabled,
            statistics_enabled: self.statistics_enabled.clone(),
            bloom_filter: self.bloom_filter_properties.as_ref().map(|b| BloomFilterOptions {
                enabled: b.set_bloom_filter_enabled.unwrap_or(false),
                fpp: b.fpp,
                ndv: b.ndv,
            }),
            encoding: self.encoding.clone(),
        }
    }
}

impl PyWriterProperties {
    /// The core's writer options, with `target_file_size` when given.
    pub fn to_options(&self, target_file_size: Option<usize>) -> WriterOptions {
        WriterOptions {
            compression: self.compression.clone(),
            compression_level: None,
            max_row_group_size: self.max_row_group_size,
            data_page_size_limit: self.data_page_size_limit,
            dictionary_page_size_limit: self.dictionary_page_size_limit,
            data_page_row_count_limit: self.data_page_row_count_limit,
            write_batch_size: self.write_batch_size,
            statistics_truncate_length: self.statistics_truncate_length,
            target_file_size,
            default_column: self
                .default_column_properties
                .as_ref()
                .map(PyColumnProperties::to_options)
                .unwrap_or_default(),
            columns: self
                .column_properties
                .iter()
                .flatten()
                .map(|(name, column)| (name.clone(), column.to_options()))
                .collect(),
        }
    }
}

/// The settings of `deltalake.CommitProperties`, read from its attributes.
#[derive(FromPyObject)]
pub struct PyCommitProperties {
    max_commit_retries: Option<u32>,
    /// `custom_metadata` serialised as a JSON object by the Python side.
    custom_metadata_json: Option<String>,
    /// `(app_id, version)` of each application transaction.
    app_transaction_versions: Vec<(String, i64)>,
    /// Whether a due checkpoint is written (the post-commit hooks' `create_checkpoint`; absent
    /// from a plain `CommitProperties`).
    #[pyo3(default)]
    create_checkpoint: Option<bool>,
}

/// The core's commit options of `properties` (the defaults without them). Custom metadata that
/// would replace what the commit writes is refused, in the reference package's words.
pub fn commit_options(properties: Option<PyCommitProperties>) -> PyResult<CommitOptions> {
    let Some(properties) = properties else {
        return Ok(CommitOptions::default());
    };
    let options = CommitOptions {
        max_commit_retries: properties.max_commit_retries,
        app_transactions: properties.app_transaction_versions,
        create_checkpoint: properties.create_checkpoint,
        ..CommitOptions::default()
    };
    let Some(json) = &properties.custom_metadata_json else {
        return Ok(options);
    };
    match options.with_custom_metadata_json(json) {
        Ok(options) => Ok(options),
        Err(CoreError::InvalidArgument(message)) if message.starts_with("custom_metadata") => {
            Err(invalid_argument_error(format!("CommitProperties.{message}")))
        }
        Err(e) => Err(to_py(e)),
    }
}

/// The settings of `deltalake.PostCommitHookProperties`, read from its attributes.
#[derive(FromPyObject)]
pub struct PyPostCommitHooks {
    /// Whether the commit is checkpointed when due (only the log cleanup follows it for now).
    pub create_checkpoint: bool,
    /// Whether expired logs are deleted after a checkpoint (`None`: the table's setting).
    pub cleanup_expired_logs: Option<bool>,
}

impl Default for PyPostCommitHooks {
    fn default() -> Self {
        Self {
            create_checkpoint: true,
            cleanup_expired_logs: None,
        }
    }
}

/// Where `write_to_deltalake` writes: a loaded table (its snapshot is reused) or a location.
#[derive(FromPyObject)]
pub enum PyWriteTarget<'py> {
    /// A `RawDeltaTable`.
    Table(Bound<'py, RawDeltaTable>),
    /// A URI or local path.
    Uri(String),
}

/// Write `data` (an object with `__arrow_c_stream__`) into `target`, creating the table when
/// absent; with `predicate` (and mode `overwrite`) only the rows matching it are replaced. A
/// `RawDeltaTable` target moves to the new version. With `post_commit`, expired log files are
/// deleted after a checkpoint (`cleanup_expired_logs`, else as the table's properties say).
/// Returns the table's new version.
#[pyfunction]
#[pyo3(signature = (target, data, mode, schema_mode = None, partition_by = None, target_file_size = None,
    storage_options = None, configuration = None, name = None, description = None, writer_properties = None,
    commit_properties = None, predicate = None, post_commit = true, cleanup_expired_logs = None))]
#[allow(clippy::too_many_arguments)]
pub fn write_to_deltalake(
    py: Python<'_>,
    target: PyWriteTarget<'_>,
    data: &Bound<'_, PyAny>,
    mode: &str,
    schema_mode: Option<&str>,
    partition_by: Option<Vec<String>>,
    target_file_size: Option<usize>,
    storage_options: Option<HashMap<String, String>>,
    configuration: Option<HashMap<String, String>>,
    name: Option<String>,
    description: Option<String>,
    writer_properties: Option<PyWriterProperties>,
    commit_properties: Option<PyCommitProperties>,
    predicate: Option<String>,
    post_commit: bool,
    cleanup_expired_logs: Option<bool>,
) -> PyResult<i64> {
    let writer = match &writer_properties {
        Some(properties) => properties.to_options(target_file_size),
        None => WriterOptions {
            target_file_size,
            ..WriterOptions::default()
        },
    };
    let request = WriteRequest {
        mode: mode.parse().map_err(to_py)?,
        schema_mode: schema_mode.map_or(Ok(Default::default()), str::parse).map_err(to_py)?,
        partition_by,
        configuration: configuration.unwrap_or_default(),
        name,
        description,
        predicate,
        writer,
        commit: CommitOptions {
            // Without the checkpoint hook a due version is not checkpointed.
            create_checkpoint: (!post_commit).then_some(false),
            ..commit_options(commit_properties)?
        },
    };
    let (write_target, raw) = match target {
        PyWriteTarget::Table(raw) => (WriteTarget::Table(raw.get().current()), Some(raw)),
        PyWriteTarget::Uri(uri) => (
            WriteTarget::Location {
                uri,
                storage_options: storage_options.unwrap_or_default(),
            },
            None,
        ),
    };
    let (schema, input, pump) = Pump::start(reader_from_py(data)?).map_err(to_py)?;
    let written = run(py, request.execute(write_target, schema, input));
    // The write has dropped its input, so the pump stops after the batch it is reading, if any.
    py.detach(|| pump.finish()).map_err(to_py)?;
    let table = written?;
    if post_commit {
        let cleanup = cleanup_expired_logs;
        run(py, cleanup_expired_logs_after(&table, cleanup))?;
    }
    let version = table.version();
    if let Some(raw) = raw {
        raw.get().replace(table);
    }
    Ok(version)
}

/// Create an empty table with the schema of `schema` (an object with `__arrow_c_schema__`).
#[pyfunction]
#[pyo3(signature = (table_uri, schema, mode, partition_by = None, name = None, description = None,
    configuration = None, storage_options = None, commit_properties = None))]
#[allow(clippy::too_many_arguments)]
pub fn create_deltalake(
    py: Python<'_>,
    table_uri: String,
    schema: &Bound<'_, PyAny>,
    mode: &str,
    partition_by: Option<Vec<String>>,
    name: Option<String>,
    description: Option<String>,
    configuration: Option<HashMap<String, String>>,
    storage_options: Option<HashMap<String, String>>,
    commit_properties: Option<PyCommitProperties>,
) -> PyResult<()> {
    let request = CreateRequest {
        mode: mode.parse().map_err(to_py)?,
        partition_by: partition_by.unwrap_or_default(),
        configuration: configuration.unwrap_or_default(),
        name,
        description,
        commit: commit_options(commit_properties)?,
    };
    let schema = schema_from_py(schema)?;
    run(
        py,
        request.execute(table_uri, storage_options.unwrap_or_default(), &schema),
    )?;
    Ok(())
}

/// Make a Delta table of the Parquet files under `uri`, in place. `partition_schema` (an object
/// with `__arrow_c_schema__`) names and types the Hive partition columns, outermost first.
#[pyfunction]
#[pyo3(signature = (uri, partition_schema = None, name = None, description = None, configuration = None,
    storage_options = None, commit_properties = None))]
#[allow(clippy::too_many_arguments)]
pub fn convert_to_deltalake(
    py: Python<'_>,
    uri: String,
    partition_schema: Option<&Bound<'_, PyAny>>,
    name: Option<String>,
    description: Option<String>,
    configuration: Option<HashMap<String, String>>,
    storage_options: Option<HashMap<String, String>>,
    commit_properties: Option<PyCommitProperties>,
) -> PyResult<()> {
    let mut convert = DeltaTable::convert_to_delta(uri)
        .with_storage_options(storage_options.unwrap_or_default())
        .with_properties(configuration.unwrap_or_default())
        .with_commit_properties(commit_options(commit_properties)?.to_properties());
    if let Some(schema) = partition_schema {
        let arrow = Arc::new(schema_from_py(schema)?);
        let columns = StructType::try_from_arrow(&arrow).map_err(to_py)?;
        convert = convert.with_partition_columns(columns.fields);
    }
    if let Some(name) = name {
        convert = convert.with_name(name);
    }
    if let Some(description) = description {
        convert = convert.with_description(description);
    }
    run(py, convert.execute())?;
    Ok(())
}

/// A `deltalake.transaction.AddAction`, read from its attributes.
#[derive(FromPyObject)]
pub struct PyAddAction {
    path: String,
    size: i64,
    partition_values: HashMap<String, Option<String>>,
    modification_time: i64,
    data_change: bool,
    stats: Option<String>,
}

impl PyAddAction {
    /// The facade's description of the file.
    pub fn into_file(self) -> ExternalFile {
        ExternalFile {
            path: self.path,
            size: self.size,
            partition_values: self.partition_values,
            modification_time: self.modification_time,
            data_change: self.data_change,
            stats: self.stats,
        }
    }
}

/// Create the table at `table_uri` with `schema` (a `Schema` or any object with
/// `__arrow_c_schema__`) whose first version adds the files of `add_actions`, written by someone
/// else; `mode` `overwrite` replaces an existing table's definition and files.
#[pyfunction]
#[pyo3(signature = (table_uri, schema, add_actions, mode, partition_by = None, name = None, description = None,
    configuration = None, storage_options = None, commit_properties = None))]
#[allow(clippy::too_many_arguments)]
pub fn create_table_with_add_actions(
    py: Python<'_>,
    table_uri: String,
    schema: &Bound<'_, PyAny>,
    add_actions: Vec<PyAddAction>,
    mode: &str,
    partition_by: Option<Vec<String>>,
    name: Option<String>,
    description: Option<String>,
    configuration: Option<HashMap<String, String>>,
    storage_options: Option<HashMap<String, String>>,
    commit_properties: Option<PyCommitProperties>,
) -> PyResult<()> {
    let files = add_actions.into_iter().map(PyAddAction::into_file).collect();
    let request = CreateWithFilesRequest {
        mode: mode.parse().map_err(to_py)?,
        partition_by: partition_by.unwrap_or_default(),
        configuration: configuration.unwrap_or_default(),
        name,
        description,
        commit: commit_options(commit_properties)?,
        files,
    };
    let schema = delta_schema_from_py(schema)?;
    run(
        py,
        request.execute(table_uri, storage_options.unwrap_or_default(), schema),
    )?;
    Ok(())
}

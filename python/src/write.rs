//! Writing Arrow data into tables and creating tables.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow::ffi_stream::RecordBatchStreamReader;
use deltalake::DeltaTable;
use deltalake::operations::create::IfExists;
use deltalake::operations::write::{InputStream, SaveMode, SchemaMode};
use deltalake::protocol::StructType;
use deltalake::transaction::CommitProperties;
use deltalake::write::WriterConfig;
use futures::StreamExt;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use pyo3::exceptions::{PyNotImplementedError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::arrow_interop::{reader_from_py, schema_from_py};
use crate::error::to_py;
use crate::runtime::block_on;

/// The Parquet settings of `deltalake.WriterProperties`, read from its attributes.
#[derive(FromPyObject)]
pub struct PyWriterProperties {
    compression: Option<String>,
    compression_level: Option<i32>,
    max_row_group_size: Option<usize>,
    data_page_size_limit: Option<usize>,
    dictionary_page_size_limit: Option<usize>,
    data_page_row_count_limit: Option<usize>,
    write_batch_size: Option<usize>,
    statistics_truncate_length: Option<usize>,
}

impl PyWriterProperties {
    /// The Parquet writer properties.
    pub fn to_parquet(&self) -> PyResult<WriterProperties> {
        let codec = self.compression.as_deref().unwrap_or("SNAPPY").to_ascii_uppercase();
        let level = match (codec.as_str(), self.compression_level) {
            (_, Some(level)) => Some(level),
            ("GZIP", None) => Some(6),
            ("BROTLI" | "ZSTD", None) => Some(1),
            _ => None,
        };
        let spec = match level {
            Some(level) => format!("{codec}({level})"),
            None => codec,
        };
        let compression = Compression::from_str(&spec)
            .map_err(|e| PyValueError::new_err(format!("invalid compression {spec}: {e}")))?;
        let mut builder = WriterProperties::builder()
            .set_compression(compression)
            .set_statistics_truncate_length(self.statistics_truncate_length);
        if let Some(rows) = self.max_row_group_size {
            builder = builder.set_max_row_group_row_count(Some(rows));
        }
        if let Some(bytes) = self.data_page_size_limit {
            builder = builder.set_data_page_size_limit(bytes);
        }
        if let Some(bytes) = self.dictionary_page_size_limit {
            builder = builder.set_dictionary_page_size_limit(bytes);
        }
        if let Some(rows) = self.data_page_row_count_limit {
            builder = builder.set_data_page_row_count_limit(rows);
        }
        if let Some(rows) = self.write_batch_size {
            builder = builder.set_write_batch_size(rows);
        }
        Ok(builder.build())
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
}

impl PyCommitProperties {
    /// The core's commit properties (application transactions are added by writes only).
    pub fn to_core(&self) -> PyResult<CommitProperties> {
        let mut properties = CommitProperties::default();
        if let Some(retries) = self.max_commit_retries {
            properties.max_attempts = retries.saturating_add(1);
        }
        if let Some(json) = &self.custom_metadata_json {
            let value: serde_json::Value = serde_json::from_str(json)
                .map_err(|e| PyValueError::new_err(format!("invalid custom_metadata: {e}")))?;
            let serde_json::Value::Object(mut extra) = value else {
                return Err(PyValueError::new_err("custom_metadata must be a dict"));
            };
            if let Some(user) = extra.remove("userMetadata") {
                properties.user_metadata = Some(match user {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
            }
            properties.extra_info = extra;
        }
        Ok(properties)
    }
}

fn save_mode(mode: &str) -> PyResult<SaveMode> {
    match mode {
        "append" => Ok(SaveMode::Append),
        "overwrite" => Ok(SaveMode::Overwrite),
        "error" => Ok(SaveMode::ErrorIfExists),
        "ignore" => Ok(SaveMode::Ignore),
        other => Err(PyValueError::new_err(format!(
            "mode must be 'error', 'append', 'overwrite' or 'ignore', not '{other}'"
        ))),
    }
}

fn schema_mode(mode: Option<&str>) -> PyResult<SchemaMode> {
    match mode {
        None => Ok(SchemaMode::Strict),
        Some("merge") => Ok(SchemaMode::Merge),
        Some("overwrite") => Ok(SchemaMode::Overwrite),
        Some(other) => Err(PyValueError::new_err(format!(
            "schema_mode must be 'merge', 'overwrite' or None, not '{other}'"
        ))),
    }
}

/// Write `data` (an object with `__arrow_c_stream__`) into the table at `table_uri`, creating it
/// when absent; with `predicate` (and mode `overwrite`) only the rows matching it are replaced.
/// Returns the table's new version.
#[pyfunction]
#[pyo3(signature = (table_uri, data, mode, schema_mode = None, partition_by = None, target_file_size = None,
    storage_options = None, configuration = None, name = None, description = None, writer_properties = None,
    commit_properties = None, predicate = None))]
#[allow(clippy::too_many_arguments)]
pub fn write_to_deltalake(
    py: Python<'_>,
    table_uri: String,
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
) -> PyResult<i64> {
    let mut config = WriterConfig::default();
    if let Some(size) = target_file_size {
        config.target_file_size = size;
    }
    if let Some(properties) = &writer_properties {
        config.properties = properties.to_parquet()?;
    }
    let table = DeltaTable::builder(table_uri).with_storage_options(storage_options.unwrap_or_default());
    let reader = reader_from_py(data)?;
    let schema = arrow::array::RecordBatchReader::schema(&reader);
    let (input, pump) = pump(reader)?;
    let mut write = deltalake::operations::write::WriteBuilder::new(table)
        .with_stream(schema, input)
        .with_mode(save_mode(mode)?)
        .with_schema_mode(self::schema_mode(schema_mode)?)
        .with_writer_config(config)
        .with_configuration(configuration.unwrap_or_default());
    if let Some(columns) = partition_by {
        write = write.with_partition_columns(columns);
    }
    if let Some(name) = name {
        write = write.with_name(name);
    }
    if let Some(description) = description {
        write = write.with_description(description);
    }
    if let Some(sql) = predicate {
        write = write.with_replace_where(sql);
    }
    if let Some(commit) = &commit_properties {
        write = write.with_commit_properties(commit.to_core()?);
        for (app_id, version) in &commit.app_transaction_versions {
            write = write.with_app_transaction(app_id.clone(), *version);
        }
    }
    let written = block_on(py, write.execute())?;
    // The write has dropped its input, so the pump stops after the batch it is reading, if any.
    py.detach(|| pump.join())
        .map_err(|_| PyRuntimeError::new_err("the thread reading the input data panicked"))?;
    Ok(written.map_err(to_py)?.version())
}

/// Read `reader` on a thread of its own and hand its batches over through a channel, so that a
/// producer that blocks (a Python generator, or a stream of this module driving the runtime) never
/// runs on the runtime's workers.
fn pump(reader: RecordBatchStreamReader) -> PyResult<(InputStream, JoinHandle<()>)> {
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let thread = std::thread::Builder::new()
        .name("deltalake-input".into())
        .spawn(move || {
            for batch in reader {
                if sender
                    .blocking_send(batch.map_err(deltalake::DeltaError::from))
                    .is_err()
                {
                    break;
                }
            }
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the input thread: {e}")))?;
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|batch| (batch, receiver))
    })
    .boxed();
    Ok((stream, thread))
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
    let if_exists = match mode {
        "error" => IfExists::Error,
        "ignore" | "append" => IfExists::Ignore,
        "overwrite" => {
            return Err(PyNotImplementedError::new_err(
                "DeltaTable.create(mode='overwrite') is not supported yet",
            ));
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "mode must be 'error', 'append', 'overwrite' or 'ignore', not '{other}'"
            )));
        }
    };
    let arrow = Arc::new(schema_from_py(schema)?);
    let schema = StructType::try_from_arrow(&arrow).map_err(to_py)?;
    let table = DeltaTable::builder(table_uri).with_storage_options(storage_options.unwrap_or_default());
    let mut create = deltalake::operations::create::CreateBuilder::new(table)
        .with_schema(schema)
        .with_partition_columns(partition_by.unwrap_or_default())
        .with_properties(configuration.unwrap_or_default())
        .if_exists(if_exists);
    if let Some(name) = name {
        create = create.with_name(name);
    }
    if let Some(description) = description {
        create = create.with_description(description);
    }
    if let Some(commit) = &commit_properties {
        create = create.with_commit_properties(commit.to_core()?);
    }
    block_on(py, create.execute())?.map_err(to_py)?;
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
    let table = DeltaTable::builder(uri).with_storage_options(storage_options.unwrap_or_default());
    let mut convert = deltalake::operations::convert::ConvertToDeltaBuilder::new(table)
        .with_properties(configuration.unwrap_or_default());
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
    if let Some(commit) = &commit_properties {
        convert = convert.with_commit_properties(commit.to_core()?);
    }
    block_on(py, convert.execute())?.map_err(to_py)?;
    Ok(())
}

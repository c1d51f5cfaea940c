//! `RawDeltaTable`: a loaded table and the read operations on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use deltalake::{DeltaError as CoreError, DeltaTable};
use futures::StreamExt;
use percent_encoding::percent_decode_str;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::arrow_interop::ArrowStream;
use crate::error::to_py;
use crate::runtime::{block_on, runtime};

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
    fn current(&self) -> DeltaTable {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn replace(&self, table: DeltaTable) {
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = table;
    }

    /// Run `change` on a copy of the table with the GIL released, and keep the result.
    fn update_with<F, Fut>(&self, py: Python<'_>, change: F) -> PyResult<()>
    where
        F: FnOnce(DeltaTable) -> Fut,
        Fut: Future<Output = Result<DeltaTable, CoreError>> + Send,
    {
        let table = block_on(py, change(self.current()))?.map_err(to_py)?;
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

    /// The paths of the active files relative to the table root (decoded).
    fn files(&self) -> Vec<String> {
        let table = self.current();
        table
            .snapshot()
            .files()
            .iter()
            .map(|f| percent_decode_str(f.path()).decode_utf8_lossy().into_owned())
            .collect()
    }

    /// The absolute locations of the active files (local paths for local tables).
    fn file_uris(&self) -> PyResult<Vec<String>> {
        let table = self.current();
        let root = table.snapshot().table_root();
        table
            .snapshot()
            .files()
            .iter()
            .map(|f| {
                let url = root
                    .join(f.path())
                    .map_err(|e| PyValueError::new_err(format!("invalid file path {}: {e}", f.path())))?;
                Ok(match url.to_file_path() {
                    Ok(path) if url.scheme() == "file" => path.to_string_lossy().into_owned(),
                    _ => url.to_string(),
                })
            })
            .collect()
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
        self.update_with(py, |mut table| async move {
            table.load_version(version).await?;
            Ok(table)
        })
    }

    /// Load the latest version committed at or before `timestamp_ms` (milliseconds since the epoch).
    fn load_timestamp(&self, py: Python<'_>, timestamp_ms: i64) -> PyResult<()> {
        let timestamp = chrono::DateTime::from_timestamp_millis(timestamp_ms)
            .ok_or_else(|| PyValueError::new_err(format!("timestamp {timestamp_ms} ms is out of range")))?;
        self.update_with(py, |mut table| async move {
            table.load_timestamp(timestamp).await?;
            Ok(table)
        })
    }

    /// Move to the latest version, replaying only the new commits.
    fn update_incremental(&self, py: Python<'_>) -> PyResult<()> {
        self.update_with(py, |mut table| async move {
            table.refresh().await?;
            Ok(table)
        })
    }

    /// The partition values of each active file, keyed by column name (`None` for null).
    fn partitions(&self) -> Vec<HashMap<String, Option<String>>> {
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
        snapshot
            .files()
            .iter()
            .map(|f| {
                let values = f.partition_values();
                columns
                    .iter()
                    .map(|(name, physical)| {
                        let value = values.get(physical).copied().flatten().map(str::to_string);
                        (name.to_string(), value)
                    })
                    .collect()
            })
            .collect()
    }

    /// The active files with statistics and partition values as an Arrow stream.
    #[pyo3(signature = (flatten = false))]
    fn add_actions(&self, flatten: bool) -> PyResult<ArrowStream> {
        let table = self.current();
        let batch = table.snapshot().add_actions_table(flatten).map_err(to_py)?;
        Ok(ArrowStream::from_batches(batch.schema(), vec![batch]))
    }

    /// Read the table (or `columns` of it) into memory with the GIL released.
    #[pyo3(signature = (columns = None))]
    fn read_all(&self, py: Python<'_>, columns: Option<Vec<String>>) -> PyResult<ArrowStream> {
        let scan = scan_of(&self.current(), columns)?;
        let schema = scan.schema();
        let batches = block_on(py, async move { scan.collect().await })?.map_err(to_py)?;
        Ok(ArrowStream::from_batches(schema, batches))
    }

    /// A stream of the table's batches, read as the consumer asks for them.
    #[pyo3(signature = (columns = None))]
    fn read_stream(&self, columns: Option<Vec<String>>) -> PyResult<ArrowStream> {
        let scan = scan_of(&self.current(), columns)?;
        Ok(ArrowStream::from_async(scan.schema(), scan.execute(), runtime()?))
    }

    /// The change data feed between two versions (or the versions at two timestamps, in
    /// milliseconds), with `columns` only when given.
    #[pyo3(signature = (starting_version = 0, ending_version = None, starting_timestamp_ms = None,
        ending_timestamp_ms = None, columns = None, allow_out_of_range = false))]
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

    /// The latest transaction version recorded for application `app_id`.
    fn transaction_version(&self, app_id: &str) -> Option<i64> {
        self.current().snapshot().txn(app_id).map(|t| t.version)
    }
}

fn scan_of(table: &DeltaTable, columns: Option<Vec<String>>) -> PyResult<deltalake::Scan> {
    let mut builder = table.scan();
    if let Some(columns) = columns {
        builder = builder.with_columns(columns);
    }
    builder.build().map_err(to_py)
}

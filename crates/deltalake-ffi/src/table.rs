//! The table handle: opening, what a loaded version holds, time travel, and reads as Arrow C
//! streams.

use std::ffi::c_char;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::{ArrayRef, Int64Array, MapBuilder, RecordBatch, StringArray, StringBuilder};
use arrow::datatypes::Schema;
use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::FFI_ArrowArrayStream;
use deltalake::bindings::{BlockingReader, FileListing, block_on, cancellable};
use deltalake::scan::Scan;
use deltalake::{DeltaError, DeltaResult, DeltaTable};

use crate::args::{check_out, optional_string, optional_strings, string, string_map, write_out, write_string};
use crate::error::{DeltaStatus, guard};
use crate::handles::{DeltaCancelToken, Registry, token_of};

/// A table loaded at some version. Thread-safe: many threads may read through one handle at once
/// (scans get their own snapshot); calls that move it to another version (load, update, the
/// operations) replace its snapshot atomically. Free with `delta_table_free`.
pub struct DeltaTableHandle {
    table: Mutex<DeltaTable>,
}

impl DeltaTableHandle {
    /// The loaded table (a cheap clone sharing the snapshot).
    pub(crate) fn current(&self) -> DeltaTable {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Move to another version of the table.
    pub(crate) fn replace(&self, table: DeltaTable) {
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = table;
    }
}

pub(crate) static TABLES: Registry = Registry::new("table");

/// Register a loaded table and write its handle to `out` (when `out` is not null).
///
/// # Safety
/// `out` is null or valid for writes of a pointer.
pub(crate) unsafe fn hand_out(table: DeltaTable, out: *mut *mut DeltaTableHandle) -> DeltaResult<()> {
    if out.is_null() {
        return Ok(());
    }
    let handle = TABLES.insert(DeltaTableHandle {
        table: Mutex::new(table),
    });
    // SAFETY: as the caller guarantees.
    unsafe { write_out(out, handle, "out_table") }
}

pub(crate) fn table_of(handle: *const DeltaTableHandle) -> DeltaResult<Arc<DeltaTableHandle>> {
    TABLES.get(handle)
}

/// Block on `future`, ending early with `Cancelled` when `cancel` (nullable) is cancelled.
pub(crate) fn run<T>(cancel: *const DeltaCancelToken, future: impl Future<Output = DeltaResult<T>>) -> DeltaResult<T> {
    match token_of(cancel)? {
        Some(token) => block_on(cancellable(future, &token))??,
        None => block_on(future)?,
    }
}

pub(crate) fn datetime_from_ms(ms: i64) -> DeltaResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| DeltaError::InvalidArgument(format!("timestamp {ms} ms is out of range")))
}

/// Open the table at `uri` (a local path or a URL, NUL-terminated UTF-8) with `options_len`
/// storage options (`option_keys[i]` = `option_values[i]`; both null for none). With
/// `has_version` the table is loaded at `version`; else with `has_timestamp` at the latest
/// version committed at or before `timestamp_ms` (milliseconds since the epoch); else the latest.
/// `cancel` is null or a token that stops the call. On success `*out_table` is a new handle to
/// free with `delta_table_free`.
///
/// # Safety
/// Pointers are null or valid as described; strings are NUL-terminated.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn delta_table_open(
    uri: *const c_char,
    option_keys: *const *const c_char,
    option_values: *const *const c_char,
    options_len: usize,
    has_version: bool,
    version: i64,
    has_timestamp: bool,
    timestamp_ms: i64,
    cancel: *const DeltaCancelToken,
    out_table: *mut *mut DeltaTableHandle,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let uri = unsafe { string(uri, "uri") }?;
        let options = unsafe { string_map(option_keys, option_values, options_len, "storage options") }?;
        check_out(out_table, "out_table")?;
        let mut builder = DeltaTable::builder(uri).with_storage_options(options);
        if has_version {
            builder = builder.with_version(version);
        } else if has_timestamp {
            builder = builder.with_timestamp(datetime_from_ms(timestamp_ms)?);
        }
        let table = run(cancel, builder.load())?;
        unsafe { hand_out(table, out_table) }
    })
}

/// Whether a Delta table exists at `uri` (with storage options as in `delta_table_open`).
///
/// # Safety
/// Pointers are null or valid as described; strings are NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_exists(
    uri: *const c_char,
    option_keys: *const *const c_char,
    option_values: *const *const c_char,
    options_len: usize,
    cancel: *const DeltaCancelToken,
    out_exists: *mut bool,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let uri = unsafe { string(uri, "uri") }?;
        let options = unsafe { string_map(option_keys, option_values, options_len, "storage options") }?;
        check_out(out_exists, "out_exists")?;
        let exists = run(cancel, DeltaTable::exists(uri, options))?;
        unsafe { write_out(out_exists, exists, "out_exists") }
    })
}

/// Free a table handle. Null, or a handle freed already, is ignored; calls running on the handle
/// in other threads finish first.
#[unsafe(no_mangle)]
pub extern "C" fn delta_table_free(table: *mut DeltaTableHandle) {
    TABLES.remove(table);
}

/// The loaded version, into `*out_version`.
///
/// # Safety
/// `out_version` is valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_version(table: *const DeltaTableHandle, out_version: *mut i64) -> DeltaStatus {
    guard(|| {
        let version = table_of(table)?.current().version();
        // SAFETY: as the caller guarantees.
        unsafe { write_out(out_version, version, "out_version") }
    })
}

/// The table's schema as an Arrow C schema written to `*out_schema`; the caller releases it
/// (`out_schema->release(out_schema)`).
///
/// # Safety
/// `out_schema` is valid for writes of a `struct ArrowSchema`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_schema(
    table: *const DeltaTableHandle,
    out_schema: *mut FFI_ArrowSchema,
) -> DeltaStatus {
    guard(|| {
        // SAFETY: as the caller guarantees.
        unsafe { schema_into(&table_of(table)?.current(), out_schema) }
    })
}

/// Write `table`'s schema to `*out_schema`.
///
/// # Safety
/// `out_schema` is valid for writes of a `struct ArrowSchema`.
pub(crate) unsafe fn schema_into(table: &DeltaTable, out_schema: *mut FFI_ArrowSchema) -> DeltaResult<()> {
    let schema = FFI_ArrowSchema::try_from(table.snapshot().arrow_schema().as_ref())?;
    // SAFETY: as the caller guarantees.
    unsafe { write_out(out_schema, schema, "out_schema") }
}

/// Write one of the loaded version's documents to `*out_json` (free it with `delta_string_free`).
fn json_of(
    table: *const DeltaTableHandle,
    out_json: *mut *mut c_char,
    document: impl FnOnce(&DeltaTable) -> DeltaResult<String>,
) -> DeltaStatus {
    guard(|| {
        let text = document(&table_of(table)?.current())?;
        // SAFETY: the callers' callers guarantee `out_json` is valid for writes.
        unsafe { write_string(out_json, text, "out_json") }
    })
}

/// The schema as Delta's JSON schema (`{"type":"struct","fields":[...]}`), into `*out_json`;
/// free it with `delta_string_free`.
///
/// # Safety
/// `out_json` is valid for writes of a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_schema_json(
    table: *const DeltaTableHandle,
    out_json: *mut *mut c_char,
) -> DeltaStatus {
    json_of(table, out_json, |t| Ok(t.snapshot().schema().to_json()))
}

/// The metadata action of the loaded version as JSON (`id`, `name`, `description`,
/// `partitionColumns`, `configuration`, `createdTime`, ...), into `*out_json`; free it with
/// `delta_string_free`.
///
/// # Safety
/// `out_json` is valid for writes of a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_metadata_json(
    table: *const DeltaTableHandle,
    out_json: *mut *mut c_char,
) -> DeltaStatus {
    json_of(table, out_json, |t| Ok(serde_json::to_string(t.snapshot().metadata())?))
}

/// The protocol action as JSON (`minReaderVersion`, `minWriterVersion`, `readerFeatures`,
/// `writerFeatures`), into `*out_json`; free it with `delta_string_free`.
///
/// # Safety
/// `out_json` is valid for writes of a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_protocol_json(
    table: *const DeltaTableHandle,
    out_json: *mut *mut c_char,
) -> DeltaStatus {
    json_of(table, out_json, |t| Ok(serde_json::to_string(t.snapshot().protocol())?))
}

/// The commit information of the newest `limit` versions (every version when `limit` is 0) up
/// to the loaded one, newest first, as a JSON array of objects with a `version` field; into
/// `*out_json`, freed with `delta_string_free`.
///
/// # Safety
/// `out_json` is valid for writes of a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_history_json(
    table: *const DeltaTableHandle,
    limit: usize,
    cancel: *const DeltaCancelToken,
    out_json: *mut *mut c_char,
) -> DeltaStatus {
    guard(|| {
        let table = table_of(table)?.current();
        check_out(out_json, "out_json")?;
        let limit = (limit > 0).then_some(limit);
        let commits = run(cancel, table.history(limit))?;
        let entries = commits
            .into_iter()
            .map(|(version, info)| {
                let mut value = serde_json::to_value(info)?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("version".into(), version.into());
                }
                Ok(value)
            })
            .collect::<DeltaResult<Vec<_>>>()?;
        let text = serde_json::Value::Array(entries).to_string();
        // SAFETY: as the caller guarantees.
        unsafe { write_string(out_json, text, "out_json") }
    })
}

/// Move the handle to `version` (`delta_table_load_version`), to the version current at
/// `timestamp_ms`, or to the latest version (`delta_table_update`, which reads only the new
/// commits).
fn reload(
    handle: *const DeltaTableHandle,
    cancel: *const DeltaCancelToken,
    load: impl AsyncFnOnce(&mut DeltaTable) -> DeltaResult<()>,
) -> DeltaStatus {
    guard(|| {
        let handle = table_of(handle)?;
        let mut table = handle.current();
        run(cancel, load(&mut table))?;
        handle.replace(table);
        Ok(())
    })
}

/// Load another version of the table into the handle.
#[unsafe(no_mangle)]
pub extern "C" fn delta_table_load_version(
    table: *const DeltaTableHandle,
    version: i64,
    cancel: *const DeltaCancelToken,
) -> DeltaStatus {
    reload(table, cancel, async move |t| t.load_version(version).await)
}

/// Load the latest version committed at or before `timestamp_ms` (milliseconds since the epoch).
#[unsafe(no_mangle)]
pub extern "C" fn delta_table_load_timestamp(
    table: *const DeltaTableHandle,
    timestamp_ms: i64,
    cancel: *const DeltaCancelToken,
) -> DeltaStatus {
    reload(table, cancel, async move |t| {
        t.load_timestamp(datetime_from_ms(timestamp_ms)?).await
    })
}

/// Move the handle to the latest version, reading only the commits made since it was loaded.
#[unsafe(no_mangle)]
pub extern "C" fn delta_table_update(table: *const DeltaTableHandle, cancel: *const DeltaCancelToken) -> DeltaStatus {
    reload(table, cancel, async move |t| t.refresh().await.map(|_| ()))
}

/// Scan the loaded version into `*out_stream`, an Arrow C stream the caller reads and releases
/// (`out_stream->release(out_stream)`). `columns` (null for every column) holds `columns_len`
/// column names; `predicate` (null for none) is a SQL filter such as `"x > 3 AND y = 'a'"`; only
/// matching rows are returned. The batches are handed over without copying; files are read as the
/// consumer asks for batches, on the thread calling `get_next`. The stream is independent of the
/// handle: it may outlive it.
///
/// # Safety
/// Pointers are null or valid as described; `out_stream` is valid for writes of a
/// `struct ArrowArrayStream`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_scan(
    table: *const DeltaTableHandle,
    columns: *const *const c_char,
    columns_len: usize,
    predicate: *const c_char,
    out_stream: *mut FFI_ArrowArrayStream,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let columns = unsafe { optional_strings(columns, columns_len, "columns") }?;
        let predicate = unsafe { optional_string(predicate, "predicate") }?;
        let scan = plan_scan(&table_of(table)?.current(), columns, predicate.as_deref())?;
        unsafe { execute_into(&scan, out_stream) }
    })
}

/// Plan a scan of `table` reading `columns` (all when `None`) of the rows matching the SQL
/// `predicate`.
pub(crate) fn plan_scan(
    table: &DeltaTable,
    columns: Option<Vec<String>>,
    predicate: Option<&str>,
) -> DeltaResult<Scan> {
    let mut builder = table.scan();
    if let Some(columns) = columns {
        builder = builder.with_columns(columns);
    }
    if let Some(sql) = predicate {
        builder = builder.with_predicate(sql);
    }
    builder.build()
}

/// Run `scan` into `*out_stream`.
///
/// # Safety
/// `out_stream` is valid for writes of a `struct ArrowArrayStream`.
pub(crate) unsafe fn execute_into(scan: &Scan, out_stream: *mut FFI_ArrowArrayStream) -> DeltaResult<()> {
    check_out(out_stream, "out_stream")?;
    let reader = BlockingReader::new(scan.schema(), scan.execute())?;
    // SAFETY: as the caller guarantees.
    unsafe { write_out(out_stream, reader.into_ffi(), "out_stream") }
}

/// The change data feed from `starting_version` to `ending_version` (the latest when
/// `has_ending_version` is false) into `*out_stream`, an Arrow C stream as `delta_table_scan`
/// gives, with the `_change_type`, `_commit_version` and `_commit_timestamp` columns. With
/// `starting_timestamp_ms`/`ending_timestamp_ms` >= 0 the versions at those times are used
/// instead. `columns` and `predicate` as in `delta_table_scan`; `allow_out_of_range` makes an end
/// past the latest version read up to the latest.
///
/// # Safety
/// As `delta_table_scan`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn delta_table_changes(
    table: *const DeltaTableHandle,
    starting_version: i64,
    has_ending_version: bool,
    ending_version: i64,
    starting_timestamp_ms: i64,
    ending_timestamp_ms: i64,
    columns: *const *const c_char,
    columns_len: usize,
    predicate: *const c_char,
    allow_out_of_range: bool,
    cancel: *const DeltaCancelToken,
    out_stream: *mut FFI_ArrowArrayStream,
) -> DeltaStatus {
    guard(|| {
        let table = table_of(table)?.current();
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let columns = unsafe { optional_strings(columns, columns_len, "columns") }?;
        let predicate = unsafe { optional_string(predicate, "predicate") }?;
        check_out(out_stream, "out_stream")?;
        let mut feed = table
            .load_cdf()
            .with_starting_version(starting_version)
            .with_allow_out_of_range(allow_out_of_range);
        if has_ending_version {
            feed = feed.with_ending_version(ending_version);
        }
        if starting_timestamp_ms >= 0 {
            feed = feed.with_starting_timestamp(datetime_from_ms(starting_timestamp_ms)?);
        }
        if ending_timestamp_ms >= 0 {
            feed = feed.with_ending_timestamp(datetime_from_ms(ending_timestamp_ms)?);
        }
        if let Some(columns) = columns {
            feed = feed.with_columns(columns);
        }
        if let Some(sql) = predicate {
            feed = feed.with_predicate(sql);
        }
        let (schema, stream) = run(cancel, feed.execute())?;
        let reader = BlockingReader::new(schema, stream)?;
        unsafe { write_out(out_stream, reader.into_ffi(), "out_stream") }
    })
}

/// The active files of the loaded version (those that may hold rows matching the SQL
/// `predicate`, when not null) as an Arrow C stream of one batch with the columns `path` (utf8,
/// relative to the table root, decoded), `location` (utf8: a local path for local tables, else a
/// full URI), `size_bytes` (int64) and `partition_values` (map<utf8, utf8>, null values for
/// null partitions). The caller releases the stream.
///
/// # Safety
/// As `delta_table_scan`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_files(
    table: *const DeltaTableHandle,
    predicate: *const c_char,
    out_stream: *mut FFI_ArrowArrayStream,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let predicate = unsafe { optional_string(predicate, "predicate") }?;
        unsafe { files_into(&table_of(table)?.current(), predicate, out_stream) }
    })
}

/// Write the file list of `table` (as `delta_table_files` describes it) to `*out_stream`.
///
/// # Safety
/// `out_stream` is valid for writes of a `struct ArrowArrayStream`.
pub(crate) unsafe fn files_into(
    table: &DeltaTable,
    predicate: Option<String>,
    out_stream: *mut FFI_ArrowArrayStream,
) -> DeltaResult<()> {
    check_out(out_stream, "out_stream")?;
    let files = FileListing::new(table, predicate.map(deltalake::bindings::Filter::Sql))?;
    let batch = file_batch(&files)?;
    let reader = BlockingReader::from_batches(batch.schema(), vec![batch])?;
    // SAFETY: as the caller guarantees.
    unsafe { write_out(out_stream, reader.into_ffi(), "out_stream") }
}

fn file_batch(files: &FileListing<'_>) -> DeltaResult<RecordBatch> {
    let paths: StringArray = files.paths().map(Some).collect();
    let locations: StringArray = files.locations().map(|l| l.map(Some)).collect::<DeltaResult<_>>()?;
    let sizes: Int64Array = files.sizes().map(Some).collect();
    let mut partitions = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for values in files.partition_values() {
        for (column, value) in values {
            partitions.keys().append_value(column);
            partitions.values().append_option(value);
        }
        partitions.append(true)?;
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("path", Arc::new(paths)),
        ("location", Arc::new(locations)),
        ("size_bytes", Arc::new(sizes)),
        ("partition_values", Arc::new(partitions.finish())),
    ];
    let fields: Vec<_> = columns
        .iter()
        .map(|(name, array)| {
            let nullable = *name == "partition_values";
            arrow::datatypes::Field::new(*name, array.data_type().clone(), nullable)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    Ok(RecordBatch::try_new(
        schema,
        columns.into_iter().map(|(_, a)| a).collect(),
    )?)
}

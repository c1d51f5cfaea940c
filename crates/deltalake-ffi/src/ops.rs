//! Writes from Arrow C streams, table creation, and the operations, each returning its metrics as
//! JSON with camelCase keys.

use std::ffi::c_char;

use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use deltalake::bindings::{
    CommitOptions, CreateRequest, DeleteRequest, Filter, MergeClause, MergeRequest, OptimizeRequest, Pump,
    RestoreRequest, RestoreTarget, UpdateRequest, VacuumRequest, WriteRequest, WriteTarget, WriterOptions,
    camel_case_keys, import_ffi_stream, metrics_json,
};
use deltalake::operations::merge::MergeSource;
use deltalake::operations::optimize::OptimizeType;
use deltalake::{DeltaResult, DeltaTable};
use serde::Serialize;

use crate::args::{
    check_out, import_schema, optional_string, optional_strings, string, string_map, write_out, write_string,
};
use crate::error::{DeltaStatus, guard};
use crate::handles::DeltaCancelToken;
use crate::table::{DeltaTableHandle, datetime_from_ms, hand_out, run, table_of};

/// The settings of a write or a create. Zero-initialise it (`DeltaWriteOptions o = {0};`): every
/// null pointer and zero means the default. Strings are NUL-terminated UTF-8, borrowed for the
/// call only.
#[repr(C)]
pub struct DeltaWriteOptions {
    /// Writes: `"append"` (default), `"overwrite"`, `"error"` (fail if the table exists) or
    /// `"ignore"` (do nothing if it exists). Creates: `"error"` (default) or `"ignore"`.
    pub mode: *const c_char,
    /// How the data's schema may change the table's: null (must match), `"merge"` (add new
    /// columns) or `"overwrite"` (replace the schema, with mode overwrite).
    pub schema_mode: *const c_char,
    /// Partition columns of a new table (`partition_by_len` names), or null.
    pub partition_by: *const *const c_char,
    /// How many partition columns.
    pub partition_by_len: usize,
    /// Table properties of a new table: keys (`configuration_len` of them), or null.
    pub configuration_keys: *const *const c_char,
    /// Table property values, one per key.
    pub configuration_values: *const *const c_char,
    /// How many table properties.
    pub configuration_len: usize,
    /// With mode overwrite, replace only the rows matching this SQL predicate.
    pub predicate: *const c_char,
    /// Name of a new table.
    pub name: *const c_char,
    /// Description of a new table.
    pub description: *const c_char,
    /// Parquet codec: `"snappy"` (default), `"zstd"`, `"gzip"`, `"lz4"`, `"brotli"`,
    /// `"uncompressed"`, ...
    pub compression: *const c_char,
    /// Roll to a new file at about this many bytes (0: the default).
    pub target_file_size: usize,
    /// Rows per Parquet row group at most (0: the default).
    pub max_row_group_size: usize,
    /// A JSON object of fields added to the commit's `commitInfo` (a `userMetadata` entry becomes
    /// `commitInfo.userMetadata`), or null.
    pub custom_metadata_json: *const c_char,
}

pub(crate) struct WriteSettings {
    pub(crate) request: WriteRequest,
    mode: Option<String>,
}

/// # Safety
/// `options` is null or a valid `DeltaWriteOptions` whose pointers are valid.
pub(crate) unsafe fn write_settings(options: *const DeltaWriteOptions) -> DeltaResult<WriteSettings> {
    if options.is_null() {
        return Ok(WriteSettings {
            request: WriteRequest::default(),
            mode: None,
        });
    }
    // SAFETY (these blocks): as the caller guarantees.
    let o = unsafe { &*options };
    let mode = unsafe { optional_string(o.mode, "mode") }?;
    let schema_mode = unsafe { optional_string(o.schema_mode, "schema_mode") }?;
    let request = WriteRequest {
        mode: mode.as_deref().map_or(Ok(Default::default()), str::parse)?,
        schema_mode: schema_mode.as_deref().map_or(Ok(Default::default()), str::parse)?,
        partition_by: unsafe { optional_strings(o.partition_by, o.partition_by_len, "partition_by") }?,
        configuration: unsafe {
            string_map(
                o.configuration_keys,
                o.configuration_values,
                o.configuration_len,
                "configuration",
            )
        }?,
        name: unsafe { optional_string(o.name, "name") }?,
        description: unsafe { optional_string(o.description, "description") }?,
        predicate: unsafe { optional_string(o.predicate, "predicate") }?,
        writer: WriterOptions {
            compression: unsafe { optional_string(o.compression, "compression") }?,
            target_file_size: (o.target_file_size > 0).then_some(o.target_file_size),
            max_row_group_size: (o.max_row_group_size > 0).then_some(o.max_row_group_size),
            ..Default::default()
        },
        commit: unsafe { commit_options(o.custom_metadata_json) }?,
    };
    Ok(WriteSettings { request, mode })
}

/// # Safety
/// `json` is null or NUL-terminated.
unsafe fn commit_options(json: *const c_char) -> DeltaResult<CommitOptions> {
    // SAFETY: as the caller guarantees.
    match unsafe { optional_string(json, "custom_metadata_json") }? {
        Some(json) => CommitOptions::default().with_custom_metadata_json(&json),
        None => Ok(CommitOptions::default()),
    }
}

/// Run a write of the batches of `reader`.
fn write_stream(
    reader: RecordBatchStreamReader,
    request: WriteRequest,
    target: WriteTarget,
    cancel: *const DeltaCancelToken,
) -> DeltaResult<DeltaTable> {
    let (schema, input, pump) = Pump::start(reader)?;
    let written = run(cancel, request.execute(target, schema, input));
    // The write dropped its input, so the pump stops after the batch it is reading, if any.
    pump.finish()?;
    written
}

/// Write the batches of `data` (an Arrow C stream, moved into the call: the library releases it,
/// also on failure) to the table at `uri`, creating it when absent. Storage options as in
/// `delta_table_open`; `options` is null for the defaults (append). When `out_table` is not null
/// it receives a handle to the table at the new version (free it with `delta_table_free`).
///
/// # Safety
/// Pointers are null or valid as described; `data` is an unreleased `struct ArrowArrayStream`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn delta_write(
    uri: *const c_char,
    option_keys: *const *const c_char,
    option_values: *const *const c_char,
    options_len: usize,
    data: *mut FFI_ArrowArrayStream,
    options: *const DeltaWriteOptions,
    cancel: *const DeltaCancelToken,
    out_table: *mut *mut DeltaTableHandle,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented. The stream is
        // taken first, so that it is released whatever fails next.
        let reader = unsafe { import_ffi_stream(data) }?;
        let uri = unsafe { string(uri, "uri") }?;
        let storage_options = unsafe { string_map(option_keys, option_values, options_len, "storage options") }?;
        let settings = unsafe { write_settings(options) }?;
        let target = WriteTarget::Location { uri, storage_options };
        let table = write_stream(reader, settings.request, target, cancel)?;
        unsafe { hand_out(table, out_table) }
    })
}

/// Write the batches of `data` (moved into the call, as in `delta_write`) to the loaded table,
/// whose snapshot is reused; the handle moves to the new version, written to `*out_version`
/// when that is not null.
///
/// # Safety
/// As `delta_write`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_write(
    table: *const DeltaTableHandle,
    data: *mut FFI_ArrowArrayStream,
    options: *const DeltaWriteOptions,
    cancel: *const DeltaCancelToken,
    out_version: *mut i64,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        // SAFETY (these blocks): the caller's pointers are valid as documented. The stream is
        // taken first, so that it is released whatever fails next.
        let reader = unsafe { import_ffi_stream(data) }?;
        let handle = table_of(table)?;
        let settings = unsafe { write_settings(options) }?;
        let target = WriteTarget::Table(handle.current());
        let written = write_stream(reader, settings.request, target, cancel)?;
        let version = written.version();
        handle.replace(written);
        if !out_version.is_null() {
            unsafe { write_out(out_version, version, "out_version") }?;
        }
        Ok(())
    })
}

/// Create an empty table at `uri` with the columns of `schema` (an Arrow C schema of a struct,
/// borrowed: the caller still releases it). From `options`: mode (`"error"`, the default, or
/// `"ignore"`), partition_by, configuration, name, description and custom_metadata_json.
/// `*out_table` (when not null) receives a handle to the new table.
///
/// # Safety
/// Pointers are null or valid as described.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn delta_create(
    uri: *const c_char,
    option_keys: *const *const c_char,
    option_values: *const *const c_char,
    options_len: usize,
    schema: *const FFI_ArrowSchema,
    options: *const DeltaWriteOptions,
    cancel: *const DeltaCancelToken,
    out_table: *mut *mut DeltaTableHandle,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let uri = unsafe { string(uri, "uri") }?;
        let storage_options = unsafe { string_map(option_keys, option_values, options_len, "storage options") }?;
        let settings = unsafe { write_settings(options) }?;
        let schema = unsafe { import_schema(schema) }?;
        let w = settings.request;
        let request = CreateRequest {
            mode: settings.mode.as_deref().map_or(Ok(Default::default()), str::parse)?,
            partition_by: w.partition_by.unwrap_or_default(),
            configuration: w.configuration,
            name: w.name,
            description: w.description,
            commit: w.commit,
        };
        let table = run(cancel, request.execute(uri, storage_options, &schema))?;
        unsafe { hand_out(table, out_table) }
    })
}

/// Run an operation on the handle's table, move the handle to the version it committed, and
/// write its metrics to `*out_metrics_json` (camelCase keys; free with `delta_string_free`).
fn operate<M: Serialize>(
    handle: *const DeltaTableHandle,
    cancel: *const DeltaCancelToken,
    out_metrics_json: *mut *mut c_char,
    operation: impl AsyncFnOnce(DeltaTable) -> DeltaResult<(DeltaTable, M)>,
) -> DeltaStatus {
    guard(|| {
        let handle = table_of(handle)?;
        check_out(out_metrics_json, "out_metrics_json")?;
        let (table, metrics) = run(cancel, operation(handle.current()))?;
        handle.replace(table);
        let json = camel_case_keys(metrics_json(&metrics)?).to_string();
        // SAFETY: checked above; valid for writes as the caller guarantees.
        unsafe { write_string(out_metrics_json, json, "out_metrics_json") }
    })
}

/// Delete the rows matching the SQL `predicate` (every row when null). Metrics JSON:
/// `numDeletedRows`, `numAddedFiles`, `numRemovedFiles`, `numCopiedRows`, ...
///
/// # Safety
/// Pointers are null or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_delete(
    table: *const DeltaTableHandle,
    predicate: *const c_char,
    cancel: *const DeltaCancelToken,
    out_metrics_json: *mut *mut c_char,
) -> DeltaStatus {
    operate(table, cancel, out_metrics_json, async move |table| {
        let request = DeleteRequest {
            // SAFETY: as the caller guarantees.
            predicate: unsafe { optional_string(predicate, "predicate") }?,
            ..Default::default()
        };
        request.execute(&table).await
    })
}

/// Set `columns[i]` to the SQL expression `expressions[i]` (`updates_len` pairs) in the rows
/// matching `predicate` (every row when null). Metrics JSON: `numUpdatedRows`, `numCopiedRows`,
/// `numAddedFiles`, `numRemovedFiles`, ...
///
/// # Safety
/// Pointers are null or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_update_rows(
    table: *const DeltaTableHandle,
    columns: *const *const c_char,
    expressions: *const *const c_char,
    updates_len: usize,
    predicate: *const c_char,
    cancel: *const DeltaCancelToken,
    out_metrics_json: *mut *mut c_char,
) -> DeltaStatus {
    operate(table, cancel, out_metrics_json, async move |table| {
        // SAFETY (these blocks): as the caller guarantees.
        let updates = unsafe { string_map_pairs(columns, expressions, updates_len, "updates") }?;
        let request = UpdateRequest {
            updates,
            predicate: unsafe { optional_string(predicate, "predicate") }?,
            ..Default::default()
        };
        request.execute(&table).await
    })
}

/// `len` `(key, value)` pairs in order.
///
/// # Safety
/// As `optional_strings` for both arrays.
unsafe fn string_map_pairs(
    keys: *const *const c_char,
    values: *const *const c_char,
    len: usize,
    name: &str,
) -> DeltaResult<Vec<(String, String)>> {
    // SAFETY (these blocks): as the caller guarantees.
    let keys = unsafe { optional_strings(keys, len, &format!("{name} columns")) }?.unwrap_or_default();
    let values = unsafe { optional_strings(values, len, &format!("{name} expressions")) }?.unwrap_or_default();
    if keys.len() != values.len() {
        return Err(deltalake::DeltaError::InvalidArgument(format!(
            "{name}: the columns and expressions must both be given, or both be null"
        )));
    }
    Ok(keys.into_iter().zip(values).collect())
}

/// One `WHEN ... THEN ...` clause of a merge.
#[repr(C)]
pub struct DeltaMergeClause {
    /// `"when_matched_update"`, `"when_matched_update_all"`, `"when_matched_delete"`,
    /// `"when_not_matched_insert"`, `"when_not_matched_insert_all"`,
    /// `"when_not_matched_by_source_update"` or `"when_not_matched_by_source_delete"` (camelCase
    /// accepted too).
    pub kind: *const c_char,
    /// An extra SQL condition of the clause, or null.
    pub predicate: *const c_char,
    /// Target columns set by the update and insert clauses (`assignments_len`), or null.
    pub assignment_columns: *const *const c_char,
    /// The SQL expression of each assigned column (`source.x + 1`).
    pub assignment_expressions: *const *const c_char,
    /// How many assignments.
    pub assignments_len: usize,
    /// Columns the `_all` clauses leave out (`except_len`), or null.
    pub except: *const *const c_char,
    /// How many columns left out.
    pub except_len: usize,
}

/// Merge the rows of `source` (an Arrow C stream, moved into the call) into the table, joined on
/// the SQL `predicate` (`"target.id = source.id"`), trying `clauses` (`clauses_len`) in order.
/// `source_alias`/`target_alias` are null for `source`/`target`; `merge_schema` adds new source
/// columns to the table. Metrics JSON: `numSourceRows`, `numTargetRowsInserted`,
/// `numTargetRowsUpdated`, `numTargetRowsDeleted`, ...
///
/// # Safety
/// Pointers are null or valid as described; `source` is an unreleased stream.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn delta_table_merge(
    table: *const DeltaTableHandle,
    source: *mut FFI_ArrowArrayStream,
    predicate: *const c_char,
    source_alias: *const c_char,
    target_alias: *const c_char,
    merge_schema: bool,
    clauses: *const DeltaMergeClause,
    clauses_len: usize,
    cancel: *const DeltaCancelToken,
    out_metrics_json: *mut *mut c_char,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): as the caller guarantees. The stream is taken first, so that it
        // is released whatever fails next.
        let reader = unsafe { import_ffi_stream(source) }?;
        let handle = table_of(table)?;
        check_out(out_metrics_json, "out_metrics_json")?;
        let request = MergeRequest {
            predicate: unsafe { string(predicate, "predicate") }?,
            source_alias: unsafe { optional_string(source_alias, "source_alias") }?,
            target_alias: unsafe { optional_string(target_alias, "target_alias") }?,
            merge_schema,
            clauses: unsafe { merge_clauses(clauses, clauses_len) }?,
            ..Default::default()
        };
        let (schema, input, pump) = Pump::start(reader)?;
        let merged = run(
            cancel,
            request.execute(&handle.current(), MergeSource::Stream(schema, input)),
        );
        pump.finish()?;
        let (table, metrics) = merged?;
        handle.replace(table);
        let json = camel_case_keys(metrics_json(&metrics)?).to_string();
        unsafe { write_string(out_metrics_json, json, "out_metrics_json") }
    })
}

/// # Safety
/// `clauses` is null or points to `len` valid clauses.
unsafe fn merge_clauses(clauses: *const DeltaMergeClause, len: usize) -> DeltaResult<Vec<MergeClause>> {
    if clauses.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: as the caller guarantees.
    let clauses = unsafe { std::slice::from_raw_parts(clauses, len) };
    clauses
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name = format!("clauses[{i}]");
            // SAFETY (these blocks): as the caller guarantees.
            let kind = unsafe { string(c.kind, &format!("{name}.kind")) }?;
            Ok(MergeClause {
                predicate: unsafe { optional_string(c.predicate, &format!("{name}.predicate")) }?,
                assignments: unsafe {
                    string_map_pairs(c.assignment_columns, c.assignment_expressions, c.assignments_len, &name)
                }?,
                except: unsafe { optional_strings(c.except, c.except_len, &format!("{name}.except")) }?
                    .unwrap_or_default(),
                ..MergeClause::new(kind.parse()?)
            })
        })
        .collect()
}

/// Compact the table's small files into files of about `target_size` bytes (0: the table's
/// `delta.targetFileSize`, else 100 MiB), or with `z_order_columns` (`z_order_len` names, null for
/// compaction) rewrite them sorted by the Z-order of those columns. `partition_predicate` (null
/// for all) limits it to the partitions matching a SQL predicate on partition columns;
/// `max_concurrent_tasks` 0 is the default. Metrics JSON: `numFilesAdded`, `numFilesRemoved`,
/// `filesAdded`, `filesRemoved`, `partitionsOptimized`, ...
///
/// # Safety
/// Pointers are null or valid as described.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn delta_table_optimize(
    table: *const DeltaTableHandle,
    z_order_columns: *const *const c_char,
    z_order_len: usize,
    partition_predicate: *const c_char,
    target_size: u64,
    max_concurrent_tasks: usize,
    cancel: *const DeltaCancelToken,
    out_metrics_json: *mut *mut c_char,
) -> DeltaStatus {
    operate(table, cancel, out_metrics_json, async move |table| {
        // SAFETY (these blocks): as the caller guarantees.
        let z_order = unsafe { optional_strings(z_order_columns, z_order_len, "z_order_columns") }?;
        let filter = unsafe { optional_string(partition_predicate, "partition_predicate") }?;
        let request = OptimizeRequest {
            kind: z_order.map_or(OptimizeType::Compact, OptimizeType::ZOrder),
            partition_filter: filter.map(Filter::Sql),
            target_size: (target_size > 0).then_some(target_size),
            max_concurrent_tasks: (max_concurrent_tasks > 0).then_some(max_concurrent_tasks),
            ..Default::default()
        };
        request.execute(&table).await
    })
}

/// Delete the files no version within the retention needs (`retention_hours` < 0: the table's
/// `delta.deletedFileRetentionDuration`, 7 days by default); with `dry_run` only list them.
/// `enforce_retention_duration` refuses a retention shorter than the table's; `full` lists the
/// whole directory (finding files never committed) instead of only the files the log removed.
/// Metrics JSON: `dryRun`, `filesDeleted` (paths).
///
/// # Safety
/// Pointers are null or valid as described.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn delta_table_vacuum(
    table: *const DeltaTableHandle,
    retention_hours: i64,
    dry_run: bool,
    enforce_retention_duration: bool,
    full: bool,
    cancel: *const DeltaCancelToken,
    out_metrics_json: *mut *mut c_char,
) -> DeltaStatus {
    operate(table, cancel, out_metrics_json, async move |table| {
        let request = VacuumRequest {
            retention_hours: u64::try_from(retention_hours).ok(),
            dry_run,
            enforce_retention_duration,
            full,
            commit: CommitOptions::default(),
        };
        request.execute(&table).await
    })
}

/// Restore the table to `version`, or (with `by_timestamp`) to the version current at
/// `timestamp_ms`, as a new commit. Metrics JSON: `numRemovedFile`, `numRestoredFile`, ...
///
/// # Safety
/// Pointers are null or valid as described.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn delta_table_restore(
    table: *const DeltaTableHandle,
    version: i64,
    by_timestamp: bool,
    timestamp_ms: i64,
    ignore_missing_files: bool,
    protocol_downgrade_allowed: bool,
    cancel: *const DeltaCancelToken,
    out_metrics_json: *mut *mut c_char,
) -> DeltaStatus {
    operate(table, cancel, out_metrics_json, async move |table| {
        let target = match by_timestamp {
            true => RestoreTarget::Timestamp(datetime_from_ms(timestamp_ms)?),
            false => RestoreTarget::Version(version),
        };
        let request = RestoreRequest {
            ignore_missing_files,
            protocol_downgrade_allowed,
            ..RestoreRequest::new(target)
        };
        request.execute(&table).await
    })
}

/// Write a checkpoint of the loaded version; `*out_json` (when not null) receives the
/// `_last_checkpoint` document written (`version`, `size`, `parts`, ...), freed with
/// `delta_string_free`.
///
/// # Safety
/// Pointers are null or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_create_checkpoint(
    table: *const DeltaTableHandle,
    cancel: *const DeltaCancelToken,
    out_json: *mut *mut c_char,
) -> DeltaStatus {
    guard(|| {
        let table = table_of(table)?.current();
        let last = run(cancel, table.create_checkpoint())?;
        if out_json.is_null() {
            return Ok(());
        }
        let json = serde_json::to_string(&last)?;
        // SAFETY: as the caller guarantees.
        unsafe { write_string(out_json, json, "out_json") }
    })
}

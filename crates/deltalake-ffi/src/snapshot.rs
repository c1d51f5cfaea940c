//! Snapshot and scan handles: one version of a table held still while the table handle moves on,
//! and a planned read of it that runs any number of times.

use std::ffi::c_char;
use std::sync::Arc;

use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::FFI_ArrowArrayStream;
use deltalake::scan::Scan;
use deltalake::{DeltaResult, DeltaTable};

use crate::args::{optional_string, optional_strings, write_out};
use crate::error::{DeltaStatus, guard};
use crate::handles::Registry;
use crate::table::{DeltaTableHandle, execute_into, files_into, plan_scan, schema_into, table_of};

/// One version of a table. Immutable, so any number of threads may use it at once; it stays at
/// its version whatever happens to the table handle it came from, which may be freed before it.
/// Free with `delta_snapshot_free`.
pub struct DeltaSnapshotHandle {
    table: DeltaTable,
}

/// A planned read of a snapshot: its files chosen (by partition values and statistics) and its
/// columns resolved. Immutable: `delta_scan_execute` may run it any number of times, from any
/// threads at once, each run reading the same version. Free with `delta_scan_free`.
pub struct DeltaScanHandle {
    table: DeltaTable,
    predicate: Option<String>,
    scan: Scan,
}

static SNAPSHOTS: Registry = Registry::new("snapshot");
static SCANS: Registry = Registry::new("scan");

fn snapshot_of(handle: *const DeltaSnapshotHandle) -> DeltaResult<Arc<DeltaSnapshotHandle>> {
    SNAPSHOTS.get(handle)
}

fn scan_of(handle: *const DeltaScanHandle) -> DeltaResult<Arc<DeltaScanHandle>> {
    SCANS.get(handle)
}

/// The version the table handle is at, as a new snapshot handle in `*out_snapshot`.
///
/// # Safety
/// `out_snapshot` is valid for writes of a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_snapshot(
    table: *const DeltaTableHandle,
    out_snapshot: *mut *mut DeltaSnapshotHandle,
) -> DeltaStatus {
    guard(|| {
        let table = table_of(table)?.current();
        crate::args::check_out(out_snapshot, "out_snapshot")?;
        let handle = SNAPSHOTS.insert(DeltaSnapshotHandle { table });
        // SAFETY: as the caller guarantees.
        unsafe { write_out(out_snapshot, handle, "out_snapshot") }
    })
}

/// Free a snapshot handle. Null, or a handle freed already, is ignored; scans planned from it
/// stay valid.
#[unsafe(no_mangle)]
pub extern "C" fn delta_snapshot_free(snapshot: *mut DeltaSnapshotHandle) {
    SNAPSHOTS.remove(snapshot);
}

/// The snapshot's version, into `*out_version`.
///
/// # Safety
/// `out_version` is valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_snapshot_version(
    snapshot: *const DeltaSnapshotHandle,
    out_version: *mut i64,
) -> DeltaStatus {
    guard(|| {
        let version = snapshot_of(snapshot)?.table.version();
        // SAFETY: as the caller guarantees.
        unsafe { write_out(out_version, version, "out_version") }
    })
}

/// The snapshot's schema as an Arrow C schema, as `delta_table_schema` gives it.
///
/// # Safety
/// `out_schema` is valid for writes of a `struct ArrowSchema`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_snapshot_schema(
    snapshot: *const DeltaSnapshotHandle,
    out_schema: *mut FFI_ArrowSchema,
) -> DeltaStatus {
    // SAFETY: as the caller guarantees.
    guard(|| unsafe { schema_into(&snapshot_of(snapshot)?.table, out_schema) })
}

/// The snapshot's active files (those that may hold rows matching the SQL `predicate`, when not
/// null) as an Arrow C stream with the columns `delta_table_files` describes.
///
/// # Safety
/// `predicate` is null or NUL-terminated; `out_stream` is valid for writes of a
/// `struct ArrowArrayStream`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_snapshot_files(
    snapshot: *const DeltaSnapshotHandle,
    predicate: *const c_char,
    out_stream: *mut FFI_ArrowArrayStream,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let predicate = unsafe { optional_string(predicate, "predicate") }?;
        unsafe { files_into(&snapshot_of(snapshot)?.table, predicate, out_stream) }
    })
}

/// Plan a scan of the snapshot into `*out_scan`: `columns` (null for every column, else
/// `columns_len` names) and `predicate` (null, or a SQL filter) as in `delta_table_scan`. Unknown
/// columns and invalid predicates are reported here, before anything is read.
///
/// # Safety
/// Pointers are null or valid as described; strings are NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_snapshot_scan(
    snapshot: *const DeltaSnapshotHandle,
    columns: *const *const c_char,
    columns_len: usize,
    predicate: *const c_char,
    out_scan: *mut *mut DeltaScanHandle,
) -> DeltaStatus {
    guard(|| {
        let table = snapshot_of(snapshot)?.table.clone();
        crate::args::check_out(out_scan, "out_scan")?;
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let columns = unsafe { optional_strings(columns, columns_len, "columns") }?;
        let predicate = unsafe { optional_string(predicate, "predicate") }?;
        let scan = plan_scan(&table, columns, predicate.as_deref())?;
        let handle = SCANS.insert(DeltaScanHandle { table, predicate, scan });
        unsafe { write_out(out_scan, handle, "out_scan") }
    })
}

/// Free a scan handle. Null, or a handle freed already, is ignored; streams it returned stay
/// valid.
#[unsafe(no_mangle)]
pub extern "C" fn delta_scan_free(scan: *mut DeltaScanHandle) {
    SCANS.remove(scan);
}

/// The schema of the batches the scan returns (its columns, in order), as an Arrow C schema.
///
/// # Safety
/// `out_schema` is valid for writes of a `struct ArrowSchema`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_scan_schema(
    scan: *const DeltaScanHandle,
    out_schema: *mut FFI_ArrowSchema,
) -> DeltaStatus {
    guard(|| {
        let schema = FFI_ArrowSchema::try_from(scan_of(scan)?.scan.schema().as_ref())?;
        // SAFETY: as the caller guarantees.
        unsafe { write_out(out_schema, schema, "out_schema") }
    })
}

/// The files the scan reads, as an Arrow C stream with the columns `delta_table_files`
/// describes: a reader spreading the work over processes can hand each its share.
///
/// # Safety
/// `out_stream` is valid for writes of a `struct ArrowArrayStream`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_scan_files(
    scan: *const DeltaScanHandle,
    out_stream: *mut FFI_ArrowArrayStream,
) -> DeltaStatus {
    guard(|| {
        let scan = scan_of(scan)?;
        // SAFETY: as the caller guarantees.
        unsafe { files_into(&scan.table, scan.predicate.clone(), out_stream) }
    })
}

/// Run the scan into `*out_stream`, an Arrow C stream as `delta_table_scan` gives (zero-copy,
/// read as the consumer asks for batches, independent of the handle).
///
/// # Safety
/// `out_stream` is valid for writes of a `struct ArrowArrayStream`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_scan_execute(
    scan: *const DeltaScanHandle,
    out_stream: *mut FFI_ArrowArrayStream,
) -> DeltaStatus {
    // SAFETY: as the caller guarantees.
    guard(|| unsafe { execute_into(&scan_of(scan)?.scan, out_stream) })
}

//! The write handle: a write fed one Arrow array at a time, for programs that build batches in a
//! loop rather than implement an Arrow C stream.

use std::ffi::c_char;
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::{RecordBatch, StructArray};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};
use deltalake::bindings::{PushWrite, WriteTarget};
use deltalake::{DeltaError, DeltaResult};

use crate::args::{check_out, import_schema, string, string_map, write_out};
use crate::error::{DeltaStatus, guard};
use crate::handles::Registry;
use crate::ops::{DeltaWriteOptions, write_settings};
use crate::table::{DeltaTableHandle, table_of};

/// A write in progress: batches go in with `delta_writer_write`, and `delta_writer_finish`
/// commits them all as one version. Nothing is committed before that: freeing an unfinished
/// writer abandons the write. Calls on one writer are serialised (one batch at a time); free it
/// with `delta_writer_free` in every case.
pub struct DeltaWriterHandle {
    write: Mutex<Option<PushWrite>>,
    /// The table handle that moves to the new version, for `delta_table_writer`.
    table: Option<Arc<DeltaTableHandle>>,
}

static WRITERS: Registry = Registry::new("writer");

/// # Safety
/// `schema` is a valid `struct ArrowSchema` of a struct type; `options` as `delta_write` takes it;
/// `out_writer` is valid for writes of a pointer.
unsafe fn start(
    target: WriteTarget,
    table: Option<Arc<DeltaTableHandle>>,
    schema: *const FFI_ArrowSchema,
    options: *const DeltaWriteOptions,
    out_writer: *mut *mut DeltaWriterHandle,
) -> DeltaResult<()> {
    check_out(out_writer, "out_writer")?;
    // SAFETY (these blocks): as the caller guarantees.
    let schema: SchemaRef = Arc::new(unsafe { import_schema(schema) }?);
    let settings = unsafe { write_settings(options) }?;
    let write = PushWrite::start(settings.request, target, schema)?;
    let handle = WRITERS.insert(DeltaWriterHandle {
        write: Mutex::new(Some(write)),
        table,
    });
    unsafe { write_out(out_writer, handle, "out_writer") }
}

/// Start a write of batches of `schema` (an Arrow C schema of a struct type, borrowed: the caller
/// still releases it) to the table at `uri`, created when absent. Storage options as in
/// `delta_table_open`; `options` as in `delta_write` (null for the defaults). On success
/// `*out_writer` is a new writer.
///
/// # Safety
/// Pointers are null or valid as described; strings are NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_writer_open(
    uri: *const c_char,
    option_keys: *const *const c_char,
    option_values: *const *const c_char,
    options_len: usize,
    schema: *const FFI_ArrowSchema,
    options: *const DeltaWriteOptions,
    out_writer: *mut *mut DeltaWriterHandle,
) -> DeltaStatus {
    guard(|| {
        // SAFETY (these blocks): the caller's pointers are valid as documented.
        let uri = unsafe { string(uri, "uri") }?;
        let storage_options = unsafe { string_map(option_keys, option_values, options_len, "storage options") }?;
        let target = WriteTarget::Location { uri, storage_options };
        unsafe { start(target, None, schema, options, out_writer) }
    })
}

/// Start a write of batches of `schema` (borrowed, as in `delta_writer_open`) to the loaded table,
/// whose snapshot is reused; `delta_writer_finish` moves the table handle to the new version.
///
/// # Safety
/// As `delta_writer_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_table_writer(
    table: *const DeltaTableHandle,
    schema: *const FFI_ArrowSchema,
    options: *const DeltaWriteOptions,
    out_writer: *mut *mut DeltaWriterHandle,
) -> DeltaStatus {
    guard(|| {
        let handle = table_of(table)?;
        let target = WriteTarget::Table(handle.current());
        // SAFETY: the caller's pointers are valid as documented.
        unsafe { start(target, Some(handle), schema, options, out_writer) }
    })
}

/// Hand one batch to the write: `batch` is an Arrow C array (a struct array), *moved* into the
/// call (the library releases it, on failure too), and `schema` its Arrow C schema (borrowed), or
/// null when the batch has the writer's schema. Blocks while the writer is two batches behind. A
/// batch of another schema gives `DELTA_STATUS_SCHEMA_MISMATCH` and the write goes on; if the
/// write itself failed, its error is returned and the writer can only be freed.
///
/// # Safety
/// `batch` is an unreleased `struct ArrowArray` laid out as `schema` (or, when that is null, as
/// the writer's schema) says.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_writer_write(
    writer: *const DeltaWriterHandle,
    batch: *mut FFI_ArrowArray,
    schema: *const FFI_ArrowSchema,
) -> DeltaStatus {
    guard(|| {
        if batch.is_null() {
            return Err(DeltaError::InvalidArgument("the batch is null".into()));
        }
        // SAFETY: as the caller guarantees; taken first, so that it is released whatever fails.
        let array = unsafe { FFI_ArrowArray::from_raw(batch) };
        let handle = WRITERS.get(writer)?;
        let mut guard = handle.write.lock().unwrap_or_else(PoisonError::into_inner);
        let write = guard.as_mut().ok_or_else(finished)?;
        let data = if schema.is_null() {
            let fields = write.schema().fields();
            if array.num_children() != fields.len() {
                return Err(DeltaError::Schema(format!(
                    "the batch has {} columns, the write's schema {}",
                    array.num_children(),
                    fields.len()
                )));
            }
            let schema = FFI_ArrowSchema::try_from(DataType::Struct(fields.clone()))?;
            // SAFETY: the array has the writer's schema, as the caller guarantees.
            unsafe { from_ffi(array, &schema) }?
        } else {
            // SAFETY: as the caller guarantees.
            unsafe { from_ffi(array, &*schema) }?
        };
        if !matches!(data.data_type(), DataType::Struct(_)) {
            return Err(DeltaError::InvalidArgument(format!(
                "a batch is a struct array, not {}",
                data.data_type()
            )));
        }
        write.push(RecordBatch::from(StructArray::from(data)))
    })
}

/// Commit every batch written as one new version, into `*out_version` when not null. The writer
/// is spent afterwards (free it); when the commit fails nothing was committed.
///
/// # Safety
/// `out_version` is null or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_writer_finish(writer: *const DeltaWriterHandle, out_version: *mut i64) -> DeltaStatus {
    guard(|| {
        let handle = WRITERS.get(writer)?;
        let write = handle
            .write
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(finished)?;
        let table = write.finish()?;
        let version = table.version();
        if let Some(owner) = &handle.table {
            owner.replace(table);
        }
        if !out_version.is_null() {
            // SAFETY: as the caller guarantees.
            unsafe { write_out(out_version, version, "out_version") }?;
        }
        Ok(())
    })
}

/// Free a writer; an unfinished write is abandoned (nothing is committed) first. Null, or a
/// writer freed already, is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn delta_writer_free(writer: *mut DeltaWriterHandle) {
    WRITERS.remove(writer);
}

fn finished() -> DeltaError {
    DeltaError::InvalidArgument("the writer was finished already".into())
}

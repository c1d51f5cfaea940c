//! The C ABI called as a C program would: statuses, errors, handles, streams in and out.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;
use std::ptr::{null, null_mut};
use std::sync::Arc;

use arrow::array::{Array, Int64Array, RecordBatch, RecordBatchIterator, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use deltalake_ffi::*;

fn tables() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/tables")
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(delta_last_error_message()) }
        .to_str()
        .unwrap()
        .to_string()
}

fn open(uri: &str) -> Result<*mut DeltaTableHandle, (DeltaStatus, String)> {
    let uri = c(uri);
    let mut table = null_mut();
    let status = unsafe { delta_table_open(uri.as_ptr(), null(), null(), 0, false, 0, false, 0, null(), &mut table) };
    match status {
        DeltaStatus::Ok => Ok(table),
        other => Err((other, last_error())),
    }
}

fn take_string(ptr: *mut c_char) -> String {
    let text = unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_string();
    unsafe { delta_string_free(ptr) };
    text
}

fn read(stream: FFI_ArrowArrayStream) -> Vec<RecordBatch> {
    RecordBatchStreamReader::try_new(stream)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn scan(table: *mut DeltaTableHandle, columns: Option<&[&str]>, predicate: Option<&str>) -> Vec<RecordBatch> {
    let names: Vec<CString> = columns.unwrap_or_default().iter().map(|s| c(s)).collect();
    let pointers: Vec<*const c_char> = names.iter().map(|s| s.as_ptr()).collect();
    let predicate = predicate.map(c);
    let mut stream = FFI_ArrowArrayStream::empty();
    let status = unsafe {
        delta_table_scan(
            table,
            if columns.is_some() { pointers.as_ptr() } else { null() },
            pointers.len(),
            predicate.as_ref().map_or(null(), |p| p.as_ptr()),
            &mut stream,
        )
    };
    assert_eq!(status, DeltaStatus::Ok, "{}", last_error());
    read(stream)
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

#[test]
fn reads_a_table() {
    let table = open(tables().join("simple_table").to_str().unwrap()).unwrap();
    let mut version = -1;
    assert_eq!(unsafe { delta_table_version(table, &mut version) }, DeltaStatus::Ok);
    assert_eq!(version, 4);
    assert_eq!(rows(&scan(table, None, None)), 3);
    let filtered = scan(table, Some(&["id"]), Some("id > 5"));
    assert_eq!(filtered[0].schema().fields().len(), 1);
    assert_eq!(rows(&filtered), 2);

    let mut schema = FFI_ArrowSchema::empty();
    assert_eq!(unsafe { delta_table_schema(table, &mut schema) }, DeltaStatus::Ok);
    let schema = Schema::try_from(&schema).unwrap();
    assert_eq!(schema.field(0).name(), "id");

    for document in [
        delta_table_schema_json,
        delta_table_metadata_json,
        delta_table_protocol_json,
    ] {
        let mut json = null_mut();
        assert_eq!(unsafe { document(table, &mut json) }, DeltaStatus::Ok);
        let value: serde_json::Value = serde_json::from_str(&take_string(json)).unwrap();
        assert!(value.is_object());
    }
    let mut json = null_mut();
    assert_eq!(
        unsafe { delta_table_history_json(table, 2, null(), &mut json) },
        DeltaStatus::Ok
    );
    let history: serde_json::Value = serde_json::from_str(&take_string(json)).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["version"], 4);

    let mut files = FFI_ArrowArrayStream::empty();
    assert_eq!(unsafe { delta_table_files(table, null(), &mut files) }, DeltaStatus::Ok);
    let files = read(files);
    assert_eq!(files[0].num_rows(), 5);
    assert_eq!(files[0].schema().field(3).name(), "partition_values");

    assert_eq!(delta_table_load_version(table, 0, null()), DeltaStatus::Ok);
    assert_eq!(rows(&scan(table, None, None)), 5);
    assert_eq!(delta_table_update(table, null()), DeltaStatus::Ok);
    assert_eq!(unsafe { delta_table_version(table, &mut version) }, DeltaStatus::Ok);
    assert_eq!(version, 4);
    delta_table_free(table);
}

#[test]
fn errors_are_statuses_with_messages() {
    let (status, message) = open("/nonexistent/table").unwrap_err();
    assert_eq!(status, DeltaStatus::NotFound);
    assert!(message.contains("/nonexistent/table"), "{message}");
    assert_eq!(delta_last_error_status(), DeltaStatus::NotFound);

    let mut table = null_mut();
    let status = unsafe { delta_table_open(null(), null(), null(), 0, false, 0, false, 0, null(), &mut table) };
    assert_eq!(status, DeltaStatus::InvalidArgument);

    let table = open(tables().join("simple_table").to_str().unwrap()).unwrap();
    let mut stream = FFI_ArrowArrayStream::empty();
    let bad = c("id >");
    let status = unsafe { delta_table_scan(table, null(), 0, bad.as_ptr(), &mut stream) };
    assert_eq!(status, DeltaStatus::InvalidArgument, "{}", last_error());
    let missing = c("nope");
    let names = [missing.as_ptr()];
    let status = unsafe { delta_table_scan(table, names.as_ptr(), 1, null(), &mut stream) };
    assert_ne!(status, DeltaStatus::Ok);
    assert_eq!(delta_table_load_version(table, 99, null()), DeltaStatus::NotFound);

    delta_table_free(table);
    delta_table_free(table);
    let mut version = 0;
    let status = unsafe { delta_table_version(table, &mut version) };
    assert_eq!(status, DeltaStatus::InvalidArgument);
    assert!(last_error().contains("freed"), "{}", last_error());
    assert_eq!(
        unsafe { delta_table_version(null(), &mut version) },
        DeltaStatus::InvalidArgument
    );
}

fn batch(ids: &[i64], names: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names.to_vec())),
        ],
    )
    .unwrap()
}

fn stream_of(batches: Vec<RecordBatch>) -> FFI_ArrowArrayStream {
    let schema = batches[0].schema();
    FFI_ArrowArrayStream::new(Box::new(RecordBatchIterator::new(batches.into_iter().map(Ok), schema)))
}

fn metrics(status: DeltaStatus, json: *mut c_char) -> serde_json::Value {
    assert_eq!(status, DeltaStatus::Ok, "{}", last_error());
    serde_json::from_str(&take_string(json)).unwrap()
}

/// A new table at `dir` of ids 1, 2, 3, written with `delta_write`; its handle.
fn write_new(dir: &std::path::Path) -> *mut DeltaTableHandle {
    let uri = c(dir.to_str().unwrap());
    let mut data = stream_of(vec![batch(&[1, 2, 3], &["a", "b", "c"])]);
    let mut table = null_mut();
    let status = unsafe { delta_write(uri.as_ptr(), null(), null(), 0, &mut data, null(), null(), &mut table) };
    assert_eq!(status, DeltaStatus::Ok, "{}", last_error());
    assert!(data.release().is_none(), "the stream was moved into the call");
    table
}

#[test]
fn writes_and_operations() {
    let dir = tempfile::tempdir().unwrap();
    let table = write_new(dir.path());
    assert_eq!(rows(&scan(table, None, None)), 3);

    let mut more = stream_of(vec![batch(&[4], &["d"])]);
    let mut version = 0;
    let status = unsafe { delta_table_write(table, &mut more, null(), null(), &mut version) };
    assert_eq!(status, DeltaStatus::Ok, "{}", last_error());
    assert_eq!(version, 1);

    // A batch of the wrong schema is refused.
    let wrong = RecordBatch::try_from_iter([("id", Arc::new(StringArray::from(vec!["x"])) as _)]).unwrap();
    let mut wrong = stream_of(vec![wrong]);
    let status = unsafe { delta_table_write(table, &mut wrong, null(), null(), null_mut()) };
    assert_eq!(status, DeltaStatus::SchemaMismatch, "{}", last_error());

    let mut json = null_mut();
    let predicate = c("id = 1");
    let deleted = metrics(
        unsafe { delta_table_delete(table, predicate.as_ptr(), null(), &mut json) },
        json,
    );
    assert_eq!(deleted["numDeletedRows"], 1);

    let column = c("name");
    let value = c("'z'");
    let predicate = c("id = 2");
    let updated = metrics(
        unsafe {
            delta_table_update_rows(
                table,
                &column.as_ptr(),
                &value.as_ptr(),
                1,
                predicate.as_ptr(),
                null(),
                &mut json,
            )
        },
        json,
    );
    assert_eq!(updated["numUpdatedRows"], 1);

    let kinds = [c("when_matched_update_all"), c("when_not_matched_insert_all")];
    let clauses: Vec<DeltaMergeClause> = kinds
        .iter()
        .map(|kind| DeltaMergeClause {
            kind: kind.as_ptr(),
            predicate: null(),
            assignment_columns: null(),
            assignment_expressions: null(),
            assignments_len: 0,
            except: null(),
            except_len: 0,
        })
        .collect();
    let mut source = stream_of(vec![batch(&[3, 9], &["C", "i"])]);
    let on = c("target.id = source.id");
    let merged = metrics(
        unsafe {
            delta_table_merge(
                table,
                &mut source,
                on.as_ptr(),
                null(),
                null(),
                false,
                clauses.as_ptr(),
                clauses.len(),
                null(),
                &mut json,
            )
        },
        json,
    );
    assert_eq!(merged["numTargetRowsInserted"], 1);
    assert_eq!(merged["numTargetRowsUpdated"], 1);
    let names: Vec<String> = scan(table, Some(&["name"]), None)
        .iter()
        .flat_map(|b| {
            let names = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
            (0..names.len()).map(|i| names.value(i).to_string()).collect::<Vec<_>>()
        })
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["C", "d", "i", "z"]);

    let optimized = metrics(
        unsafe { delta_table_optimize(table, null(), 0, null(), 0, 0, null(), &mut json) },
        json,
    );
    assert!(optimized["numFilesRemoved"].as_u64().unwrap() > 1, "{optimized}");
    let vacuumed = metrics(
        unsafe { delta_table_vacuum(table, 0, true, false, false, null(), &mut json) },
        json,
    );
    assert_eq!(vacuumed["dryRun"], true);
    let restored = metrics(
        unsafe { delta_table_restore(table, 1, false, 0, false, false, null(), &mut json) },
        json,
    );
    assert!(restored.get("numRestoredFile").is_some(), "{restored}");
    assert_eq!(rows(&scan(table, None, None)), 4);
    let status = unsafe { delta_table_create_checkpoint(table, null(), &mut json) };
    let checkpoint = metrics(status, json);
    assert!(checkpoint["version"].as_i64().unwrap() > 1);

    let bad_kind = c("when_sometimes");
    let bad = DeltaMergeClause {
        kind: bad_kind.as_ptr(),
        ..clauses[0]
    };
    let mut source = stream_of(vec![batch(&[3], &["C"])]);
    let status = unsafe {
        delta_table_merge(
            table,
            &mut source,
            on.as_ptr(),
            null(),
            null(),
            false,
            &bad,
            1,
            null(),
            &mut json,
        )
    };
    assert_eq!(status, DeltaStatus::InvalidArgument);
    assert!(source.release().is_none(), "the stream is released on errors too");
    delta_table_free(table);
}

#[test]
fn cancelled_calls_stop() {
    let token = delta_cancel_token_new();
    delta_cancel_token_cancel(token);
    let uri = c(tables().join("simple_table").to_str().unwrap());
    let mut table = null_mut();
    let status = unsafe { delta_table_open(uri.as_ptr(), null(), null(), 0, false, 0, false, 0, token, &mut table) };
    assert_eq!(status, DeltaStatus::Cancelled);
    delta_cancel_token_free(token);
    let status = unsafe { delta_table_open(uri.as_ptr(), null(), null(), 0, false, 0, false, 0, token, &mut table) };
    assert_eq!(status, DeltaStatus::InvalidArgument);
}

/// The rows of a stream returned in `*out` by `call`.
fn stream(call: impl FnOnce(*mut FFI_ArrowArrayStream) -> DeltaStatus) -> Vec<RecordBatch> {
    let mut out = FFI_ArrowArrayStream::empty();
    let status = call(&mut out);
    assert_eq!(status, DeltaStatus::Ok, "{}", last_error());
    read(out)
}

#[test]
fn snapshots_and_scans_stay_at_their_version() {
    let dir = tempfile::tempdir().unwrap();
    let table = write_new(dir.path());

    let mut snapshot = null_mut();
    assert_eq!(unsafe { delta_table_snapshot(table, &mut snapshot) }, DeltaStatus::Ok);
    // The table handle moves on; the snapshot stays at version 0, even once the table is freed.
    let mut more = stream_of(vec![batch(&[4, 5], &["d", "e"])]);
    let status = unsafe { delta_table_write(table, &mut more, null(), null(), null_mut()) };
    assert_eq!(status, DeltaStatus::Ok, "{}", last_error());
    assert_eq!(rows(&scan(table, None, None)), 5);
    delta_table_free(table);
    let mut version = -1;
    assert_eq!(
        unsafe { delta_snapshot_version(snapshot, &mut version) },
        DeltaStatus::Ok
    );
    assert_eq!(version, 0);
    let files = stream(|out| unsafe { delta_snapshot_files(snapshot, null(), out) });
    assert_eq!(rows(&files), 1);
    let mut schema = FFI_ArrowSchema::empty();
    assert_eq!(unsafe { delta_snapshot_schema(snapshot, &mut schema) }, DeltaStatus::Ok);
    assert_eq!(Schema::try_from(&schema).unwrap().fields().len(), 2);

    // A scan planned once runs many times, from several threads at once, at the snapshot's version.
    let column = c("id");
    let predicate = c("id > 1");
    let mut planned = null_mut();
    let status = unsafe { delta_snapshot_scan(snapshot, &column.as_ptr(), 1, predicate.as_ptr(), &mut planned) };
    assert_eq!(status, DeltaStatus::Ok, "{}", last_error());
    delta_snapshot_free(snapshot);
    let mut schema = FFI_ArrowSchema::empty();
    assert_eq!(unsafe { delta_scan_schema(planned, &mut schema) }, DeltaStatus::Ok);
    let schema = Schema::try_from(&schema).unwrap();
    assert_eq!(
        schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>(),
        ["id"]
    );
    assert_eq!(rows(&stream(|out| unsafe { delta_scan_files(planned, out) })), 1);
    let address = planned as usize;
    let runs: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let batches = stream(|out| unsafe { delta_scan_execute(address as *const DeltaScanHandle, out) });
                let mut ids: Vec<i64> = batches
                    .iter()
                    .flat_map(|b| {
                        b.column(0)
                            .as_any()
                            .downcast_ref::<Int64Array>()
                            .unwrap()
                            .values()
                            .to_vec()
                    })
                    .collect();
                ids.sort();
                ids
            })
        })
        .collect();
    for run in runs {
        assert_eq!(run.join().unwrap(), vec![2, 3]);
    }
    delta_scan_free(planned);
    delta_scan_free(planned);

    // Freed handles and bad plans are errors, not crashes.
    let status = unsafe { delta_scan_execute(planned, &mut FFI_ArrowArrayStream::empty()) };
    assert_eq!(status, DeltaStatus::InvalidArgument);
    assert!(
        last_error().contains("scan handle is invalid or was freed"),
        "{}",
        last_error()
    );
    assert_eq!(
        unsafe { delta_snapshot_version(snapshot, &mut version) },
        DeltaStatus::InvalidArgument
    );
    let mut table = open(dir.path().to_str().unwrap()).unwrap();
    let mut snapshot = null_mut();
    assert_eq!(unsafe { delta_table_snapshot(table, &mut snapshot) }, DeltaStatus::Ok);
    let missing = c("no_such_column");
    let mut planned = null_mut();
    let status = unsafe { delta_snapshot_scan(snapshot, &missing.as_ptr(), 1, null(), &mut planned) };
    assert_ne!(status, DeltaStatus::Ok);
    assert!(planned.is_null());
    assert_eq!(
        unsafe { delta_table_snapshot(table, null_mut()) },
        DeltaStatus::InvalidArgument
    );
    delta_snapshot_free(snapshot);
    delta_table_free(table);
    table = null_mut();
    assert_eq!(
        unsafe { delta_table_snapshot(table, &mut snapshot) },
        DeltaStatus::InvalidArgument
    );
}

/// `batch` as an Arrow C array, to move into `delta_writer_write`.
fn ffi_array(batch: &RecordBatch) -> arrow::ffi::FFI_ArrowArray {
    arrow::ffi::FFI_ArrowArray::new(&arrow::array::StructArray::from(batch.clone()).into_data())
}

#[test]
fn a_writer_takes_batches_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let uri = c(dir.path().to_str().unwrap());
    let schema = FFI_ArrowSchema::try_from(batch(&[], &[]).schema().as_ref()).unwrap();
    let mut writer = null_mut();
    let status = unsafe { delta_writer_open(uri.as_ptr(), null(), null(), 0, &schema, null(), &mut writer) };
    assert_eq!(status, DeltaStatus::Ok, "{}", last_error());
    for first in [1i64, 3, 5] {
        let mut array = ffi_array(&batch(&[first, first + 1], &["a", "b"]));
        assert_eq!(
            unsafe { delta_writer_write(writer, &mut array, null()) },
            DeltaStatus::Ok,
            "{}",
            last_error()
        );
        assert!(array.is_released(), "the array was moved into the call");
    }
    // A batch of another schema is refused, and the write goes on.
    let wrong = RecordBatch::try_from_iter([("id", Arc::new(StringArray::from(vec!["x"])) as _)]).unwrap();
    let wrong_schema = FFI_ArrowSchema::try_from(wrong.schema().as_ref()).unwrap();
    let mut array = ffi_array(&wrong);
    assert_eq!(
        unsafe { delta_writer_write(writer, &mut array, &wrong_schema) },
        DeltaStatus::SchemaMismatch
    );
    let mut array = ffi_array(&wrong);
    assert_eq!(
        unsafe { delta_writer_write(writer, &mut array, null()) },
        DeltaStatus::SchemaMismatch
    );
    assert!(last_error().contains("1 columns"), "{}", last_error());
    // With its schema given, a batch is checked against the write's.
    let mut array = ffi_array(&batch(&[0], &["z"]));
    assert_eq!(
        unsafe { delta_writer_write(writer, &mut array, &schema) },
        DeltaStatus::Ok
    );
    let mut version = -1;
    assert_eq!(
        unsafe { delta_writer_finish(writer, &mut version) },
        DeltaStatus::Ok,
        "{}",
        last_error()
    );
    assert_eq!(version, 0);
    let mut array = ffi_array(&batch(&[7], &["c"]));
    assert_eq!(
        unsafe { delta_writer_write(writer, &mut array, null()) },
        DeltaStatus::InvalidArgument
    );
    assert!(last_error().contains("finished"), "{}", last_error());
    delta_writer_free(writer);
    delta_writer_free(writer);

    // A writer of a loaded table moves its handle; an abandoned one commits nothing.
    let table = open(dir.path().to_str().unwrap()).unwrap();
    assert_eq!(rows(&scan(table, None, None)), 7);
    let mut writer = null_mut();
    assert_eq!(
        unsafe { delta_table_writer(table, &schema, null(), &mut writer) },
        DeltaStatus::Ok
    );
    let mut array = ffi_array(&batch(&[7], &["c"]));
    assert_eq!(
        unsafe { delta_writer_write(writer, &mut array, null()) },
        DeltaStatus::Ok
    );
    assert_eq!(unsafe { delta_writer_finish(writer, null_mut()) }, DeltaStatus::Ok);
    delta_writer_free(writer);
    let mut version = -1;
    assert_eq!(unsafe { delta_table_version(table, &mut version) }, DeltaStatus::Ok);
    assert_eq!((version, rows(&scan(table, None, None))), (1, 8));
    assert_eq!(
        unsafe { delta_table_writer(table, &schema, null(), &mut writer) },
        DeltaStatus::Ok
    );
    let mut array = ffi_array(&batch(&[8], &["d"]));
    assert_eq!(
        unsafe { delta_writer_write(writer, &mut array, null()) },
        DeltaStatus::Ok
    );
    delta_writer_free(writer);
    assert_eq!(delta_table_update(table, null()), DeltaStatus::Ok);
    assert_eq!(
        rows(&scan(table, None, None)),
        8,
        "the abandoned write committed nothing"
    );
    assert_eq!(
        unsafe { delta_writer_write(writer, &mut ffi_array(&batch(&[9], &["e"])), null()) },
        DeltaStatus::InvalidArgument
    );
    assert_eq!(
        unsafe { delta_writer_open(uri.as_ptr(), null(), null(), 0, null(), null(), &mut writer) },
        DeltaStatus::InvalidArgument
    );
    delta_table_free(table);
}

//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod cloud;
pub mod dml;
pub mod proxy;
pub mod services;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, make_array};
use arrow::compute::cast;
use arrow::datatypes::SchemaRef;
use arrow::datatypes::{DataType, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::TryStreamExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// `../shared/testdata` seen from the repository root.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
}

/// The shared Delta tables.
pub fn tables_dir() -> PathBuf {
    testdata().join("tables")
}

/// What the reference reader saw.
pub fn expected_dir() -> PathBuf {
    testdata().join("expected")
}

/// Read a Parquet file of expected rows.
pub fn read_expected_rows(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// `col` cast to `target`; timestamps are compared as UTC instants in microseconds without
/// their zone label (which differs between writers: "UTC", "+00:00", none).
fn comparable(col: &ArrayRef, target: &DataType) -> Result<ArrayRef, arrow::error::ArrowError> {
    match (col.data_type(), target) {
        (DataType::Timestamp(unit, Some(_)), DataType::Timestamp(..)) => {
            let data = col
                .to_data()
                .into_builder()
                .data_type(DataType::Timestamp(*unit, None))
                .build()?;
            cast(&make_array(data), &DataType::Timestamp(TimeUnit::Microsecond, None))
        }
        (_, DataType::Timestamp(_, Some(_))) => cast(col, &DataType::Timestamp(TimeUnit::Microsecond, None)),
        _ => cast(col, target),
    }
}

/// Every row as text, columns in `schema` order (each cast to the schema's type first), sorted.
pub fn render_sorted_rows(batches: &[RecordBatch], schema: &SchemaRef) -> Result<Vec<String>, String> {
    let options = FormatOptions::default().with_null("∅");
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|f| {
                let col = batch
                    .column_by_name(f.name())
                    .ok_or_else(|| format!("column {} missing", f.name()))?;
                comparable(col, f.data_type()).map_err(|e| format!("column {}: {e}", f.name()))
            })
            .collect::<Result<_, _>>()?;
        let formatters: Vec<_> = columns
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters.iter().map(|f| f.value(row).to_string()).collect();
            rows.push(cells.join(" | "));
        }
    }
    rows.sort();
    Ok(rows)
}

/// Copy a shared test table into `dest` (so a test can damage it).
pub fn copy_table(name: &str, dest: &Path) {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    copy_dir(&tables_dir().join(name), dest);
}

/// The reference Python interpreter (`deltalake` 1.6.6 installed), from `DELTA_REFERENCE_PYTHON`;
/// `None` (the checks are skipped) outside CI when it is not set.
pub fn reference_python() -> Option<String> {
    match std::env::var("DELTA_REFERENCE_PYTHON") {
        Ok(p) => Some(p),
        Err(_) if std::env::var("CI").is_ok() => panic!("CI must set DELTA_REFERENCE_PYTHON (scripts/test.sh does)"),
        Err(_) => {
            eprintln!("DELTA_REFERENCE_PYTHON not set: run scripts/setup-python.sh; skipping reference checks");
            None
        }
    }
}

/// Run `script`; it ends with `os._exit(0)` because `deltalake` 1.6.6 sometimes aborts at
/// interpreter exit ("terminate called without an active exception") after a successful read.
pub fn run_python(python: &str, script: &str, args: &[&str]) {
    let script = format!("{script}\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n");
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The change data feed of `table` from `start`, its first five columns (in the DML tests: `id |
/// part | value | change_type | version`) rendered as sorted rows.
pub async fn changes(table: &deltalake::DeltaTable, start: i64) -> Vec<String> {
    first_change_columns(table, start, 5).await
}

/// The change data feed of `table` from `start`, its first `width` columns rendered as sorted rows.
pub async fn first_change_columns(table: &deltalake::DeltaTable, start: i64, width: usize) -> Vec<String> {
    let batches: Vec<RecordBatch> = table
        .changes(start)
        .unwrap()
        .execute()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let columns: Vec<usize> = (0..width).collect();
    let schema = Arc::new(batches[0].schema().project(&columns).unwrap());
    render_sorted_rows(&batches, &schema).unwrap()
}

/// The actions of the commit of `version`.
pub async fn commit_actions(table: &deltalake::DeltaTable, version: i64) -> Vec<deltalake::protocol::Action> {
    let commits = table.commits_after(version - 1).await.unwrap();
    commits.into_iter().find(|c| c.version == version).unwrap().actions
}

/// The `commitInfo` of the commit of `version`.
pub async fn commit_info(table: &deltalake::DeltaTable, version: i64) -> deltalake::protocol::CommitInfo {
    commit_info_in(&commit_actions(table, version).await)
}

/// The `commitInfo` among a commit's `actions`.
pub fn commit_info_in(actions: &[deltalake::protocol::Action]) -> deltalake::protocol::CommitInfo {
    actions
        .iter()
        .find_map(|a| match a {
            deltalake::protocol::Action::CommitInfo(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap()
}

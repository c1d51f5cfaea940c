//! Conformance: every table of `../shared/testdata/tables` read by us matches what the reference
//! reader saw (`../shared/testdata/expected`), and where the reference failed, what the protocol says.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::BTreeSet;

use common::{expected_dir, read_expected_rows, render_sorted_rows, tables_dir};
use deltalake::{DeltaError, DeltaTable};
use futures::TryStreamExt;
use serde_json::Value;

/// Tables the reference could not open, with what we must do instead.
fn reference_failure_expectation(table: &str) -> Option<&'static str> {
    match table {
        // Reader feature "blahabl" is unknown: refuse, naming it.
        "simple_table_features" => Some("blahabl"),
        _ => None,
    }
}

/// Tables where the reference reader returns wrong rows; `spec_derived.rs` asserts the right ones.
fn reference_rows_are_wrong(table: &str) -> bool {
    // Column mapping (name mode): the reference returns nulls for the non-partition column
    // although its data files hold the values under the physical name.
    table == "table_with_column_mapping"
}

/// Tables whose data files were never committed to the test data: checked at the log level.
fn has_data_files(table: &str, meta: &Value) -> bool {
    let dir = tables_dir().join(table);
    meta["files"].as_array().is_some_and(|files| {
        files.iter().filter_map(Value::as_str).all(|f| {
            let decoded = percent_decode(f);
            dir.join(&decoded).exists()
        })
    })
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

async fn check_table(table: &str) -> Result<String, String> {
    let meta: Value =
        serde_json::from_slice(&std::fs::read(expected_dir().join(table).join("meta.json")).unwrap()).unwrap();
    let location = tables_dir().join(table);
    let opened = DeltaTable::open(location.to_str().unwrap()).await;
    if let Some(needle) = reference_failure_expectation(table) {
        return match opened {
            Err(e @ DeltaError::UnsupportedFeature { .. }) if e.to_string().contains(needle) => {
                Ok(format!("refused: {e}"))
            }
            Err(e) => Err(format!("wrong error: {e}")),
            Ok(_) => Err("opened a table that must be refused".into()),
        };
    }
    let t = opened.map_err(|e| format!("open failed: {e}"))?;
    let snapshot = t.snapshot();
    let want_version = meta["version"].as_i64().unwrap();
    if snapshot.version() != want_version {
        return Err(format!("version {} != {want_version}", snapshot.version()));
    }
    let ours: BTreeSet<String> = snapshot.files().iter().map(|f| percent_decode(f.path())).collect();
    let theirs: BTreeSet<String> = meta["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| percent_decode(f.as_str().unwrap()))
        .collect();
    if ours != theirs {
        return Err(format!("files differ:\n ours   {ours:?}\n theirs {theirs:?}"));
    }
    let p = snapshot.protocol();
    if i64::from(p.min_reader_version) != meta["min_reader_version"].as_i64().unwrap()
        || i64::from(p.min_writer_version) != meta["min_writer_version"].as_i64().unwrap()
    {
        return Err(format!(
            "protocol {p:?} differs from {}/{}",
            meta["min_reader_version"], meta["min_writer_version"]
        ));
    }
    let want_parts: Vec<String> = serde_json::from_value(meta["partition_columns"].clone()).unwrap();
    if snapshot.partition_columns() != want_parts.as_slice() {
        return Err(format!(
            "partition columns {:?} != {want_parts:?}",
            snapshot.partition_columns()
        ));
    }
    if !has_data_files(table, &meta) {
        return Ok(format!("log only: version {want_version}, {} files", ours.len()));
    }

    let batches: Vec<_> = t
        .scan()
        .build()
        .map_err(|e| format!("scan plan failed: {e}"))?
        .execute()
        .try_collect()
        .await
        .map_err(|e| format!("scan failed: {e}"))?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let expected_rows = expected_row_count(snapshot);
    if let Some(n) = expected_rows
        && n != rows as i64
    {
        return Err(format!(
            "scanned {rows} rows, statistics minus deletion vectors say {n}"
        ));
    }
    if let Some(want) = meta["num_rows"].as_i64()
        && want != rows as i64
    {
        return Err(format!("scanned {rows} rows, reference read {want}"));
    }
    let rows_file = expected_dir().join(table).join("rows.parquet");
    if rows_file.exists() && !reference_rows_are_wrong(table) {
        let expected = read_expected_rows(&rows_file);
        let schema = snapshot.arrow_schema();
        let ours = render_sorted_rows(&batches, schema).map_err(|e| format!("render ours: {e}"))?;
        let theirs = render_sorted_rows(&expected, schema).map_err(|e| format!("render expected: {e}"))?;
        if ours != theirs {
            let diff: Vec<_> = ours.iter().zip(&theirs).filter(|(a, b)| a != b).take(3).collect();
            return Err(format!(
                "rows differ ({} vs {}): first differences {diff:?}",
                ours.len(),
                theirs.len()
            ));
        }
        return Ok(format!("{rows} rows match the reference"));
    }
    Ok(format!(
        "{rows} rows (reference could not read them: count checked against stats and DVs)"
    ))
}

/// The row count the log promises: numRecords of each file minus its deleted rows, when every file has stats.
fn expected_row_count(snapshot: &deltalake::Snapshot) -> Option<i64> {
    let mut total = 0;
    for f in snapshot.files().iter() {
        let stats: Value = serde_json::from_str(f.stats()?).ok()?;
        total += stats["numRecords"].as_i64()?;
        total -= f.deletion_vector().map_or(0, |dv| dv.cardinality);
    }
    Some(total)
}

#[tokio::test]
async fn every_table_matches_the_reference_or_the_spec() {
    let mut tables: Vec<String> = std::fs::read_dir(expected_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    tables.sort();
    assert!(
        tables.len() >= 40,
        "test data not found at {}",
        expected_dir().display()
    );
    let mut failures = Vec::new();
    for table in &tables {
        match check_table(table).await {
            Ok(note) => println!("ok   {table}: {note}"),
            Err(e) => {
                println!("FAIL {table}: {e}");
                failures.push(table.clone());
            }
        }
    }
    assert!(failures.is_empty(), "{} tables failed: {failures:?}", failures.len());
}

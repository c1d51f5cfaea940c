//! Change data feed reads checked against the table states they lead to.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::BTreeMap;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use common::tables_dir;
use deltalake::DeltaTable;
use futures::TryStreamExt;

async fn rows_at(location: &str, version: i64) -> usize {
    let t = DeltaTable::builder(location)
        .with_version(version)
        .load()
        .await
        .unwrap();
    t.scan()
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap()
        .iter()
        .map(RecordBatch::num_rows)
        .sum()
}

/// (version, change type) -> row count
async fn change_counts(table: &str) -> (String, BTreeMap<(i64, String), usize>, i64) {
    let location = tables_dir().join(table).to_str().unwrap().to_string();
    let t = DeltaTable::open(&location).await.unwrap();
    let feed = t.changes(0).unwrap();
    let batches: Vec<RecordBatch> = feed.execute().await.unwrap().try_collect().await.unwrap();
    let mut counts = BTreeMap::new();
    for b in &batches {
        assert_eq!(b.num_columns(), feed.schema().fields().len());
        let kinds = b.column_by_name("_change_type").unwrap().as_string::<i32>();
        let versions = b.column_by_name("_commit_version").unwrap().as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            *counts
                .entry((versions.value(i), kinds.value(i).to_string()))
                .or_insert(0) += 1;
        }
    }
    (location, counts, t.version())
}

#[tokio::test]
async fn change_feed_replays_to_each_table_state() {
    for table in [
        "cdf-table",
        "cdf-table-non-partitioned",
        "cdc_ict_table",
        "simple_table_with_cdc",
        "cdf-table-with-cdc-and-dvs",
    ] {
        let (location, counts, latest) = change_counts(table).await;
        assert!(!counts.is_empty(), "{table}");
        let mut rows: i64 = 0;
        for version in 0..=latest {
            let count = |kind: &str| counts.get(&(version, kind.to_string())).copied().unwrap_or(0) as i64;
            assert_eq!(
                count("update_preimage"),
                count("update_postimage"),
                "{table} v{version}"
            );
            rows += count("insert") - count("delete");
            assert_eq!(
                rows,
                rows_at(&location, version).await as i64,
                "{table}: rows after version {version}"
            );
        }
    }
}

#[tokio::test]
async fn change_feed_needs_it_enabled_and_a_valid_range() {
    let t = DeltaTable::open(tables_dir().join("simple_table").to_str().unwrap())
        .await
        .unwrap();
    assert!(t.changes(0).unwrap_err().to_string().contains("enableChangeDataFeed"));
    let t = DeltaTable::open(tables_dir().join("cdf-table").to_str().unwrap())
        .await
        .unwrap();
    assert!(t.changes(t.version() + 1).is_err());
}

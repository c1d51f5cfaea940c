//! Rows of test tables the reference reader could not read (or read wrongly), asserted from what
//! the protocol says they hold: data files, statistics and deletion vectors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, Int64Type, TimestampMicrosecondType};
use common::tables_dir;
use deltalake::DeltaTable;
use futures::TryStreamExt;

async fn scan(table: &str) -> Vec<RecordBatch> {
    let t = DeltaTable::open(tables_dir().join(table).to_str().unwrap())
        .await
        .unwrap();
    t.scan().build().unwrap().execute().try_collect().await.unwrap()
}

fn column<'a>(batches: &'a [RecordBatch], name: &str) -> Vec<&'a dyn Array> {
    batches
        .iter()
        .map(|b| b.column_by_name(name).unwrap().as_ref())
        .collect()
}

#[tokio::test]
async fn timestamps_in_years_9999_read_exactly() {
    let batches = scan("table_with_edge_timestamps").await;
    let mut rows: Vec<(i32, i64, i64)> = Vec::new();
    for b in &batches {
        let v = b.column_by_name("SOME_VALUE").unwrap().as_primitive::<Int32Type>();
        let big = b
            .column_by_name("BIG_DATE")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        let normal = b
            .column_by_name("NORMAL_DATE")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        for i in 0..b.num_rows() {
            rows.push((v.value(i), big.value(i), normal.value(i)));
        }
    }
    rows.sort();
    // The file statistics give each single-row file's values.
    let micros = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros();
    assert_eq!(
        rows,
        vec![
            (1, micros("9999-12-31T00:00:00Z"), micros("2022-01-01T00:00:00Z")),
            (2, micros("9999-12-30T00:00:00Z"), micros("2022-02-01T00:00:00Z")),
        ]
    );
}

#[tokio::test]
async fn deletion_vectors_remove_exactly_the_deleted_rows() {
    // The file holds values 0..=9; version 1 deletes `value IN (0, 9)` with a deletion vector.
    let batches = scan("table-with-dv-small").await;
    let mut values: Vec<i32> = column(&batches, "value")
        .iter()
        .flat_map(|a| a.as_primitive::<Int32Type>().values().to_vec())
        .collect();
    values.sort();
    assert_eq!(values, (1..=8).collect::<Vec<_>>());

    let t = DeltaTable::builder(tables_dir().join("table-with-dv-small").to_str().unwrap())
        .with_version(0)
        .load()
        .await
        .unwrap();
    let before: usize = t
        .scan()
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(before, 10);
}

#[tokio::test]
async fn selection_vectors_keep_the_rows_the_scan_keeps() {
    let location = tables_dir().join("table-with-dv-small");
    let t = DeltaTable::open(location.to_str().unwrap()).await.unwrap();
    let masks = t.deletion_vectors().await.unwrap();
    assert_eq!(masks.num_rows(), 1);
    let uri = masks.column(0).as_string::<i32>().value(0);
    let mask = masks.column(1).as_list::<i32>().value(0);
    let mask = mask.as_boolean();
    // The raw rows of the data file, filtered by the mask, are the rows the scan returns.
    let path = url::Url::parse(uri).unwrap().to_file_path().unwrap();
    let raw: Vec<RecordBatch> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(std::fs::File::open(path).unwrap(), 1024)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let raw = arrow::compute::concat_batches(&raw[0].schema(), &raw).unwrap();
    assert_eq!(mask.len(), raw.num_rows());
    let kept = arrow::compute::filter_record_batch(&raw, mask).unwrap();
    let mut values: Vec<i32> = kept.column(0).as_primitive::<Int32Type>().values().to_vec();
    values.sort();
    assert_eq!(values, (1..=8).collect::<Vec<_>>());

    let before = DeltaTable::builder(location.to_str().unwrap())
        .with_version(0)
        .load()
        .await
        .unwrap();
    assert_eq!(before.deletion_vectors().await.unwrap().num_rows(), 0);
}

#[tokio::test]
async fn column_mapping_reads_columns_by_physical_name() {
    let batches = scan("table_with_column_mapping").await;
    let mut names: Vec<String> = column(&batches, "Super Name")
        .iter()
        .flat_map(|a| {
            a.as_string::<i32>()
                .iter()
                .map(|s| s.unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    // Read from the data files' physical column `col-3877fd94-...`.
    assert_eq!(
        names,
        [
            "Anthony Johnson",
            "Mr. Daniel Ferguson MD",
            "Nathan Bennett",
            "Stephanie Mcgrath",
            "Timothy Lamb"
        ]
    );
}

#[tokio::test]
async fn deletion_vectors_with_column_mapping_and_partitions() {
    let batches = scan("table_with_partitioning_mapping").await;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 2);
    for b in &batches {
        assert_eq!(
            b.column_by_name("newid").unwrap().null_count(),
            0,
            "partition values must be materialised"
        );
    }
}

#[tokio::test]
async fn v2_checkpoint_with_sidecars_reads_every_file() {
    let t = DeltaTable::open(tables_dir().join("checkpoint-v2-table").to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(t.version(), 9);
    let batches = t.scan().build().unwrap().collect().await.unwrap();
    let ids: i64 = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().iter().flatten())
        .count() as i64;
    assert_eq!(ids, 44);
}

#[tokio::test]
async fn variant_tables_with_the_shredding_feature_read_their_unshredded_files() {
    let batches = scan("spark-shredded-variant-preview-delta").await;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 102, "50 + 50 + 1 + 1 rows in the four files");
    // Row 0 holds the variant object {"key": 0}: metadata dictionary ["key"], value an object
    // of one field (id 0, offset 0) whose value is the int8 0.
    for b in &batches {
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let v = b.column_by_name("v").unwrap().as_struct();
        for i in 0..b.num_rows() {
            if ids.value(i) == 0 {
                assert_eq!(
                    v.column_by_name("metadata").unwrap().as_binary::<i32>().value(i),
                    b"\x01\x01\x00\x03key"
                );
                assert_eq!(
                    v.column_by_name("value").unwrap().as_binary::<i32>().value(i),
                    b"\x02\x01\x00\x00\x02\x0c\x00"
                );
            }
        }
    }
}

//! OPTIMIZE: compaction and Z-order, their commits and metrics, deletion vectors, column
//! mapping, bad input and concurrent commits.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use common::{commit_actions, commit_info_in, render_sorted_rows};
use deltalake::operations::optimize::OptimizeType;
use deltalake::operations::write::SaveMode;
use deltalake::protocol::Action;
use deltalake::{DeltaError, DeltaTable};

/// Rows `ids`: `part` is `a` for even ids, else `b`; `value` = `(id * 37) % 101`.
fn batch(ids: std::ops::Range<i64>) -> RecordBatch {
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef),
        (
            "part",
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| if i % 2 == 0 { "a" } else { "b" }),
            )) as _,
        ),
        (
            "value",
            Arc::new(Int64Array::from_iter_values(ids.map(|i| (i * 37) % 101))) as _,
        ),
    ])
    .unwrap()
}

/// A table written in `commits` appends of 50 rows each (one file per partition per commit).
async fn small_files(dir: &Path, partitioned: bool, commits: i64, properties: &[(&str, &str)]) -> DeltaTable {
    let location = dir.to_str().unwrap();
    let partitions: Vec<&str> = if partitioned { vec!["part"] } else { vec![] };
    let mut table = None;
    for i in 0..commits {
        table = Some(
            DeltaTable::write(location)
                .with_batches(vec![batch(i * 50..(i + 1) * 50)])
                .with_partition_columns(partitions.clone())
                .with_mode(SaveMode::Append)
                .with_configuration(properties.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
                .await
                .unwrap(),
        );
    }
    table.unwrap()
}

async fn rows(table: &DeltaTable) -> Vec<String> {
    let batches = table.scan().build().unwrap().collect().await.unwrap();
    render_sorted_rows(&batches, table.snapshot().arrow_schema()).unwrap()
}

fn paths(table: &DeltaTable) -> HashSet<String> {
    table.snapshot().files().iter().map(|f| f.path().to_string()).collect()
}

/// The Parquet files under `dir`, the log excluded.
fn data_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("_delta_log"))
        .map(|p| match p.is_dir() {
            true => data_files(&p),
            false => usize::from(p.extension().is_some_and(|e| e == "parquet")),
        })
        .sum()
}

#[tokio::test]
async fn compaction_merges_small_files_and_keeps_every_row() {
    for partitioned in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let table = small_files(dir.path(), partitioned, 8, &[]).await;
        let before = rows(&table).await;
        let partitions = if partitioned { 2 } else { 1 };
        assert_eq!(table.snapshot().files().len(), 8 * partitions);

        let (table, metrics) = table.optimize().await.unwrap();
        assert_eq!(rows(&table).await, before);
        assert_eq!(table.snapshot().files().len(), partitions);
        assert_eq!(metrics.num_files_removed, 8 * partitions);
        assert_eq!(metrics.num_files_added, partitions);
        assert_eq!(metrics.partitions_optimized, partitions);
        assert_eq!(metrics.num_batches, partitions);
        assert_eq!(metrics.total_considered_files, 8 * partitions);
        assert_eq!(metrics.total_files_skipped, 0);
        assert!(metrics.preserve_insertion_order);
        assert_eq!(metrics.files_added.total_files, partitions);

        let actions = commit_actions(&table, table.version()).await;
        let info = serde_json::to_value(commit_info_in(&actions)).unwrap();
        assert_eq!(info["operation"], "OPTIMIZE");
        assert_eq!(info["operationParameters"]["zOrderBy"], "[]");
        assert_eq!(info["operationParameters"]["targetSize"], "104857600");
        let recorded = &info["operationMetrics"];
        assert_eq!(recorded["numFilesRemoved"], 8 * partitions);
        assert_eq!(recorded["filesAdded"]["totalFiles"], partitions);
        for key in [
            "partitionsOptimized",
            "numBatches",
            "totalConsideredFiles",
            "totalFilesSkipped",
        ] {
            assert!(recorded.get(key).is_some(), "{key} missing: {recorded}");
        }
        for action in &actions {
            match action {
                Action::Add(a) => assert!(!a.data_change),
                Action::Remove(r) => assert!(!r.data_change),
                _ => {}
            }
        }

        // Already compact: nothing to do.
        let version = table.version();
        let (table, metrics) = table.optimize().await.unwrap();
        assert_eq!(table.version(), version);
        assert_eq!(metrics.num_files_removed, 0);
        assert_eq!(metrics.total_files_skipped, partitions);
    }
}

#[tokio::test]
async fn compaction_respects_the_target_size() {
    let dir = tempfile::tempdir().unwrap();
    let table = small_files(dir.path(), false, 12, &[]).await;
    let before = rows(&table).await;
    let sizes: Vec<i64> = table.snapshot().files().iter().map(|f| f.size()).collect();
    let largest = *sizes.iter().max().unwrap();
    // About three files per group.
    let target = (largest * 3 + largest / 2) as u64;
    let (table, metrics) = table.optimize().with_target_size(target).await.unwrap();
    assert_eq!(rows(&table).await, before);
    assert_eq!(metrics.num_files_removed, 12);
    assert!((3..=6).contains(&metrics.num_batches), "{metrics:?}");
    assert_eq!(metrics.num_files_added, metrics.num_batches);
    assert!(metrics.files_added.max <= target as i64, "{metrics:?}");

    // Files at least the target are left alone.
    let (table, metrics) = table.optimize().with_target_size(1).await.unwrap();
    assert_eq!(metrics.num_files_removed, 0);
    assert_eq!(metrics.total_files_skipped, table.snapshot().files().len());
}

#[tokio::test]
async fn the_target_size_comes_from_the_table_property() {
    let dir = tempfile::tempdir().unwrap();
    let table = small_files(dir.path(), false, 4, &[("delta.targetFileSize", "1")]).await;
    let (table, metrics) = table.optimize().await.unwrap();
    assert_eq!(metrics.num_files_removed, 0);
    assert_eq!(table.snapshot().files().len(), 4);
}

#[tokio::test]
async fn a_predicate_selects_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let table = small_files(dir.path(), true, 4, &[]).await;
    let (table, metrics) = table.optimize().with_predicate("part = 'a'").await.unwrap();
    assert_eq!(metrics.total_considered_files, 4);
    assert_eq!(metrics.num_files_removed, 4);
    let parts: Vec<String> = table
        .snapshot()
        .files()
        .iter()
        .map(|f| f.partition_values()["part"].unwrap().to_string())
        .collect();
    assert_eq!(parts.iter().filter(|p| *p == "a").count(), 1);
    assert_eq!(parts.iter().filter(|p| *p == "b").count(), 4);

    let err = table.optimize().with_predicate("id > 3").await.unwrap_err();
    assert!(matches!(err, DeltaError::InvalidArgument(_)), "{err}");
}

#[tokio::test]
async fn compaction_drops_rows_deleted_by_deletion_vectors() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_table("table-with-dv-small", dir.path());
    let table = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    let before = rows(&table).await;
    assert_eq!(before.len(), 8);
    let (table, metrics) = table.optimize().await.unwrap();
    assert_eq!(metrics.num_files_removed, 1);
    assert_eq!(metrics.num_files_added, 1);
    assert_eq!(rows(&table).await, before);
    let file = table.snapshot().files().iter().next().unwrap();
    assert!(file.deletion_vector().is_none());
    assert!(file.stats().unwrap().contains("\"numRecords\":8"), "{:?}", file.stats());
}

#[tokio::test]
async fn compaction_keeps_physical_names_with_column_mapping() {
    for mode in ["name", "id"] {
        let dir = tempfile::tempdir().unwrap();
        let table = small_files(dir.path(), true, 3, &[("delta.columnMapping.mode", mode)]).await;
        let before = rows(&table).await;
        let (table, metrics) = table.optimize().await.unwrap();
        assert_eq!(metrics.num_files_removed, 6, "mode {mode}");
        assert_eq!(rows(&table).await, before, "mode {mode}");
        let filtered = table
            .scan()
            .with_predicate("value = 37")
            .build()
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(
            filtered.iter().map(RecordBatch::num_rows).sum::<usize>(),
            2,
            "mode {mode}"
        );
    }
}

/// A 128 x 128 grid of points `(x, y)`, shuffled, in 16 appends.
async fn grid(dir: &Path) -> DeltaTable {
    let location = dir.to_str().unwrap();
    let mut points: Vec<(i64, i64)> = (0..128).flat_map(|x| (0..128).map(move |y| (x, y))).collect();
    // A fixed permutation: multiply by a unit modulo the count.
    let n = points.len();
    points = (0..n).map(|i| points[(i * 7919) % n]).collect();
    let mut table = None;
    for chunk in points.chunks(n / 16) {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "x",
                Arc::new(Int64Array::from_iter_values(chunk.iter().map(|p| p.0))) as ArrayRef,
            ),
            (
                "y",
                Arc::new(Int64Array::from_iter_values(chunk.iter().map(|p| p.1))) as _,
            ),
        ])
        .unwrap();
        table = Some(
            DeltaTable::write(location)
                .with_batches(vec![batch])
                .with_mode(SaveMode::Append)
                .await
                .unwrap(),
        );
    }
    table.unwrap()
}

fn kept_files(table: &DeltaTable, predicate: &str) -> usize {
    table.scan().with_predicate(predicate).build().unwrap().files().len()
}

#[tokio::test]
async fn zorder_clusters_rows_so_range_predicates_on_either_column_skip_files() {
    let dir = tempfile::tempdir().unwrap();
    let table = grid(dir.path()).await;
    let before = rows(&table).await;
    let files = table.snapshot().files().len();
    assert_eq!(kept_files(&table, "x < 16"), files);
    assert_eq!(kept_files(&table, "y < 16"), files);

    let (table, metrics) = table
        .optimize()
        .with_type(OptimizeType::ZOrder(vec!["x".into(), "y".into()]))
        .with_target_size(1024)
        .await
        .unwrap();
    assert_eq!(rows(&table).await, before);
    assert!(!metrics.preserve_insertion_order);
    let files = table.snapshot().files().len();
    assert!(files >= 4, "{metrics:?}");
    for predicate in ["x < 16", "y < 16", "x >= 112", "y >= 112"] {
        let kept = kept_files(&table, predicate);
        // A sixteenth of the grid on each side: a quarter of the 32 x 32 blocks.
        assert!(kept * 4 <= files, "{predicate}: {kept} of {files} files kept");
    }
    let info = serde_json::to_value(table.history(Some(1)).await.unwrap()[0].1.clone()).unwrap();
    assert_eq!(info["operationParameters"]["zOrderBy"], "[\"x\",\"y\"]");
}

#[tokio::test]
async fn zorder_rejects_unknown_and_partition_columns() {
    let dir = tempfile::tempdir().unwrap();
    let table = small_files(dir.path(), true, 2, &[]).await;
    for columns in [vec!["nope"], vec!["part"], vec![]] {
        let columns = columns.into_iter().map(String::from).collect();
        let err = table
            .optimize()
            .with_type(OptimizeType::ZOrder(columns))
            .await
            .unwrap_err();
        assert!(matches!(err, DeltaError::InvalidArgument(_)), "{err}");
    }
    let (table, _) = table
        .optimize()
        .with_type(OptimizeType::ZOrder(vec!["value".into()]))
        .await
        .unwrap();
    assert_eq!(table.snapshot().files().len(), 2);
}

/// Rows `ids` of (`name`: one of 13 strings or null, `id`).
fn named(ids: std::ops::Range<i64>) -> RecordBatch {
    let names = StringArray::from_iter(
        ids.clone()
            .map(|i| (i % 10 != 3).then(|| format!("n{:02}", i * 7 % 13))),
    );
    RecordBatch::try_from_iter(vec![
        ("name", Arc::new(names) as ArrayRef),
        ("id", Arc::new(Int64Array::from_iter_values(ids)) as _),
    ])
    .unwrap()
}

#[tokio::test]
async fn zorder_of_dictionary_encoded_and_plain_strings_orders_them_nulls_first() {
    // Files whose strings are stored with a dictionary are sorted without decoding them; a file
    // stored without one makes the bin decode them all. Either way every row is kept, in order.
    for plain_file in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let location = dir.path().to_str().unwrap();
        let plain = parquet::file::properties::WriterProperties::builder()
            .set_dictionary_enabled(false)
            .build();
        for (i, dictionary) in [true, !plain_file, true].into_iter().enumerate() {
            let mut config = deltalake::operations::write::WriterConfig::default();
            if !dictionary {
                config.properties = plain.clone();
            }
            DeltaTable::write(location)
                .with_batches(vec![named(i as i64 * 100..(i as i64 + 1) * 100)])
                .with_mode(SaveMode::Append)
                .with_writer_config(config)
                .await
                .unwrap();
        }
        let table = DeltaTable::open(location).await.unwrap();
        let before = rows(&table).await;
        let (table, metrics) = table
            .optimize()
            .with_type(OptimizeType::ZOrder(vec!["name".into()]))
            .await
            .unwrap();
        assert_eq!((metrics.num_files_removed, metrics.num_files_added), (3, 1));
        assert_eq!(rows(&table).await, before);
        // One column: the curve is its order, nulls first; the file holds plain strings.
        let batches = table.scan().build().unwrap().collect().await.unwrap();
        let names: Vec<Option<String>> = batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_string::<i32>()
                    .iter()
                    .map(|n| n.map(String::from))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "plain file: {plain_file}");
        let file =
            std::fs::File::open(dir.path().join(table.snapshot().files().iter().next().unwrap().path())).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(reader.schema().field(0).data_type(), &arrow::datatypes::DataType::Utf8);
    }
}

#[tokio::test]
async fn optimize_racing_an_append_commits_and_keeps_the_appended_file() {
    let dir = tempfile::tempdir().unwrap();
    let stale = small_files(dir.path(), true, 4, &[]).await;
    let appended = DeltaTable::write(dir.path().to_str().unwrap())
        .with_batches(vec![batch(1000..1010)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let new_files: HashSet<String> = paths(&appended).difference(&paths(&stale)).cloned().collect();
    let (table, metrics) = stale.optimize().await.unwrap();
    assert_eq!(metrics.num_files_removed, 8);
    assert_eq!(table.version(), appended.version() + 1);
    assert!(new_files.is_subset(&paths(&table)));
    assert_eq!(rows(&table).await, rows(&appended).await);
}

#[tokio::test]
async fn optimize_racing_a_delete_of_a_rewritten_file_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let stale = small_files(dir.path(), true, 4, &[]).await;
    stale.delete().with_predicate("part = 'a'").await.unwrap();
    let err = stale.optimize().await.unwrap_err();
    assert!(matches!(err, DeltaError::CommitConflict { .. }), "{err}");
    // The files the failed optimize wrote are deleted again: only the 8 appended remain.
    assert_eq!(data_files(dir.path()), 8);
}

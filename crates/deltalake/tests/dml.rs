//! DELETE and UPDATE: rows, files, deletion vectors, the change data feed, bad input and
//! concurrent commits.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use common::dml::{id_part_value, old, rows, table};
use common::{changes, commit_actions, render_sorted_rows};
use deltalake::operations::write::SaveMode;
use deltalake::protocol::Action;
use deltalake::{DeltaError, DeltaTable, col, lit};

/// The rows of `id_part_value(ids, old)` for which `keep(id, value)` holds, rendered like [`rows`].
fn expected(ids: std::ops::Range<i64>, keep: impl Fn(i64, i64) -> bool, set: impl Fn(i64, i64) -> i64) -> Vec<String> {
    let mut out: Vec<String> = ids
        .filter_map(|id| {
            let value = (id * 37) % 100;
            let part = if id < 10 { "a" } else { "b" };
            keep(id, value).then(|| format!("{id} | {part} | {}", set(id, value)))
        })
        .collect();
    out.sort();
    out
}

fn all(_: i64, _: i64) -> bool {
    true
}

fn same(_: i64, value: i64) -> i64 {
    value
}

#[tokio::test]
async fn delete_by_partition_drops_files_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), true, &[]).await;
    // The files of partition a are gone from storage: a delete that read them would fail.
    std::fs::remove_dir_all(dir.path().join("part=a")).unwrap();
    let (table, metrics) = table.delete().with_predicate("part = 'a'").await.unwrap();
    assert_eq!(table.version(), 2);
    assert_eq!(metrics.num_deleted_rows, 10);
    assert_eq!(metrics.num_removed_files, 1);
    assert_eq!((metrics.num_added_files, metrics.num_copied_rows), (0, 0));
    assert_eq!(rows(&table).await, expected(0..20, |id, _| id >= 10, same));

    let history = table.history(Some(1)).await.unwrap();
    let info = &history[0].1;
    assert_eq!(info.operation.as_deref(), Some("DELETE"));
    assert_eq!(
        info.operation_parameters.as_ref().unwrap()["predicate"],
        serde_json::json!("part = 'a'")
    );
    let metrics = info.operation_metrics.as_ref().unwrap();
    for name in [
        "numDeletedRows",
        "numRemovedFiles",
        "numAddedFiles",
        "numDeletionVectorsAdded",
        "numCopiedRows",
        "executionTimeMs",
        "scanTimeMs",
        "rewriteTimeMs",
    ] {
        assert!(metrics.contains_key(name), "{name} missing from {metrics:?}");
    }
    assert_eq!(metrics["numDeletedRows"], serde_json::json!(10));
}

#[tokio::test]
async fn delete_copies_the_other_rows_of_files_with_matches() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[]).await;
    // Only the second file (ids 12..20) has values >= 90: 19 → 3, 13 → 81; 16 → 92, 14 → 18...
    let (table, metrics) = table.delete().with_predicate("value >= 90 AND id > 11").await.unwrap();
    let gone = |id: i64, value: i64| value >= 90 && id > 11;
    assert_eq!(rows(&table).await, expected(0..20, |i, v| !gone(i, v), same));
    let deleted = (12..20).filter(|i| (i * 37) % 100 >= 90).count();
    assert_eq!(metrics.num_deleted_rows, deleted);
    assert_eq!((metrics.num_removed_files, metrics.num_added_files), (1, 1));
    assert_eq!(metrics.num_copied_rows, 8 - deleted);
    assert_eq!(metrics.num_deletion_vectors_added, 0);

    // Nothing matches: no new version.
    let (same_table, metrics) = table.delete().with_filter(col("id").gt(lit(1000i64))).await.unwrap();
    assert_eq!(same_table.version(), table.version());
    assert_eq!(metrics.num_deleted_rows, 0);

    // No predicate: everything goes.
    let (table, metrics) = table.delete().await.unwrap();
    assert_eq!(metrics.num_deleted_rows, 20 - deleted);
    assert!(rows(&table).await.is_empty());
    assert_eq!(table.snapshot().files().len(), 0);
}

/// Files of many batches are copied a batch at a time: a file whose only match is in its last
/// batch (its earlier batches wait for it) loses just that row; the other file is left as it is.
#[tokio::test]
async fn delete_streams_files_of_many_batches() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    DeltaTable::write(location)
        .with_batches(vec![id_part_value(0..30_000, old)])
        .await
        .unwrap();
    let table = DeltaTable::write(location)
        .with_batches(vec![id_part_value(30_000..60_000, old)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let paths = |t: &DeltaTable| {
        t.snapshot()
            .files()
            .iter()
            .map(|f| f.path().to_string())
            .collect::<Vec<_>>()
    };
    let before = paths(&table);
    let (table, metrics) = table.delete().with_predicate("id = 29999").await.unwrap();
    assert_eq!(rows(&table).await, expected(0..60_000, |i, _| i != 29_999, same));
    assert_eq!((metrics.num_deleted_rows, metrics.num_copied_rows), (1, 29_999));
    assert_eq!((metrics.num_removed_files, metrics.num_added_files), (1, 1));
    let after = paths(&table);
    assert_eq!(
        before.iter().filter(|p| after.contains(p)).count(),
        1,
        "{before:?} {after:?}"
    );
}

#[tokio::test]
async fn deletion_vectors_through_delete_update_delete() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), true, &[("delta.enableDeletionVectors", "true")]).await;
    let files_before = table.snapshot().files().len();

    let (table, metrics) = table.delete().with_predicate("id IN (1, 2, 15)").await.unwrap();
    assert_eq!(metrics.num_deleted_rows, 3);
    assert_eq!(metrics.num_deletion_vectors_added, 2);
    assert_eq!((metrics.num_added_files, metrics.num_copied_rows), (0, 0));
    assert_eq!(table.snapshot().files().len(), files_before);
    for action in commit_actions(&table, table.version()).await {
        if let Action::Add(add) = action {
            let dv = add.deletion_vector.expect("a deletion vector");
            assert_eq!(dv.storage_type, "i");
            assert!(add.stats.unwrap().contains("\"tightBounds\":false"));
        }
    }
    assert_eq!(
        rows(&table).await,
        expected(0..20, |id, _| ![1, 2, 15].contains(&id), same)
    );

    // An update drops the old rows by deletion vector (merged with the existing one) and adds a file.
    let (table, metrics) = table
        .update()
        .with_predicate("id = 3 OR id = 16")
        .with_update("value", "value + 1000")
        .await
        .unwrap();
    assert_eq!(metrics.num_updated_rows, 2);
    assert_eq!(metrics.num_deletion_vectors_added, 2);
    assert_eq!(metrics.num_added_files, 2, "one per partition");
    let dvs: Vec<i64> = table
        .snapshot()
        .files()
        .iter()
        .filter_map(|f| f.deletion_vector().map(|dv| dv.cardinality))
        .collect();
    assert_eq!(dvs.iter().sum::<i64>(), 5);

    let (table, _) = table.delete().with_predicate("id = 4 OR value > 1000").await.unwrap();
    let mut want = expected(
        0..20,
        |id, _| ![1, 2, 4, 15].contains(&id),
        |id, v| if id == 3 || id == 16 { v + 1000 } else { v },
    );
    want.retain(|r| !r.starts_with("3 |") && !r.starts_with("16 |"));
    assert_eq!(rows(&table).await, want);
    // Reloading from the log gives the same rows.
    let reloaded = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    assert_eq!(rows(&reloaded).await, want);
}

#[tokio::test]
async fn large_deletion_vectors_go_to_a_file_and_whole_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let table = DeltaTable::write(location)
        .with_batches(vec![id_part_value(0..3000, old)])
        .with_configuration([("delta.enableDeletionVectors".to_string(), "true".to_string())].into())
        .await
        .unwrap();
    let (table, metrics) = table.delete().with_predicate("value < 50").await.unwrap();
    assert_eq!(metrics.num_deleted_rows, 1500);
    let dv = table
        .snapshot()
        .files()
        .iter()
        .next()
        .unwrap()
        .deletion_vector()
        .unwrap();
    assert_eq!((dv.storage_type.as_str(), dv.cardinality), ("u", 1500));
    let dv_files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.starts_with("deletion_vector_").then_some(name)
        })
        .collect();
    assert_eq!(dv_files.len(), 1);
    let count: usize = table
        .scan()
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(count, 1500);

    // Deleting every remaining row removes the file instead of giving it a full vector.
    let (table, metrics) = table.delete().with_predicate("value >= 50").await.unwrap();
    assert_eq!((metrics.num_removed_files, metrics.num_deletion_vectors_added), (1, 0));
    assert_eq!(table.snapshot().files().len(), 0);
}

#[tokio::test]
async fn updates_rewrite_rows_and_move_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), true, &[]).await;
    let (table, metrics) = table
        .update()
        .with_predicate("part = 'b' AND value < 50")
        .with_update("value", "value * 2")
        .await
        .unwrap();
    let hit = |id: i64, v: i64| id >= 10 && v < 50;
    assert_eq!(
        metrics.num_updated_rows,
        (10..20).filter(|i| hit(*i, (i * 37) % 100)).count()
    );
    assert_eq!(
        rows(&table).await,
        expected(0..20, all, |id, v| if hit(id, v) { v * 2 } else { v })
    );

    // Moving a row to another partition, with a value of another type converted (int → long).
    let (table, _) = table
        .update()
        .with_predicate("id = 0")
        .with_update("part", "'c'")
        .with_update("value", "CAST(7 AS INT)")
        .await
        .unwrap();
    let found = rows(&table).await;
    assert!(found.contains(&"0 | c | 7".to_string()), "{found:?}");
    assert!(table.snapshot().files().iter().any(|f| f.path().starts_with("part=c/")));

    // Without a predicate every row is updated.
    let (table, metrics) = table.update().with_update("value", "0").await.unwrap();
    assert_eq!(metrics.num_updated_rows, 20);
    assert!(rows(&table).await.iter().all(|r| r.ends_with("| 0")));
}

#[tokio::test]
async fn change_data_feed_records_deletes_and_updates() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), true, &[("delta.enableChangeDataFeed", "true")]).await;
    let v = table.version();

    let (table, _) = table.delete().with_predicate("id = 3 OR id = 12").await.unwrap();
    assert!(
        commit_actions(&table, v + 1)
            .await
            .iter()
            .any(|a| matches!(a, Action::Cdc(c) if c.path.starts_with("_change_data/")))
    );
    let (table, _) = table
        .update()
        .with_predicate("id = 5")
        .with_update("value", "-1")
        .await
        .unwrap();
    // A partition delete writes no change data: the feed reads the removed file.
    let (table, _) = table.delete().with_predicate("part = 'b'").await.unwrap();

    let feed = changes(&table, v + 1).await;
    let mut want = vec![
        format!("3 | a | 11 | delete | {}", v + 1),
        format!("12 | b | 44 | delete | {}", v + 1),
        format!("5 | a | 85 | update_preimage | {}", v + 2),
        format!("5 | a | -1 | update_postimage | {}", v + 2),
    ];
    want.extend(
        (10..20)
            .filter(|id| *id != 12)
            .map(|id| format!("{id} | b | {} | delete | {}", (id * 37) % 100, v + 3)),
    );
    want.sort();
    assert_eq!(feed, want);
}

#[tokio::test]
async fn change_data_feed_with_deletion_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let properties = [
        ("delta.enableChangeDataFeed", "true"),
        ("delta.enableDeletionVectors", "true"),
    ];
    let table = table(dir.path(), false, &properties).await;
    let v = table.version();
    let (table, _) = table.delete().with_predicate("id = 1").await.unwrap();
    let (table, _) = table
        .update()
        .with_predicate("id = 2")
        .with_update("value", "7")
        .await
        .unwrap();
    assert_eq!(
        changes(&table, v + 1).await,
        vec![
            format!("1 | a | 37 | delete | {}", v + 1),
            format!("2 | a | 7 | update_postimage | {}", v + 2),
            format!("2 | a | 74 | update_preimage | {}", v + 2),
        ]
    );
}

#[tokio::test]
async fn bad_input_is_an_error_and_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[("delta.constraints.small", "value < 1000")]).await;
    let version = table.version();

    let err = table.delete().with_predicate("nope = 1").await.unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    let err = table.delete().with_predicate("id = = 1").await.unwrap_err();
    assert!(matches!(err, DeltaError::InvalidExpression(_)), "{err}");
    let err = table.update().with_update("nope", "1").await.unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    let err = table.update().with_update("value", "'abc'").await.unwrap_err();
    assert!(err.to_string().contains("cannot assign"), "{err}");
    let err = table.update().await.unwrap_err();
    assert!(matches!(err, DeltaError::InvalidArgument(_)), "{err}");
    let err = table
        .update()
        .with_predicate("id = 3")
        .with_update("value", "value + 1000")
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::ConstraintViolation { .. }), "{err}");

    let reloaded = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    assert_eq!(reloaded.version(), version);
    assert_eq!(rows(&reloaded).await, expected(0..20, all, same));
}

#[tokio::test]
async fn append_only_tables_refuse_deletes_and_updates() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[("delta.appendOnly", "true")]).await;
    let err = table.delete().with_predicate("id = 1").await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = table.update().with_update("value", "1").await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[tokio::test]
async fn generated_columns_are_recomputed_by_updates() {
    use deltalake::protocol::{DataType as D, PrimitiveType as P, StructField, StructType};
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let mut doubled = StructField::new("doubled", D::Primitive(P::Long), true);
    doubled
        .metadata
        .insert("delta.generationExpression".into(), "id * 2".into());
    let schema = StructType::new(vec![StructField::new("id", D::Primitive(P::Long), true), doubled]);
    DeltaTable::create(location).with_schema(schema).await.unwrap();
    let ids = RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef)]).unwrap();
    let table = DeltaTable::write(location).with_batches(vec![ids]).await.unwrap();
    let (table, _) = table
        .update()
        .with_predicate("id = 2")
        .with_update("id", "id + 10")
        .await
        .unwrap();
    let batches = table.scan().build().unwrap().collect().await.unwrap();
    assert_eq!(
        render_sorted_rows(&batches, table.snapshot().arrow_schema()).unwrap(),
        ["1 | 2", "12 | 24"]
    );
}

#[tokio::test]
async fn concurrent_appends_conflict_only_when_they_may_match() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let stale = table(dir.path(), true, &[]).await;

    // An append to partition b races a delete in partition a: both commit.
    DeltaTable::write(location)
        .with_batches(vec![id_part_value(30..35, old)])
        .await
        .unwrap();
    let (table, _) = stale.delete().with_predicate("part = 'a' AND id < 5").await.unwrap();
    assert_eq!(table.version(), stale.version() + 2);
    let found = rows(&table).await;
    assert_eq!(found.len(), 20 - 5 + 5);

    // An append to partition a races a delete in partition a: conflict.
    let stale = table;
    DeltaTable::write(location)
        .with_batches(vec![id_part_value(5..7, old)])
        .await
        .unwrap();
    let err = stale.delete().with_predicate("part = 'a'").await.unwrap_err();
    assert!(matches!(err, DeltaError::CommitConflict { .. }), "{err}");
}

#[tokio::test]
async fn column_mapping_tables_keep_physical_names() {
    for mode in ["name", "id"] {
        let dir = tempfile::tempdir().unwrap();
        let properties = [
            ("delta.columnMapping.mode", mode),
            ("delta.enableChangeDataFeed", "true"),
        ];
        let table = table(dir.path(), true, &properties).await;
        let v = table.version();
        let (table, _) = table.delete().with_predicate("value < 20").await.unwrap();
        let (table, _) = table
            .update()
            .with_predicate("id = 1")
            .with_update("value", "value + 1")
            .await
            .unwrap();
        assert_eq!(
            rows(&table).await,
            expected(0..20, |_, v| v >= 20, |id, v| if id == 1 { v + 1 } else { v }),
            "mode {mode}"
        );
        let feed = changes(&table, v + 1).await;
        assert!(
            feed.contains(&format!("1 | a | 38 | update_postimage | {}", v + 2)),
            "{feed:?}"
        );
    }
}

#[tokio::test]
async fn deletes_merge_with_deletion_vectors_written_by_spark() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_table("table-with-dv-small", dir.path());
    let table = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    let before = rows_of(&table).await;
    let existing = table
        .snapshot()
        .files()
        .iter()
        .next()
        .unwrap()
        .deletion_vector()
        .unwrap();
    let (table, metrics) = table.delete().with_predicate("value % 2 = 0").await.unwrap();
    let after = rows_of(&table).await;
    assert_eq!(metrics.num_deleted_rows, before.iter().filter(|v| *v % 2 == 0).count());
    assert_eq!(after, before.into_iter().filter(|v| v % 2 != 0).collect::<Vec<_>>());
    let merged = table
        .snapshot()
        .files()
        .iter()
        .next()
        .unwrap()
        .deletion_vector()
        .unwrap();
    assert_eq!(
        merged.cardinality,
        existing.cardinality + metrics.num_deleted_rows as i64
    );
}

/// The `value` column of a table, sorted.
async fn rows_of(table: &DeltaTable) -> Vec<i32> {
    let batches = table
        .scan()
        .with_columns(["value"])
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut values: Vec<i32> = batches
        .iter()
        .flat_map(|b| {
            let c = b.column(0).as_any().downcast_ref::<arrow::array::Int32Array>().unwrap();
            c.iter().flatten().collect::<Vec<_>>()
        })
        .collect();
    values.sort();
    values
}

//! MERGE: each clause alone and together, conditions, partitioned tables, deletion vectors,
//! the change data feed, schema evolution, bad input, concurrent appends and the reference
//! reader.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use common::dml::{id_part_value, old, rows, table};
use common::{commit_info, reference_python, render_sorted_rows, run_python};
use deltalake::operations::write::SaveMode;
use deltalake::{DeltaError, DeltaTable};

/// The source's value of `id`.
fn new(id: i64) -> i64 {
    id * 1000
}

/// The source: ids 15..25 with `value` = [`new`].
fn source() -> RecordBatch {
    id_part_value(15..25, new)
}

/// `(id, value)` rows rendered like [`rows`], sorted.
fn render(rows: impl IntoIterator<Item = (i64, i64)>) -> Vec<String> {
    let mut out: Vec<String> = rows
        .into_iter()
        .map(|(id, value)| format!("{id} | {} | {value}", if id < 10 { "a" } else { "b" }))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn each_clause_alone() {
    let cases: Vec<(&str, Vec<(i64, i64)>)> = vec![
        (
            "matched update",
            (0..20).map(|i| (i, if i >= 15 { new(i) } else { old(i) })).collect(),
        ),
        (
            "matched update all",
            (0..20).map(|i| (i, if i >= 15 { new(i) } else { old(i) })).collect(),
        ),
        ("matched delete", (0..15).map(|i| (i, old(i))).collect()),
        (
            "insert",
            (0..25).map(|i| (i, if i >= 20 { new(i) } else { old(i) })).collect(),
        ),
        (
            "insert all",
            (0..25).map(|i| (i, if i >= 20 { new(i) } else { old(i) })).collect(),
        ),
        (
            "by source update",
            (0..20).map(|i| (i, if i < 15 { -1 } else { old(i) })).collect(),
        ),
        ("by source delete", (15..20).map(|i| (i, old(i))).collect()),
    ];
    for (case, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let table = table(dir.path(), false, &[]).await;
        let merge = table.merge(source(), "target.id = source.id");
        let merge = match case {
            "matched update" => merge.when_matched_update(|u| u.update("value", "source.value")),
            "matched update all" => merge.when_matched_update_all(|u| u),
            "matched delete" => merge.when_matched_delete(|d| d),
            "insert" => merge.when_not_matched_insert(|i| {
                i.set("id", "source.id")
                    .set("part", "source.part")
                    .set("value", "source.value")
            }),
            "insert all" => merge.when_not_matched_insert_all(|i| i),
            "by source update" => merge.when_not_matched_by_source_update(|u| u.update("target.value", "-1")),
            _ => merge.when_not_matched_by_source_delete(|d| d),
        };
        let (merged, metrics) = merge.await.unwrap();
        assert_eq!(merged.version(), table.version() + 1, "{case}");
        assert_eq!(rows(&merged).await, render(expected), "{case}");
        assert_eq!(metrics.num_source_rows, 10, "{case}");
        let (inserted, updated, deleted) = match case {
            "matched update" | "matched update all" => (0, 5, 0),
            "matched delete" => (0, 0, 5),
            "insert" | "insert all" => (5, 0, 0),
            "by source update" => (0, 15, 0),
            _ => (0, 0, 15),
        };
        assert_eq!(
            (
                metrics.num_target_rows_inserted,
                metrics.num_target_rows_updated,
                metrics.num_target_rows_deleted
            ),
            (inserted, updated, deleted),
            "{case}: {metrics:?}"
        );
    }
}

#[tokio::test]
async fn clauses_apply_in_order_with_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[]).await;
    let (merged, metrics) = table
        .merge(source(), "target.id = source.id")
        .when_matched_update(|u| {
            u.predicate("source.value >= 18000")
                .update("value", "source.value + target.value")
        })
        .when_matched_delete(|d| d.predicate("target.id <> 17"))
        .when_matched_update(|u| u.update("value", "0"))
        .when_not_matched_insert(|i| {
            i.predicate("source.id % 2 = 0")
                .set("id", "source.id")
                .set("value", "source.value")
                .set("part", "'new'")
        })
        .when_not_matched_insert_all(|i| i.predicate("source.id = 23"))
        .when_not_matched_by_source_delete(|d| d.predicate("target.value < 50"))
        .when_not_matched_by_source_update(|u| u.update("value", "target.value * 10"))
        .await
        .unwrap();
    let mut expected = Vec::new();
    for id in 0..15 {
        if old(id) >= 50 {
            expected.push(format!("{id} | {} | {}", if id < 10 { "a" } else { "b" }, old(id) * 10));
        }
    }
    expected.push("17 | b | 0".into());
    expected.extend(["18 | b | 18066".to_string(), "19 | b | 19003".to_string()]);
    expected.extend(["20 | new | 20000", "22 | new | 22000", "24 | new | 24000"].map(String::from));
    expected.push("23 | b | 23000".into());
    expected.sort();
    assert_eq!(rows(&merged).await, expected);
    let below_50 = (0..15).filter(|&i| old(i) < 50).count();
    assert_eq!(metrics.num_target_rows_matched_updated, 3);
    assert_eq!(metrics.num_target_rows_matched_deleted, 2);
    assert_eq!(metrics.num_target_rows_not_matched_by_source_deleted, below_50);
    assert_eq!(metrics.num_target_rows_not_matched_by_source_updated, 15 - below_50);
    assert_eq!(metrics.num_target_rows_inserted, 4);

    // The commit says what was done.
    let info = commit_info(&merged, merged.version()).await;
    assert_eq!(info.operation.as_deref(), Some("MERGE"));
    let parameters = info.operation_parameters.unwrap();
    assert_eq!(parameters["predicate"], "target.id = source.id");
    let matched: serde_json::Value = serde_json::from_str(parameters["matchedPredicates"].as_str().unwrap()).unwrap();
    assert_eq!(matched[0]["actionType"], "update");
    assert_eq!(matched[1]["actionType"], "delete");
    assert_eq!(matched[1]["predicate"], "target.id <> 17");
    let operation_metrics = info.operation_metrics.unwrap();
    assert_eq!(operation_metrics["numTargetRowsInserted"], 4);
    assert_eq!(operation_metrics["numSourceRows"], 10);
    assert_eq!(operation_metrics["numTargetRowsDeleted"], 2 + below_50);
}

#[tokio::test]
async fn partitioned_tables_skip_files_the_source_cannot_match() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), true, &[]).await;
    let files = table.snapshot().files().len();
    // Keys of partition a only, composite with the partition column.
    let source = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![3, 4, 40])) as ArrayRef),
        ("part", Arc::new(StringArray::from(vec!["a", "a", "a"])) as _),
        ("value", Arc::new(Int64Array::from(vec![new(3), new(4), new(40)])) as _),
    ])
    .unwrap();
    let (merged, metrics) = table
        .merge(source, "target.part = source.part AND target.id = source.id")
        .when_matched_update_all(|u| u)
        .when_not_matched_insert_all(|i| i)
        .await
        .unwrap();
    let mut expected = render((0..20).map(|i| (i, if i == 3 || i == 4 { new(i) } else { old(i) })));
    expected.push(format!("40 | a | {}", new(40)));
    expected.sort();
    assert_eq!(rows(&merged).await, expected);
    // Ids 3..40 exclude no file by statistics, but the partition values exclude both files of b.
    assert_eq!(files, 3);
    assert_eq!(metrics.num_target_files_scanned, 1, "{metrics:?}");
    assert_eq!(metrics.num_target_files_skipped_during_scan, 2, "{metrics:?}");
    assert_eq!(metrics.num_target_rows_copied, 10 - 2, "{metrics:?}");

    // A merge matching nothing and inserting nothing commits nothing.
    let (same, metrics) = merged
        .merge(id_part_value([100i64].into_iter(), new), "target.id = source.id")
        .when_matched_delete(|d| d)
        .await
        .unwrap();
    assert_eq!(same.version(), merged.version());
    assert_eq!(metrics.num_target_files_scanned, 0, "pruned by the key range");
}

#[tokio::test]
async fn deletion_vectors_through_delete_update_merge_optimize_vacuum() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[("delta.enableDeletionVectors", "true")]).await;
    let (table, _) = table.delete().with_predicate("id < 3").await.unwrap();
    let (table, _) = table
        .update()
        .with_predicate("id = 5")
        .with_update("value", "-5")
        .await
        .unwrap();
    let (table, metrics) = table
        .merge(
            id_part_value([1i64, 5, 6, 16, 30].into_iter(), new),
            "target.id = source.id",
        )
        .when_matched_update_all(|u| u.predicate("source.id <> 6"))
        .when_matched_delete(|d| d)
        .when_not_matched_insert_all(|i| i)
        .await
        .unwrap();
    assert_eq!(metrics.num_target_rows_copied, 0, "no row copied: {metrics:?}");
    assert!(metrics.num_target_deletion_vectors_added >= 1, "{metrics:?}");
    let dvs = table
        .snapshot()
        .files()
        .iter()
        .filter(|f| f.deletion_vector().is_some())
        .count();
    assert!(dvs >= 1);
    let expected: Vec<(i64, i64)> = (3..20)
        .filter(|&i| i != 6)
        .map(|i| match i {
            5 | 16 => (i, new(i)),
            _ => (i, old(i)),
        })
        .chain([(1, new(1)), (30, new(30))])
        .collect();
    assert_eq!(rows(&table).await, render(expected.clone()));
    let (table, _) = table.optimize().await.unwrap();
    assert_eq!(rows(&table).await, render(expected.clone()));
    let (table, _) = table
        .vacuum()
        .with_retention(Duration::ZERO)
        .with_enforce_retention(false)
        .await
        .unwrap();
    let reopened = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    assert_eq!(rows(&reopened).await, render(expected));
    assert_eq!(reopened.version(), table.version());
}

#[tokio::test]
async fn change_data_feed_records_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[("delta.enableChangeDataFeed", "true")]).await;
    let (merged, metrics) = table
        .merge(id_part_value([2i64, 3, 50].into_iter(), new), "target.id = source.id")
        .when_matched_update(|u| u.predicate("source.id = 2").update("value", "source.value"))
        .when_matched_delete(|d| d)
        .when_not_matched_insert_all(|i| i)
        .await
        .unwrap();
    assert!(metrics.num_target_change_files_added >= 1);
    let v = merged.version();
    let feed = common::changes(&merged, v).await;
    assert_eq!(
        feed,
        [
            format!("2 | a | 2000 | update_postimage | {v}"),
            format!("2 | a | 74 | update_preimage | {v}"),
            format!("3 | a | 11 | delete | {v}"),
            format!("50 | b | 50000 | insert | {v}"),
        ]
    );
}

#[tokio::test]
async fn schema_evolution_adds_source_columns() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[]).await;
    let source = id_part_value([1i64, 30].into_iter(), new);
    let note: ArrayRef = Arc::new(StringArray::from(vec!["one", "thirty"]));
    let mut columns = source.columns().to_vec();
    columns.push(note);
    let mut fields: Vec<_> = source.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(arrow::datatypes::Field::new(
        "note",
        arrow::datatypes::DataType::Utf8,
        true,
    ));
    let source = RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), columns).unwrap();

    // Without schema evolution the extra column is ignored by update-all, and refused by name.
    let err = table
        .merge(source.clone(), "target.id = source.id")
        .when_matched_update(|u| u.update("note", "source.note"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist in the table"), "{err}");

    let (merged, _) = table
        .merge(source, "target.id = source.id")
        .with_merge_schema(true)
        .when_matched_update_all(|u| u)
        .when_not_matched_insert_all(|i| i)
        .await
        .unwrap();
    assert!(merged.snapshot().schema().field("note").is_some());
    let batches = merged.scan().build().unwrap().collect().await.unwrap();
    let found = render_sorted_rows(&batches, merged.snapshot().arrow_schema()).unwrap();
    assert_eq!(found.len(), 21);
    assert!(found.contains(&"1 | a | 1000 | one".to_string()), "{found:?}");
    assert!(found.contains(&"30 | b | 30000 | thirty".to_string()), "{found:?}");
    assert!(found.contains(&"2 | a | 74 | ∅".to_string()), "{found:?}");
}

#[tokio::test]
async fn bad_input_is_refused_without_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[]).await;
    let version = table.version();
    let files_before = std::fs::read_dir(dir.path()).unwrap().count();
    let duplicated = id_part_value([15i64, 15, 16].into_iter(), new);
    let cases: Vec<(deltalake::operations::merge::MergeBuilder, &str)> = vec![
        (
            table
                .merge(source(), "target.missing = source.id")
                .when_matched_delete(|d| d),
            "missing",
        ),
        (
            table
                .merge(source(), "target.id = source.id")
                .when_matched_update(|u| u.update("value", "'not a number'")),
            "cannot assign",
        ),
        (
            table
                .merge(source(), "target.id = source.id")
                .when_matched_update(|u| u.update("value", "source.nothing")),
            "nothing",
        ),
        (
            table
                .merge(source(), "target.id > source.id")
                .when_matched_delete(|d| d),
            "needs an equality",
        ),
        (
            table
                .merge(source(), "target.id = source.id")
                .when_not_matched_insert(|i| i.set("id", "target.id")),
            "no target row",
        ),
        (
            table
                .merge(source(), "target.id = source.id")
                .when_not_matched_by_source_delete(|d| d.predicate("source.id > 1")),
            "no source row",
        ),
        (table.merge(source(), "target.id = source.id"), "at least one clause"),
        (
            table
                .merge(duplicated, "target.id = source.id")
                .when_matched_update_all(|u| u)
                .when_not_matched_insert_all(|i| i),
            "more than once",
        ),
    ];
    for (merge, message) in cases {
        let err = merge.await.unwrap_err();
        assert!(err.to_string().contains(message), "expected '{message}' in: {err}");
    }
    let reopened = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    assert_eq!(reopened.version(), version);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        files_before,
        "no file left behind"
    );

    // Duplicate source keys are fine when only inserts can apply.
    let (merged, metrics) = table
        .merge(id_part_value([30i64, 30].into_iter(), new), "target.id = source.id")
        .when_not_matched_insert_all(|i| i)
        .await
        .unwrap();
    assert_eq!(metrics.num_target_rows_inserted, 2);
    assert_eq!(rows(&merged).await.len(), 22);
}

#[tokio::test]
async fn concurrent_appends_conflict_only_when_they_may_match() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let stale = table(dir.path(), false, &[]).await;

    // An append of ids far outside the source's keys races the merge: both commit.
    DeltaTable::write(location)
        .with_batches(vec![id_part_value(1000..1005, old)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let (merged, _) = stale
        .merge(source(), "target.id = source.id")
        .when_matched_update_all(|u| u)
        .when_not_matched_insert_all(|i| i)
        .await
        .unwrap();
    assert_eq!(merged.version(), stale.version() + 2);
    assert_eq!(rows(&merged).await.len(), 20 + 5 + 5);

    // An append of a key the source holds races the merge: a conflict, not a duplicate.
    let stale = merged;
    DeltaTable::write(location)
        .with_batches(vec![id_part_value(40..41, old)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let err = stale
        .merge(id_part_value(38..42, new), "target.id = source.id")
        .when_not_matched_insert_all(|i| i)
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::CommitConflict { .. }), "{err}");
}

/// Read a table with the reference reader into a file: `id,value` lines, sorted.
const READ_WITH_REFERENCE: &str = r#"
import sys, deltalake, pyarrow as pa
dt = deltalake.DeltaTable(sys.argv[1])
# The DataFusion reader applies deletion vectors (to_pyarrow_table refuses such tables).
t = pa.table(deltalake.QueryBuilder().register("t", dt).execute("SELECT id, value FROM t").read_all())
rows = sorted(zip(t.column("id").to_pylist(), t.column("value").to_pylist()))
open(sys.argv[2], "w").write("\n".join(f"{i},{v}" for i, v in rows))
"#;

#[tokio::test]
async fn the_reference_reads_merged_tables() {
    let Some(python) = reference_python() else { return };
    for properties in [vec![], vec![("delta.enableDeletionVectors", "true")]] {
        let dir = tempfile::tempdir().unwrap();
        let table = table(dir.path(), true, &properties).await;
        let (merged, _) = table
            .merge(source(), "target.id = source.id")
            .when_matched_update(|u| u.update("value", "source.value"))
            .when_not_matched_insert_all(|i| i)
            .when_not_matched_by_source_delete(|d| d.predicate("target.id < 5"))
            .await
            .unwrap();
        let out = dir.path().join("reference.txt");
        run_python(
            &python,
            READ_WITH_REFERENCE,
            &[dir.path().to_str().unwrap(), out.to_str().unwrap()],
        );
        let theirs = std::fs::read_to_string(&out).unwrap();
        let mut expected: Vec<(i64, i64)> = (5..25).map(|i| (i, if i >= 15 { new(i) } else { old(i) })).collect();
        expected.sort();
        let expected: Vec<String> = expected.iter().map(|(i, v)| format!("{i},{v}")).collect();
        assert_eq!(theirs, expected.join("\n"), "{properties:?}");
        assert_eq!(rows(&merged).await.len(), 20);
    }
}

#[tokio::test]
async fn table_rules_hold_for_merged_rows() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[]).await;
    let table = table.alter().add_constraint("small_id", "id < 100").await.unwrap();
    let version = table.version();
    for merge in [
        table
            .merge(source(), "target.id = source.id")
            .when_matched_update(|u| u.update("id", "source.id + 1000")),
        table
            .merge(id_part_value([500i64].into_iter(), new), "target.id = source.id")
            .when_not_matched_insert_all(|i| i),
    ] {
        let err = merge.await.unwrap_err();
        assert!(err.to_string().contains("small_id"), "{err}");
    }
    assert_eq!(
        DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap().version(),
        version
    );
}

#[tokio::test]
async fn column_mapping_tables_keep_physical_names() {
    for mode in ["name", "id"] {
        let dir = tempfile::tempdir().unwrap();
        let table = table(dir.path(), true, &[("delta.columnMapping.mode", mode)]).await;
        let source = id_part_value([2i64, 30].into_iter(), new);
        let note: ArrayRef = Arc::new(StringArray::from(vec!["two", "thirty"]));
        let mut columns = source.columns().to_vec();
        columns.push(note);
        let mut fields: Vec<_> = source.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(arrow::datatypes::Field::new(
            "note",
            arrow::datatypes::DataType::Utf8,
            true,
        ));
        let source = RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), columns).unwrap();
        let (merged, _) = table
            .merge(source, "target.id = source.id")
            .with_merge_schema(true)
            .when_matched_update_all(|u| u)
            .when_not_matched_insert_all(|i| i)
            .await
            .unwrap();
        let note = merged.snapshot().schema().field("note").unwrap();
        assert!(
            note.metadata.contains_key("delta.columnMapping.physicalName"),
            "{mode}: {note:?}"
        );
        let reopened = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
        let batches = reopened.scan().build().unwrap().collect().await.unwrap();
        let found = render_sorted_rows(&batches, reopened.snapshot().arrow_schema()).unwrap();
        assert_eq!(found.len(), 21, "{mode}");
        assert!(found.contains(&"2 | a | 2000 | two".to_string()), "{mode}: {found:?}");
        assert!(
            found.contains(&"30 | b | 30000 | thirty".to_string()),
            "{mode}: {found:?}"
        );
        assert!(found.contains(&"3 | a | 11 | ∅".to_string()), "{mode}: {found:?}");
    }
}

#[tokio::test]
async fn unqualified_columns_resolve_to_the_relation_that_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[]).await;
    let renamed = RecordBatch::try_from_iter(vec![
        ("src_id", Arc::new(Int64Array::from(vec![1, 40])) as ArrayRef),
        ("amount", Arc::new(Int64Array::from(vec![-1, -40])) as _),
    ])
    .unwrap();
    let (merged, _) = table
        .merge(renamed, "id = src_id")
        .when_matched_update(|u| u.predicate("amount < 0").update("value", "amount + value"))
        .when_not_matched_insert(|i| i.set("id", "src_id").set("value", "amount").set("part", "'c'"))
        .await
        .unwrap();
    let found = rows(&merged).await;
    assert!(found.contains(&format!("1 | a | {}", old(1) - 1)), "{found:?}");
    assert!(found.contains(&"40 | c | -40".to_string()), "{found:?}");

    let err = table
        .merge(source(), "id = source.id")
        .when_matched_delete(|d| d)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ambiguous"), "{err}");
}

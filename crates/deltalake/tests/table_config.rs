//! Table properties read under Delta on Spark's rules (booleans in any case, blanks around
//! ignored), and the table rules every commit passes: in-commit timestamps, the change data feed
//! and append-only tables, with `true` spelled every way, on our tables and the reference's.

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
use common::{changes, commit_actions, copy_table, reference_python, run_python};
use deltalake::operations::write::SaveMode;
use deltalake::protocol::table_config::{APPEND_ONLY, ENABLE_CHANGE_DATA_FEED, ENABLE_IN_COMMIT_TIMESTAMPS};
use deltalake::protocol::{Action, TableFeature};
use deltalake::transaction::{CommitBuilder, Operation};
use deltalake::{DeltaError, DeltaTable};

/// `true` as tables written elsewhere spell it.
const SPELLINGS: &[&str] = &["true", "TRUE", "True", " tRuE "];

#[tokio::test]
async fn in_commit_timestamps_in_any_case_are_written_with_the_feature() {
    for spelling in SPELLINGS {
        let dir = tempfile::tempdir().unwrap();
        let table = table(dir.path(), false, &[(ENABLE_IN_COMMIT_TIMESTAMPS, spelling)]).await;
        let snapshot = table.snapshot();
        assert!(
            snapshot.protocol().has_writer_feature("inCommitTimestamp"),
            "'{spelling}'"
        );
        assert!(snapshot.is_feature_enabled(TableFeature::InCommitTimestamps));
        let (table, _) = table.delete().with_predicate("id = 1").await.unwrap();
        for version in 0..=table.version() {
            let actions = commit_actions(&table, version).await;
            // The protocol: commitInfo comes first and carries the in-commit timestamp.
            match actions.first() {
                Some(Action::CommitInfo(info)) => assert!(
                    info.in_commit_timestamp.is_some(),
                    "version {version} with '{spelling}': {info:?}"
                ),
                other => panic!("version {version} does not start with commitInfo: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn the_change_data_feed_in_any_case_is_recorded_and_read() {
    for spelling in SPELLINGS {
        let dir = tempfile::tempdir().unwrap();
        let table = table(dir.path(), false, &[(ENABLE_CHANGE_DATA_FEED, spelling)]).await;
        let v = table.version();
        let (table, _) = table.delete().with_predicate("id = 3").await.unwrap();
        assert_eq!(
            changes(&table, v + 1).await,
            [format!("3 | a | {} | delete | {}", old(3), v + 1)],
            "'{spelling}'"
        );
    }
}

/// Every way of removing data from an append-only table fails and leaves it as it was.
async fn assert_refuses_removing_data(table: &DeltaTable, what: &str) {
    let version = table.version();
    let before = rows(table).await;
    let location = table.uri().to_string();
    let refused = |err: DeltaError, operation: &str| {
        assert!(err.to_string().contains("append-only"), "{operation} on {what}: {err}");
    };
    refused(table.delete().with_predicate("id = 1").await.unwrap_err(), "delete");
    refused(table.update().with_update("value", "1").await.unwrap_err(), "update");
    refused(
        table
            .merge(id_part_value(0..2, |_| 7), "target.id = source.id")
            .when_matched_update(|u| u.update("value", "source.value"))
            .await
            .unwrap_err(),
        "merge",
    );
    refused(
        DeltaTable::write(&location)
            .with_batches(vec![id_part_value(0..2, old)])
            .with_mode(SaveMode::Overwrite)
            .await
            .unwrap_err(),
        "overwrite",
    );
    refused(
        DeltaTable::write(&location)
            .with_batches(vec![id_part_value(0..2, old)])
            .with_mode(SaveMode::Overwrite)
            .with_replace_where("id < 2")
            .await
            .unwrap_err(),
        "replace-where",
    );
    let reloaded = DeltaTable::open(&location).await.unwrap();
    assert_eq!(reloaded.version(), version, "{what}");
    assert_eq!(rows(&reloaded).await, before, "{what}");
}

#[tokio::test]
async fn append_only_in_any_case_refuses_every_removal_of_data() {
    for spelling in SPELLINGS {
        let dir = tempfile::tempdir().unwrap();
        let table = table(dir.path(), false, &[(APPEND_ONLY, spelling)]).await;
        assert!(table.snapshot().is_feature_enabled(TableFeature::AppendOnly));
        assert_refuses_removing_data(&table, &format!("appendOnly = '{spelling}'")).await;
        // Appends, and rewrites that change no data, still go through.
        let location = table.uri().to_string();
        let table = DeltaTable::write(&location)
            .with_batches(vec![id_part_value(20..22, old)])
            .with_mode(SaveMode::Append)
            .await
            .unwrap();
        let before = rows(&table).await;
        let (table, metrics) = table.optimize().await.unwrap();
        assert!(metrics.num_files_removed > 0, "{metrics:?}");
        assert_eq!(rows(&table).await, before);
    }
}

/// A commit built by hand passes the same rules as the operations: a new operation cannot
/// forget them.
#[tokio::test]
async fn the_commit_builder_enforces_the_table_rules() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), false, &[(APPEND_ONLY, "TRUE")]).await;
    let now = chrono::Utc::now().timestamp_millis();
    let file = table.snapshot().files().iter().next().unwrap();
    let remove = |data_change| Action::Remove(file.to_remove(now, data_change));
    let err = CommitBuilder::new(Operation::new("SOMETHING NEW", Default::default()))
        .with_actions([remove(true)])
        .commit(table.log_store().as_ref(), Some(table.snapshot()))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("append-only") && err.to_string().contains("SOMETHING NEW"),
        "{err}"
    );
    // Without dataChange the file's rows stay in the table (they are rewritten elsewhere).
    let add = Action::Add(file.to_add());
    CommitBuilder::new(Operation::new("REORGANIZE", Default::default()))
        .with_actions([remove(false), add])
        .commit(table.log_store().as_ref(), Some(table.snapshot()))
        .await
        .unwrap();

    // Writer features this crate does not honour are refused at commit, whatever the operation.
    let dir = tempfile::tempdir().unwrap();
    copy_table("table_with_liquid_clustering", dir.path());
    let table = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    let err = CommitBuilder::new(Operation::new("SOMETHING NEW", Default::default()))
        .commit(table.log_store().as_ref(), Some(table.snapshot()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeltaError::UnsupportedFeature { kind: "writer", features, .. }
            if features.contains(&"liquid".to_string())),
        "{err}"
    );
}

/// A table the reference package writes with `"TRUE"` and `"True"` (it accepts those spellings
/// for these properties; it refuses `delta.enableInCommitTimestamps = "TRUE"` and `" tRuE "`).
const WRITE_WITH_REFERENCE: &str = r#"
import sys, pyarrow as pa
from deltalake import write_deltalake
data = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "value": pa.array([10, 20, 30], pa.int64())})
write_deltalake(sys.argv[1], data, configuration={
    "delta.enableChangeDataFeed": "TRUE",
    "delta.appendOnly": "True",
    "delta.enableDeletionVectors": "TRUE",
})
"#;

#[tokio::test]
async fn a_reference_table_with_mixed_case_properties() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("t");
    let location = location.to_str().unwrap();
    run_python(&python, WRITE_WITH_REFERENCE, &[location]);
    let table = DeltaTable::open(location).await.unwrap();
    for feature in [
        TableFeature::ChangeDataFeed,
        TableFeature::AppendOnly,
        TableFeature::DeletionVectors,
    ] {
        assert!(table.snapshot().is_feature_enabled(feature), "{feature:?}");
    }
    assert_eq!(
        two_column_changes(&table, 0).await,
        ["1 | 10 | insert | 0", "2 | 20 | insert | 0", "3 | 30 | insert | 0"]
    );
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("value", Arc::new(Int64Array::from(vec![7])) as ArrayRef),
    ])
    .unwrap();
    for attempt in [
        table.delete().with_predicate("id = 1").await.map(|_| ()),
        table.update().with_update("value", "0").await.map(|_| ()),
        DeltaTable::write(location)
            .with_batches(vec![batch.clone()])
            .with_mode(SaveMode::Overwrite)
            .await
            .map(|_| ()),
    ] {
        let err = attempt.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    let table = DeltaTable::write(location)
        .with_batches(vec![batch])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    assert_eq!(table.version(), 1);
    assert_eq!(two_column_changes(&table, 1).await, ["1 | 7 | insert | 1"]);
}

/// The change data feed of a table of two columns from `start`: `id | value | change_type |
/// version`, sorted.
async fn two_column_changes(table: &DeltaTable, start: i64) -> Vec<String> {
    common::first_change_columns(table, start, 4).await
}

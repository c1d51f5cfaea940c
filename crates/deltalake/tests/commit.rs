//! Creating tables and committing transactions, alone and concurrently.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

use std::collections::HashSet;
use std::sync::Arc;

use deltalake::protocol::{Action, Add, DataType, PrimitiveType, StructField, StructType};
use deltalake::transaction::{CommitBuilder, CommitProperties, Operation, ReadScope};
use deltalake::{DeltaError, DeltaTable};

fn schema() -> StructType {
    StructType::new(vec![
        StructField::new("id", DataType::Primitive(PrimitiveType::Long), false),
        StructField::new("day", DataType::Primitive(PrimitiveType::Date), true),
    ])
}

fn add(path: &str) -> Action {
    Action::Add(Add {
        path: path.into(),
        partition_values: Default::default(),
        size: 1,
        modification_time: 0,
        data_change: true,
        stats: Some(r#"{"numRecords":1}"#.into()),
        tags: None,
        deletion_vector: None,
        base_row_id: None,
        default_row_commit_version: None,
        clustering_provider: None,
    })
}

fn write() -> Operation {
    Operation::new("WRITE", Default::default())
}

#[tokio::test]
async fn create_writes_protocol_metadata_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let table = DeltaTable::create(location)
        .with_schema(schema())
        .with_partition_columns(["day"])
        .with_property("delta.enableChangeDataFeed", "true")
        .with_name("events")
        .await
        .unwrap();
    assert_eq!(table.version(), 0);
    let s = table.snapshot();
    assert_eq!(s.schema(), &schema());
    assert_eq!(s.partition_columns(), ["day"]);
    assert_eq!(
        (s.protocol().min_reader_version, s.protocol().min_writer_version),
        (1, 4)
    );
    assert_eq!(s.metadata().name.as_deref(), Some("events"));
    let history = table.history(None).await.unwrap();
    assert_eq!(history[0].1.operation.as_deref(), Some("CREATE TABLE"));

    let err = DeltaTable::create(location).with_schema(schema()).await.unwrap_err();
    assert!(matches!(err, DeltaError::TableExists { .. }), "{err}");
    let again = DeltaTable::create(location)
        .with_schema(schema())
        .if_exists(deltalake::operations::create::IfExists::Ignore)
        .await
        .unwrap();
    assert_eq!(again.snapshot().metadata().id, s.metadata().id);
}

#[tokio::test]
async fn create_rejects_bad_definitions_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    for (builder, needle) in [
        (DeltaTable::create(location), "schema"),
        (
            DeltaTable::create(location)
                .with_schema(schema())
                .with_partition_columns(["nope"]),
            "nope",
        ),
        (
            DeltaTable::create(location)
                .with_schema(schema())
                .with_partition_columns(["id", "day"]),
            "at least one",
        ),
        (
            DeltaTable::create(location)
                .with_schema(schema())
                .with_property("delta.columnMapping.mode", "x"),
            "columnMapping",
        ),
    ] {
        let err = builder.await.unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
    assert!(!dir.path().join("_delta_log").exists());

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    assert!(
        DeltaTable::create(file.to_str().unwrap())
            .with_schema(schema())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn column_mapping_tables_get_ids_and_physical_names() {
    let dir = tempfile::tempdir().unwrap();
    let table = DeltaTable::create(dir.path().to_str().unwrap())
        .with_schema(schema())
        .with_property("delta.columnMapping.mode", "name")
        .await
        .unwrap();
    let s = table.snapshot();
    let ids: Vec<_> = s
        .schema()
        .fields
        .iter()
        .map(|f| f.column_mapping_id().unwrap())
        .collect();
    assert_eq!(ids, [1, 2]);
    assert!(s.schema().fields.iter().all(|f| f.physical_name().starts_with("col-")));
    assert_eq!(s.properties()["delta.columnMapping.maxColumnId"], "2");
    assert_eq!(
        (s.protocol().min_reader_version, s.protocol().min_writer_version),
        (2, 5)
    );
}

#[tokio::test]
async fn concurrent_blind_appends_all_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    DeltaTable::create(&location).with_schema(schema()).await.unwrap();
    let writers = 8;
    let commits = 15;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let location = location.clone();
        tasks.push(tokio::spawn(async move {
            let table = DeltaTable::open(&location).await.unwrap();
            let mut versions = Vec::new();
            for c in 0..commits {
                let result = CommitBuilder::new(write())
                    .with_actions([add(&format!("w{w}-c{c}.parquet"))])
                    .with_properties(CommitProperties {
                        max_attempts: 100,
                        ..Default::default()
                    })
                    .commit(table.log_store().as_ref(), Some(table.snapshot()))
                    .await
                    .unwrap();
                versions.push(result.version);
            }
            versions
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.extend(t.await.unwrap());
    }
    versions.sort();
    assert_eq!(versions, (1..=(writers * commits) as i64).collect::<Vec<_>>());
    let table = DeltaTable::open(&location).await.unwrap();
    assert_eq!(table.version(), (writers * commits) as i64);
    let paths: HashSet<_> = table.snapshot().files().iter().map(|f| f.path().to_string()).collect();
    assert_eq!(paths.len(), writers * commits);
}

#[tokio::test]
async fn conflicting_commits_are_refused_and_idempotent_transactions_skip() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let table = DeltaTable::create(location).with_schema(schema()).await.unwrap();
    let store = Arc::clone(table.log_store());
    CommitBuilder::new(write())
        .with_actions([add("a")])
        .commit(store.as_ref(), Some(table.snapshot()))
        .await
        .unwrap();

    // A transaction that read the whole table at version 0 conflicts with the append at version 1.
    let err = CommitBuilder::new(Operation::new("DELETE", Default::default()))
        .with_read_scope(ReadScope::Table)
        .commit(store.as_ref(), Some(table.snapshot()))
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::CommitConflict { version: 1, .. }), "{err}");
    assert_eq!(DeltaTable::open(location).await.unwrap().version(), 1);

    let mut table = DeltaTable::open(location).await.unwrap();
    CommitBuilder::new(write())
        .with_app_transaction("ingest", 7)
        .with_actions([add("b")])
        .commit(store.as_ref(), Some(table.snapshot()))
        .await
        .unwrap();
    table.refresh().await.unwrap();
    assert_eq!(table.snapshot().txn("ingest").unwrap().version, 7);
    let err = CommitBuilder::new(write())
        .with_app_transaction("ingest", 7)
        .with_actions([add("c")])
        .commit(store.as_ref(), Some(table.snapshot()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeltaError::TransactionAlreadyCommitted { committed: 7, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn in_commit_timestamps_increase_and_drive_time_travel() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let mut table = DeltaTable::create(location)
        .with_schema(schema())
        .with_property("delta.enableInCommitTimestamps", "true")
        .await
        .unwrap();
    for i in 0..3 {
        CommitBuilder::new(write())
            .with_actions([add(&format!("f{i}"))])
            .commit(table.log_store().as_ref(), Some(table.snapshot()))
            .await
            .unwrap();
        table.refresh().await.unwrap();
    }
    let commits = table.commits_after(-1).await.unwrap();
    let ts: Vec<i64> = commits
        .iter()
        .map(|c| c.commit_info().unwrap().in_commit_timestamp.unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
    let at = chrono::DateTime::from_timestamp_millis(ts[2]).unwrap();
    let old = DeltaTable::builder(location).with_timestamp(at).load().await.unwrap();
    assert_eq!(old.version(), 2);
}

#[tokio::test]
async fn extra_commit_info_never_replaces_what_the_commit_writes() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let mut table = DeltaTable::create(location).with_schema(schema()).await.unwrap();
    let commit = |extra: serde_json::Value, user_metadata: Option<&str>| {
        let properties = CommitProperties {
            extra_info: extra.as_object().unwrap().clone(),
            user_metadata: user_metadata.map(str::to_string),
            ..CommitProperties::default()
        };
        CommitBuilder::new(write())
            .with_actions(vec![add("a.parquet")])
            .with_properties(properties)
    };
    for extra in [
        serde_json::json!({"operation": "DROP"}),
        serde_json::json!({"timestamp": 1}),
        serde_json::json!({"readVersion": "x"}),
    ] {
        let err = commit(extra.clone(), None)
            .commit(table.log_store().as_ref(), Some(table.snapshot()))
            .await
            .unwrap_err();
        assert!(matches!(err, DeltaError::InvalidArgument(_)), "{extra}: {err}");
    }
    table.refresh().await.unwrap();
    assert_eq!(table.version(), 0, "a refused commit writes nothing");

    // `userMetadata` among the extra fields is the commit's user metadata, written once.
    commit(
        serde_json::json!({"userMetadata": "from extra", "job": "nightly"}),
        None,
    )
    .commit(table.log_store().as_ref(), Some(table.snapshot()))
    .await
    .unwrap();
    let log = std::fs::read_to_string(dir.path().join("_delta_log/00000000000000000001.json")).unwrap();
    assert_eq!(log.matches("\"userMetadata\"").count(), 1, "{log}");
    table.refresh().await.unwrap();
    let history = table.history(Some(1)).await.unwrap();
    assert_eq!(history[0].1.user_metadata.as_deref(), Some("from extra"));
}

//! Log replay edge cases on small hand-written logs, plus incremental updates and tailing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::path::Path;

use common::tables_dir;
use deltalake::{DeltaError, DeltaTable};
use serde_json::json;

const SCHEMA: &str = r#"{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}"#;

fn protocol(reader: i32, writer: i32) -> serde_json::Value {
    json!({"protocol": {"minReaderVersion": reader, "minWriterVersion": writer}})
}

fn metadata() -> serde_json::Value {
    json!({"metaData": {"id": "t", "format": {"provider": "parquet", "options": {}}, "schemaString": SCHEMA,
        "partitionColumns": [], "configuration": {}, "createdTime": 0}})
}

fn add(path: &str) -> serde_json::Value {
    json!({"add": {"path": path, "partitionValues": {}, "size": 1, "modificationTime": 0, "dataChange": true}})
}

fn remove(path: &str) -> serde_json::Value {
    json!({"remove": {"path": path, "deletionTimestamp": 0, "dataChange": true}})
}

fn write_log(dir: &Path, commits: &[Vec<serde_json::Value>]) {
    let log = dir.join("_delta_log");
    std::fs::create_dir_all(&log).unwrap();
    for (version, actions) in commits.iter().enumerate() {
        let body: String = actions.iter().map(|a| format!("{a}\n")).collect();
        std::fs::write(log.join(format!("{version:020}.json")), body).unwrap();
    }
}

fn paths(t: &DeltaTable) -> Vec<String> {
    let mut p: Vec<String> = t.snapshot().files().iter().map(|f| f.path().to_string()).collect();
    p.sort();
    p
}

async fn open(dir: &Path) -> Result<DeltaTable, DeltaError> {
    DeltaTable::open(dir.to_str().unwrap()).await
}

#[tokio::test]
async fn remove_then_re_add_keeps_the_file_and_duplicates_count_once() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[
            vec![protocol(1, 2), metadata(), add("a"), add("b")],
            vec![remove("a")],
            vec![add("a"), add("b")],
            vec![remove("b")],
        ],
    );
    let t = open(dir.path()).await.unwrap();
    assert_eq!(paths(&t), ["a"]);
    let v1 = DeltaTable::builder(dir.path().to_str().unwrap())
        .with_version(1)
        .load()
        .await
        .unwrap();
    assert_eq!(paths(&v1), ["b"]);
}

#[tokio::test]
async fn latest_txn_protocol_and_metadata_win() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[
            vec![
                protocol(1, 2),
                metadata(),
                json!({"txn": {"appId": "app", "version": 1}}),
            ],
            vec![
                json!({"txn": {"appId": "app", "version": 2}}),
                json!({"txn": {"appId": "other", "version": 7}}),
            ],
            vec![protocol(2, 5)],
        ],
    );
    let t = open(dir.path()).await.unwrap();
    assert_eq!(t.snapshot().txn("app").unwrap().version, 2);
    assert_eq!(t.snapshot().txn("other").unwrap().version, 7);
    assert_eq!(t.snapshot().protocol().min_writer_version, 5);
    let v0 = DeltaTable::builder(dir.path().to_str().unwrap())
        .with_version(0)
        .load()
        .await
        .unwrap();
    assert_eq!(v0.snapshot().protocol().min_writer_version, 2);
    assert_eq!(v0.snapshot().txn("app").unwrap().version, 1);
}

#[tokio::test]
async fn a_protocol_upgrade_to_an_unknown_feature_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[
            vec![protocol(1, 2), metadata()],
            vec![
                json!({"protocol": {"minReaderVersion": 3, "minWriterVersion": 7, "readerFeatures": ["futureThing"], "writerFeatures": ["futureThing"]}}),
            ],
        ],
    );
    let err = open(dir.path()).await.unwrap_err();
    assert!(
        matches!(err, DeltaError::UnsupportedFeature { .. }) && err.to_string().contains("futureThing"),
        "{err}"
    );
    DeltaTable::builder(dir.path().to_str().unwrap())
        .with_version(0)
        .load()
        .await
        .unwrap();
}

#[tokio::test]
async fn stale_or_broken_last_checkpoint_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[vec![protocol(1, 2), metadata(), add("a")], vec![add("b")]],
    );
    let hint = dir.path().join("_delta_log/_last_checkpoint");
    std::fs::write(&hint, r#"{"version":1,"size":3}"#).unwrap();
    assert_eq!(paths(&open(dir.path()).await.unwrap()), ["a", "b"]);
    std::fs::write(&hint, "garbage").unwrap();
    assert_eq!(paths(&open(dir.path()).await.unwrap()), ["a", "b"]);
}

/// Local tables open from `_last_checkpoint` by looking files up by name: a few or many commits
/// after the checkpoint, a hint older than the latest checkpoint and time travel all give the
/// state the whole log gives.
#[tokio::test]
async fn the_checkpoint_hint_and_the_commits_after_it_give_the_whole_state() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[vec![protocol(1, 2), metadata(), add("a")]]);
    open(dir.path()).await.unwrap().create_checkpoint().await.unwrap();
    let commit = |version: usize| {
        let mut actions = vec![add(&format!("f{version}"))];
        if version.is_multiple_of(10) {
            actions.push(remove(&format!("f{}", version - 5)));
        }
        let body: String = actions.iter().map(|a| format!("{a}\n")).collect();
        std::fs::write(dir.path().join(format!("_delta_log/{version:020}.json")), body).unwrap();
    };
    let expected = |version: usize| {
        let mut files: Vec<String> = (1..=version)
            .filter(|v| v % 10 != 5 || v + 5 > version)
            .map(|v| format!("f{v}"))
            .chain(["a".to_string()])
            .collect();
        files.sort();
        files
    };
    let at = |version: i64| {
        DeltaTable::builder(dir.path().to_str().unwrap())
            .with_version(version)
            .load()
    };
    for version in 1..=3 {
        commit(version);
    }
    assert_eq!(paths(&open(dir.path()).await.unwrap()), expected(3));
    for version in 4..=100 {
        commit(version);
    }
    let latest = open(dir.path()).await.unwrap();
    assert_eq!((latest.version(), paths(&latest)), (100, expected(100)));
    assert_eq!(paths(&at(17).await.unwrap()), expected(17));
    latest.create_checkpoint().await.unwrap();
    commit(101);
    std::fs::write(dir.path().join("_delta_log/_last_checkpoint"), r#"{"version":0}"#).unwrap();
    assert_eq!(paths(&open(dir.path()).await.unwrap()), expected(101));
    assert_eq!(paths(&at(40).await.unwrap()), expected(40));
}

#[tokio::test]
async fn gaps_missing_versions_and_garbage_commits_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[vec![protocol(1, 2), metadata()], vec![add("a")], vec![add("b")]],
    );
    std::fs::remove_file(dir.path().join("_delta_log/00000000000000000001.json")).unwrap();
    let err = open(dir.path()).await.unwrap_err();
    assert!(err.to_string().contains("00000000000000000001.json"), "{err}");

    let err = DeltaTable::builder(dir.path().to_str().unwrap())
        .with_version(9)
        .load()
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::VersionNotFound { version: 9, .. }), "{err}");

    std::fs::write(
        dir.path().join("_delta_log/00000000000000000001.json"),
        "{\"add\": {\"path\": ",
    )
    .unwrap();
    let err = open(dir.path()).await.unwrap_err();
    assert!(matches!(err, DeltaError::InvalidLog { version: Some(1), .. }), "{err}");

    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        open(empty.path()).await.unwrap_err(),
        DeltaError::NotATable { .. }
    ));
}

#[tokio::test]
async fn update_and_tailing_follow_new_commits() {
    let location = tables_dir().join("simple_table");
    let location = location.to_str().unwrap();
    let mut t = DeltaTable::builder(location).with_version(0).load().await.unwrap();
    let fresh = DeltaTable::open(location).await.unwrap();
    assert!(t.refresh().await.unwrap());
    assert_eq!(t.version(), fresh.version());
    assert_eq!(paths(&t), paths(&fresh));
    assert!(!t.refresh().await.unwrap());

    let commits = t.commits_after(1).await.unwrap();
    assert_eq!(
        commits.iter().map(|c| c.version).collect::<Vec<_>>(),
        (2..=fresh.version()).collect::<Vec<_>>()
    );
    assert!(commits.iter().all(|c| c.commit_info().is_some()));
    let history = t.history(Some(2)).await.unwrap();
    assert_eq!(history.iter().map(|h| h.0).collect::<Vec<_>>(), [4, 3]);
}

#[tokio::test]
async fn time_travel_by_timestamp_uses_commit_times() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[vec![protocol(1, 2), metadata()], vec![add("a")], vec![add("b")]],
    );
    let log = dir.path().join("_delta_log");
    for (v, secs) in [(0, 1_000), (1, 2_000), (2, 3_000)] {
        let f = std::fs::File::options()
            .write(true)
            .open(log.join(format!("{v:020}.json")))
            .unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .unwrap();
    }
    let at = |secs| chrono::DateTime::from_timestamp(secs, 0).unwrap();
    let t = DeltaTable::builder(dir.path().to_str().unwrap())
        .with_timestamp(at(2_500))
        .load()
        .await
        .unwrap();
    assert_eq!(t.version(), 1);
    let t = DeltaTable::builder(dir.path().to_str().unwrap())
        .with_timestamp(at(9_999))
        .load()
        .await
        .unwrap();
    assert_eq!(t.version(), 2);
    let err = DeltaTable::builder(dir.path().to_str().unwrap())
        .with_timestamp(at(10))
        .load()
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::VersionNotFound { .. }), "{err}");
}

#[tokio::test]
async fn a_log_compaction_holds_the_reconciled_actions_of_its_commits() {
    let dir = tempfile::tempdir().unwrap();
    let txn = |version: i64| json!({"txn": {"appId": "app", "version": version}});
    let info = json!({"commitInfo": {"operation": "WRITE"}});
    let mut newer = metadata();
    newer["metaData"]["configuration"] = json!({"delta.appendOnly": "false"});
    write_log(
        dir.path(),
        &[
            vec![protocol(1, 2), metadata(), add("a")],
            vec![info.clone(), add("b"), txn(1)],
            vec![
                info.clone(),
                remove("a"),
                add("c"),
                json!({"cdc": {"path": "_change_data/x", "partitionValues": {}, "size": 1, "dataChange": false}}),
            ],
            vec![info, remove("c"), txn(2), newer, add("b")],
        ],
    );
    let table = open(dir.path()).await.unwrap();
    let written = table.compact_logs(1, 3).await.unwrap();
    assert!(
        written
            .as_ref()
            .ends_with("00000000000000000001.00000000000000000003.compacted.json")
    );
    let body = std::fs::read_to_string(
        dir.path()
            .join("_delta_log/00000000000000000001.00000000000000000003.compacted.json"),
    )
    .unwrap();
    let actions: Vec<serde_json::Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<String> = actions
        .iter()
        .map(|a| {
            let (kind, value) = a.as_object().unwrap().iter().next().unwrap();
            match value.get("path") {
                Some(path) => format!("{kind} {}", path.as_str().unwrap()),
                None => kind.clone(),
            }
        })
        .collect();
    // The last metadata and txn; each file's last action; no commitInfo or cdc.
    assert_eq!(kinds, ["metaData", "txn", "remove a", "add b", "remove c"]);
    assert_eq!(actions[0]["metaData"]["configuration"]["delta.appendOnly"], "false");
    assert_eq!(actions[1]["txn"]["version"], 2);
    // Version 0 and the compaction give the state of version 3.
    let before: std::collections::BTreeSet<&str> = ["a"].into();
    let added = kinds.iter().filter_map(|k| k.strip_prefix("add "));
    let removed: Vec<&str> = kinds.iter().filter_map(|k| k.strip_prefix("remove ")).collect();
    let after: Vec<&str> = before
        .into_iter()
        .chain(added)
        .filter(|p| !removed.contains(p))
        .collect();
    assert_eq!(after, paths(&table));
    // The table reads as before; bad ranges are refused.
    assert_eq!(paths(&open(dir.path()).await.unwrap()), ["b"]);
    for (start, end) in [(2, 2), (3, 1), (-1, 2), (2, 7)] {
        assert!(table.compact_logs(start, end).await.is_err(), "{start}..{end}");
    }
}

//! Checkpoint variants built from a real checkpoint: multi-part, checkpoint plus later commits,
//! and checkpoints without commits before them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::fs::File;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use common::copy_table;
use deltalake::DeltaTable;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const CHECKPOINT: &str = "_delta_log/00000000000000000010.checkpoint.parquet";

fn read_parquet(path: &Path) -> RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = reader.schema().clone();
    let batches: Vec<_> = reader.build().unwrap().map(Result::unwrap).collect();
    concat_batches(&schema, &batches).unwrap()
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

fn sorted_paths(t: &DeltaTable) -> Vec<String> {
    let mut p: Vec<_> = t.snapshot().files().iter().map(|f| f.path().to_string()).collect();
    p.sort();
    p
}

async fn open(dir: &Path) -> DeltaTable {
    DeltaTable::open(dir.to_str().unwrap()).await.unwrap()
}

/// Remove every commit the checkpoint covers, so only the checkpoint can supply the state.
fn drop_covered_commits(dir: &Path) {
    for v in 0..=10 {
        std::fs::remove_file(dir.join(format!("_delta_log/{v:020}.json"))).unwrap();
    }
}

#[tokio::test]
async fn multi_part_checkpoints_are_read_whole_and_ignored_when_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    copy_table("simple_table_with_checkpoint", dir.path());
    let expected = sorted_paths(&open(dir.path()).await);

    let all = read_parquet(&dir.path().join(CHECKPOINT));
    let half = all.num_rows() / 2;
    let parts = [all.slice(0, half), all.slice(half, all.num_rows() - half)];
    std::fs::remove_file(dir.path().join(CHECKPOINT)).unwrap();
    for (i, part) in parts.iter().enumerate() {
        let name = format!(
            "_delta_log/00000000000000000010.checkpoint.{:010}.{:010}.parquet",
            i + 1,
            2
        );
        write_parquet(&dir.path().join(name), part);
    }
    std::fs::write(
        dir.path().join("_delta_log/_last_checkpoint"),
        r#"{"version":10,"size":13,"parts":2}"#,
    )
    .unwrap();
    drop_covered_commits(dir.path());
    let t = open(dir.path()).await;
    assert_eq!(t.version(), 10);
    assert_eq!(sorted_paths(&t), expected);

    // Without its second part the checkpoint is incomplete, and nothing else covers version 10.
    std::fs::remove_file(
        dir.path()
            .join("_delta_log/00000000000000000010.checkpoint.0000000002.0000000002.parquet"),
    )
    .unwrap();
    let err = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("00000000000000000000.json"), "{err}");
}

#[tokio::test]
async fn commits_after_a_checkpoint_remove_and_add_its_files() {
    let dir = tempfile::tempdir().unwrap();
    copy_table("simple_table_with_checkpoint", dir.path());
    drop_covered_commits(dir.path());
    let before = sorted_paths(&open(dir.path()).await);
    let gone = before[0].clone();
    let commit = format!(
        "{}\n{}\n",
        serde_json::json!({"remove": {"path": gone, "deletionTimestamp": 1, "dataChange": true}}),
        serde_json::json!({"add": {"path": "new.parquet", "partitionValues": {}, "size": 1, "modificationTime": 1, "dataChange": true}}),
    );
    std::fs::write(dir.path().join("_delta_log/00000000000000000011.json"), commit).unwrap();
    let t = open(dir.path()).await;
    assert_eq!(t.version(), 11);
    let mut expected: Vec<String> = before
        .into_iter()
        .filter(|p| *p != gone)
        .chain(["new.parquet".to_string()])
        .collect();
    expected.sort();
    assert_eq!(sorted_paths(&t), expected);
    // Time travel before the checkpoint is impossible once its commits are gone.
    assert!(
        DeltaTable::builder(dir.path().to_str().unwrap())
            .with_version(5)
            .load()
            .await
            .is_err()
    );
}

fn age(path: &Path, seconds_ago: u64) {
    let f = File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(seconds_ago))
        .unwrap();
}

#[tokio::test]
async fn log_cleanup_keeps_what_retained_versions_need() {
    let dir = tempfile::tempdir().unwrap();
    copy_table("simple_table_with_checkpoint", dir.path());
    let log = dir.path().join("_delta_log");
    // Fresh files: nothing expired.
    let t = open(dir.path()).await;
    assert_eq!(t.cleanup_metadata().await.unwrap(), 0);
    // Everything 40 days old: the checkpoint at 10 is the newest expired one; older commits go.
    for entry in std::fs::read_dir(&log).unwrap() {
        age(&entry.unwrap().path(), 40 * 86_400);
    }
    let t = open(dir.path()).await;
    let expected = sorted_paths(&t);
    assert_eq!(t.cleanup_metadata().await.unwrap(), 10);
    for v in 0..10 {
        assert!(!log.join(format!("{v:020}.json")).exists(), "commit {v} should be gone");
    }
    assert!(log.join("00000000000000000010.json").exists());
    let reopened = open(dir.path()).await;
    assert_eq!((reopened.version(), sorted_paths(&reopened)), (10, expected));
    assert!(
        DeltaTable::builder(dir.path().to_str().unwrap())
            .with_version(4)
            .load()
            .await
            .is_err()
    );
}

//! Broken logs give errors that name the file and version: never a panic, never wrong rows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use common::testdata;
use deltalake::DeltaTable;

#[tokio::test]
async fn every_corrupt_log_is_reported_or_read_consistently() {
    let dir = testdata().join("corrupt-logs");
    let mut tables: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    tables.sort();
    assert!(!tables.is_empty());
    for table in tables {
        let name = table.file_name().unwrap().to_string_lossy().to_string();
        let result = tokio::spawn(DeltaTable::open(table.to_string_lossy().to_string())).await;
        let result = result.unwrap_or_else(|e| panic!("{name}: panicked: {e}"));
        match result {
            Ok(t) => {
                // A log that opens must be consistent: every listed file has a path and the
                // version is the newest commit.
                println!(
                    "{name}: opened at version {} with {} files",
                    t.version(),
                    t.snapshot().files().len()
                );
                assert!(t.snapshot().files().iter().all(|f| !f.path().is_empty()), "{name}");
            }
            Err(e) => {
                let msg = e.to_string();
                println!("{name}: {msg}");
                assert!(
                    msg.contains("_delta_log") || msg.contains(&name),
                    "{name}: error does not name the file: {msg}"
                );
            }
        }
    }
}

fn truncate(path: &std::path::Path, keep: usize) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..keep.min(bytes.len())]).unwrap();
}

#[tokio::test]
async fn a_truncated_checkpoint_names_the_file_and_version() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_table("simple_table_with_checkpoint", dir.path());
    let checkpoint = dir.path().join("_delta_log/00000000000000000010.checkpoint.parquet");
    truncate(&checkpoint, 100);
    let err = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("00000000000000000010.checkpoint.parquet") && msg.contains("version 10"),
        "{msg}"
    );
    std::fs::write(&checkpoint, b"garbage, not parquet at all").unwrap();
    let msg = DeltaTable::open(dir.path().to_str().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("00000000000000000010.checkpoint.parquet"), "{msg}");
}

#[tokio::test]
async fn truncated_deletion_vectors_and_data_files_fail_the_scan_by_name() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_table("table-with-dv-small", dir.path());
    let dv = dir
        .path()
        .join("deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin");
    truncate(&dv, 20);
    let t = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    let msg = t.scan().build().unwrap().collect().await.unwrap_err().to_string();
    assert!(msg.contains("deletion_vector_61d16c75"), "{msg}");

    std::fs::remove_file(&dv).unwrap();
    let msg = t.scan().build().unwrap().collect().await.unwrap_err().to_string();
    assert!(
        msg.contains("deletion_vector_61d16c75") && msg.contains("does not exist"),
        "{msg}"
    );

    let data = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    truncate(&data, 50);
    let t = DeltaTable::builder(dir.path().to_str().unwrap())
        .with_version(0)
        .load()
        .await
        .unwrap();
    let msg = t.scan().build().unwrap().collect().await.unwrap_err().to_string();
    assert!(msg.contains(data.file_name().unwrap().to_str().unwrap()), "{msg}");
    std::fs::remove_file(&data).unwrap();
    let msg = t.scan().build().unwrap().collect().await.unwrap_err().to_string();
    assert!(msg.contains("does not exist"), "{msg}");
}

#[tokio::test]
async fn tables_open_by_relative_path_and_file_uri() {
    let absolute = common::tables_dir().join("simple_table").canonicalize().unwrap();
    let uri = url::Url::from_directory_path(&absolute).unwrap();
    assert_eq!(DeltaTable::open(uri.as_str()).await.unwrap().version(), 4);
    let cwd = std::env::current_dir().unwrap();
    let relative = pathdiff(&absolute, &cwd);
    assert_eq!(DeltaTable::open(relative.to_str().unwrap()).await.unwrap().version(), 4);
}

/// `target` relative to `base`, with `..` steps.
fn pathdiff(target: &std::path::Path, base: &std::path::Path) -> std::path::PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

//! Broken logs give errors that name the file and version: never a panic, never wrong rows.

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

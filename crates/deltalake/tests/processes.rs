//! Many writer processes at once, and writers killed at random points: nothing committed is lost,
//! nothing half-written is ever visible.
//!
//! The test binary runs itself as the writer process: `child_writer`, an ignored test that only
//! `spawn_writer` runs (with `--ignored`), does the writing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::time::Duration;

use common::cloud::{self, batch, check_every_version, spawn_writer};
use deltalake::DeltaTable;

/// The writer process of the tests below: not a test itself, `spawn_writer`
/// starts it with `--ignored`.
#[tokio::test]
#[ignore = "child process of the concurrent writer tests; run by common::cloud::spawn_writer"]
async fn child_writer() {
    cloud::child_writer().await;
}

#[tokio::test]
async fn four_processes_append_one_hundred_commits_each() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    cloud::concurrent_writers("child_writer", &location, &HashMap::new(), 4, 100).await;
    // Locally every version is cheap to open: each holds exactly the commits up to it.
    assert_eq!(check_every_version(&location, &HashMap::new()).await, 400);
}

#[tokio::test]
async fn writers_killed_at_random_points_never_corrupt_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    let options = HashMap::new();
    // Frequent checkpoints, so that kills also land while one is written.
    let configuration = HashMap::from([("delta.checkpointInterval".to_string(), "3".to_string())]);
    DeltaTable::write(&location)
        .with_batches(vec![batch("init", 0)])
        .with_configuration(configuration)
        .await
        .unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let runs = 100;
    for run in 0..runs {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = spawn_writer("child_writer", &location, &options, &format!("k{run}"), None);
        // Once the writer has committed (however loaded the machine), kill it at a random moment of
        // its next commits: writing data, committing or checkpointing.
        let committed = BufReader::new(child.stdout.as_mut().unwrap())
            .lines()
            .any(|line| line.unwrap().starts_with("committed"));
        assert!(committed, "writer k{run} stopped before its first commit");
        std::thread::sleep(Duration::from_millis(seed % 60));
        child.kill().unwrap();
        child.wait().unwrap();
        // The table always opens at its latest version after a kill.
        DeltaTable::open(&location).await.unwrap();
    }
    let latest = check_every_version(&location, &options).await;
    assert!(latest >= runs, "only {latest} commits landed in {runs} runs");
    let checkpoints = std::fs::read_dir(dir.path().join("_delta_log"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".checkpoint.parquet")
        })
        .count();
    assert!(checkpoints > 0, "no checkpoint was written");
}

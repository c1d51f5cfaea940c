//! Many writer processes at once, and writers killed at random points: nothing committed is lost,
//! nothing half-written is ever visible.
//!
//! The test binary runs itself as the writer process: `child_writer` does the writing when
//! `DELTA_TEST_CHILD` is set and nothing otherwise.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::Int64Type;
use deltalake::DeltaTable;
use deltalake::transaction::CommitProperties;

fn batch(writer: &str, n: i64) -> RecordBatch {
    RecordBatch::try_from_iter(vec![
        ("writer", Arc::new(StringArray::from(vec![writer])) as ArrayRef),
        ("n", Arc::new(Int64Array::from(vec![n])) as ArrayRef),
    ])
    .unwrap()
}

/// Appends `DELTA_TEST_COMMITS` one-row commits to `DELTA_TEST_TABLE` (forever when unset).
#[tokio::test]
async fn child_writer() {
    let Ok(name) = std::env::var("DELTA_TEST_CHILD") else {
        return;
    };
    let location = std::env::var("DELTA_TEST_TABLE").unwrap();
    let commits: i64 = std::env::var("DELTA_TEST_COMMITS")
        .ok()
        .map_or(i64::MAX, |c| c.parse().unwrap());
    for n in 0..commits {
        DeltaTable::write(&location)
            .with_batches(vec![batch(&name, n)])
            .with_commit_properties(CommitProperties {
                max_attempts: 1_000,
                ..Default::default()
            })
            .await
            .unwrap();
        // The parent of the crash test waits for the first commit before it picks a moment to kill.
        println!("committed {n}");
    }
}

fn spawn_writer(location: &str, name: &str, commits: Option<i64>) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env("DELTA_TEST_CHILD", name)
        .env("DELTA_TEST_TABLE", location)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(c) = commits {
        cmd.env("DELTA_TEST_COMMITS", c.to_string());
    }
    cmd.spawn().unwrap()
}

/// Create the table with one row; `checkpoint_interval` sets `delta.checkpointInterval`.
async fn create(location: &str, checkpoint_interval: Option<u32>) {
    let configuration = checkpoint_interval
        .map(|n| ("delta.checkpointInterval".to_string(), n.to_string()))
        .into_iter()
        .collect();
    DeltaTable::write(location)
        .with_batches(vec![batch("init", 0)])
        .with_configuration(configuration)
        .await
        .unwrap();
}

/// Every version opens, and each holds exactly the rows of the commits up to it, each once.
async fn check_every_version(location: &str) -> i64 {
    let latest = DeltaTable::open(location).await.unwrap().version();
    let mut previous = 0;
    let mut t = DeltaTable::builder(location).with_version(0).load().await.unwrap();
    for version in 0..=latest {
        // Newer versions are reached incrementally, as a reader following the table would.
        t.load_version(version).await.unwrap();
        let batches = t.scan().build().unwrap().collect().await.unwrap();
        let mut rows: Vec<(String, i64)> = Vec::new();
        for b in &batches {
            let w = b.column(0).as_string::<i32>();
            let n = b.column(1).as_primitive::<Int64Type>();
            rows.extend((0..b.num_rows()).map(|i| (w.value(i).to_string(), n.value(i))));
        }
        let count = rows.len();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), count, "duplicate rows at version {version}");
        assert_eq!(count, previous + 1, "version {version} must add exactly one row");
        previous = count;
    }
    latest
}

#[tokio::test]
async fn four_processes_append_one_hundred_commits_each() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    create(&location, None).await;
    let children: Vec<_> = (0..4)
        .map(|i| spawn_writer(&location, &format!("w{i}"), Some(100)))
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let latest = check_every_version(&location).await;
    assert_eq!(latest, 400);
    let t = DeltaTable::open(&location).await.unwrap();
    let batches = t.scan().build().unwrap().collect().await.unwrap();
    for w in 0..4 {
        let mut ns: Vec<i64> = batches
            .iter()
            .flat_map(|b| {
                let names = b.column(0).as_string::<i32>();
                let n = b.column(1).as_primitive::<Int64Type>();
                (0..b.num_rows())
                    .filter(|i| names.value(*i) == format!("w{w}"))
                    .map(|i| n.value(i))
                    .collect::<Vec<_>>()
            })
            .collect();
        ns.sort();
        assert_eq!(ns, (0..100).collect::<Vec<_>>(), "writer w{w}");
    }
}

#[tokio::test]
async fn writers_killed_at_random_points_never_corrupt_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    // Frequent checkpoints, so that kills also land while one is written.
    create(&location, Some(3)).await;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let runs = 100;
    for run in 0..runs {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = spawn_writer(&location, &format!("k{run}"), None);
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
    let latest = check_every_version(&location).await;
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

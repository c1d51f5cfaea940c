//! Scenarios run against every object store backend: a read conformance subset on copied test
//! tables, write round trips, and many writer processes at once.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::Int64Type;
use deltalake::DeltaTable;
use deltalake::operations::write::SaveMode;
use deltalake::protocol::Action;
use deltalake::transaction::CommitProperties;
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload};
use serde_json::Value;

use super::{expected_dir, read_expected_rows, render_sorted_rows, tables_dir};

/// Tables of the shared test data copied to each backend: plain, partitioned (with special
/// characters in partition values), with deletion vectors, with a checkpoint.
pub const CONFORMANCE_TABLES: [&str; 5] = [
    "simple_table",
    "delta-0.8.0-partitioned",
    "delta-0.8.0-special-partition",
    "table-with-dv-small",
    "simple_table_with_checkpoint",
];

/// The table at `location` opened with `options`.
pub async fn open(location: &str, options: &HashMap<String, String>) -> DeltaTable {
    DeltaTable::builder(location)
        .with_storage_options(options.clone())
        .load()
        .await
        .unwrap_or_else(|e| panic!("opening {location}: {e}"))
}

/// Copy the shared table `name` under `location` (a directory URI) of the store.
pub async fn upload_table(name: &str, location: &str, options: &HashMap<String, String>) {
    let url = deltalake::storage::table_url(location).unwrap();
    let store = deltalake::storage::open_log_store(&url, options).unwrap();
    let source = tables_dir().join(name);
    let mut stack = vec![source.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            // Names as they are on disk (`x=A%2FA` stays that), not encoded once more.
            let relative = path.strip_prefix(&source).unwrap().to_str().unwrap();
            let target = StorePath::parse(format!("{}/{relative}", store.root_path())).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            store
                .object_store()
                .put(&target, PutPayload::from(bytes))
                .await
                .unwrap();
        }
    }
}

/// Every table of [`CONFORMANCE_TABLES`], copied under `base` (a directory URI), opens at the
/// reference's version with the reference's rows (for tables the reference could not read, the
/// rows of the local copy, which `conformance.rs` checks against the statistics).
pub async fn read_conformance(base: &str, options: &HashMap<String, String>) {
    for name in CONFORMANCE_TABLES {
        let location = format!("{}/{name}", base.trim_end_matches('/'));
        upload_table(name, &location, options).await;
        let meta: Value =
            serde_json::from_slice(&std::fs::read(expected_dir().join(name).join("meta.json")).unwrap()).unwrap();
        let table = open(&location, options).await;
        assert_eq!(table.version(), meta["version"].as_i64().unwrap(), "{name}: version");
        let batches = table.scan().build().unwrap().collect().await.unwrap();
        // The reference's rows, or ours from the local copy where the reference could not read
        // the table (deletion vectors).
        let rows_file = expected_dir().join(name).join("rows.parquet");
        let expected = if rows_file.exists() {
            read_expected_rows(&rows_file)
        } else {
            let local = DeltaTable::open(tables_dir().join(name).to_str().unwrap())
                .await
                .unwrap();
            local.scan().build().unwrap().collect().await.unwrap()
        };
        let schema = table.snapshot().arrow_schema();
        let ours = render_sorted_rows(&batches, schema).unwrap();
        let theirs = render_sorted_rows(&expected, schema).unwrap();
        assert_eq!(ours.len(), theirs.len(), "{name}: row count");
        assert_eq!(ours, theirs, "{name}: rows");
    }
}

/// A one-row batch `(writer, n)`.
pub fn batch(writer: &str, n: i64) -> RecordBatch {
    RecordBatch::try_from_iter(vec![
        ("writer", Arc::new(StringArray::from(vec![writer])) as ArrayRef),
        ("n", Arc::new(Int64Array::from(vec![n])) as ArrayRef),
    ])
    .unwrap()
}

/// Rows `(writer, n)` of the table, sorted.
pub async fn rows(table: &DeltaTable) -> Vec<(String, i64)> {
    let batches = table.scan().build().unwrap().collect().await.unwrap();
    let mut rows: Vec<(String, i64)> = Vec::new();
    for b in &batches {
        let w = b.column_by_name("writer").unwrap().as_string::<i32>();
        let n = b.column_by_name("n").unwrap().as_primitive::<Int64Type>();
        rows.extend((0..b.num_rows()).map(|i| (w.value(i).to_string(), n.value(i))));
    }
    rows.sort();
    rows
}

/// Create, append, overwrite, delete, checkpoint, vacuum at `location`; each step's rows and
/// version are checked on a freshly opened table. Returns the latest version.
pub async fn write_round_trip(location: &str, options: &HashMap<String, String>) -> i64 {
    let write = |mode: SaveMode, rows: Vec<RecordBatch>| {
        DeltaTable::write(location)
            .with_storage_options(options.clone())
            .with_batches(rows)
            .with_mode(mode)
    };
    write(SaveMode::ErrorIfExists, vec![batch("a", 1)]).await.unwrap();
    let err = write(SaveMode::ErrorIfExists, vec![batch("a", 1)]).await.unwrap_err();
    assert!(err.to_string().contains("exists"), "{err}");
    write(SaveMode::Append, vec![batch("a", 2), batch("b", 3)])
        .await
        .unwrap();
    let table = open(location, options).await;
    assert_eq!(table.version(), 1);
    assert_eq!(rows(&table).await, [("a".into(), 1), ("a".into(), 2), ("b".into(), 3)]);

    write(SaveMode::Overwrite, vec![batch("c", 4), batch("c", 5), batch("d", 6)])
        .await
        .unwrap();
    let table = open(location, options).await;
    assert_eq!(rows(&table).await, [("c".into(), 4), ("c".into(), 5), ("d".into(), 6)]);

    let (table, _) = table.delete().with_predicate("n = 5").await.unwrap();
    assert_eq!(table.version(), 3);
    table.create_checkpoint().await.unwrap();
    let reopened = open(location, options).await;
    assert_eq!(reopened.version(), 3);
    assert_eq!(rows(&reopened).await, [("c".into(), 4), ("d".into(), 6)]);
    // Time travel still sees the first version.
    let first = DeltaTable::builder(location)
        .with_storage_options(options.clone())
        .with_version(0)
        .load()
        .await
        .unwrap();
    assert_eq!(rows(&first).await, [("a".into(), 1)]);

    let (_, metrics) = reopened
        .vacuum()
        .with_retention(std::time::Duration::ZERO)
        .with_enforce_retention(false)
        .await
        .unwrap();
    assert!(
        metrics.files_deleted.len() >= 3,
        "vacuum removed {:?}",
        metrics.files_deleted
    );
    let vacuumed = open(location, options).await;
    assert_eq!(rows(&vacuumed).await, [("c".into(), 4), ("d".into(), 6)]);
    // Vacuum records its start and end.
    assert_eq!(vacuumed.version(), 5);
    vacuumed.version()
}

/// The child side of [`concurrent_writers`]: append `DELTA_TEST_COMMITS` one-row commits as
/// writer `DELTA_TEST_CHILD` to `DELTA_TEST_TABLE` with the options in `DELTA_TEST_OPTIONS`
/// (JSON), all set by [`spawn_writer`]. Run without them (`--include-ignored`), it fails.
pub async fn child_writer() {
    let name = std::env::var("DELTA_TEST_CHILD")
        .expect("DELTA_TEST_CHILD is unset: child_writer is the process spawn_writer starts, not a test");
    let location = std::env::var("DELTA_TEST_TABLE").unwrap();
    let options: HashMap<String, String> = std::env::var("DELTA_TEST_OPTIONS")
        .map(|o| serde_json::from_str(&o).unwrap())
        .unwrap_or_default();
    let commits: i64 = std::env::var("DELTA_TEST_COMMITS")
        .ok()
        .map_or(i64::MAX, |c| c.parse().unwrap());
    for n in 0..commits {
        DeltaTable::write(&location)
            .with_storage_options(options.clone())
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

/// Start this test binary as a writer process running the test `child_test` (which calls
/// [`child_writer`] and is `#[ignore]`d, so that it never runs as a test of its own: `--ignored`
/// runs it, `--exact` only it).
pub fn spawn_writer(
    child_test: &str,
    location: &str,
    options: &HashMap<String, String>,
    name: &str,
    commits: Option<i64>,
) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", child_test, "--ignored", "--nocapture", "--test-threads=1"])
        .env("DELTA_TEST_CHILD", name)
        .env("DELTA_TEST_TABLE", location)
        .env("DELTA_TEST_OPTIONS", serde_json::to_string(options).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(c) = commits {
        cmd.env("DELTA_TEST_COMMITS", c.to_string());
    }
    cmd.spawn().unwrap()
}

/// Every version opens, and each holds exactly the rows of the commits up to it, each once.
/// Returns the latest version.
pub async fn check_every_version(location: &str, options: &HashMap<String, String>) -> i64 {
    let latest = open(location, options).await.version();
    let mut previous = 0;
    let mut t = DeltaTable::builder(location)
        .with_storage_options(options.clone())
        .with_version(0)
        .load()
        .await
        .unwrap();
    for version in 0..=latest {
        // Newer versions are reached incrementally, as a reader following the table would.
        t.load_version(version).await.unwrap();
        let mut rows = rows(&t).await;
        let count = rows.len();
        rows.dedup();
        assert_eq!(rows.len(), count, "duplicate rows at version {version}");
        assert_eq!(count, previous + 1, "version {version} must add exactly one row");
        previous = count;
    }
    latest
}

/// `processes` writer processes append `commits` commits each at once to a new table at
/// `location`: every commit lands exactly once, in versions 1..=processes*commits.
pub async fn concurrent_writers(
    child_test: &str,
    location: &str,
    options: &HashMap<String, String>,
    processes: usize,
    commits: i64,
) {
    DeltaTable::write(location)
        .with_storage_options(options.clone())
        .with_batches(vec![batch("init", 0)])
        .await
        .unwrap();
    let children: Vec<_> = (0..processes)
        .map(|i| spawn_writer(child_test, location, options, &format!("w{i}"), Some(commits)))
        .collect();
    for child in children {
        // Waiting off the runtime: a proxy of this test may be serving the writers meanwhile.
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            out.status.success(),
            "writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every version holds exactly one new file; reading every version of a remote table would
    // take minutes, so a few are opened by time travel.
    let table = open(location, options).await;
    let latest = processes as i64 * commits;
    assert_eq!(table.version(), latest);
    let log = table.commits_after(0).await.unwrap();
    assert_eq!(
        log.iter().map(|c| c.version).collect::<Vec<_>>(),
        (1..=latest).collect::<Vec<_>>()
    );
    for commit in &log {
        let adds = commit.actions.iter().filter(|a| matches!(a, Action::Add(_))).count();
        assert_eq!(adds, 1, "version {} adds {adds} files", commit.version);
    }
    for version in [1, latest / 2, latest - 1] {
        let old = DeltaTable::builder(location)
            .with_storage_options(options.clone())
            .with_version(version)
            .load()
            .await
            .unwrap();
        assert_eq!(rows(&old).await.len() as i64, version + 1, "version {version}");
    }
    let rows = rows(&table).await;
    assert_eq!(rows.len() as i64, latest + 1);
    for w in 0..processes {
        let ns: Vec<i64> = rows
            .iter()
            .filter(|(name, _)| *name == format!("w{w}"))
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(ns, (0..commits).collect::<Vec<_>>(), "writer w{w}");
    }
}

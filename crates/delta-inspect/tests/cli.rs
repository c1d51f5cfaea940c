//! The `delta-inspect` binary against the shared test tables.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

use std::process::{Command, Output};

fn table(name: &str) -> String {
    format!("{}/../../../shared/testdata/tables/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_delta-inspect"))
        .args(args)
        .output()
        .unwrap()
}

/// A copy of `simple_table` (data files and log) under `dir`.
fn copy_simple_table(dir: &std::path::Path) -> std::path::PathBuf {
    let copy = dir.join("t");
    let source = std::path::PathBuf::from(table("simple_table"));
    std::fs::create_dir_all(copy.join("_delta_log")).unwrap();
    for entry in std::fs::read_dir(&source)
        .unwrap()
        .chain(std::fs::read_dir(source.join("_delta_log")).unwrap())
    {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let relative = entry.path().strip_prefix(&source).unwrap().to_path_buf();
            std::fs::copy(entry.path(), copy.join(relative)).unwrap();
        }
    }
    copy
}

#[test]
fn info_reports_version_and_files() {
    let out = run(&["info", &table("simple_table")]);
    assert!(out.status.success());
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["version"], 4);
    assert_eq!(info["num_files"], 5);
    let out = run(&["info", "--version", "0", &table("simple_table")]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["version"], 0);
}

#[test]
fn files_history_and_schema() {
    let out = run(&["files", &table("simple_table")]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 5);
    let out = run(&["history", "--limit", "2", &table("simple_table")]);
    let versions: Vec<i64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["version"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(versions, [4, 3]);
    let out = run(&["schema", &table("simple_table")]);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["fields"][0]["name"], "id");
}

#[test]
fn scan_writes_json_csv_and_parquet() {
    let out = run(&["scan", &table("simple_table"), "--format", "json"]);
    let mut ids: Vec<i64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, [5, 7, 9]);

    let out = run(&[
        "scan",
        &table("delta-0.8.0-partitioned"),
        "--format",
        "csv",
        "--columns",
        "year",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("year"));
    assert_eq!(text.lines().count(), 8);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.parquet");
    let out = run(&[
        "scan",
        &table("simple_table"),
        "--format",
        "parquet",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&file).unwrap()).unwrap();
    use parquet::file::reader::FileReader;
    assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
}

#[test]
fn errors_go_to_stderr_with_a_failing_exit_code() {
    let out = run(&["info", "/no/such/table"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("/no/such/table"));
    let out = run(&["scan", &table("simple_table"), "--format", "parquet"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn scan_filters_rows_and_reports_bad_predicates() {
    let values = |args: &[&str]| -> Vec<String> {
        let out = run(args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut values: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["value"].to_string())
            .collect();
        values.sort();
        values
    };
    let partitioned = table("delta-0.8.0-partitioned");
    let all = values(&["scan", &partitioned, "--columns", "value"]);
    let filtered = values(&[
        "scan",
        &partitioned,
        "--columns",
        "value",
        "--filter",
        "year = '2021' AND month = '12'",
    ]);
    assert!(
        !filtered.is_empty() && filtered.len() < all.len(),
        "{filtered:?} of {all:?}"
    );
    assert!(filtered.iter().all(|v| all.contains(v)));
    let none = values(&["scan", &partitioned, "--filter", "year = '1999'"]);
    assert!(none.is_empty());

    let out = run(&["scan", &partitioned, "--filter", "missing > 1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'missing'") && stderr.contains("value, year, month, day"),
        "{stderr}"
    );
}

#[test]
fn checkpoint_writes_a_checkpoint_the_table_opens_from() {
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_simple_table(dir.path());
    let out = run(&["checkpoint", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hint: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hint["version"], 4);
    assert_eq!(hint["numOfAddFiles"], 5);
    assert!(copy.join("_delta_log/00000000000000000004.checkpoint.parquet").exists());
    // The commits the checkpoint covers are no longer needed.
    for v in 0..=4 {
        std::fs::remove_file(copy.join(format!("_delta_log/{v:020}.json"))).unwrap();
    }
    let out = run(&["info", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (info["version"].as_i64(), info["num_files"].as_i64()),
        (Some(4), Some(5))
    );
}

#[test]
fn vacuum_lists_by_default_and_deletes_with_execute() {
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_simple_table(dir.path());
    let location = copy.to_str().unwrap();
    let parquet_files = || {
        std::fs::read_dir(&copy)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "parquet"))
            .count()
    };
    let before = parquet_files();
    let listed = run(&["vacuum", location, "--retention-hours", "0", "--no-retention-check"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let candidates = listed["files_deleted"].as_array().unwrap().len();
    assert!(candidates > 0 && listed["dry_run"] == true, "{listed}");
    assert_eq!(parquet_files(), before);

    let refused = run(&["vacuum", location, "--retention-hours", "0"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("shorter than the table's"));

    let done = run(&[
        "vacuum",
        location,
        "--retention-hours",
        "0",
        "--no-retention-check",
        "--execute",
    ]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert_eq!(parquet_files(), before - candidates);
    let info = run(&["scan", location, "--format", "csv"]);
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
}

#[test]
fn info_and_optimize_report_clustering_columns() {
    let out = run(&["info", &table("table_with_liquid_clustering")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["clustering_columns"], serde_json::json!(["id"]));
    let out = run(&["info", &table("simple_table")]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(info["clustering_columns"].is_null());
}

#[test]
fn optimize_compacts_and_zorders_and_prints_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_simple_table(dir.path());
    let location = copy.to_str().unwrap();
    let out = run(&["optimize", location]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metrics: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(metrics["version"], 5);
    assert_eq!(metrics["numFilesRemoved"], 5);
    assert_eq!(metrics["numFilesAdded"], 1);
    assert_eq!(metrics["filesRemoved"]["totalFiles"], 5);
    let out = run(&["info", location]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["num_files"], 1);

    let out = run(&["optimize", location, "--zorder", "id", "--target-size", "1000000"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metrics: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (metrics["version"].as_i64(), metrics["preserveInsertionOrder"].as_bool()),
        (Some(6), Some(false))
    );

    assert!(metrics["clusteringColumns"].is_null());

    let out = run(&["optimize", location, "--zorder", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
#[cfg(feature = "sql")]
fn sql_queries_the_table_as_t() {
    let out = run(&[
        "sql",
        &table("delta-0.8.0-partitioned"),
        "SELECT year, count(*) AS n FROM t GROUP BY year ORDER BY year",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            serde_json::json!({"year": "2020", "n": 3}),
            serde_json::json!({"year": "2021", "n": 4})
        ]
    );

    // Time travel applies to the registered table; CSV output.
    let out = run(&[
        "sql",
        &table("simple_table"),
        "--version",
        "0",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM t",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n\n5\n");

    let out = run(&["sql", &table("simple_table"), "SELECT nope FROM t"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

/// Built without DataFusion (as `scripts/demo.sh` builds it), `sql` says how to get it.
#[test]
#[cfg(not(feature = "sql"))]
fn sql_without_the_feature_says_how_to_get_it() {
    let out = run(&["sql", &table("simple_table"), "SELECT 1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`sql` feature"), "{stderr}");
    assert!(stderr.contains("cargo install --path crates/delta-inspect"), "{stderr}");
}

//! Interoperability with the reference reader and writer: the `deltalake` package from PyPI.
//!
//! `scripts/test.sh` sets `DELTA_REFERENCE_PYTHON` to an interpreter that has it (made by
//! `scripts/setup-python.sh`). Without one the tests say so and pass vacuously only outside CI.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use common::{read_expected_rows, reference_python, render_sorted_rows, run_python};
use deltalake::DeltaTable;
use deltalake::operations::write::SaveMode;

/// Read `table` with the reference reader into `out` (Parquet): version and rows.
const READ_WITH_REFERENCE: &str = r#"
import sys, json, deltalake, pyarrow.parquet as pq
t = deltalake.DeltaTable(sys.argv[1])
pq.write_table(t.to_pyarrow_table(), sys.argv[2])
open(sys.argv[2] + ".json", "w").write(json.dumps({"version": t.version(), "files": len(t.file_uris())}))
"#;

fn sample(day: i32, ids: std::ops::Range<i64>) -> RecordBatch {
    let n = (ids.end - ids.start) as usize;
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from_iter_values(ids.clone().map(|i| format!("name-{i}")))) as _,
        ),
        (
            "score",
            Arc::new(Int32Array::from_iter(
                ids.clone().map(|i| (i % 3 != 0).then_some(i as i32)),
            )) as _,
        ),
        ("day", Arc::new(Date32Array::from(vec![day; n])) as _),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from_iter_values(ids.map(|i| i * 1_000_123)).with_timezone("UTC")) as _,
        ),
    ])
    .unwrap()
}

async fn compare_with_reference(python: &str, location: &Path) {
    let out = location.with_extension("reference.parquet");
    run_python(
        python,
        READ_WITH_REFERENCE,
        &[location.to_str().unwrap(), out.to_str().unwrap()],
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.with_extension("parquet.json")).unwrap()).unwrap();
    let table = DeltaTable::open(location.to_str().unwrap()).await.unwrap();
    assert_eq!(summary["version"], table.version());
    assert_eq!(summary["files"], table.snapshot().files().len());
    let ours = table.scan().build().unwrap().collect().await.unwrap();
    let schema = table.snapshot().arrow_schema();
    assert_eq!(
        render_sorted_rows(&ours, schema).unwrap(),
        render_sorted_rows(&read_expected_rows(&out), schema).unwrap(),
        "rows of {}",
        location.display()
    );
}

#[tokio::test]
async fn the_reference_reads_what_we_write() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for partitions in [vec![], vec!["day"], vec!["day", "score"]] {
        let location = dir.path().join(format!("t{}", partitions.len()));
        let loc = location.to_str().unwrap();
        DeltaTable::write(loc)
            .with_batches(vec![sample(19_000, 0..50)])
            .with_partition_columns(partitions.clone())
            .await
            .unwrap();
        DeltaTable::write(loc)
            .with_batches(vec![sample(19_001, 50..80), sample(19_002, 80..90)])
            .await
            .unwrap();
        compare_with_reference(&python, &location).await;
        DeltaTable::write(loc)
            .with_batches(vec![sample(19_003, 100..120)])
            .with_mode(SaveMode::Overwrite)
            .await
            .unwrap();
        compare_with_reference(&python, &location).await;
    }
}

/// Write with the reference writer: appends, an overwrite, a partitioned table and a checkpoint.
const WRITE_WITH_REFERENCE: &str = r#"
import sys, datetime, decimal, pyarrow as pa, deltalake
base = sys.argv[1]
def batch(start, n):
    return pa.table({
        "id": pa.array(range(start, start + n), pa.int64()),
        "text": pa.array([None if i % 7 == 0 else f"t{i}" for i in range(start, start + n)]),
        "amount": pa.array([decimal.Decimal(i) / 100 for i in range(start, start + n)], pa.decimal128(10, 2)),
        "day": pa.array([datetime.date(2024, 1, 1 + i % 3) for i in range(start, start + n)]),
        "ts": pa.array([datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=i) for i in range(start, start + n)], pa.timestamp("us", "UTC")),
        "flag": pa.array([i % 2 == 0 for i in range(start, start + n)]),
    })
deltalake.write_deltalake(base + "/plain", batch(0, 30))
for k in range(1, 12):
    deltalake.write_deltalake(base + "/plain", batch(k * 30, 30), mode="append")
deltalake.DeltaTable(base + "/plain").create_checkpoint()
deltalake.write_deltalake(base + "/plain", batch(1000, 5), mode="append")
deltalake.write_deltalake(base + "/parts", batch(0, 40), partition_by=["day", "flag"])
deltalake.write_deltalake(base + "/parts", batch(40, 40), mode="overwrite", partition_by=["day", "flag"])
"#;

#[tokio::test]
async fn we_read_what_the_reference_writes() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    run_python(&python, WRITE_WITH_REFERENCE, &[dir.path().to_str().unwrap()]);
    assert!(
        dir.path()
            .join("plain/_delta_log/00000000000000000011.checkpoint.parquet")
            .exists()
    );
    for name in ["plain", "parts"] {
        compare_with_reference(&python, &dir.path().join(name)).await;
    }
}

#[tokio::test]
async fn the_reference_reads_what_our_operations_commit() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();

    // Convert: Hive directories with an escaped value and a null partition.
    let converted = dir.path().join("converted");
    for (directory, days) in [("kind=a%3Ab", 0..10), ("kind=__HIVE_DEFAULT_PARTITION__", 10..20)] {
        let path = converted.join(directory).join("part-0.parquet");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let batch = sample(19_000, days).project(&[0, 1, 2, 4]).unwrap();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }
    use deltalake::protocol::{DataType, PrimitiveType, StructField};
    DeltaTable::convert_to_delta(converted.to_str().unwrap())
        .with_partition_columns(vec![StructField::new(
            "kind",
            DataType::Primitive(PrimitiveType::String),
            true,
        )])
        .await
        .unwrap();
    compare_with_reference(&python, &converted).await;

    // Restore across an overwrite, then a file-system check after a file is lost.
    let restored = dir.path().join("restored");
    let loc = restored.to_str().unwrap();
    DeltaTable::write(loc)
        .with_batches(vec![sample(19_000, 0..10)])
        .with_partition_columns(["day"])
        .await
        .unwrap();
    DeltaTable::write(loc)
        .with_batches(vec![sample(19_001, 10..20)])
        .await
        .unwrap();
    let table = DeltaTable::write(loc)
        .with_batches(vec![sample(19_002, 20..30)])
        .with_mode(SaveMode::Overwrite)
        .await
        .unwrap();
    let (table, _) = table.restore().to_version(1).await.unwrap();
    compare_with_reference(&python, &restored).await;
    let lost = table.snapshot().files().iter().next().unwrap().path().to_string();
    std::fs::remove_file(
        restored.join(
            percent_encoding::percent_decode_str(&lost)
                .decode_utf8()
                .unwrap()
                .as_ref(),
        ),
    )
    .unwrap();
    table.filesystem_check().await.unwrap();
    compare_with_reference(&python, &restored).await;
}

#[tokio::test]
async fn the_reference_reads_what_our_deletes_and_updates_commit() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for partitions in [vec![], vec!["day"]] {
        let location = dir.path().join(format!("dml{}", partitions.len()));
        let loc = location.to_str().unwrap();
        DeltaTable::write(loc)
            .with_batches(vec![sample(19_000, 0..40), sample(19_001, 40..60)])
            .with_partition_columns(partitions.clone())
            .with_configuration([("delta.enableChangeDataFeed".to_string(), "true".to_string())].into())
            .await
            .unwrap();
        let table = DeltaTable::open(loc).await.unwrap();
        let (table, _) = table
            .delete()
            .with_predicate("id % 4 = 1 OR day = '2022-01-08'")
            .await
            .unwrap();
        compare_with_reference(&python, &location).await;
        let (_, metrics) = table
            .update()
            .with_predicate("score IS NULL")
            .with_update("name", "'updated'")
            .with_update("score", "-1")
            .await
            .unwrap();
        assert!(metrics.num_updated_rows > 0);
        compare_with_reference(&python, &location).await;
    }
}

#[tokio::test]
async fn the_reference_reads_what_our_optimize_commits() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for partitions in [vec![], vec!["day"]] {
        let location = dir.path().join(format!("optimize{}", partitions.len()));
        let loc = location.to_str().unwrap();
        for (i, day) in (0..6).zip([19_000, 19_001].into_iter().cycle()) {
            DeltaTable::write(loc)
                .with_batches(vec![sample(day, i * 10..(i + 1) * 10)])
                .with_partition_columns(partitions.clone())
                .with_mode(SaveMode::Append)
                .await
                .unwrap();
        }
        let table = DeltaTable::open(loc).await.unwrap();
        let (table, metrics) = table.optimize().await.unwrap();
        assert_eq!(metrics.num_files_removed, 6);
        compare_with_reference(&python, &location).await;
        let (_, metrics) = table
            .optimize()
            .with_type(deltalake::operations::optimize::OptimizeType::ZOrder(vec![
                "score".into(),
                "name".into(),
            ]))
            .await
            .unwrap();
        assert_eq!(metrics.num_files_added, partitions.len() + 1);
        compare_with_reference(&python, &location).await;
    }
}

#[tokio::test]
async fn the_reference_reads_our_clustered_tables() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("clustered");
    let loc = location.to_str().unwrap();
    let schema = deltalake::protocol::StructType::try_from_arrow(&sample(0, 0..1).schema()).unwrap();
    let table = DeltaTable::create(loc)
        .with_schema(schema)
        .with_clustering_columns(["score", "name"])
        .await
        .unwrap();
    assert!(table.snapshot().protocol().has_writer_feature("clustering"));
    for i in 0..4 {
        DeltaTable::write(loc)
            .with_batches(vec![sample(19_000 + i as i32, i * 10..(i + 1) * 10)])
            .with_mode(SaveMode::Append)
            .await
            .unwrap();
    }
    compare_with_reference(&python, &location).await;
    let table = DeltaTable::open(loc).await.unwrap();
    let (table, metrics) = table.optimize().await.unwrap();
    assert_eq!(metrics.num_files_removed, 4);
    compare_with_reference(&python, &location).await;
    DeltaTable::write(loc)
        .with_batches(vec![sample(19_010, 40..60)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let (_, metrics) = DeltaTable::open(loc).await.unwrap().optimize().await.unwrap();
    assert_eq!(metrics.num_files_removed, table.snapshot().files().len() + 1);
    compare_with_reference(&python, &location).await;
}

/// Delete the commits of versions up to `version`: only our checkpoint of `version` covers them.
fn drop_commits_through(location: &Path, version: i64) {
    for v in 0..=version {
        std::fs::remove_file(location.join(format!("_delta_log/{v:020}.json"))).unwrap();
    }
}

#[tokio::test]
async fn the_reference_reads_tables_from_our_checkpoints() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let struct_stats: std::collections::HashMap<String, String> = [
        ("delta.checkpoint.writeStatsAsStruct", "true"),
        ("delta.checkpoint.writeStatsAsJson", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (name, partitions, configuration) in [
        ("plain", vec![], Default::default()),
        ("parts", vec!["day"], Default::default()),
        ("struct-stats", vec!["day", "score"], struct_stats),
    ] {
        let location = dir.path().join(name);
        let loc = location.to_str().unwrap();
        DeltaTable::write(loc)
            .with_batches(vec![sample(19_000, 0..50)])
            .with_partition_columns(partitions.clone())
            .with_configuration(configuration)
            .await
            .unwrap();
        DeltaTable::write(loc)
            .with_batches(vec![sample(19_001, 50..80)])
            .await
            .unwrap();
        // An overwrite leaves tombstones, which the checkpoint keeps.
        let table = DeltaTable::write(loc)
            .with_batches(vec![sample(19_002, 80..90), sample(19_003, 90..120)])
            .with_mode(SaveMode::Overwrite)
            .await
            .unwrap();
        assert!(!table.snapshot().tombstones().is_empty());
        table.create_checkpoint().await.unwrap();
        drop_commits_through(&location, table.version());
        compare_with_reference(&python, &location).await;
        // A checkpoint followed by a commit.
        DeltaTable::write(loc)
            .with_batches(vec![sample(19_004, 200..210)])
            .await
            .unwrap();
        compare_with_reference(&python, &location).await;
    }
    // Shared tables from our checkpoint alone. (The reference refuses to scan tables with deletion
    // vectors or V2 checkpoints, and reads column-mapped data columns as nulls even from its own log.)
    for name in [
        "delta-0.8.0-partitioned",
        "delta-2.2.0-partitioned-types",
        "simple_table_with_checkpoint",
    ] {
        let location = dir.path().join(name);
        common::copy_table(name, &location);
        let table = DeltaTable::open(location.to_str().unwrap()).await.unwrap();
        for entry in std::fs::read_dir(location.join("_delta_log")).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
        table.create_checkpoint().await.unwrap();
        compare_with_reference(&python, &location).await;
    }
}

#[tokio::test]
async fn the_reference_reads_tables_with_our_log_compactions() {
    let Some(python) = reference_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("compacted");
    let loc = location.to_str().unwrap();
    DeltaTable::write(loc)
        .with_batches(vec![sample(19_000, 0..50)])
        .with_partition_columns(vec!["day"])
        .await
        .unwrap();
    for (day, ids) in [(19_001, 50..80), (19_002, 80..90)] {
        DeltaTable::write(loc)
            .with_batches(vec![sample(day, ids)])
            .await
            .unwrap();
    }
    let table = DeltaTable::write(loc)
        .with_batches(vec![sample(19_003, 90..120)])
        .with_mode(SaveMode::Overwrite)
        .await
        .unwrap();
    let table = table
        .alter()
        .set_properties([("delta.logRetentionDuration".to_string(), "interval 2 days".to_string())].into())
        .await
        .unwrap();
    let end = table.version();
    table.compact_logs(1, end).await.unwrap();
    let file = location.join(format!("_delta_log/{:020}.{end:020}.compacted.json", 1));
    let ours = compaction_summary(&std::fs::read_to_string(&file).unwrap());
    for kind in ["add", "remove", "metaData"] {
        assert!(ours.iter().any(|a| a.starts_with(kind)), "{kind} in {ours:?}");
    }
    compare_with_reference(&python, &location).await;
    // The reference's compaction of the same commits holds the same actions.
    std::fs::remove_file(&file).unwrap();
    run_python(
        &python,
        "import sys, deltalake\ndeltalake.DeltaTable(sys.argv[1]).compact_logs(1, int(sys.argv[2]))",
        &[loc, &end.to_string()],
    );
    assert_eq!(ours, compaction_summary(&std::fs::read_to_string(&file).unwrap()));
}

/// The actions of a log compaction by what identifies them, sorted.
fn compaction_summary(body: &str) -> Vec<String> {
    let mut out: Vec<String> = body
        .lines()
        .map(|line| {
            let action: serde_json::Value = serde_json::from_str(line).unwrap();
            let (kind, value) = action.as_object().unwrap().iter().next().unwrap();
            match kind.as_str() {
                "add" | "remove" => format!("{kind} {} {}", value["path"], value["deletionVector"]),
                "txn" => format!("txn {} {}", value["appId"], value["version"]),
                "metaData" => format!("metaData {} {}", value["id"], value["configuration"]),
                "protocol" => format!("protocol {value}"),
                other => other.to_string(),
            }
        })
        .collect();
    out.sort();
    out
}

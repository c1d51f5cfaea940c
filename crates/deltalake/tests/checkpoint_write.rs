//! Writing checkpoints: our checkpoint alone rebuilds the snapshot it was written from (classic and
//! V2 with sidecars), tombstones expire by retention, statistics as structs are typed by the table
//! schema, and commits checkpoint automatically at `delta.checkpointInterval`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::compute::{concat_batches, sort_to_indices, take_record_batch};
use arrow::datatypes::{DataType as ArrowType, Int64Type, SchemaRef, TimeUnit};
use common::{copy_table, tables_dir};
use deltalake::protocol::{Action, Remove};
use deltalake::table::{CheckpointOptions, LastCheckpoint};
use deltalake::transaction::{CommitBuilder, CommitProperties, Operation};
use deltalake::{DeltaTable, Snapshot};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Remove every file of `_delta_log` (commits, checkpoints, sidecars, hints).
fn clear_log(dir: &Path) {
    let log = dir.join("_delta_log");
    std::fs::remove_dir_all(&log).unwrap();
    std::fs::create_dir_all(&log).unwrap();
}

fn log_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `batches` as one batch sorted by the first column (the path).
fn sorted(batches: &[RecordBatch], schema: &SchemaRef) -> RecordBatch {
    let all = concat_batches(schema, batches).unwrap();
    let order = sort_to_indices(all.column(0), None, None).unwrap();
    take_record_batch(&all, &order).unwrap()
}

fn files_of(s: &Snapshot) -> RecordBatch {
    sorted(s.files().batches(), &deltalake::snapshot::ADD_SCHEMA)
}

/// Everything a checkpoint must preserve is the same in both snapshots. Statistics written only as
/// a struct (`writeStatsAsJson=false`) come back re-serialised: their row counts must match.
fn assert_same_state(name: &str, ours: &Snapshot, original: &Snapshot) {
    assert_eq!(ours.version(), original.version(), "{name}");
    assert_eq!(ours.protocol(), original.protocol(), "{name}");
    assert_eq!(ours.metadata(), original.metadata(), "{name}");
    assert_eq!(ours.txns(), original.txns(), "{name}");
    assert_eq!(ours.domain_metadata(), original.domain_metadata(), "{name}");
    let (a, b) = (files_of(ours), files_of(original));
    let stats_as_json = original
        .properties()
        .get("delta.checkpoint.writeStatsAsJson")
        .is_none_or(|v| v != "false");
    if stats_as_json {
        assert_eq!(a, b, "{name}: files");
        return;
    }
    let stats = a.schema().index_of("stats").unwrap();
    for i in 0..a.num_columns() {
        if i != stats {
            assert_eq!(a.column(i), b.column(i), "{name}: column {i}");
        }
    }
    let records = |batch: &RecordBatch| -> Vec<Option<i64>> {
        let s = batch.column(stats).as_string::<i32>();
        (0..s.len())
            .map(|row| {
                s.is_valid(row)
                    .then(|| serde_json::from_str::<serde_json::Value>(s.value(row)).unwrap()["numRecords"].as_i64())
                    .flatten()
            })
            .collect()
    };
    assert_eq!(records(&a), records(&b), "{name}: numRecords");
}

/// Open `dir`, replace its whole log by our checkpoint of the latest version, reopen.
async fn round_trip(dir: &Path, options: &CheckpointOptions) -> (Snapshot, Snapshot, LastCheckpoint) {
    let table = DeltaTable::open(dir.to_str().unwrap()).await.unwrap();
    let original = table.snapshot().as_ref().clone();
    clear_log(dir);
    let hint = table.create_checkpoint_with(options).await.unwrap();
    let reloaded = DeltaTable::open(dir.to_str().unwrap()).await.unwrap();
    (reloaded.snapshot().as_ref().clone(), original, hint)
}

#[tokio::test]
async fn our_checkpoint_alone_rebuilds_every_shared_table() {
    let mut checked = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(tables_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let dir = tempfile::tempdir().unwrap();
        copy_table(&name, dir.path());
        // Tables we cannot read (unsupported features) have nothing to checkpoint.
        if DeltaTable::open(dir.path().to_str().unwrap()).await.is_err() {
            continue;
        }
        let (ours, original, hint) = round_trip(dir.path(), &CheckpointOptions::default()).await;
        assert_same_state(&name, &ours, &original);
        assert_eq!(hint.num_of_add_files, Some(original.files().len() as i64), "{name}");
        checked.push(name);
    }
    for must in [
        "checkpoint-v2-table",
        "delta-0.8.0-partitioned",
        "delta-1.2.1-only-struct-stats",
        "table-with-domain-metadata",
        "table-with-dv-small",
        "table_with_column_mapping",
        "table_with_deletion_logs",
    ] {
        assert!(checked.iter().any(|c| c == must), "{must} not checked: {checked:?}");
    }
}

#[tokio::test]
async fn v2_checkpoints_put_file_actions_in_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    copy_table("checkpoint-v2-table", dir.path());
    let options = CheckpointOptions { actions_per_sidecar: 3 };
    let (ours, original, hint) = round_trip(dir.path(), &options).await;
    assert_same_state("checkpoint-v2-table", &ours, &original);

    let names = log_names(dir.path());
    let top: Vec<_> = names.iter().filter(|n| n.contains(".checkpoint.")).collect();
    assert_eq!(top.len(), 1, "{names:?}");
    assert!(top[0].starts_with("00000000000000000009.checkpoint.") && top[0].len() == 20 + 12 + 36 + 8);
    let sidecars: Vec<_> = std::fs::read_dir(dir.path().join("_delta_log/_sidecars"))
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    // 8 files, 3 actions per sidecar (the old tombstones have expired).
    assert_eq!(original.files().len(), 8);
    assert_eq!(sidecars.len(), 3);
    let sidecar_bytes: u64 = sidecars.iter().map(|e| e.metadata().unwrap().len()).sum();
    let top_bytes = std::fs::metadata(dir.path().join("_delta_log").join(top[0]))
        .unwrap()
        .len();
    assert_eq!(hint.size_in_bytes, Some((sidecar_bytes + top_bytes) as i64));

    // The top-level file holds checkpointMetadata, protocol, metaData and one sidecar action per file.
    let top = read_parquet(&dir.path().join("_delta_log").join(top[0]));
    let present =
        |column: &str| top.column_by_name(column).unwrap().len() - top.column_by_name(column).unwrap().null_count();
    assert_eq!(present("checkpointMetadata"), 1);
    assert_eq!(present("sidecar"), 3);
    assert_eq!(present("add"), 0);
    assert_eq!(hint.size, Some(top.num_rows() as i64 + 8));
    let hint_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("_delta_log/_last_checkpoint")).unwrap()).unwrap();
    assert_eq!(hint_file["version"], 9);
    assert_eq!(hint_file["numOfAddFiles"], 8);
}

fn read_parquet(path: &Path) -> RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = reader.schema().clone();
    let batches: Vec<_> = reader.build().unwrap().map(Result::unwrap).collect();
    concat_batches(&schema, &batches).unwrap()
}

fn sample(ids: std::ops::Range<i64>, day: i32) -> RecordBatch {
    let n = (ids.end - ids.start) as usize;
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from_iter(
                ids.clone().map(|i| (i % 4 != 0).then(|| format!("n{i}"))),
            )) as _,
        ),
        (
            "amount",
            Arc::new(
                Decimal128Array::from_iter_values(ids.clone().map(|i| i as i128 * 25))
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ) as _,
        ),
        (
            "ts",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(ids.map(|i| 1_700_000_000_000_000 + i))
                    .with_timezone("UTC"),
            ) as _,
        ),
        ("day", Arc::new(Date32Array::from(vec![day; n])) as _),
    ])
    .unwrap()
}

async fn write(dir: &Path, batch: RecordBatch, configuration: &[(&str, &str)]) -> DeltaTable {
    DeltaTable::write(dir.to_str().unwrap())
        .with_batches(vec![batch])
        .with_partition_columns(["day"])
        .with_configuration(
            configuration
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .await
        .unwrap()
}

fn tombstone(path: &str, deleted_ms_ago: i64) -> Action {
    Action::Remove(Remove {
        path: path.to_string(),
        deletion_timestamp: Some(chrono::Utc::now().timestamp_millis() - deleted_ms_ago),
        data_change: true,
        extended_file_metadata: None,
        partition_values: None,
        size: None,
        stats: None,
        tags: None,
        deletion_vector: None,
        base_row_id: None,
        default_row_commit_version: None,
    })
}

fn tombstone_paths(s: &Snapshot) -> Vec<String> {
    let mut paths: Vec<String> = s.tombstones().iter().map(|t| t.path().to_string()).collect();
    paths.sort();
    paths
}

#[tokio::test]
async fn tombstones_are_kept_until_the_deleted_file_retention_expires() {
    const DAY: i64 = 24 * 3600 * 1000;
    for (retention, expected_kept) in [(None, 1), (Some("interval 10 days"), 2)] {
        let dir = tempfile::tempdir().unwrap();
        let mut configuration = vec![];
        if let Some(r) = retention {
            configuration.push(("delta.deletedFileRetentionDuration", r));
        }
        let mut table = write(dir.path(), sample(0..10, 1), &configuration).await;
        for day in 2..=4 {
            table = write(dir.path(), sample(day * 10..day * 10 + 10, day as i32), &[]).await;
        }
        let mut paths: Vec<String> = table.snapshot().files().iter().map(|f| f.path().to_string()).collect();
        paths.sort();
        // One removed 8 days ago, one an hour ago; a third removed, then added back.
        let removes = [
            tombstone(&paths[0], 8 * DAY),
            tombstone(&paths[1], 3600 * 1000),
            tombstone(&paths[2], 1000),
        ];
        CommitBuilder::new(Operation::new("DELETE", Default::default()))
            .with_actions(removes)
            .commit(table.log_store().as_ref(), Some(table.snapshot()))
            .await
            .unwrap();
        table.refresh().await.unwrap();
        let readd = table
            .commits_after(0)
            .await
            .unwrap()
            .into_iter()
            .flat_map(|c| c.actions)
            .find(|a| matches!(a, Action::Add(add) if add.path == paths[2]))
            .unwrap();
        CommitBuilder::new(Operation::new("WRITE", Default::default()))
            .with_actions([readd])
            .commit(table.log_store().as_ref(), Some(table.snapshot()))
            .await
            .unwrap();
        table.refresh().await.unwrap();
        assert_eq!(tombstone_paths(table.snapshot()), paths[..2].to_vec());

        table.create_checkpoint().await.unwrap();
        let version = table.version();
        for v in 0..=version {
            std::fs::remove_file(dir.path().join(format!("_delta_log/{v:020}.json"))).unwrap();
        }
        let reloaded = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
        let kept = tombstone_paths(reloaded.snapshot());
        assert_eq!(kept, paths[2 - expected_kept..2].to_vec(), "retention {retention:?}");
        assert_eq!(reloaded.snapshot().files().len(), 2);
    }
}

#[tokio::test]
async fn statistics_as_struct_are_typed_by_the_table_schema() {
    let dir = tempfile::tempdir().unwrap();
    let config = [
        ("delta.checkpoint.writeStatsAsStruct", "true"),
        ("delta.checkpoint.writeStatsAsJson", "false"),
    ];
    write(dir.path(), sample(0..10, 19_000), &config).await;
    let table = write(dir.path(), sample(10..30, 19_001), &[]).await;
    let hint = table.create_checkpoint().await.unwrap();
    assert_eq!((hint.version, hint.num_of_add_files), (1, Some(2)));

    let cp = read_parquet(&dir.path().join("_delta_log/00000000000000000001.checkpoint.parquet"));
    let add = cp.column_by_name("add").unwrap().as_struct();
    assert!(add.column_by_name("stats").is_none());
    let parsed = add.column_by_name("stats_parsed").unwrap().as_struct();
    let min = parsed.column_by_name("minValues").unwrap().as_struct();
    let ts_type = ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    assert_eq!(min.column_by_name("id").unwrap().data_type(), &ArrowType::Int64);
    assert_eq!(
        min.column_by_name("amount").unwrap().data_type(),
        &ArrowType::Decimal128(10, 2)
    );
    assert_eq!(min.column_by_name("ts").unwrap().data_type(), &ts_type);
    assert!(
        min.column_by_name("day").is_none(),
        "partition columns have no statistics"
    );
    let nulls = parsed.column_by_name("nullCount").unwrap().as_struct();
    assert_eq!(nulls.column_by_name("name").unwrap().data_type(), &ArrowType::Int64);
    let pv = add.column_by_name("partitionValues_parsed").unwrap().as_struct();
    assert_eq!(pv.column_by_name("day").unwrap().data_type(), &ArrowType::Date32);

    // Row by row: the rows holding an add, ordered by their minimum id.
    let rows: Vec<usize> = (0..add.len()).filter(|r| add.is_valid(*r)).collect();
    let mut by_id: Vec<(i64, i64, i64, i32)> = rows
        .iter()
        .map(|r| {
            (
                min.column_by_name("id").unwrap().as_primitive::<Int64Type>().value(*r),
                parsed
                    .column_by_name("numRecords")
                    .unwrap()
                    .as_primitive::<Int64Type>()
                    .value(*r),
                nulls
                    .column_by_name("name")
                    .unwrap()
                    .as_primitive::<Int64Type>()
                    .value(*r),
                pv.column(0).as_primitive::<arrow::datatypes::Date32Type>().value(*r),
            )
        })
        .collect();
    by_id.sort();
    assert_eq!(by_id, [(0, 10, 3, 19_000), (10, 20, 5, 19_001)]);
    let ts = min
        .column_by_name("ts")
        .unwrap()
        .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
    assert!(rows.iter().any(|r| ts.value(*r) == 1_700_000_000_000_000));

    // Read back from the checkpoint alone, the statistics are rebuilt from the struct.
    for v in 0..=1 {
        std::fs::remove_file(dir.path().join(format!("_delta_log/{v:020}.json"))).unwrap();
    }
    let reloaded = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut records: Vec<i64> = reloaded
        .snapshot()
        .files()
        .iter()
        .map(|f| {
            serde_json::from_str::<serde_json::Value>(f.stats().unwrap()).unwrap()["numRecords"]
                .as_i64()
                .unwrap()
        })
        .collect();
    records.sort();
    assert_eq!(records, [10, 20]);
    let rows: usize = reloaded
        .scan()
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap()
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 30);
}

async fn empty_commit(table: &mut DeltaTable, properties: CommitProperties) -> (i64, bool) {
    let result = CommitBuilder::new(Operation::new("WRITE", Default::default()))
        .with_properties(properties)
        .commit(table.log_store().as_ref(), Some(table.snapshot()))
        .await
        .unwrap();
    table.refresh().await.unwrap();
    (result.version, result.checkpointed)
}

#[tokio::test]
async fn commits_checkpoint_at_the_interval_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut table = write(dir.path(), sample(0..3, 1), &[("delta.checkpointInterval", "3")]).await;
    for v in 1..=5 {
        table = write(dir.path(), sample(v * 3..v * 3 + 3, 1), &[]).await;
    }
    assert_eq!(empty_commit(&mut table, CommitProperties::default()).await, (6, true));
    assert_eq!(empty_commit(&mut table, CommitProperties::default()).await, (7, false));
    assert_eq!(empty_commit(&mut table, CommitProperties::default()).await, (8, false));
    let off = CommitProperties {
        auto_checkpoint: false,
        ..Default::default()
    };
    assert_eq!(empty_commit(&mut table, off).await, (9, false));
    let checkpoints: Vec<_> = log_names(dir.path())
        .into_iter()
        .filter(|n| n.contains("checkpoint.parquet"))
        .collect();
    assert_eq!(
        checkpoints,
        [
            "00000000000000000003.checkpoint.parquet",
            "00000000000000000006.checkpoint.parquet"
        ]
    );
    let hint: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.path().join("_delta_log/_last_checkpoint")).unwrap()).unwrap();
    assert_eq!(hint["version"], 6);
    assert_eq!(hint["numOfAddFiles"], 6);
    assert_eq!(hint["size"], 8, "protocol, metadata and 6 adds");
}

#[tokio::test]
async fn a_failed_checkpoint_does_not_fail_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut table = write(dir.path(), sample(0..3, 1), &[("delta.checkpointInterval", "1")]).await;
    // A directory where the checkpoint of version 1 goes: it cannot be written.
    std::fs::create_dir_all(dir.path().join("_delta_log/00000000000000000001.checkpoint.parquet/x")).unwrap();
    assert_eq!(empty_commit(&mut table, CommitProperties::default()).await, (1, false));
    assert!(!dir.path().join("_delta_log/_last_checkpoint").exists());
    assert_eq!(empty_commit(&mut table, CommitProperties::default()).await, (2, true));
    let reopened = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    assert_eq!((reopened.version(), reopened.snapshot().files().len()), (2, 1));
}

#[tokio::test]
async fn last_checkpoint_never_moves_back() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), sample(0..3, 1), &[]).await;
    let table = write(dir.path(), sample(3..6, 1), &[]).await;
    let hint_path = dir.path().join("_delta_log/_last_checkpoint");
    // A concurrent writer already checkpointed a newer version: the hint keeps pointing there.
    let newer = r#"{"version":50,"size":3}"#;
    std::fs::write(&hint_path, newer).unwrap();
    let ours = table.create_checkpoint().await.unwrap();
    assert_eq!(ours.version, 1);
    assert!(
        dir.path()
            .join("_delta_log/00000000000000000001.checkpoint.parquet")
            .exists()
    );
    assert_eq!(std::fs::read_to_string(&hint_path).unwrap(), newer);
    // An older (or unreadable) hint is replaced.
    for stale in [r#"{"version":0,"size":2}"#, "not json"] {
        std::fs::write(&hint_path, stale).unwrap();
        table.create_checkpoint().await.unwrap();
        let hint: LastCheckpoint = serde_json::from_slice(&std::fs::read(&hint_path).unwrap()).unwrap();
        assert_eq!(hint, ours);
    }
}

fn synthetic_add(i: usize) -> Action {
    Action::Add(deltalake::protocol::Add {
        path: format!("day={}/part-{i:06}.parquet", i % 30),
        partition_values: HashMap::from([("day".to_string(), Some(format!("2024-01-{:02}", i % 30 + 1)))]),
        size: 1000 + i as i64,
        modification_time: 1_700_000_000_000,
        data_change: true,
        stats: Some(format!(
            r#"{{"numRecords":{i},"minValues":{{"id":{i},"name":"a{i}"}},"maxValues":{{"id":{},"name":"z{i}"}},"nullCount":{{"id":0,"name":1}}}}"#,
            i + 10
        )),
        tags: None,
        deletion_vector: None,
        base_row_id: None,
        default_row_commit_version: None,
        clustering_provider: None,
    })
}

/// 10,000 files: the checkpoint is written from the columnar file list in well under a second
/// (about 0.2 s allowed in release builds; debug builds get more room).
#[tokio::test]
async fn ten_thousand_files_checkpoint_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let table = DeltaTable::create(dir.path().to_str().unwrap())
        .with_schema(
            deltalake::protocol::StructType::try_from_arrow(&arrow::datatypes::Schema::new(vec![
                arrow::datatypes::Field::new("id", ArrowType::Int64, true),
                arrow::datatypes::Field::new("name", ArrowType::Utf8, true),
                arrow::datatypes::Field::new("day", ArrowType::Date32, true),
            ]))
            .unwrap(),
        )
        .with_partition_columns(["day"])
        .with_property("delta.checkpoint.writeStatsAsStruct", "true")
        .await
        .unwrap();
    CommitBuilder::new(Operation::new("WRITE", Default::default()))
        .with_actions((0..10_000).map(synthetic_add))
        .commit(table.log_store().as_ref(), Some(table.snapshot()))
        .await
        .unwrap();
    let table = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    let started = std::time::Instant::now();
    let hint = table.create_checkpoint().await.unwrap();
    let elapsed = started.elapsed();
    eprintln!("checkpoint of 10,000 files: {elapsed:?}");
    let limit = if cfg!(debug_assertions) { 5.0 } else { 0.2 };
    assert!(elapsed.as_secs_f64() < limit, "{elapsed:?}");
    assert_eq!(hint.num_of_add_files, Some(10_000));
    for v in 0..=1 {
        std::fs::remove_file(dir.path().join(format!("_delta_log/{v:020}.json"))).unwrap();
    }
    let reloaded = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    assert_same_state("synthetic", reloaded.snapshot(), table.snapshot());
}

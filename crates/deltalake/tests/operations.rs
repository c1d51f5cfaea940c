//! Table maintenance operations: restore, file-system check, convert to Delta and vacuum.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int32Array, Int64Array, RecordBatch};
use arrow::datatypes::{Int32Type, Int64Type};
use deltalake::DeltaTable;
use deltalake::operations::write::{SaveMode, SchemaMode};

fn ids(range: std::ops::Range<i64>) -> RecordBatch {
    RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from_iter_values(range)) as ArrayRef)]).unwrap()
}

async fn sorted_ids(table: &DeltaTable) -> Vec<i64> {
    let batches = table
        .scan()
        .with_columns(["id"])
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut out: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn restore_brings_back_the_files_and_schema_of_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    DeltaTable::write(location)
        .with_batches(vec![ids(0..10)])
        .await
        .unwrap();
    DeltaTable::write(location)
        .with_batches(vec![ids(10..20)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let extra = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![100, 101])) as ArrayRef),
        ("v", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef),
    ])
    .unwrap();
    let table = DeltaTable::write(location)
        .with_batches(vec![extra])
        .with_mode(SaveMode::Overwrite)
        .with_schema_mode(SchemaMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(table.version(), 2);

    let (restored, metrics) = table.restore().to_version(1).await.unwrap();
    assert_eq!(restored.version(), 3);
    assert_eq!(sorted_ids(&restored).await, (0..20).collect::<Vec<_>>());
    assert_eq!(
        restored
            .snapshot()
            .schema()
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["id"]
    );
    assert_eq!((metrics.num_restored_files, metrics.num_removed_files), (2, 1));
    assert_eq!(metrics.num_of_files_after_restore, 2);

    // What a fresh reader sees, and what the log says.
    let reopened = DeltaTable::open(location).await.unwrap();
    assert_eq!(sorted_ids(&reopened).await, (0..20).collect::<Vec<_>>());
    let history = reopened.history(Some(1)).await.unwrap();
    let info = &history[0].1;
    assert_eq!(info.operation.as_deref(), Some("RESTORE"));
    assert_eq!(info.operation_parameters.as_ref().unwrap()["version"], 1);
    assert_eq!(info.operation_metrics.as_ref().unwrap()["numRestoredFiles"], 2);

    // Restoring to the very first version, and back to the overwrite.
    let (restored, _) = reopened.restore().to_version(0).await.unwrap();
    assert_eq!(sorted_ids(&restored).await, (0..10).collect::<Vec<_>>());
    let (restored, _) = restored.restore().to_version(2).await.unwrap();
    assert_eq!(sorted_ids(&restored).await, vec![100, 101]);
    let v: Vec<i32> = restored
        .scan()
        .with_columns(["v"])
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap()
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
        .collect();
    assert_eq!(v.len(), 2);
}

#[tokio::test]
async fn restore_by_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    DeltaTable::write(location).with_batches(vec![ids(0..3)]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let table = DeltaTable::write(location)
        .with_batches(vec![ids(3..6)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let (restored, _) = table.restore().to_timestamp(between).await.unwrap();
    assert_eq!(sorted_ids(&restored).await, vec![0, 1, 2]);
}

#[tokio::test]
async fn bad_restores_commit_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    DeltaTable::write(location).with_batches(vec![ids(0..3)]).await.unwrap();
    let table = DeltaTable::write(location)
        .with_batches(vec![ids(3..6)])
        .with_mode(SaveMode::Overwrite)
        .await
        .unwrap();

    for target in [1, 5] {
        let err = table.restore().to_version(target).await.unwrap_err();
        assert!(err.to_string().contains("restore goes back only"), "{err}");
    }
    assert!(table.restore().await.is_err());

    // The files of version 0 are vacuumed by hand: restoring them would point at nothing.
    let v0 = DeltaTable::builder(location).with_version(0).load().await.unwrap();
    for file in v0.snapshot().files().iter() {
        std::fs::remove_file(dir.path().join(file.path())).unwrap();
    }
    let err = table.restore().to_version(0).await.unwrap_err();
    assert!(err.to_string().contains("data files are gone"), "{err}");
    assert_eq!(DeltaTable::open(location).await.unwrap().version(), 1);

    let (restored, metrics) = table
        .restore()
        .to_version(0)
        .with_ignore_missing_files(true)
        .await
        .unwrap();
    assert_eq!(restored.version(), 2);
    assert_eq!(metrics.num_restored_files, 1);
}

#[tokio::test]
async fn restore_of_a_deletion_vector_table_keeps_rows_and_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("t");
    common::copy_table("table-with-dv-small", &location);
    let table = DeltaTable::open(location.to_str().unwrap()).await.unwrap();
    let protocol = table.snapshot().protocol().clone();
    let (restored, metrics) = table.restore().to_version(0).await.unwrap();
    assert_eq!(restored.version(), table.version() + 1);
    // Same path, another deletion vector: one (path, dv) pair goes, the other comes back.
    assert_eq!((metrics.num_removed_files, metrics.num_restored_files), (1, 1));
    let rows: usize = restored
        .scan()
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap()
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 10);
    assert_eq!(restored.snapshot().protocol(), &protocol);
}

#[tokio::test]
async fn filesystem_check_removes_files_that_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    DeltaTable::write(location).with_batches(vec![ids(0..3)]).await.unwrap();
    for range in [3..6, 6..9] {
        DeltaTable::write(location)
            .with_batches(vec![ids(range)])
            .with_mode(SaveMode::Append)
            .await
            .unwrap();
    }
    let table = DeltaTable::open(location).await.unwrap();
    let (table, metrics) = table.filesystem_check().await.unwrap();
    assert!(metrics.files_removed.is_empty());
    assert_eq!(table.version(), 2);

    let v1 = DeltaTable::builder(location).with_version(1).load().await.unwrap();
    let v0 = DeltaTable::builder(location).with_version(0).load().await.unwrap();
    let lost: Vec<String> = v1
        .snapshot()
        .files()
        .iter()
        .map(|f| f.path().to_string())
        .filter(|p| v0.snapshot().files().iter().all(|f| f.path() != p))
        .collect();
    std::fs::remove_file(dir.path().join(&lost[0])).unwrap();
    assert!(
        table.scan().build().unwrap().collect().await.is_err(),
        "the scan fails on the lost file"
    );

    let (same, metrics) = table.filesystem_check().with_dry_run(true).await.unwrap();
    assert_eq!(metrics.files_removed, lost);
    assert_eq!(
        (same.version(), DeltaTable::open(location).await.unwrap().version()),
        (2, 2)
    );

    let (repaired, metrics) = table.filesystem_check().await.unwrap();
    assert_eq!(metrics.files_removed, lost);
    assert_eq!(repaired.version(), 3);
    assert_eq!(sorted_ids(&repaired).await, vec![0, 1, 2, 6, 7, 8]);
    let history = repaired.history(Some(1)).await.unwrap();
    assert_eq!(history[0].1.operation.as_deref(), Some("FSCK"));
}

fn write_parquet(path: &std::path::Path, batch: &RecordBatch) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

fn id_value(ids: std::ops::Range<i64>) -> RecordBatch {
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef),
        (
            "value",
            Arc::new(Int32Array::from_iter_values(ids.map(|i| i as i32 * 10))) as ArrayRef,
        ),
    ])
    .unwrap()
}

#[tokio::test]
async fn convert_a_parquet_directory_in_place() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("part-0.parquet"), &id_value(0..5));
    write_parquet(&dir.path().join("sub/part-1.parquet"), &id_value(5..8));
    std::fs::write(dir.path().join("_SUCCESS"), b"").unwrap();
    std::fs::write(dir.path().join(".part-0.parquet.crc"), b"crc").unwrap();
    let location = dir.path().to_str().unwrap();

    let table = DeltaTable::convert_to_delta(location).await.unwrap();
    assert_eq!(table.version(), 0);
    assert_eq!(table.snapshot().files().len(), 2);
    assert_eq!(sorted_ids(&table).await, (0..8).collect::<Vec<_>>());
    let stats: Vec<serde_json::Value> = table
        .snapshot()
        .files()
        .iter()
        .map(|f| serde_json::from_str(f.stats().unwrap()).unwrap())
        .collect();
    assert_eq!(stats[0]["numRecords"], 5);
    assert_eq!(
        (
            stats[0]["minValues"]["id"].clone(),
            stats[0]["maxValues"]["value"].clone()
        ),
        (0.into(), 40.into())
    );
    assert_eq!(stats[1]["nullCount"]["value"], 0);
    let history = table.history(None).await.unwrap();
    assert_eq!(history[0].1.operation.as_deref(), Some("CONVERT"));

    // Converting twice is refused.
    let err = DeltaTable::convert_to_delta(location).await.unwrap_err();
    assert!(matches!(err, deltalake::DeltaError::TableExists { .. }), "{err}");
}

#[tokio::test]
async fn convert_hive_partitions_with_typed_values() {
    use deltalake::protocol::{DataType as DeltaType, PrimitiveType, StructField};
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("day=2021-01-01/kind=a%3Ab/p.parquet"), &id_value(0..2));
    write_parquet(&dir.path().join("day=2021-01-02/kind=c/p.parquet"), &id_value(2..3));
    write_parquet(
        &dir.path().join("day=__HIVE_DEFAULT_PARTITION__/kind=c/p.parquet"),
        &id_value(3..4),
    );
    let location = dir.path().to_str().unwrap();
    let partitions = vec![
        StructField::new("day", DeltaType::Primitive(PrimitiveType::Date), true),
        StructField::new("kind", DeltaType::Primitive(PrimitiveType::String), true),
    ];
    let table = DeltaTable::convert_to_delta(location)
        .with_partition_columns(partitions.clone())
        .await
        .unwrap();
    assert_eq!(table.snapshot().partition_columns(), ["day", "kind"]);
    let batches = table
        .scan()
        .with_columns(["id", "day", "kind"])
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut rows: Vec<String> = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            let cell = |c: usize| arrow::util::display::array_value_to_string(b.column(c), r).unwrap();
            rows.push(format!("{} {} {}", cell(0), cell(1), cell(2)));
        }
    }
    rows.sort();
    assert_eq!(rows, ["0 2021-01-01 a:b", "1 2021-01-01 a:b", "2 2021-01-02 c", "3  c"]);

    // Layouts that do not match the partition columns are refused, and nothing is committed.
    let bad = tempfile::tempdir().unwrap();
    write_parquet(&bad.path().join("day=yesterday/kind=c/p.parquet"), &id_value(0..1));
    let err = DeltaTable::convert_to_delta(bad.path().to_str().unwrap())
        .with_partition_columns(partitions.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("day=yesterday/kind=c/p.parquet"), "{err}");
    let err = DeltaTable::convert_to_delta(bad.path().to_str().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("partition directories"), "{err}");
    assert!(!bad.path().join("_delta_log").exists());

    let empty = tempfile::tempdir().unwrap();
    let err = DeltaTable::convert_to_delta(empty.path().to_str().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no Parquet files"), "{err}");

    let mixed = tempfile::tempdir().unwrap();
    write_parquet(&mixed.path().join("a.parquet"), &id_value(0..1));
    write_parquet(
        &mixed.path().join("b.parquet"),
        &ids(0..1)
            .project(&[])
            .map(|_| {
                RecordBatch::try_from_iter(vec![(
                    "id",
                    Arc::new(arrow::array::StringArray::from(vec!["x"])) as ArrayRef,
                )])
                .unwrap()
            })
            .unwrap(),
    );
    let err = DeltaTable::convert_to_delta(mixed.path().to_str().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("column 'id' is string here but long"), "{err}");
    std::fs::write(mixed.path().join("b.parquet"), b"not parquet at all").unwrap();
    let err = DeltaTable::convert_to_delta(mixed.path().to_str().unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("b.parquet") && err.to_string().contains("not a readable Parquet file"),
        "{err}"
    );
}

fn data_files(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "_delta_log" {
                    stack.push(path);
                }
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn vacuum_deletes_only_what_no_retained_version_needs() {
    use deltalake::operations::vacuum::VacuumMode;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    DeltaTable::write(location).with_batches(vec![ids(0..3)]).await.unwrap();
    let table = DeltaTable::write(location)
        .with_batches(vec![ids(3..6)])
        .with_mode(SaveMode::Overwrite)
        .await
        .unwrap();
    let active: Vec<String> = table.snapshot().files().iter().map(|f| f.path().to_string()).collect();
    let all_before = data_files(dir.path());
    assert_eq!(all_before.len(), 2);
    let removed: Vec<String> = all_before.iter().filter(|p| !active.contains(p)).cloned().collect();
    std::fs::write(dir.path().join("orphan.parquet"), b"never committed").unwrap();
    std::fs::write(dir.path().join(".hidden.crc"), b"x").unwrap();

    // The default retention (7 days) keeps the fresh tombstone; nothing is old enough.
    let (table, metrics) = table.vacuum().await.unwrap();
    assert!(metrics.files_deleted.is_empty(), "{metrics:?}");

    // A shorter retention than the table's is refused unless asked for.
    let err = table.vacuum().with_retention(Duration::ZERO).await.unwrap_err();
    assert!(err.to_string().contains("shorter than the table's"), "{err}");

    // Lite mode: only what the log removed.
    let (_, metrics) = table
        .vacuum()
        .with_retention(Duration::ZERO)
        .with_enforce_retention(false)
        .with_mode(VacuumMode::Lite)
        .with_dry_run(true)
        .await
        .unwrap();
    assert_eq!(metrics.files_deleted, removed);

    // Dry run of a full vacuum: the removed file and the orphan, nothing else, and nothing deleted yet.
    let (same, metrics) = table
        .vacuum()
        .with_retention(Duration::ZERO)
        .with_enforce_retention(false)
        .with_dry_run(true)
        .await
        .unwrap();
    let mut expected = removed.clone();
    expected.push("orphan.parquet".into());
    expected.sort();
    assert_eq!(metrics.files_deleted, expected);
    assert_eq!(same.version(), table.version());
    assert_eq!(data_files(dir.path()).len(), 4);

    let (vacuumed, metrics) = table
        .vacuum()
        .with_retention(Duration::ZERO)
        .with_enforce_retention(false)
        .await
        .unwrap();
    assert_eq!(metrics.files_deleted, expected);
    let mut left = active.clone();
    left.push(".hidden.crc".into());
    left.sort();
    assert_eq!(data_files(dir.path()), left);
    assert_eq!(sorted_ids(&vacuumed).await, vec![3, 4, 5]);
    let history = vacuumed.history(Some(2)).await.unwrap();
    assert_eq!(history[0].1.operation.as_deref(), Some("VACUUM END"));
    assert_eq!(history[1].1.operation.as_deref(), Some("VACUUM START"));
    assert_eq!(history[0].1.operation_metrics.as_ref().unwrap()["numDeletedFiles"], 2);
    assert_eq!(vacuumed.version(), table.version() + 2);

    // The tombstones outlive their files: lite mode does not report the deleted ones again.
    let (_, metrics) = vacuumed
        .vacuum()
        .with_retention(Duration::ZERO)
        .with_enforce_retention(false)
        .with_mode(VacuumMode::Lite)
        .with_dry_run(true)
        .await
        .unwrap();
    assert!(metrics.files_deleted.is_empty(), "{metrics:?}");
}

#[tokio::test]
async fn vacuum_keeps_the_deletion_vectors_of_active_files() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("t");
    common::copy_table("table-with-dv-small", &location);
    let table = DeltaTable::open(location.to_str().unwrap()).await.unwrap();
    let rows = |t: &DeltaTable| {
        let t = t.clone();
        async move {
            t.scan()
                .build()
                .unwrap()
                .collect()
                .await
                .unwrap()
                .iter()
                .map(RecordBatch::num_rows)
                .sum::<usize>()
        }
    };
    let before = rows(&table).await;
    let (vacuumed, metrics) = table
        .vacuum()
        .with_retention(Duration::ZERO)
        .with_enforce_retention(false)
        .await
        .unwrap();
    let root = url::Url::from_directory_path(&location).unwrap();
    for file in vacuumed.snapshot().files().iter() {
        assert!(location.join(file.path()).exists(), "{}", file.path());
        if let Some(dv) = file.deletion_vector().and_then(|dv| dv.absolute_path(&root).unwrap()) {
            assert!(dv.to_file_path().unwrap().exists(), "{dv} of {metrics:?}");
        }
    }
    assert_eq!(rows(&vacuumed).await, before);
}

#[tokio::test]
async fn alter_constraints_properties_columns_features_and_names() {
    use deltalake::DeltaError;
    use deltalake::protocol::{DataType as D, PrimitiveType as P, StructField};
    use std::collections::HashMap;
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let table = DeltaTable::write(location).with_batches(vec![ids(0..5)]).await.unwrap();
    let version = table.version();

    // A constraint the existing rows break is refused; one they satisfy is added.
    let err = table.alter().add_constraint("big", "id > 2").await.unwrap_err();
    assert!(matches!(&err, DeltaError::ConstraintViolation { rows: 3, .. }), "{err}");
    assert!(table.alter().add_constraint("bad", "nope > 1").await.is_err());
    let table = table.alter().add_constraint("Non_Negative", "id >= 0").await.unwrap();
    assert_eq!(table.version(), version + 1);
    assert_eq!(
        table.snapshot().properties()["delta.constraints.non_negative"],
        "id >= 0"
    );
    let protocol = table.snapshot().protocol();
    assert!(protocol.min_writer_version >= 3, "{protocol:?}");
    assert!(table.alter().add_constraint("non_negative", "id > -1").await.is_err());
    // The new constraint is enforced on writes.
    let err = DeltaTable::write(location)
        .with_batches(vec![ids(-2..0)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("non_negative"), "{err}");
    let table = table.alter().drop_constraint("NON_NEGATIVE", false).await.unwrap();
    assert!(
        !table
            .snapshot()
            .properties()
            .contains_key("delta.constraints.non_negative")
    );
    assert!(table.alter().drop_constraint("non_negative", false).await.is_err());
    let same = table.alter().drop_constraint("non_negative", true).await.unwrap();
    assert_eq!(same.version(), table.version());

    // Properties: checked, and the features they enable are added to the protocol.
    let props = |kv: &[(&str, &str)]| -> HashMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    assert!(
        table
            .alter()
            .set_properties(props(&[("delta.appendOnly", "yes")]))
            .await
            .is_err()
    );
    assert!(
        table
            .alter()
            .set_properties(props(&[("delta.checkpointInterval", "0")]))
            .await
            .is_err()
    );
    let table = table
        .alter()
        .set_properties(props(&[("delta.enableChangeDataFeed", "true"), ("owner", "me")]))
        .await
        .unwrap();
    assert_eq!(table.snapshot().properties()["owner"], "me");
    assert!(table.snapshot().protocol().min_writer_version >= 4);

    // Columns: appended, nullable only, readable as nulls for old rows.
    let err = table
        .alter()
        .add_columns(vec![StructField::new("x", D::Primitive(P::Integer), false)])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("must be nullable"), "{err}");
    let table = table
        .alter()
        .add_columns(vec![StructField::new("note", D::Primitive(P::String), true)])
        .await
        .unwrap();
    let batches = table
        .scan()
        .with_columns(["note"])
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(batches.iter().map(|b| b.column(0).null_count()).sum::<usize>(), 5);

    // Features, name and description.
    let table = table.alter().add_features(["deletionVectors"]).await.unwrap();
    let protocol = table.snapshot().protocol().clone();
    assert_eq!((protocol.min_reader_version, protocol.min_writer_version), (3, 7));
    let writers = protocol.writer_features.clone().unwrap();
    for feature in [
        "deletionVectors",
        "changeDataFeed",
        "appendOnly",
        "invariants",
        "checkConstraints",
    ] {
        assert!(writers.iter().any(|f| f == feature), "{feature} in {writers:?}");
    }
    assert!(table.alter().add_features(["noSuchFeature"]).await.is_err());
    let table = table.alter().set_name("events").await.unwrap();
    let table = table.alter().set_description("all the events").await.unwrap();
    assert_eq!(table.snapshot().metadata().name.as_deref(), Some("events"));
    assert_eq!(
        table.snapshot().metadata().description.as_deref(),
        Some("all the events")
    );
    let history = table.history(Some(1)).await.unwrap();
    assert_eq!(history[0].1.operation.as_deref(), Some("UPDATE TABLE METADATA"));
    // Everything still reads.
    assert_eq!(
        sorted_ids(&DeltaTable::open(location).await.unwrap()).await,
        (0..5).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn alter_column_metadata_and_nullability() {
    use arrow::datatypes::{DataType, Field, Schema};
    use deltalake::error::ErrorKind;
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(0..3)) as ArrayRef]).unwrap();
    let table = DeltaTable::write(location).with_batches(vec![batch]).await.unwrap();
    assert!(!table.snapshot().schema().field("id").unwrap().nullable);

    let comment = [("comment".to_string(), "the key".to_string())].into();
    let table = table.alter().set_column_metadata("ID", comment).await.unwrap();
    let more = [("owner".to_string(), "sales".to_string())].into();
    let table = table.alter().set_column_metadata("id", more).await.unwrap();
    let field = table.snapshot().schema().field("id").unwrap().clone();
    assert_eq!(field.metadata["comment"], "the key");
    assert_eq!(field.metadata["owner"], "sales");
    let history = table.history(Some(1)).await.unwrap();
    assert_eq!(history[0].1.operation.as_deref(), Some("UPDATE FIELD METADATA"));

    let table = table.alter().drop_not_null("id").await.unwrap();
    assert!(table.snapshot().schema().field("id").unwrap().nullable);
    let history = table.history(Some(1)).await.unwrap();
    assert_eq!(history[0].1.operation.as_deref(), Some("CHANGE COLUMN"));

    // Refused, committing nothing: an unknown column, a nullable one, the table's own keys.
    let version = table.version();
    let errors = [
        table.alter().drop_not_null("id").await.unwrap_err(),
        table.alter().drop_not_null("nope").await.unwrap_err(),
        table
            .alter()
            .set_column_metadata("nope", [("a".to_string(), "b".to_string())].into())
            .await
            .unwrap_err(),
        table
            .alter()
            .set_column_metadata("id", [("delta.columnMapping.id".to_string(), "9".to_string())].into())
            .await
            .unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    }
    let reloaded = DeltaTable::open(location).await.unwrap();
    assert_eq!(reloaded.version(), version);
    // A null can now be written into the column.
    let nullable = RecordBatch::try_from_iter(vec![(
        "id",
        Arc::new(Int64Array::from(vec![None, Some(9)])) as ArrayRef,
    )])
    .unwrap();
    let table = DeltaTable::write(location)
        .with_mode(SaveMode::Append)
        .with_batches(vec![nullable])
        .await
        .unwrap();
    assert_eq!(table.version(), version + 1);
}

#[tokio::test]
async fn symlink_manifests_list_the_files_of_each_partition() {
    use arrow::array::StringArray;
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batch = |parts: Vec<Option<&str>>| {
        let ids = Int64Array::from_iter_values(0..parts.len() as i64);
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(ids) as ArrayRef),
            ("p", Arc::new(StringArray::from(parts)) as ArrayRef),
        ])
        .unwrap()
    };
    let table = DeltaTable::write(location)
        .with_batches(vec![batch(vec![Some("a"), Some("b c"), None, Some("a")])])
        .with_partition_columns(["p"])
        .await
        .unwrap();
    assert_eq!(table.generate_symlink_manifests().await.unwrap(), 3);
    let manifests = dir.path().join("_symlink_format_manifest");
    let read = |p: &str| std::fs::read_to_string(manifests.join(p).join("manifest")).unwrap();
    for (partition, files) in [("p=a", 1), ("p=b c", 1), ("p=__HIVE_DEFAULT_PARTITION__", 1)] {
        let lines: Vec<String> = read(partition).lines().map(str::to_string).collect();
        assert_eq!(lines.len(), files, "{partition}");
        for line in lines {
            assert!(line.starts_with(location) && line.contains(partition), "{line}");
            assert!(std::path::Path::new(&line).is_file(), "{line}");
        }
    }
    assert_eq!(table.version(), DeltaTable::open(location).await.unwrap().version());

    // After an overwrite of one partition's rows only, the other partitions' manifests go.
    let table = DeltaTable::write(location)
        .with_batches(vec![batch(vec![Some("a")])])
        .with_mode(SaveMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(table.generate_symlink_manifests().await.unwrap(), 1);
    assert_eq!(read("p=a").lines().count(), 1);
    assert!(!manifests.join("p=b c").join("manifest").exists());

    // Unpartitioned: one manifest at the top.
    let plain = tempfile::tempdir().unwrap();
    let plain_location = plain.path().to_str().unwrap();
    DeltaTable::write(plain_location)
        .with_batches(vec![ids(0..3)])
        .await
        .unwrap();
    let table = DeltaTable::write(plain_location)
        .with_batches(vec![ids(3..5)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    assert_eq!(table.snapshot().files().len(), 2);
    table.generate_symlink_manifests().await.unwrap();
    let manifest = std::fs::read_to_string(plain.path().join("_symlink_format_manifest/manifest")).unwrap();
    assert_eq!(manifest.lines().count(), table.snapshot().files().len());

    // Deletion vectors would be ignored by the manifests' readers: refused.
    let with_dv = tempfile::tempdir().unwrap();
    let table = DeltaTable::write(with_dv.path().to_str().unwrap())
        .with_batches(vec![ids(0..10)])
        .with_configuration([("delta.enableDeletionVectors".to_string(), "true".to_string())].into())
        .await
        .unwrap();
    let (table, _) = table.delete().with_predicate("id = 3").await.unwrap();
    let err = table.generate_symlink_manifests().await.unwrap_err();
    assert_eq!(err.kind(), deltalake::error::ErrorKind::NotSupported, "{err}");
}

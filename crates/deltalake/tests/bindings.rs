//! The binding facade used as a binding uses it: plain-data requests, blocking calls, Arrow C
//! streams, metrics JSON, error kinds and file listings.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, Int64Array, RecordBatch, RecordBatchIterator, RecordBatchReader};
use deltalake::DeltaTable;
use deltalake::bindings::{
    AlterRequest, BlockingReader, DeleteRequest, FileListing, Filter, MergeClause, MergeClauseKind, MergeRequest,
    OptimizeRequest, Pump, RestoreRequest, RestoreTarget, UpdateRequest, VacuumRequest, WriteRequest, WriteTarget,
    block_on, import_ffi_stream, metrics_json,
};
use deltalake::error::ErrorKind;
use deltalake::operations::alter::TableChange;
use deltalake::operations::merge::MergeSource;
use deltalake::operations::optimize::OptimizeType;
use deltalake::operations::write::SaveMode;

use common::dml::{id_part_value, old, rows};

fn location(dir: &tempfile::TempDir) -> WriteTarget {
    WriteTarget::Location {
        uri: dir.path().to_str().unwrap().to_string(),
        storage_options: HashMap::new(),
    }
}

/// Write `batch` the way a binding does: through an exported and re-imported C stream and the pump.
fn write(request: WriteRequest, target: WriteTarget, batch: RecordBatch) -> deltalake::DeltaResult<DeltaTable> {
    let exported = BlockingReader::from_batches(batch.schema(), vec![batch])?;
    let mut ffi = exported.into_ffi();
    let reader = unsafe { import_ffi_stream(&mut ffi) }?;
    let (schema, input, pump) = Pump::start(reader)?;
    let written = block_on(request.execute(target, schema, input))?;
    pump.finish()?;
    written
}

fn partitioned_table(dir: &tempfile::TempDir) -> DeltaTable {
    let request = WriteRequest {
        partition_by: Some(vec!["part".into()]),
        configuration: HashMap::from([("delta.enableChangeDataFeed".into(), "true".into())]),
        ..Default::default()
    };
    write(request, location(dir), id_part_value(0..20, old)).unwrap()
}

#[test]
fn writes_reuse_the_loaded_table_and_validate_their_modes() {
    let dir = tempfile::tempdir().unwrap();
    let table = partitioned_table(&dir);
    assert_eq!(table.version(), 0);
    let appended = write(
        WriteRequest::default(),
        WriteTarget::Table(table),
        id_part_value(20..22, old),
    )
    .unwrap();
    assert_eq!(appended.version(), 1);
    assert_eq!(block_on(rows(&appended)).unwrap().len(), 22);

    let overwrite = WriteRequest {
        mode: "overwrite".parse().unwrap(),
        predicate: Some("part = 'a'".into()),
        ..Default::default()
    };
    let replaced = write(overwrite, WriteTarget::Table(appended), id_part_value(0..3, |_| 0)).unwrap();
    assert_eq!(block_on(rows(&replaced)).unwrap().len(), 3 + 12);

    let err = "upsert".parse::<SaveMode>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("'append'"), "{err}");
    let exists = WriteRequest {
        mode: SaveMode::ErrorIfExists,
        ..Default::default()
    };
    let err = write(exists, location(&dir), id_part_value(0..1, old)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
}

#[test]
fn every_operation_runs_from_plain_data_and_reports_reference_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let table = partitioned_table(&dir);

    let (table, deleted) = block_on(
        DeleteRequest {
            predicate: Some("id < 2".into()),
            ..Default::default()
        }
        .execute(&table),
    )
    .unwrap()
    .unwrap();
    assert_eq!(metrics_json(&deleted).unwrap()["num_deleted_rows"], 2);

    let update = UpdateRequest {
        updates: vec![("value".into(), "value + 1000".into())],
        predicate: Some("id = 5".into()),
        ..Default::default()
    };
    let (table, updated) = block_on(update.execute(&table)).unwrap().unwrap();
    assert_eq!(metrics_json(&updated).unwrap()["num_updated_rows"], 1);

    // Every clause kind, from the names bindings pass.
    let clause = |kind: &str, predicate: Option<&str>, assignments: &[(&str, &str)]| MergeClause {
        predicate: predicate.map(String::from),
        assignments: assignments
            .iter()
            .map(|(c, e)| (c.to_string(), e.to_string()))
            .collect(),
        ..MergeClause::new(kind.parse().unwrap())
    };
    let merge = MergeRequest {
        predicate: "t.id = s.id".into(),
        source_alias: Some("s".into()),
        target_alias: Some("t".into()),
        clauses: vec![
            clause("when_matched_delete", Some("s.value < 0"), &[]),
            clause("whenMatchedUpdate", Some("s.id = 6"), &[("value", "s.value")]),
            clause("when_matched_update_all", None, &[]),
            clause(
                "when_not_matched_insert",
                Some("s.id = 30"),
                &[("id", "s.id"), ("part", "'c'"), ("value", "0")],
            ),
            clause("when_not_matched_insert_all", None, &[]),
            clause(
                "when_not_matched_by_source_update",
                Some("t.id = 19"),
                &[("value", "-1")],
            ),
            clause("when_not_matched_by_source_delete", Some("t.id = 18"), &[]),
        ],
        ..Default::default()
    };
    let source = RecordBatch::try_new(
        id_part_value(0..1, old).schema(),
        vec![
            Arc::new(Int64Array::from(vec![2, 6, 7, 30, 31])),
            Arc::new(arrow::array::StringArray::from(vec!["a", "a", "a", "x", "b"])),
            Arc::new(Int64Array::from(vec![-5, 66, 77, 300, 310])),
        ],
    )
    .unwrap();
    let (table, merged) = block_on(merge.execute(&table, MergeSource::Batches(vec![source])))
        .unwrap()
        .unwrap();
    let m = metrics_json(&merged).unwrap();
    assert_eq!(
        (
            &m["num_target_rows_deleted"],
            &m["num_target_rows_updated"],
            &m["num_target_rows_inserted"]
        ),
        (&2.into(), &3.into(), &2.into()),
        "{m}"
    );
    let merged_rows = block_on(rows(&table)).unwrap();
    assert!(merged_rows.contains(&"30 | c | 0".to_string()), "{merged_rows:?}");
    assert!(merged_rows.contains(&"6 | a | 66".to_string()) && merged_rows.contains(&"19 | b | -1".to_string()));
    assert!(
        !merged_rows
            .iter()
            .any(|r| r.starts_with("18 |") || r.starts_with("2 |")),
        "{merged_rows:?}"
    );

    // A clause given what it cannot take is refused before anything runs.
    let bad = MergeRequest {
        predicate: "target.id = source.id".into(),
        clauses: vec![MergeClause {
            assignments: vec![("value".into(), "1".into())],
            ..MergeClause::new(MergeClauseKind::MatchedDelete)
        }],
        ..Default::default()
    };
    let err = block_on(bad.execute(&table, MergeSource::Batches(vec![id_part_value(0..1, old)])))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);

    let optimize = OptimizeRequest {
        kind: OptimizeType::ZOrder(vec!["value".into()]),
        partition_filter: Some(Filter::Sql("part = 'b'".into())),
        ..Default::default()
    };
    let (table, optimized) = block_on(optimize.execute(&table)).unwrap().unwrap();
    let o = metrics_json(&optimized).unwrap();
    assert_eq!(o["numFilesAdded"], 1, "{o}");
    assert!(o["filesRemoved"]["totalFiles"].as_u64().unwrap() >= 1, "{o}");
    assert_eq!(o["preserveInsertionOrder"], false, "{o}");

    let (table, vacuumed) = block_on(
        VacuumRequest {
            retention_hours: Some(0),
            enforce_retention_duration: false,
            ..Default::default()
        }
        .execute(&table),
    )
    .unwrap()
    .unwrap();
    let v = metrics_json(&vacuumed).unwrap();
    assert_eq!(v["dry_run"], true);
    assert!(!v["files_deleted"].as_array().unwrap().is_empty(), "{v}");

    let altered = block_on(
        AlterRequest::new(TableChange::AddConstraint {
            name: "sane".into(),
            expression: "id >= 0".into(),
        })
        .execute(&table),
    )
    .unwrap()
    .unwrap();
    assert!(altered.snapshot().properties().keys().any(|k| k.ends_with("sane")));

    let (restored, metrics) = block_on(RestoreRequest::new(RestoreTarget::Version(0)).execute(&altered))
        .unwrap()
        .unwrap();
    assert_eq!(block_on(rows(&restored)).unwrap().len(), 20);
    assert!(metrics_json(&metrics).unwrap()["numRestoredFile"].as_u64().unwrap() > 0);

    // The change data feed: projection, predicate and an out-of-range start.
    let (schema, changes) = block_on(
        restored
            .load_cdf()
            .with_starting_version(1)
            .with_ending_version(1)
            .with_columns(["id", "_change_type"])
            .with_predicate("id = 0")
            .execute(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(schema.fields().len(), 2);
    let changed: Vec<RecordBatch> = BlockingReader::new(schema, changes)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let ids: usize = changed.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(ids, 1);
    let (empty, _) = block_on(
        restored
            .load_cdf()
            .with_starting_version(99)
            .with_allow_out_of_range(true)
            .execute(),
    )
    .unwrap()
    .unwrap();
    assert!(empty.fields().is_empty());
    let err = block_on(restored.load_cdf().with_starting_version(99).execute())
        .unwrap()
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = block_on(
        restored
            .load_cdf()
            .with_starting_version(1)
            .with_ending_version(1)
            .with_columns(["nope"])
            .execute(),
    )
    .unwrap()
    .err()
    .unwrap();
    assert!(err.to_string().contains("'nope'"), "{err}");
}

#[test]
fn files_list_logical_partition_values_and_absolute_locations() {
    let dir = tempfile::tempdir().unwrap();
    let request = WriteRequest {
        partition_by: Some(vec!["part".into()]),
        configuration: HashMap::from([("delta.columnMapping.mode".into(), "name".into())]),
        ..Default::default()
    };
    let table = write(request, location(&dir), id_part_value(0..20, old)).unwrap();
    let files = FileListing::new(&table, None).unwrap();
    assert_eq!(files.len(), 2);
    let paths: Vec<String> = files.paths().collect();
    let locations: Vec<String> = files.locations().collect::<Result<_, _>>().unwrap();
    let values: Vec<_> = files.partition_values().collect();
    for ((path, location), (size, values)) in paths.iter().zip(&locations).zip(files.sizes().zip(&values)) {
        assert_eq!(values.len(), 1);
        let (name, value) = &values[0];
        assert_eq!(name, "part");
        assert!(matches!(value.as_deref(), Some("a" | "b")), "{values:?}");
        assert!(location.ends_with(path.as_str()), "{location} {path}");
        assert!(location.starts_with(dir.path().to_str().unwrap()), "{location}");
        assert!(std::path::Path::new(location).exists());
        assert!(size > 0);
    }
    let only_b = FileListing::new(&table, Some(Filter::Sql("part = 'b'".into()))).unwrap();
    assert_eq!(only_b.len(), 1);
    assert_eq!(only_b.partition_values().next().unwrap()[0].1.as_deref(), Some("b"));
}

#[test]
fn errors_have_kinds_and_name_files_as_users_gave_them() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing");
    let missing = missing.to_str().unwrap();
    let err = block_on(DeltaTable::open(missing)).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!block_on(DeltaTable::exists(missing, HashMap::new())).unwrap().unwrap());

    let table = partitioned_table(&dir);
    assert!(
        block_on(DeltaTable::exists(dir.path().to_str().unwrap(), HashMap::new()))
            .unwrap()
            .unwrap()
    );
    let err = block_on(DeltaTable::builder(table.uri()).with_version(7).load())
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // A data file removed behind the table's back: the error names its absolute path.
    let removed = FileListing::new(&table, None)
        .unwrap()
        .locations()
        .next()
        .unwrap()
        .unwrap();
    std::fs::remove_file(&removed).unwrap();
    let scan = table.scan().build().unwrap();
    let reader = BlockingReader::new(scan.schema(), scan.execute()).unwrap();
    let err = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(deltalake::DeltaError::from)
        .unwrap_err();
    assert!(err.to_string().contains(&removed), "{err}");
    assert_eq!(err.kind(), ErrorKind::FileNotFound, "{err}");

    // Data of the wrong schema crossing the C stream.
    let wrong = RecordBatch::try_from_iter([(
        "id",
        Arc::new(arrow::array::StringArray::from(vec!["x"])) as Arc<dyn Array>,
    )])
    .unwrap();
    let err = write(WriteRequest::default(), location(&dir), wrong).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SchemaMismatch, "{err}");
}

#[test]
fn a_failing_input_stream_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = partitioned_table(&dir);
    let good = id_part_value(50..51, old);
    let failing = RecordBatchIterator::new(
        [
            Ok(good.clone()),
            Err(arrow::error::ArrowError::ComputeError("the producer failed".into())),
        ],
        good.schema(),
    );
    assert_eq!(failing.schema(), good.schema());
    let (schema, input, pump) = Pump::start(failing).unwrap();
    let err = block_on(WriteRequest::default().execute(WriteTarget::Table(table.clone()), schema, input))
        .unwrap()
        .unwrap_err();
    pump.finish().unwrap();
    assert!(err.to_string().contains("the producer failed"), "{err}");
    assert_eq!(block_on(DeltaTable::open(table.uri())).unwrap().unwrap().version(), 0);
}

//! Writing tables and reading them back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array, Int8Array,
    Int16Array, Int32Array, Int64Array, ListArray, RecordBatch, StringArray, StructArray, TimestampMicrosecondArray,
    TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use common::render_sorted_rows;
use deltalake::operations::write::WriterConfig;
use deltalake::operations::write::{SaveMode, SchemaMode};
use deltalake::{DeltaError, DeltaTable};

fn every_type_batch() -> RecordBatch {
    let n = 4;
    let tags = Arc::new(StructArray::from(vec![
        (
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(Int32Array::from(vec![Some(1), None, Some(3), Some(4)])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("b", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec!["x", "y", "z", "w"])) as ArrayRef,
        ),
    ]));
    let list = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
        Some(vec![]),
        Some(vec![None, Some(5)]),
    ]));
    RecordBatch::try_from_iter(vec![
        (
            "long",
            Arc::new(Int64Array::from(vec![1, -2, i64::MAX, i64::MIN])) as ArrayRef,
        ),
        (
            "int",
            Arc::new(Int32Array::from(vec![Some(1), None, Some(i32::MAX), Some(-7)])) as _,
        ),
        ("short", Arc::new(Int16Array::from(vec![1, 2, 3, 4])) as _),
        ("byte", Arc::new(Int8Array::from(vec![1, -2, 3, -4])) as _),
        (
            "float",
            Arc::new(Float32Array::from(vec![1.5, f32::NAN, -0.0, 3.25])) as _,
        ),
        (
            "double",
            Arc::new(Float64Array::from(vec![
                Some(1.5),
                None,
                Some(f64::INFINITY),
                Some(-1e300),
            ])) as _,
        ),
        (
            "string",
            Arc::new(StringArray::from(vec![Some("a"), Some("ünïcødé"), None, Some("")])) as _,
        ),
        (
            "binary",
            Arc::new(BinaryArray::from(vec![b"\x00\x01".as_ref(), b"", b"zz", b"\xff"])) as _,
        ),
        (
            "bool",
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None, Some(true)])) as _,
        ),
        (
            "date",
            Arc::new(Date32Array::from(vec![0, -719_162, 2_932_896, 19_000])) as _,
        ),
        (
            "ts",
            Arc::new(
                TimestampMicrosecondArray::from(vec![0, -62_135_596_800_000_000, 253_402_214_400_000_000 - 1, 1])
                    .with_timezone("UTC"),
            ) as _,
        ),
        (
            "ts_ntz",
            Arc::new(TimestampMicrosecondArray::from(vec![Some(5), None, Some(-5), Some(0)])) as _,
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(vec![Some(12345), None, Some(-1), Some(10i128.pow(37))])
                    .with_precision_and_scale(38, 10)
                    .unwrap(),
            ) as _,
        ),
        ("tags", tags as _),
        ("list", list as _),
    ])
    .inspect(|b| assert_eq!(b.num_rows(), n))
    .unwrap()
}

async fn read_all(location: &str) -> Vec<RecordBatch> {
    let t = DeltaTable::open(location).await.unwrap();
    t.scan().build().unwrap().collect().await.unwrap()
}

#[tokio::test]
async fn every_type_round_trips_partitioned_and_not() {
    let batch = every_type_batch();
    for partitions in [
        vec![],
        vec!["bool".to_string(), "date".to_string()],
        vec!["ts".to_string(), "dec".to_string(), "string".to_string()],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let location = dir.path().to_str().unwrap();
        let table = DeltaTable::write(location)
            .with_batches(vec![batch.clone()])
            .with_partition_columns(partitions.clone())
            .await
            .unwrap();
        assert_eq!(table.version(), 0);
        assert_eq!(table.snapshot().partition_columns(), partitions.as_slice());
        let schema = table.snapshot().arrow_schema().clone();
        let ours = render_sorted_rows(&read_all(location).await, &schema).unwrap();
        // Spark semantics: an empty string partition value reads back as null.
        let expected = if partitions.contains(&"string".to_string()) {
            let i = batch.schema().index_of("string").unwrap();
            let mut columns = batch.columns().to_vec();
            columns[i] = Arc::new(StringArray::from(vec![Some("a"), Some("ünïcødé"), None, None]));
            RecordBatch::try_new(batch.schema(), columns).unwrap()
        } else {
            batch.clone()
        };
        let theirs = render_sorted_rows(&[expected], &schema).unwrap();
        assert_eq!(ours, theirs, "partitioned by {partitions:?}");
        for f in table.snapshot().files().iter() {
            let stats: serde_json::Value = serde_json::from_str(f.stats().unwrap()).unwrap();
            assert!(stats["numRecords"].as_i64().unwrap() > 0);
        }
    }
}

#[tokio::test]
async fn append_overwrite_error_and_ignore_modes() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batch =
        |ids: Vec<i64>| RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from(ids)) as ArrayRef)]).unwrap();
    DeltaTable::write(location)
        .with_batches(vec![batch(vec![1, 2])])
        .await
        .unwrap();
    let t = DeltaTable::write(location)
        .with_batches(vec![batch(vec![3])])
        .await
        .unwrap();
    assert_eq!(t.version(), 1);
    assert_eq!(
        read_all(location)
            .await
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>(),
        3
    );
    let t = DeltaTable::write(location)
        .with_batches(vec![batch(vec![9])])
        .with_mode(SaveMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(t.version(), 2);
    assert_eq!(t.snapshot().files().len(), 1);
    let rows = read_all(location).await;
    assert_eq!(rows.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
    let err = DeltaTable::write(location)
        .with_batches(vec![batch(vec![1])])
        .with_mode(SaveMode::ErrorIfExists)
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::TableExists { .. }));
    let t = DeltaTable::write(location)
        .with_batches(vec![batch(vec![1])])
        .with_mode(SaveMode::Ignore)
        .await
        .unwrap();
    assert_eq!(t.version(), 2);
    // Time travel still sees the overwritten data.
    let v1 = DeltaTable::builder(location).with_version(1).load().await.unwrap();
    assert_eq!(
        v1.scan()
            .build()
            .unwrap()
            .collect()
            .await
            .unwrap()
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>(),
        3
    );
    let history = t.history(None).await.unwrap();
    assert_eq!(history[0].1.operation_parameters.as_ref().unwrap()["mode"], "Overwrite");
}

#[tokio::test]
async fn bad_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Int32, true),
    ]));
    let good = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![1])), Arc::new(Int32Array::from(vec![1]))],
    )
    .unwrap();
    DeltaTable::write(location).with_batches(vec![good]).await.unwrap();

    let cases: Vec<(RecordBatch, &str)> = vec![
        (
            RecordBatch::try_from_iter(vec![("id", Arc::new(StringArray::from(vec!["x"])) as ArrayRef)]).unwrap(),
            "type",
        ),
        (
            RecordBatch::try_from_iter(vec![(
                "id",
                Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
            )])
            .unwrap(),
            "NOT NULL",
        ),
        (
            RecordBatch::try_from_iter(vec![("v", Arc::new(Int32Array::from(vec![1])) as ArrayRef)]).unwrap(),
            "missing",
        ),
        (
            RecordBatch::try_from_iter(vec![
                ("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
                ("extra", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
            ])
            .unwrap(),
            "merge",
        ),
        (
            RecordBatch::try_from_iter(vec![
                ("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
                ("v", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ])
            .unwrap(),
            "lose",
        ),
    ];
    for (batch, needle) in cases {
        let err = DeltaTable::write(location).with_batches(vec![batch]).await.unwrap_err();
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    let err = DeltaTable::write(location)
        .with_batches(vec![
            RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]).unwrap(),
        ])
        .with_partition_columns(["id"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("partitioned"), "{err}");
    assert_eq!(DeltaTable::open(location).await.unwrap().version(), 0);
}

#[tokio::test]
async fn schema_merge_adds_columns_and_widening_casts_apply() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let first = RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]).unwrap();
    DeltaTable::write(location).with_batches(vec![first]).await.unwrap();
    let second = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int32Array::from(vec![2])) as ArrayRef),
        ("note", Arc::new(StringArray::from(vec!["hi"])) as ArrayRef),
        (
            "ts",
            Arc::new(TimestampNanosecondArray::from(vec![1_500]).with_timezone("UTC")) as ArrayRef,
        ),
    ])
    .unwrap();
    let t = DeltaTable::write(location)
        .with_batches(vec![second])
        .with_schema_mode(SchemaMode::Merge)
        .await
        .unwrap();
    let names: Vec<_> = t.snapshot().schema().fields.iter().map(|f| f.name.clone()).collect();
    assert_eq!(names, ["id", "note", "ts"]);
    let rows = render_sorted_rows(&read_all(location).await, t.snapshot().arrow_schema()).unwrap();
    assert_eq!(rows, ["1 | ∅ | ∅", "2 | hi | 1970-01-01T00:00:00.000001"]);
}

#[tokio::test]
async fn files_roll_at_the_target_size() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batches: Vec<RecordBatch> = (0..20)
        .map(|i| {
            RecordBatch::try_from_iter(vec![(
                "id",
                Arc::new(Int64Array::from_iter_values(i * 10_000..(i + 1) * 10_000)) as ArrayRef,
            )])
            .unwrap()
        })
        .collect();
    let config = WriterConfig {
        target_file_size: 200_000,
        properties: parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(10_000))
            .build(),
        ..WriterConfig::default()
    };
    let t = DeltaTable::write(location)
        .with_batches(batches)
        .with_writer_config(config)
        .await
        .unwrap();
    assert!(t.snapshot().files().len() > 3, "{} files", t.snapshot().files().len());
    let rows: usize = read_all(location).await.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 200_000);
}

#[tokio::test]
async fn identity_columns_continue_from_the_high_water_mark() {
    use deltalake::protocol::{DataType as D, PrimitiveType, StructField, StructType};
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let mut id = StructField::new("id", D::Primitive(PrimitiveType::Long), false);
    id.metadata.insert("delta.identity.start".into(), 10.into());
    id.metadata.insert("delta.identity.step".into(), 5.into());
    id.metadata
        .insert("delta.identity.allowExplicitInsert".into(), false.into());
    let schema = StructType::new(vec![
        id,
        StructField::new("v", D::Primitive(PrimitiveType::String), true),
    ]);
    let t = DeltaTable::create(location).with_schema(schema).await.unwrap();
    assert_eq!(t.snapshot().protocol().min_writer_version, 6);
    let values =
        |v: Vec<&str>| RecordBatch::try_from_iter(vec![("v", Arc::new(StringArray::from(v)) as ArrayRef)]).unwrap();
    DeltaTable::write(location)
        .with_batches(vec![values(vec!["a", "b"]), values(vec!["c"])])
        .await
        .unwrap();
    let t = DeltaTable::write(location)
        .with_batches(vec![values(vec!["d"])])
        .await
        .unwrap();
    let hwm = &t.snapshot().schema().fields[0].metadata["delta.identity.highWaterMark"];
    assert_eq!(hwm, &serde_json::Value::from(25));
    let rows = render_sorted_rows(&read_all(location).await, t.snapshot().arrow_schema()).unwrap();
    assert_eq!(rows, ["10 | a", "15 | b", "20 | c", "25 | d"]);
    let explicit = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("v", Arc::new(StringArray::from(vec!["x"])) as ArrayRef),
    ])
    .unwrap();
    let err = DeltaTable::write(location)
        .with_batches(vec![explicit])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("identity column 'id'"), "{err}");
}

#[tokio::test]
async fn tables_with_writer_features_we_do_not_honour_are_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("t");
    common::copy_table("table_with_liquid_clustering", &location);
    let location = location.to_str().unwrap();
    let before = DeltaTable::open(location).await.unwrap().version();
    let batch = RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]).unwrap();
    let err = DeltaTable::write(location)
        .with_batches(vec![batch])
        .with_mode(SaveMode::Append)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeltaError::UnsupportedFeature { kind: "writer", features, .. }
            if features.contains(&"rowTracking".to_string()) && features.contains(&"liquid".to_string())),
        "{err}"
    );
    assert_eq!(DeltaTable::open(location).await.unwrap().version(), before);
    let data_files = walk_files(dir.path())
        .into_iter()
        .filter(|p| p.ends_with(".parquet"))
        .count();
    let original = walk_files(&common::tables_dir().join("table_with_liquid_clustering"))
        .into_iter()
        .filter(|p| p.ends_with(".parquet"))
        .count();
    assert_eq!(data_files, original, "no data file may be written");
}

fn walk_files(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    out
}

#[tokio::test]
async fn a_table_path_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"hello").unwrap();
    let batch = RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]).unwrap();
    let err = DeltaTable::write(file.to_str().unwrap())
        .with_batches(vec![batch])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not-a-dir' is a file"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"hello");
    let uri = format!("file://{}", file.display());
    let err = DeltaTable::open(uri).await.unwrap_err();
    assert!(err.to_string().contains("not-a-dir' is a file"), "{err}");
}

#[tokio::test]
async fn open_partition_files_are_flushed_to_stay_within_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batches: Vec<RecordBatch> = (0..20)
        .map(|b| {
            let ids: Vec<i64> = (b * 100..(b + 1) * 100).collect();
            RecordBatch::try_from_iter(vec![
                (
                    "part",
                    Arc::new(Int64Array::from_iter_values(ids.iter().map(|i| i % 10))) as ArrayRef,
                ),
                ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ])
            .unwrap()
        })
        .collect();
    let config = WriterConfig {
        max_buffered_bytes: 1,
        ..WriterConfig::default()
    };
    let table = DeltaTable::write(location)
        .with_batches(batches.clone())
        .with_partition_columns(["part"])
        .with_writer_config(config)
        .await
        .unwrap();
    // One file per partition, each made of many small row groups flushed early.
    assert_eq!(table.snapshot().files().len(), 10);
    for file in table.snapshot().files().iter() {
        let path = dir.path().join(percent_decode(file.path()));
        let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        use parquet::file::reader::FileReader;
        assert!(reader.metadata().num_row_groups() >= 10, "{path:?}");
    }
    let schema = batches[0].schema();
    let expected = render_sorted_rows(&batches, &schema).unwrap();
    let actual = render_sorted_rows(&read_all(location).await, &schema).unwrap();
    assert_eq!(actual, expected);
}

fn percent_decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test]
async fn check_constraints_invariants_and_generated_columns_are_enforced() {
    use deltalake::protocol::{DataType as D, PrimitiveType as P, StructField, StructType};
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let mut score = StructField::new("score", D::Primitive(P::Integer), true);
    score.metadata.insert(
        "delta.invariants".into(),
        serde_json::Value::String(r#"{"expression":{"expression":"score < 100"}}"#.into()),
    );
    let mut doubled = StructField::new("doubled", D::Primitive(P::Long), false);
    doubled
        .metadata
        .insert("delta.generationExpression".into(), "id * 2".into());
    let schema = StructType::new(vec![
        StructField::new("id", D::Primitive(P::Long), false),
        score,
        doubled,
    ]);
    let table = DeltaTable::create(location)
        .with_schema(schema)
        .with_property("delta.constraints.id_positive", "id > 0")
        .await
        .unwrap();
    let protocol = table.snapshot().protocol();
    assert_eq!((protocol.min_reader_version, protocol.min_writer_version), (1, 4));

    let rows = |ids: Vec<i64>, scores: Vec<Option<i32>>| {
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ("score", Arc::new(Int32Array::from(scores)) as ArrayRef),
        ])
        .unwrap()
    };
    // Generated values are computed when the data leaves them out.
    let t = DeltaTable::write(location)
        .with_batches(vec![rows(vec![1, 2], vec![Some(5), Some(6)])])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let batches = t
        .scan()
        .with_columns(["id", "doubled"])
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap();
    let doubled: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            b.column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(doubled, [2, 4]);

    let failures = [
        (
            rows(vec![3, -4, -5], vec![Some(1), Some(1), Some(1)]),
            "2 row(s) violate CHECK constraint id_positive (id > 0), e.g. {id: -4",
        ),
        (
            rows(vec![3, 4], vec![Some(1), Some(100)]),
            "1 row(s) violate the invariant (score < 100) of column score, e.g. {id: 4, score: 100",
        ),
        // Per the protocol, NULL (unknown) breaks an invariant too.
        (
            rows(vec![3], vec![None]),
            "1 row(s) violate the invariant (score < 100) of column score, e.g. {id: 3, score: NULL",
        ),
    ];
    for (batch, message) in failures {
        let err = DeltaTable::write(location)
            .with_batches(vec![batch])
            .with_mode(SaveMode::Append)
            .await
            .unwrap_err();
        assert!(matches!(err, DeltaError::ConstraintViolation { .. }), "{err}");
        assert!(err.to_string().starts_with(message), "{err}");
    }
    // Supplied generated values must agree with the expression.
    let with_generated = |doubled: Vec<i64>| {
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(vec![7, 8])) as ArrayRef),
            ("score", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef),
            ("doubled", Arc::new(Int64Array::from(doubled)) as ArrayRef),
        ])
        .unwrap()
    };
    let err = DeltaTable::write(location)
        .with_batches(vec![with_generated(vec![14, 15])])
        .with_mode(SaveMode::Append)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("generated column doubled = id * 2"), "{err}");
    assert_eq!(DeltaTable::open(location).await.unwrap().version(), 1);

    // Files finished before a later batch breaks a rule are deleted again.
    let files_before = walk_files(dir.path()).len();
    let err = DeltaTable::write(location)
        .with_batches(vec![
            rows(vec![10, 11], vec![Some(1), Some(2)]),
            rows(vec![12, 13], vec![Some(1), Some(2)]),
            rows(vec![-1], vec![Some(1)]),
        ])
        .with_writer_config(WriterConfig {
            target_file_size: 1,
            ..WriterConfig::default()
        })
        .with_mode(SaveMode::Append)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("id_positive"), "{err}");
    assert_eq!(walk_files(dir.path()).len(), files_before);
    let t = DeltaTable::write(location)
        .with_batches(vec![with_generated(vec![14, 16])])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    assert_eq!(t.version(), 2);
}

/// Regression: columns asked for in another order than the file's came back shifted.
#[tokio::test]
async fn columns_read_in_another_order_than_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        ("name", Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef),
        ("score", Arc::new(Int32Array::from(vec![10, 20, 30])) as ArrayRef),
    ])
    .unwrap();
    let table = DeltaTable::write(location).with_batches(vec![batch]).await.unwrap();
    let rows = |scan: deltalake::ScanBuilder| async move {
        let batches = scan.build().unwrap().collect().await.unwrap();
        let schema = batches[0].schema();
        render_sorted_rows(&batches, &schema).unwrap()
    };
    let out = rows(table.scan().with_columns(["score", "name", "id"])).await;
    assert_eq!(out.len(), 3);
    assert!(
        out[0].contains("10") && out[0].contains("a") && out[0].contains('1'),
        "{out:?}"
    );
    let names = rows(table.scan().with_columns(["name"]).with_predicate("score >= 20")).await;
    assert_eq!(names.len(), 2, "{names:?}");
    let first = table
        .scan()
        .with_columns(["name", "id"])
        .build()
        .unwrap()
        .collect()
        .await
        .unwrap();
    let names = first[0].column(0).as_any().downcast_ref::<StringArray>().unwrap();
    let ids = first[0].column(1).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!((names.value(0), ids.value(0)), ("a", 1));
}

#[tokio::test]
async fn replace_where_overwrites_only_the_matching_rows() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let rows = |ids: Vec<i64>, days: Vec<i32>| {
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ("day", Arc::new(Int32Array::from(days)) as ArrayRef),
        ])
        .unwrap()
    };
    DeltaTable::write(location)
        .with_batches(vec![rows(vec![1, 2, 3, 4], vec![1, 1, 2, 2])])
        .with_partition_columns(["day"])
        .await
        .unwrap();
    DeltaTable::write(location)
        .with_batches(vec![rows(vec![5, 6], vec![3, 3])])
        .with_mode(SaveMode::Append)
        .await
        .unwrap();
    let ids_of = |t: DeltaTable| async move {
        let batches = t
            .scan()
            .with_columns(["id", "day"])
            .build()
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut out: Vec<(i64, i32)> = batches
            .iter()
            .flat_map(|b| {
                let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap().clone();
                let days = b.column(1).as_any().downcast_ref::<Int32Array>().unwrap().clone();
                (0..b.num_rows()).map(move |i| (ids.value(i), days.value(i)))
            })
            .collect();
        out.sort();
        out
    };

    // A partition predicate: day 2 is replaced, days 1 and 3 stay.
    let t = DeltaTable::write(location)
        .with_batches(vec![rows(vec![40, 41], vec![2, 2])])
        .with_mode(SaveMode::Overwrite)
        .with_replace_where("day = 2")
        .await
        .unwrap();
    assert_eq!(
        ids_of(t.clone()).await,
        [(1, 1), (2, 1), (5, 3), (6, 3), (40, 2), (41, 2)]
    );
    let info = &t.history(Some(1)).await.unwrap()[0].1;
    assert_eq!(info.operation_parameters.as_ref().unwrap()["predicate"], "day = 2");

    // A data predicate rewrites part of a file: id 5 goes, id 6 stays.
    let t = DeltaTable::write(location)
        .with_batches(vec![rows(vec![0], vec![3])])
        .with_mode(SaveMode::Overwrite)
        .with_replace_where("day = 3 AND id < 6")
        .await
        .unwrap();
    assert_eq!(
        ids_of(t.clone()).await,
        [(0, 3), (1, 1), (2, 1), (6, 3), (40, 2), (41, 2)]
    );

    // Data outside the predicate, or replace-where without overwrite: refused, nothing committed.
    let version = t.version();
    let err = DeltaTable::write(location)
        .with_batches(vec![rows(vec![60, 61], vec![2, 9])])
        .with_mode(SaveMode::Overwrite)
        .with_replace_where("day = 2")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 row(s) of the data do not match"), "{err}");
    let err = DeltaTable::write(location)
        .with_batches(vec![rows(vec![60], vec![2])])
        .with_replace_where("day = 2")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs save mode 'overwrite'"), "{err}");
    assert!(
        DeltaTable::write(location)
            .with_batches(vec![rows(vec![60], vec![2])])
            .with_mode(SaveMode::Overwrite)
            .with_replace_where("nope = 2")
            .await
            .is_err()
    );
    assert_eq!(DeltaTable::open(location).await.unwrap().version(), version);
}

#[tokio::test]
async fn writes_from_a_loaded_table_catch_up_with_other_writers() {
    use deltalake::operations::write::WriteBuilder;
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batch =
        |ids: Vec<i64>| RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from(ids)) as ArrayRef)]).unwrap();
    let mut table = DeltaTable::write(location)
        .with_batches(vec![batch(vec![1])])
        .await
        .unwrap();
    // Appends starting from the table the previous one returned.
    for (i, id) in [2, 3].into_iter().enumerate() {
        table = WriteBuilder::from_table(table)
            .with_batches(vec![batch(vec![id])])
            .await
            .unwrap();
        assert_eq!(table.version(), i as i64 + 1);
        assert_eq!(table.snapshot().files().len(), i + 2);
    }
    // Another writer commits twice; the loaded table, now stale, catches up before writing.
    for id in [4, 5] {
        DeltaTable::write(location)
            .with_batches(vec![batch(vec![id])])
            .await
            .unwrap();
    }
    let stale = table.clone();
    let table = WriteBuilder::from_table(table)
        .with_batches(vec![batch(vec![6])])
        .await
        .unwrap();
    assert_eq!(table.version(), 5);
    assert_eq!(table.snapshot().files().len(), 6);
    let reopened = DeltaTable::open(location).await.unwrap();
    let paths = |t: &DeltaTable| {
        let mut paths: Vec<String> = t.snapshot().files().iter().map(|f| f.path().to_string()).collect();
        paths.sort();
        paths
    };
    assert_eq!(paths(&table), paths(&reopened));
    // An overwrite from the stale table removes every file of the latest version, not only those it knew.
    let table = WriteBuilder::from_table(stale)
        .with_batches(vec![batch(vec![7])])
        .with_mode(SaveMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(table.version(), 6);
    assert_eq!(table.snapshot().files().len(), 1);
    let rows = read_all(location).await;
    assert_eq!(rows.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
    // Ignore leaves the table as it is, at its latest version.
    let ignored = WriteBuilder::from_table(table.clone())
        .with_batches(vec![batch(vec![8])])
        .with_mode(SaveMode::Ignore)
        .await
        .unwrap();
    assert_eq!(ignored.version(), 6);
}

#[tokio::test]
async fn an_encoding_that_cannot_encode_a_column_is_an_error_not_a_panic() {
    use parquet::basic::Encoding;
    use parquet::file::properties::WriterProperties;
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ("name", Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef),
    ])
    .unwrap();
    let table = DeltaTable::write(location)
        .with_batches(vec![batch.clone()])
        .await
        .unwrap();
    let write_with = |column: &str, encoding: Encoding| {
        let properties = WriterProperties::builder()
            .set_column_encoding(column.into(), encoding)
            .build();
        DeltaTable::write(location)
            .with_mode(SaveMode::Append)
            .with_batches(vec![batch.clone()])
            .with_writer_config(WriterConfig {
                properties,
                ..WriterConfig::default()
            })
    };
    for (column, encoding) in [
        ("name", Encoding::DELTA_BINARY_PACKED),
        ("id", Encoding::RLE),
        ("id", Encoding::DELTA_LENGTH_BYTE_ARRAY),
        ("name", Encoding::BYTE_STREAM_SPLIT),
    ] {
        let err = write_with(column, encoding).await.unwrap_err();
        assert!(
            matches!(err, DeltaError::InvalidArgument(_)),
            "{column} {encoding}: {err}"
        );
        assert!(err.to_string().contains(column), "{err}");
    }
    assert_eq!(DeltaTable::open(location).await.unwrap().version(), table.version());
    let t = write_with("id", Encoding::DELTA_BINARY_PACKED).await.unwrap();
    assert_eq!(t.version(), table.version() + 1);
}

#[tokio::test]
async fn one_write_records_every_application_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batch = || RecordBatch::try_from_iter(vec![("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]).unwrap();
    let table = DeltaTable::write(location)
        .with_batches(vec![batch()])
        .with_app_transaction("ingest-0", 10)
        .with_app_transaction("ingest-1", 20)
        .await
        .unwrap();
    let versions = |t: &DeltaTable| ["ingest-0", "ingest-1"].map(|app| t.snapshot().txn(app).map(|txn| txn.version));
    assert_eq!(versions(&table), [Some(10), Some(20)]);
    // Either one already recorded makes the write a duplicate.
    let err = deltalake::operations::write::WriteBuilder::from_table(table.clone())
        .with_mode(SaveMode::Append)
        .with_batches(vec![batch()])
        .with_app_transaction("ingest-0", 11)
        .with_app_transaction("ingest-1", 20)
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::TransactionAlreadyCommitted { .. }), "{err}");
    // A concurrent writer of the same application, committing on the same snapshot, conflicts.
    deltalake::operations::write::WriteBuilder::from_table(table.clone())
        .with_mode(SaveMode::Append)
        .with_batches(vec![batch()])
        .with_app_transaction("ingest-1", 21)
        .await
        .unwrap();
    let err = deltalake::operations::write::WriteBuilder::from_table(table)
        .with_mode(SaveMode::Append)
        .with_batches(vec![batch()])
        .with_app_transaction("ingest-1", 22)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeltaError::CommitConflict { .. } | DeltaError::CommitFailed { .. }),
        "{err}"
    );
    assert_eq!(
        versions(&DeltaTable::open(location).await.unwrap()),
        [Some(10), Some(21)]
    );
}

#[tokio::test]
async fn unsigned_integers_are_written_as_the_signed_type_of_their_width_when_they_fit() {
    use arrow::array::{AsArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array};
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let batch = |small: u8| {
        RecordBatch::try_from_iter(vec![
            ("u8", Arc::new(UInt8Array::from(vec![1, small])) as ArrayRef),
            ("u16", Arc::new(UInt16Array::from(vec![1, 300])) as ArrayRef),
            ("u32", Arc::new(UInt32Array::from(vec![1, 70_000])) as ArrayRef),
            ("u64", Arc::new(UInt64Array::from(vec![1, 1 << 40])) as ArrayRef),
        ])
        .unwrap()
    };
    // A value past the signed type's range is refused, and nothing is created.
    let err = DeltaTable::write(location)
        .with_batches(vec![batch(200)])
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::Schema(_)), "{err}");
    assert!(err.to_string().contains("u8"), "{err}");
    assert!(DeltaTable::open(location).await.is_err());

    let table = DeltaTable::write(location)
        .with_batches(vec![batch(100)])
        .await
        .unwrap();
    let types: Vec<String> = table
        .snapshot()
        .schema()
        .fields
        .iter()
        .map(|f| serde_json::to_string(&f.data_type).unwrap())
        .collect();
    assert_eq!(types, [r#""byte""#, r#""short""#, r#""integer""#, r#""long""#]);
    let rows = table.scan().build().unwrap().collect().await.unwrap();
    let u64s = rows[0].column(3).as_primitive::<arrow::datatypes::Int64Type>();
    assert_eq!(u64s.values().to_vec(), [1, 1 << 40]);
    let u8s = rows[0].column(0).as_primitive::<arrow::datatypes::Int8Type>();
    assert_eq!(u8s.values().to_vec(), [1, 100]);
}

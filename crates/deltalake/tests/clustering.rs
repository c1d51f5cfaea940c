//! Liquid clustering: clustering columns at creation and by ALTER, writes to clustered tables,
//! incremental clustering by OPTIMIZE, file skipping on clustering columns, and a clustered
//! table written by Databricks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use common::{commit_actions, commit_info, render_sorted_rows};
use deltalake::clustering::{CLUSTERING_DOMAIN, CLUSTERING_PROVIDER};
use deltalake::operations::optimize::OptimizeType;
use deltalake::operations::write::{SaveMode, SchemaMode};
use deltalake::protocol::{Action, DataType, PrimitiveType, StructField, StructType};
use deltalake::{DeltaError, DeltaTable};

fn schema() -> StructType {
    let long = || DataType::Primitive(PrimitiveType::Long);
    StructType::new(vec![
        StructField::new("id", long(), true),
        StructField::new("x", long(), true),
        StructField::new("y", long(), true),
        StructField::new("name", DataType::Primitive(PrimitiveType::String), true),
        StructField::new("flag", DataType::Primitive(PrimitiveType::Boolean), true),
    ])
}

/// Rows `ids` with `x` and `y` scattered over `0..1000` (a different permutation each).
fn batch(ids: std::ops::Range<i64>) -> RecordBatch {
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef),
        (
            "x",
            Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| (i * 7919) % 1000))) as _,
        ),
        (
            "y",
            Arc::new(Int64Array::from_iter_values(
                ids.clone().map(|i| (i * 104_729 + 13) % 1000),
            )) as _,
        ),
        (
            "name",
            Arc::new(StringArray::from_iter_values(ids.clone().map(|i| format!("n{i}")))) as _,
        ),
        (
            "flag",
            Arc::new(BooleanArray::from_iter(ids.map(|i| Some(i % 2 == 0)))) as _,
        ),
    ])
    .unwrap()
}

async fn create(dir: &Path, columns: &[&str], properties: &[(&str, &str)]) -> DeltaTable {
    let mut create = DeltaTable::create(dir.to_str().unwrap())
        .with_schema(schema())
        .with_clustering_columns(columns.iter().copied());
    for (k, v) in properties {
        create = create.with_property(*k, *v);
    }
    create.await.unwrap()
}

/// Append `files` commits of `rows` rows each, starting at id `start`.
async fn append(table: DeltaTable, start: i64, files: i64, rows: i64) -> DeltaTable {
    let mut table = table;
    for i in 0..files {
        let from = start + i * rows;
        table = DeltaTable::write(table.uri())
            .with_batches(vec![batch(from..from + rows)])
            .with_mode(SaveMode::Append)
            .await
            .unwrap();
    }
    table
}

async fn rows(table: &DeltaTable) -> Vec<String> {
    let batches = table.scan().build().unwrap().collect().await.unwrap();
    render_sorted_rows(&batches, table.snapshot().arrow_schema()).unwrap()
}

fn paths(table: &DeltaTable) -> HashSet<String> {
    table.snapshot().files().iter().map(|f| f.path().to_string()).collect()
}

/// How many files a scan with this predicate reads.
fn files_scanned(table: &DeltaTable, predicate: &str) -> usize {
    table.scan().with_predicate(predicate).build().unwrap().files().len()
}

#[tokio::test]
async fn creation_records_the_clustering_columns_and_features() {
    let dir = tempfile::tempdir().unwrap();
    let table = create(dir.path(), &["x", "Y"], &[]).await;
    let snapshot = table.snapshot();
    assert_eq!(
        snapshot.clustering_columns().unwrap(),
        Some(vec!["x".to_string(), "y".to_string()])
    );
    let protocol = snapshot.protocol();
    assert_eq!((protocol.min_reader_version, protocol.min_writer_version), (1, 7));
    assert!(protocol.has_writer_feature("clustering") && protocol.has_writer_feature("domainMetadata"));
    let domain = &snapshot.domain_metadata()[CLUSTERING_DOMAIN];
    let configuration: serde_json::Value = serde_json::from_str(&domain.configuration).unwrap();
    assert_eq!(configuration["clusteringColumns"], serde_json::json!([["x"], ["y"]]));
    let info = serde_json::to_value(commit_info(&table, 0).await).unwrap();
    assert_eq!(info["operationParameters"]["clusterBy"], r#"["x","Y"]"#);

    // An unclustered table has none.
    let plain = tempfile::tempdir().unwrap();
    let table = DeltaTable::create(plain.path().to_str().unwrap())
        .with_schema(schema())
        .await
        .unwrap();
    assert_eq!(table.snapshot().clustering_columns().unwrap(), None);
}

#[tokio::test]
async fn column_mapping_keeps_physical_names_in_the_domain() {
    let dir = tempfile::tempdir().unwrap();
    let table = create(dir.path(), &["x"], &[("delta.columnMapping.mode", "name")]).await;
    let snapshot = table.snapshot();
    let physical = snapshot.schema().field("x").unwrap().physical_name().to_string();
    assert_ne!(physical, "x");
    assert!(
        snapshot.domain_metadata()[CLUSTERING_DOMAIN]
            .configuration
            .contains(&physical)
    );
    assert_eq!(snapshot.clustering_columns().unwrap(), Some(vec!["x".to_string()]));
}

#[tokio::test]
async fn bad_clustering_columns_leave_no_table() {
    /// Clustering columns, partition columns, properties and the error expected.
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (&["nope"], &[], &[], "does not exist"),
        (&["flag"], &[], &[], "no minimum and maximum"),
        (&["x"], &["name"], &[], "partitioned and clustered"),
        (
            &["name"],
            &[],
            &[("delta.dataSkippingNumIndexedCols", "2")],
            "no statistics",
        ),
        (&["id", "x", "y", "name", "id"], &[], &[], "at most 4"),
    ];
    for (columns, partitions, properties, message) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut create = DeltaTable::create(dir.path().to_str().unwrap())
            .with_schema(schema())
            .with_partition_columns(partitions.iter().copied())
            .with_clustering_columns(columns.iter().copied());
        for (k, v) in properties {
            create = create.with_property(*k, *v);
        }
        let err = create.await.unwrap_err();
        assert!(
            matches!(&err, DeltaError::InvalidArgument(m) if m.contains(message)),
            "{columns:?}: {err}"
        );
        assert!(!dir.path().join("_delta_log").exists());
    }
}

#[tokio::test]
async fn alter_sets_changes_and_drops_clustering_columns() {
    let dir = tempfile::tempdir().unwrap();
    let table = DeltaTable::create(dir.path().to_str().unwrap())
        .with_schema(schema())
        .await
        .unwrap();
    let table = append(table, 0, 1, 10).await;

    // An unclustered, unpartitioned table becomes clustered.
    let table = table.alter().cluster_by(["x"]).await.unwrap();
    assert_eq!(table.version(), 2);
    assert_eq!(
        table.snapshot().clustering_columns().unwrap(),
        Some(vec!["x".to_string()])
    );
    assert!(table.snapshot().protocol().has_writer_feature("clustering"));
    let info = serde_json::to_value(commit_info(&table, 2).await).unwrap();
    assert_eq!(info["operation"], "CLUSTER BY");
    assert_eq!(info["operationParameters"]["newClusteringColumns"], "x");

    // The same columns again: nothing to commit.
    let table = table.alter().cluster_by(["x"]).await.unwrap();
    assert_eq!(table.version(), 2);

    let table = table.alter().cluster_by(["y", "id"]).await.unwrap();
    assert_eq!(
        table.snapshot().clustering_columns().unwrap(),
        Some(vec!["y".to_string(), "id".to_string()])
    );
    let actions = commit_actions(&table, 3).await;
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::Protocol(_) | Action::Metadata(_)))
    );

    // CLUSTER BY NONE: still a clustered table, without columns.
    let table = table.alter().cluster_by(Vec::<String>::new()).await.unwrap();
    assert_eq!(table.snapshot().clustering_columns().unwrap(), Some(vec![]));

    let err = table.alter().cluster_by(["flag"]).await.unwrap_err();
    assert!(err.to_string().contains("no minimum and maximum"), "{err}");

    // Clustering columns keep their statistics.
    let table = table.alter().cluster_by(["name"]).await.unwrap();
    let properties = [("delta.dataSkippingNumIndexedCols".to_string(), "1".to_string())].into();
    let err = table.alter().set_properties(properties).await.unwrap_err();
    assert!(err.to_string().contains("cannot cluster by 'name'"), "{err}");

    // A partitioned table cannot be clustered.
    let partitioned = tempfile::tempdir().unwrap();
    let table = DeltaTable::create(partitioned.path().to_str().unwrap())
        .with_schema(schema())
        .with_partition_columns(["name"])
        .await
        .unwrap();
    let err = table.alter().cluster_by(["x"]).await.unwrap_err();
    assert!(err.to_string().contains("partitioned and clustered"), "{err}");
}

#[tokio::test]
async fn writes_to_clustered_tables_are_allowed_unclustered_and_never_partitioned() {
    let dir = tempfile::tempdir().unwrap();
    let table = create(dir.path(), &["x"], &[]).await;
    let table = append(table, 0, 2, 20).await;
    assert_eq!(table.snapshot().files().len(), 2);
    for file in table.snapshot().files().iter() {
        assert_eq!(file.to_add().clustering_provider, None);
    }
    let (table, _) = table.delete().with_predicate("id < 5").await.unwrap();
    let (table, _) = table
        .update()
        .with_predicate("id = 7")
        .with_update("x", "1")
        .await
        .unwrap();
    assert_eq!(rows(&table).await.len(), 35);

    let overwrite = || {
        DeltaTable::write(table.uri())
            .with_batches(vec![batch(0..10)])
            .with_mode(SaveMode::Overwrite)
            .with_schema_mode(SchemaMode::Overwrite)
    };
    let err = overwrite().with_partition_columns(["name"]).await.unwrap_err();
    assert!(err.to_string().contains("cannot be partitioned"), "{err}");
    let without_x = batch(0..10).project(&[0, 2, 3]).unwrap();
    let err = DeltaTable::write(table.uri())
        .with_batches(vec![without_x])
        .with_mode(SaveMode::Overwrite)
        .with_schema_mode(SchemaMode::Overwrite)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("must keep that column"), "{err}");
    let table = overwrite().await.unwrap();
    assert_eq!(rows(&table).await.len(), 10);
}

#[tokio::test]
async fn optimize_clusters_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let table = create(dir.path(), &["x", "y"], &[]).await;
    let table = append(table, 0, 8, 500).await;
    let before = rows(&table).await;
    let total: i64 = table.snapshot().files().iter().map(|f| f.size()).sum();
    // About two files' worth of data.
    let target = (total / 2) as u64;

    let (table, metrics) = table.optimize().with_target_size(target).await.unwrap();
    assert_eq!(rows(&table).await, before);
    assert_eq!(metrics.num_files_removed, 8);
    assert!((2..=3).contains(&metrics.num_files_added), "{metrics:?}");
    assert!(!metrics.preserve_insertion_order);
    let actions = commit_actions(&table, table.version()).await;
    for action in &actions {
        match action {
            Action::Add(a) => {
                assert!(!a.data_change);
                assert_eq!(a.clustering_provider.as_deref(), Some(CLUSTERING_PROVIDER));
                assert!(
                    a.size * 4 >= target as i64,
                    "a small clustered file: {} of {target}",
                    a.size
                );
            }
            Action::Remove(r) => assert!(!r.data_change),
            _ => {}
        }
    }
    let info = serde_json::to_value(commit_info(&table, table.version()).await).unwrap();
    assert_eq!(info["operationParameters"]["clusterBy"], r#"["x","y"]"#);
    assert_eq!(info["operationParameters"]["zOrderBy"], "[]");
    assert_eq!(info["operationMetrics"]["numFilesRemoved"], 8);

    // Nothing new: nothing to do.
    let version = table.version();
    let (table, metrics) = table.optimize().with_target_size(target).await.unwrap();
    assert_eq!((table.version(), metrics.num_files_removed), (version, 0));
    assert_eq!(metrics.total_files_skipped, table.snapshot().files().len());

    // After an append, only the new files are clustered.
    let clustered = paths(&table);
    let table = append(table, 4000, 2, 500).await;
    let new: HashSet<String> = paths(&table).difference(&clustered).cloned().collect();
    assert_eq!(new.len(), 2);
    let before = rows(&table).await;
    let (table, metrics) = table.optimize().with_target_size(target).await.unwrap();
    assert_eq!(rows(&table).await, before);
    let removed: HashSet<String> = commit_actions(&table, table.version())
        .await
        .into_iter()
        .filter_map(|a| match a {
            Action::Remove(r) => Some(r.path),
            _ => None,
        })
        .collect();
    assert_eq!(removed, new);
    assert_eq!(metrics.total_files_skipped, clustered.len());
    assert!(clustered.is_subset(&paths(&table)));
    assert!(
        table
            .snapshot()
            .files()
            .iter()
            .all(|f| f.to_add().clustering_provider.is_some())
    );
}

#[tokio::test]
async fn clustering_makes_range_predicates_skip_files() {
    let dir = tempfile::tempdir().unwrap();
    let table = create(dir.path(), &["x", "y"], &[]).await;
    // Every file spans the whole range of x and y.
    let table = append(table, 0, 16, 400).await;
    let total: i64 = table.snapshot().files().iter().map(|f| f.size()).sum();
    for predicate in ["x < 250", "y >= 750", "x < 500 AND y < 500"] {
        assert_eq!(files_scanned(&table, predicate), 16, "{predicate}");
    }
    let before = rows(&table).await;
    let (table, _) = table.optimize().with_target_size((total / 8) as u64).await.unwrap();
    assert_eq!(rows(&table).await, before);
    let files = table.snapshot().files().len();
    assert!(files >= 6, "{files} files");
    for predicate in ["x < 250", "y >= 750", "x < 500 AND y < 500"] {
        let scanned = files_scanned(&table, predicate);
        assert!(scanned * 4 <= files * 3, "{predicate}: {scanned} of {files} files");
    }
    let count = |batches: Vec<RecordBatch>| batches.iter().map(RecordBatch::num_rows).sum::<usize>();
    let matching = count(
        table
            .scan()
            .with_predicate("x < 250")
            .build()
            .unwrap()
            .collect()
            .await
            .unwrap(),
    );
    let expected = (0..6400i64).filter(|i| (i * 7919) % 1000 < 250).count();
    assert_eq!(matching, expected);
}

#[tokio::test]
async fn optimize_reclusters_files_with_deletion_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let table = create(dir.path(), &["x"], &[("delta.enableDeletionVectors", "true")]).await;
    let table = append(table, 0, 4, 200).await;
    let (table, _) = table.optimize().await.unwrap();
    assert_eq!(table.snapshot().files().len(), 1);
    let (table, _) = table.delete().with_predicate("id % 10 = 0").await.unwrap();
    assert!(table.snapshot().files().iter().any(|f| f.deletion_vector().is_some()));
    let before = rows(&table).await;
    let (table, metrics) = table.optimize().await.unwrap();
    assert_eq!(metrics.num_files_removed, 1);
    assert_eq!(rows(&table).await, before);
    let files: Vec<_> = table.snapshot().files().iter().map(|f| f.to_add()).collect();
    assert!(
        files
            .iter()
            .all(|a| a.deletion_vector.is_none() && a.clustering_provider.is_some())
    );
}

#[tokio::test]
async fn clustered_tables_refuse_z_order_and_unclustered_ones_compact() {
    let dir = tempfile::tempdir().unwrap();
    let table = create(dir.path(), &["x"], &[]).await;
    let table = append(table, 0, 3, 50).await;
    let err = table
        .optimize()
        .with_type(OptimizeType::ZOrder(vec!["y".into()]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeltaError::InvalidArgument(m) if m.contains("clustered")),
        "{err}"
    );

    // Without clustering columns, optimize compacts.
    let table = table.alter().cluster_by(Vec::<String>::new()).await.unwrap();
    let (table, metrics) = table.optimize().await.unwrap();
    assert_eq!(metrics.num_files_removed, 3);
    assert!(metrics.preserve_insertion_order);
    assert!(
        table
            .snapshot()
            .files()
            .iter()
            .all(|f| f.to_add().clustering_provider.is_none())
    );
}

#[tokio::test]
async fn the_clustering_columns_of_a_databricks_table_are_read() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_table("table_with_liquid_clustering", dir.path());
    let table = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    assert_eq!(
        table.snapshot().clustering_columns().unwrap(),
        Some(vec!["id".to_string()])
    );
    assert_eq!(rows(&table).await.len(), 10);
    // Its preview `liquid` writer feature is not one this crate writes.
    let err = table.optimize().await.unwrap_err();
    assert!(
        matches!(&err, DeltaError::UnsupportedFeature { features, .. } if features.contains(&"liquid".to_string()))
    );
}

//! SQL over Delta tables through DataFusion: rows against what the reference reader saw, file
//! skipping visible in the physical plan, aggregates, joins, deletion vectors and column mapping.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::sync::Arc;

use arrow::array::{AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema};
use common::{copy_table, expected_dir, read_expected_rows, render_sorted_rows, tables_dir};
use datafusion::logical_expr::TableProviderFilterPushDown;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext, col, lit};
use deltalake::datafusion::bridge::stream_from_datafusion;
use deltalake::datafusion::{DeltaScanExec, DeltaSessionExt, DeltaTableProvider};
use deltalake::operations::write::SaveMode;
use deltalake::{DeltaError, DeltaTable};
use futures::TryStreamExt;
use serde_json::Value;

async fn open(name: &str) -> DeltaTable {
    DeltaTable::open(tables_dir().join(name).to_str().unwrap())
        .await
        .unwrap()
}

/// A session with `tables` of the shared test data registered under their names (`-` as `_`).
async fn session(tables: &[&str]) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    for name in tables {
        ctx.register_delta(&name.replace(['-', '.'], "_"), &open(name).await)
            .unwrap();
    }
    ctx
}

/// Run `query`, with its result in the crate's Arrow.
async fn sql(ctx: &SessionContext, query: &str) -> Result<Vec<RecordBatch>, DeltaError> {
    let stream = ctx.sql(query).await?.execute_stream().await?;
    let (_, batches) = stream_from_datafusion(stream)?;
    batches.try_collect().await
}

/// The physical plan of `query`.
async fn plan(ctx: &SessionContext, query: &str) -> Arc<dyn ExecutionPlan> {
    ctx.sql(query).await.unwrap().create_physical_plan().await.unwrap()
}

/// Every Delta scan of `plan`.
fn delta_scans(plan: &Arc<dyn ExecutionPlan>) -> Vec<&DeltaScanExec> {
    let mut scans: Vec<&DeltaScanExec> = (plan.as_ref() as &dyn std::any::Any)
        .downcast_ref::<DeltaScanExec>()
        .into_iter()
        .collect();
    for child in plan.children() {
        scans.extend(delta_scans(child));
    }
    scans
}

fn plan_text(plan: &Arc<dyn ExecutionPlan>) -> String {
    datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string()
}

fn longs(batches: &[RecordBatch], column: usize) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| b.column(column).as_primitive::<Int64Type>().iter().collect::<Vec<_>>())
        .collect()
}

fn strings(batches: &[RecordBatch], column: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let column = arrow::compute::cast(b.column(column), &DataType::Utf8).unwrap();
            column
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or("∅").to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Tables whose expected rows are wrong (see `conformance.rs`) or that the reference could not read.
fn has_trusted_rows(table: &str, meta: &Value) -> bool {
    table != "table_with_column_mapping" && meta["rows_file"].is_string()
}

#[tokio::test]
async fn select_star_matches_the_reference_rows_of_every_table() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(expected_dir()).unwrap() {
        let table = entry.unwrap().file_name().to_string_lossy().into_owned();
        let meta: Value =
            serde_json::from_slice(&std::fs::read(expected_dir().join(&table).join("meta.json")).unwrap()).unwrap();
        if !has_trusted_rows(&table, &meta) || !tables_dir().join(&table).exists() {
            continue;
        }
        let expected = read_expected_rows(&expected_dir().join(&table).join("rows.parquet"));
        let Some(first) = expected.first() else { continue };
        let schema = first.schema();
        let ctx = SessionContext::new();
        ctx.register_delta("t", &open(&table).await).unwrap();
        let result = sql(&ctx, "SELECT * FROM t").await;
        let outcome = result.map_err(|e| e.to_string()).and_then(|ours| {
            let ours = render_sorted_rows(&ours, &schema)?;
            let theirs = render_sorted_rows(&expected, &schema)?;
            if ours == theirs {
                Ok(())
            } else {
                Err(format!(
                    "{} rows differ from the reference's {}",
                    ours.len(),
                    theirs.len()
                ))
            }
        });
        match outcome {
            Ok(()) => checked += 1,
            Err(e) => failures.push(format!("{table}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked >= 25, "only {checked} tables checked");
}

#[tokio::test]
async fn partition_filters_prune_files_and_are_applied_exactly() {
    let ctx = session(&["delta-0.8.0-partitioned"]).await;
    let query = "SELECT value, day FROM delta_0_8_0_partitioned WHERE year = '2021' AND month = '12'";
    let physical = plan(&ctx, query).await;
    let scans = delta_scans(&physical);
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].table_files(), 6);
    assert_eq!(scans[0].files().count(), 2, "{}", plan_text(&physical));
    // The filter is exact: DataFusion does not filter again.
    assert!(!plan_text(&physical).contains("FilterExec"), "{}", plan_text(&physical));

    let batches = sql(&ctx, query).await.unwrap();
    let mut rows: Vec<String> = strings(&batches, 0)
        .into_iter()
        .zip(strings(&batches, 1))
        .map(|(v, d)| format!("{v}@{d}"))
        .collect();
    rows.sort();
    assert_eq!(rows, ["5@4", "6@20", "7@20"]);
}

#[tokio::test]
async fn filters_without_an_exact_equivalent_are_left_to_datafusion() {
    let table = open("delta-0.8.0-partitioned").await;
    let provider = DeltaTableProvider::try_new(&table).unwrap();
    let exact = col("year").eq(lit("2020"));
    let with_function = col("year")
        .eq(lit("2020"))
        .or(datafusion::functions::expr_fn::length(col("value")).gt(lit(1)));
    let unknown_column = col("missing").eq(lit(1));
    use datafusion::datasource::TableProvider;
    let pushdown = provider
        .supports_filters_pushdown(&[&exact, &with_function, &unknown_column])
        .unwrap();
    assert!(matches!(pushdown[0], TableProviderFilterPushDown::Exact));
    assert!(matches!(pushdown[1], TableProviderFilterPushDown::Unsupported));
    assert!(matches!(pushdown[2], TableProviderFilterPushDown::Unsupported));

    let ctx = session(&["delta-0.8.0-partitioned"]).await;
    let query = "SELECT value FROM delta_0_8_0_partitioned WHERE year = '2020' AND length(value) = 1 ORDER BY value";
    let physical = plan(&ctx, query).await;
    assert!(plan_text(&physical).contains("FilterExec"), "{}", plan_text(&physical));
    assert_eq!(delta_scans(&physical)[0].files().count(), 3);
    let batches = sql(&ctx, query).await.unwrap();
    assert_eq!(strings(&batches, 0), ["1", "2", "3"]);
}

/// A table of `id` (0..30) and `name`, written as three files of ten rows each.
async fn three_file_table(dir: &std::path::Path) -> DeltaTable {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let mut table = None;
    for file in 0..3i64 {
        let ids: Vec<i64> = (file * 10..file * 10 + 10).collect();
        let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(ids)), Arc::new(StringArray::from(names))],
        )
        .unwrap();
        table = Some(
            DeltaTable::write(dir.to_str().unwrap())
                .with_batches(vec![batch])
                .with_mode(SaveMode::Append)
                .await
                .unwrap(),
        );
    }
    table.unwrap()
}

#[tokio::test]
async fn data_column_filters_skip_files_by_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let table = three_file_table(dir.path()).await;
    let ctx = SessionContext::new();
    ctx.register_delta("t", &table).unwrap();
    let query = "SELECT id FROM t WHERE id >= 18 AND id < 21 ORDER BY id";
    let physical = plan(&ctx, query).await;
    assert_eq!(delta_scans(&physical)[0].files().count(), 2, "{}", plan_text(&physical));
    assert_eq!(
        longs(&sql(&ctx, query).await.unwrap(), 0),
        [Some(18), Some(19), Some(20)]
    );

    let physical = plan(&ctx, "SELECT name FROM t WHERE id IN (3, 25)").await;
    assert_eq!(delta_scans(&physical)[0].files().count(), 2);
    let physical = plan(&ctx, "SELECT name FROM t WHERE id > 100").await;
    assert_eq!(delta_scans(&physical)[0].files().count(), 0);
    assert!(
        sql(&ctx, "SELECT name FROM t WHERE id > 100")
            .await
            .unwrap()
            .iter()
            .all(|b| b.num_rows() == 0)
    );
}

#[tokio::test]
async fn a_limit_reads_only_the_files_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let table = three_file_table(dir.path()).await;
    let ctx = SessionContext::new();
    ctx.register_delta("t", &table).unwrap();
    let physical = plan(&ctx, "SELECT * FROM t LIMIT 5").await;
    assert_eq!(delta_scans(&physical)[0].files().count(), 1, "{}", plan_text(&physical));
    let rows: usize = sql(&ctx, "SELECT * FROM t LIMIT 5")
        .await
        .unwrap()
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 5);
    let rows: usize = sql(&ctx, "SELECT * FROM t LIMIT 25")
        .await
        .unwrap()
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 25);
}

#[tokio::test]
async fn aggregates_group_by_partition_columns() {
    let ctx = session(&["delta-0.8.0-partitioned"]).await;
    let batches = sql(
        &ctx,
        "SELECT year, count(*) AS n, max(CAST(value AS INT)) AS top FROM delta_0_8_0_partitioned GROUP BY year ORDER BY year",
    )
    .await
    .unwrap();
    let years = strings(&batches, 0);
    let counts = longs(&batches, 1);
    let tops = strings(&batches, 2);
    // From the reference's rows: 2020 holds values 1..3, 2021 holds 4..7.
    let expected = read_expected_rows(&expected_dir().join("delta-0.8.0-partitioned").join("rows.parquet"));
    let mut by_year = std::collections::BTreeMap::<String, (i64, i32)>::new();
    for (value, year) in strings(&expected, 0).into_iter().zip(strings(&expected, 1)) {
        let entry = by_year.entry(year).or_insert((0, i32::MIN));
        entry.0 += 1;
        entry.1 = entry.1.max(value.parse().unwrap());
    }
    assert_eq!(years, by_year.keys().cloned().collect::<Vec<_>>());
    assert_eq!(counts, by_year.values().map(|v| Some(v.0)).collect::<Vec<_>>());
    assert_eq!(tops, by_year.values().map(|v| v.1.to_string()).collect::<Vec<_>>());
}

#[tokio::test]
async fn deletion_vectors_are_honoured_in_counts_and_sums() {
    let ctx = session(&["table-with-dv-small"]).await;
    let batches = sql(&ctx, "SELECT count(*), sum(value), min(value) FROM table_with_dv_small")
        .await
        .unwrap();
    assert_eq!(longs(&batches, 0), [Some(8)]);
    assert_eq!(longs(&batches, 1), [Some(36)]);
    assert_eq!(batches[0].column(2).as_primitive::<Int32Type>().value(0), 1);
    // The exact row count (statistics less the deletion vector) answers `count(*)` without a scan.
    let physical = plan(&ctx, "SELECT count(*) FROM table_with_dv_small").await;
    assert!(delta_scans(&physical).is_empty(), "{}", plan_text(&physical));

    let batches = sql(
        &ctx,
        "SELECT value FROM table_with_dv_small WHERE value > 6 ORDER BY value",
    )
    .await
    .unwrap();
    let values: Vec<i32> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
        .collect();
    assert_eq!(values, [7, 8]);
}

#[tokio::test]
async fn column_mapping_exposes_logical_names() {
    let ctx = session(&["table_with_column_mapping", "table_with_partitioning_mapping"]).await;
    let batches = sql(
        &ctx,
        r#"SELECT "Super Name" FROM table_with_column_mapping WHERE "Super Name" LIKE '%n%' ORDER BY 1"#,
    )
    .await
    .unwrap();
    assert_eq!(
        strings(&batches, 0),
        [
            "Anthony Johnson",
            "Mr. Daniel Ferguson MD",
            "Nathan Bennett",
            "Stephanie Mcgrath"
        ]
    );
    let batches = sql(
        &ctx,
        "SELECT count(*), count(newid) FROM table_with_partitioning_mapping",
    )
    .await
    .unwrap();
    assert_eq!(longs(&batches, 0), [Some(2)]);
    assert_eq!(longs(&batches, 1), [Some(2)]);
}

#[tokio::test]
async fn joins_two_delta_tables() {
    let dir = tempfile::tempdir().unwrap();
    let names = three_file_table(dir.path()).await;
    let ctx = session(&["table-with-dv-small"]).await;
    ctx.register_delta("names", &names).unwrap();
    let batches = sql(
        &ctx,
        "SELECT v.value, n.name FROM table_with_dv_small v JOIN names n ON CAST(v.value AS BIGINT) = n.id \
         WHERE n.id < 5 ORDER BY v.value",
    )
    .await
    .unwrap();
    assert_eq!(strings(&batches, 0), ["1", "2", "3", "4"]);
    assert_eq!(strings(&batches, 1), ["n1", "n2", "n3", "n4"]);
}

#[tokio::test]
async fn registering_a_snapshot_pins_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let table = three_file_table(dir.path()).await;
    let first = DeltaTable::builder(dir.path().to_str().unwrap())
        .with_version(0)
        .load()
        .await
        .unwrap();
    let ctx = SessionContext::new();
    ctx.register_delta("now", &table).unwrap();
    ctx.register_delta("then", &first).unwrap();
    let batches = sql(
        &ctx,
        "SELECT (SELECT count(*) FROM now) AS a, (SELECT count(*) FROM then) AS b",
    )
    .await
    .unwrap();
    assert_eq!(longs(&batches, 0), [Some(30)]);
    assert_eq!(longs(&batches, 1), [Some(10)]);
    // Registering again under the same name replaces the table.
    ctx.register_delta("then", &table).unwrap();
    assert_eq!(
        longs(&sql(&ctx, "SELECT count(*) FROM then").await.unwrap(), 0),
        [Some(30)]
    );
}

#[tokio::test]
async fn a_missing_data_file_fails_the_query_with_our_error() {
    let dir = tempfile::tempdir().unwrap();
    copy_table("delta-0.8.0", dir.path());
    let table = DeltaTable::open(dir.path().to_str().unwrap()).await.unwrap();
    let victim = table.snapshot().files().iter().next().unwrap().path().to_string();
    std::fs::remove_file(dir.path().join(&victim)).unwrap();
    let ctx = SessionContext::new();
    ctx.register_delta("t", &table).unwrap();
    let err = sql(&ctx, "SELECT * FROM t").await.unwrap_err();
    assert!(matches!(err, DeltaError::FileNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(&victim), "{err}");
}

//! Filtered scans over the shared tables: the rows equal the full scan's rows filtered by an
//! independent Rust predicate, and files that cannot match are not read.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use common::{render_sorted_rows, tables_dir};
use deltalake::protocol::Scalar;
use deltalake::{DeltaError, DeltaTable, col, lit};

/// One row of a batch, read by column name.
struct Row<'a> {
    batch: &'a RecordBatch,
    row: usize,
}

impl Row<'_> {
    fn get(&self, name: &str) -> Scalar {
        let column = self
            .batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        Scalar::from_array(column.as_ref(), self.row).unwrap()
    }

    fn string(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Scalar::String(s) => Some(s),
            Scalar::Null(_) => None,
            other => panic!("{name} is {other:?}"),
        }
    }

    fn long(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Scalar::Integer(v) => Some(i64::from(v)),
            Scalar::Long(v) => Some(v),
            Scalar::Null(_) => None,
            other => panic!("{name} is {other:?}"),
        }
    }
}

async fn open(table: &str) -> DeltaTable {
    DeltaTable::open(tables_dir().join(table).to_str().unwrap())
        .await
        .unwrap()
}

/// Scan `table` with `predicate` and check the rows against the full scan filtered by `oracle`.
/// Returns how many files the filtered scan reads, and how many the table has.
async fn check(table: &str, predicate: &str, oracle: impl Fn(&Row) -> bool) -> (usize, usize) {
    let t = open(table).await;
    let full_scan = t.scan().build().unwrap();
    let schema = full_scan.schema();
    let full = full_scan.collect().await.unwrap();
    let expected: Vec<RecordBatch> = full
        .iter()
        .map(|batch| {
            let mask: BooleanArray = (0..batch.num_rows())
                .map(|row| Some(oracle(&Row { batch, row })))
                .collect();
            filter_record_batch(batch, &mask).unwrap()
        })
        .collect();
    let filtered_scan = t
        .scan()
        .with_predicate(predicate)
        .build()
        .unwrap_or_else(|e| panic!("{table}: {predicate}: {e}"));
    let filtered = filtered_scan.collect().await.unwrap();
    let ours = render_sorted_rows(&filtered, &schema).unwrap();
    let theirs = render_sorted_rows(&expected, &schema).unwrap();
    assert_eq!(ours, theirs, "{table}: {predicate}");
    (filtered_scan.files().len(), t.snapshot().files().len())
}

#[tokio::test]
async fn partition_predicates_keep_only_matching_partitions() {
    let table = "delta-0.8.0-partitioned";
    let (kept, total) = check(table, "year = '2021'", |r| r.string("year").as_deref() == Some("2021")).await;
    let in_2021 = open(table)
        .await
        .snapshot()
        .files()
        .iter()
        .filter(|f| f.partition_values().get("year") == Some(&Some("2021")))
        .count();
    assert!(in_2021 > 0 && in_2021 < total);
    assert_eq!(kept, in_2021);
    let (kept, _) = check(table, "month = '2' AND day = '5'", |r| {
        r.string("month").as_deref() == Some("2") && r.string("day").as_deref() == Some("5")
    })
    .await;
    assert_eq!(kept, 1);
    let (kept, _) = check(table, "NOT (year = '2020') OR value LIKE '%2%'", |r| {
        r.string("year").as_deref() != Some("2020") || r.string("value").is_some_and(|v| v.contains('2'))
    })
    .await;
    assert_eq!(kept, total, "value has no statistics: every 2020 file may match");

    let table = "delta-0.8.0-null-partition";
    let (kept, total) = check(table, "k IS NULL", |r| r.string("k").is_none()).await;
    assert_eq!((kept, total), (1, 2));
    let (kept, _) = check(table, "k = 'A'", |r| r.string("k").as_deref() == Some("A")).await;
    assert_eq!(kept, 1);
    let (kept, _) = check(table, "k != 'A'", |_| false).await;
    assert_eq!(kept, 0, "k != 'A' is NULL for the null partition");

    let table = "delta-2.2.0-partitioned-types";
    let (kept, total) = check(table, "c1 = 5", |r| r.long("c1") == Some(5)).await;
    assert_eq!((kept, total), (1, 3));
    let (kept, _) = check(table, "c1 >= 5 AND c2 IN ('a', 'z')", |r| {
        r.long("c1").is_some_and(|v| v >= 5) && matches!(r.string("c2").as_deref(), Some("a" | "z"))
    })
    .await;
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn statistics_skip_files_whose_range_cannot_match() {
    let table = "delta-2.2.0-partitioned-types";
    let (kept, _) = check(table, "c3 > 5", |r| r.long("c3").is_some_and(|v| v > 5)).await;
    assert_eq!(kept, 1, "c3 ranges are [4,4], [5,5], [6,6]");
    let (kept, _) = check(table, "c3 = 5 OR c1 = 6", |r| {
        r.long("c3") == Some(5) || r.long("c1") == Some(6)
    })
    .await;
    assert_eq!(kept, 2);

    let table = "COVID-19_NYT";
    let (kept, total) = check(table, "date < '2020-02-01' AND state = 'Washington'", |r| {
        r.string("date").is_some_and(|d| d.as_str() < "2020-02-01")
            && r.string("state").as_deref() == Some("Washington")
    })
    .await;
    assert_eq!((kept, total), (1, 8));
    let (kept, _) = check(
        table,
        "date BETWEEN '2020-06-01' AND '2020-06-02' AND cases > 100000",
        |r| {
            r.string("date")
                .is_some_and(|d| ("2020-06-01"..="2020-06-02").contains(&d.as_str()))
                && r.long("cases").is_some_and(|c| c > 100_000)
        },
    )
    .await;
    assert_eq!(kept, 1);
    let (kept, _) = check(table, "cases < 0", |r| r.long("cases").is_some_and(|c| c < 0)).await;
    assert_eq!(kept, 0);
}

#[tokio::test]
async fn deletion_vector_and_column_mapping_tables_filter_correctly() {
    // Rows deleted by the vector stay deleted; the loose bounds still bound the live rows.
    let table = "table-with-dv-small";
    let (kept, _) = check(table, "value > 3 AND value % 2 = 0", |r| {
        r.long("value").is_some_and(|v| v > 3 && v % 2 == 0)
    })
    .await;
    assert_eq!(kept, 1);
    let (kept, _) = check(table, "value > 100", |_| false).await;
    assert_eq!(kept, 0);
    let (kept, _) = check(table, "value IS NULL", |r| r.long("value").is_none()).await;
    assert_eq!(kept, 1, "null counts are not trusted with tightBounds: false");

    // Partition values and statistics are keyed by physical names.
    let table = "table_with_column_mapping";
    let (kept, total) = check(table, "`Company Very Short` = 'BMS'", |r| {
        r.string("Company Very Short").as_deref() == Some("BMS")
    })
    .await;
    assert_eq!((kept, total), (1, 2));
    let (kept, _) = check(table, "\"Super Name\" >= 'T'", |r| {
        r.string("Super Name").is_some_and(|s| s.as_str() >= "T")
    })
    .await;
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn filter_columns_outside_the_projection_are_read_and_dropped() {
    let t = open("delta-0.8.0-partitioned").await;
    let scan = t
        .scan()
        .with_columns(["value"])
        .with_filter(col("year").eq(lit("2020")))
        .with_filter(col("month").not_eq(lit("1")))
        .build()
        .unwrap();
    let schema = scan.schema();
    assert_eq!(schema.fields().len(), 1);
    assert_eq!(schema.field(0).name(), "value");
    let batches = scan.collect().await.unwrap();
    assert!(batches.iter().all(|b| b.num_columns() == 1));
    let full = t.scan().build().unwrap().collect().await.unwrap();
    let mut expected: Vec<String> = Vec::new();
    for batch in &full {
        for row in 0..batch.num_rows() {
            let r = Row { batch, row };
            if r.string("year").as_deref() == Some("2020") && r.string("month").as_deref() != Some("1") {
                expected.push(r.string("value").unwrap_or_default());
            }
        }
    }
    expected.sort();
    let mut ours: Vec<String> = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            ours.push(Row { batch, row }.string("value").unwrap_or_default());
        }
    }
    ours.sort();
    assert!(!expected.is_empty());
    assert_eq!(ours, expected);
}

#[tokio::test]
async fn bad_predicates_fail_at_build_with_a_clear_error() {
    let t = open("delta-0.8.0-partitioned").await;
    let unknown = t.scan().with_predicate("nope = 1").build().unwrap_err();
    assert!(
        matches!(&unknown, DeltaError::InvalidExpression(m) if m.contains("'nope'") && m.contains("value, year, month, day")),
        "{unknown}"
    );
    let syntax = t.scan().with_predicate("year = = 1").build().unwrap_err();
    assert!(syntax.to_string().contains("syntax error at offset 7"), "{syntax}");
    let not_boolean = t.scan().with_predicate("year").build().unwrap_err();
    assert!(not_boolean.to_string().contains("expected a boolean"), "{not_boolean}");
}

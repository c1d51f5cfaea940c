//! The small `id | part | value` tables of the DELETE, UPDATE and MERGE tests.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use deltalake::DeltaTable;
use deltalake::operations::write::SaveMode;

use super::render_sorted_rows;

/// Rows `ids` with `part` = `a` below 10, else `b`, and `value` = `value(id)`.
pub fn id_part_value(ids: impl Iterator<Item = i64> + Clone, value: impl Fn(i64) -> i64) -> RecordBatch {
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef),
        (
            "part",
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| if i < 10 { "a" } else { "b" }),
            )) as _,
        ),
        ("value", Arc::new(Int64Array::from_iter_values(ids.map(value))) as _),
    ])
    .unwrap()
}

/// The value of `id` in the tables of [`table`]: `(id * 37) % 100`.
pub fn old(id: i64) -> i64 {
    (id * 37) % 100
}

/// A table of ids 0..20 (`value` = [`old`]) in two commits (one file each, or one per
/// partition), with `properties`.
pub async fn table(dir: &Path, partitioned: bool, properties: &[(&str, &str)]) -> DeltaTable {
    let location = dir.to_str().unwrap();
    let partitions: Vec<&str> = if partitioned { vec!["part"] } else { vec![] };
    DeltaTable::write(location)
        .with_batches(vec![id_part_value(0..12, old)])
        .with_partition_columns(partitions)
        .with_configuration(properties.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .await
        .unwrap();
    DeltaTable::write(location)
        .with_batches(vec![id_part_value(12..20, old)])
        .with_mode(SaveMode::Append)
        .await
        .unwrap()
}

/// The table's rows as `id | part | value`, sorted.
pub async fn rows(table: &DeltaTable) -> Vec<String> {
    let batches = table.scan().build().unwrap().collect().await.unwrap();
    render_sorted_rows(&batches, table.snapshot().arrow_schema()).unwrap()
}

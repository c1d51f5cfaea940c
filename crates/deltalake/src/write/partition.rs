//! Splitting batches by partition values, and naming partition directories.

use std::collections::HashMap;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::row::{RowConverter, SortField};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::error::DeltaResult;
use crate::protocol::Scalar;
use crate::protocol::actions::StringMap;

/// The directory name Hive-style layouts use for a null partition value.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Characters escaped in partition directory names (those Spark escapes).
const HIVE_ESCAPED: &AsciiSet = &CONTROLS
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'\'')
    .add(b'*')
    .add(b'/')
    .add(b':')
    .add(b'=')
    .add(b'?')
    .add(b'\\')
    .add(0x7f)
    .add(b'{')
    .add(b'[')
    .add(b']')
    .add(b'^');

/// Characters encoded when a relative file path is written into the log as a URI path.
const URI_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// One partition of the rows of a batch.
#[derive(Debug)]
pub struct PartitionSlice {
    /// Partition values keyed by physical column name, serialised per the specification.
    pub values: StringMap,
    /// The directory of the partition, relative to the table root, ending in `/` (empty when unpartitioned).
    pub directory: String,
    /// The rows, without the partition columns.
    pub batch: RecordBatch,
}

/// Split `batch` by the values of its columns at `partition_indices` (named `physical_names` in the
/// log), dropping those columns from the slices.
pub fn split_by_partition(
    batch: &RecordBatch,
    partition_indices: &[usize],
    physical_names: &[String],
) -> DeltaResult<Vec<PartitionSlice>> {
    let data_indices: Vec<usize> = (0..batch.num_columns())
        .filter(|i| !partition_indices.contains(i))
        .collect();
    if partition_indices.is_empty() {
        return Ok(vec![PartitionSlice {
            values: StringMap::new(),
            directory: String::new(),
            batch: batch.project(&data_indices)?,
        }]);
    }
    let columns: Vec<_> = partition_indices.iter().map(|i| batch.column(*i).clone()).collect();
    let converter = RowConverter::new(columns.iter().map(|c| SortField::new(c.data_type().clone())).collect())?;
    let rows = converter.convert_columns(&columns)?;
    let mut groups: HashMap<&[u8], Vec<u32>> = HashMap::new();
    let mut order = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let group = groups.entry(row.data()).or_insert_with(|| {
            order.push(i);
            Vec::new()
        });
        group.push(i as u32);
    }
    let projected = batch.project(&data_indices)?;
    order
        .into_iter()
        .map(|first| {
            let indices = UInt32Array::from(groups[rows.row(first).data()].clone());
            let mut values = StringMap::new();
            for (column, name) in columns.iter().zip(physical_names) {
                let value = Scalar::from_array(column.as_ref(), first)?
                    .to_partition_string()
                    .filter(|s| !s.is_empty());
                values.insert(name.clone(), value);
            }
            let directory = partition_directory(physical_names.iter().map(|n| (n.as_str(), values[n].as_deref())));
            Ok(PartitionSlice {
                values,
                directory,
                batch: take_record_batch(&projected, &indices)?,
            })
        })
        .collect()
}

/// The Hive-style directory of a partition, relative to the table root and ending in `/`:
/// `name=value/` for each column in order, escaped as Spark escapes them (a null or empty value
/// is [`NULL_PARTITION`]).
pub fn partition_directory<'a>(values: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> String {
    values
        .into_iter()
        .map(|(name, value)| {
            let segment = match value.filter(|v| !v.is_empty()) {
                Some(v) => utf8_percent_encode(v, HIVE_ESCAPED).to_string(),
                None => NULL_PARTITION.to_string(),
            };
            format!("{}={segment}/", utf8_percent_encode(name, HIVE_ESCAPED))
        })
        .collect()
}

/// A relative path as it is written in the log: a URI path, with `%` and unsafe characters encoded.
pub fn log_path(relative: &str) -> String {
    utf8_percent_encode(relative, URI_PATH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Int32Array, StringArray};
    use arrow::datatypes::Int32Type;
    use std::sync::Arc;

    #[test]
    fn splits_rows_by_partition_and_escapes_directories() {
        let batch = RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int32Array::from(vec![1, 2, 3, 4])) as _),
            (
                "p",
                Arc::new(StringArray::from(vec![Some("a/b"), None, Some("a/b"), Some("")])) as _,
            ),
        ])
        .unwrap();
        let slices = split_by_partition(&batch, &[1], &["p".into()]).unwrap();
        assert_eq!(slices.len(), 3);
        assert_eq!(slices[0].directory, "p=a%2Fb/");
        assert_eq!(slices[0].values["p"].as_deref(), Some("a/b"));
        assert_eq!(
            slices[0].batch.column(0).as_primitive::<Int32Type>().values().as_ref(),
            &[1, 3]
        );
        assert_eq!(slices[0].batch.num_columns(), 1);
        assert_eq!(slices[1].directory, "p=__HIVE_DEFAULT_PARTITION__/");
        assert_eq!(slices[1].values["p"], None);
        // Empty strings are null partitions, as in Spark.
        assert_eq!(slices[2].values["p"], None);
        assert_eq!(log_path("p=a%2Fb/part 1.parquet"), "p=a%252Fb/part%201.parquet");
    }
}

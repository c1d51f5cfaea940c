//! What an optimize did, under the names Delta records in `commitInfo.operationMetrics`.

use serde_json::{Map, Value};

/// Sizes of a set of files.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileSizeMetrics {
    /// The smallest file, in bytes (0 without files).
    pub min: i64,
    /// The largest file, in bytes (0 without files).
    pub max: i64,
    /// The mean size, in bytes (0 without files).
    pub avg: f64,
    /// How many files.
    pub total_files: usize,
    /// Their total size, in bytes.
    pub total_size: i64,
}

impl FileSizeMetrics {
    /// The metrics of files of these sizes.
    pub(super) fn of(sizes: impl IntoIterator<Item = i64>) -> Self {
        let mut m = Self::default();
        for size in sizes {
            m.min = if m.total_files == 0 { size } else { m.min.min(size) };
            m.max = m.max.max(size);
            m.total_files += 1;
            m.total_size += size;
        }
        if m.total_files > 0 {
            m.avg = m.total_size as f64 / m.total_files as f64;
        }
        m
    }
}

/// What an optimize did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptimizeMetrics {
    /// Data files written.
    pub num_files_added: usize,
    /// Data files removed (rewritten).
    pub num_files_removed: usize,
    /// Sizes of the files written.
    pub files_added: FileSizeMetrics,
    /// Sizes of the files removed.
    pub files_removed: FileSizeMetrics,
    /// Partitions in which files were rewritten.
    pub partitions_optimized: usize,
    /// Groups of files rewritten together (bins).
    pub num_batches: usize,
    /// Files looked at (those of the partitions selected).
    pub total_considered_files: usize,
    /// Files looked at and left as they were.
    pub total_files_skipped: usize,
    /// Whether rows keep their order (compaction) or are reordered (Z-order).
    pub preserve_insertion_order: bool,
}

impl OptimizeMetrics {
    /// The metrics as JSON, as recorded in the commit (the same keys as the serialisation).
    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FileSizeMetrics;

    #[test]
    fn summarises_sizes() {
        let m = FileSizeMetrics::of([30, 10, 20]);
        assert_eq!(
            (m.min, m.max, m.avg, m.total_files, m.total_size),
            (10, 30, 20.0, 3, 60)
        );
        assert_eq!(FileSizeMetrics::of([]), FileSizeMetrics::default());
    }
}

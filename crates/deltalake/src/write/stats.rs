//! Statistics of written data files. This first version records the row count only; column
//! bounds and null counts follow.

use arrow::array::RecordBatch;

use crate::error::DeltaResult;
use crate::protocol::StructType;

/// Which columns get statistics.
#[derive(Debug, Clone, Default)]
pub struct StatsConfig {
    /// How many leaf columns get statistics (`delta.dataSkippingNumIndexedCols`, default 32).
    pub num_indexed_cols: i32,
}

/// Accumulates statistics over the batches written to one file.
#[derive(Debug)]
pub struct StatsCollector {
    num_records: i64,
}

impl StatsCollector {
    /// A collector for files of `schema` (partition columns excluded).
    pub fn new(_schema: &StructType, _partition_columns: &[String], _config: &StatsConfig) -> DeltaResult<Self> {
        Ok(Self { num_records: 0 })
    }

    /// Account for a written batch.
    pub fn update(&mut self, batch: &RecordBatch) -> DeltaResult<()> {
        self.num_records += batch.num_rows() as i64;
        Ok(())
    }

    /// Rows seen so far.
    pub fn num_records(&self) -> i64 {
        self.num_records
    }

    /// The `stats` JSON of an add action.
    pub fn to_json(&self) -> String {
        format!("{{\"numRecords\":{}}}", self.num_records)
    }
}

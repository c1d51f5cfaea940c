//! The benchmark data: rows of (id int64, key string, value float64, ts timestamp(us, UTC), flag
//! bool), generated deterministically from the row number so every run writes the same bytes.

use std::sync::{Arc, LazyLock};

use arrow::array::{BooleanArray, Float64Array, Int64Array, RecordBatch, StringBuilder, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;

/// Rows per generated batch, also the batch size of the scans.
pub const BATCH_SIZE: usize = 8192;

/// Distinct values of the `key` column (few enough for Parquet dictionary encoding).
const DISTINCT_KEYS: u64 = 50_000;

/// 2024-01-01T00:00:00Z in microseconds: the `ts` of row 0; each row is one millisecond later.
pub const FIRST_TS_MICROS: i64 = 1_704_067_200_000_000;

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("flag", DataType::Boolean, true),
    ]))
});

/// The Arrow schema of the benchmark rows.
pub fn schema() -> SchemaRef {
    SCHEMA.clone()
}

/// A well-mixed 64-bit hash of a row number (SplitMix64).
fn mix(row: u64) -> u64 {
    let mut z = row.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `key` value of a row.
pub fn key_of(row: u64) -> String {
    format!("key-{:05}", mix(row) % DISTINCT_KEYS)
}

/// The `flag` value of a row.
pub fn flag_of(row: u64) -> bool {
    mix(row) >> 63 == 1
}

/// Rows `first..first + len` as one batch.
pub fn batch(first: u64, len: usize) -> Result<RecordBatch, ArrowError> {
    let rows = first..first + len as u64;
    let ids = Int64Array::from_iter_values(rows.clone().map(|r| r as i64));
    let mut keys = StringBuilder::with_capacity(len, len * 9);
    for row in rows.clone() {
        keys.append_value(key_of(row));
    }
    let values = Float64Array::from_iter_values(
        rows.clone()
            .map(|r| (mix(r) >> 11) as f64 / (1u64 << 53) as f64 * 1000.0),
    );
    let ts = TimestampMicrosecondArray::from_iter_values(rows.clone().map(|r| FIRST_TS_MICROS + r as i64 * 1000))
        .with_timezone("UTC");
    let flags = BooleanArray::from_iter(rows.map(|r| Some(flag_of(r))));
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(ids),
            Arc::new(keys.finish()),
            Arc::new(values),
            Arc::new(ts),
            Arc::new(flags),
        ],
    )
}

/// Rows `first..first + rows` as batches of [`BATCH_SIZE`] rows, generated lazily.
pub fn batches(first: u64, rows: usize) -> impl Iterator<Item = Result<RecordBatch, ArrowError>> + Send + 'static {
    (0..rows.div_ceil(BATCH_SIZE)).map(move |i| {
        let start = i * BATCH_SIZE;
        batch(first + start as u64, BATCH_SIZE.min(rows - start))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_the_rows_once_in_order() {
        let batches: Vec<_> = batches(0, BATCH_SIZE + 5).collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].num_rows(), 5);
        let ids = batches[1].column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(ids.value(0), BATCH_SIZE as i64);
        assert_eq!(batches[0].schema(), schema());
    }

    #[test]
    fn values_are_deterministic() {
        assert_eq!(key_of(7), key_of(7));
        assert_eq!(batch(3, 4).unwrap(), batch(3, 4).unwrap());
    }
}

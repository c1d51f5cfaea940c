//! Z-order: rows sorted along a Z-order (Morton) curve of several columns, so rows close in
//! every one of those columns land in the same files and statistics skip files for range
//! predicates on any of them.
//!
//! Each column is turned into order-preserving bytes with Arrow's row format (nulls first),
//! truncated or zero-padded to [`KEY_BYTES`]; the keys of the columns are then interleaved bit by
//! bit (most significant first), and rows sorted by the interleaved key.

use arrow::array::{ArrayRef, RecordBatch, UInt64Array};
use arrow::compute::{SortOptions, take_record_batch};
use arrow::row::{RowConverter, SortField};

use crate::error::DeltaResult;

/// Bytes of each column's order-preserving key taken into the Z-order key. Values that agree on
/// these bytes are equal for Z-ordering.
const KEY_BYTES: usize = 16;

/// The rows of `batch` in Z-order of the columns at `columns` (ties keep their order).
pub(super) fn zorder_sort(batch: &RecordBatch, columns: &[usize]) -> DeltaResult<RecordBatch> {
    let arrays: Vec<ArrayRef> = columns.iter().map(|i| batch.column(*i).clone()).collect();
    let keys = interleaved_keys(&arrays, batch.num_rows())?;
    let width = KEY_BYTES * arrays.len();
    let mut order: Vec<usize> = (0..batch.num_rows()).collect();
    order.sort_by(|a, b| keys[a * width..(a + 1) * width].cmp(&keys[b * width..(b + 1) * width]));
    let indices = UInt64Array::from_iter_values(order.into_iter().map(|i| i as u64));
    Ok(take_record_batch(batch, &indices)?)
}

/// The interleaved keys of `rows` rows, `KEY_BYTES * columns.len()` bytes each, back to back.
fn interleaved_keys(columns: &[ArrayRef], rows: usize) -> DeltaResult<Vec<u8>> {
    let keys: Vec<Vec<u8>> = columns
        .iter()
        .map(|c| column_keys(c, rows))
        .collect::<DeltaResult<_>>()?;
    let n = keys.len();
    let width = KEY_BYTES * n;
    let mut out = vec![0u8; rows * width];
    for (row, target) in out.chunks_exact_mut(width.max(1)).enumerate() {
        for (c, key) in keys.iter().enumerate() {
            let source = &key[row * KEY_BYTES..(row + 1) * KEY_BYTES];
            for (byte_index, byte) in source.iter().enumerate().filter(|(_, b)| **b != 0) {
                for bit in 0..8 {
                    if byte & (0x80 >> bit) != 0 {
                        let position = (byte_index * 8 + bit) * n + c;
                        target[position / 8] |= 0x80 >> (position % 8);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The order-preserving keys of one column, [`KEY_BYTES`] per row.
fn column_keys(column: &ArrayRef, rows: usize) -> DeltaResult<Vec<u8>> {
    let options = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let converter = RowConverter::new(vec![SortField::new_with_options(column.data_type().clone(), options)])?;
    let encoded = converter.convert_columns(std::slice::from_ref(column))?;
    let mut keys = vec![0u8; rows * KEY_BYTES];
    for (row, target) in keys.chunks_exact_mut(KEY_BYTES).enumerate() {
        let bytes = encoded.row(row);
        let bytes = bytes.as_ref();
        let len = bytes.len().min(KEY_BYTES);
        target[..len].copy_from_slice(&bytes[..len]);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Int64Array, StringArray};

    use super::*;

    #[test]
    fn sorts_along_the_curve_with_nulls_first() {
        // A 4x4 grid, shuffled; Z-order visits the 2x2 quadrants one after the other.
        let mut points: Vec<(i64, i64)> = (0..4).flat_map(|x| (0..4).map(move |y| (x, y))).collect();
        points.reverse();
        points.push((-1, 0));
        let xs = Int64Array::from_iter(points.iter().map(|p| (p.0 >= 0).then_some(p.0)));
        let ys = Int64Array::from_iter_values(points.iter().map(|p| p.1));
        let batch =
            RecordBatch::try_from_iter(vec![("x", Arc::new(xs) as ArrayRef), ("y", Arc::new(ys) as _)]).unwrap();
        let sorted = zorder_sort(&batch, &[0, 1]).unwrap();
        let xs = sorted.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let ys = sorted.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
        assert!(xs.is_null(0));
        let quadrant = |i: usize| (xs.value(i) / 2, ys.value(i) / 2);
        let quadrants: Vec<_> = (1..17).map(quadrant).collect();
        // Each quadrant's four points are contiguous.
        for chunk in quadrants.chunks(4) {
            assert!(chunk.iter().all(|q| *q == chunk[0]), "{quadrants:?}");
        }
        assert_eq!((xs.value(1), ys.value(1)), (0, 0));
    }

    #[test]
    fn strings_order_by_their_leading_bytes() {
        let names = StringArray::from(vec!["b", "a", "c"]);
        let batch = RecordBatch::try_from_iter(vec![("n", Arc::new(names) as ArrayRef)]).unwrap();
        let sorted = zorder_sort(&batch, &[0]).unwrap();
        let names = sorted.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(names.iter().flatten().collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}

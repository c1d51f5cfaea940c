//! Space-filling curves: rows sorted along a Z-order (Morton) or Hilbert curve of several
//! columns, so rows close in every one of those columns land in the same files and statistics
//! skip files for range predicates on any of them.
//!
//! Each column is encoded in Arrow's order-preserving row format (nulls first) and its rows
//! ranked (equal values share a rank); ranks are scaled to 32 bits so that every column spans the
//! same range whatever its type, width or number of distinct values (like range partition ids).
//! Z-order interleaves the scaled ranks bit by bit, most significant first. Hilbert first maps
//! the ranks to the "transposed" Hilbert index (J. Skilling, *Programming the Hilbert curve*,
//! 2004), whose interleaved bits are the position along the curve: unlike Z-order, consecutive
//! cells of the curve are always neighbours, so ranges of the key make more compact boxes.
//! Rows are sorted by the interleaved key.

use arrow::array::{ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt64Array};
use arrow::compute::{SortOptions, partition, sort_to_indices, take};
use arrow::datatypes::DataType as ArrowType;
use arrow::row::{RowConverter, SortField};

use crate::error::{DeltaError, DeltaResult};
use crate::operations::key_map::KeyMap;

/// A space-filling curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Curve {
    /// Z-order (Morton): bits of the ranks interleaved.
    ZOrder,
    /// Hilbert: better locality, used for clustering.
    Hilbert,
}

/// The rows of `batch` in the order of `curve` over the values of `keys` (arrays of the batch's
/// length; ties keep their order). Columns are ranked on threads of their own.
pub(super) fn curve_sort(batch: &RecordBatch, keys: &[ArrayRef], curve: Curve) -> DeltaResult<RecordBatch> {
    let mut ranks: Vec<Vec<u32>> = std::thread::scope(|scope| {
        let ranking: Vec<_> = keys.iter().map(|k| scope.spawn(move || scaled_ranks(k))).collect();
        ranking
            .into_iter()
            .map(|r| r.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect::<DeltaResult<_>>()
    })?;
    let rows = batch.num_rows();
    if curve == Curve::Hilbert && ranks.len() > 1 {
        let mut point = vec![0u32; ranks.len()];
        for row in 0..rows {
            for (c, column) in ranks.iter().enumerate() {
                point[c] = column[row];
            }
            hilbert_transpose(&mut point);
            for (c, column) in ranks.iter_mut().enumerate() {
                column[row] = point[c];
            }
        }
    }
    let order: Vec<u64> = if ranks.len() <= 2 {
        // Keys of one or two columns fit in a u64: sort (key, row) pairs.
        let key = |row: usize| match ranks.as_slice() {
            [x] => u64::from(x[row]) << 32,
            [x, y] => (spread(x[row]) << 1) | spread(y[row]),
            _ => 0,
        };
        let mut pairs: Vec<(u64, u64)> = (0..rows).map(|row| (key(row), row as u64)).collect();
        pairs.sort_unstable();
        pairs.into_iter().map(|(_, row)| row).collect()
    } else {
        let keys = interleave(&ranks, rows);
        let width = 4 * ranks.len();
        let mut order: Vec<u64> = (0..rows as u64).collect();
        let key = |row: u64| &keys[row as usize * width..(row as usize + 1) * width];
        order.sort_by(|a, b| key(*a).cmp(key(*b)));
        order
    };
    drop(ranks);
    take_in_parallel(batch, &UInt64Array::from(order))
}

/// The rows `order` of `batch`, its columns gathered on as many threads as there are cores.
fn take_in_parallel(batch: &RecordBatch, order: &UInt64Array) -> DeltaResult<RecordBatch> {
    let columns = batch.columns();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(columns.len())
        .max(1);
    let mut taken: Vec<Option<ArrayRef>> = vec![None; columns.len()];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                scope.spawn(move || {
                    (worker..columns.len())
                        .step_by(threads)
                        .map(|i| Ok((i, take(&columns[i], order, None)?)))
                        .collect::<DeltaResult<Vec<_>>>()
                })
            })
            .collect();
        for worker in workers {
            let done = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            for (i, column) in done {
                taken[i] = Some(column);
            }
        }
        Ok::<_, DeltaError>(())
    })?;
    let options = RecordBatchOptions::new().with_row_count(Some(order.len()));
    Ok(RecordBatch::try_new_with_options(
        batch.schema(),
        taken.into_iter().flatten().collect(),
        &options,
    )?)
}

/// The 32 bits of `value` at the even bits of a u64 (bit `i` at bit `2i`).
fn spread(value: u32) -> u64 {
    let mut x = u64::from(value);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Map a point of 32-bit coordinates, in place, to the transposed form of its Hilbert index:
/// bit `b` of coordinate `c` becomes bit `b * n + c` of the index (most significant first).
fn hilbert_transpose(x: &mut [u32]) {
    let n = x.len();
    // Undo the rotations and reflections the curve applies at each level, from the coarsest.
    let mut q = 1u32 << 31;
    while q > 1 {
        let low = q - 1;
        for i in 0..n {
            if x[i] & q != 0 {
                x[0] ^= low;
            } else {
                let swap = (x[0] ^ x[i]) & low;
                x[0] ^= swap;
                x[i] ^= swap;
            }
        }
        q >>= 1;
    }
    // Gray-code the result.
    for i in 1..n {
        x[i] ^= x[i - 1];
    }
    let mut flip = 0u32;
    let mut q = 1u32 << 31;
    while q > 1 {
        if x[n - 1] & q != 0 {
            flip ^= q - 1;
        }
        q >>= 1;
    }
    for v in x.iter_mut() {
        *v ^= flip;
    }
}

/// The rank of each row's value in `column` (nulls first, equal values equal), scaled from
/// `0..distinct values` to `0..2^32`. Primitive and boolean columns are sorted as they are;
/// strings and binaries (and other types, in Arrow's order-preserving row format) are ranked by
/// their distinct values: a hash pass, then only the distinct values sorted.
fn scaled_ranks(column: &ArrayRef) -> DeltaResult<Vec<u32>> {
    Ok(match column.data_type() {
        ArrowType::Utf8 => distinct_ranks(column.as_string::<i32>().iter().map(as_bytes)),
        ArrowType::LargeUtf8 => distinct_ranks(column.as_string::<i64>().iter().map(as_bytes)),
        ArrowType::Utf8View => distinct_ranks(column.as_string_view().iter().map(as_bytes)),
        ArrowType::Binary => distinct_ranks(column.as_binary::<i32>().iter()),
        ArrowType::LargeBinary => distinct_ranks(column.as_binary::<i64>().iter()),
        ArrowType::BinaryView => distinct_ranks(column.as_binary_view().iter()),
        t if t.is_primitive() || *t == ArrowType::Boolean => sorted_ranks(column)?,
        t => {
            let field = SortField::new_with_options(t.clone(), NULLS_FIRST);
            let rows = RowConverter::new(vec![field])?.convert_columns(std::slice::from_ref(column))?;
            distinct_ranks(rows.try_into_binary()?.iter())
        }
    })
}

/// The bytes of a string value, which order like the string.
fn as_bytes(value: Option<&str>) -> Option<&[u8]> {
    value.map(str::as_bytes)
}

/// Ascending, nulls first: the order of the ranks.
const NULLS_FIRST: SortOptions = SortOptions {
    descending: false,
    nulls_first: true,
};

/// [`scaled_ranks`] of a primitive or boolean column, by sorting it.
fn sorted_ranks(column: &ArrayRef) -> DeltaResult<Vec<u32>> {
    let order = sort_to_indices(column, Some(NULLS_FIRST), None)?;
    let sorted = take(column, &order, None)?;
    let groups = partition(&[sorted])?.ranges();
    let distinct = groups.len();
    let mut ranks = vec![0u32; column.len()];
    for (rank, group) in groups.into_iter().enumerate() {
        let scaled = scale(rank, distinct);
        for i in group {
            ranks[order.value(i) as usize] = scaled;
        }
    }
    Ok(ranks)
}

/// [`scaled_ranks`] of values given as bytes whose order is the column's (`None` for null).
fn distinct_ranks<'a>(values: impl ExactSizeIterator<Item = Option<&'a [u8]>>) -> Vec<u32> {
    const NULL: u32 = u32::MAX;
    let mut ids: KeyMap<&'a [u8]> = KeyMap::default();
    let mut rows = Vec::with_capacity(values.len());
    let mut nulls = false;
    for value in values {
        rows.push(match value {
            Some(value) => {
                let next = u32::try_from(ids.len()).unwrap_or(NULL - 1);
                *ids.entry(value).or_insert(next)
            }
            None => {
                nulls = true;
                NULL
            }
        });
    }
    let mut distinct: Vec<(&[u8], u32)> = ids.into_iter().collect();
    distinct.sort_unstable();
    let first = usize::from(nulls);
    let groups = distinct.len() + first;
    let mut rank_of = vec![0u32; distinct.len()];
    for (rank, (_, id)) in distinct.iter().enumerate() {
        rank_of[*id as usize] = scale(first + rank, groups);
    }
    for row in &mut rows {
        *row = if *row == NULL { 0 } else { rank_of[*row as usize] };
    }
    rows
}

/// Rank `rank` of `groups` scaled to `0..2^32`.
fn scale(rank: usize, groups: usize) -> u32 {
    u32::try_from(((rank as u128) << 32) / groups.max(1) as u128).unwrap_or(u32::MAX)
}

/// The interleaved keys of `rows` rows: 4 bytes per column each, back to back, bit `b` of
/// column `c` (most significant first) at bit `b * columns + c`.
fn interleave(columns: &[Vec<u32>], rows: usize) -> Vec<u8> {
    let n = columns.len();
    let width = 4 * n;
    let mut out = vec![0u8; rows * width];
    for (row, target) in out.chunks_exact_mut(width.max(1)).enumerate() {
        for (c, column) in columns.iter().enumerate() {
            let value = column[row];
            for bit in (0..32).filter(|bit| value & (1 << (31 - bit)) != 0) {
                let position = bit * n + c;
                target[position / 8] |= 0x80 >> (position % 8);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Int32Array, Int64Array, StringArray};

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
        let sorted = curve_sort(
            &batch,
            &[batch.column(0).clone(), batch.column(1).clone()],
            Curve::ZOrder,
        )
        .unwrap();
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
    fn strings_order_by_all_their_bytes() {
        let long = "x".repeat(40);
        let names = StringArray::from(vec![format!("{long}b"), format!("{long}a"), "c".to_string()]);
        let batch = RecordBatch::try_from_iter(vec![("n", Arc::new(names) as ArrayRef)]).unwrap();
        let sorted = curve_sort(&batch, &[batch.column(0).clone()], Curve::Hilbert).unwrap();
        let names = sorted.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(
            names.iter().flatten().collect::<Vec<_>>(),
            ["c".to_string(), format!("{long}a"), format!("{long}b")]
        );
    }

    #[test]
    fn distinct_values_rank_like_a_sort_with_nulls_first() {
        // Hashing distinct values gives the ranks a full sort gives, for strings and row-format
        // values alike.
        let names: StringArray = (0..500u32)
            .map(|i| (i % 7 != 3).then(|| format!("v{}", i * 7919 % 61)))
            .collect();
        let names = Arc::new(names) as ArrayRef;
        let ranks = scaled_ranks(&names).unwrap();
        assert_eq!(ranks, sorted_ranks(&names).unwrap());
        assert_eq!(ranks[3], 0, "nulls rank first");
        let distinct: std::collections::BTreeSet<u32> = ranks.iter().copied().collect();
        assert_eq!(distinct.len(), 62);
        let dates = Arc::new(arrow::array::Date32Array::from_iter(
            (0..500).map(|i| (i % 5 != 0).then_some(i % 9)),
        ));
        let lists = Arc::new(arrow::array::ListArray::from_iter_primitive::<
            arrow::datatypes::Int32Type,
            _,
            _,
        >((0..500).map(|i| (i % 5 != 0).then(|| vec![Some(i % 9)])))) as ArrayRef;
        assert_eq!(
            scaled_ranks(&lists).unwrap(),
            sorted_ranks(&(dates as ArrayRef)).unwrap()
        );
    }

    #[test]
    fn columns_weigh_the_same_whatever_their_type_and_range() {
        // A narrow int column with few values and a wide one with large values: each of the
        // first two bits of the key comes from a different column.
        let small = Int32Array::from(vec![1, 0, 1, 0]);
        let large = Int64Array::from(vec![0, 1 << 40, 1 << 40, 0]);
        let ranks = [
            scaled_ranks(&(Arc::new(small) as ArrayRef)).unwrap(),
            scaled_ranks(&(Arc::new(large) as ArrayRef)).unwrap(),
        ];
        assert_eq!(ranks[0], [1 << 31, 0, 1 << 31, 0]);
        assert_eq!(ranks[1], [0, 1 << 31, 1 << 31, 0]);
        let keys = interleave(&ranks, 4);
        let first_bytes: Vec<u8> = keys.chunks(8).map(|k| k[0]).collect();
        assert_eq!(first_bytes, [0x80, 0x40, 0xc0, 0x00]);
    }

    #[test]
    fn hilbert_steps_between_neighbours() {
        // Every point of an 8x8 grid, shuffled: along the Hilbert curve each point is next to
        // the previous one (Z-order jumps).
        let points: Vec<(i64, i64)> = (0..64).map(|i| ((i * 37 % 64) / 8, (i * 37 % 64) % 8)).collect();
        let xs = Int64Array::from_iter_values(points.iter().map(|p| p.0));
        let ys = Int64Array::from_iter_values(points.iter().map(|p| p.1));
        let batch =
            RecordBatch::try_from_iter(vec![("x", Arc::new(xs) as ArrayRef), ("y", Arc::new(ys) as _)]).unwrap();
        let keys = [batch.column(0).clone(), batch.column(1).clone()];
        let steps = |curve| {
            let sorted = curve_sort(&batch, &keys, curve).unwrap();
            let xs = sorted
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec();
            let ys = sorted
                .column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec();
            (1..64)
                .map(|i| (xs[i] - xs[i - 1]).abs() + (ys[i] - ys[i - 1]).abs())
                .collect::<Vec<_>>()
        };
        assert!(
            steps(Curve::Hilbert).iter().all(|s| *s == 1),
            "{:?}",
            steps(Curve::Hilbert)
        );
        assert!(steps(Curve::ZOrder).iter().any(|s| *s > 1));
    }

    #[test]
    fn hilbert_of_one_column_is_its_order() {
        let values = Int64Array::from(vec![5, 3, 9, 1]);
        let batch = RecordBatch::try_from_iter(vec![("v", Arc::new(values) as ArrayRef)]).unwrap();
        let sorted = curve_sort(&batch, &[batch.column(0).clone()], Curve::Hilbert).unwrap();
        let values = sorted.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(values.values().to_vec(), vec![1, 3, 5, 9]);
    }
}

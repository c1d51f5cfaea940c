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
//! Rows are sorted by the interleaved key; the sorted rows are gathered a chunk at a time, so no
//! sorted copy of all the rows is held.

use std::ops::Range;

use arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, GenericByteArray, GenericByteViewArray, RecordBatch, UInt64Array,
};
use arrow::compute::SortOptions;
use arrow::datatypes::{ByteArrayType, ByteViewType, DataType as ArrowType, Int32Type, SchemaRef};
use arrow::row::{RowConverter, SortField};

use crate::error::DeltaResult;
use crate::operations::columns::take_columns;
use crate::operations::key_map::Distinct;

/// A space-filling curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Curve {
    /// Z-order (Morton): bits of the ranks interleaved.
    ZOrder,
    /// Hilbert: better locality, used for clustering.
    Hilbert,
}

/// Rows in the order of a curve: the rows, the order in which to take them, and the schema they
/// are gathered in.
#[derive(Debug)]
pub(super) struct SortedRows {
    rows: RecordBatch,
    order: UInt64Array,
    schema: SchemaRef,
}

impl SortedRows {
    /// The number of rows.
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }

    /// The rows at `range` of the curve order, each column gathered on the CPU pool.
    pub(super) async fn gather(&self, range: Range<usize>) -> DeltaResult<RecordBatch> {
        take_columns(&self.rows, &self.order.slice(range.start, range.len()), &self.schema).await
    }
}

/// `range` cut into consecutive ranges of `size` (the last one shorter).
pub(super) fn cut(range: Range<usize>, size: usize) -> impl Iterator<Item = Range<usize>> {
    let end = range.end;
    range
        .step_by(size.max(1))
        .map(move |start| start..(start + size.max(1)).min(end))
}

/// The rows of `batch` in the order of `curve` over the values of `keys` (arrays of the batch's
/// length; ties keep their order), to be gathered in `schema` (the batch's, or the same with
/// dictionary columns decoded). Columns are ranked on threads of their own.
pub(super) fn curve_sort(
    batch: RecordBatch,
    keys: &[ArrayRef],
    curve: Curve,
    schema: SchemaRef,
) -> DeltaResult<SortedRows> {
    let rows = batch.num_rows();
    let mut ranks: Vec<Vec<u32>> = std::thread::scope(|scope| {
        let ranking: Vec<_> = keys.iter().map(|k| scope.spawn(move || scaled_ranks(k))).collect();
        ranking
            .into_iter()
            .map(|r| r.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect::<DeltaResult<_>>()
    })?;
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
        // Keys of one or two columns fit in a u64: their top bits are sorted packed with the row.
        let key = |row: usize| match ranks.as_slice() {
            [x] => u64::from(x[row]) << 32,
            [x, y] => (spread(x[row]) << 1) | spread(y[row]),
            _ => 0,
        };
        let packing = Packing::for_rows(rows);
        let items: Vec<u64> = (0..rows).map(|row| packing.pack(key(row), row)).collect();
        drop(ranks);
        let mut order = Vec::with_capacity(rows);
        sort_packed(items, |item| order.push(packing.row(item) as u64));
        order
    } else {
        let width = 4 * ranks.len();
        let keys = interleave(&ranks, rows);
        drop(ranks);
        let mut order: Vec<u64> = (0..rows as u64).collect();
        let key = |row: u64| &keys[row as usize * width..(row as usize + 1) * width];
        order.sort_by(|a, b| key(*a).cmp(key(*b)));
        order
    };
    Ok(SortedRows {
        rows: batch,
        order: UInt64Array::from(order),
        schema,
    })
}

/// A row number and the most significant bits of a 64-bit key packed into one u64, the row in
/// the low bits: sorting the packed values sorts by key (those bits of it), then row. Eight
/// bytes per row sort about twice as fast as a (key, row) pair; keys that differ only in the
/// bits dropped tie, which for ranks of up to 32 bits per column loses no order worth keeping
/// (10M rows leave 40 bits of key).
#[derive(Clone, Copy)]
struct Packing {
    row_bits: u32,
}

impl Packing {
    /// The packing of rows `0..rows`.
    fn for_rows(rows: usize) -> Self {
        Self {
            row_bits: (usize::BITS - rows.saturating_sub(1).leading_zeros()).max(1),
        }
    }

    fn pack(self, key: u64, row: usize) -> u64 {
        (key >> self.row_bits << self.row_bits) | row as u64
    }

    /// The key bits of a packed value (shifted down).
    fn key(self, packed: u64) -> u64 {
        packed >> self.row_bits
    }

    fn row(self, packed: u64) -> usize {
        (packed & ((1 << self.row_bits) - 1)) as usize
    }
}

/// Visit `items` in order: each half is sorted on a thread of its own, then the halves are
/// merged.
fn sort_packed(mut items: Vec<u64>, mut visit: impl FnMut(u64)) {
    let len = items.len();
    let (left, right) = items.split_at_mut(len / 2);
    std::thread::scope(|scope| {
        let sorting = scope.spawn(|| left.sort_unstable());
        right.sort_unstable();
        sorting.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    });
    let (mut l, mut r) = (0, 0);
    while l < left.len() && r < right.len() {
        if left[l] <= right[r] {
            visit(left[l]);
            l += 1;
        } else {
            visit(right[r]);
            r += 1;
        }
    }
    left[l..].iter().chain(&right[r..]).copied().for_each(visit);
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
/// `0..distinct values` to `0..2^32`. Primitive and boolean columns of up to 64 bits are sorted
/// by keys that order like their values; strings and binaries (and other types, decimals
/// included, in Arrow's order-preserving row format) are ranked by
/// their distinct values: a hash pass, then only the distinct values sorted. Dictionaries (with
/// Int32 keys) are ranked by their values.
fn scaled_ranks(column: &ArrayRef) -> DeltaResult<Vec<u32>> {
    if let ArrowType::Dictionary(keys, _) = column.data_type()
        && **keys == ArrowType::Int32
    {
        return dictionary_ranks(column.as_dictionary::<Int32Type>());
    }
    value_ranks(column, Nulls::AsFound)
}

/// [`scaled_ranks`] of a column that is not a dictionary; `nulls` says whether the lowest rank
/// is kept for nulls.
fn value_ranks(column: &ArrayRef, nulls: Nulls) -> DeltaResult<Vec<u32>> {
    let len = column.len();
    Ok(match column.data_type() {
        ArrowType::Utf8 => distinct_ranks(len, bytes(column.as_string::<i32>()), nulls),
        ArrowType::LargeUtf8 => distinct_ranks(len, bytes(column.as_string::<i64>()), nulls),
        ArrowType::Utf8View => distinct_ranks(len, view_bytes(column.as_string_view()), nulls),
        ArrowType::Binary => distinct_ranks(len, bytes(column.as_binary::<i32>()), nulls),
        ArrowType::LargeBinary => distinct_ranks(len, bytes(column.as_binary::<i64>()), nulls),
        ArrowType::BinaryView => distinct_ranks(len, view_bytes(column.as_binary_view()), nulls),
        _ if let Some(keys) = ordered_keys(column) => sorted_ranks(column, keys, nulls),
        t => {
            let field = SortField::new_with_options(t.clone(), NULLS_FIRST);
            let rows = RowConverter::new(vec![field])?.convert_columns(std::slice::from_ref(column))?;
            distinct_ranks(len, bytes(&rows.try_into_binary()?), nulls)
        }
    })
}

/// Whether the lowest rank goes to nulls only when there are some, or always.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nulls {
    /// Nulls rank lowest if there are any; else the lowest value does.
    AsFound,
    /// The lowest rank is left to nulls, whether there are any or not.
    Reserved,
}

/// [`scaled_ranks`] of a dictionary array: its values are ranked (the lowest rank kept for null
/// rows), and each row takes its value's rank.
fn dictionary_ranks(column: &DictionaryArray<Int32Type>) -> DeltaResult<Vec<u32>> {
    let of_value = value_ranks(column.values(), Nulls::Reserved)?;
    let keys = column.keys();
    let mut ranks: Vec<u32> = keys
        .values()
        .iter()
        .map(|k| usize::try_from(*k).ok().and_then(|k| of_value.get(k)).map_or(0, |r| *r))
        .collect();
    if let Some(nulls) = keys.nulls().filter(|n| n.null_count() > 0) {
        for (rank, valid) in ranks.iter_mut().zip(nulls.iter()) {
            if !valid {
                *rank = 0;
            }
        }
    }
    Ok(ranks)
}

/// The bytes of row `i` of a string or binary array (`None` for null), which order like its
/// values.
fn bytes<'a, T: ByteArrayType>(array: &'a GenericByteArray<T>) -> impl Fn(usize) -> Option<&'a [u8]> + Sync {
    move |i| array.is_valid(i).then(|| AsRef::<[u8]>::as_ref(array.value(i)))
}

/// [`bytes`] of a string or binary view array.
fn view_bytes<'a, T: ByteViewType>(array: &'a GenericByteViewArray<T>) -> impl Fn(usize) -> Option<&'a [u8]> + Sync {
    move |i| array.is_valid(i).then(|| AsRef::<[u8]>::as_ref(array.value(i)))
}

/// Ascending, nulls first: the order of the ranks.
const NULLS_FIRST: SortOptions = SortOptions {
    descending: false,
    nulls_first: true,
};

/// Keys of a column's values that order like them, for the primitive and boolean types that
/// fit in 64 bits (`None` for other types; the keys of null rows are meaningless).
fn ordered_keys(column: &ArrayRef) -> Option<Vec<u64>> {
    use arrow::datatypes::{
        Date32Type, Date64Type, DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType,
        DurationSecondType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int64Type,
        Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type,
        UInt16Type, UInt32Type, UInt64Type,
    };
    const SIGN: u64 = 1 << 63;
    fn keys<T: arrow::datatypes::ArrowPrimitiveType>(column: &ArrayRef, key: impl Fn(T::Native) -> u64) -> Vec<u64> {
        column.as_primitive::<T>().values().iter().map(|v| key(*v)).collect()
    }
    let signed = |v: i64| v as u64 ^ SIGN;
    // IEEE floats order like integers once negative values have all their bits flipped (and
    // positive values their sign bit): -NaN < -inf < ... < -0 < +0 < ... < inf < NaN.
    let float = |bits: u64, sign: u64| match bits & sign {
        0 => bits | sign,
        _ => !bits & (sign | (sign - 1)),
    };
    Some(match column.data_type() {
        ArrowType::Boolean => column.as_boolean().values().iter().map(u64::from).collect(),
        ArrowType::Int8 => keys::<Int8Type>(column, |v| signed(v.into())),
        ArrowType::Int16 => keys::<Int16Type>(column, |v| signed(v.into())),
        ArrowType::Int32 => keys::<Int32Type>(column, |v| signed(v.into())),
        ArrowType::Int64 => keys::<Int64Type>(column, signed),
        ArrowType::UInt8 => keys::<UInt8Type>(column, u64::from),
        ArrowType::UInt16 => keys::<UInt16Type>(column, u64::from),
        ArrowType::UInt32 => keys::<UInt32Type>(column, u64::from),
        ArrowType::UInt64 => keys::<UInt64Type>(column, |v| v),
        ArrowType::Float16 => keys::<Float16Type>(column, |v| float(v.to_bits().into(), 1 << 15)),
        ArrowType::Float32 => keys::<Float32Type>(column, |v| float(v.to_bits().into(), 1 << 31)),
        ArrowType::Float64 => keys::<Float64Type>(column, |v| float(v.to_bits(), SIGN)),
        ArrowType::Date32 => keys::<Date32Type>(column, |v| signed(v.into())),
        ArrowType::Date64 => keys::<Date64Type>(column, signed),
        ArrowType::Time32(TimeUnit::Second) => keys::<Time32SecondType>(column, |v| signed(v.into())),
        ArrowType::Time32(TimeUnit::Millisecond) => keys::<Time32MillisecondType>(column, |v| signed(v.into())),
        ArrowType::Time64(TimeUnit::Microsecond) => keys::<Time64MicrosecondType>(column, signed),
        ArrowType::Time64(TimeUnit::Nanosecond) => keys::<Time64NanosecondType>(column, signed),
        ArrowType::Timestamp(TimeUnit::Second, _) => keys::<TimestampSecondType>(column, signed),
        ArrowType::Timestamp(TimeUnit::Millisecond, _) => keys::<TimestampMillisecondType>(column, signed),
        ArrowType::Timestamp(TimeUnit::Microsecond, _) => keys::<TimestampMicrosecondType>(column, signed),
        ArrowType::Timestamp(TimeUnit::Nanosecond, _) => keys::<TimestampNanosecondType>(column, signed),
        ArrowType::Duration(TimeUnit::Second) => keys::<DurationSecondType>(column, signed),
        ArrowType::Duration(TimeUnit::Millisecond) => keys::<DurationMillisecondType>(column, signed),
        ArrowType::Duration(TimeUnit::Microsecond) => keys::<DurationMicrosecondType>(column, signed),
        ArrowType::Duration(TimeUnit::Nanosecond) => keys::<DurationNanosecondType>(column, signed),
        _ => return None,
    })
}

/// [`value_ranks`] of a column whose values order like `keys` ([`ordered_keys`]): its non-null
/// rows sorted by the top bits of their key's offset in the keys' span ([`Packing`]), then the
/// rows of each run of equal top bits by their whole key, so equal keys share a rank.
fn sorted_ranks(column: &ArrayRef, keys: Vec<u64>, nulls: Nulls) -> Vec<u32> {
    let len = keys.len();
    let valid = |row: &usize| column.is_valid(*row);
    let (min, max) = (0..len).filter(valid).fold((u64::MAX, 0), |(min, max), row| {
        (min.min(keys[row]), max.max(keys[row]))
    });
    let top = max.saturating_sub(min).leading_zeros();
    let packing = Packing::for_rows(len);
    let items: Vec<u64> = (0..len)
        .filter(valid)
        .map(|row| packing.pack((keys[row] - min).checked_shl(top).unwrap_or(0), row))
        .collect();
    // Nulls (rank 0) sort first.
    let mut next = u32::from(nulls == Nulls::Reserved || items.len() < len);
    let mut ranks = vec![0u32; len];
    let mut run: Vec<usize> = Vec::new();
    let mut run_key = None;
    sort_packed(items, |item| {
        let key = packing.key(item);
        if run_key.is_some_and(|k| k != key) {
            rank_run(&mut run, &keys, &mut ranks, &mut next);
        }
        run_key = Some(key);
        run.push(packing.row(item));
    });
    rank_run(&mut run, &keys, &mut ranks, &mut next);
    let groups = next as usize;
    for r in &mut ranks {
        *r = scale(*r as usize, groups);
    }
    ranks
}

/// Give the rows of `run` (in order of their key's top bits, which are all equal) ranks from
/// `next` on, by their whole key; `next` ends past the last rank given.
fn rank_run(run: &mut Vec<usize>, keys: &[u64], ranks: &mut [u32], next: &mut u32) {
    match run.as_slice() {
        [] => return,
        // Most runs: no key to look at.
        [row] => {
            ranks[*row] = *next;
            *next += 1;
            run.clear();
            return;
        }
        _ => run.sort_unstable_by_key(|row| (keys[*row], *row)),
    }
    let mut previous = None;
    for row in run.drain(..) {
        if previous.is_some_and(|p| p != keys[row]) {
            *next += 1;
        }
        previous = Some(keys[row]);
        ranks[row] = *next;
    }
    *next += 1;
}

/// Rows per thread below which [`distinct_ranks`] uses fewer threads.
const DISTINCT_ROWS_PER_THREAD: usize = 1 << 20;

/// [`scaled_ranks`] of `len` values given as bytes whose order is the column's (`None` for
/// null). Each core looks up the distinct values of a part of the rows; the parts' distinct values
/// are then merged, and only they are sorted.
fn distinct_ranks<'a>(len: usize, value: impl Fn(usize) -> Option<&'a [u8]> + Sync, nulls: Nulls) -> Vec<u32> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(len / DISTINCT_ROWS_PER_THREAD)
        .max(1);
    distinct_ranks_in_parts(len, value, len.div_ceil(threads), nulls)
}

/// [`distinct_ranks`] with the rows cut in parts of `part` rows, one thread each.
fn distinct_ranks_in_parts<'a>(
    len: usize,
    value: impl Fn(usize) -> Option<&'a [u8]> + Sync,
    part: usize,
    nulls: Nulls,
) -> Vec<u32> {
    const NULL: u32 = u32::MAX;
    let part = part.max(1);
    let mut rows = vec![NULL; len];
    // Each part's rows get ids among the part's own distinct values.
    let value = &value;
    let parts: Vec<Distinct<'a>> = std::thread::scope(|scope| {
        let workers: Vec<_> = rows
            .chunks_mut(part)
            .enumerate()
            .map(|(p, ids)| {
                scope.spawn(move || {
                    let mut distinct = Distinct::default();
                    for (i, id) in ids.iter_mut().enumerate() {
                        if let Some(v) = value(p * part + i) {
                            *id = distinct.id(v);
                        }
                    }
                    distinct
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    // Then ids among all distinct values, in order of first appearance.
    let mut all = Distinct::default();
    for (ids, distinct) in rows.chunks_mut(part).zip(parts) {
        let global: Vec<u32> = distinct.values.iter().map(|v| all.id(v)).collect();
        for id in ids.iter_mut().filter(|id| **id != NULL) {
            *id = global[*id as usize];
        }
    }
    let distinct = all.values;
    let mut by_value: Vec<u32> = (0..u32::try_from(distinct.len()).unwrap_or(NULL)).collect();
    by_value.sort_unstable_by_key(|id| distinct[*id as usize]);
    let first = usize::from(nulls == Nulls::Reserved || rows.contains(&NULL));
    let groups = distinct.len() + first;
    let mut rank_of = vec![0u32; distinct.len()];
    for (rank, id) in by_value.iter().enumerate() {
        rank_of[*id as usize] = scale(first + rank, groups);
    }
    for row in &mut rows {
        *row = if *row == NULL { 0 } else { rank_of[*row as usize] };
    }
    rows
}

/// Rank `rank` of `groups` scaled to `0..2^32`.
fn scale(rank: usize, groups: usize) -> u32 {
    let scaled = match u64::try_from(rank) {
        // In u64 while it fits (a u128 division is several times slower).
        Ok(rank) if rank < 1 << 32 => u128::from((rank << 32) / groups.max(1) as u64),
        _ => ((rank as u128) << 32) / groups.max(1) as u128,
    };
    u32::try_from(scaled).unwrap_or(u32::MAX)
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
    use arrow::datatypes::Field;

    use super::*;

    /// `batch` sorted along `curve` of its columns `keys`, read as two batches and gathered three
    /// rows at a time.
    fn sorted(batch: &RecordBatch, keys: &[usize], curve: Curve) -> RecordBatch {
        let half = batch.num_rows() / 2;
        let parts = vec![batch.slice(0, half), batch.slice(half, batch.num_rows() - half)];
        let keys: Vec<ArrayRef> = keys.iter().map(|k| batch.column(*k).clone()).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let rows = crate::operations::columns::concat_columns(&batch.schema(), parts)
                .await
                .unwrap();
            let sorted = curve_sort(rows, &keys, curve, batch.schema()).unwrap();
            let mut chunks = Vec::new();
            for part in cut(0..sorted.len(), 3) {
                chunks.push(sorted.gather(part).await.unwrap());
            }
            arrow::compute::concat_batches(&batch.schema(), &chunks).unwrap()
        })
    }

    /// The scaled ranks of `values` found by sorting them, nulls first: what every way of
    /// ranking must give.
    fn ranks_by_sort<T: Ord>(values: &[Option<T>]) -> Vec<u32> {
        let distinct: Vec<&Option<T>> = values
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        values
            .iter()
            .map(|v| scale(distinct.binary_search(&v).unwrap(), distinct.len()))
            .collect()
    }

    #[test]
    fn ordered_keys_order_like_the_values() {
        let floats = [
            f64::NEG_INFINITY,
            -2.5,
            -1e-300,
            -0.0,
            0.0,
            1e-300,
            3.0,
            f64::INFINITY,
            f64::NAN,
        ];
        let ints = [i64::MIN, -7, -1, 0, 1, i64::MAX];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(arrow::array::Float64Array::from(floats.to_vec())),
            Arc::new(arrow::array::Float32Array::from_iter_values(
                floats.iter().map(|f| *f as f32),
            )),
            Arc::new(Int64Array::from(ints.to_vec())),
            Arc::new(Int32Array::from_iter_values(
                ints.iter().map(|i| (*i).clamp(-9, 9) as i32),
            )),
            Arc::new(arrow::array::UInt64Array::from(vec![0, 1, u64::MAX])),
            Arc::new(arrow::array::BooleanArray::from(vec![false, true])),
        ];
        for column in columns {
            // Each column is given in ascending order (ties allowed).
            let keys = ordered_keys(&column).unwrap();
            assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{column:?}: {keys:x?}");
        }
        assert!(ordered_keys(&(Arc::new(StringArray::from(vec!["a"])) as ArrayRef)).is_none());
    }

    #[test]
    fn integers_beside_an_outlier_keep_distinct_ranks() {
        // The outlier spreads the span of the keys: the ids differ only in bits below those
        // packed with the row, and are told apart by their whole keys.
        let values: Vec<Option<i64>> = (0..1000)
            .map(|i| Some(if i == 500 { i64::MIN } else { (i * 7) % 999 }))
            .collect();
        let ids = Int64Array::from(values.clone());
        assert_eq!(
            scaled_ranks(&(Arc::new(ids) as ArrayRef)).unwrap(),
            ranks_by_sort(&values)
        );
    }

    #[test]
    fn packed_rows_sort_by_the_top_bits_of_their_key_then_row() {
        let packing = Packing::for_rows(1000);
        let mut items = [
            packing.pack(u64::MAX, 3),
            packing.pack(5, 9),
            packing.pack(1 << 60, 0),
            packing.pack(7, 2),
        ];
        items.sort_unstable();
        // 5 and 7 differ below the bits kept: in row order.
        let rows: Vec<usize> = items.iter().map(|i| packing.row(*i)).collect();
        assert_eq!(rows, [2, 9, 0, 3]);
        assert_eq!(packing.key(packing.pack(u64::MAX, 999)), u64::MAX >> 10);
    }

    #[test]
    fn floats_rank_like_a_sort_with_nulls_first() {
        let values: Vec<Option<i64>> = (0..300).map(|i| (i % 13 != 5).then_some((i * 37) % 41 - 20)).collect();
        let floats = arrow::array::Float64Array::from_iter(values.iter().map(|v| v.map(|v| v as f64 / 4.0)));
        assert_eq!(
            scaled_ranks(&(Arc::new(floats) as ArrayRef)).unwrap(),
            ranks_by_sort(&values)
        );
    }

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
        let sorted = sorted(&batch, &[0, 1], Curve::ZOrder);
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
        let sorted = sorted(&batch, &[0], Curve::Hilbert);
        let names = sorted.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(
            names.iter().flatten().collect::<Vec<_>>(),
            ["c".to_string(), format!("{long}a"), format!("{long}b")]
        );
    }

    #[test]
    fn packed_and_referenced_values_rank_together() {
        // Values of up to 15 bytes are looked up packed, longer ones by reference: both kinds,
        // and values that differ only by trailing zero bytes, rank like a sort.
        let long = vec![b'a'; 15];
        let values: Vec<Vec<u8>> = vec![
            [long.clone(), vec![0]].concat(),
            b"a".to_vec(),
            long.clone(),
            b"a\0".to_vec(),
            [long.clone(), b"b".to_vec()].concat(),
            b"a".to_vec(),
            long[..14].to_vec(),
            [long.clone(), vec![0]].concat(),
        ];
        let array = Arc::new(arrow::array::BinaryArray::from_iter_values(&values)) as ArrayRef;
        let ranks = scaled_ranks(&array).unwrap();
        assert_eq!(ranks, ranks_by_sort(&values.iter().map(Some).collect::<Vec<_>>()));
        let distinct: std::collections::BTreeSet<u32> = ranks.iter().copied().collect();
        assert_eq!(distinct.len(), 6);
    }

    #[test]
    fn parts_looked_up_apart_rank_like_the_whole() {
        // Parts of 7 rows find their distinct values on threads of their own; merged, the ranks
        // are those of a sort, nulls first, whatever part a value first appears in.
        let names: StringArray = (0..200u32)
            .map(|i| (i % 11 != 4).then(|| format!("n{}", (i * 37) % 23)))
            .collect();
        let expected = ranks_by_sort(&names.iter().collect::<Vec<_>>());
        for part in [1, 7, 64, 200] {
            assert_eq!(
                distinct_ranks_in_parts(names.len(), bytes(&names), part, Nulls::AsFound),
                expected,
                "parts of {part}"
            );
        }
    }

    #[test]
    fn distinct_values_rank_like_a_sort_with_nulls_first() {
        // Hashing distinct values gives the ranks a full sort gives, for strings and row-format
        // values alike.
        let names: StringArray = (0..500u32)
            .map(|i| (i % 7 != 3).then(|| format!("v{}", i * 7919 % 61)))
            .collect();
        let expected = ranks_by_sort(&names.iter().collect::<Vec<_>>());
        let ranks = scaled_ranks(&(Arc::new(names) as ArrayRef)).unwrap();
        assert_eq!(ranks, expected);
        assert_eq!(ranks[3], 0, "nulls rank first");
        let distinct: std::collections::BTreeSet<u32> = ranks.iter().copied().collect();
        assert_eq!(distinct.len(), 62);
        let days: Vec<Option<i32>> = (0..500).map(|i| (i % 5 != 0).then_some(i % 9)).collect();
        let dates = Arc::new(arrow::array::Date32Array::from_iter(days.clone())) as ArrayRef;
        assert_eq!(scaled_ranks(&dates).unwrap(), ranks_by_sort(&days));
        let lists = Arc::new(arrow::array::ListArray::from_iter_primitive::<
            arrow::datatypes::Int32Type,
            _,
            _,
        >((0..500).map(|i| (i % 5 != 0).then(|| vec![Some(i % 9)])))) as ArrayRef;
        assert_eq!(scaled_ranks(&lists).unwrap(), ranks_by_sort(&days));
    }

    #[test]
    fn dictionaries_rank_and_gather_like_their_values() {
        // Two dictionaries (a value in both, one unused, a null value) and a null key: the rows
        // rank in the order of their values, and are gathered decoded.
        let dictionary = |keys: Vec<Option<i32>>, values: Vec<Option<&str>>| {
            Arc::new(DictionaryArray::new(
                Int32Array::from(keys),
                Arc::new(StringArray::from(values)),
            )) as ArrayRef
        };
        let first = dictionary(
            vec![Some(0), None, Some(2), Some(1)],
            vec![Some("b"), None, Some("a"), Some("z")],
        );
        let second = dictionary(vec![Some(1), Some(0), Some(0)], vec![Some("c"), Some("a")]);
        let batch = |column| RecordBatch::try_from_iter(vec![("n", column)]).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (ranks, values) = runtime.block_on(async {
            let parts = vec![batch(first), batch(second)];
            let rows = crate::operations::columns::concat_columns(&parts[0].schema(), parts)
                .await
                .unwrap();
            let ranks = scaled_ranks(rows.column(0)).unwrap();
            let decoded = Arc::new(arrow::datatypes::Schema::new(vec![Field::new(
                "n",
                ArrowType::Utf8,
                true,
            )]));
            let keys = [rows.column(0).clone()];
            let sorted = curve_sort(rows, &keys, Curve::ZOrder, decoded).unwrap();
            (ranks, sorted.gather(0..sorted.len()).await.unwrap())
        });
        let plain = Arc::new(StringArray::from(vec![
            Some("b"),
            None,
            Some("a"),
            None,
            Some("a"),
            Some("c"),
            Some("c"),
        ]));
        let expected = scaled_ranks(&(plain as ArrayRef)).unwrap();
        for (i, j) in (0..7).flat_map(|i| (0..7).map(move |j| (i, j))) {
            assert_eq!(
                ranks[i].cmp(&ranks[j]),
                expected[i].cmp(&expected[j]),
                "rows {i} and {j}"
            );
        }
        assert_eq!(
            values.column(0).as_string::<i32>().iter().collect::<Vec<_>>(),
            [None, None, Some("a"), Some("a"), Some("b"), Some("c"), Some("c")]
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
        let steps = |curve| {
            let sorted = sorted(&batch, &[0, 1], curve);
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
        let sorted = sorted(&batch, &[0], Curve::Hilbert);
        let values = sorted.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(values.values().to_vec(), vec![1, 3, 5, 9]);
    }
}

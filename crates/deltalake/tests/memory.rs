//! Memory bounded by design: MERGE, UPDATE and DELETE rewrite a file a batch at a time, so their
//! peak memory does not grow with the size of the file they rewrite, and a partitioned write holds
//! its memory budget however much it writes. Measured with a counting allocator (this test
//! binary's own) on 1x and 4x the rows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use deltalake::DeltaTable;
use deltalake::operations::write::WriterConfig;
use futures::StreamExt;
use parquet::file::properties::WriterProperties;

/// The system allocator, counting the bytes allocated now and the most at any time since the
/// last [`reset_peak`].
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Start a measurement: the peak is what is allocated now.
fn reset_peak() -> usize {
    let now = CURRENT.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

/// Rows per row group, of the table's file and of the files the operations write.
const ROW_GROUP: usize = 16 * 1024;

fn writer_config() -> WriterConfig {
    WriterConfig {
        target_file_size: usize::MAX,
        properties: WriterProperties::builder()
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .build(),
        ..WriterConfig::default()
    }
}

/// Rows `ids` of the tables: `id`, a `key` text and a `value`.
fn rows(ids: std::ops::Range<i64>, value: f64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
    ]));
    let key = StringArray::from_iter_values(ids.clone().map(|i| format!("key-{:08}", i % 100_000)));
    let values = Float64Array::from_iter_values(ids.clone().map(|i| i as f64 + value));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(ids)),
            Arc::new(key),
            Arc::new(values),
        ],
    )
    .unwrap()
}

/// A table of `n` rows in one file of many row groups.
async fn one_file_table(dir: &std::path::Path, n: i64) -> DeltaTable {
    let batches: Vec<RecordBatch> = (0..n)
        .step_by(65_536)
        .map(|first| rows(first..(first + 65_536).min(n), 0.0))
        .collect();
    let table = DeltaTable::write(dir.to_str().unwrap())
        .with_batches(batches)
        .with_writer_config(writer_config())
        .await
        .unwrap();
    assert_eq!(table.snapshot().files().len(), 1);
    table
}

/// Peak bytes allocated by each operation on a one-file table of `n` rows: a merge of 1,000
/// rows (half updates, half inserts), an update of 100 rows and a delete of 100 rows, each
/// rewriting the whole file.
async fn peaks(n: i64) -> [usize; 3] {
    let mut out = [0; 3];
    for (i, out) in out.iter_mut().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let table = one_file_table(dir.path(), n).await;
        let start = reset_peak();
        match i {
            0 => {
                let source = rows(n - 500..n + 500, 0.5);
                let (_, metrics) = table
                    .merge(source, "target.id = source.id")
                    .when_matched_update_all(|u| u)
                    .when_not_matched_insert_all(|i| i)
                    .with_writer_config(writer_config())
                    .await
                    .unwrap();
                assert_eq!(
                    (metrics.num_target_rows_updated, metrics.num_target_rows_inserted),
                    (500, 500)
                );
                assert_eq!(metrics.num_target_rows_copied, n as usize - 500);
            }
            1 => {
                let (_, metrics) = table
                    .update()
                    .with_predicate(format!("id >= {}", n - 100))
                    .with_update("value", "value + 1")
                    .with_writer_config(writer_config())
                    .await
                    .unwrap();
                assert_eq!(metrics.num_updated_rows, 100);
                assert_eq!(metrics.num_copied_rows, n as usize - 100);
            }
            _ => {
                let (_, metrics) = table
                    .delete()
                    .with_predicate(format!("id >= {}", n - 100))
                    .with_writer_config(writer_config())
                    .await
                    .unwrap();
                assert_eq!(metrics.num_deleted_rows, 100);
                assert_eq!(metrics.num_copied_rows, n as usize - 100);
            }
        }
        *out = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    }
    out
}

/// Partitions of the partitioned write.
const PARTITIONS: i64 = 16;

/// The budget of the partitioned write's buffered data (`WriterConfig::max_buffered_bytes`).
const WRITE_BUDGET: usize = 8 * 1024 * 1024;

/// Peak bytes allocated by a write of `n` rows streamed from a generator into [`PARTITIONS`]
/// partitions, every batch holding rows of every partition (so every file is open at once).
async fn partitioned_write_peak(n: i64) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let schema = with_part(&rows(0..1, 0.0)).schema();
    let batches = futures::stream::iter((0..n).step_by(8192))
        .map(move |first| Ok(with_part(&rows(first..(first + 8192).min(n), 0.0))))
        .boxed();
    let start = reset_peak();
    let table = DeltaTable::write(dir.path().to_str().unwrap())
        .with_stream(schema, batches)
        .with_partition_columns(["part"])
        .with_writer_config(WriterConfig {
            target_file_size: usize::MAX,
            properties: WriterProperties::builder().build(),
            max_buffered_bytes: WRITE_BUDGET,
        })
        .await
        .unwrap();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    assert_eq!(table.snapshot().files().len(), PARTITIONS as usize);
    peak
}

/// `batch` with a `part` column: `id % PARTITIONS`.
fn with_part(batch: &RecordBatch) -> RecordBatch {
    let ids = batch.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    let part: Int64Array = ids.unary(|id| id % PARTITIONS);
    let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new("part", DataType::Int64, false)));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(part));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// One test, so that no other test allocates while one is measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewrites_hold_batches_not_files() {
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    // Past its first 750k rows the write is in its steady state: every file open, every
    // upload under way.
    let small = partitioned_write_peak(750_000).await;
    let large = partitioned_write_peak(2_250_000).await;
    println!(
        "partitioned write: peak {:.1} MiB (750k rows), {:.1} MiB (2.25M rows), budget {:.1} MiB",
        mib(small),
        mib(large),
        mib(WRITE_BUDGET)
    );
    assert!(
        (large as f64) < small as f64 * 1.5,
        "partitioned write: peak memory grew with the data: {:.1} MiB for 750k rows, {:.1} MiB for 2.25M",
        mib(small),
        mib(large)
    );
    let small = peaks(250_000).await;
    let large = peaks(1_000_000).await;
    for (name, (small, large)) in ["merge", "update", "delete"].iter().zip(small.iter().zip(large)) {
        println!(
            "{name}: peak {:.1} MiB (250k rows), {:.1} MiB (1M rows)",
            mib(*small),
            mib(large)
        );
        // Four times the rows: a file held whole would take about four times the memory.
        assert!(
            (large as f64) < *small as f64 * 1.5,
            "{name}: peak memory grew with the file: {:.1} MiB for 250k rows, {:.1} MiB for 1M",
            mib(*small),
            mib(large)
        );
    }
}

//! Read scenarios: opening a long log, and a full scan against arrow-rs reading the same files.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use deltalake::DeltaTable;
use futures::{StreamExt, TryStreamExt};
use parquet::arrow::ParquetRecordBatchStreamBuilder;

use crate::context::Context;
use crate::data::BATCH_SIZE;
use crate::measure::time_runs;
use crate::{BenchResult, path_str, runtime};

/// Decoding tasks at once on both sides, the core's default of twice the number of CPUs: our scan
/// decodes that many row groups at once, the raw side that many files.
fn scan_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

/// Open the log without a checkpoint.
pub fn open_log(ctx: &Context) -> BenchResult<Vec<f64>> {
    open_table(&ctx.log_table(), ctx.sizes.log_commits, ctx.sizes.runs)
}

/// Open the log with a checkpoint at its last version.
pub fn open_checkpointed_log(ctx: &Context) -> BenchResult<Vec<f64>> {
    open_table(&ctx.checkpointed_log_table(), ctx.sizes.log_commits, ctx.sizes.runs)
}

/// Time `DeltaTable::open` (log replay into the file list); each commit added one file.
fn open_table(path: &Path, commits: usize, runs: usize) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    let location = path_str(path)?;
    time_runs(
        runs,
        |_| Ok(()),
        |()| Ok(rt.block_on(DeltaTable::open(location))?),
        |table| {
            let (version, files) = (table.version(), table.snapshot().files().len());
            if version + 1 != commits as i64 || files != commits {
                return Err(format!("opened version {version} with {files} files; expected {commits} of each").into());
            }
            Ok(())
        },
    )
}

/// Scan every row of the data set into memory with our scan.
pub fn scan_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    let table = ctx.dataset_table();
    let location = path_str(&table)?;
    time_runs(
        ctx.sizes.runs,
        |_| Ok(()),
        |()| {
            rt.block_on(async {
                let table = DeltaTable::open(location).await?;
                let scan = table
                    .scan()
                    .with_batch_size(BATCH_SIZE)
                    .with_concurrency(scan_concurrency())
                    .build()?;
                Ok(scan.collect().await?)
            })
        },
        |batches| expect_rows(batches, ctx.sizes.rows),
    )
}

/// Read the data set's Parquet files into memory with arrow-rs alone: the same files, batch size
/// and number of files read at once, each file decoded by its own task.
pub fn scan_raw(ctx: &Context) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    time_runs(
        ctx.sizes.runs,
        |_| parquet_files(&ctx.dataset_table()),
        |files| {
            rt.block_on(async {
                let per_file: Vec<Vec<RecordBatch>> = futures::stream::iter(files)
                    .map(|file| tokio::spawn(read_parquet(file)))
                    .buffered(scan_concurrency())
                    .map(|joined| joined?)
                    .try_collect()
                    .await?;
                Ok(per_file.into_iter().flatten().collect::<Vec<_>>())
            })
        },
        |batches| expect_rows(batches, ctx.sizes.rows),
    )
}

async fn read_parquet(path: PathBuf) -> BenchResult<Vec<RecordBatch>> {
    let file = tokio::fs::File::open(&path).await?;
    let stream = ParquetRecordBatchStreamBuilder::new(file)
        .await?
        .with_batch_size(BATCH_SIZE)
        .build()?;
    Ok(stream.try_collect().await?)
}

/// The `.parquet` files directly in `dir`, sorted by name.
pub fn parquet_files(dir: &Path) -> BenchResult<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "parquet") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn expect_rows(batches: &[RecordBatch], rows: usize) -> BenchResult<()> {
    let read: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if read != rows {
        return Err(format!("read {read} rows, expected {rows}").into());
    }
    Ok(())
}

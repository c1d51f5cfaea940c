//! The merge scenario: an upsert of a source of `rows / 10` rows into the data set's table, half
//! updates of its last ids, half inserts of new ids (`when_matched_update_all` +
//! `when_not_matched_insert_all` on `target.id = source.id`). Each run merges into a fresh copy of
//! the table: its log copied, its data files hard-linked (a merge never changes a file). The
//! same merge into the rows held in one file measures what a merge holds of a big file.

use std::path::Path;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use arrow::compute::kernels::numeric::add;
use deltalake::DeltaTable;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::context::{Context, remove_dir};
use crate::measure::time_runs;
use crate::{BenchResult, data, path_str, runtime};

/// Rows of the merge source for a table of `rows` rows.
pub fn source_rows(rows: usize) -> usize {
    (rows / 10).max(2)
}

/// Write the source to `ctx.merge_source()`: ids `rows - half .. rows + half` with `value + 1`
/// (half of them ids of the table, half new).
pub fn write_source(ctx: &Context) -> BenchResult<()> {
    let total = source_rows(ctx.sizes.rows);
    let first = (ctx.sizes.rows - total / 2) as u64;
    let path = ctx.merge_source();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut writer = ArrowWriter::try_new(std::fs::File::create(&path)?, data::schema(), None)?;
    for batch in data::batches(first, total) {
        let batch = batch?;
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns[2] = add(&columns[2], &Float64Array::new_scalar(1.0))?;
        writer.write(&RecordBatch::try_new(batch.schema(), columns)?)?;
    }
    writer.close()?;
    Ok(())
}

/// A copy of the table at `from` in the new directory `to`: the log copied, other files linked.
fn link_table(from: &Path, to: &Path) -> BenchResult<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            if entry.file_name() == "_delta_log" {
                std::fs::create_dir_all(&target)?;
                for log in std::fs::read_dir(entry.path())? {
                    let log = log?;
                    if log.file_type()?.is_file() {
                        std::fs::copy(log.path(), target.join(log.file_name()))?;
                    }
                }
            } else {
                link_table(&entry.path(), &target)?;
            }
        } else {
            std::fs::hard_link(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Merge the source (read into memory untimed) into a fresh copy of the data set's table.
pub fn merge_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    merge_into(ctx, &ctx.dataset_table(), "merge-ours")
}

/// [`merge_ours`] into the table of the same rows in one file.
pub fn merge_one_file_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    merge_into(ctx, &ctx.one_file_dataset_table(), "merge-one-file-ours")
}

/// Merge the source into fresh copies of `table`, made in scratch directory `scratch`.
fn merge_into(ctx: &Context, table: &Path, scratch: &str) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    let source: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(ctx.merge_source())?)?
        .build()?
        .collect::<Result<_, _>>()?;
    let dir = ctx.scratch(scratch);
    let location = path_str(&dir)?;
    let half = source_rows(ctx.sizes.rows) / 2;
    let samples = time_runs(
        ctx.sizes.slow_runs,
        |_| {
            remove_dir(&dir)?;
            link_table(table, &dir)?;
            Ok((rt.block_on(DeltaTable::open(location))?, source.clone()))
        },
        |(table, source)| {
            let merge = table
                .merge(source, "target.id = source.id")
                .when_matched_update_all(|u| u)
                .when_not_matched_insert_all(|i| i);
            Ok(rt.block_on(merge.execute())?)
        },
        |(_, metrics)| {
            if metrics.num_target_rows_updated != half || metrics.num_target_rows_inserted != half {
                return Err(format!("unexpected merge: {metrics:?}").into());
            }
            Ok(remove_dir(&dir)?)
        },
    )?;
    Ok(samples)
}

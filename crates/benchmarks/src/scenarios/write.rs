//! Write scenarios: a bulk write against arrow-rs writing the same batches, and the latency of
//! consecutive small appends.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use deltalake::DeltaTable;
use deltalake::operations::write::WriterConfig;
use deltalake::operations::write::{SaveMode, WriteBuilder};
use parquet::arrow::ArrowWriter;

use crate::context::{Context, remove_dir};
use crate::measure::time_runs;
use crate::{BenchResult, data, path_str, runtime};

/// The data set's rows, generated in memory before any timing.
fn input(ctx: &Context) -> BenchResult<Vec<RecordBatch>> {
    Ok(data::batches(0, ctx.sizes.rows).collect::<Result<_, _>>()?)
}

/// Write the rows into a new table with our `WriteBuilder` (default writer configuration).
pub fn write_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    write_new_table(ctx, input(ctx)?, "write-ours", &[], 1)
}

/// Partitions of the partitioned write: `part` is `id % PARTITIONS`, so every batch holds rows of
/// every partition (the hard case: every partition's file is open at once).
pub const PARTITIONS: i64 = 16;

/// Write the rows with a `part` column into a new table partitioned by it.
pub fn write_partitioned_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    let batches = input(ctx)?.iter().map(with_part).collect::<BenchResult<Vec<_>>>()?;
    write_new_table(ctx, batches, "write-partitioned-ours", &["part"], PARTITIONS as usize)
}

/// Time writes of `batches` into a new table (in the scratch directory `scratch`) partitioned by
/// `partition_columns`, each checked to commit version 0 with files in `partitions` partitions.
fn write_new_table(
    ctx: &Context,
    batches: Vec<RecordBatch>,
    scratch: &str,
    partition_columns: &[&str],
    partitions: usize,
) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    let dir = ctx.scratch(scratch);
    let location = path_str(&dir)?;
    time_runs(
        ctx.sizes.slow_runs,
        |_| {
            remove_dir(&dir)?;
            Ok(batches.clone())
        },
        |batches| {
            Ok(rt.block_on(
                DeltaTable::write(location)
                    .with_batches(batches)
                    .with_partition_columns(partition_columns.iter().copied())
                    .execute(),
            )?)
        },
        |table| {
            let written: BTreeSet<Vec<(String, Option<String>)>> = table
                .snapshot()
                .files()
                .iter()
                .map(|file| {
                    let values = file.partition_values().into_iter();
                    let mut values: Vec<_> = values.map(|(k, v)| (k.to_string(), v.map(String::from))).collect();
                    values.sort();
                    values
                })
                .collect();
            if table.version() != 0 || written.len() != partitions {
                return Err(format!(
                    "wrote version {} with files in {} partitions, expected {partitions}",
                    table.version(),
                    written.len()
                )
                .into());
            }
            Ok(remove_dir(&dir)?)
        },
    )
}

/// `batch` with the `part` column appended.
fn with_part(batch: &RecordBatch) -> BenchResult<RecordBatch> {
    let ids = batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or("the id column is not int64")?;
    let part: Int64Array = ids.unary(|id| id % PARTITIONS);
    let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new("part", DataType::Int64, true)));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(part));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// Write the same batches to Parquet files with arrow-rs alone: the same writer properties,
/// files rolled at the same target size.
pub fn write_raw(ctx: &Context) -> BenchResult<Vec<f64>> {
    let batches = input(ctx)?;
    let dir = ctx.scratch("write-raw");
    time_runs(
        ctx.sizes.slow_runs,
        |_| {
            remove_dir(&dir)?;
            std::fs::create_dir_all(&dir)?;
            Ok(())
        },
        |()| write_parquet_files(&dir, &batches, &WriterConfig::default()),
        |files| {
            if *files == 0 {
                return Err("wrote no file".into());
            }
            Ok(remove_dir(&dir)?)
        },
    )
}

/// Write `batches` into `dir` as numbered Parquet files; returns how many.
fn write_parquet_files(dir: &Path, batches: &[RecordBatch], config: &WriterConfig) -> BenchResult<usize> {
    let mut files = 0;
    let mut open: Option<ArrowWriter<BufWriter<File>>> = None;
    for batch in batches {
        let writer = match &mut open {
            Some(writer) => writer,
            None => {
                let file = File::create(dir.join(format!("part-{files:05}.parquet")))?;
                files += 1;
                open.insert(ArrowWriter::try_new(
                    BufWriter::new(file),
                    batch.schema(),
                    Some(config.properties.clone()),
                )?)
            }
        };
        writer.write(batch)?;
        if writer.bytes_written() + writer.in_progress_size() >= config.target_file_size
            && let Some(full) = open.take()
        {
            full.close()?;
        }
    }
    if let Some(last) = open {
        last.close()?;
    }
    Ok(files)
}

/// Latency of each of `appends` consecutive small appends, as an application appending in a loop
/// would: each `WriteBuilder::from_table` starts from the table the previous append returned
/// (checking for newer commits), writes one file and commits. The reference script passes its
/// `DeltaTable` object to `write_deltalake` the same way.
pub fn append_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    let dir = ctx.scratch("append-ours");
    remove_dir(&dir)?;
    let location = path_str(&dir)?;
    let batch = data::batch(0, ctx.sizes.append_rows)?;
    let latencies = rt.block_on(async {
        let mut table = DeltaTable::write(location).with_batches(vec![batch.clone()]).await?;
        let mut latencies = Vec::with_capacity(ctx.sizes.appends);
        for commit in 1..=ctx.sizes.appends {
            let start = Instant::now();
            table = WriteBuilder::from_table(table)
                .with_batches(vec![batch.clone()])
                .with_mode(SaveMode::Append)
                .await?;
            latencies.push(start.elapsed().as_secs_f64());
            if table.version() != commit as i64 {
                return Err(format!("append {commit} committed version {}", table.version()).into());
            }
        }
        BenchResult::Ok(latencies)
    })?;
    remove_dir(&dir)?;
    Ok(latencies)
}

/// Checkpoint a copy of the log with `DeltaTable::create_checkpoint`, the table opened untimed
/// (as `python/checkpoint.py` does).
pub fn checkpoint_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    let source = ctx.log_table().join("_delta_log");
    let dir = ctx.scratch("checkpoint-ours");
    let location = path_str(&dir)?;
    let last_version = ctx.sizes.log_commits as i64 - 1;
    let samples = time_runs(
        ctx.sizes.slow_runs,
        |_| {
            remove_dir(&dir)?;
            copy_files(&source, &dir.join("_delta_log"))?;
            Ok(rt.block_on(DeltaTable::open(location))?)
        },
        |table| Ok(rt.block_on(table.create_checkpoint())?),
        |checkpoint| {
            let file = dir
                .join("_delta_log")
                .join(format!("{last_version:020}.checkpoint.parquet"));
            if checkpoint.version != last_version
                || checkpoint.num_of_add_files != Some(ctx.sizes.log_commits as i64)
                || !file.exists()
            {
                return Err(format!("unexpected checkpoint {checkpoint:?}; expected {}", file.display()).into());
            }
            Ok(())
        },
    )?;
    remove_dir(&dir)?;
    Ok(samples)
}

/// Copy the files directly in `from` into the new directory `to`.
fn copy_files(from: &Path, to: &Path) -> BenchResult<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

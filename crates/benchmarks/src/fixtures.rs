//! The data sets scenarios read: a long commit log (with and without a checkpoint), a table of
//! generated rows in several files (and a copy with deletion vectors enabled) and a table of many
//! small files. Built once per benchmark run, before any measurement.

use std::path::Path;

use chrono::{DateTime, SecondsFormat};
use deltalake::DeltaTable;
use deltalake::operations::write::SaveMode;
use deltalake::operations::write::WriterConfig;
use deltalake::protocol::StructType;
use deltalake::protocol::table_config::ENABLE_DELETION_VECTORS;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::context::{Context, remove_dir};
use crate::data::{self, FIRST_TS_MICROS};
use crate::{BenchResult, path_str, runtime};

/// A data set a scenario needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    /// `log_commits` commits, each adding one file with statistics; no checkpoint.
    Log,
    /// The same log with a checkpoint at its last version.
    CheckpointedLog,
    /// `rows` generated rows in `data_files` files written by our writer.
    Dataset,
    /// The same rows partitioned by `flag`, one commit per slice of rows.
    PartitionedDataset,
    /// The same rows in one data file (of row groups of the default size), one commit.
    OneFileDataset,
    /// The merge scenario's source rows, in one Parquet file.
    MergeSource,
    /// A copy of the data set with `delta.enableDeletionVectors` set.
    DatasetWithDeletionVectors,
    /// [`SMALL_FILES`] files of [`SMALL_FILE_ROWS`] rows, in one commit.
    SmallFiles,
}

/// Files of the small-files table.
pub const SMALL_FILES: usize = 1_000;

/// Rows per small file.
const SMALL_FILE_ROWS: usize = 100;

/// Rows each commit of the log claims its file holds.
const ROWS_PER_LOGGED_FILE: i64 = 1_000;

/// Builds fixtures on demand, each at most once.
pub struct Fixtures<'a> {
    ctx: &'a Context,
    ready: Vec<Fixture>,
}

impl<'a> Fixtures<'a> {
    /// Fixtures in `ctx.work`.
    pub fn new(ctx: &'a Context) -> Self {
        Self { ctx, ready: Vec::new() }
    }

    /// Build whichever of `needed` (and what they depend on) do not exist yet.
    pub fn ensure(&mut self, needed: &[Fixture]) -> BenchResult<()> {
        for fixture in needed {
            if self.ready.contains(fixture) {
                continue;
            }
            match fixture {
                Fixture::CheckpointedLog => self.ensure(&[Fixture::Log])?,
                Fixture::DatasetWithDeletionVectors => self.ensure(&[Fixture::Dataset])?,
                _ => {}
            }
            eprintln!("preparing {fixture:?} ...");
            match fixture {
                Fixture::Log => write_log(&self.ctx.log_table(), self.ctx.sizes.log_commits)?,
                Fixture::CheckpointedLog => self.checkpointed_log()?,
                Fixture::Dataset => write_dataset(self.ctx, &self.ctx.dataset_table(), &[])?,
                Fixture::PartitionedDataset => {
                    write_dataset(self.ctx, &self.ctx.partitioned_dataset_table(), &[PARTITION_COLUMN])?
                }
                Fixture::OneFileDataset => write_one_file_dataset(self.ctx)?,
                Fixture::MergeSource => crate::scenarios::merge::write_source(self.ctx)?,
                Fixture::DatasetWithDeletionVectors => self.dataset_with_deletion_vectors()?,
                Fixture::SmallFiles => write_small_files(self.ctx)?,
            }
            self.ready.push(*fixture);
        }
        Ok(())
    }

    /// Copy the log and checkpoint it at its last version with our checkpoint writer.
    fn checkpointed_log(&self) -> BenchResult<()> {
        let (source, dest) = (self.ctx.log_table(), self.ctx.checkpointed_log_table());
        remove_dir(&dest)?;
        copy_dir(&source.join("_delta_log"), &dest.join("_delta_log"))?;
        let location = path_str(&dest)?;
        let commits = self.ctx.sizes.log_commits as i64;
        runtime()?.block_on(async {
            let table = DeltaTable::open(location).await?;
            let checkpoint = table.create_checkpoint().await?;
            if checkpoint.version != commits - 1 {
                return Err(format!("checkpointed version {}, expected {}", checkpoint.version, commits - 1).into());
            }
            BenchResult::Ok(())
        })
    }
}

impl Fixtures<'_> {
    /// Copy the data set and enable deletion vectors on the copy.
    fn dataset_with_deletion_vectors(&self) -> BenchResult<()> {
        let dest = self.ctx.dataset_dv_table();
        copy_table(&self.ctx.dataset_table(), &dest)?;
        let location = path_str(&dest)?;
        runtime()?.block_on(async {
            let table = DeltaTable::open(location).await?;
            let properties = [(ENABLE_DELETION_VECTORS.to_string(), "true".to_string())].into();
            table.alter().set_properties(properties).await?;
            BenchResult::Ok(())
        })
    }
}

/// Copy an unpartitioned table: its data files and its log, into a new directory `to`.
pub fn copy_table(from: &Path, to: &Path) -> BenchResult<()> {
    remove_dir(to)?;
    copy_dir(from, to)?;
    copy_dir(&from.join("_delta_log"), &to.join("_delta_log"))
}

/// Copy the files directly in `from` into a new directory `to`.
fn copy_dir(from: &Path, to: &Path) -> BenchResult<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// Write `commits` commit files directly: version 0 creates the table, every version adds one
/// file with statistics. The data files do not exist; opening a table does not read them.
fn write_log(table: &Path, commits: usize) -> BenchResult<()> {
    let log = table.join("_delta_log");
    remove_dir(table)?;
    std::fs::create_dir_all(&log)?;
    let schema = StructType::try_from_arrow(&data::schema())?.to_json();
    let created = FIRST_TS_MICROS / 1000;
    for version in 0..commits as i64 {
        let timestamp = created + version * 1000;
        let mut lines = vec![json!({"commitInfo": {
            "timestamp": timestamp,
            "operation": if version == 0 { "CREATE TABLE" } else { "WRITE" },
            "operationParameters": {"mode": "Append"},
            "engineInfo": "deltalake-benchmarks",
        }})];
        if version == 0 {
            lines.push(json!({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}));
            lines.push(json!({"metaData": {
                "id": "00000000-0000-4000-8000-000000000001",
                "format": {"provider": "parquet", "options": {}},
                "schemaString": schema,
                "partitionColumns": [],
                "configuration": {},
                "createdTime": created,
            }}));
        }
        lines.push(json!({"add": {
            "path": format!("part-{version:05}-00000000-0000-4000-8000-{version:012}-c000.snappy.parquet"),
            "partitionValues": {},
            "size": 40_000 + version,
            "modificationTime": timestamp,
            "dataChange": true,
            "stats": file_stats(version).to_string(),
        }}));
        let mut body = String::new();
        for line in lines {
            body.push_str(&line.to_string());
            body.push('\n');
        }
        std::fs::write(log.join(format!("{version:020}.json")), body)?;
    }
    Ok(())
}

/// Statistics of the `version`-th logged file: rows `version * 1000..` of the generated data.
fn file_stats(version: i64) -> Value {
    let first = version * ROWS_PER_LOGGED_FILE;
    let last = first + ROWS_PER_LOGGED_FILE - 1;
    let ts = |row: i64| {
        DateTime::from_timestamp_micros(FIRST_TS_MICROS + row * 1000)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
    };
    json!({
        "numRecords": ROWS_PER_LOGGED_FILE,
        "minValues": {"id": first, "key": "key-00000", "value": 0.0, "ts": ts(first)},
        "maxValues": {"id": last, "key": "key-49999", "value": 999.9, "ts": ts(last)},
        "nullCount": {"id": 0, "key": 0, "value": 0, "ts": 0, "flag": 0},
    })
}

/// The partition column of [`Fixture::PartitionedDataset`].
pub const PARTITION_COLUMN: &str = "flag";

/// Write the generated rows into `table` with our writer, one commit (and one file per partition)
/// per slice of rows.
fn write_dataset(ctx: &Context, table: &Path, partition_by: &[&str]) -> BenchResult<()> {
    remove_dir(table)?;
    let location = path_str(table)?;
    let (rows, files) = (ctx.sizes.rows, ctx.sizes.data_files.max(1));
    let per_file = rows.div_ceil(files);
    runtime()?.block_on(async {
        for first in (0..rows).step_by(per_file) {
            let slice = data::batches(first as u64, per_file.min(rows - first));
            let stream = futures::stream::iter(slice.map(|b| b.map_err(deltalake::DeltaError::from)));
            DeltaTable::write(location)
                .with_stream(data::schema(), stream.boxed())
                .with_partition_columns(partition_by.iter().copied())
                .with_mode(SaveMode::Append)
                .await?;
        }
        BenchResult::Ok(())
    })
}

/// Write the generated rows into one file of the one-file table, in one commit.
fn write_one_file_dataset(ctx: &Context) -> BenchResult<()> {
    let table = ctx.one_file_dataset_table();
    remove_dir(&table)?;
    let location = path_str(&table)?;
    let rows = data::batches(0, ctx.sizes.rows);
    let stream = futures::stream::iter(rows.map(|b| b.map_err(deltalake::DeltaError::from)));
    let config = WriterConfig {
        target_file_size: usize::MAX,
        ..WriterConfig::default()
    };
    runtime()?.block_on(async {
        let table = DeltaTable::write(location)
            .with_stream(data::schema(), stream.boxed())
            .with_writer_config(config)
            .await?;
        let files = table.snapshot().files().len();
        if files != 1 {
            return Err(format!("the one-file table has {files} files").into());
        }
        BenchResult::Ok(())
    })
}

/// Write [`SMALL_FILES`] batches of [`SMALL_FILE_ROWS`] rows in one commit, a file each (the
/// writer rolls after every batch).
fn write_small_files(ctx: &Context) -> BenchResult<()> {
    let table = ctx.small_files_table();
    remove_dir(&table)?;
    let location = path_str(&table)?;
    let batches = (0..SMALL_FILES)
        .map(|i| data::batch((i * SMALL_FILE_ROWS) as u64, SMALL_FILE_ROWS))
        .collect::<Result<Vec<_>, _>>()?;
    let config = WriterConfig {
        target_file_size: 1,
        ..WriterConfig::default()
    };
    runtime()?.block_on(async {
        let table = DeltaTable::write(location)
            .with_batches(batches)
            .with_writer_config(config)
            .await?;
        let files = table.snapshot().files().len();
        if files != SMALL_FILES {
            return Err(format!("the small-files table has {files} files, not {SMALL_FILES}").into());
        }
        BenchResult::Ok(())
    })
}

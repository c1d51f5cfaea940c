//! Benchmark sizes and where each data set lives in the work directory.

use std::path::{Path, PathBuf};

/// How big each data set is and how often short measurements are repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Rows of the scan and write data sets.
    pub rows: usize,
    /// Data files the scan data set is split into.
    pub data_files: usize,
    /// Commits of the log-opening data set, one added file each (also the files checkpointed).
    pub log_commits: usize,
    /// Consecutive small appends of the latency scenario.
    pub appends: usize,
    /// Rows per small append.
    pub append_rows: usize,
    /// Runs of a short measurement (the median is reported).
    pub runs: usize,
    /// Runs of a measurement taking seconds.
    pub slow_runs: usize,
    /// Sizes reduced for a quick check: targets are not meaningful.
    pub quick: bool,
}

impl Sizes {
    /// The full sizes of the issues' targets, or reduced ones for `quick`; `rows` overrides the row count.
    pub fn new(rows: Option<usize>, quick: bool) -> Self {
        let base = if quick {
            Self {
                rows: 200_000,
                data_files: 4,
                log_commits: 1_000,
                appends: 100,
                append_rows: 100,
                runs: 3,
                slow_runs: 1,
                quick,
            }
        } else {
            Self {
                rows: 10_000_000,
                data_files: 8,
                log_commits: 10_000,
                appends: 1_000,
                append_rows: 100,
                runs: 5,
                slow_runs: 3,
                quick,
            }
        };
        Self {
            rows: rows.unwrap_or(base.rows).max(1),
            ..base
        }
    }

    /// The command-line arguments that recreate these sizes in a child process.
    pub fn to_args(self) -> Vec<String> {
        let mut args = vec!["--rows".to_string(), self.rows.to_string()];
        if self.quick {
            args.push("--quick".into());
        }
        args
    }
}

/// The sizes and the work directory shared by the parent and its measurement processes.
#[derive(Debug, Clone)]
pub struct Context {
    /// Data sets and scratch tables go here.
    pub work: PathBuf,
    /// Sizes of the data sets.
    pub sizes: Sizes,
}

impl Context {
    /// The table with `log_commits` commits and no checkpoint.
    pub fn log_table(&self) -> PathBuf {
        self.work.join("log")
    }

    /// The same log with a checkpoint at its last version.
    pub fn checkpointed_log_table(&self) -> PathBuf {
        self.work.join("log-checkpointed")
    }

    /// The table of `rows` rows in `data_files` files.
    pub fn dataset_table(&self) -> PathBuf {
        self.work.join("dataset")
    }

    /// The same rows partitioned by `flag`.
    pub fn partitioned_dataset_table(&self) -> PathBuf {
        self.work.join("dataset-partitioned")
    }

    /// The same rows in one data file.
    pub fn one_file_dataset_table(&self) -> PathBuf {
        self.work.join("dataset-one-file")
    }

    /// The Parquet file of the merge scenario's source rows.
    pub fn merge_source(&self) -> PathBuf {
        self.work.join("merge-source.parquet")
    }

    /// The data set with deletion vectors enabled.
    pub fn dataset_dv_table(&self) -> PathBuf {
        self.work.join("dataset-dv")
    }

    /// The table of many small files.
    pub fn small_files_table(&self) -> PathBuf {
        self.work.join("small-files")
    }

    /// A scratch directory for one run (the caller removes it).
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.work.join("scratch").join(name)
    }
}

/// Remove `dir` and everything under it if it exists.
pub fn remove_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

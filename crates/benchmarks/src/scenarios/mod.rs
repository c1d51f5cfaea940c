//! The scenarios: what each measures on our side, on raw arrow-rs and on the reference package,
//! which data set it needs and the target it is judged by.

mod maintenance;
pub mod merge;
mod python;
mod read;
mod write;

use std::fmt;

use clap::ValueEnum;

use crate::BenchResult;
use crate::context::{Context, Sizes};
use crate::fixtures::Fixture;

/// A measurement run inside a child process: returns seconds per run (or per commit).
pub type Runner = fn(&Context) -> BenchResult<Vec<f64>>;

/// Which scenarios a run includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Group {
    /// Opening logs and scanning.
    Read,
    /// Writing, appending and checkpointing.
    Write,
    /// Optimizing and deleting.
    Maintenance,
    /// Table operations: merge.
    Merge,
    /// Our Python package against the reference package, script for script.
    Python,
    /// Every group.
    All,
}

impl Group {
    /// Whether a scenario of group `other` (not `All`) is part of this selection.
    pub fn includes(self, other: Group) -> bool {
        self == Group::All || self == other
    }
}

/// The implementations a scenario compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Side {
    /// This workspace: the `deltalake` crate, or its Python package in Python scenarios.
    Ours,
    /// The same Parquet files without Delta, the limit: arrow-rs, or pyarrow in Python scenarios.
    Raw,
    /// The `deltalake` 1.6.6 PyPI package (delta-rs).
    Reference,
    /// The reference package's own raw limit (pyarrow on the same files).
    ReferenceRaw,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Side::Ours => "ours",
            Side::Raw => "raw",
            Side::Reference => "delta-rs",
            Side::ReferenceRaw => "pyarrow",
        })
    }
}

/// A Python script of `python/` with its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// File name in `crates/benchmarks/python/`.
    pub file: &'static str,
    /// Its command-line arguments.
    pub args: fn(&Context) -> Vec<String>,
}

/// How our side or the raw side of a scenario is run.
#[derive(Debug, Clone, Copy)]
pub enum Implementation {
    /// A runner of this binary, in a process of its own.
    Rust(Runner),
    /// A script of `python/`: run by the interpreter with our Python package for [`Side::Ours`], by
    /// the reference environment's (pyarrow) for [`Side::Raw`].
    Python(Script),
}

/// How the samples become reported numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Summary {
    /// The median of repeated runs.
    Median,
    /// Per-commit latencies, reported as the median of a small window around each commit number.
    Latency(Vec<usize>),
}

/// What a scenario must achieve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// None: the ratios are reported, nothing is judged.
    None,
    /// Our time at most this many seconds.
    Seconds(f64),
    /// Our time at most this multiple of raw arrow-rs.
    VsRaw(f64),
    /// Our time and peak memory at most these multiples of the reference's.
    VsReference {
        /// Time ratio.
        time: f64,
        /// Peak memory ratio.
        memory: f64,
    },
    /// The latency at the last reported commit at most this many seconds.
    LastLatency(f64),
    /// Our time at most this multiple of the reference's and our peak memory at most this
    /// multiple of the raw limit's.
    FasterThanReferenceLeanerThanRaw {
        /// Time ratio to the reference.
        time: f64,
        /// Peak memory ratio to raw.
        memory: f64,
    },
    /// Our time and peak memory at most these.
    Budget {
        /// Seconds.
        seconds: f64,
        /// Peak resident memory in megabytes (2^20 bytes).
        megabytes: f64,
    },
}

/// One benchmark scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Identifier used to run it in a child process.
    pub name: &'static str,
    /// Read or write.
    pub group: Group,
    /// What is measured, with sizes.
    pub title: String,
    /// Data sets that must exist before it runs.
    pub needs: &'static [Fixture],
    /// Our implementation.
    pub ours: Option<Implementation>,
    /// The raw limit.
    pub raw: Option<Implementation>,
    /// The reference package.
    pub reference: Option<Script>,
    /// pyarrow on the same files, the reference's own limit (reported as a note).
    pub reference_raw: Option<Script>,
    /// How samples are summarised.
    pub summary: Summary,
    /// The target of the issues.
    pub target: Target,
}

impl Scenario {
    /// How `side` is run, if this scenario has it.
    pub fn implementation(&self, side: Side) -> Option<Implementation> {
        match side {
            Side::Ours => self.ours,
            Side::Raw => self.raw,
            Side::Reference => self.reference.map(Implementation::Python),
            Side::ReferenceRaw => self.reference_raw.map(Implementation::Python),
        }
    }

    /// The Rust runner of `side`, if it is run by one.
    pub fn runner(&self, side: Side) -> Option<Runner> {
        match self.implementation(side)? {
            Implementation::Rust(runner) => Some(runner),
            Implementation::Python(_) => None,
        }
    }
}

/// Path arguments for the Python scripts.
pub(crate) fn arg(path: std::path::PathBuf) -> String {
    path.display().to_string()
}

/// Every scenario, sized by `sizes`.
pub fn all(sizes: &Sizes) -> Vec<Scenario> {
    let commits = sizes.log_commits;
    let rows = human_count(sizes.rows);
    let mut latency_points: Vec<usize> = [1, 10, 100, 500, 1000]
        .into_iter()
        .filter(|p| *p < sizes.appends)
        .collect();
    latency_points.push(sizes.appends);
    vec![
        Scenario {
            name: "open-log",
            group: Group::Read,
            title: format!("open a {commits}-commit log, no checkpoint"),
            needs: &[Fixture::Log],
            ours: Some(Implementation::Rust(read::open_log)),
            raw: None,
            reference: Some(Script {
                file: "open_table.py",
                args: open_log_args,
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Seconds(0.25),
        },
        Scenario {
            name: "open-checkpointed-log",
            group: Group::Read,
            title: format!("open a {commits}-commit log, checkpoint at the end"),
            needs: &[Fixture::CheckpointedLog],
            ours: Some(Implementation::Rust(read::open_checkpointed_log)),
            raw: None,
            reference: Some(Script {
                file: "open_table.py",
                args: |ctx| {
                    let s = ctx.sizes;
                    vec![
                        arg(ctx.checkpointed_log_table()),
                        s.runs.to_string(),
                        (s.log_commits - 1).to_string(),
                    ]
                },
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Seconds(0.02),
        },
        Scenario {
            name: "scan",
            group: Group::Read,
            title: format!("full scan of {rows} rows in {} files", sizes.data_files),
            needs: &[Fixture::Dataset],
            ours: Some(Implementation::Rust(read::scan_ours)),
            raw: Some(Implementation::Rust(read::scan_raw)),
            reference: Some(Script {
                file: "scan.py",
                args: |ctx| scan_args(ctx, "delta"),
            }),
            reference_raw: Some(Script {
                file: "scan.py",
                args: |ctx| scan_args(ctx, "parquet"),
            }),
            summary: Summary::Median,
            target: Target::VsRaw(1.1),
        },
        Scenario {
            name: "write",
            group: Group::Write,
            title: format!("write {rows} rows into a new table"),
            needs: &[Fixture::Dataset],
            ours: Some(Implementation::Rust(write::write_ours)),
            raw: Some(Implementation::Rust(write::write_raw)),
            reference: Some(Script {
                file: "write.py",
                args: |ctx| {
                    vec![
                        arg(ctx.dataset_table()),
                        arg(ctx.scratch("write-reference")),
                        ctx.sizes.slow_runs.to_string(),
                    ]
                },
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::VsReference { time: 0.8, memory: 0.7 },
        },
        Scenario {
            name: "write-partitioned",
            group: Group::Write,
            title: format!(
                "write {rows} rows into {} partitions (raw: the same rows unpartitioned)",
                write::PARTITIONS
            ),
            needs: &[],
            ours: Some(Implementation::Rust(write::write_partitioned_ours)),
            raw: Some(Implementation::Rust(write::write_raw)),
            reference: None,
            reference_raw: None,
            summary: Summary::Median,
            target: Target::None,
        },
        Scenario {
            name: "append",
            group: Group::Write,
            title: format!("{} appends of {} rows", sizes.appends, sizes.append_rows),
            needs: &[],
            ours: Some(Implementation::Rust(write::append_ours)),
            raw: None,
            reference: Some(Script {
                file: "append.py",
                args: |ctx| {
                    vec![
                        arg(ctx.scratch("append-reference")),
                        ctx.sizes.appends.to_string(),
                        ctx.sizes.append_rows.to_string(),
                    ]
                },
            }),
            reference_raw: None,
            summary: Summary::Latency(latency_points),
            target: Target::LastLatency(0.010),
        },
        Scenario {
            name: "checkpoint",
            group: Group::Write,
            title: format!("checkpoint a {commits}-file table"),
            needs: &[Fixture::Log],
            ours: Some(Implementation::Rust(write::checkpoint_ours)),
            raw: None,
            reference: Some(Script {
                file: "checkpoint.py",
                args: |ctx| {
                    vec![
                        arg(ctx.log_table()),
                        arg(ctx.scratch("checkpoint-reference")),
                        ctx.sizes.slow_runs.to_string(),
                    ]
                },
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Seconds(0.2),
        },
        Scenario {
            name: "merge",
            group: Group::Merge,
            title: format!(
                "merge {} rows (half updates, half inserts) into {rows}",
                human_count(merge::source_rows(sizes.rows))
            ),
            needs: &[Fixture::Dataset, Fixture::MergeSource],
            ours: Some(Implementation::Rust(merge::merge_ours)),
            raw: None,
            reference: Some(Script {
                file: "merge.py",
                args: |ctx| merge_args(ctx, ctx.dataset_table(), "merge-reference"),
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Budget {
                seconds: 1.0,
                megabytes: 400.0,
            },
        },
        Scenario {
            name: "merge-one-file",
            group: Group::Merge,
            title: format!(
                "merge {} rows (half updates, half inserts) into {rows} in one file",
                human_count(merge::source_rows(sizes.rows))
            ),
            needs: &[Fixture::OneFileDataset, Fixture::MergeSource],
            ours: Some(Implementation::Rust(merge::merge_one_file_ours)),
            raw: None,
            reference: Some(Script {
                file: "merge.py",
                args: |ctx| merge_args(ctx, ctx.one_file_dataset_table(), "merge-one-file-reference"),
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Budget {
                seconds: 1.0,
                megabytes: 400.0,
            },
        },
    ]
    .into_iter()
    .chain(maintenance::scenarios(sizes))
    .chain(python::scenarios(sizes))
    .collect()
}

/// `merge.py` into a copy of `table` made in `scratch`.
pub(crate) fn merge_args(ctx: &Context, table: std::path::PathBuf, scratch: &str) -> Vec<String> {
    vec![
        arg(table),
        arg(ctx.merge_source()),
        arg(ctx.scratch(scratch)),
        ctx.sizes.slow_runs.to_string(),
    ]
}

/// `open_table.py` on the log without a checkpoint.
pub(crate) fn open_log_args(ctx: &Context) -> Vec<String> {
    let s = ctx.sizes;
    vec![
        arg(ctx.log_table()),
        s.slow_runs.to_string(),
        (s.log_commits - 1).to_string(),
    ]
}

pub(crate) fn scan_args(ctx: &Context, mode: &str) -> Vec<String> {
    vec![
        arg(ctx.dataset_table()),
        ctx.sizes.runs.to_string(),
        mode.to_string(),
        ctx.sizes.rows.to_string(),
    ]
}

/// `10M`, `200k` or the plain number.
pub(crate) fn human_count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_latency_points_end_at_the_last_append() {
        for quick in [false, true] {
            let sizes = Sizes::new(None, quick);
            let scenarios = all(&sizes);
            let mut names: Vec<_> = scenarios.iter().map(|s| s.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), scenarios.len());
            let append = scenarios.iter().find(|s| s.name == "append").unwrap();
            let Summary::Latency(points) = &append.summary else {
                panic!()
            };
            assert_eq!(points.last(), Some(&sizes.appends));
        }
        assert_eq!(human_count(10_000_000), "10M");
        assert_eq!(human_count(200_000), "200k");
        assert_eq!(human_count(1234), "1234");
    }
}

//! Python scenarios: the scripts of `python/` run once with our Python package and once with the
//! reference package, so both are driven through the same `deltalake` API; the raw side is pyarrow
//! reading the same Parquet files.

use super::{
    Group, Implementation, Scenario, Script, Summary, Target, arg, human_count, merge, merge_args, open_log_args,
    scan_args,
};
use crate::context::{Context, Sizes};
use crate::data::flag_of;
use crate::fixtures::Fixture;

/// Every Python scenario, sized by `sizes`.
pub fn scenarios(sizes: &Sizes) -> Vec<Scenario> {
    let rows = human_count(sizes.rows);
    let scan = Script {
        file: "scan.py",
        args: |ctx| scan_args(ctx, "delta"),
    };
    let id_filter = Script {
        file: "filtered_scan.py",
        args: |ctx| filtered_args(ctx, "delta", "id"),
    };
    let partition_filter = Script {
        file: "filtered_scan.py",
        args: |ctx| filtered_args(ctx, "delta", "partition"),
    };
    let open = Script {
        file: "open_table.py",
        args: open_log_args,
    };
    vec![
        Scenario {
            name: "py-open-log",
            group: Group::Python,
            title: format!("python: open a {}-commit log, no checkpoint", sizes.log_commits),
            needs: &[Fixture::Log],
            ours: Some(Implementation::Python(open)),
            raw: None,
            reference: Some(open),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Seconds(0.25),
        },
        Scenario {
            name: "py-scan",
            group: Group::Python,
            title: format!("python: to_pyarrow_table() of {rows} rows"),
            needs: &[Fixture::Dataset],
            ours: Some(Implementation::Python(scan)),
            raw: Some(Implementation::Python(Script {
                file: "scan.py",
                args: |ctx| scan_args(ctx, "parquet"),
            })),
            reference: Some(scan),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::VsRaw(1.1),
        },
        Scenario {
            name: "py-filtered-scan",
            group: Group::Python,
            title: format!("python: to_pyarrow_table(filters=[id >= 90%]) of {rows} rows"),
            needs: &[Fixture::Dataset],
            ours: Some(Implementation::Python(id_filter)),
            raw: Some(Implementation::Python(Script {
                file: "filtered_scan.py",
                args: |ctx| filtered_args(ctx, "parquet", "id"),
            })),
            reference: Some(id_filter),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::VsRaw(1.1),
        },
        Scenario {
            name: "py-partition-scan",
            group: Group::Python,
            title: format!("python: to_pyarrow_table(filters=[flag = true]) of {rows} rows partitioned by flag"),
            needs: &[Fixture::PartitionedDataset],
            ours: Some(Implementation::Python(partition_filter)),
            raw: Some(Implementation::Python(Script {
                file: "filtered_scan.py",
                args: |ctx| filtered_args(ctx, "parquet", "partition"),
            })),
            reference: Some(partition_filter),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::VsRaw(1.1),
        },
        Scenario {
            name: "py-write",
            group: Group::Python,
            title: format!("python: write_deltalake of {rows} rows into a new table"),
            needs: &[Fixture::Dataset],
            ours: Some(Implementation::Python(Script {
                file: "write.py",
                args: |ctx| write_args(ctx, "py-write-ours"),
            })),
            raw: None,
            reference: Some(Script {
                file: "write.py",
                args: |ctx| write_args(ctx, "py-write-reference"),
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::None,
        },
        Scenario {
            name: "py-partitioned-write",
            group: Group::Python,
            title: format!("python: write_deltalake of {rows} rows into 16 partitions"),
            needs: &[Fixture::Dataset],
            ours: Some(Implementation::Python(Script {
                file: "partitioned_write.py",
                args: |ctx| partitioned_write_args(ctx, "py-partitioned-write-ours", "delta"),
            })),
            raw: Some(Implementation::Python(Script {
                file: "partitioned_write.py",
                args: |ctx| partitioned_write_args(ctx, "py-partitioned-write-raw", "parquet"),
            })),
            reference: Some(Script {
                file: "partitioned_write.py",
                args: |ctx| partitioned_write_args(ctx, "py-partitioned-write-reference", "delta"),
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::FasterThanReferenceLeanerThanRaw { time: 0.8, memory: 1.0 },
        },
        Scenario {
            name: "py-merge",
            group: Group::Python,
            title: format!(
                "python: merge {} rows (half updates, half inserts) into {rows}",
                human_count(merge::source_rows(sizes.rows))
            ),
            needs: &[Fixture::Dataset, Fixture::MergeSource],
            ours: Some(Implementation::Python(Script {
                file: "merge.py",
                args: |ctx| merge_args(ctx, ctx.dataset_table(), "py-merge-ours"),
            })),
            raw: None,
            reference: Some(Script {
                file: "merge.py",
                args: |ctx| merge_args(ctx, ctx.dataset_table(), "py-merge-reference"),
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::None,
        },
        Scenario {
            name: "py-merge-one-file",
            group: Group::Python,
            title: format!(
                "python: merge {} rows (half updates, half inserts) into {rows} in one file",
                human_count(merge::source_rows(sizes.rows))
            ),
            needs: &[Fixture::OneFileDataset, Fixture::MergeSource],
            ours: Some(Implementation::Python(Script {
                file: "merge.py",
                args: |ctx| merge_args(ctx, ctx.one_file_dataset_table(), "py-merge-one-file-ours"),
            })),
            raw: None,
            reference: Some(Script {
                file: "merge.py",
                args: |ctx| merge_args(ctx, ctx.one_file_dataset_table(), "py-merge-one-file-reference"),
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Budget {
                seconds: 1.0,
                megabytes: 400.0,
            },
        },
    ]
}

/// `filtered_scan.py TABLE RUNS MODE FILTER EXPECTED_ROWS`: `id` keeps the last tenth of the ids
/// (files and row groups are skipped by statistics), `partition` the rows whose `flag` is true.
fn filtered_args(ctx: &Context, mode: &str, filter: &str) -> Vec<String> {
    let rows = ctx.sizes.rows as u64;
    let (table, threshold, expected) = match filter {
        "id" => {
            let threshold = rows - rows / 10;
            (ctx.dataset_table(), threshold, rows - threshold)
        }
        _ => (
            ctx.partitioned_dataset_table(),
            0,
            (0..rows).filter(|r| flag_of(*r)).count() as u64,
        ),
    };
    vec![
        arg(table),
        ctx.sizes.runs.to_string(),
        mode.to_string(),
        filter.to_string(),
        threshold.to_string(),
        expected.to_string(),
    ]
}

fn write_args(ctx: &Context, scratch: &str) -> Vec<String> {
    vec![
        arg(ctx.dataset_table()),
        arg(ctx.scratch(scratch)),
        ctx.sizes.slow_runs.to_string(),
    ]
}

fn partitioned_write_args(ctx: &Context, scratch: &str, mode: &str) -> Vec<String> {
    let mut args = write_args(ctx, scratch);
    args.push(mode.to_string());
    args
}

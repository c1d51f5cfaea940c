//! Maintenance scenarios: Z-order of the data set on two columns, compaction of many small
//! files, and deleting a tenth of the data set's rows with and without deletion vectors. Each
//! run works on a fresh copy of its data set (copied untimed).

use deltalake::DeltaTable;
use deltalake::operations::optimize::{OptimizeMetrics, OptimizeType};

use super::{Group, Implementation, Scenario, Script, Summary, Target, arg, human_count};
use crate::context::{Context, Sizes, remove_dir};
use crate::fixtures::{Fixture, SMALL_FILES, copy_table};
use crate::measure::time_runs;
use crate::{BenchResult, path_str, runtime};

/// The two columns the data set is Z-ordered by.
pub const ZORDER_COLUMNS: [&str; 2] = ["key", "value"];

/// The predicate of the delete scenarios: `value` is uniform over `0..1000`, so a tenth of the rows.
pub const DELETE_PREDICATE: &str = "value < 100.0";

/// The maintenance scenarios, sized by `sizes`.
pub fn scenarios(sizes: &Sizes) -> Vec<Scenario> {
    let rows = human_count(sizes.rows);
    vec![
        Scenario {
            name: "zorder",
            group: Group::Maintenance,
            title: format!("Z-order {rows} rows on two columns ({})", ZORDER_COLUMNS.join(", ")),
            needs: &[Fixture::Dataset],
            ours: Some(Implementation::Rust(zorder_ours)),
            raw: None,
            reference: Some(Script {
                file: "zorder.py",
                args: |ctx| {
                    let mut args = vec![
                        arg(ctx.dataset_table()),
                        arg(ctx.scratch("zorder-reference")),
                        ctx.sizes.slow_runs.to_string(),
                    ];
                    args.extend(ZORDER_COLUMNS.map(String::from));
                    args
                },
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Seconds(5.0),
        },
        Scenario {
            name: "compact",
            group: Group::Maintenance,
            title: format!("compact {SMALL_FILES} small files"),
            needs: &[Fixture::SmallFiles],
            ours: Some(Implementation::Rust(compact_ours)),
            raw: None,
            reference: Some(Script {
                file: "compact.py",
                args: |ctx| {
                    vec![
                        arg(ctx.small_files_table()),
                        arg(ctx.scratch("compact-reference")),
                        ctx.sizes.runs.to_string(),
                    ]
                },
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::Seconds(0.3),
        },
        Scenario {
            name: "delete",
            group: Group::Maintenance,
            title: format!("delete 10% of {rows} rows, files rewritten"),
            needs: &[Fixture::Dataset],
            ours: Some(Implementation::Rust(delete_ours)),
            raw: None,
            reference: Some(Script {
                file: "delete.py",
                args: |ctx| delete_args(ctx, ctx.dataset_table(), "delete-reference"),
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::VsReference { time: 1.0, memory: 1.0 },
        },
        Scenario {
            name: "delete-dv",
            group: Group::Maintenance,
            title: format!("delete 10% of {rows} rows, deletion vectors enabled"),
            needs: &[Fixture::DatasetWithDeletionVectors],
            ours: Some(Implementation::Rust(delete_dv_ours)),
            raw: None,
            reference: Some(Script {
                file: "delete.py",
                args: |ctx| delete_args(ctx, ctx.dataset_dv_table(), "delete-dv-reference"),
            }),
            reference_raw: None,
            summary: Summary::Median,
            target: Target::VsReference { time: 0.5, memory: 1.0 },
        },
    ]
}

/// The arguments of `delete.py` on `source`, with scratch directory `name`.
fn delete_args(ctx: &Context, source: std::path::PathBuf, name: &str) -> Vec<String> {
    vec![
        arg(source),
        arg(ctx.scratch(name)),
        ctx.sizes.slow_runs.to_string(),
        DELETE_PREDICATE.to_string(),
    ]
}

/// Optimize a fresh copy of `source` with `optimize` each run; `check` judges the metrics.
fn optimize_runs(
    ctx: &Context,
    runs: usize,
    source: std::path::PathBuf,
    name: &str,
    kind: OptimizeType,
    check: impl Fn(&OptimizeMetrics) -> BenchResult<()>,
) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    let dir = ctx.scratch(name);
    let location = path_str(&dir)?;
    let samples = time_runs(
        runs,
        |_| {
            remove_dir(&dir)?;
            copy_table(&source, &dir)?;
            Ok(rt.block_on(DeltaTable::open(location))?)
        },
        |table| Ok(rt.block_on(table.optimize().with_type(kind.clone()).execute())?.1),
        check,
    )?;
    remove_dir(&dir)?;
    Ok(samples)
}

/// Z-order a copy of the data set by [`ZORDER_COLUMNS`].
pub fn zorder_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    let kind = OptimizeType::ZOrder(ZORDER_COLUMNS.map(String::from).to_vec());
    let files = ctx.sizes.data_files;
    optimize_runs(
        ctx,
        ctx.sizes.slow_runs,
        ctx.dataset_table(),
        "zorder-ours",
        kind,
        |m| {
            if m.num_files_removed != files || m.num_files_added == 0 {
                return Err(format!("Z-order rewrote {} of {files} files", m.num_files_removed).into());
            }
            Ok(())
        },
    )
}

/// Compact a copy of the small-files table.
pub fn compact_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    let source = ctx.small_files_table();
    optimize_runs(
        ctx,
        ctx.sizes.runs,
        source,
        "compact-ours",
        OptimizeType::Compact,
        |m| {
            if m.num_files_removed != SMALL_FILES || m.num_files_added != 1 {
                return Err(format!("compacted {} files into {}", m.num_files_removed, m.num_files_added).into());
            }
            Ok(())
        },
    )
}

/// Delete [`DELETE_PREDICATE`] from a fresh copy of `source` each run.
fn delete_runs(ctx: &Context, source: std::path::PathBuf, name: &str, vectors: bool) -> BenchResult<Vec<f64>> {
    let rt = runtime()?;
    let dir = ctx.scratch(name);
    let location = path_str(&dir)?;
    let rows = ctx.sizes.rows;
    let samples = time_runs(
        ctx.sizes.slow_runs,
        |_| {
            remove_dir(&dir)?;
            copy_table(&source, &dir)?;
            Ok(rt.block_on(DeltaTable::open(location))?)
        },
        |table| {
            Ok(rt
                .block_on(table.delete().with_predicate(DELETE_PREDICATE).execute())?
                .1)
        },
        |m| {
            // A tenth of the rows, give or take the randomness of the generated values.
            let tenth = rows / 10;
            if m.num_deleted_rows.abs_diff(tenth) > tenth / 10 + 10 {
                return Err(format!("deleted {} rows, expected about {tenth}", m.num_deleted_rows).into());
            }
            if vectors != (m.num_deletion_vectors_added > 0) {
                return Err(format!("{} deletion vectors written", m.num_deletion_vectors_added).into());
            }
            Ok(())
        },
    )?;
    remove_dir(&dir)?;
    Ok(samples)
}

/// Delete a tenth of the rows of a copy of the data set (files rewritten).
pub fn delete_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    delete_runs(ctx, ctx.dataset_table(), "delete-ours", false)
}

/// Delete a tenth of the rows of a copy of the data set with deletion vectors enabled.
pub fn delete_dv_ours(ctx: &Context) -> BenchResult<Vec<f64>> {
    delete_runs(ctx, ctx.dataset_dv_table(), "delete-dv-ours", true)
}

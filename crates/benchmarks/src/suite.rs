//! A benchmark run: build the data sets, measure every side of every selected scenario in its own
//! process, print the table, remove the data.

use std::path::PathBuf;

use clap::Parser;

use crate::BenchResult;
use crate::child;
use crate::context::{Context, Sizes};
use crate::fixtures::Fixtures;
use crate::measure::load_average;
use crate::reference::Python;
use crate::report::{self, Outcome, SIDES, SideResult};
use crate::scenarios::{self, Group, Scenario, Side};

/// Benchmarks of the deltalake crate against raw arrow-rs Parquet and the deltalake 1.6.6 PyPI package.
#[derive(Debug, Parser)]
#[command(name = "benchmarks")]
pub struct SuiteArgs {
    /// Which scenarios to run.
    #[arg(value_enum, default_value = "all")]
    group: Group,
    /// Rows of the scan and write data sets (default 10,000,000; 200,000 with --quick).
    #[arg(long)]
    rows: Option<usize>,
    /// Small sizes and fewer runs, to check that everything works in about a minute.
    #[arg(long)]
    quick: bool,
    /// Directory for the data (a temporary directory inside it is removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Python interpreter with deltalake 1.6.6 (default: the one scripts/setup-python.sh prints).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Skip the deltalake PyPI package.
    #[arg(long)]
    no_reference: bool,
    /// Keep the data directory (to profile a scenario alone with `benchmarks scenario NAME SIDE --work DIR`).
    #[arg(long)]
    keep: bool,
}

/// Run the selected scenarios and print the table.
pub fn run(args: SuiteArgs) -> BenchResult<()> {
    let sizes = Sizes::new(args.rows, args.quick);
    let parent = args.dir.unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&parent)?;
    let work = tempfile::Builder::new()
        .prefix("deltalake-bench-")
        .tempdir_in(&parent)?;
    let ctx = Context {
        work: work.path().to_path_buf(),
        sizes,
    };
    eprintln!("data in {}", ctx.work.display());
    let load_before = load_average();
    let python = if args.no_reference {
        None
    } else {
        Python::locate(args.python)
            .inspect_err(|e| eprintln!("the reference package is not available, its columns stay empty: {e}"))
            .ok()
    };
    let mut fixtures = Fixtures::new(&ctx);
    let mut outcomes = Vec::new();
    for scenario in scenarios::all(&sizes)
        .into_iter()
        .filter(|s| args.group.includes(s.group))
    {
        eprintln!("== {}", scenario.title);
        let results = match fixtures.ensure(scenario.needs) {
            Ok(()) => SIDES.map(|side| measure(&scenario, side, &ctx, python.as_ref())),
            Err(e) => {
                let message = format!("cannot prepare the data: {e}");
                eprintln!("   {message}");
                SIDES.map(|side| has_side(&scenario, side).then(|| Err(message.clone())))
            }
        };
        outcomes.push(Outcome { scenario, results });
    }
    report::print(&outcomes, sizes.quick);
    println!(
        "\nload average: {load_before} at the start, {} at the end",
        load_average()
    );
    if args.keep {
        eprintln!("data kept in {}", work.keep().display());
    } else {
        work.close()?;
    }
    Ok(())
}

fn has_side(scenario: &Scenario, side: Side) -> bool {
    scenario.runner(side).is_some() || scenario.script(side).is_some()
}

/// Measure one side in its own process; `None` if the scenario has no such side.
fn measure(scenario: &Scenario, side: Side, ctx: &Context, python: Option<&Python>) -> SideResult {
    let result = if scenario.runner(side).is_some() {
        child::spawn(scenario.name, side, ctx)
    } else {
        // Without the reference interpreter (reported at the start) its sides are simply not run.
        let script = scenario.script(side)?;
        python?.run(script.file, &(script.args)(ctx))
    };
    let result = result.map_err(|e| e.to_string());
    match &result {
        Ok(m) => eprintln!(
            "   {side:<12} median {:>9.4} s over {} sample(s), peak {} MB",
            m.median().unwrap_or(f64::NAN),
            m.samples.len(),
            m.peak_rss_bytes / (1024 * 1024)
        ),
        Err(e) => eprintln!("   {side:<12} failed: {e}"),
    }
    Some(result)
}

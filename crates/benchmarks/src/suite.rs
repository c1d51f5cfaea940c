//! A benchmark run: build the data sets, measure every side of every selected scenario in its own
//! process, print the table, remove the data.

use std::path::PathBuf;

use clap::Parser;

use crate::BenchResult;
use crate::child;
use crate::context::{Context, Sizes};
use crate::fixtures::Fixtures;
use crate::measure::load_average;
use crate::reference::{Package, Python};
use crate::report::{self, Outcome, SIDES, SideResult};
use crate::scenarios::{self, Group, Implementation, Scenario, Side};

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
    /// Python interpreter with our package and pyarrow, for the Python scenarios (default: the one
    /// scripts/setup-bench-python.sh prints, after building the package in release mode).
    #[arg(long)]
    ours_python: Option<PathBuf>,
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
    let selected: Vec<Scenario> = scenarios::all(&sizes)
        .into_iter()
        .filter(|s| args.group.includes(s.group))
        .collect();
    let pythons = Interpreters {
        reference: (!args.no_reference)
            .then(|| locate(Package::Reference, args.python))
            .flatten(),
        ours: selected
            .iter()
            .any(|s| matches!(s.ours, Some(Implementation::Python(_))))
            .then(|| locate(Package::Ours, args.ours_python))
            .flatten(),
    };
    let mut fixtures = Fixtures::new(&ctx);
    let mut outcomes = Vec::new();
    for scenario in selected {
        eprintln!("== {}", scenario.title);
        let results = match fixtures.ensure(scenario.needs) {
            Ok(()) => SIDES.map(|side| measure(&scenario, side, &ctx, &pythons)),
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

/// The interpreters of the Python sides, where available.
struct Interpreters {
    /// With the reference package: runs the reference sides and the raw sides of Python scenarios.
    reference: Option<Python>,
    /// With our package: runs our side of Python scenarios.
    ours: Option<Python>,
}

/// The interpreter of `package`, or `None` (said once, here) if it cannot be had.
fn locate(package: Package, explicit: Option<PathBuf>) -> Option<Python> {
    Python::locate(package, explicit)
        .inspect_err(|e| eprintln!("the {package:?} Python package is not available, its columns stay empty: {e}"))
        .ok()
}

fn has_side(scenario: &Scenario, side: Side) -> bool {
    scenario.implementation(side).is_some()
}

/// Measure one side in its own process; `None` if the scenario has no such side, or its
/// interpreter is missing (reported at the start).
fn measure(scenario: &Scenario, side: Side, ctx: &Context, pythons: &Interpreters) -> SideResult {
    let result = match scenario.implementation(side)? {
        Implementation::Rust(_) => child::spawn(scenario.name, side, ctx),
        Implementation::Python(script) => {
            let python = match side {
                Side::Ours => pythons.ours.as_ref(),
                Side::Raw | Side::Reference | Side::ReferenceRaw => pythons.reference.as_ref(),
            };
            python?.run(script.file, &(script.args)(ctx))
        }
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

//! Measurement processes: the binary re-executes itself with the hidden `scenario` command so each
//! side of each scenario has a process of its own, and so a peak memory of its own.

use std::path::PathBuf;
use std::process::{Command, Output};

use clap::Parser;

use crate::BenchResult;
use crate::context::{Context, Sizes};
use crate::measure::{Measurement, peak_rss_bytes};
use crate::scenarios::{self, Side};

/// The hidden first argument that makes the binary a measurement process.
pub const COMMAND: &str = "scenario";

/// Arguments of a measurement process.
#[derive(Debug, Parser)]
#[command(name = "benchmarks scenario", about = "Run one side of one scenario (internal)")]
pub struct ChildArgs {
    /// The scenario name.
    name: String,
    /// Which implementation to measure.
    #[arg(value_enum)]
    side: Side,
    /// The work directory holding the data sets.
    #[arg(long)]
    work: PathBuf,
    /// Rows of the data sets.
    #[arg(long)]
    rows: usize,
    /// Reduced sizes.
    #[arg(long)]
    quick: bool,
}

/// Run one side of one scenario and print its [`Measurement`] as a JSON line.
pub fn run(args: ChildArgs) -> BenchResult<()> {
    let sizes = Sizes::new(Some(args.rows), args.quick);
    let ctx = Context { work: args.work, sizes };
    let scenario = scenarios::all(&sizes)
        .into_iter()
        .find(|s| s.name == args.name)
        .ok_or_else(|| format!("no scenario named '{}'", args.name))?;
    let runner = scenario
        .runner(args.side)
        .ok_or_else(|| format!("scenario '{}' has no {} side in Rust", args.name, args.side))?;
    let samples = runner(&ctx)?;
    let measurement = Measurement {
        samples,
        peak_rss_bytes: peak_rss_bytes()?,
    };
    println!("{}", serde_json::to_string(&measurement)?);
    Ok(())
}

/// Run `side` of scenario `name` in a new process of this binary.
pub fn spawn(name: &str, side: Side, ctx: &Context) -> BenchResult<Measurement> {
    let side_arg = clap::ValueEnum::to_possible_value(&side)
        .map(|v| v.get_name().to_string())
        .ok_or("side without a name")?;
    let output = Command::new(std::env::current_exe()?)
        .args([COMMAND, name, &side_arg, "--work"])
        .arg(&ctx.work)
        .args(ctx.sizes.to_args())
        .output()?;
    parse_output(&format!("{name} ({side})"), &output)
}

/// The [`Measurement`] a measurement process printed as its last line, or its error.
pub fn parse_output(what: &str, output: &Output) -> BenchResult<Measurement> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("{what} failed ({}): {}", output.status, tail.join(" | ")).into());
    }
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| format!("{what} printed nothing"))?;
    serde_json::from_str(last).map_err(|e| format!("{what} printed '{last}', not a measurement: {e}").into())
}

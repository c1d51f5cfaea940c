//! Benchmarks of the `deltalake` crate against the raw Parquet limit (arrow-rs on the same data)
//! and the `deltalake` 1.6.6 PyPI package (delta-rs): times, peak memory and ratios.
//!
//! ```sh
//! cargo run --release -p benchmarks -- [read|write|all] [--rows N] [--quick] [--dir DIR]
//! ```
//!
//! Each side of each scenario runs in its own process (this binary re-executed with the hidden
//! `scenario` command, or a script of `python/`), which reports its samples and peak RSS.

mod child;
mod context;
mod data;
mod fixtures;
mod measure;
mod reference;
mod report;
mod scenarios;
mod suite;

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

/// jemalloc, the allocator the `deltalake` PyPI package ships with, so peak memory compares like
/// for like (glibc malloc keeps freed memory in an arena per thread).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Errors of the benchmark harness, with their message.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A path as the `&str` table locations are given as.
pub fn path_str(path: &Path) -> BenchResult<&str> {
    path.to_str()
        .ok_or_else(|| format!("{} is not valid UTF-8", path.display()).into())
}

/// The multi-threaded Tokio runtime every measurement runs on.
pub fn runtime() -> BenchResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn main() -> ExitCode {
    let result = if std::env::args().nth(1).as_deref() == Some(child::COMMAND) {
        child::run(child::ChildArgs::parse_from(std::env::args().skip(1)))
    } else {
        suite::run(suite::SuiteArgs::parse())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

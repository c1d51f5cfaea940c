//! What one measurement process reports: its time samples and its peak resident memory.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::BenchResult;

/// The result of one scenario side, printed by the child process as one JSON line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// Seconds per run (or per commit, for latency series).
    pub samples: Vec<f64>,
    /// Peak resident set size of the whole process, in bytes.
    pub peak_rss_bytes: u64,
}

impl Measurement {
    /// The median of the samples.
    pub fn median(&self) -> Option<f64> {
        median(&self.samples)
    }
}

/// The median of `values` (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// Run `prepare` then time `work` on its output, `runs` times; returns the seconds of each run.
/// `work` returns a description of what it did (rows, files, version) checked by `check`.
pub fn time_runs<P, T>(
    runs: usize,
    mut prepare: impl FnMut(usize) -> BenchResult<P>,
    mut work: impl FnMut(P) -> BenchResult<T>,
    check: impl Fn(&T) -> BenchResult<()>,
) -> BenchResult<Vec<f64>> {
    let mut samples = Vec::with_capacity(runs);
    for run in 0..runs {
        let input = prepare(run)?;
        let start = Instant::now();
        let output = work(input)?;
        samples.push(start.elapsed().as_secs_f64());
        check(&output)?;
    }
    Ok(samples)
}

/// The peak resident set size of this process (`VmHWM` of `/proc/self/status`), in bytes.
pub fn peak_rss_bytes() -> BenchResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM line in /proc/self/status")?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib * 1024)
}

/// The 1-minute load average of the machine and its CPU count, e.g. `1.52 on 2 CPUs`.
pub fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{load} on {cpus} CPUs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn peak_rss_is_positive() {
        assert!(peak_rss_bytes().unwrap() > 0);
    }
}

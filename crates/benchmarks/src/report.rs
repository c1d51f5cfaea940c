//! The printed table: one row per scenario and metric, with ratios and targets.

use crate::measure::{Measurement, median};
use crate::scenarios::{Scenario, Side, Summary, Target};

/// What one side of a scenario gave: not applicable, an error, or a measurement.
pub type SideResult = Option<Result<Measurement, String>>;

/// A scenario with the results of each side.
#[derive(Debug)]
pub struct Outcome {
    /// The scenario.
    pub scenario: Scenario,
    /// Results by side, in the order of [`SIDES`].
    pub results: [SideResult; 4],
}

/// Every side, in the order results are stored.
pub const SIDES: [Side; 4] = [Side::Ours, Side::Raw, Side::Reference, Side::ReferenceRaw];

impl Outcome {
    /// The result of `side`.
    pub fn result(&self, side: Side) -> &SideResult {
        &self.results[side as usize]
    }

    fn value(&self, side: Side, metric: Metric) -> Option<f64> {
        let measurement = self.result(side).as_ref()?.as_ref().ok()?;
        match metric {
            Metric::Time => measurement.median(),
            Metric::LatencyAt(commit) => window_median(&measurement.samples, commit),
            Metric::Peak => Some(measurement.peak_rss_bytes as f64),
        }
    }
}

/// Commits on either side of a reported commit whose latencies share its median.
const WINDOW: usize = 2;

/// The median latency of commits `commit - WINDOW..=commit + WINDOW` (commit 1 is `samples[0]`).
fn window_median(samples: &[f64], commit: usize) -> Option<f64> {
    let first = commit.saturating_sub(WINDOW).max(1);
    let last = (commit + WINDOW).min(samples.len());
    (first <= last).then(|| median(&samples[first - 1..last])).flatten()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Time,
    LatencyAt(usize),
    Peak,
}

impl Metric {
    fn label(self) -> String {
        match self {
            Metric::Time => "time".into(),
            Metric::LatencyAt(commit) => format!("latency @{commit}"),
            Metric::Peak => "peak RSS".into(),
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Metric::Time | Metric::LatencyAt(_) => format_seconds(value),
            Metric::Peak => format!("{:.0} MB", value / (1024.0 * 1024.0)),
        }
    }
}

fn format_seconds(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}

const HEADER: [&str; 9] = [
    "scenario",
    "metric",
    "ours",
    "raw",
    "delta-rs 1.6.6",
    "ours/raw",
    "ours/delta-rs",
    "target",
    "met",
];

/// The table rows of one outcome.
fn rows(outcome: &Outcome) -> Vec<[String; 9]> {
    let metrics: Vec<Metric> = match &outcome.scenario.summary {
        Summary::Median => vec![Metric::Time, Metric::Peak],
        Summary::Latency(points) => points
            .iter()
            .map(|p| Metric::LatencyAt(*p))
            .chain([Metric::Peak])
            .collect(),
    };
    let last_point = match &outcome.scenario.summary {
        Summary::Latency(points) => points.last().copied(),
        Summary::Median => None,
    };
    metrics
        .into_iter()
        .enumerate()
        .map(|(i, metric)| {
            let cell = |side: Side| match outcome.result(side) {
                None => "-".to_string(),
                Some(Err(_)) => "error".to_string(),
                Some(Ok(_)) => outcome.value(side, metric).map_or("-".into(), |v| metric.format(v)),
            };
            let ours = outcome.value(Side::Ours, metric);
            let ratio = |side: Side| Some(ours? / outcome.value(side, metric)?);
            let (vs_raw, vs_reference) = (ratio(Side::Raw), ratio(Side::Reference));
            let (target, met) = judge(outcome.scenario.target, metric, last_point, ours, vs_raw, vs_reference);
            let met = match (target.is_empty(), met) {
                (true, _) => String::new(),
                (false, Some(true)) => "yes".into(),
                (false, Some(false)) => "NO".into(),
                (false, None) if outcome.result(Side::Ours).is_none() => "n/a".into(),
                (false, None) => "?".into(),
            };
            [
                if i == 0 {
                    outcome.scenario.title.clone()
                } else {
                    String::new()
                },
                metric.label(),
                cell(Side::Ours),
                cell(Side::Raw),
                cell(Side::Reference),
                vs_raw.map_or("-".into(), format_ratio),
                vs_reference.map_or("-".into(), format_ratio),
                target,
                met,
            ]
        })
        .collect()
}

fn format_ratio(ratio: f64) -> String {
    format!("{ratio:.2}×")
}

/// The target text of `metric` and whether it is met (`None`: not measurable).
fn judge(
    target: Target,
    metric: Metric,
    last_point: Option<usize>,
    ours: Option<f64>,
    vs_raw: Option<f64>,
    vs_reference: Option<f64>,
) -> (String, Option<bool>) {
    match (target, metric) {
        (Target::Seconds(limit), Metric::Time) => (format!("≤ {}", format_seconds(limit)), ours.map(|v| v <= limit)),
        (Target::VsRaw(limit), Metric::Time) => (format!("≤ {limit:.2}× raw"), vs_raw.map(|v| v <= limit)),
        (Target::VsReference { time, .. }, Metric::Time) => {
            (format!("≤ {time:.2}× delta-rs"), vs_reference.map(|v| v <= time))
        }
        (Target::VsReference { memory, .. }, Metric::Peak) => {
            (format!("≤ {memory:.2}× delta-rs"), vs_reference.map(|v| v <= memory))
        }
        (Target::FasterThanReferenceLeanerThanRaw { time, .. }, Metric::Time) => {
            (format!("≤ {time:.2}× delta-rs"), vs_reference.map(|v| v <= time))
        }
        (Target::FasterThanReferenceLeanerThanRaw { memory, .. }, Metric::Peak) => {
            (format!("≤ {memory:.2}× raw"), vs_raw.map(|v| v <= memory))
        }
        (Target::Budget { seconds, .. }, Metric::Time) => {
            (format!("≤ {}", format_seconds(seconds)), ours.map(|v| v <= seconds))
        }
        (Target::Budget { megabytes, .. }, Metric::Peak) => (
            format!("≤ {megabytes:.0} MB"),
            ours.map(|v| v <= megabytes * 1024.0 * 1024.0),
        ),
        (Target::LastLatency(limit), Metric::LatencyAt(commit)) if Some(commit) == last_point => {
            (format!("≤ {}", format_seconds(limit)), ours.map(|v| v <= limit))
        }
        _ => (String::new(), None),
    }
}

/// Print the table, the reference's own raw limits and any errors.
pub fn print(outcomes: &[Outcome], quick: bool) {
    let mut table: Vec<[String; 9]> = vec![HEADER.map(String::from)];
    for outcome in outcomes {
        table.extend(rows(outcome));
    }
    let mut widths = [0usize; 9];
    for row in &table {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    println!();
    println!("raw: the same Parquet files read or written without Delta, by arrow-rs (pyarrow in python scenarios).");
    if quick {
        println!("QUICK MODE: reduced sizes, so the targets (set for the full sizes) are only indicative.");
    }
    for (i, row) in table.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(col, (cell, width))| {
                if (2..7).contains(&col) {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        println!("{}", line.join("  ").trim_end());
        if i == 0 {
            println!("{}", widths.map(|w| "-".repeat(w)).join("  "));
        }
    }
    for outcome in outcomes {
        let reference = outcome.value(Side::Reference, Metric::Time);
        let limit = outcome.value(Side::ReferenceRaw, Metric::Time);
        if let (Some(reference), Some(limit)) = (reference, limit) {
            println!(
                "\n{}: delta-rs {} vs pyarrow on the same files {} ({:.2}× its raw limit)",
                outcome.scenario.title,
                format_seconds(reference),
                format_seconds(limit),
                reference / limit
            );
        }
    }
    let errors: Vec<String> = outcomes
        .iter()
        .flat_map(|o| {
            SIDES.iter().filter_map(move |side| match o.result(*side) {
                Some(Err(e)) => Some(format!("  {} ({side}): {e}", o.scenario.name)),
                _ => None,
            })
        })
        .collect();
    if !errors.is_empty() {
        println!("\nerrors:\n{}", errors.join("\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_clipped_to_the_commits() {
        let samples: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(window_median(&samples, 1), Some(2.0));
        assert_eq!(window_median(&samples, 5), Some(5.0));
        assert_eq!(window_median(&samples, 10), Some(9.0));
        assert_eq!(window_median(&samples, 20), None);
    }

    #[test]
    fn targets_are_judged_on_their_metric_only() {
        let target = Target::VsReference { time: 0.8, memory: 0.7 };
        assert_eq!(
            judge(target, Metric::Time, None, Some(1.0), None, Some(0.5)).1,
            Some(true)
        );
        assert_eq!(
            judge(target, Metric::Peak, None, Some(1.0), None, Some(0.75)).1,
            Some(false)
        );
        let latency = Target::LastLatency(0.01);
        assert_eq!(
            judge(latency, Metric::LatencyAt(1), Some(100), Some(1.0), None, None).1,
            None
        );
        assert_eq!(
            judge(latency, Metric::LatencyAt(100), Some(100), Some(0.005), None, None).1,
            Some(true)
        );
    }
}

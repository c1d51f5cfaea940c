//! Typed access to the `delta.*` table properties this crate acts on.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::{DeltaError, DeltaResult};

/// Default of `delta.logRetentionDuration`.
pub const DEFAULT_LOG_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Default of `delta.deletedFileRetentionDuration`.
pub const DEFAULT_DELETED_FILE_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default of `delta.checkpointInterval`.
pub const DEFAULT_CHECKPOINT_INTERVAL: i64 = 100;

/// The table properties of a snapshot, read with their defaults.
#[derive(Debug, Clone, Copy)]
pub struct TableProperties<'a> {
    properties: &'a HashMap<String, String>,
}

impl<'a> TableProperties<'a> {
    /// Typed access to `properties`.
    pub fn new(properties: &'a HashMap<String, String>) -> Self {
        Self { properties }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.properties.get(key).map(String::as_str)
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    fn interval(&self, key: &str, default: Duration) -> DeltaResult<Duration> {
        self.get(key).map_or(Ok(default), |v| {
            parse_interval(v)
                .ok_or_else(|| DeltaError::InvalidArgument(format!("table property {key}: invalid interval '{v}'")))
        })
    }

    /// How long commit files are kept (`delta.logRetentionDuration`, default 30 days).
    pub fn log_retention(&self) -> DeltaResult<Duration> {
        self.interval("delta.logRetentionDuration", DEFAULT_LOG_RETENTION)
    }

    /// How long removed data files are kept before vacuum (`delta.deletedFileRetentionDuration`, default 7 days).
    pub fn deleted_file_retention(&self) -> DeltaResult<Duration> {
        self.interval("delta.deletedFileRetentionDuration", DEFAULT_DELETED_FILE_RETENTION)
    }

    /// Commits between automatic checkpoints (`delta.checkpointInterval`, default 100).
    pub fn checkpoint_interval(&self) -> DeltaResult<i64> {
        match self.get("delta.checkpointInterval") {
            None => Ok(DEFAULT_CHECKPOINT_INTERVAL),
            Some(v) => v.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                DeltaError::InvalidArgument(format!(
                    "table property delta.checkpointInterval: '{v}' is not a positive number"
                ))
            }),
        }
    }

    /// Whether expired log files are deleted after checkpoints (`delta.enableExpiredLogCleanup`, default true).
    pub fn expired_log_cleanup(&self) -> bool {
        self.get("delta.enableExpiredLogCleanup")
            .is_none_or(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Whether the table only accepts appends (`delta.appendOnly`).
    pub fn append_only(&self) -> bool {
        self.flag("delta.appendOnly")
    }

    /// Whether changes are recorded for the change data feed (`delta.enableChangeDataFeed`).
    pub fn change_data_feed(&self) -> bool {
        self.flag("delta.enableChangeDataFeed")
    }

    /// Whether commits carry in-commit timestamps (`delta.enableInCommitTimestamps`).
    pub fn in_commit_timestamps(&self) -> bool {
        self.flag("delta.enableInCommitTimestamps")
    }

    /// Check that every property this crate acts on has a valid value: flags are `true` or
    /// `false`, intervals and numbers parse.
    pub fn validate(&self) -> DeltaResult<()> {
        self.log_retention()?;
        self.deleted_file_retention()?;
        self.checkpoint_interval()?;
        crate::write::stats::StatsConfig::from_table_properties(self.properties)?;
        for key in FLAGS {
            if let Some(v) = self.get(key)
                && !v.eq_ignore_ascii_case("true")
                && !v.eq_ignore_ascii_case("false")
            {
                return Err(DeltaError::InvalidArgument(format!(
                    "table property {key} must be true or false, not '{v}'"
                )));
            }
        }
        Ok(())
    }
}

/// The boolean table properties.
const FLAGS: &[&str] = &[
    "delta.appendOnly",
    "delta.enableChangeDataFeed",
    "delta.enableDeletionVectors",
    "delta.enableInCommitTimestamps",
    "delta.enableExpiredLogCleanup",
    "delta.enableRowTracking",
    "delta.checkpoint.writeStatsAsJson",
    "delta.checkpoint.writeStatsAsStruct",
];

/// Parse an interval such as `interval 30 days`, `7 days` or `1 hour`.
pub fn parse_interval(text: &str) -> Option<Duration> {
    let lower = text.trim().to_ascii_lowercase();
    let rest = lower.strip_prefix("interval").unwrap_or(&lower).trim();
    let (number, unit) = rest.split_once(char::is_whitespace)?;
    let n: u64 = number.trim().parse().ok()?;
    let seconds = match unit.trim().trim_end_matches('s') {
        "nanosecond" => return Some(Duration::from_nanos(n)),
        "microsecond" => return Some(Duration::from_micros(n)),
        "millisecond" => return Some(Duration::from_millis(n)),
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 7 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(seconds)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_intervals_and_defaults() {
        assert_eq!(
            parse_interval("interval 30 days"),
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(parse_interval("1 hour"), Some(Duration::from_secs(3600)));
        assert_eq!(
            parse_interval("INTERVAL 2 WEEKS"),
            Some(Duration::from_secs(14 * 86_400))
        );
        assert_eq!(parse_interval("soon"), None);
        let mut props = HashMap::new();
        let p = TableProperties::new(&props);
        assert_eq!(p.log_retention().unwrap(), DEFAULT_LOG_RETENTION);
        assert_eq!(p.checkpoint_interval().unwrap(), 100);
        props.insert("delta.checkpointInterval".to_string(), "0".to_string());
        props.insert("delta.logRetentionDuration".to_string(), "forever".to_string());
        let p = TableProperties::new(&props);
        assert!(p.checkpoint_interval().is_err());
        assert!(
            p.log_retention()
                .unwrap_err()
                .to_string()
                .contains("logRetentionDuration")
        );
    }
}

//! The table configuration: every `delta.*` key this crate knows (table properties, column
//! metadata keys and metadata domain names) as a named constant, and the table properties parsed
//! once, under Delta on Spark's rules, into typed values with the protocol's defaults.
//!
//! Spark's rules: booleans are `true` or `false` in any case, surrounding blanks ignored (tables
//! written elsewhere with `"TRUE"` are normal); numbers and intervals are trimmed; the column
//! mapping mode is case-insensitive. Unknown keys are kept as they are.
//!
//! Whether a table feature is in force on a table is decided here, by
//! [`TableConfig::is_enabled`], from the protocol and the configuration together.

use std::collections::HashMap;
use std::time::Duration;

use super::actions::Protocol;
use crate::error::{DeltaError, DeltaResult};

/// The prefix of every key reserved by Delta.
pub const DELTA_PREFIX: &str = "delta.";

/// Table property: the table only accepts appends (no data removed).
pub const APPEND_ONLY: &str = "delta.appendOnly";
/// Table property: changes are recorded for the change data feed.
pub const ENABLE_CHANGE_DATA_FEED: &str = "delta.enableChangeDataFeed";
/// Table property: rows are deleted with deletion vectors rather than by rewriting files.
pub const ENABLE_DELETION_VECTORS: &str = "delta.enableDeletionVectors";
/// Table property: commits carry in-commit timestamps.
pub const ENABLE_IN_COMMIT_TIMESTAMPS: &str = "delta.enableInCommitTimestamps";
/// Table property: rows carry row ids and commit versions.
pub const ENABLE_ROW_TRACKING: &str = "delta.enableRowTracking";
/// Table property: expired log files are deleted after checkpoints.
pub const ENABLE_EXPIRED_LOG_CLEANUP: &str = "delta.enableExpiredLogCleanup";
/// Table property: commits between automatic checkpoints.
pub const CHECKPOINT_INTERVAL: &str = "delta.checkpointInterval";
/// Table property: how long commit files are kept.
pub const LOG_RETENTION_DURATION: &str = "delta.logRetentionDuration";
/// Table property: how long removed data files are kept before vacuum deletes them.
pub const DELETED_FILE_RETENTION_DURATION: &str = "delta.deletedFileRetentionDuration";
/// Table property: how many leaf columns, in schema order, get statistics.
pub const DATA_SKIPPING_NUM_INDEXED_COLS: &str = "delta.dataSkippingNumIndexedCols";
/// Table property: exactly these columns (comma-separated) get statistics.
pub const DATA_SKIPPING_STATS_COLUMNS: &str = "delta.dataSkippingStatsColumns";
/// Table property: checkpoints keep `add.stats` as JSON.
pub const CHECKPOINT_WRITE_STATS_AS_JSON: &str = "delta.checkpoint.writeStatsAsJson";
/// Table property: checkpoints keep `add.stats_parsed` (and `partitionValues_parsed`).
pub const CHECKPOINT_WRITE_STATS_AS_STRUCT: &str = "delta.checkpoint.writeStatsAsStruct";
/// Table property: `classic` or `v2` checkpoints.
pub const CHECKPOINT_POLICY: &str = "delta.checkpointPolicy";
/// The prefix of the column mapping table properties.
pub const COLUMN_MAPPING_PREFIX: &str = "delta.columnMapping.";
/// Table property: how columns are named in data files (`none`, `name` or `id`).
pub const COLUMN_MAPPING_MODE: &str = "delta.columnMapping.mode";
/// Table property: the highest column id handed out under column mapping.
pub const COLUMN_MAPPING_MAX_COLUMN_ID: &str = "delta.columnMapping.maxColumnId";
/// Table property: the target size of data files (bytes, or with a unit: `128mb`).
pub const TARGET_FILE_SIZE: &str = "delta.targetFileSize";
/// The prefix of the table properties holding CHECK constraints (`delta.constraints.<name>`).
pub const CONSTRAINTS_PREFIX: &str = "delta.constraints.";

/// Field metadata key holding a column's physical name under column mapping.
pub const COLUMN_MAPPING_PHYSICAL_NAME: &str = "delta.columnMapping.physicalName";
/// Field metadata key holding a column's id under column mapping.
pub const COLUMN_MAPPING_ID: &str = "delta.columnMapping.id";
/// Field metadata key holding a column invariant.
pub const INVARIANTS: &str = "delta.invariants";
/// Field metadata key holding the expression of a generated column.
pub const GENERATION_EXPRESSION: &str = "delta.generationExpression";
/// The prefix of the identity column field metadata keys.
pub const IDENTITY_PREFIX: &str = "delta.identity.";
/// Field metadata key: the first value of an identity column.
pub const IDENTITY_START: &str = "delta.identity.start";
/// Field metadata key: the step between values of an identity column.
pub const IDENTITY_STEP: &str = "delta.identity.step";
/// Field metadata key: the highest (or lowest) value an identity column has handed out.
pub const IDENTITY_HIGH_WATER_MARK: &str = "delta.identity.highWaterMark";
/// Field metadata key: whether explicit values may be inserted into an identity column.
pub const IDENTITY_ALLOW_EXPLICIT_INSERT: &str = "delta.identity.allowExplicitInsert";

/// Metadata domain holding the clustering columns.
pub const CLUSTERING_DOMAIN: &str = "delta.clustering";
/// Metadata domain of the Databricks preview of clustering.
pub const LIQUID_PREVIEW_DOMAIN: &str = "delta.liquid";

/// Default of `delta.logRetentionDuration`.
pub const DEFAULT_LOG_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Default of `delta.deletedFileRetentionDuration`.
pub const DEFAULT_DELETED_FILE_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default of `delta.checkpointInterval`.
pub const DEFAULT_CHECKPOINT_INTERVAL: i64 = 100;
/// Default of `delta.dataSkippingNumIndexedCols`.
pub const DEFAULT_NUM_INDEXED_COLS: i32 = 32;

/// How columns are named in data files (`delta.columnMapping.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnMappingMode {
    /// Data files use the logical names.
    None,
    /// Data files use the physical names in the schema's field metadata.
    Name,
    /// Data files are matched by field id.
    Id,
}

/// The kind of checkpoint a table asks for (`delta.checkpointPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointPolicy {
    /// Classic (V1) checkpoints.
    Classic,
    /// V2 checkpoints (the `v2Checkpoint` table feature).
    V2,
}

/// Which columns get statistics, from the table properties.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsConfig {
    /// How many leaf columns, in schema order, get statistics (`delta.dataSkippingNumIndexedCols`,
    /// default 32, -1 for all).
    pub num_indexed_cols: i32,
    /// Exactly these columns (dotted paths) get statistics (`delta.dataSkippingStatsColumns`);
    /// overrides `num_indexed_cols`.
    pub stats_columns: Option<Vec<String>>,
    /// Strings are truncated to this many characters in min / max.
    pub string_prefix_len: usize,
}

impl Default for StatsConfig {
    fn default() -> Self {
        Self {
            num_indexed_cols: DEFAULT_NUM_INDEXED_COLS,
            stats_columns: None,
            string_prefix_len: 32,
        }
    }
}

/// A table feature that a table property switches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFeature {
    /// `appendOnly`, switched on by `delta.appendOnly`.
    AppendOnly,
    /// `changeDataFeed`, switched on by `delta.enableChangeDataFeed`.
    ChangeDataFeed,
    /// `deletionVectors`, switched on by `delta.enableDeletionVectors`.
    DeletionVectors,
    /// `inCommitTimestamp`, switched on by `delta.enableInCommitTimestamps`.
    InCommitTimestamps,
    /// `rowTracking`, switched on by `delta.enableRowTracking`.
    RowTracking,
}

impl TableFeature {
    /// The feature's name in the protocol's feature lists.
    pub fn name(self) -> &'static str {
        match self {
            Self::AppendOnly => "appendOnly",
            Self::ChangeDataFeed => "changeDataFeed",
            Self::DeletionVectors => "deletionVectors",
            Self::InCommitTimestamps => "inCommitTimestamp",
            Self::RowTracking => "rowTracking",
        }
    }

    /// The table property that switches it on.
    pub fn property(self) -> &'static str {
        match self {
            Self::AppendOnly => APPEND_ONLY,
            Self::ChangeDataFeed => ENABLE_CHANGE_DATA_FEED,
            Self::DeletionVectors => ENABLE_DELETION_VECTORS,
            Self::InCommitTimestamps => ENABLE_IN_COMMIT_TIMESTAMPS,
            Self::RowTracking => ENABLE_ROW_TRACKING,
        }
    }
}

/// The boolean table properties, in the order [`TableConfig::validate`] reports them.
const FLAGS: &[&str] = &[
    APPEND_ONLY,
    ENABLE_CHANGE_DATA_FEED,
    ENABLE_DELETION_VECTORS,
    ENABLE_IN_COMMIT_TIMESTAMPS,
    ENABLE_EXPIRED_LOG_CLEANUP,
    ENABLE_ROW_TRACKING,
    CHECKPOINT_WRITE_STATS_AS_JSON,
    CHECKPOINT_WRITE_STATS_AS_STRUCT,
];

/// A value that failed to parse keeps the message [`TableConfig::validate`] and the accessors
/// report.
type Parsed<T> = Result<T, String>;

/// The table properties of a table, parsed once.
///
/// Values that do not parse fall back to their defaults for the boolean properties (as a reader
/// must still read the table) and are reported by the accessors of the others;
/// [`TableConfig::validate`] refuses them all, for writers that set properties.
///
/// ```
/// use std::collections::HashMap;
/// use deltalake::protocol::table_config::{TableConfig, TableFeature, APPEND_ONLY};
///
/// let config = TableConfig::new(&HashMap::from([(APPEND_ONLY.to_string(), " True ".to_string())]));
/// assert!(config.flag(TableFeature::AppendOnly));
/// assert_eq!(config.checkpoint_interval().unwrap(), 100);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TableConfig {
    properties: HashMap<String, String>,
    /// The value of each entry of [`FLAGS`], in order.
    flags: Vec<bool>,
    /// The messages of the flags that are neither true nor false.
    invalid_flags: Vec<String>,
    checkpoint_interval: Parsed<i64>,
    log_retention: Parsed<Duration>,
    deleted_file_retention: Parsed<Duration>,
    stats: Parsed<StatsConfig>,
    column_mapping_mode: Parsed<ColumnMappingMode>,
    checkpoint_policy: CheckpointPolicy,
    target_file_size: Parsed<Option<u64>>,
}

impl Default for TableConfig {
    fn default() -> Self {
        Self::new(&HashMap::new())
    }
}

impl TableConfig {
    /// Parse `properties` (the `configuration` of a table's metadata).
    pub fn new(properties: &HashMap<String, String>) -> Self {
        let get = |key: &str| properties.get(key).map(String::as_str);
        let mut invalid_flags = Vec::new();
        let flags = FLAGS
            .iter()
            .map(|key| {
                let default = matches!(*key, ENABLE_EXPIRED_LOG_CLEANUP | CHECKPOINT_WRITE_STATS_AS_JSON);
                get(key).map_or(default, |v| {
                    parse_bool(v).unwrap_or_else(|| {
                        invalid_flags.push(format!("table property {key} must be true or false, not '{v}'"));
                        default
                    })
                })
            })
            .collect();
        let checkpoint_interval = get(CHECKPOINT_INTERVAL).map_or(Ok(DEFAULT_CHECKPOINT_INTERVAL), |v| {
            v.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("table property {CHECKPOINT_INTERVAL}: '{v}' is not a positive number"))
        });
        let interval = |key: &str, default: Duration| {
            get(key).map_or(Ok(default), |v| {
                parse_interval(v).ok_or_else(|| format!("table property {key}: invalid interval '{v}'"))
            })
        };
        let column_mapping_mode = match get(COLUMN_MAPPING_MODE).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(ColumnMappingMode::None),
            Some(mode) => match mode.as_str() {
                "none" => Ok(ColumnMappingMode::None),
                "name" => Ok(ColumnMappingMode::Name),
                "id" => Ok(ColumnMappingMode::Id),
                _ => Err(format!(
                    "{COLUMN_MAPPING_MODE} must be none, name or id, not '{}'",
                    get(COLUMN_MAPPING_MODE).unwrap_or_default()
                )),
            },
        };
        let checkpoint_policy = match get(CHECKPOINT_POLICY) {
            Some(v) if v.trim().eq_ignore_ascii_case("v2") => CheckpointPolicy::V2,
            _ => CheckpointPolicy::Classic,
        };
        let target_file_size = get(TARGET_FILE_SIZE).map_or(Ok(None), |v| {
            parse_byte_size(v)
                .map(Some)
                .ok_or_else(|| format!("{TARGET_FILE_SIZE} is not a size in bytes: '{v}'"))
        });
        Self {
            properties: properties.clone(),
            flags,
            invalid_flags,
            checkpoint_interval,
            log_retention: interval(LOG_RETENTION_DURATION, DEFAULT_LOG_RETENTION),
            deleted_file_retention: interval(DELETED_FILE_RETENTION_DURATION, DEFAULT_DELETED_FILE_RETENTION),
            stats: parse_stats_config(properties),
            column_mapping_mode,
            checkpoint_policy,
            target_file_size,
        }
    }

    /// Every property, `delta.*` or not, as written.
    pub fn properties(&self) -> &HashMap<String, String> {
        &self.properties
    }

    /// The raw value of one property.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    fn flag_value(&self, key: &str) -> bool {
        FLAGS
            .iter()
            .position(|k| *k == key)
            .and_then(|i| self.flags.get(i).copied())
            .unwrap_or(false)
    }

    /// Whether the property of `feature` is true. Whether the feature is in force also depends on
    /// the protocol: see [`TableConfig::is_enabled`].
    pub fn flag(&self, feature: TableFeature) -> bool {
        self.flag_value(feature.property())
    }

    /// Whether `feature` is in force on a table with this configuration and `protocol`: the
    /// protocol supports it (names it, or implies it by its legacy writer version) and its
    /// property is true. The one rule every reader and writer of this crate follows.
    pub fn is_enabled(&self, protocol: &Protocol, feature: TableFeature) -> bool {
        self.flag(feature) && protocol.supports_writer_feature(feature.name())
    }

    /// Whether expired log files are deleted after checkpoints (`delta.enableExpiredLogCleanup`,
    /// default true).
    pub fn expired_log_cleanup(&self) -> bool {
        self.flag_value(ENABLE_EXPIRED_LOG_CLEANUP)
    }

    /// Whether checkpoints keep `add.stats` as JSON (`delta.checkpoint.writeStatsAsJson`, default true).
    pub fn checkpoint_stats_as_json(&self) -> bool {
        self.flag_value(CHECKPOINT_WRITE_STATS_AS_JSON)
    }

    /// Whether checkpoints keep parsed statistics and partition values
    /// (`delta.checkpoint.writeStatsAsStruct`, default false).
    pub fn checkpoint_stats_as_struct(&self) -> bool {
        self.flag_value(CHECKPOINT_WRITE_STATS_AS_STRUCT)
    }

    /// Commits between automatic checkpoints (`delta.checkpointInterval`, default 100).
    pub fn checkpoint_interval(&self) -> DeltaResult<i64> {
        self.checkpoint_interval.clone().map_err(DeltaError::InvalidArgument)
    }

    /// How long commit files are kept (`delta.logRetentionDuration`, default 30 days).
    pub fn log_retention(&self) -> DeltaResult<Duration> {
        self.log_retention.clone().map_err(DeltaError::InvalidArgument)
    }

    /// How long removed data files are kept before vacuum (`delta.deletedFileRetentionDuration`,
    /// default 7 days).
    pub fn deleted_file_retention(&self) -> DeltaResult<Duration> {
        self.deleted_file_retention.clone().map_err(DeltaError::InvalidArgument)
    }

    /// Which columns get statistics (`delta.dataSkippingNumIndexedCols`,
    /// `delta.dataSkippingStatsColumns`).
    pub fn stats_config(&self) -> DeltaResult<StatsConfig> {
        self.stats.clone().map_err(DeltaError::InvalidArgument)
    }

    /// How columns are named in data files (`delta.columnMapping.mode`, default none); the error
    /// names the value when it is none of `none`, `name` and `id`.
    pub fn column_mapping_mode(&self) -> DeltaResult<ColumnMappingMode> {
        self.column_mapping_mode.clone().map_err(DeltaError::InvalidArgument)
    }

    /// The highest column id handed out under column mapping (`delta.columnMapping.maxColumnId`,
    /// default 0).
    pub fn column_mapping_max_id(&self) -> i64 {
        self.get(COLUMN_MAPPING_MAX_COLUMN_ID)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The kind of checkpoint the table asks for (`delta.checkpointPolicy`, default classic).
    pub fn checkpoint_policy(&self) -> CheckpointPolicy {
        self.checkpoint_policy
    }

    /// The target size of data files in bytes (`delta.targetFileSize`), when set.
    pub fn target_file_size(&self) -> DeltaResult<Option<u64>> {
        self.target_file_size.clone().map_err(DeltaError::InvalidArgument)
    }

    /// The CHECK constraints (`delta.constraints.<name>`): name and SQL expression, by name.
    pub fn constraints(&self) -> Vec<(&str, &str)> {
        let mut constraints: Vec<(&str, &str)> = self
            .properties
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(CONSTRAINTS_PREFIX)?, v.as_str())))
            .collect();
        constraints.sort();
        constraints
    }

    /// Check that every property this crate acts on has a valid value: flags are `true` or
    /// `false` (in any case), intervals and numbers parse.
    pub fn validate(&self) -> DeltaResult<()> {
        self.log_retention()?;
        self.deleted_file_retention()?;
        self.checkpoint_interval()?;
        self.stats_config()?;
        match self.invalid_flags.first() {
            Some(message) => Err(DeltaError::InvalidArgument(message.clone())),
            None => Ok(()),
        }
    }
}

/// A boolean under Spark's rules: `true` or `false` in any case, blanks around ignored.
pub fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_stats_config(properties: &HashMap<String, String>) -> Parsed<StatsConfig> {
    let mut config = StatsConfig::default();
    if let Some(v) = properties.get(DATA_SKIPPING_NUM_INDEXED_COLS) {
        config.num_indexed_cols =
            v.trim().parse().ok().filter(|n| *n >= -1).ok_or_else(|| {
                format!("table property {DATA_SKIPPING_NUM_INDEXED_COLS}: '{v}' is not a number >= -1")
            })?;
    }
    if let Some(v) = properties.get(DATA_SKIPPING_STATS_COLUMNS) {
        config.stats_columns = Some(
            v.split(',')
                .map(|c| c.trim().trim_matches('`').to_string())
                .filter(|c| !c.is_empty())
                .collect(),
        );
    }
    Ok(config)
}

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

/// A size in bytes: digits, optionally followed by a unit (`b`, `k`/`kb`, `m`/`mb`, `g`/`gb`,
/// `t`/`tb`, powers of 1024, any case).
pub fn parse_byte_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let scale: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        "t" | "tb" => 1 << 40,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kv: &[(&str, &str)]) -> TableConfig {
        TableConfig::new(&kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn legacy(writer: i32) -> Protocol {
        Protocol {
            min_reader_version: 1,
            min_writer_version: writer,
            reader_features: None,
            writer_features: None,
        }
    }

    fn features(names: &[&str]) -> Protocol {
        Protocol {
            min_reader_version: 3,
            min_writer_version: 7,
            reader_features: Some(vec![]),
            writer_features: Some(names.iter().map(|s| s.to_string()).collect()),
        }
    }

    const SPELLINGS: &[&str] = &["true", "TRUE", "True", " tRuE "];

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
        let c = config(&[]);
        assert_eq!(c.log_retention().unwrap(), DEFAULT_LOG_RETENTION);
        assert_eq!(c.deleted_file_retention().unwrap(), DEFAULT_DELETED_FILE_RETENTION);
        assert_eq!(c.checkpoint_interval().unwrap(), 100);
        assert!(c.expired_log_cleanup() && c.checkpoint_stats_as_json() && !c.checkpoint_stats_as_struct());
        assert_eq!(c.column_mapping_mode().unwrap(), ColumnMappingMode::None);
        assert_eq!(c.checkpoint_policy(), CheckpointPolicy::Classic);
        assert_eq!(c.stats_config().unwrap(), StatsConfig::default());
        assert_eq!(c.target_file_size().unwrap(), None);
        c.validate().unwrap();
        let c = config(&[(CHECKPOINT_INTERVAL, "0"), (LOG_RETENTION_DURATION, "forever")]);
        assert!(c.checkpoint_interval().is_err());
        assert!(
            c.log_retention()
                .unwrap_err()
                .to_string()
                .contains("logRetentionDuration")
        );
        assert_eq!(
            config(&[(CHECKPOINT_INTERVAL, " 7 ")]).checkpoint_interval().unwrap(),
            7
        );
    }

    #[test]
    fn parses_sizes_with_units() {
        assert_eq!(parse_byte_size("104857600"), Some(104_857_600));
        assert_eq!(parse_byte_size("128mb"), Some(128 << 20));
        assert_eq!(parse_byte_size("1 GB"), Some(1 << 30));
        assert_eq!(parse_byte_size("12x"), None);
        assert_eq!(parse_byte_size("mb"), None);
        assert_eq!(
            config(&[(TARGET_FILE_SIZE, "2kb")]).target_file_size().unwrap(),
            Some(2048)
        );
        assert!(config(&[(TARGET_FILE_SIZE, "big")]).target_file_size().is_err());
    }

    #[test]
    fn booleans_are_case_insensitive_and_trimmed() {
        for spelling in SPELLINGS {
            for feature in [
                TableFeature::AppendOnly,
                TableFeature::ChangeDataFeed,
                TableFeature::DeletionVectors,
                TableFeature::InCommitTimestamps,
                TableFeature::RowTracking,
            ] {
                let c = config(&[(feature.property(), spelling)]);
                assert!(c.flag(feature), "{} = '{spelling}'", feature.property());
                c.validate().unwrap();
            }
            let c = config(&[(CHECKPOINT_WRITE_STATS_AS_STRUCT, spelling)]);
            assert!(c.checkpoint_stats_as_struct(), "'{spelling}'");
        }
        for spelling in ["false", "FALSE", " False "] {
            let c = config(&[
                (ENABLE_EXPIRED_LOG_CLEANUP, spelling),
                (CHECKPOINT_WRITE_STATS_AS_JSON, spelling),
            ]);
            assert!(
                !c.expired_log_cleanup() && !c.checkpoint_stats_as_json(),
                "'{spelling}'"
            );
        }
    }

    #[test]
    fn invalid_values_are_refused_by_validate() {
        let c = config(&[(APPEND_ONLY, "yes")]);
        assert!(!c.flag(TableFeature::AppendOnly));
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "invalid argument: table property delta.appendOnly must be true or false, not 'yes'"
        );
        let err = config(&[(DATA_SKIPPING_NUM_INDEXED_COLS, "x")]).validate().unwrap_err();
        assert!(err.to_string().contains(DATA_SKIPPING_NUM_INDEXED_COLS), "{err}");
        let err = config(&[(COLUMN_MAPPING_MODE, "x")]).column_mapping_mode().unwrap_err();
        assert!(err.to_string().contains("must be none, name or id, not 'x'"), "{err}");
    }

    #[test]
    fn typed_values_and_unknown_keys() {
        let c = config(&[
            (COLUMN_MAPPING_MODE, " Name"),
            (COLUMN_MAPPING_MAX_COLUMN_ID, "12"),
            (CHECKPOINT_POLICY, "V2"),
            (DATA_SKIPPING_STATS_COLUMNS, "a, `b.c`"),
            ("delta.constraints.b_positive", "b > 0"),
            ("delta.constraints.a_set", "a IS NOT NULL"),
            ("my.key", "kept"),
        ]);
        assert_eq!(c.column_mapping_mode().unwrap(), ColumnMappingMode::Name);
        assert_eq!(c.column_mapping_max_id(), 12);
        assert_eq!(c.checkpoint_policy(), CheckpointPolicy::V2);
        assert_eq!(
            c.stats_config().unwrap().stats_columns,
            Some(vec!["a".to_string(), "b.c".to_string()])
        );
        assert_eq!(c.constraints(), [("a_set", "a IS NOT NULL"), ("b_positive", "b > 0")]);
        assert_eq!(c.get("my.key"), Some("kept"));
        assert_eq!(c.properties().len(), 7);
    }

    #[test]
    fn a_feature_is_enabled_when_supported_and_switched_on() {
        for spelling in SPELLINGS {
            let c = config(&[
                (APPEND_ONLY, spelling),
                (ENABLE_CHANGE_DATA_FEED, spelling),
                (ENABLE_IN_COMMIT_TIMESTAMPS, spelling),
                (ENABLE_DELETION_VECTORS, spelling),
            ]);
            // Legacy writer versions imply their features.
            assert!(c.is_enabled(&legacy(2), TableFeature::AppendOnly));
            assert!(!c.is_enabled(&legacy(1), TableFeature::AppendOnly));
            assert!(c.is_enabled(&legacy(4), TableFeature::ChangeDataFeed));
            assert!(!c.is_enabled(&legacy(3), TableFeature::ChangeDataFeed));
            assert!(!c.is_enabled(&legacy(6), TableFeature::InCommitTimestamps));
            // Table features must be named.
            let named = features(&["inCommitTimestamp", "deletionVectors", "changeDataFeed"]);
            assert!(c.is_enabled(&named, TableFeature::InCommitTimestamps), "'{spelling}'");
            assert!(c.is_enabled(&named, TableFeature::DeletionVectors), "'{spelling}'");
            assert!(c.is_enabled(&named, TableFeature::ChangeDataFeed), "'{spelling}'");
            assert!(!c.is_enabled(&named, TableFeature::AppendOnly));
        }
        let off = config(&[(ENABLE_CHANGE_DATA_FEED, "false")]);
        assert!(!off.is_enabled(&legacy(7), TableFeature::ChangeDataFeed));
    }
}

//! Writer and commit settings as plain values, turned into the core's configuration once here.

use std::collections::BTreeMap;
use std::str::FromStr;

use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesBuilder};
use parquet::schema::types::ColumnPath;
use serde_json::{Map, Value};

use crate::error::{DeltaError, DeltaResult};
use crate::transaction::{CommitProperties, check_custom_metadata};
use crate::write::WriterConfig;

/// Parquet settings of a write, as plain values (every one optional; unset means the default).
/// Also read from JSON ([`WriterOptions::from_json`]) with the names of the `deltalake` PyPI
/// package's `WriterProperties`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WriterOptions {
    /// Codec name, any case: `uncompressed`, `snappy` (default), `gzip`, `brotli`, `lz4`,
    /// `lz4_raw`, `zstd`.
    pub compression: Option<String>,
    /// Codec level (gzip 0-9, default 6; brotli 0-11 and zstd 1-22, default 1).
    pub compression_level: Option<i32>,
    /// Rows per row group at most.
    pub max_row_group_size: Option<usize>,
    /// Bytes per data page, about.
    pub data_page_size_limit: Option<usize>,
    /// Bytes per dictionary page, about.
    pub dictionary_page_size_limit: Option<usize>,
    /// Rows per data page at most.
    pub data_page_row_count_limit: Option<usize>,
    /// Rows encoded at a time.
    pub write_batch_size: Option<usize>,
    /// Length to which min/max statistics of binary columns are truncated.
    pub statistics_truncate_length: Option<usize>,
    /// Roll to a new file once a file reaches about this many bytes.
    pub target_file_size: Option<usize>,
    /// Settings of every column that `columns` does not name.
    #[serde(rename = "default_column_properties")]
    pub default_column: ColumnOptions,
    /// Settings of single columns, by their dotted path in the data files (the physical names
    /// when column mapping is on).
    #[serde(rename = "column_properties")]
    pub columns: BTreeMap<String, ColumnOptions>,
}

/// Parquet settings of one column (or of all columns, as `WriterOptions::default_column`); unset
/// means the writer's default.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnOptions {
    /// Dictionary encoding (on by default).
    pub dictionary_enabled: Option<bool>,
    /// Statistics inside the file: `none`, `chunk` or `page` (default), any case. The table's
    /// statistics (`add.stats`, for data skipping) are kept either way.
    pub statistics_enabled: Option<String>,
    /// A bloom filter per row group (none by default).
    #[serde(rename = "bloom_filter_properties")]
    pub bloom_filter: Option<BloomFilterOptions>,
    /// The encoding of values that the dictionary does not hold (or of all values with the
    /// dictionary off), any case: `plain`, `rle` (booleans), `delta_binary_packed` (integers),
    /// `delta_length_byte_array`, `delta_byte_array` (strings and binary), `byte_stream_split`.
    pub encoding: Option<String>,
}

/// A column's bloom filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BloomFilterOptions {
    /// Whether the column gets one.
    #[serde(rename = "set_bloom_filter_enabled")]
    pub enabled: bool,
    /// False-positive probability, in (0, 1) (parquet's default 0.05).
    pub fpp: Option<f64>,
    /// Distinct values expected per row group (sizes the filter).
    pub ndv: Option<u64>,
}

impl ColumnOptions {
    /// `builder` with these settings for `column` (every column when `None`).
    fn apply(
        &self,
        mut builder: WriterPropertiesBuilder,
        column: Option<&str>,
    ) -> DeltaResult<WriterPropertiesBuilder> {
        let path = column.map(|c| ColumnPath::from(c.split('.').map(str::to_string).collect::<Vec<_>>()));
        if let Some(enabled) = self.dictionary_enabled {
            builder = match &path {
                Some(path) => builder.set_column_dictionary_enabled(path.clone(), enabled),
                None => builder.set_dictionary_enabled(enabled),
            };
        }
        if let Some(level) = &self.statistics_enabled {
            let level = EnabledStatistics::from_str(&level.to_ascii_uppercase()).map_err(|_| {
                DeltaError::InvalidArgument(format!(
                    "invalid statistics_enabled {level:?}: expected none, chunk or page"
                ))
            })?;
            builder = match &path {
                Some(path) => builder.set_column_statistics_enabled(path.clone(), level),
                None => builder.set_statistics_enabled(level),
            };
        }
        if let Some(name) = &self.encoding {
            let encoding = Encoding::from_str(&name.to_ascii_uppercase())
                .ok()
                .filter(|e| !matches!(e, Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY))
                .ok_or_else(|| {
                    DeltaError::InvalidArgument(format!(
                        "invalid encoding {name:?}: expected plain, rle, delta_binary_packed, \
                         delta_length_byte_array, delta_byte_array or byte_stream_split"
                    ))
                })?;
            builder = match &path {
                Some(path) => builder.set_column_encoding(path.clone(), encoding),
                None => builder.set_encoding(encoding),
            };
        }
        if let Some(bloom) = &self.bloom_filter {
            if let Some(fpp) = bloom.fpp.filter(|fpp| !(*fpp > 0.0 && *fpp < 1.0)) {
                return Err(DeltaError::InvalidArgument(format!(
                    "invalid bloom filter fpp {fpp}: expected a probability between 0 and 1"
                )));
            }
            builder = match &path {
                Some(path) => builder.set_column_bloom_filter_enabled(path.clone(), bloom.enabled),
                None => builder.set_bloom_filter_enabled(bloom.enabled),
            };
            if bloom.enabled {
                if let Some(fpp) = bloom.fpp {
                    builder = match &path {
                        Some(path) => builder.set_column_bloom_filter_fpp(path.clone(), fpp),
                        None => builder.set_bloom_filter_fpp(fpp),
                    };
                }
                if let Some(ndv) = bloom.ndv {
                    builder = match &path {
                        Some(path) => builder.set_column_bloom_filter_max_ndv(path.clone(), ndv),
                        None => builder.set_bloom_filter_max_ndv(ndv),
                    };
                }
            }
        }
        Ok(builder)
    }
}

impl WriterOptions {
    /// Options from a JSON object with the keys of the PyPI package's `WriterProperties`
    /// (`compression`, `compression_level`, `max_row_group_size`, `data_page_size_limit`, ...,
    /// `default_column_properties` and `column_properties` of `dictionary_enabled`,
    /// `statistics_enabled`, `encoding` and `bloom_filter_properties` of
    /// `set_bloom_filter_enabled`, `fpp`, `ndv`), plus `target_file_size`; nulls are unset. For
    /// bindings whose host hands its settings over as JSON.
    ///
    /// ```
    /// use deltalake::bindings::WriterOptions;
    ///
    /// let json = r#"{"compression": "ZSTD", "compression_level": 3,
    ///   "column_properties": {"id": {"bloom_filter_properties": {"set_bloom_filter_enabled": true}}}}"#;
    /// let options = WriterOptions::from_json(json).unwrap();
    /// assert_eq!(options.compression.as_deref(), Some("ZSTD"));
    /// assert!(options.columns["id"].bloom_filter.unwrap().enabled);
    /// assert!(WriterOptions::from_json(r#"{"compresion": "ZSTD"}"#).is_err());
    /// ```
    pub fn from_json(json: &str) -> DeltaResult<Self> {
        serde_json::from_str(json).map_err(|e| DeltaError::InvalidArgument(format!("writer properties: {e}")))
    }

    /// The writer configuration these options describe.
    ///
    /// ```
    /// use deltalake::bindings::WriterOptions;
    ///
    /// let options = WriterOptions { compression: Some("zstd".into()), ..Default::default() };
    /// let config = options.to_config().unwrap();
    /// assert_eq!(format!("{:?}", config.properties.compression(&"c".into())), "ZSTD(ZstdLevel(1))");
    /// assert!(WriterOptions { compression: Some("zip".into()), ..Default::default() }.to_config().is_err());
    /// ```
    pub fn to_config(&self) -> DeltaResult<WriterConfig> {
        let mut config = WriterConfig::default();
        if let Some(bytes) = self.target_file_size {
            config.target_file_size = bytes;
        }
        config.properties = self.to_parquet()?;
        Ok(config)
    }

    fn to_parquet(&self) -> DeltaResult<WriterProperties> {
        let codec = self.compression.as_deref().unwrap_or("SNAPPY").to_ascii_uppercase();
        let level = match (codec.as_str(), self.compression_level) {
            (_, Some(level)) => Some(level),
            ("GZIP", None) => Some(6),
            ("BROTLI" | "ZSTD", None) => Some(1),
            _ => None,
        };
        let spec = match level {
            Some(level) => format!("{codec}({level})"),
            None => codec,
        };
        let compression = Compression::from_str(&spec)
            .map_err(|e| DeltaError::InvalidArgument(format!("invalid compression {spec}: {e}")))?;
        let mut builder = WriterProperties::builder()
            .set_compression(compression)
            .set_statistics_truncate_length(self.statistics_truncate_length);
        if let Some(rows) = self.max_row_group_size {
            builder = builder.set_max_row_group_row_count(Some(rows));
        }
        if let Some(bytes) = self.data_page_size_limit {
            builder = builder.set_data_page_size_limit(bytes);
        }
        if let Some(bytes) = self.dictionary_page_size_limit {
            builder = builder.set_dictionary_page_size_limit(bytes);
        }
        if let Some(rows) = self.data_page_row_count_limit {
            builder = builder.set_data_page_row_count_limit(rows);
        }
        if let Some(rows) = self.write_batch_size {
            builder = builder.set_write_batch_size(rows);
        }
        builder = self.default_column.apply(builder, None)?;
        for (column, options) in &self.columns {
            builder = options.apply(builder, Some(column))?;
        }
        Ok(builder.build())
    }
}

/// Settings of the commit an operation ends with, as plain values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitOptions {
    /// Retries after a conflicting concurrent commit (default 14, so 15 attempts).
    pub max_commit_retries: Option<u32>,
    /// Fields added to `commitInfo`; a `userMetadata` entry becomes `commitInfo.userMetadata`.
    pub custom_metadata: Map<String, Value>,
    /// `(app_id, version)` application transactions recorded by the commit (writes only).
    pub app_transactions: Vec<(String, i64)>,
    /// Whether a version that is a multiple of `delta.checkpointInterval` is checkpointed right
    /// after the commit (default true).
    pub create_checkpoint: Option<bool>,
}

impl CommitOptions {
    /// Options with `custom_metadata` given as a JSON object (as bindings receive it).
    pub fn with_custom_metadata_json(mut self, json: &str) -> DeltaResult<Self> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| DeltaError::InvalidArgument(format!("invalid custom_metadata: {e}")))?;
        let Value::Object(map) = value else {
            return Err(DeltaError::InvalidArgument(
                "custom_metadata must be a JSON object".into(),
            ));
        };
        check_custom_metadata(&map)?;
        self.custom_metadata = map;
        Ok(self)
    }

    /// The core's commit properties.
    pub fn to_properties(&self) -> CommitProperties {
        let mut properties = CommitProperties::default();
        if let Some(retries) = self.max_commit_retries {
            properties.max_attempts = retries.saturating_add(1);
        }
        if let Some(checkpoint) = self.create_checkpoint {
            properties.auto_checkpoint = checkpoint;
        }
        let mut extra = self.custom_metadata.clone();
        if let Some(user) = extra.remove("userMetadata") {
            properties.user_metadata = Some(match user {
                Value::String(s) => s,
                other => other.to_string(),
            });
        }
        properties.extra_info = extra;
        properties
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_levels_default_per_codec() {
        let level = |codec: &str, level: Option<i32>| {
            let options = WriterOptions {
                compression: Some(codec.into()),
                compression_level: level,
                ..Default::default()
            };
            options
                .to_config()
                .map(|c| format!("{:?}", c.properties.compression(&"c".into())))
        };
        assert_eq!(level("gzip", None).unwrap(), "GZIP(GzipLevel(6))");
        assert_eq!(level("Brotli", Some(3)).unwrap(), "BROTLI(BrotliLevel(3))");
        assert_eq!(level("snappy", None).unwrap(), "SNAPPY");
        let err = level("zstd", Some(99)).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidArgument);
    }

    #[test]
    fn column_options_reach_the_parquet_properties() {
        let bloom = BloomFilterOptions {
            enabled: true,
            fpp: Some(0.01),
            ndv: Some(1000),
        };
        let options = WriterOptions {
            default_column: ColumnOptions {
                dictionary_enabled: Some(false),
                ..Default::default()
            },
            columns: BTreeMap::from([(
                "a.b".to_string(),
                ColumnOptions {
                    statistics_enabled: Some("Chunk".into()),
                    bloom_filter: Some(bloom),
                    encoding: Some("delta_byte_array".into()),
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        let properties = options.to_config().unwrap().properties;
        let nested = ColumnPath::from(vec!["a".to_string(), "b".to_string()]);
        let other = ColumnPath::from("c");
        assert!(!properties.dictionary_enabled(&other));
        assert_eq!(properties.statistics_enabled(&nested), EnabledStatistics::Chunk);
        assert_eq!(properties.statistics_enabled(&other), EnabledStatistics::Page);
        assert_eq!(properties.encoding(&nested), Some(Encoding::DELTA_BYTE_ARRAY));
        assert_eq!(properties.encoding(&other), None);
        let filter = properties.bloom_filter_properties(&nested).unwrap();
        assert_eq!((filter.fpp(), filter.ndv()), (0.01, 1000));
        assert!(properties.bloom_filter_properties(&other).is_none());

        let invalid = |column: ColumnOptions| {
            let options = WriterOptions {
                default_column: column,
                ..Default::default()
            };
            options.to_config().unwrap_err().kind()
        };
        let statistics = ColumnOptions {
            statistics_enabled: Some("rows".into()),
            ..Default::default()
        };
        assert_eq!(invalid(statistics), crate::error::ErrorKind::InvalidArgument);
        for encoding in ["rle_dictionary", "PLAIN_DICTIONARY", "zip"] {
            let column = ColumnOptions {
                encoding: Some(encoding.into()),
                ..Default::default()
            };
            assert_eq!(invalid(column), crate::error::ErrorKind::InvalidArgument);
        }
        let fpp = ColumnOptions {
            bloom_filter: Some(BloomFilterOptions {
                enabled: true,
                fpp: Some(1.5),
                ndv: None,
            }),
            ..Default::default()
        };
        assert_eq!(invalid(fpp), crate::error::ErrorKind::InvalidArgument);
    }

    #[test]
    fn commit_options_split_user_metadata() {
        let options = CommitOptions {
            max_commit_retries: Some(2),
            ..Default::default()
        }
        .with_custom_metadata_json(r#"{"userMetadata": "m", "job": "nightly"}"#)
        .unwrap();
        let properties = options.to_properties();
        assert_eq!(properties.max_attempts, 3);
        assert!(properties.auto_checkpoint);
        let no_checkpoint = CommitOptions {
            create_checkpoint: Some(false),
            ..Default::default()
        };
        assert!(!no_checkpoint.to_properties().auto_checkpoint);
        assert_eq!(properties.user_metadata.as_deref(), Some("m"));
        assert_eq!(properties.extra_info["job"], "nightly");
        assert!(CommitOptions::default().with_custom_metadata_json("[1]").is_err());
        // What no commit may carry is refused when the options are made.
        let reserved = CommitOptions::default().with_custom_metadata_json(r#"{"operation": "x"}"#);
        assert_eq!(reserved.unwrap_err().kind(), crate::error::ErrorKind::InvalidArgument);
        assert!(
            CommitOptions::default()
                .with_custom_metadata_json(r#"{"userMetadata": {"a": 1}}"#)
                .is_err()
        );
        assert!(CommitOptions::default().with_custom_metadata_json("{").is_err());
    }
}

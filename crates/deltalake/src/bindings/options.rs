//! Writer and commit settings as plain values, turned into the core's configuration once here.

use std::str::FromStr;

use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::{Map, Value};

use crate::error::{DeltaError, DeltaResult};
use crate::transaction::CommitProperties;
use crate::write::WriterConfig;

/// Parquet settings of a write, as plain values (every one optional; unset means the default).
#[derive(Debug, Clone, Default, PartialEq)]
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
}

impl WriterOptions {
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
        self.custom_metadata = map;
        Ok(self)
    }

    /// The core's commit properties.
    pub fn to_properties(&self) -> CommitProperties {
        let mut properties = CommitProperties::default();
        if let Some(retries) = self.max_commit_retries {
            properties.max_attempts = retries.saturating_add(1);
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
    fn commit_options_split_user_metadata() {
        let options = CommitOptions {
            max_commit_retries: Some(2),
            ..Default::default()
        }
        .with_custom_metadata_json(r#"{"userMetadata": {"a": 1}, "job": "nightly"}"#)
        .unwrap();
        let properties = options.to_properties();
        assert_eq!(properties.max_attempts, 3);
        assert_eq!(properties.user_metadata.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(properties.extra_info["job"], "nightly");
        assert!(CommitOptions::default().with_custom_metadata_json("[1]").is_err());
        assert!(CommitOptions::default().with_custom_metadata_json("{").is_err());
    }
}

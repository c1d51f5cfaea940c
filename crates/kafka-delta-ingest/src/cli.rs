//! The command line: the original daemon's `ingest` subcommand with its flags, short forms,
//! defaults and environment variables (kebab-case aliases too), plus this crate's additions.

use std::collections::HashMap;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::avro::Format;
use crate::error::IngestError;
use crate::transform::{Transform, parse_transforms};

/// `kafka-delta-ingest`: Kafka topics into Delta tables, exactly once.
#[derive(Debug, Parser)]
#[command(name = "kafka-delta-ingest", version, about, arg_required_else_help = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Starts a stream that consumes from a Kafka topic and writes to a Delta table.
    Ingest(Box<IngestArgs>),
}

/// Where to start a partition that the table has no offset for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AutoOffsetReset {
    /// The first offset still in the topic.
    Earliest,
    /// Only messages produced from now on.
    Latest,
}

/// The flags of `ingest`, as the original daemon spells them.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The Kafka topic to stream from.
    #[arg(env = "KAFKA_TOPIC")]
    pub topic: String,
    /// The Delta table location to write to.
    #[arg(env = "TABLE_LOCATION")]
    pub table_location: String,
    /// Kafka broker connection string.
    #[arg(short = 'k', long = "kafka", env = "KAFKA_BROKERS", default_value = "localhost:9092")]
    pub kafka: String,
    /// Consumer group to subscribe with.
    #[arg(
        short = 'g',
        long = "consumer_group",
        alias = "consumer-group",
        env = "KAFKA_CONSUMER_GROUP",
        default_value = "kafka_delta_ingest"
    )]
    pub consumer_group: String,
    /// Application id of the table's `txn` actions (`<app_id>-<partition>`).
    #[arg(
        short = 'a',
        long = "app_id",
        alias = "app-id",
        env = "APP_ID",
        default_value = "kafka_delta_ingest"
    )]
    pub app_id: String,
    /// Offsets to seek to when the table has none, as JSON: `{"0":123,"1":321}`; the first message
    /// ingested is the one after.
    #[arg(long = "seek_offsets", alias = "seek-offsets", env = "KAFKA_SEEK_OFFSETS")]
    pub seek_offsets: Option<String>,
    /// Where to start when neither the table nor `--seek_offsets` has an offset.
    #[arg(
        short = 'o',
        long = "auto_offset_reset",
        alias = "auto-offset-reset",
        env = "KAFKA_AUTO_OFFSET_RESET",
        value_enum,
        default_value = "earliest"
    )]
    pub auto_offset_reset: AutoOffsetReset,
    /// Seconds from consuming a message to its commit to the table, at most.
    #[arg(
        short = 'l',
        long = "allowed_latency",
        alias = "allowed-latency",
        env = "ALLOWED_LATENCY",
        default_value_t = 300
    )]
    pub allowed_latency: u64,
    /// Messages buffered before a flush, at most.
    #[arg(
        short = 'm',
        long = "max_messages_per_batch",
        alias = "max-messages-per-batch",
        env = "MAX_MESSAGES_PER_BATCH",
        default_value_t = 5000
    )]
    pub max_messages_per_batch: usize,
    /// Bytes buffered that trigger a flush.
    #[arg(
        short = 'b',
        long = "min_bytes_per_file",
        alias = "min-bytes-per-file",
        env = "MIN_BYTES_PER_FILE",
        default_value_t = 134_217_728
    )]
    pub min_bytes_per_file: usize,
    /// Transforms `PROPERTY: SOURCE` (JMESPath or a `kafka.*` field), applied in order.
    #[arg(short = 't', long = "transform", env = "TRANSFORMS", num_args = 1..)]
    pub transform: Vec<String>,
    /// Table that messages which cannot be written go to.
    #[arg(
        long = "dlq_table_location",
        alias = "dlq-table-location",
        env = "DLQ_TABLE_LOCATION"
    )]
    pub dlq_table_location: Option<String>,
    /// Transforms applied to dead letters before they are written.
    #[arg(long = "dlq_transform", alias = "dlq-transform", env = "DLQ_TRANSFORMS", num_args = 1..)]
    pub dlq_transform: Vec<String>,
    /// Write checkpoints (this crate always honours `delta.checkpointInterval`; kept for compatibility).
    #[arg(short = 'c', long = "checkpoints", env = "WRITE_CHECKPOINTS")]
    pub checkpoints: bool,
    /// Extra librdkafka settings `KEY=VALUE`.
    #[arg(short = 'K', long = "kafka_setting", alias = "kafka-setting", env = "KAFKA_SETTINGS", num_args = 1..)]
    pub kafka_setting: Vec<String>,
    /// StatsD endpoint of the original (not used: see `--metrics-addr`).
    #[arg(
        short = 's',
        long = "statsd_endpoint",
        alias = "statsd-endpoint",
        env = "STATSD_ENDPOINT",
        default_value = "localhost:8125"
    )]
    pub statsd_endpoint: String,
    /// Messages are JSON (the default); a schema registry is not supported.
    #[arg(long = "json", env = "JSON_REGISTRY", num_args = 0..=1, default_missing_value = "",
          conflicts_with = "avro")]
    pub json: Option<String>,
    /// Messages are Avro: each one datum of this schema file, or, with no value, each an Avro
    /// object container file holding its own schema (a schema registry is not supported).
    #[arg(long = "avro", env = "AVRO_REGISTRY", num_args = 0..=1, default_missing_value = "")]
    pub avro: Option<String>,
    /// Stop once every partition has been read to its latest offset.
    #[arg(
        short = 'e',
        long = "ends_at_latest_offsets",
        alias = "ends-at-latest-offsets",
        env = "TURN_OFF_AT_KAFKA_TOPIC_END"
    )]
    pub ends_at_latest_offsets: bool,
    /// Messages are gzip-compressed.
    #[arg(long = "decompress_gzip", alias = "decompress-gzip", env = "DECOMPRESS_GZIP")]
    pub decompress_gzip: bool,
    /// Create a missing table with this schema: a file or inline JSON (a Delta schema, or an
    /// Arrow-style `{"fields": [...]}`).
    #[arg(long = "create-table", alias = "create_table")]
    pub create_table: Option<String>,
    /// Only messages for which this JMESPath expression is truthy are written.
    #[arg(long = "filter")]
    pub filter: Option<String>,
    /// Serve Prometheus metrics on this `HOST:PORT`.
    #[arg(long = "metrics-addr", alias = "metrics_addr")]
    pub metrics_addr: Option<String>,
    /// Bytes of messages held between polling and writing, at most.
    #[arg(long = "max-buffer-bytes", alias = "max_buffer_bytes", default_value_t = 256 << 20)]
    pub max_buffer_bytes: usize,
    /// Add the fields of messages that the table does not have as new nullable columns (their
    /// types inferred from the JSON values) instead of ignoring them.
    #[arg(long = "schema-evolution", alias = "schema_evolution", env = "SCHEMA_EVOLUTION")]
    pub schema_evolution: bool,
}

/// What `ingest` runs with: the flags checked and typed.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Topic.
    pub topic: String,
    /// Table URI.
    pub table_uri: String,
    /// Bootstrap servers.
    pub brokers: String,
    /// Consumer group.
    pub consumer_group: String,
    /// Application id of the `txn` actions.
    pub app_id: String,
    /// Seek offsets by partition.
    pub seek_offsets: HashMap<i32, i64>,
    /// Where to start without an offset.
    pub auto_offset_reset: AutoOffsetReset,
    /// Longest time a message waits for its commit.
    pub allowed_latency: Duration,
    /// Messages per flush.
    pub max_messages_per_batch: usize,
    /// Bytes per flush.
    pub min_bytes_per_file: usize,
    /// Transforms of the messages.
    pub transforms: Vec<Transform>,
    /// The dead letter table.
    pub dlq_table_uri: Option<String>,
    /// Transforms of the dead letters.
    pub dlq_transforms: Vec<Transform>,
    /// Extra librdkafka settings.
    pub kafka_settings: Vec<(String, String)>,
    /// End at the latest offsets.
    pub end_at_latest_offsets: bool,
    /// Gunzip the payloads.
    pub decompress_gzip: bool,
    /// Schema (JSON text) of a table to create when missing.
    pub create_table_schema: Option<String>,
    /// Filter expression.
    pub filter: Option<String>,
    /// Bound of the buffer between polling and writing.
    pub max_buffer_bytes: usize,
    /// Where to serve metrics.
    pub metrics_addr: Option<String>,
    /// Add unknown fields as columns.
    pub schema_evolution: bool,
    /// How the payloads are encoded.
    pub format: Format,
}

impl IngestArgs {
    /// Check and type the flags.
    pub fn into_options(self) -> Result<IngestOptions, IngestError> {
        let format = match &self.avro {
            None => Format::Json,
            Some(flag) => Format::avro(flag).map_err(IngestError::Config)?,
        };
        if self.json.as_deref().is_some_and(|j| !j.is_empty()) {
            return Err(IngestError::Config(
                "--json with a schema registry is not supported: pass --json alone".into(),
            ));
        }
        let seek_offsets = match &self.seek_offsets {
            None => HashMap::new(),
            Some(text) => parse_seek_offsets(text)?,
        };
        let kafka_settings = self
            .kafka_setting
            .iter()
            .map(|s| {
                s.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .ok_or_else(|| IngestError::Config(format!("--kafka_setting '{s}' is not KEY=VALUE")))
            })
            .collect::<Result<_, _>>()?;
        if self.max_messages_per_batch == 0 {
            return Err(IngestError::Config(
                "--max_messages_per_batch must be at least 1".into(),
            ));
        }
        let create_table_schema = match self.create_table {
            None => None,
            Some(s) if s.trim_start().starts_with('{') => Some(s),
            Some(path) => Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| IngestError::Config(format!("cannot read the schema file {path}: {e}")))?,
            ),
        };
        Ok(IngestOptions {
            transforms: parse_transforms(&self.transform)?,
            dlq_transforms: parse_transforms(&self.dlq_transform)?,
            topic: self.topic,
            table_uri: self.table_location,
            brokers: self.kafka,
            consumer_group: self.consumer_group,
            app_id: self.app_id,
            seek_offsets,
            auto_offset_reset: self.auto_offset_reset,
            allowed_latency: Duration::from_secs(self.allowed_latency),
            max_messages_per_batch: self.max_messages_per_batch,
            min_bytes_per_file: self.min_bytes_per_file,
            dlq_table_uri: self.dlq_table_location,
            kafka_settings,
            end_at_latest_offsets: self.ends_at_latest_offsets,
            decompress_gzip: self.decompress_gzip,
            create_table_schema,
            filter: self.filter,
            max_buffer_bytes: self.max_buffer_bytes,
            metrics_addr: self.metrics_addr,
            schema_evolution: self.schema_evolution,
            format,
        })
    }
}

/// `{"0":123,"1":321}` into partition → offset.
pub fn parse_seek_offsets(text: &str) -> Result<HashMap<i32, i64>, IngestError> {
    let bad = |why: String| IngestError::Config(format!("--seek_offsets {text}: {why}"));
    let map: HashMap<String, i64> = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    map.into_iter()
        .map(|(k, v)| {
            let p = k
                .parse::<i32>()
                .map_err(|_| bad(format!("'{k}' is not a partition number")))?;
            Ok((p, v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<IngestArgs, clap::Error> {
        let argv = ["kafka-delta-ingest", "ingest"].iter().chain(args).copied();
        Cli::try_parse_from(argv).map(|c| match c.command {
            Command::Ingest(a) => *a,
        })
    }

    #[test]
    fn defaults_are_the_originals() {
        let o = parse(&["web_requests", "/tmp/t"]).unwrap().into_options().unwrap();
        assert_eq!(o.topic, "web_requests");
        assert_eq!(o.table_uri, "/tmp/t");
        assert_eq!(o.brokers, "localhost:9092");
        assert_eq!(o.consumer_group, "kafka_delta_ingest");
        assert_eq!(o.app_id, "kafka_delta_ingest");
        assert_eq!(o.auto_offset_reset, AutoOffsetReset::Earliest);
        assert_eq!(o.allowed_latency, Duration::from_secs(300));
        assert_eq!(o.max_messages_per_batch, 5000);
        assert_eq!(o.min_bytes_per_file, 134_217_728);
        assert!(!o.end_at_latest_offsets && !o.decompress_gzip);
        assert!(o.seek_offsets.is_empty() && o.transforms.is_empty());
    }

    #[test]
    fn short_and_long_forms_and_aliases() {
        let short = parse(&[
            "t",
            "/x",
            "-k",
            "b:1",
            "-g",
            "grp",
            "-a",
            "app",
            "-o",
            "latest",
            "-l",
            "5",
            "-m",
            "10",
            "-b",
            "99",
            "-t",
            "a: b",
            "c: kafka.offset",
            "-K",
            "fetch.min.bytes=1",
            "-e",
            "-c",
        ])
        .unwrap()
        .into_options()
        .unwrap();
        assert_eq!(short.brokers, "b:1");
        assert_eq!(short.consumer_group, "grp");
        assert_eq!(short.app_id, "app");
        assert_eq!(short.auto_offset_reset, AutoOffsetReset::Latest);
        assert_eq!(short.allowed_latency, Duration::from_secs(5));
        assert_eq!(short.max_messages_per_batch, 10);
        assert_eq!(short.min_bytes_per_file, 99);
        assert_eq!(short.transforms.len(), 2);
        assert_eq!(
            short.kafka_settings,
            vec![("fetch.min.bytes".to_string(), "1".to_string())]
        );
        assert!(short.end_at_latest_offsets);

        let long = parse(&[
            "t",
            "/x",
            "--consumer_group",
            "g1",
            "--app_id",
            "a1",
            "--seek_offsets",
            r#"{"0":5,"2":7}"#,
            "--allowed_latency",
            "7",
            "--dlq_table_location",
            "/dlq",
            "--decompress_gzip",
            "--ends_at_latest_offsets",
        ])
        .unwrap()
        .into_options()
        .unwrap();
        assert_eq!(long.seek_offsets, HashMap::from([(0, 5), (2, 7)]));
        assert_eq!(long.dlq_table_uri.as_deref(), Some("/dlq"));
        assert!(long.decompress_gzip && long.end_at_latest_offsets);

        let kebab = parse(&[
            "t",
            "/x",
            "--consumer-group",
            "g2",
            "--app-id",
            "a2",
            "--auto-offset-reset",
            "latest",
            "--max-messages-per-batch",
            "3",
            "--min-bytes-per-file",
            "4",
            "--ends-at-latest-offsets",
        ])
        .unwrap();
        assert_eq!(kebab.consumer_group, "g2");
        assert_eq!(kebab.app_id, "a2");
        assert_eq!(kebab.max_messages_per_batch, 3);
        assert!(kebab.ends_at_latest_offsets);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        assert!(parse(&["t", "/x", "-o", "middle"]).is_err());
        assert!(parse(&["t", "/x", "-l", "soon"]).is_err());
        let err = parse(&["t", "/x", "--seek_offsets", "{\"x\":1}"])
            .unwrap()
            .into_options()
            .unwrap_err();
        assert!(err.to_string().contains("not a partition number"), "{err}");
        let err = parse(&["t", "/x", "-K", "novalue"])
            .unwrap()
            .into_options()
            .unwrap_err();
        assert!(err.to_string().contains("KEY=VALUE"), "{err}");
        let err = parse(&["t", "/x", "--avro", "/no/such.avsc"])
            .unwrap()
            .into_options()
            .unwrap_err();
        assert!(err.to_string().contains("cannot read the Avro schema file"), "{err}");
        for avro in [&["t", "/x", "--avro"][..], &["--avro=", "t", "/x"]] {
            let options = parse(avro).unwrap().into_options().unwrap();
            assert!(matches!(options.format, Format::AvroContainer), "{avro:?}");
        }
        let err = parse(&["t", "/x", "-t", "no colon"])
            .unwrap()
            .into_options()
            .unwrap_err();
        assert!(err.to_string().contains("PROPERTY: SOURCE"), "{err}");
        assert!(parse(&["t", "/x", "--json", "--avro", "x"]).is_err());
    }
}

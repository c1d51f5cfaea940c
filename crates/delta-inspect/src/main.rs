//! `delta-inspect`: look into Delta tables from the command line.

use std::io::Write;
use std::process::ExitCode;

use arrow::datatypes::SchemaRef;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
#[cfg(feature = "sql")]
use deltalake::datafusion::DeltaSessionExt;
#[cfg(feature = "sql")]
use deltalake::datafusion::bridge::stream_from_datafusion;
use deltalake::operations::optimize::OptimizeType;
use deltalake::operations::vacuum::VacuumMode;
use deltalake::scan::RecordBatchStream;
use deltalake::{DeltaResult, DeltaTable};
use futures::StreamExt;

#[derive(Parser)]
#[command(name = "delta-inspect", version, about = "Inspect and read Delta Lake tables")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which version of the table to open.
#[derive(clap::Args)]
struct At {
    /// The table location (path or URI).
    table: String,
    /// Open this version instead of the latest.
    #[arg(long, conflicts_with = "timestamp")]
    version: Option<i64>,
    /// Open the latest version committed at or before this time (RFC 3339 or `YYYY-MM-DD[ HH:MM:SS]`, UTC).
    #[arg(long, value_parser = parse_timestamp)]
    timestamp: Option<DateTime<Utc>>,
}

#[derive(Subcommand)]
enum Command {
    /// Version, protocol, metadata, file count and size.
    Info(At),
    /// The active data files.
    Files(At),
    /// The commits, newest first.
    History {
        /// The table location.
        table: String,
        /// Show at most this many commits.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// The schema as JSON.
    Schema(At),
    /// Write a checkpoint of the latest version and print what `_last_checkpoint` records.
    Checkpoint {
        /// The table location.
        table: String,
    },
    /// List (by default) or delete the files no version within the retention period needs.
    Vacuum {
        /// The table location.
        table: String,
        /// Keep files removed less than this many hours ago (default: the table's
        /// delta.deletedFileRetentionDuration, 7 days).
        #[arg(long)]
        retention_hours: Option<u64>,
        /// Allow a retention shorter than the table's.
        #[arg(long)]
        no_retention_check: bool,
        /// Only look at files the log removed; do not list the table directory.
        #[arg(long)]
        lite: bool,
        /// Delete the files (without it, only list them).
        #[arg(long)]
        execute: bool,
    },
    /// Compact small files (or Z-order rows; on a clustered table, cluster the files not yet
    /// clustered) and print what was done as JSON.
    Optimize {
        /// The table location.
        table: String,
        /// Aim for files of this many bytes (default: `delta.targetFileSize`, else 100 MiB).
        #[arg(long)]
        target_size: Option<u64>,
        /// Z-order by these columns, comma separated, instead of compacting.
        #[arg(long, value_delimiter = ',')]
        zorder: Option<Vec<String>>,
        /// On a clustered table, cluster at most this many bytes of files together.
        #[arg(long)]
        max_cluster_size: Option<u64>,
    },
    /// Read the rows.
    Scan {
        #[command(flatten)]
        at: At,
        /// Columns to read, comma separated.
        #[arg(long, value_delimiter = ',')]
        columns: Option<Vec<String>>,
        /// Only rows matching this SQL predicate, e.g. "year = 2021 AND name LIKE 'a%'"; files
        /// that cannot match (by partition values and statistics) are not read.
        #[arg(long)]
        filter: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Write to this file instead of standard output (required for parquet).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Run a SQL query (DataFusion) over the table, registered as `t`, e.g.
    /// "SELECT year, count(*) FROM t GROUP BY year".
    // Without the `sql` feature the command stays listed, so that a user following the README gets
    // an error saying how to get it rather than clap's "unrecognized subcommand".
    #[cfg_attr(
        not(feature = "sql"),
        command(about = "Run a SQL query over the table (not in this build: needs the `sql` feature)"),
        allow(dead_code)
    )]
    Sql {
        #[command(flatten)]
        at: At,
        /// The query.
        query: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Write to this file instead of standard output (required for parquet).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
    Parquet,
}

/// The error of `sql` in a build without DataFusion (`--no-default-features`, as the demo builds).
#[cfg(not(feature = "sql"))]
const SQL_MISSING: &str = "this delta-inspect was built without the `sql` feature (DataFusion); \
     install it with its default features, which include it: \
     `cargo install --path crates/delta-inspect` (or build with `--features sql`)";

fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Ok(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .map_err(|_| format!("invalid timestamp '{s}': use RFC 3339 or YYYY-MM-DD[ HH:MM:SS]"))
}

async fn open(at: &At) -> DeltaResult<DeltaTable> {
    let mut builder = DeltaTable::builder(&at.table);
    if let Some(v) = at.version {
        builder = builder.with_version(v);
    }
    if let Some(t) = at.timestamp {
        builder = builder.with_timestamp(t);
    }
    builder.load().await
}

fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Info(at) => {
            let table = open(&at).await?;
            let s = table.snapshot();
            print_json(&serde_json::json!({
                "location": table.uri(),
                "version": s.version(),
                "timestamp": DateTime::from_timestamp_millis(s.timestamp()).map(|t| t.to_rfc3339()),
                "protocol": s.protocol(),
                "id": s.metadata().id,
                "name": s.metadata().name,
                "description": s.metadata().description,
                "partition_columns": s.partition_columns(),
                "clustering_columns": s.clustering_columns()?,
                "properties": s.properties(),
                "num_files": s.files().len(),
                "size_bytes": s.files().total_size(),
            }));
        }
        Command::Files(at) => {
            let table = open(&at).await?;
            for f in table.snapshot().files().iter() {
                let line = serde_json::json!({
                    "path": f.path(),
                    "size": f.size(),
                    "partition_values": f.partition_values(),
                    "deletion_vector": f.deletion_vector(),
                });
                println!("{line}");
            }
        }
        Command::History { table, limit } => {
            let table = DeltaTable::open(table).await?;
            for (version, info) in table.history(limit).await? {
                let mut line = serde_json::to_value(&info)?;
                line["version"] = version.into();
                println!("{line}");
            }
        }
        Command::Checkpoint { table } => {
            let table = DeltaTable::open(table).await?;
            print_json(&serde_json::to_value(table.create_checkpoint().await?)?);
        }
        Command::Vacuum {
            table,
            retention_hours,
            no_retention_check,
            lite,
            execute,
        } => {
            let table = DeltaTable::open(table).await?;
            let mut vacuum = table
                .vacuum()
                .with_dry_run(!execute)
                .with_enforce_retention(!no_retention_check)
                .with_mode(if lite { VacuumMode::Lite } else { VacuumMode::Full });
            if let Some(hours) = retention_hours {
                vacuum = vacuum.with_retention(std::time::Duration::from_secs(hours * 3600));
            }
            let (table, metrics) = vacuum.await?;
            print_json(&serde_json::json!({
                "version": table.version(),
                "dry_run": metrics.dry_run,
                "files_deleted": metrics.files_deleted,
            }));
        }
        Command::Optimize {
            table,
            target_size,
            zorder,
            max_cluster_size,
        } => {
            let table = DeltaTable::open(table).await?;
            let clustering = table.snapshot().clustering_columns()?;
            let mut optimize = table.optimize();
            if let Some(bytes) = max_cluster_size {
                optimize = optimize.with_max_cluster_size(bytes);
            }
            if let Some(bytes) = target_size {
                optimize = optimize.with_target_size(bytes);
            }
            if let Some(columns) = zorder {
                optimize = optimize.with_type(OptimizeType::ZOrder(columns));
            }
            let (table, metrics) = optimize.await?;
            let mut report = metrics.to_json();
            report.insert("version".into(), table.version().into());
            report.insert("clusteringColumns".into(), serde_json::json!(clustering));
            print_json(&report.into());
        }
        Command::Schema(at) => {
            let table = open(&at).await?;
            println!("{}", table.snapshot().schema().to_json());
        }
        Command::Scan {
            at,
            columns,
            filter,
            format,
            out,
        } => {
            let table = open(&at).await?;
            let mut scan = table.scan();
            if let Some(columns) = columns {
                scan = scan.with_columns(columns);
            }
            if let Some(filter) = filter {
                scan = scan.with_predicate(&filter);
            }
            let scan = scan.build()?;
            write_batches(scan.schema(), scan.execute(), format, out.as_deref()).await?;
        }
        #[cfg(not(feature = "sql"))]
        Command::Sql { .. } => return Err(SQL_MISSING.into()),
        #[cfg(feature = "sql")]
        Command::Sql { at, query, format, out } => {
            let ctx = datafusion::prelude::SessionContext::new();
            ctx.register_delta("t", &open(&at).await?)?;
            let stream = ctx.sql(&query).await?.execute_stream().await?;
            let (schema, batches) = stream_from_datafusion(stream)?;
            write_batches(schema, batches, format, out.as_deref()).await?;
        }
    }
    Ok(())
}

/// Write `stream` (of `schema`) as `format` to `out`, or to standard output.
async fn write_batches(
    schema: SchemaRef,
    mut stream: RecordBatchStream,
    format: Format,
    out: Option<&std::path::Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    let sink: Box<dyn Write + Send> = match (out, format) {
        (Some(path), _) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        (None, Format::Parquet) => return Err("--format parquet needs --out FILE".into()),
        (None, _) => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    match format {
        Format::Json => {
            let mut w = arrow_json::LineDelimitedWriter::new(sink);
            while let Some(batch) = stream.next().await {
                w.write(&batch?)?;
            }
            w.finish()?;
        }
        Format::Csv => {
            let mut w = arrow_csv::Writer::new(sink);
            while let Some(batch) = stream.next().await {
                w.write(&batch?)?;
            }
        }
        Format::Parquet => {
            let mut w = parquet::arrow::ArrowWriter::try_new(sink, schema, None)?;
            while let Some(batch) = stream.next().await {
                w.write(&batch?)?;
            }
            w.close()?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    // Errors only unless RUST_LOG asks for more: the tool's output is its report.
    deltalake::bindings::init_logging("error");
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

//! `RawTable`: a loaded table (wrapped by `DeltaTable` in `index.js`), the reads on it and the
//! operations on it, each a request of the core's binding facade filled from JavaScript values.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use deltalake::bindings::{
    AlterRequest, CommitOptions, DeleteRequest, FileListing, Filter, IpcEncoder, MergeClause, MergeRequest,
    OptimizeRequest, RestoreRequest, RestoreTarget, UpdateRequest, VacuumRequest, WriterOptions, camel_case_keys,
    metrics_json, read_ipc,
};
use deltalake::operations::alter::TableChange;
use deltalake::operations::merge::MergeSource;
use deltalake::operations::optimize::OptimizeType;
use deltalake::protocol::StructType;
use deltalake::{DeltaResult, DeltaTable};
use napi::bindgen_prelude::{Buffer, Object};
use napi::{Env, Result};
use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;

use crate::error::{closed, invalid, to_napi};
use crate::stream::{RawStream, ipc_bytes, to_buffer};
use crate::task::{AbortToken, datetime_from_ms, on_thread, promise, promise_of};

/// What to read: columns, a SQL predicate, rows per batch.
#[napi(object)]
#[derive(Default)]
pub struct ScanOptions {
    /// Only these columns, in this order.
    pub columns: Option<Vec<String>>,
    /// Only the rows matching this SQL predicate.
    pub predicate: Option<String>,
    /// Rows per batch at most.
    pub batch_size: Option<u32>,
    /// Row groups decoded at once at most (default twice the CPUs).
    pub concurrency: Option<u32>,
    /// Decimal columns as strings (for `toRows`).
    pub decimals_as_strings: Option<bool>,
}

/// Which changes the change data feed reads.
#[napi(object)]
#[derive(Default)]
pub struct CdfOptions {
    /// First version (default 0).
    pub starting_version: Option<i64>,
    /// Last version (default the loaded one).
    pub ending_version: Option<i64>,
    /// First commit time, in milliseconds since the epoch.
    pub starting_timestamp: Option<f64>,
    /// Last commit time, in milliseconds since the epoch.
    pub ending_timestamp: Option<f64>,
    /// Only these columns.
    pub columns: Option<Vec<String>>,
    /// Only the rows matching this SQL predicate.
    pub predicate: Option<String>,
    /// Versions past the end are no error.
    pub allow_out_of_range: Option<bool>,
}

/// The settings of an operation's commit.
#[napi(object)]
#[derive(Default)]
pub struct CommitSettings {
    /// Retries after a conflicting concurrent commit.
    pub max_commit_retries: Option<u32>,
    /// Fields added to `commitInfo` (`userMetadata` becomes `commitInfo.userMetadata`).
    pub custom_metadata: Option<Value>,
    /// `[appId, version]` application transactions the commit records (writes only).
    pub app_transactions: Option<Vec<AppTransaction>>,
}

/// One application transaction.
#[napi(object)]
pub struct AppTransaction {
    /// The application id.
    pub app_id: String,
    /// Its version.
    pub version: i64,
}

/// Parquet settings of the files an operation writes.
#[napi(object)]
#[derive(Default)]
pub struct WriterSettings {
    /// Codec: `uncompressed`, `snappy` (default), `gzip`, `brotli`, `lz4`, `lz4_raw`, `zstd`.
    pub compression: Option<String>,
    /// Codec level.
    pub compression_level: Option<i32>,
    /// Rows per row group at most.
    pub max_row_group_size: Option<u32>,
    /// Roll to a new file at about this many bytes.
    pub target_file_size: Option<u32>,
}

/// The facade's commit options of `settings`.
pub fn commit_options(settings: Option<CommitSettings>) -> Result<CommitOptions> {
    let Some(settings) = settings else {
        return Ok(CommitOptions::default());
    };
    let custom_metadata = match settings.custom_metadata {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(invalid("customMetadata must be an object")),
    };
    Ok(CommitOptions {
        max_commit_retries: settings.max_commit_retries,
        custom_metadata,
        app_transactions: settings
            .app_transactions
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.app_id, t.version))
            .collect(),
        ..CommitOptions::default()
    })
}

/// The facade's writer options of `settings`.
pub fn writer_options(settings: Option<WriterSettings>) -> Option<WriterOptions> {
    settings.map(|s| WriterOptions {
        compression: s.compression,
        compression_level: s.compression_level,
        max_row_group_size: s.max_row_group_size.map(|n| n as usize),
        target_file_size: s.target_file_size.map(|n| n as usize),
        ..Default::default()
    })
}

/// One merge clause: its kind (`whenMatchedUpdate`, ...), condition, assignments and exceptions.
#[napi(object)]
pub struct MergeClauseSpec {
    /// The clause's method name, camelCase or snake_case.
    pub kind: String,
    /// Its SQL condition.
    pub predicate: Option<String>,
    /// Target column → SQL expression.
    pub updates: Option<HashMap<String, String>>,
    /// Columns left out (the `All` clauses).
    pub except: Option<Vec<String>>,
}

/// A change of the table's schema, properties or protocol.
#[napi(object)]
pub struct AlterSpec {
    /// `addConstraint`, `dropConstraint`, `setProperties`, `addColumns`, `addFeatures`,
    /// `setName` or `setDescription`.
    pub kind: String,
    /// The constraint name, or the table's name or description.
    pub name: Option<String>,
    /// The constraint's SQL expression.
    pub expression: Option<String>,
    /// Dropping a missing constraint is no error.
    pub if_exists: Option<bool>,
    /// Properties to set.
    pub properties: Option<HashMap<String, String>>,
    /// Fields to add, as a Delta struct type's JSON (`{"type":"struct","fields":[...]}`).
    pub schema_json: Option<String>,
    /// Table features to add.
    pub features: Option<Vec<String>>,
}

/// A Delta table loaded at some version.
#[napi]
pub struct RawTable {
    table: Arc<Mutex<Option<DeltaTable>>>,
}

impl RawTable {
    fn wrap(table: DeltaTable) -> Self {
        Self {
            table: Arc::new(Mutex::new(Some(table))),
        }
    }

    /// The loaded table (a cheap clone), or an error once closed.
    pub fn current(&self) -> DeltaResult<DeltaTable> {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(closed)
    }

    fn current_napi(&self) -> Result<DeltaTable> {
        self.current().map_err(to_napi)
    }

    /// Where a finished operation puts the table it made.
    pub fn slot(&self) -> TableSlot {
        TableSlot(self.table.clone())
    }

    /// Run an operation giving a new table and metrics; keep the table, resolve to the metrics
    /// with camelCased keys.
    fn operate<'env, M, F, Fut>(&self, env: &'env Env, abort: Option<&AbortToken>, operation: F) -> Result<Object<'env>>
    where
        F: FnOnce(DeltaTable) -> Fut + Send + 'static,
        Fut: Future<Output = DeltaResult<(DeltaTable, M)>>,
        M: Serialize + Send + 'static,
    {
        let slot = self.slot();
        let table = self.current_napi()?;
        let run = on_thread(abort, move || operation(table));
        promise_of(env, None, async move {
            let (table, metrics) = run.await?;
            slot.set(table);
            Ok(camel_case_keys(metrics_json(&metrics)?))
        })
    }

    /// Move to the table `load` makes of the current one.
    fn reload<'env, F, Fut>(&self, env: &'env Env, load: F) -> Result<Object<'env>>
    where
        F: FnOnce(DeltaTable) -> Fut + Send + 'static,
        Fut: Future<Output = DeltaResult<DeltaTable>>,
    {
        let slot = self.slot();
        let table = self.current_napi()?;
        let run = on_thread(None, move || load(table));
        promise_of(env, None, async move {
            let table = run.await?;
            let version = table.version();
            slot.set(table);
            Ok(version)
        })
    }
}

/// A handle on a `RawTable`'s table, to replace it from the runtime once an operation is done.
pub struct TableSlot(Arc<Mutex<Option<DeltaTable>>>);

impl TableSlot {
    /// Replace the table (unless it was closed meanwhile).
    pub fn set(&self, table: DeltaTable) {
        let mut current = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if current.is_some() {
            *current = Some(table);
        }
    }
}

#[napi]
impl RawTable {
    /// Load the table at `uri`: the latest version, or `version`, or the version current at
    /// `timestamp` (milliseconds since the epoch).
    #[napi(ts_return_type = "Promise<RawTable>")]
    pub fn open<'env>(
        env: &'env Env,
        uri: String,
        version: Option<i64>,
        timestamp: Option<f64>,
        storage_options: Option<HashMap<String, String>>,
    ) -> Result<Object<'env>> {
        let mut builder = DeltaTable::builder(uri).with_storage_options(storage_options.unwrap_or_default());
        if let Some(version) = version {
            builder = builder.with_version(version);
        }
        if let Some(ms) = timestamp {
            builder = builder.with_timestamp(datetime_from_ms(ms).map_err(to_napi)?);
        }
        promise(env, None, builder.load(), |_, table| Ok(RawTable::wrap(table)))
    }

    /// Whether a Delta table exists at `uri`.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn exists<'env>(
        env: &'env Env,
        uri: String,
        storage_options: Option<HashMap<String, String>>,
    ) -> Result<Object<'env>> {
        promise_of(env, None, DeltaTable::exists(uri, storage_options.unwrap_or_default()))
    }

    /// The loaded version.
    #[napi]
    pub fn version(&self) -> Result<i64> {
        Ok(self.current_napi()?.version())
    }

    /// The table's location as a URL.
    #[napi]
    pub fn table_uri(&self) -> Result<String> {
        Ok(self.current_napi()?.uri().to_string())
    }

    /// The schema as Delta JSON.
    #[napi]
    pub fn schema_json(&self) -> Result<String> {
        Ok(self.current_napi()?.snapshot().schema().to_json())
    }

    /// The Arrow schema as an IPC stream with no batches.
    #[napi]
    pub fn arrow_schema_ipc(&self) -> Result<Buffer> {
        let table = self.current_napi()?;
        let (encoder, head) = IpcEncoder::new(table.snapshot().arrow_schema()).map_err(to_napi)?;
        let tail = encoder.finish().map_err(to_napi)?;
        let bytes = [head, tail].concat();
        Ok(Buffer::from(bytes))
    }

    /// The metadata action as JSON.
    #[napi]
    pub fn metadata_json(&self) -> Result<String> {
        let table = self.current_napi()?;
        serde_json::to_string(table.snapshot().metadata()).map_err(|e| to_napi(e.into()))
    }

    /// The protocol action as JSON.
    #[napi]
    pub fn protocol_json(&self) -> Result<String> {
        let table = self.current_napi()?;
        serde_json::to_string(table.snapshot().protocol()).map_err(|e| to_napi(e.into()))
    }

    /// The active files' paths relative to the table root (of those that may hold rows matching
    /// the SQL `predicate`, when given).
    #[napi]
    pub fn files(&self, predicate: Option<String>) -> Result<Vec<String>> {
        let table = self.current_napi()?;
        let files = FileListing::new(&table, predicate.map(Filter::Sql)).map_err(to_napi)?;
        Ok(files.paths().collect())
    }

    /// The active files' absolute locations.
    #[napi]
    pub fn file_uris(&self, predicate: Option<String>) -> Result<Vec<String>> {
        let table = self.current_napi()?;
        let files = FileListing::new(&table, predicate.map(Filter::Sql)).map_err(to_napi)?;
        files.locations().collect::<DeltaResult<_>>().map_err(to_napi)
    }

    /// The partition values of each active file, by column name (`null` for null).
    #[napi]
    pub fn partitions(&self, predicate: Option<String>) -> Result<Vec<HashMap<String, Option<String>>>> {
        let table = self.current_napi()?;
        let files = FileListing::new(&table, predicate.map(Filter::Sql)).map_err(to_napi)?;
        Ok(files.partition_values().map(|v| v.into_iter().collect()).collect())
    }

    /// The commit information of the newest `limit` versions, newest first, each with `version`.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub fn history<'env>(&self, env: &'env Env, limit: Option<u32>) -> Result<Object<'env>> {
        let table = self.current_napi()?;
        promise_of(env, None, async move {
            let commits = table.history(limit.map(|n| n as usize)).await?;
            commits
                .into_iter()
                .map(|(version, info)| {
                    let mut value = serde_json::to_value(info)?;
                    if let Some(object) = value.as_object_mut() {
                        object.insert("version".into(), version.into());
                    }
                    Ok(value)
                })
                .collect::<DeltaResult<Vec<Value>>>()
        })
    }

    /// Load `version`; resolves to it.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn load_version<'env>(&self, env: &'env Env, version: i64) -> Result<Object<'env>> {
        self.reload(env, move |mut table| async move {
            table.load_version(version).await?;
            Ok(table)
        })
    }

    /// Load the version current at `timestamp` (milliseconds since the epoch); resolves to it.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn load_timestamp<'env>(&self, env: &'env Env, timestamp: f64) -> Result<Object<'env>> {
        let at = datetime_from_ms(timestamp).map_err(to_napi)?;
        self.reload(env, move |mut table| async move {
            table.load_timestamp(at).await?;
            Ok(table)
        })
    }

    /// Move to the latest version, reading only the new commits; resolves to it.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn update_incremental<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        self.reload(env, move |mut table| async move {
            table.refresh().await?;
            Ok(table)
        })
    }

    /// The latest version recorded for the application `app_id`.
    #[napi]
    pub fn transaction_version(&self, app_id: String) -> Result<Option<i64>> {
        Ok(self.current_napi()?.snapshot().txn(&app_id).map(|t| t.version))
    }

    /// A stream of the table's rows as Arrow IPC chunks.
    #[napi]
    pub fn scan(&self, options: Option<ScanOptions>) -> Result<RawStream> {
        let options = options.unwrap_or_default();
        let scan = build_scan(&self.current_napi()?, &options).map_err(to_napi)?;
        Ok(RawStream::new(
            scan.schema(),
            scan.execute(),
            options.decimals_as_strings.unwrap_or(false),
        ))
    }

    /// The table's rows as the chunks of one Arrow IPC stream.
    #[napi(ts_return_type = "Promise<Buffer[]>")]
    pub fn to_ipc<'env>(
        &self,
        env: &'env Env,
        options: Option<ScanOptions>,
        abort: Option<&AbortToken>,
    ) -> Result<Object<'env>> {
        let options = options.unwrap_or_default();
        let scan = build_scan(&self.current_napi()?, &options).map_err(to_napi)?;
        let decimals = options.decimals_as_strings.unwrap_or(false);
        let read = async move { ipc_bytes(scan.schema(), scan.execute(), decimals).await };
        promise(env, abort, read, |_, chunks| {
            Ok(chunks.into_iter().map(to_buffer).collect::<Vec<_>>())
        })
    }

    /// The change data feed as a stream of Arrow IPC chunks.
    #[napi(ts_return_type = "Promise<RawStream>")]
    pub fn load_cdf<'env>(
        &self,
        env: &'env Env,
        options: Option<CdfOptions>,
        decimals_as_strings: Option<bool>,
    ) -> Result<Object<'env>> {
        let options = options.unwrap_or_default();
        let mut feed = self
            .current_napi()?
            .load_cdf()
            .with_starting_version(options.starting_version.unwrap_or(0))
            .with_allow_out_of_range(options.allow_out_of_range.unwrap_or(false));
        if let Some(version) = options.ending_version {
            feed = feed.with_ending_version(version);
        }
        if let Some(ms) = options.starting_timestamp {
            feed = feed.with_starting_timestamp(datetime_from_ms(ms).map_err(to_napi)?);
        }
        if let Some(ms) = options.ending_timestamp {
            feed = feed.with_ending_timestamp(datetime_from_ms(ms).map_err(to_napi)?);
        }
        if let Some(columns) = options.columns {
            feed = feed.with_columns(columns);
        }
        if let Some(sql) = options.predicate {
            feed = feed.with_predicate(sql);
        }
        let decimals = decimals_as_strings.unwrap_or(false);
        promise(env, None, feed.execute(), move |_, (schema, stream)| {
            Ok(RawStream::new(schema, stream, decimals))
        })
    }

    /// Delete the rows matching the SQL `predicate` (every row without one).
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    pub fn delete<'env>(
        &self,
        env: &'env Env,
        predicate: Option<String>,
        writer: Option<WriterSettings>,
        commit: Option<CommitSettings>,
        abort: Option<&AbortToken>,
    ) -> Result<Object<'env>> {
        let request = DeleteRequest {
            predicate,
            writer: writer_options(writer),
            commit: commit_options(commit)?,
        };
        self.operate(env, abort, move |table| async move { request.execute(&table).await })
    }

    /// Set each column of `updates` to its SQL expression in the rows matching `predicate`.
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    pub fn update<'env>(
        &self,
        env: &'env Env,
        updates: HashMap<String, String>,
        predicate: Option<String>,
        writer: Option<WriterSettings>,
        commit: Option<CommitSettings>,
        abort: Option<&AbortToken>,
    ) -> Result<Object<'env>> {
        let request = UpdateRequest {
            updates: updates.into_iter().collect(),
            predicate,
            writer: writer_options(writer),
            commit: commit_options(commit)?,
        };
        self.operate(env, abort, move |table| async move { request.execute(&table).await })
    }

    /// Merge `source` (an Arrow IPC buffer) into the table on the SQL `predicate`, applying
    /// `clauses` in order.
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    #[allow(clippy::too_many_arguments)]
    pub fn merge<'env>(
        &self,
        env: &'env Env,
        source: Buffer,
        predicate: String,
        clauses: Vec<MergeClauseSpec>,
        source_alias: Option<String>,
        target_alias: Option<String>,
        merge_schema: Option<bool>,
        writer: Option<WriterSettings>,
        commit: Option<CommitSettings>,
        abort: Option<&AbortToken>,
    ) -> Result<Object<'env>> {
        let clauses = clauses
            .into_iter()
            .map(|c| {
                Ok(MergeClause {
                    predicate: c.predicate,
                    assignments: c.updates.unwrap_or_default().into_iter().collect(),
                    except: c.except.unwrap_or_default(),
                    ..MergeClause::new(c.kind.parse().map_err(to_napi)?)
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let request = MergeRequest {
            predicate,
            source_alias,
            target_alias,
            merge_schema: merge_schema.unwrap_or(false),
            clauses,
            writer: writer_options(writer),
            commit: commit_options(commit)?,
        };
        let source = bytes::Bytes::from_owner(source);
        self.operate(env, abort, move |table| async move {
            let (_, batches) = read_ipc(source)?;
            request.execute(&table, MergeSource::Batches(batches)).await
        })
    }

    /// Compact small files, or Z-order the files by `z_order_columns`.
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    #[allow(clippy::too_many_arguments)]
    pub fn optimize<'env>(
        &self,
        env: &'env Env,
        z_order_columns: Option<Vec<String>>,
        partition_predicate: Option<String>,
        target_size: Option<i64>,
        max_concurrent_tasks: Option<u32>,
        writer: Option<WriterSettings>,
        commit: Option<CommitSettings>,
        abort: Option<&AbortToken>,
    ) -> Result<Object<'env>> {
        let request = OptimizeRequest {
            kind: z_order_columns.map_or(OptimizeType::Compact, OptimizeType::ZOrder),
            partition_filter: partition_predicate.map(Filter::Sql),
            target_size: target_size.map(|n| n.max(1) as u64),
            max_concurrent_tasks: max_concurrent_tasks.map(|n| n as usize),
            writer: writer_options(writer),
            commit: commit_options(commit)?,
        };
        self.operate(env, abort, move |table| async move { request.execute(&table).await })
    }

    /// Delete files no version within the retention needs (only list them when `dry_run`).
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    #[allow(clippy::too_many_arguments)]
    pub fn vacuum<'env>(
        &self,
        env: &'env Env,
        retention_hours: Option<i64>,
        dry_run: Option<bool>,
        enforce_retention_duration: Option<bool>,
        full: Option<bool>,
        commit: Option<CommitSettings>,
        abort: Option<&AbortToken>,
    ) -> Result<Object<'env>> {
        let request = VacuumRequest {
            retention_hours: retention_hours.map(|h| h.max(0) as u64),
            dry_run: dry_run.unwrap_or(true),
            enforce_retention_duration: enforce_retention_duration.unwrap_or(true),
            full: full.unwrap_or(false),
            commit: commit_options(commit)?,
        };
        self.operate(env, abort, move |table| async move { request.execute(&table).await })
    }

    /// Restore the table to `version`, or to the version current at `timestamp` (ms).
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    pub fn restore<'env>(
        &self,
        env: &'env Env,
        version: Option<i64>,
        timestamp: Option<f64>,
        ignore_missing_files: Option<bool>,
        protocol_downgrade_allowed: Option<bool>,
        commit: Option<CommitSettings>,
    ) -> Result<Object<'env>> {
        let target = match (version, timestamp) {
            (Some(version), None) => RestoreTarget::Version(version),
            (None, Some(ms)) => RestoreTarget::Timestamp(datetime_from_ms(ms).map_err(to_napi)?),
            _ => return Err(invalid("give exactly one of a version and a timestamp")),
        };
        let request = RestoreRequest {
            ignore_missing_files: ignore_missing_files.unwrap_or(false),
            protocol_downgrade_allowed: protocol_downgrade_allowed.unwrap_or(false),
            commit: commit_options(commit)?,
            ..RestoreRequest::new(target)
        };
        self.operate(env, None, move |table| async move { request.execute(&table).await })
    }

    /// Commit one change of the schema, properties or protocol; resolves to the new version.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn alter<'env>(
        &self,
        env: &'env Env,
        change: AlterSpec,
        commit: Option<CommitSettings>,
    ) -> Result<Object<'env>> {
        let request = AlterRequest {
            change: table_change(change)?,
            commit: commit_options(commit)?,
        };
        self.reload(env, move |table| async move { request.execute(&table).await })
    }

    /// Write a checkpoint of the loaded version.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn create_checkpoint<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let table = self.current_napi()?;
        promise_of(
            env,
            None,
            on_thread(None, move || async move { table.create_checkpoint().await.map(|_| ()) }),
        )
    }

    /// Delete expired log files no retained version needs; resolves to how many.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn cleanup_metadata<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let table = self.current_napi()?;
        promise_of(env, None, async move {
            let deleted = table.cleanup_metadata().await?;
            Ok(deleted as u32)
        })
    }

    /// Release the loaded snapshot; later calls fail.
    #[napi]
    pub fn close(&self) {
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

fn build_scan(table: &DeltaTable, options: &ScanOptions) -> DeltaResult<deltalake::Scan> {
    let mut builder = table.scan();
    if let Some(columns) = &options.columns {
        builder = builder.with_columns(columns);
    }
    if let Some(sql) = &options.predicate {
        builder = builder.with_predicate(sql);
    }
    if let Some(rows) = options.batch_size {
        builder = builder.with_batch_size(rows as usize);
    }
    if let Some(row_groups) = options.concurrency {
        builder = builder.with_concurrency(row_groups as usize);
    }
    builder.build()
}

fn table_change(spec: AlterSpec) -> Result<TableChange> {
    let need = |value: Option<String>, what: &str| value.ok_or_else(|| invalid(format!("{} needs {what}", spec.kind)));
    Ok(match spec.kind.as_str() {
        "addConstraint" => TableChange::AddConstraint {
            name: need(spec.name.clone(), "a name")?,
            expression: need(spec.expression.clone(), "an expression")?,
        },
        "dropConstraint" => TableChange::DropConstraint {
            name: need(spec.name.clone(), "a name")?,
            if_exists: spec.if_exists.unwrap_or(false),
        },
        "setProperties" => TableChange::SetProperties(spec.properties.unwrap_or_default()),
        "addColumns" => {
            let json = need(spec.schema_json.clone(), "fields")?;
            TableChange::AddColumns(StructType::from_json(&json).map_err(to_napi)?.fields)
        }
        "addFeatures" => TableChange::AddFeatures(spec.features.unwrap_or_default()),
        "setName" => TableChange::SetName(need(spec.name.clone(), "a name")?),
        "setDescription" => TableChange::SetDescription(need(spec.name.clone(), "a description")?),
        other => return Err(invalid(format!("unknown table change '{other}'"))),
    })
}

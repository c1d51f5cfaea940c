//! `DeltaLake::RawDeltaTable`: a loaded table, its reads and the operations on it, each a request
//! of the core's binding facade filled from the arguments the Ruby classes (`lib/deltalake`) pass.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use deltalake::bindings::{
    AlterRequest, CommitOptions, DeleteRequest, FileListing, Filter, MergeClause, MergeRequest, OptimizeRequest, Pump,
    RepairRequest, RestoreRequest, RestoreTarget, UpdateRequest, VacuumRequest, WriteRequest, WriteTarget,
    WriterOptions, metrics_json,
};
use deltalake::operations::alter::TableChange;
use deltalake::operations::merge::MergeSource;
use deltalake::operations::optimize::OptimizeType;
use deltalake::protocol::StructType;
use deltalake::{DeltaError as CoreError, DeltaTable};
use futures::StreamExt;
use magnus::prelude::*;
use magnus::typed_data::Obj;
use magnus::{Error, IntoValue, RArray, RHash, RModule, Ruby, Value};
use serde::Serialize;
use serde_json::Value as Json;

use crate::error::{invalid_argument, to_rb};
use crate::input::batch_from_ruby;
use crate::runtime::run;
use crate::stream::{ArrowArrayStream, reader_from_ruby};

/// A Delta table loaded at some version (wrapped by `DeltaLake::Table`).
#[magnus::wrap(class = "DeltaLake::RawDeltaTable", free_immediately, size)]
pub struct RawDeltaTable {
    table: Mutex<DeltaTable>,
}

/// One merge clause as `DeltaLake::TableMerger` records it: `[kind, predicate, updates, except]`.
type RbMergeClause = (
    String,
    Option<String>,
    Option<Vec<(String, String)>>,
    Option<Vec<String>>,
);

impl RawDeltaTable {
    fn current(&self) -> DeltaTable {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn replace(&self, table: DeltaTable) {
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = table;
    }

    /// Run an operation giving a new table and metrics; keep the table, return the metrics as a
    /// Hash with the reference package's keys.
    fn operate<M, F, Fut>(&self, ruby: &Ruby, operation: F) -> Result<Value, Error>
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<(DeltaTable, M), CoreError>>,
        M: Serialize + Send,
    {
        let (table, metrics) = run(operation)?;
        self.replace(table);
        json_to_ruby(ruby, &metrics_json(&metrics).map_err(to_rb)?)
    }

    fn alter(&self, change: TableChange, commit: Option<String>) -> Result<(), Error> {
        let request = AlterRequest {
            change,
            commit: commit_options(commit)?,
        };
        let table = self.current();
        let altered = run(move || async move { request.execute(&table).await })?;
        self.replace(altered);
        Ok(())
    }

    // ---- loading

    fn new(uri: String, version: Option<i64>, storage_options: Option<HashMap<String, String>>) -> Result<Self, Error> {
        let mut builder = DeltaTable::builder(uri).with_storage_options(storage_options.unwrap_or_default());
        if let Some(version) = version {
            builder = builder.with_version(version);
        }
        Ok(Self {
            table: Mutex::new(run(move || builder.load())?),
        })
    }

    fn is_deltatable(uri: String, storage_options: Option<HashMap<String, String>>) -> Result<bool, Error> {
        run(move || DeltaTable::exists(uri, storage_options.unwrap_or_default()))
    }

    fn version(&self) -> i64 {
        self.current().version()
    }

    fn table_uri(&self) -> String {
        self.current().uri().to_string()
    }

    fn schema_json(&self) -> String {
        self.current().snapshot().schema().to_json()
    }

    fn metadata(ruby: &Ruby, rb_self: &Self) -> Result<RHash, Error> {
        let table = rb_self.current();
        let m = table.snapshot().metadata();
        let hash = ruby.hash_new();
        hash.aset("id", m.id.as_str())?;
        hash.aset("name", m.name.clone())?;
        hash.aset("description", m.description.clone())?;
        hash.aset("partition_columns", m.partition_columns.clone())?;
        hash.aset("created_time", m.created_time)?;
        hash.aset("configuration", m.configuration.clone())?;
        Ok(hash)
    }

    fn protocol(&self) -> (i32, i32, Option<Vec<String>>, Option<Vec<String>>) {
        let table = self.current();
        let p = table.snapshot().protocol();
        (
            p.min_reader_version,
            p.min_writer_version,
            p.writer_features.clone(),
            p.reader_features.clone(),
        )
    }

    fn files(&self, filter: Option<String>) -> Result<Vec<String>, Error> {
        let table = self.current();
        let files = FileListing::new(&table, filter.map(Filter::Sql)).map_err(to_rb)?;
        Ok(files.paths().collect())
    }

    fn file_uris(&self, filter: Option<String>) -> Result<Vec<String>, Error> {
        let table = self.current();
        let files = FileListing::new(&table, filter.map(Filter::Sql)).map_err(to_rb)?;
        files.locations().collect::<Result<_, _>>().map_err(to_rb)
    }

    fn partitions(&self, filter: Option<String>) -> Result<Vec<HashMap<String, Option<String>>>, Error> {
        let table = self.current();
        let files = FileListing::new(&table, filter.map(Filter::Sql)).map_err(to_rb)?;
        Ok(files
            .partition_values()
            .map(|values| values.into_iter().collect())
            .collect())
    }

    fn history(ruby: &Ruby, rb_self: &Self, limit: Option<usize>) -> Result<RArray, Error> {
        let table = rb_self.current();
        let commits = run(move || async move { table.history(limit).await })?;
        let out = ruby.ary_new_capa(commits.len());
        for (version, info) in commits {
            let mut value = serde_json::to_value(info).map_err(|e| to_rb(e.into()))?;
            if let Some(object) = value.as_object_mut() {
                object.insert("version".into(), version.into());
            }
            out.push(json_to_ruby(ruby, &value)?)?;
        }
        Ok(out)
    }

    fn load_version(&self, version: i64) -> Result<(), Error> {
        let mut table = self.current();
        let table = run(move || async move {
            table.load_version(version).await?;
            Ok(table)
        })?;
        self.replace(table);
        Ok(())
    }

    fn load_timestamp(&self, timestamp_ms: i64) -> Result<(), Error> {
        let at = datetime_from_ms(timestamp_ms)?;
        let mut table = self.current();
        let table = run(move || async move {
            table.load_timestamp(at).await?;
            Ok(table)
        })?;
        self.replace(table);
        Ok(())
    }

    fn update_incremental(&self) -> Result<(), Error> {
        let mut table = self.current();
        let table = run(move || async move {
            table.refresh().await?;
            Ok(table)
        })?;
        self.replace(table);
        Ok(())
    }

    fn transaction_version(&self, app_id: String) -> Option<i64> {
        self.current().snapshot().txn(&app_id).map(|t| t.version)
    }

    // ---- reads

    fn scan(&self, columns: Option<Vec<String>>, predicate: Option<String>) -> Result<ArrowArrayStream, Error> {
        let table = self.current();
        let mut builder = table.scan();
        if let Some(columns) = columns {
            builder = builder.with_columns(columns);
        }
        if let Some(sql) = predicate {
            builder = builder.with_filter(Filter::Sql(sql).into_expr().map_err(to_rb)?);
        }
        let scan = builder.build().map_err(to_rb)?;
        ArrowArrayStream::from_async(scan.schema(), scan.execute())
    }

    #[allow(clippy::too_many_arguments)]
    fn load_cdf(
        &self,
        starting_version: Option<i64>,
        ending_version: Option<i64>,
        starting_timestamp_ms: Option<i64>,
        ending_timestamp_ms: Option<i64>,
        columns: Option<Vec<String>>,
        allow_out_of_range: bool,
        predicate: Option<String>,
    ) -> Result<ArrowArrayStream, Error> {
        let mut feed = self
            .current()
            .load_cdf()
            .with_starting_version(starting_version.unwrap_or(0))
            .with_allow_out_of_range(allow_out_of_range);
        if let Some(version) = ending_version {
            feed = feed.with_ending_version(version);
        }
        if let Some(ms) = starting_timestamp_ms {
            feed = feed.with_starting_timestamp(datetime_from_ms(ms)?);
        }
        if let Some(ms) = ending_timestamp_ms {
            feed = feed.with_ending_timestamp(datetime_from_ms(ms)?);
        }
        if let Some(columns) = columns {
            feed = feed.with_columns(columns);
        }
        if let Some(sql) = predicate {
            feed = feed.with_predicate(sql);
        }
        let (schema, stream) = run(move || feed.execute())?;
        ArrowArrayStream::from_async(schema, stream)
    }

    // ---- operations

    fn delete(
        ruby: &Ruby,
        rb_self: &Self,
        predicate: Option<String>,
        writer: Option<String>,
        commit: Option<String>,
    ) -> Result<Value, Error> {
        let request = DeleteRequest {
            predicate,
            writer: writer_options(writer)?,
            commit: commit_options(commit)?,
        };
        let table = rb_self.current();
        rb_self.operate(ruby, move || async move { request.execute(&table).await })
    }

    fn update(
        ruby: &Ruby,
        rb_self: &Self,
        updates: Vec<(String, String)>,
        predicate: Option<String>,
        writer: Option<String>,
        commit: Option<String>,
    ) -> Result<Value, Error> {
        let request = UpdateRequest {
            updates,
            predicate,
            writer: writer_options(writer)?,
            commit: commit_options(commit)?,
        };
        let table = rb_self.current();
        rb_self.operate(ruby, move || async move { request.execute(&table).await })
    }

    #[allow(clippy::too_many_arguments)]
    fn merge(
        ruby: &Ruby,
        rb_self: &Self,
        source: Value,
        predicate: String,
        source_alias: Option<String>,
        target_alias: Option<String>,
        clauses: Vec<RbMergeClause>,
        merge_schema: bool,
        writer: Option<String>,
        commit: Option<String>,
    ) -> Result<Value, Error> {
        let clauses = clauses
            .into_iter()
            .map(|(kind, predicate, updates, except)| {
                Ok(MergeClause {
                    predicate,
                    assignments: updates.unwrap_or_default(),
                    except: except.unwrap_or_default(),
                    ..MergeClause::new(kind.parse().map_err(to_rb)?)
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let request = MergeRequest {
            predicate,
            source_alias,
            target_alias,
            merge_schema,
            clauses,
            writer: writer_options(writer)?,
            commit: commit_options(commit)?,
        };
        let table = rb_self.current();
        let source = if source.respond_to("arrow_c_stream", false)? {
            let (schema, input, pump) = Pump::start(reader_from_ruby(source)?).map_err(to_rb)?;
            let merged = rb_self.operate(ruby, move || async move {
                request.execute(&table, MergeSource::Stream(schema, input)).await
            });
            crate::runtime::blocking(move |_| pump.finish())?;
            return merged;
        } else {
            let hint = table.snapshot().arrow_schema().clone();
            MergeSource::Batches(vec![batch_from_ruby(ruby, source, Some(&hint))?])
        };
        rb_self.operate(ruby, move || async move { request.execute(&table, source).await })
    }

    #[allow(clippy::too_many_arguments)]
    fn optimize(
        ruby: &Ruby,
        rb_self: &Self,
        z_order_columns: Option<Vec<String>>,
        partition_filter: Option<String>,
        target_size: Option<u64>,
        max_concurrent_tasks: Option<usize>,
        writer: Option<String>,
        commit: Option<String>,
    ) -> Result<Value, Error> {
        let request = OptimizeRequest {
            kind: z_order_columns.map_or(OptimizeType::Compact, OptimizeType::ZOrder),
            partition_filter: partition_filter.map(Filter::Sql),
            target_size,
            max_concurrent_tasks,
            writer: writer_options(writer)?,
            commit: commit_options(commit)?,
        };
        let table = rb_self.current();
        rb_self.operate(ruby, move || async move { request.execute(&table).await })
    }

    fn vacuum(
        &self,
        dry_run: bool,
        retention_hours: Option<u64>,
        enforce_retention_duration: bool,
        full: bool,
        commit: Option<String>,
    ) -> Result<Vec<String>, Error> {
        let request = VacuumRequest {
            retention_hours,
            dry_run,
            enforce_retention_duration,
            full,
            commit: commit_options(commit)?,
        };
        let table = self.current();
        let (table, metrics) = run(move || async move { request.execute(&table).await })?;
        self.replace(table);
        Ok(metrics.files_deleted)
    }

    fn restore(
        ruby: &Ruby,
        rb_self: &Self,
        version: Option<i64>,
        timestamp_ms: Option<i64>,
        ignore_missing_files: bool,
        protocol_downgrade_allowed: bool,
        commit: Option<String>,
    ) -> Result<Value, Error> {
        let target = match (version, timestamp_ms) {
            (Some(version), None) => RestoreTarget::Version(version),
            (None, Some(ms)) => RestoreTarget::Timestamp(datetime_from_ms(ms)?),
            _ => return Err(invalid_argument("give exactly one of a version and a timestamp")),
        };
        let request = RestoreRequest {
            ignore_missing_files,
            protocol_downgrade_allowed,
            commit: commit_options(commit)?,
            ..RestoreRequest::new(target)
        };
        let table = rb_self.current();
        rb_self.operate(ruby, move || async move { request.execute(&table).await })
    }

    fn repair(ruby: &Ruby, rb_self: &Self, dry_run: bool, commit: Option<String>) -> Result<Value, Error> {
        let request = RepairRequest {
            dry_run,
            commit: commit_options(commit)?,
        };
        let table = rb_self.current();
        rb_self.operate(ruby, move || async move { request.execute(&table).await })
    }

    fn add_constraint(&self, name: String, expression: String, commit: Option<String>) -> Result<(), Error> {
        self.alter(TableChange::AddConstraint { name, expression }, commit)
    }

    fn drop_constraint(&self, name: String, if_exists: bool, commit: Option<String>) -> Result<(), Error> {
        self.alter(TableChange::DropConstraint { name, if_exists }, commit)
    }

    fn add_columns(&self, schema_json: String, commit: Option<String>) -> Result<(), Error> {
        let fields = StructType::from_json(&schema_json).map_err(to_rb)?.fields;
        self.alter(TableChange::AddColumns(fields), commit)
    }

    fn set_table_properties(&self, properties: HashMap<String, String>, commit: Option<String>) -> Result<(), Error> {
        self.alter(TableChange::SetProperties(properties), commit)
    }

    fn add_features(&self, features: Vec<String>, commit: Option<String>) -> Result<(), Error> {
        self.alter(TableChange::AddFeatures(features), commit)
    }

    fn set_table_name(&self, name: String, commit: Option<String>) -> Result<(), Error> {
        self.alter(TableChange::SetName(name), commit)
    }

    fn set_table_description(&self, description: String, commit: Option<String>) -> Result<(), Error> {
        self.alter(TableChange::SetDescription(description), commit)
    }

    fn create_checkpoint(&self) -> Result<(), Error> {
        let table = self.current();
        run(move || async move { table.create_checkpoint().await })?;
        Ok(())
    }

    fn cleanup_metadata(&self) -> Result<usize, Error> {
        let table = self.current();
        run(move || async move { table.cleanup_metadata().await })
    }
}

/// Write `data` (an object with `arrow_c_stream`, an Array of Hashes or a Hash of Arrays) into
/// `target` (a `RawDeltaTable`, which moves to the new version, or a URI); returns the version.
#[allow(clippy::too_many_arguments)]
fn write(
    ruby: &Ruby,
    target: Value,
    data: Value,
    mode: String,
    schema_mode: Option<String>,
    partition_by: Option<Vec<String>>,
    predicate: Option<String>,
    writer: Option<String>,
    name: Option<String>,
    description: Option<String>,
    configuration: Option<HashMap<String, String>>,
    storage_options: Option<HashMap<String, String>>,
    commit: Option<String>,
) -> Result<i64, Error> {
    let request = WriteRequest {
        mode: mode.parse().map_err(to_rb)?,
        schema_mode: schema_mode
            .map_or(Ok(Default::default()), |m| m.parse())
            .map_err(to_rb)?,
        partition_by,
        configuration: configuration.unwrap_or_default(),
        name,
        description,
        predicate,
        writer: writer_options(writer)?.unwrap_or_default(),
        commit: commit_options(commit)?,
    };
    let raw = Obj::<RawDeltaTable>::try_convert(target).ok();
    let (write_target, hint) = match &raw {
        Some(raw) => {
            let table = raw.current();
            let hint = table.snapshot().arrow_schema().clone();
            (WriteTarget::Table(table), Some(hint))
        }
        None => (
            WriteTarget::Location {
                uri: String::try_convert(target)?,
                storage_options: storage_options.unwrap_or_default(),
            },
            None,
        ),
    };
    let table = if data.respond_to("arrow_c_stream", false)? {
        let (schema, input, pump) = Pump::start(reader_from_ruby(data)?).map_err(to_rb)?;
        let written = run(move || request.execute(write_target, schema, input));
        // The write has dropped its input, so the pump stops after the batch it is reading.
        crate::runtime::blocking(move |_| pump.finish())?;
        written?
    } else {
        let batch = batch_from_ruby(ruby, data, hint.as_deref())?;
        let input = futures::stream::once(std::future::ready(Ok(batch.clone()))).boxed();
        run(move || request.execute(write_target, batch.schema(), input))?
    };
    let version = table.version();
    if let Some(raw) = raw {
        raw.replace(table);
    }
    Ok(version)
}

/// The core's writer options from the JSON the Ruby side makes of `WriterProperties` (and
/// `target_file_size`).
fn writer_options(json: Option<String>) -> Result<Option<WriterOptions>, Error> {
    json.map(|j| WriterOptions::from_json(&j)).transpose().map_err(to_rb)
}

/// The core's commit options from the JSON the Ruby side makes of `CommitProperties`:
/// `{"custom_metadata": {...}, "max_commit_retries": n, "app_transactions": [[app_id, version]]}`.
fn commit_options(json: Option<String>) -> Result<CommitOptions, Error> {
    let Some(json) = json else {
        return Ok(CommitOptions::default());
    };
    let value: Json = serde_json::from_str(&json).map_err(|e| invalid_argument(format!("commit properties: {e}")))?;
    let mut options = CommitOptions {
        max_commit_retries: value["max_commit_retries"].as_u64().and_then(|n| u32::try_from(n).ok()),
        ..CommitOptions::default()
    };
    if let Some(map) = value["custom_metadata"].as_object() {
        options.custom_metadata = map.clone();
    }
    if let Some(txns) = value["app_transactions"].as_array() {
        for txn in txns {
            match (txn[0].as_str(), txn[1].as_i64()) {
                (Some(app_id), Some(version)) => options.app_transactions.push((app_id.to_string(), version)),
                _ => return Err(invalid_argument("app_transactions must be [app_id, version] pairs")),
            }
        }
    }
    Ok(options)
}

/// The time `ms` milliseconds after the epoch.
fn datetime_from_ms(ms: i64) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| invalid_argument(format!("timestamp {ms} ms is out of range")))
}

/// A JSON value as Ruby values (Hash with String keys, Array, Integer, Float, String, booleans, nil).
pub fn json_to_ruby(ruby: &Ruby, value: &Json) -> Result<Value, Error> {
    Ok(match value {
        Json::Null => ruby.qnil().as_value(),
        Json::Bool(b) => b.into_value_with(ruby),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.into_value_with(ruby),
            (None, Some(u), _) => u.into_value_with(ruby),
            (None, None, f) => f.unwrap_or(f64::NAN).into_value_with(ruby),
        },
        Json::String(s) => s.as_str().into_value_with(ruby),
        Json::Array(items) => {
            let out = ruby.ary_new_capa(items.len());
            for item in items {
                out.push(json_to_ruby(ruby, item)?)?;
            }
            out.as_value()
        }
        Json::Object(map) => {
            let out = ruby.hash_new();
            for (key, item) in map {
                out.aset(key.as_str(), json_to_ruby(ruby, item)?)?;
            }
            out.as_value()
        }
    })
}

/// Define the class's methods and the module's `_write`.
pub fn define(ruby: &Ruby, module: RModule) -> Result<(), Error> {
    use magnus::{function, method};
    let class = module.define_class("RawDeltaTable", ruby.class_object())?;
    class.define_singleton_method("new", function!(RawDeltaTable::new, 3))?;
    class.define_singleton_method("is_deltatable", function!(RawDeltaTable::is_deltatable, 2))?;
    class.define_method("version", method!(RawDeltaTable::version, 0))?;
    class.define_method("table_uri", method!(RawDeltaTable::table_uri, 0))?;
    class.define_method("schema_json", method!(RawDeltaTable::schema_json, 0))?;
    class.define_method("metadata", method!(RawDeltaTable::metadata, 0))?;
    class.define_method("protocol_versions", method!(RawDeltaTable::protocol, 0))?;
    class.define_method("files", method!(RawDeltaTable::files, 1))?;
    class.define_method("file_uris", method!(RawDeltaTable::file_uris, 1))?;
    class.define_method("partitions", method!(RawDeltaTable::partitions, 1))?;
    class.define_method("history", method!(RawDeltaTable::history, 1))?;
    class.define_method("load_version", method!(RawDeltaTable::load_version, 1))?;
    class.define_method("load_timestamp", method!(RawDeltaTable::load_timestamp, 1))?;
    class.define_method("update_incremental", method!(RawDeltaTable::update_incremental, 0))?;
    class.define_method("transaction_version", method!(RawDeltaTable::transaction_version, 1))?;
    class.define_method("scan", method!(RawDeltaTable::scan, 2))?;
    class.define_method("load_cdf", method!(RawDeltaTable::load_cdf, 7))?;
    class.define_method("delete", method!(RawDeltaTable::delete, 3))?;
    class.define_method("update", method!(RawDeltaTable::update, 4))?;
    class.define_method("merge", method!(RawDeltaTable::merge, 8))?;
    class.define_method("optimize", method!(RawDeltaTable::optimize, 6))?;
    class.define_method("vacuum", method!(RawDeltaTable::vacuum, 5))?;
    class.define_method("restore", method!(RawDeltaTable::restore, 5))?;
    class.define_method("repair", method!(RawDeltaTable::repair, 2))?;
    class.define_method("add_constraint", method!(RawDeltaTable::add_constraint, 3))?;
    class.define_method("drop_constraint", method!(RawDeltaTable::drop_constraint, 3))?;
    class.define_method("add_columns", method!(RawDeltaTable::add_columns, 2))?;
    class.define_method("set_table_properties", method!(RawDeltaTable::set_table_properties, 2))?;
    class.define_method("add_features", method!(RawDeltaTable::add_features, 2))?;
    class.define_method("set_table_name", method!(RawDeltaTable::set_table_name, 2))?;
    class.define_method(
        "set_table_description",
        method!(RawDeltaTable::set_table_description, 2),
    )?;
    class.define_method("create_checkpoint", method!(RawDeltaTable::create_checkpoint, 0))?;
    class.define_method("cleanup_metadata", method!(RawDeltaTable::cleanup_metadata, 0))?;
    module.define_module_function("_write", function!(write, 12))?;
    Ok(())
}

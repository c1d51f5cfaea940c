//! Writing Arrow data into a table: append, overwrite, error / ignore if it exists, with
//! partitioning, schema evolution and the checks of the table's rules.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, new_null_array};
use arrow::datatypes::{DataType as ArrowType, Schema as ArrowSchema, SchemaRef, TimeUnit};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use super::assign::strict_cast;
use super::create::CreateBuilder;
use super::delete::delete_rows;
use super::matching::Predicate;
use super::table_after_commit;
use crate::arrow_utils::{FieldMatch, conform_array};
use crate::clustering::ensure_clustering_kept;
use crate::error::{DeltaError, DeltaResult};
use crate::expr::Expr;
use crate::protocol::table_config::{COLUMN_MAPPING_MAX_COLUMN_ID, StatsConfig};
use crate::protocol::{Action, ColumnMappingMode, Metadata, StructField, StructType, TableConfig};
use crate::snapshot::Snapshot;
use crate::storage::{LogStore, commit_file_name, head};
use crate::table::{DeltaTable, DeltaTableBuilder};
use crate::telemetry::{Figures, operation_span, traced};
use crate::transaction::{CommitBuilder, CommitProperties, Operation, ReadScope};
pub use crate::write::{DEFAULT_TARGET_FILE_SIZE, WriterConfig};
use crate::write::{DataWriter, IdentityGenerator, TableLayout, WriteRules};

/// What to do with existing data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaveMode {
    /// Add the new rows.
    #[default]
    Append,
    /// Replace all rows.
    Overwrite,
    /// Fail if the table exists.
    ErrorIfExists,
    /// Do nothing if the table exists.
    Ignore,
}

/// How the schema of the data may change the table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaMode {
    /// The data must fit the table schema (missing nullable columns are filled with nulls).
    #[default]
    Strict,
    /// New columns in the data are added to the table schema.
    Merge,
    /// The data's schema replaces the table's (with [`SaveMode::Overwrite`] only).
    Overwrite,
}

impl std::str::FromStr for SaveMode {
    type Err = DeltaError;

    /// `append`, `overwrite`, `error` (or `errorifexists`) and `ignore`, as the bindings spell them.
    fn from_str(s: &str) -> DeltaResult<Self> {
        match s.to_ascii_lowercase().as_str() {
            "append" => Ok(Self::Append),
            "overwrite" => Ok(Self::Overwrite),
            "error" | "errorifexists" => Ok(Self::ErrorIfExists),
            "ignore" => Ok(Self::Ignore),
            _ => Err(DeltaError::InvalidArgument(format!(
                "mode must be 'error', 'append', 'overwrite' or 'ignore', not '{s}'"
            ))),
        }
    }
}

impl std::fmt::Display for SaveMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Append => "append",
            Self::Overwrite => "overwrite",
            Self::ErrorIfExists => "error",
            Self::Ignore => "ignore",
        })
    }
}

impl std::str::FromStr for SchemaMode {
    type Err = DeltaError;

    /// `strict`, `merge` and `overwrite`.
    fn from_str(s: &str) -> DeltaResult<Self> {
        match s.to_ascii_lowercase().as_str() {
            "strict" => Ok(Self::Strict),
            "merge" => Ok(Self::Merge),
            "overwrite" => Ok(Self::Overwrite),
            _ => Err(DeltaError::InvalidArgument(format!(
                "schema_mode must be 'merge', 'overwrite' or unset, not '{s}'"
            ))),
        }
    }
}

impl std::fmt::Display for SchemaMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Strict => "strict",
            Self::Merge => "merge",
            Self::Overwrite => "overwrite",
        })
    }
}

/// A stream of input batches.
pub type InputStream = BoxStream<'static, DeltaResult<RecordBatch>>;

/// Writes Arrow data into a table, creating it if needed.
///
/// ```no_run
/// # async fn example(batch: arrow::array::RecordBatch) -> deltalake::DeltaResult<()> {
/// use deltalake::operations::write::SaveMode;
/// let table = deltalake::DeltaTable::write("/tmp/events")
///     .with_batches(vec![batch])
///     .with_mode(SaveMode::Append)
///     .with_partition_columns(["day"])
///     .await?;
/// println!("now at version {}", table.version());
/// # Ok(()) }
/// ```
pub struct WriteBuilder {
    table: DeltaTableBuilder,
    /// The snapshot of a table already loaded, brought up to date instead of loading the latest.
    snapshot: Option<Arc<Snapshot>>,
    input: Option<(SchemaRef, InputStream)>,
    mode: SaveMode,
    schema_mode: SchemaMode,
    partition_columns: Option<Vec<String>>,
    config: WriterConfig,
    configuration: HashMap<String, String>,
    name: Option<String>,
    description: Option<String>,
    commit_properties: CommitProperties,
    app_transactions: Vec<(String, i64)>,
    replace_where: Option<Predicate>,
}

impl WriteBuilder {
    /// A write into the table `table` opens (created when absent).
    pub fn new(table: DeltaTableBuilder) -> Self {
        Self {
            table,
            snapshot: None,
            input: None,
            mode: SaveMode::Append,
            schema_mode: SchemaMode::Strict,
            partition_columns: None,
            config: WriterConfig::default(),
            configuration: HashMap::new(),
            name: None,
            description: None,
            commit_properties: CommitProperties::default(),
            app_transactions: Vec::new(),
            replace_where: None,
        }
    }

    /// Storage backend options (credentials, endpoints, ...) of the table location; see
    /// [`crate::storage::StorageOptions`].
    pub fn with_storage_options(mut self, options: HashMap<String, String>) -> Self {
        self.table = self.table.with_storage_options(options);
        self
    }

    /// With [`SaveMode::Overwrite`], replace only the rows matching this SQL predicate (on any
    /// columns): they are deleted (whole files, deletion vectors or copies, as a delete would) and
    /// the data written instead, in one commit. Every row written must match the predicate.
    pub fn with_replace_where(mut self, predicate: impl Into<String>) -> Self {
        self.replace_where = Some(Predicate::Sql(predicate.into()));
        self
    }

    /// [`WriteBuilder::with_replace_where`] with a built expression.
    pub fn with_replace_where_filter(mut self, predicate: Expr) -> Self {
        self.replace_where = Some(Predicate::Expr(predicate));
        self
    }

    /// A write into `table`, starting from its loaded snapshot: only the commits made since it was
    /// loaded are read (none when it is still the latest), instead of replaying the log. The way
    /// for an application that writes again and again to keep up with its table:
    ///
    /// ```no_run
    /// # async fn example(batches: Vec<arrow::array::RecordBatch>) -> deltalake::DeltaResult<()> {
    /// use deltalake::operations::write::WriteBuilder;
    /// let mut table = deltalake::DeltaTable::open("/tmp/events").await?;
    /// for batch in batches {
    ///     table = WriteBuilder::from_table(table).with_batches(vec![batch]).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn from_table(table: DeltaTable) -> Self {
        let location = DeltaTableBuilder::new(table.uri()).with_log_store(table.log_store().clone());
        Self {
            snapshot: Some(table.snapshot().clone()),
            ..Self::new(location)
        }
    }

    /// Write these batches (all of one schema).
    pub fn with_batches(self, batches: Vec<RecordBatch>) -> Self {
        let schema = batches
            .first()
            .map_or_else(|| Arc::new(ArrowSchema::empty()), RecordBatch::schema);
        self.with_stream(schema, futures::stream::iter(batches.into_iter().map(Ok)).boxed())
    }

    /// Write a stream of batches of `schema`; it is consumed as files fill, so memory stays bounded.
    pub fn with_stream(mut self, schema: SchemaRef, stream: InputStream) -> Self {
        self.input = Some((schema, stream));
        self
    }

    /// Append (default), overwrite, error or ignore when the table exists.
    pub fn with_mode(mut self, mode: SaveMode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether the data may change the schema.
    pub fn with_schema_mode(mut self, mode: SchemaMode) -> Self {
        self.schema_mode = mode;
        self
    }

    /// Partition columns (for a new table, or to check against an existing one).
    pub fn with_partition_columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.partition_columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Target file size, Parquet properties and statistics columns.
    pub fn with_writer_config(mut self, config: WriterConfig) -> Self {
        self.config = config;
        self
    }

    /// Table properties for a new table.
    pub fn with_configuration(mut self, configuration: HashMap<String, String>) -> Self {
        self.configuration = configuration;
        self
    }

    /// Name of a new table.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Description of a new table.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Commit settings (retries, user metadata).
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// Make the write idempotent: it fails with [`DeltaError::TransactionAlreadyCommitted`] if the
    /// table already recorded `version` (or a newer one) for `app_id`, and with a conflict if a
    /// concurrent commit records one. Call it once per application: one commit can carry many.
    pub fn with_app_transaction(mut self, app_id: impl Into<String>, version: i64) -> Self {
        self.app_transactions.push((app_id.into(), version));
        self
    }

    /// Write and commit; returns the table at the new version.
    pub async fn execute(self) -> DeltaResult<DeltaTable> {
        let span = operation_span!("write", self.table.redacted_location());
        traced(span, self.run(), |table| Figures {
            version: Some(table.version()),
            ..Figures::default()
        })
        .await
    }

    /// An application transaction is relative to the version its writer read: a commit of the
    /// same application since then (another writer of it, a zombie) is a conflict, whatever its
    /// version, even though the write itself goes on top of the latest version.
    fn check_concurrent_app_transactions(&self, read: &Snapshot, current: &Snapshot) -> DeltaResult<()> {
        for (app_id, _) in &self.app_transactions {
            let version_of = |s: &Snapshot| s.txn(app_id).map(|t| t.version);
            if version_of(read) != version_of(current) {
                return Err(DeltaError::CommitConflict {
                    version: current.version(),
                    reason: format!(
                        "application '{app_id}' committed a transaction after version {}",
                        read.version()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The write itself, inside the span of [`Self::execute`].
    async fn run(mut self) -> DeltaResult<DeltaTable> {
        let store = self.table.build_log_store()?;
        let (input_schema, input) = self
            .input
            .take()
            .ok_or_else(|| DeltaError::InvalidArgument("nothing to write: no input data".into()))?;
        let existing = match self.snapshot.take() {
            Some(read) => {
                let current = latest(store.as_ref(), read.clone()).await?;
                self.check_concurrent_app_transactions(&read, &current)?;
                Some(current)
            }
            None => match Snapshot::load(store.as_ref(), None).await {
                Ok(s) => Some(Arc::new(s)),
                Err(DeltaError::NotATable { .. }) => None,
                Err(e) => return Err(e),
            },
        };
        if let Some(snapshot) = &existing {
            snapshot.protocol().ensure_writable(store.root_url().as_str())?;
            match self.mode {
                SaveMode::ErrorIfExists => {
                    return Err(DeltaError::TableExists {
                        uri: store.root_url().to_string(),
                    });
                }
                SaveMode::Ignore => return Ok(DeltaTable::from_parts(store, snapshot.clone())),
                _ => {}
            }
        }

        // The schema and layout the data is written with, and the metadata actions that set them.
        let mut actions = Vec::new();
        let (schema, partition_columns, column_mapping) = match &existing {
            None => {
                let schema = StructType::try_from_arrow(&input_schema)?;
                let mut create = CreateBuilder::new(self.table.clone())
                    .with_schema(schema)
                    .with_partition_columns(self.partition_columns.clone().unwrap_or_default())
                    .with_properties(self.configuration.clone());
                if let Some(name) = &self.name {
                    create = create.with_name(name.clone());
                }
                if let Some(description) = &self.description {
                    create = create.with_description(description.clone());
                }
                let table = create.actions()?;
                let schema = table.metadata.schema()?;
                let mapping =
                    TableConfig::new(&table.metadata.configuration).column_mapping_mode()? != ColumnMappingMode::None;
                let partitions = table.metadata.partition_columns.clone();
                actions.extend(table.into_actions());
                (schema, partitions, mapping)
            }
            Some(snapshot) => {
                let (schema, metadata) = self.evolve_schema(snapshot, &input_schema)?;
                let partitions = match (&self.partition_columns, metadata.is_some()) {
                    (Some(p), _)
                        if p.as_slice() != snapshot.partition_columns()
                            && self.schema_mode != SchemaMode::Overwrite =>
                    {
                        return Err(DeltaError::InvalidArgument(format!(
                            "the table is partitioned by {:?}, not {:?}",
                            snapshot.partition_columns(),
                            p
                        )));
                    }
                    (Some(p), true) => p.clone(),
                    _ => snapshot.partition_columns().to_vec(),
                };
                if let Some(clustering) = snapshot.clustering_paths()? {
                    ensure_clustering_kept(&clustering, &schema, &partitions)?;
                }
                if let Some(mut metadata) = metadata {
                    metadata.partition_columns = partitions.clone();
                    actions.push(Action::Metadata(metadata));
                }
                (
                    schema,
                    partitions,
                    snapshot.column_mapping_mode() != ColumnMappingMode::None,
                )
            }
        };

        let table_arrow = Arc::new(schema.to_arrow()?);
        let new_metadata = actions.iter().find_map(|a| match a {
            Action::Metadata(m) => Some(&m.configuration),
            _ => None,
        });
        let properties = new_metadata.or(existing.as_ref().map(|s| s.properties()));
        let stats = properties.map_or_else(|| Ok(StatsConfig::default()), |p| TableConfig::new(p).stats_config())?;
        let layout = TableLayout {
            schema: schema.clone(),
            partition_columns: partition_columns.clone(),
            column_mapping,
            stats,
        };
        let mut writer = DataWriter::new(store.clone(), layout, self.config.clone())?;
        let mut identity = IdentityGenerator::new(&schema)?;
        let rules = WriteRules::new(&schema, properties.unwrap_or(&HashMap::new()))?;
        let replace_where = match &self.replace_where {
            None => None,
            Some(_) if self.mode != SaveMode::Overwrite => {
                return Err(DeltaError::InvalidArgument(
                    "replace-where needs save mode 'overwrite'".into(),
                ));
            }
            Some(p) => Some(p.to_expr()?.bind_predicate(&schema)?),
        };
        let mut input = input;
        let mut rows = 0usize;
        let written: DeltaResult<()> = async {
            while let Some(batch) = input.try_next().await? {
                let batch = conform_input(&identity.fill(&batch)?, &table_arrow, &schema, &rules)?;
                if let Some(predicate) = &replace_where {
                    let matched = predicate.evaluate_predicate(&batch)?;
                    // NULL does not match: only rows where the predicate is TRUE may be written.
                    let outside = batch.num_rows() - matched.true_count();
                    if outside > 0 {
                        return Err(DeltaError::InvalidArgument(format!(
                            "{outside} row(s) of the data do not match the replace-where predicate {}",
                            predicate.expr()
                        )));
                    }
                }
                rows += batch.num_rows();
                writer.write(&batch).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = written {
            writer.abort().await;
            return Err(e);
        }
        let adds = writer.finish().await?;
        if let Some(schema) = identity.updated_schema(&schema) {
            // The new high-water marks: a metadata change, so concurrent identity writers conflict.
            let current = actions.iter().rev().find_map(|a| match a {
                Action::Metadata(m) => Some(m.clone()),
                _ => None,
            });
            let base = current.or_else(|| existing.as_ref().map(|s| s.metadata().clone()));
            if let Some(base) = base {
                actions.retain(|a| !matches!(a, Action::Metadata(_)));
                actions.push(Action::Metadata(Metadata {
                    schema_string: schema.to_json(),
                    ..base
                }));
            }
        }

        let bytes = adds.iter().map(|a| a.size).sum::<i64>();
        tracing::Span::current()
            .record("files", adds.len())
            .record("rows", rows)
            .record("bytes", bytes);
        let mut metrics = Map::new();
        metrics.insert("numFiles".into(), Value::from(adds.len()));
        metrics.insert("numOutputRows".into(), Value::from(rows));
        metrics.insert(
            "numOutputBytes".into(),
            Value::from(adds.iter().map(|a| a.size).sum::<i64>()),
        );
        let mut scope = ReadScope::Nothing;
        let mut parameters = Map::new();
        if let (Some(predicate), Some(snapshot)) = (&replace_where, &existing) {
            let deleted = delete_rows(
                snapshot,
                store.clone(),
                Some(predicate.expr().clone()),
                self.config.clone(),
            )
            .await?;
            if deleted.actions.iter().any(|a| matches!(a, Action::Cdc(_))) {
                return Err(DeltaError::InvalidArgument(
                    "replace-where that rewrites part of a file is not supported yet on tables with the \
                     change data feed; use a predicate on partition columns"
                        .into(),
                ));
            }
            metrics.insert("numRemovedFiles".into(), Value::from(deleted.metrics.num_removed_files));
            metrics.insert("numDeletedRows".into(), Value::from(deleted.metrics.num_deleted_rows));
            metrics.insert("numCopiedRows".into(), Value::from(deleted.metrics.num_copied_rows));
            parameters.insert("predicate".into(), Value::from(predicate.expr().to_string()));
            actions.extend(deleted.actions);
            scope = deleted.read_scope;
        } else if let (SaveMode::Overwrite, Some(snapshot)) = (self.mode, &existing) {
            let now = chrono::Utc::now().timestamp_millis();
            let removes: Vec<Action> = snapshot
                .files()
                .iter()
                .map(|f| Action::Remove(f.to_remove(now, true)))
                .collect();
            metrics.insert("numRemovedFiles".into(), Value::from(removes.len()));
            actions.extend(removes);
            scope = ReadScope::Table;
        }
        actions.extend(adds.into_iter().map(Action::Add));

        let mode = match self.mode {
            SaveMode::Append => "Append",
            SaveMode::Overwrite => "Overwrite",
            SaveMode::ErrorIfExists => "ErrorIfExists",
            SaveMode::Ignore => "Ignore",
        };
        parameters.insert("mode".into(), Value::from(mode));
        parameters.insert(
            "partitionBy".into(),
            Value::from(serde_json::to_string(&partition_columns)?),
        );
        let mut commit = CommitBuilder::new(Operation::new("WRITE", parameters))
            .with_actions(actions)
            .with_read_scope(scope)
            .with_metrics(metrics)
            .with_properties(self.commit_properties.clone());
        for (app_id, version) in &self.app_transactions {
            commit = commit.with_app_transaction(app_id.clone(), *version);
        }
        let result = commit.commit(store.as_ref(), existing.as_deref()).await?;
        table_after_commit(store, existing, result.version).await
    }

    /// The schema the data is written with, and the metadata action if the table's changes.
    fn evolve_schema(&self, snapshot: &Snapshot, input: &ArrowSchema) -> DeltaResult<(StructType, Option<Metadata>)> {
        let table = snapshot.schema();
        let incoming = StructType::try_from_arrow(input)?;
        match self.schema_mode {
            SchemaMode::Overwrite => {
                if self.mode != SaveMode::Overwrite {
                    return Err(DeltaError::InvalidArgument(
                        "schema mode 'overwrite' needs save mode 'overwrite'".into(),
                    ));
                }
                let schema = if snapshot.column_mapping_mode() == ColumnMappingMode::None {
                    incoming
                } else {
                    incoming
                        .with_column_mapping(snapshot.table_config().column_mapping_max_id())
                        .0
                };
                let metadata = Metadata {
                    schema_string: schema.to_json(),
                    ..snapshot.metadata().clone()
                };
                Ok((schema, Some(metadata)))
            }
            SchemaMode::Strict | SchemaMode::Merge => {
                let extra: Vec<&StructField> = incoming
                    .fields
                    .iter()
                    .filter(|f| table.field(&f.name).is_none())
                    .collect();
                if extra.is_empty() {
                    return Ok((table.clone(), None));
                }
                if self.schema_mode == SchemaMode::Strict {
                    let names: Vec<&str> = extra.iter().map(|f| f.name.as_str()).collect();
                    return Err(DeltaError::Schema(format!(
                        "column(s) {} are not in the table schema; write with schema mode 'merge' to add them",
                        names.join(", ")
                    )));
                }
                let (schema, metadata) = with_new_columns(snapshot, extra);
                Ok((schema, Some(metadata)))
            }
        }
    }
}

/// `snapshot`'s schema with the `extra` columns appended (nullable, given column mapping ids
/// when the table maps columns), and the metadata action that sets it.
pub(crate) fn with_new_columns<'a>(
    snapshot: &Snapshot,
    extra: impl IntoIterator<Item = &'a StructField>,
) -> (StructType, Metadata) {
    let mut fields = snapshot.schema().fields.clone();
    fields.extend(extra.into_iter().map(|f| StructField {
        nullable: true,
        ..f.clone()
    }));
    let mut schema = StructType::new(fields);
    let mut metadata = snapshot.metadata().clone();
    if snapshot.column_mapping_mode() != ColumnMappingMode::None {
        let (mapped, new_max) = schema.with_column_mapping(snapshot.table_config().column_mapping_max_id());
        schema = mapped;
        metadata
            .configuration
            .insert(COLUMN_MAPPING_MAX_COLUMN_ID.into(), new_max.to_string());
    }
    metadata.schema_string = schema.to_json();
    (schema, metadata)
}

impl std::future::IntoFuture for WriteBuilder {
    type Output = DeltaResult<DeltaTable>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// `snapshot` brought up to the latest version: when the next commit does not exist (one probe, the
/// usual case for a table with one writer) it already is; otherwise the new commits are replayed on
/// top of it.
async fn latest(store: &dyn LogStore, snapshot: Arc<Snapshot>) -> DeltaResult<Arc<Snapshot>> {
    let next = store.log_path().join(commit_file_name(snapshot.version() + 1).as_str());
    match head(store.object_store().as_ref(), &next).await {
        Err(object_store::Error::NotFound { .. }) => Ok(snapshot),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(snapshot.advance(store, None).await?.map_or(snapshot, Arc::new)),
    }
}

/// Reshape an input batch into the table's Arrow schema: columns matched by name, missing nullable
/// columns filled with nulls, types converted where no value can be lost, NOT NULL checked.
/// Generated columns the data lacks are computed, and those it has checked, by `rules`, as are
/// invariants and CHECK constraints.
fn conform_input(
    batch: &RecordBatch,
    table: &SchemaRef,
    schema: &StructType,
    rules: &WriteRules,
) -> DeltaResult<RecordBatch> {
    let input = batch.schema();
    let columns = table
        .fields()
        .iter()
        .zip(&schema.fields)
        .map(|(target, field)| -> DeltaResult<ArrayRef> {
            let Some(i) = FieldMatch::Name.position(target, input.fields()) else {
                if !field.nullable && !rules.is_generated(&field.name) {
                    return Err(DeltaError::Schema(format!(
                        "column '{}' is NOT NULL but missing from the data",
                        field.name
                    )));
                }
                return Ok(new_null_array(target.data_type(), batch.num_rows()));
            };
            let source = input.field(i);
            let array = if unsigned_of_same_width(source.data_type(), target.data_type()) {
                // Kept only when every value fits (the Delta type of an unsigned column).
                strict_cast(batch.column(i), target.data_type()).map_err(|e| {
                    DeltaError::Schema(format!(
                        "column '{}' has values of type {} that do not fit its type {}: {e}",
                        field.name,
                        source.data_type(),
                        target.data_type()
                    ))
                })?
            } else if !safe_cast(source.data_type(), target.data_type()) {
                return Err(DeltaError::Schema(format!(
                    "column '{}' has type {} in the data but {} in the table, and converting could lose values",
                    field.name,
                    source.data_type(),
                    target.data_type()
                )));
            } else {
                conform_array(batch.column(i), target, FieldMatch::Name, "input data")?
            };
            if !field.nullable && array.null_count() > 0 {
                return Err(DeltaError::Schema(format!(
                    "column '{}' is NOT NULL but {} row(s) of the data are null",
                    field.name,
                    array.null_count()
                )));
            }
            Ok(array)
        })
        .collect::<DeltaResult<Vec<_>>>()?;
    let supplied = |column: &str| input.fields().iter().any(|f| f.name().eq_ignore_ascii_case(column));
    let fits = |e| DeltaError::Schema(format!("data does not fit the table: {e}"));
    if rules.is_empty() {
        return RecordBatch::try_new(table.clone(), columns).map_err(fits);
    }
    // Generated columns are still null here: hold them as nullable until computed.
    let pending = ArrowSchema::new(
        table
            .fields()
            .iter()
            .map(|f| match rules.is_generated(f.name()) && !supplied(f.name()) {
                true => Arc::new(f.as_ref().clone().with_nullable(true)),
                false => f.clone(),
            })
            .collect::<Vec<_>>(),
    );
    let batch = RecordBatch::try_new(Arc::new(pending), columns).map_err(fits)?;
    let batch = rules.apply(batch, &supplied)?;
    RecordBatch::try_new(table.clone(), batch.columns().to_vec()).map_err(fits)
}

/// Whether `from` is the unsigned integer type of `to`'s width.
fn unsigned_of_same_width(from: &ArrowType, to: &ArrowType) -> bool {
    use ArrowType as A;
    matches!(
        (from, to),
        (A::UInt8, A::Int8) | (A::UInt16, A::Int16) | (A::UInt32, A::Int32) | (A::UInt64, A::Int64)
    )
}

/// Whether values of `from` convert to `to` without loss (nanosecond timestamps are truncated to
/// microseconds, the precision of Delta timestamps).
fn safe_cast(from: &ArrowType, to: &ArrowType) -> bool {
    use ArrowType as A;
    if from == to {
        return true;
    }
    match (from, to) {
        (A::Dictionary(_, value), _) => safe_cast(value, to),
        (A::Int8, A::Int16 | A::Int32 | A::Int64 | A::Float32 | A::Float64)
        | (A::Int16, A::Int32 | A::Int64 | A::Float32 | A::Float64)
        | (A::Int32, A::Int64 | A::Float64)
        | (A::UInt8, A::Int16 | A::Int32 | A::Int64)
        | (A::UInt16, A::Int32 | A::Int64)
        | (A::UInt32, A::Int64)
        | (A::Float16 | A::Float32, A::Float64)
        | (A::LargeUtf8 | A::Utf8View, A::Utf8)
        | (A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_), A::Binary)
        | (A::Date64, A::Date32)
        | (A::Null, _) => true,
        (A::Timestamp(_, _), A::Timestamp(TimeUnit::Microsecond, _)) => true,
        (A::Decimal128(p1, s1), A::Decimal128(p2, s2)) => {
            s2 >= s1 && (*p2 as i16 - *s2 as i16) >= (*p1 as i16 - *s1 as i16)
        }
        (A::Struct(a), A::Struct(b)) => {
            b.iter()
                .all(|t| match a.iter().find(|f| f.name().eq_ignore_ascii_case(t.name())) {
                    Some(f) => safe_cast(f.data_type(), t.data_type()),
                    None => t.is_nullable(),
                })
        }
        (A::List(a) | A::LargeList(a), A::List(b)) => safe_cast(a.data_type(), b.data_type()),
        (A::Map(a, _), A::Map(b, _)) => safe_cast(a.data_type(), b.data_type()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, t: ArrowType) -> arrow::datatypes::Field {
        arrow::datatypes::Field::new(name, t, true)
    }

    #[test]
    fn safe_casts_widen_and_never_narrow() {
        assert!(safe_cast(&ArrowType::Int32, &ArrowType::Int64));
        assert!(!safe_cast(&ArrowType::Int64, &ArrowType::Int32));
        assert!(!safe_cast(&ArrowType::Float64, &ArrowType::Float32));
        assert!(safe_cast(
            &ArrowType::Timestamp(TimeUnit::Nanosecond, None),
            &ArrowType::Timestamp(TimeUnit::Microsecond, None)
        ));
        assert!(safe_cast(&ArrowType::Decimal128(5, 2), &ArrowType::Decimal128(10, 3)));
        assert!(!safe_cast(&ArrowType::Decimal128(10, 2), &ArrowType::Decimal128(10, 3)));
        assert!(!safe_cast(&ArrowType::Utf8, &ArrowType::Int64));
        let a = ArrowType::Struct(vec![field("x", ArrowType::Int32)].into());
        let b = ArrowType::Struct(vec![field("x", ArrowType::Int64), field("y", ArrowType::Utf8)].into());
        assert!(safe_cast(&a, &b));
        assert!(!safe_cast(&b, &a));
    }
}

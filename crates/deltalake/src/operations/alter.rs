//! Altering a table's definition: CHECK constraints, properties, columns, features, clustering
//! columns, name and description. Each change is one commit; the protocol is upgraded when the change needs it.

use std::collections::HashMap;

use futures::TryStreamExt;
use serde_json::{Map, Value};
use tracing::info;

use super::table_after_commit;
use crate::clustering::{CLUSTERING_DOMAIN, clustering_domain, with_clustering_features};
use crate::error::{DeltaError, DeltaResult};
use crate::expr::Expr;
use crate::protocol::table_config::{
    COLUMN_MAPPING_MAX_COLUMN_ID, COLUMN_MAPPING_PREFIX, CONSTRAINTS_PREFIX as CONSTRAINT_PREFIX,
};
use crate::protocol::{Action, ColumnMappingMode, Metadata, Protocol, StructField, StructType, TableConfig};
use crate::table::DeltaTable;
use crate::transaction::{CommitBuilder, CommitProperties, Operation, ReadScope};
use crate::write::WriteRules;

/// One change to a table's definition.
#[derive(Debug, Clone, PartialEq)]
pub enum TableChange {
    /// Add a CHECK constraint; every existing row must satisfy it.
    AddConstraint {
        /// The constraint name (case-insensitive, unique).
        name: String,
        /// The SQL predicate.
        expression: String,
    },
    /// Drop a CHECK constraint.
    DropConstraint {
        /// The constraint name.
        name: String,
        /// Succeed without a commit when there is no such constraint.
        if_exists: bool,
    },
    /// Set table properties (`delta.*` values are checked; features they enable are added).
    SetProperties(HashMap<String, String>),
    /// Append nullable columns to the schema.
    AddColumns(Vec<StructField>),
    /// Add table features to the protocol by name.
    AddFeatures(Vec<String>),
    /// Set the clustering columns (`ALTER TABLE ... CLUSTER BY`), making an unpartitioned table
    /// clustered if it is not; no columns is `CLUSTER BY NONE`. Existing files are not rewritten:
    /// the next OPTIMIZE clusters the files it rewrites by the new columns.
    ClusterBy(Vec<String>),
    /// Set the table name.
    SetName(String),
    /// Set the table description.
    SetDescription(String),
    /// Add or replace metadata entries of a top-level column (`comment`, or an application's
    /// keys). The `delta.columnMapping.*` keys belong to the table and cannot be set.
    SetColumnMetadata {
        /// The column's name.
        column: String,
        /// The entries to add or replace.
        metadata: HashMap<String, String>,
    },
    /// Make a non-nullable top-level column nullable (`ALTER COLUMN ... DROP NOT NULL`).
    DropNotNull {
        /// The column's name.
        column: String,
    },
}

/// Applies one [`TableChange`].
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
/// use deltalake::protocol::table_config::APPEND_ONLY;
/// let table = table.alter().add_constraint("positive_id", "id > 0").await?;
/// let table = table
///     .alter()
///     .set_properties([(APPEND_ONLY.to_string(), "true".to_string())].into())
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AlterTableBuilder {
    table: DeltaTable,
    change: Option<TableChange>,
    commit_properties: CommitProperties,
}

impl AlterTableBuilder {
    /// An alteration of `table` at its loaded version.
    pub fn new(table: DeltaTable) -> Self {
        Self {
            table,
            change: None,
            commit_properties: CommitProperties::default(),
        }
    }

    /// Make this change.
    pub fn with_change(mut self, change: TableChange) -> Self {
        self.change = Some(change);
        self
    }

    /// Add a CHECK constraint (see [`TableChange::AddConstraint`]).
    pub fn add_constraint(self, name: impl Into<String>, expression: impl Into<String>) -> Self {
        self.with_change(TableChange::AddConstraint {
            name: name.into(),
            expression: expression.into(),
        })
    }

    /// Drop a CHECK constraint (see [`TableChange::DropConstraint`]).
    pub fn drop_constraint(self, name: impl Into<String>, if_exists: bool) -> Self {
        self.with_change(TableChange::DropConstraint {
            name: name.into(),
            if_exists,
        })
    }

    /// Set table properties.
    pub fn set_properties(self, properties: HashMap<String, String>) -> Self {
        self.with_change(TableChange::SetProperties(properties))
    }

    /// Append nullable columns.
    pub fn add_columns(self, columns: Vec<StructField>) -> Self {
        self.with_change(TableChange::AddColumns(columns))
    }

    /// Add table features by name.
    pub fn add_features<S: Into<String>>(self, features: impl IntoIterator<Item = S>) -> Self {
        self.with_change(TableChange::AddFeatures(features.into_iter().map(Into::into).collect()))
    }

    /// Set the clustering columns; none to stop clustering (see [`TableChange::ClusterBy`]).
    ///
    /// ```no_run
    /// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
    /// let table = table.alter().cluster_by(["country", "day"]).await?;
    /// let table = table.alter().cluster_by(Vec::<String>::new()).await?;
    /// assert_eq!(table.snapshot().clustering_columns()?, Some(vec![]));
    /// # Ok(()) }
    /// ```
    pub fn cluster_by<S: Into<String>>(self, columns: impl IntoIterator<Item = S>) -> Self {
        self.with_change(TableChange::ClusterBy(columns.into_iter().map(Into::into).collect()))
    }

    /// Set the table name.
    pub fn set_name(self, name: impl Into<String>) -> Self {
        self.with_change(TableChange::SetName(name.into()))
    }

    /// Set the table description.
    pub fn set_description(self, description: impl Into<String>) -> Self {
        self.with_change(TableChange::SetDescription(description.into()))
    }

    /// Add or replace metadata entries of a column (see [`TableChange::SetColumnMetadata`]).
    ///
    /// ```no_run
    /// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
    /// let comment = [("comment".to_string(), "the customer's id".to_string())].into();
    /// let table = table.alter().set_column_metadata("id", comment).await?;
    /// # Ok(()) }
    /// ```
    pub fn set_column_metadata(self, column: impl Into<String>, metadata: HashMap<String, String>) -> Self {
        self.with_change(TableChange::SetColumnMetadata {
            column: column.into(),
            metadata,
        })
    }

    /// Make a non-nullable column nullable (see [`TableChange::DropNotNull`]).
    pub fn drop_not_null(self, column: impl Into<String>) -> Self {
        self.with_change(TableChange::DropNotNull { column: column.into() })
    }

    /// Retries, user metadata and extra commit information.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// Commit the change; returns the table at the new version (or unchanged when there was nothing to do).
    pub async fn execute(self) -> DeltaResult<DeltaTable> {
        let change = self
            .change
            .clone()
            .ok_or_else(|| DeltaError::InvalidArgument("alter needs a change to make".into()))?;
        let store = self.table.log_store().clone();
        let snapshot = self.table.snapshot().clone();
        snapshot.protocol().ensure_writable(store.root_url().as_str())?;
        let mut metadata = snapshot.metadata().clone();
        let mut schema = snapshot.schema().clone();
        let mut protocol = snapshot.protocol().clone();
        let mut parameters = Map::new();
        let mut domains = Vec::new();
        let operation = match &change {
            TableChange::AddConstraint { name, expression } => {
                let key = constraint_key(&metadata.configuration, name);
                if let Some(existing) = key.as_ref().and_then(|k| metadata.configuration.get(k)) {
                    return Err(DeltaError::InvalidArgument(format!(
                        "constraint '{name}' already exists: {existing}"
                    )));
                }
                self.validate_existing_rows(&schema, name, expression).await?;
                metadata.configuration.insert(
                    format!("{CONSTRAINT_PREFIX}{}", name.to_lowercase()),
                    expression.clone(),
                );
                parameters.insert("name".into(), Value::from(name.clone()));
                parameters.insert("expr".into(), Value::from(expression.clone()));
                "ADD CONSTRAINT"
            }
            TableChange::DropConstraint { name, if_exists } => {
                let Some(key) = constraint_key(&metadata.configuration, name) else {
                    if *if_exists {
                        return Ok(self.table);
                    }
                    return Err(DeltaError::InvalidArgument(format!(
                        "constraint '{name}' does not exist"
                    )));
                };
                let expression = metadata.configuration.remove(&key).unwrap_or_default();
                parameters.insert("name".into(), Value::from(name.clone()));
                parameters.insert("expr".into(), Value::from(expression));
                "DROP CONSTRAINT"
            }
            TableChange::SetProperties(properties) => {
                for (key, value) in properties {
                    check_property(&metadata.configuration, key, value)?;
                    metadata.configuration.insert(key.clone(), value.clone());
                }
                TableConfig::new(&metadata.configuration).validate()?;
                if let Some(columns) = snapshot.clustering_columns()? {
                    // The clustering columns must keep their statistics.
                    clustering_domain(&schema, &metadata.partition_columns, &metadata.configuration, &columns)?;
                }
                parameters.insert("properties".into(), Value::from(serde_json::to_string(properties)?));
                "SET TBLPROPERTIES"
            }
            TableChange::AddColumns(columns) => {
                schema = add_columns(&schema, columns, &mut metadata)?;
                metadata.schema_string = schema.to_json();
                let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                parameters.insert("columns".into(), Value::from(serde_json::to_string(&names)?));
                "ADD COLUMNS"
            }
            TableChange::AddFeatures(features) => {
                protocol = protocol.with_features(features)?;
                parameters.insert("features".into(), Value::from(serde_json::to_string(features)?));
                "ADD FEATURE"
            }
            TableChange::ClusterBy(columns) => {
                let domain = clustering_domain(&schema, &metadata.partition_columns, &metadata.configuration, columns)?;
                protocol = with_clustering_features(&protocol)?;
                if snapshot.domain_metadata().get(CLUSTERING_DOMAIN) != Some(&domain) {
                    domains.push(domain);
                }
                let old = snapshot.clustering_columns()?.unwrap_or_default();
                parameters.insert("oldClusteringColumns".into(), Value::from(old.join(",")));
                parameters.insert("newClusteringColumns".into(), Value::from(columns.join(",")));
                "CLUSTER BY"
            }
            TableChange::SetName(name) => {
                metadata.name = Some(name.clone());
                parameters.insert("name".into(), Value::from(name.clone()));
                "UPDATE TABLE METADATA"
            }
            TableChange::SetDescription(description) => {
                metadata.description = Some(description.clone());
                parameters.insert("description".into(), Value::from(description.clone()));
                "UPDATE TABLE METADATA"
            }
            TableChange::SetColumnMetadata {
                column,
                metadata: entries,
            } => {
                if let Some(key) = entries.keys().find(|k| k.starts_with(COLUMN_MAPPING_PREFIX)) {
                    return Err(DeltaError::InvalidArgument(format!(
                        "{key}: column mapping metadata belongs to the table and cannot be set"
                    )));
                }
                let field = column_mut(&mut schema, column)?;
                for (key, value) in entries {
                    field.metadata.insert(key.clone(), Value::from(value.clone()));
                }
                metadata.schema_string = schema.to_json();
                parameters.insert("fields".into(), Value::from(serde_json::to_string(&schema.fields)?));
                "UPDATE FIELD METADATA"
            }
            TableChange::DropNotNull { column } => {
                let field = column_mut(&mut schema, column)?;
                if field.nullable {
                    return Err(DeltaError::InvalidArgument(format!(
                        "column '{}' is already nullable",
                        field.name
                    )));
                }
                field.nullable = true;
                let changed = serde_json::to_string(&*field)?;
                metadata.schema_string = schema.to_json();
                parameters.insert("column".into(), Value::from(changed));
                "CHANGE COLUMN"
            }
        };
        let required = Protocol::required_for(&schema, &metadata.configuration)?;
        if !protocol.covers(&required) {
            protocol = protocol.merge(&required);
        }
        let mut actions = Vec::new();
        if &protocol != snapshot.protocol() {
            actions.push(Action::Protocol(protocol));
        }
        if &metadata != snapshot.metadata() {
            actions.push(Action::Metadata(metadata));
        }
        actions.extend(domains.into_iter().map(Action::DomainMetadata));
        if actions.is_empty() {
            return Ok(self.table);
        }
        let result = CommitBuilder::new(Operation::new(operation, parameters))
            .with_actions(actions)
            .with_read_scope(ReadScope::Nothing)
            .with_properties(self.commit_properties)
            .commit(store.as_ref(), Some(&snapshot))
            .await?;
        info!(table = %store.root_url(), operation, version = result.version, "altered");
        table_after_commit(store, Some(snapshot), result.version).await
    }

    /// Every row of the table must satisfy a new constraint.
    async fn validate_existing_rows(&self, schema: &StructType, name: &str, expression: &str) -> DeltaResult<()> {
        let bound = Expr::parse(expression)
            .and_then(|e| e.bind_predicate(schema))
            .map_err(|e| DeltaError::InvalidExpression(format!("constraint '{name}': {e}")))?;
        let columns: Vec<String> = bound.top_level_columns().into_iter().map(str::to_string).collect();
        let projected = StructType::new(
            columns
                .iter()
                .filter_map(|c| schema.field(c).cloned())
                .collect::<Vec<_>>(),
        );
        let config = HashMap::from([(format!("{CONSTRAINT_PREFIX}{name}"), expression.to_string())]);
        let rules = WriteRules::new(&projected, &config)?;
        let mut rows = self.table.scan().with_columns(&columns).build()?.execute();
        while let Some(batch) = rows.try_next().await? {
            rules.apply(batch, &|_| true)?;
        }
        Ok(())
    }
}

impl std::future::IntoFuture for AlterTableBuilder {
    type Output = DeltaResult<DeltaTable>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// The top-level column `name` (its exact name, else the one equal ignoring case).
fn column_mut<'a>(schema: &'a mut StructType, name: &str) -> DeltaResult<&'a mut StructField> {
    let index = schema
        .fields
        .iter()
        .position(|f| f.name == name)
        .or_else(|| schema.fields.iter().position(|f| f.name.eq_ignore_ascii_case(name)))
        .ok_or_else(|| DeltaError::InvalidArgument(format!("no column '{name}' in the table's schema")))?;
    Ok(&mut schema.fields[index])
}

/// The configuration key of the constraint named `name` (names are case-insensitive).
fn constraint_key(configuration: &HashMap<String, String>, name: &str) -> Option<String> {
    configuration
        .keys()
        .find(|k| {
            k.strip_prefix(CONSTRAINT_PREFIX)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .cloned()
}

/// Properties that cannot simply be set.
fn check_property(current: &HashMap<String, String>, key: &str, value: &str) -> DeltaResult<()> {
    if key.starts_with(CONSTRAINT_PREFIX) {
        return Err(DeltaError::InvalidArgument(format!(
            "{key}: add CHECK constraints with add_constraint, which checks the existing rows"
        )));
    }
    let unchanged = current.get(key).is_some_and(|v| v == value);
    if !unchanged && key.starts_with(COLUMN_MAPPING_PREFIX) {
        return Err(DeltaError::InvalidArgument(format!(
            "{key} cannot be changed on an existing table yet"
        )));
    }
    Ok(())
}

/// The schema with `columns` appended (nullable, new names; with column mapping, ids and physical names).
fn add_columns(schema: &StructType, columns: &[StructField], metadata: &mut Metadata) -> DeltaResult<StructType> {
    let mut fields = schema.fields.clone();
    for column in columns {
        if fields.iter().any(|f| f.name.eq_ignore_ascii_case(&column.name)) {
            return Err(DeltaError::InvalidArgument(format!(
                "column '{}' already exists",
                column.name
            )));
        }
        if !column.nullable {
            return Err(DeltaError::InvalidArgument(format!(
                "column '{}' must be nullable: the existing rows have no value for it",
                column.name
            )));
        }
        fields.push(column.clone());
    }
    let schema = StructType::new(fields);
    let config = TableConfig::new(&metadata.configuration);
    if config.column_mapping_mode()? == ColumnMappingMode::None {
        return Ok(schema);
    }
    let (schema, max_id) = schema.with_column_mapping(config.column_mapping_max_id());
    metadata
        .configuration
        .insert(COLUMN_MAPPING_MAX_COLUMN_ID.into(), max_id.to_string());
    Ok(schema)
}

//! Creating a table: schema, partition columns, properties and the smallest protocol that covers them.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::clustering::{clustering_domain, with_clustering_features};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::table_config::COLUMN_MAPPING_MAX_COLUMN_ID;
use crate::protocol::{
    Action, ColumnMappingMode, DataType, DomainMetadata, Format, Metadata, Protocol, StructType, TableConfig,
};
use crate::snapshot::Snapshot;
use crate::storage::LogStore;
use crate::table::{DeltaTable, DeltaTableBuilder};
use crate::transaction::{CommitBuilder, CommitProperties, Operation};

/// What to do when a table already exists at the location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    /// Fail with [`DeltaError::TableExists`].
    #[default]
    Error,
    /// Leave the existing table alone and return it.
    Ignore,
}

/// The first actions of a new table.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTable {
    /// Its protocol: the smallest that covers its schema, properties and clustering.
    pub protocol: Protocol,
    /// Its metadata.
    pub metadata: Metadata,
    /// Its metadata domains (the clustering columns of a clustered table).
    pub domains: Vec<DomainMetadata>,
}

impl NewTable {
    /// The actions, in commit order: protocol, metadata, domains.
    pub fn into_actions(self) -> Vec<Action> {
        let mut actions = vec![Action::Protocol(self.protocol), Action::Metadata(self.metadata)];
        actions.extend(self.domains.into_iter().map(Action::DomainMetadata));
        actions
    }
}

/// Creates a new table.
///
/// A table can be partitioned or clustered ([`CreateBuilder::with_clustering_columns`]), not both.
///
/// ```no_run
/// # async fn example() -> deltalake::DeltaResult<()> {
/// use deltalake::protocol::table_config::ENABLE_CHANGE_DATA_FEED;
/// use deltalake::protocol::{DataType, PrimitiveType, StructField, StructType};
/// let schema = StructType::new(vec![
///     StructField::new("id", DataType::Primitive(PrimitiveType::Long), false),
///     StructField::new("day", DataType::Primitive(PrimitiveType::Date), true),
/// ]);
/// let table = deltalake::DeltaTable::create("/tmp/events")
///     .with_schema(schema)
///     .with_partition_columns(["day"])
///     .with_property(ENABLE_CHANGE_DATA_FEED, "true")
///     .await?;
/// assert_eq!(table.version(), 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CreateBuilder {
    table: DeltaTableBuilder,
    schema: Option<StructType>,
    partition_columns: Vec<String>,
    clustering_columns: Option<Vec<String>>,
    properties: HashMap<String, String>,
    name: Option<String>,
    description: Option<String>,
    if_exists: IfExists,
    commit_properties: CommitProperties,
}

impl CreateBuilder {
    /// A table at the location `table` opens.
    pub fn new(table: DeltaTableBuilder) -> Self {
        Self {
            table,
            schema: None,
            partition_columns: Vec::new(),
            clustering_columns: None,
            properties: HashMap::new(),
            name: None,
            description: None,
            if_exists: IfExists::Error,
            commit_properties: CommitProperties::default(),
        }
    }

    /// Storage backend options (credentials, endpoints, ...) of the table location; see
    /// [`crate::storage::StorageOptions`].
    pub fn with_storage_options(mut self, options: HashMap<String, String>) -> Self {
        self.table = self.table.with_storage_options(options);
        self
    }

    /// The table schema (required).
    pub fn with_schema(mut self, schema: StructType) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Partition columns, in order.
    pub fn with_partition_columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.partition_columns = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Cluster the table by these columns (logical names, nested ones dotted): the table gets the
    /// `clustering` and `domainMetadata` features and the `delta.clustering` domain, and OPTIMIZE
    /// clusters its files by them. Columns must exist, get statistics (a type with a minimum and
    /// a maximum, within `delta.dataSkippingNumIndexedCols` / `delta.dataSkippingStatsColumns`)
    /// and not be partition columns; at most four, and the table cannot also be partitioned.
    /// No columns makes a clustered table without clustering columns.
    ///
    /// ```no_run
    /// # async fn example(schema: deltalake::protocol::StructType) -> deltalake::DeltaResult<()> {
    /// let table = deltalake::DeltaTable::create("/tmp/events")
    ///     .with_schema(schema)
    ///     .with_clustering_columns(["user_id", "ts"])
    ///     .await?;
    /// assert_eq!(table.snapshot().clustering_columns()?, Some(vec!["user_id".into(), "ts".into()]));
    /// # Ok(()) }
    /// ```
    pub fn with_clustering_columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.clustering_columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// A table property (`delta.*` or user-defined).
    pub fn with_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Several table properties.
    pub fn with_properties(mut self, properties: HashMap<String, String>) -> Self {
        self.properties.extend(properties);
        self
    }

    /// The table name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The table description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// What to do if a table exists already.
    pub fn if_exists(mut self, if_exists: IfExists) -> Self {
        self.if_exists = if_exists;
        self
    }

    /// Commit settings.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// The first actions of the new table, checked.
    pub fn actions(&self) -> DeltaResult<NewTable> {
        let schema = self
            .schema
            .as_ref()
            .ok_or_else(|| DeltaError::InvalidArgument("a table needs a schema".into()))?;
        validate_schema(schema, &self.partition_columns)?;
        let mut properties = self.properties.clone();
        let mapped = TableConfig::new(&properties).column_mapping_mode()? != ColumnMappingMode::None;
        let schema = if mapped {
            let (schema, max_id) = schema.with_column_mapping(0);
            properties.insert(COLUMN_MAPPING_MAX_COLUMN_ID.into(), max_id.to_string());
            schema
        } else {
            schema.clone()
        };
        TableConfig::new(&properties).validate()?;
        let mut protocol = Protocol::required_for(&schema, &properties)?;
        let mut domains = Vec::new();
        if let Some(columns) = &self.clustering_columns {
            domains.push(clustering_domain(
                &schema,
                &self.partition_columns,
                &properties,
                columns,
            )?);
            protocol = with_clustering_features(&protocol)?;
        }
        let metadata = Metadata {
            id: uuid::Uuid::new_v4().to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            format: Format::default(),
            schema_string: schema.to_json(),
            partition_columns: self.partition_columns.clone(),
            configuration: properties,
            created_time: Some(chrono::Utc::now().timestamp_millis()),
        };
        Ok(NewTable {
            protocol,
            metadata,
            domains,
        })
    }

    /// Create the table.
    pub async fn execute(self) -> DeltaResult<DeltaTable> {
        let store: Arc<dyn LogStore> = self.table.build_log_store()?;
        match Snapshot::load(store.as_ref(), None).await {
            Ok(_) if self.if_exists == IfExists::Ignore => return DeltaTable::open_with(store, None).await,
            Ok(_) => {
                return Err(DeltaError::TableExists {
                    uri: store.root_url().to_string(),
                });
            }
            Err(DeltaError::NotATable { .. }) => {}
            Err(e) => return Err(e),
        }
        let table = self.actions()?;
        let mut parameters = Map::new();
        parameters.insert(
            "partitionBy".into(),
            Value::from(serde_json::to_string(&self.partition_columns)?),
        );
        if let Some(columns) = &self.clustering_columns {
            parameters.insert("clusterBy".into(), Value::from(serde_json::to_string(columns)?));
        }
        parameters.insert(
            "properties".into(),
            Value::from(serde_json::to_string(&table.metadata.configuration)?),
        );
        if let Some(d) = &table.metadata.description {
            parameters.insert("description".into(), Value::from(d.clone()));
        }
        let result = CommitBuilder::new(Operation::new("CREATE TABLE", parameters))
            .with_actions(table.into_actions())
            .with_properties(self.commit_properties)
            .commit(store.as_ref(), None)
            .await;
        match result {
            Ok(_) => DeltaTable::open_with(store, Some(0)).await,
            Err(DeltaError::TableExists { .. }) if self.if_exists == IfExists::Ignore => {
                DeltaTable::open_with(store, None).await
            }
            Err(e) => Err(e),
        }
    }
}

impl std::future::IntoFuture for CreateBuilder {
    type Output = DeltaResult<DeltaTable>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

fn validate_schema(schema: &StructType, partition_columns: &[String]) -> DeltaResult<()> {
    if schema.fields.is_empty() {
        return Err(DeltaError::InvalidArgument("a table needs at least one column".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for field in &schema.fields {
        if !seen.insert(field.name.to_lowercase()) {
            return Err(DeltaError::InvalidArgument(format!(
                "column '{}' appears twice (names are case-insensitive)",
                field.name
            )));
        }
    }
    for column in partition_columns {
        let field = schema
            .field(column)
            .ok_or_else(|| DeltaError::InvalidArgument(format!("partition column '{column}' is not in the schema")))?;
        if !matches!(field.data_type, DataType::Primitive(p) if p != crate::protocol::PrimitiveType::Variant) {
            return Err(DeltaError::InvalidArgument(format!(
                "partition column '{column}' must have a primitive type, not {}",
                field.data_type
            )));
        }
    }
    if partition_columns.len() >= schema.fields.len() {
        return Err(DeltaError::InvalidArgument(
            "at least one column must not be a partition column".into(),
        ));
    }
    Ok(())
}

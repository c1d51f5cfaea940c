//! Converting a directory of Parquet files (optionally Hive-partitioned) into a Delta table in
//! place: the files stay where they are, and version 0 of a new log adds them all.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectMeta;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::arrow::parquet_to_arrow_schema;
use serde_json::{Map, Value};
use tracing::info;

use super::create::CreateBuilder;
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::actions::StringMap;
use crate::protocol::{Action, Add, DataType, Scalar, StructField, StructType, TableConfig};
use crate::snapshot::Snapshot;
use crate::storage::{LogStore, ObjectFileReader};
use crate::table::{DeltaTable, DeltaTableBuilder};
use crate::transaction::{CommitBuilder, CommitProperties, Operation};
use crate::write::stats::StatsCollector;
use crate::write::{NULL_PARTITION, log_path};

/// How many footers are read at once.
const CONCURRENT_FOOTERS: usize = 32;

/// Makes a Delta table of the Parquet files under a directory.
///
/// ```no_run
/// # async fn example() -> deltalake::DeltaResult<()> {
/// use deltalake::protocol::{DataType, PrimitiveType, StructField};
/// let table = deltalake::DeltaTable::convert_to_delta("/data/events")
///     .with_partition_columns(vec![StructField::new("day", DataType::Primitive(PrimitiveType::Date), true)])
///     .await?;
/// println!("{} files", table.snapshot().files().len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ConvertToDeltaBuilder {
    table: DeltaTableBuilder,
    partition_columns: Vec<StructField>,
    properties: HashMap<String, String>,
    name: Option<String>,
    description: Option<String>,
    commit_properties: CommitProperties,
}

impl ConvertToDeltaBuilder {
    /// A conversion of the directory `table` points at.
    pub fn new(table: DeltaTableBuilder) -> Self {
        Self {
            table,
            partition_columns: Vec::new(),
            properties: HashMap::new(),
            name: None,
            description: None,
            commit_properties: CommitProperties::default(),
        }
    }

    /// Storage backend options (credentials, endpoints, ...) of the table location; see
    /// [`crate::storage::StorageOptions`].
    pub fn with_storage_options(mut self, options: HashMap<String, String>) -> Self {
        self.table = self.table.with_storage_options(options);
        self
    }

    /// The Hive partition columns (`col=value` directories, outermost first) with their types.
    pub fn with_partition_columns(mut self, columns: Vec<StructField>) -> Self {
        self.partition_columns = columns;
        self
    }

    /// Table properties of the new table.
    pub fn with_properties(mut self, properties: HashMap<String, String>) -> Self {
        self.properties = properties;
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

    /// Retries, user metadata and extra commit information.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// Convert; returns the new table at version 0.
    pub async fn execute(self) -> DeltaResult<DeltaTable> {
        let store = self.table.build_log_store()?;
        match Snapshot::load(store.as_ref(), None).await {
            Ok(_) => {
                return Err(DeltaError::TableExists {
                    uri: store.root_url().to_string(),
                });
            }
            Err(DeltaError::NotATable { .. }) => {}
            Err(e) => return Err(e),
        }
        let files = list_data_files(store.as_ref()).await?;
        if files.is_empty() {
            return Err(DeltaError::InvalidArgument(format!(
                "no Parquet files to convert under {}",
                store.root_url()
            )));
        }
        info!(table = %store.root_url(), files = files.len(), "converting Parquet files to Delta");
        let partitions = files
            .iter()
            .map(|(relative, _)| partition_values(relative, &self.partition_columns))
            .collect::<DeltaResult<Vec<_>>>()?;
        let footers: Vec<_> = futures::stream::iter(files.clone())
            .map(|(relative, meta)| {
                let store = store.clone();
                async move { read_footer(store.as_ref(), &relative, &meta).await }
            })
            .buffered(CONCURRENT_FOOTERS)
            .try_collect()
            .await?;

        let mut data_fields: Vec<StructField> = Vec::new();
        for ((relative, _), (schema, _)) in files.iter().zip(&footers) {
            merge_fields(&mut data_fields, schema, relative)?;
        }
        for column in &self.partition_columns {
            if data_fields.iter().any(|f| f.name.eq_ignore_ascii_case(&column.name)) {
                return Err(DeltaError::InvalidArgument(format!(
                    "partition column '{}' is also a column of the data files",
                    column.name
                )));
            }
        }
        let data_schema = StructType::new(data_fields.clone());
        let schema = StructType::new(data_fields.into_iter().chain(self.partition_columns.clone()).collect());

        let mut create = CreateBuilder::new(self.table.clone())
            .with_schema(schema)
            .with_partition_columns(self.partition_columns.iter().map(|f| f.name.clone()))
            .with_properties(self.properties.clone());
        if let Some(name) = &self.name {
            create = create.with_name(name.clone());
        }
        if let Some(description) = &self.description {
            create = create.with_description(description.clone());
        }
        let table = create.actions()?;
        let stats_config = TableConfig::new(&table.metadata.configuration).stats_config()?;

        let mut actions = table.into_actions();
        let mut total_size = 0;
        for (((relative, meta), (_, footer)), partition_values) in files.iter().zip(&footers).zip(partitions) {
            let mut stats = StatsCollector::new(&data_schema, &[], &stats_config)?;
            stats.update_from_footer(footer)?;
            total_size += meta.size;
            actions.push(Action::Add(Add::new_file(
                log_path(relative),
                partition_values,
                meta.size,
                meta.last_modified.timestamp_millis(),
                Some(stats.to_json()),
            )));
        }
        let mut parameters = Map::new();
        let partition_spec: Vec<&str> = self.partition_columns.iter().map(|f| f.name.as_str()).collect();
        parameters.insert(
            "partitionedBy".into(),
            Value::from(serde_json::to_string(&partition_spec)?),
        );
        parameters.insert("sourceFormat".into(), Value::from("parquet"));
        let mut metrics = Map::new();
        metrics.insert("numConvertedFiles".into(), Value::from(files.len()));
        metrics.insert("numConvertedBytes".into(), Value::from(total_size));
        CommitBuilder::new(Operation::new("CONVERT", parameters))
            .with_actions(actions)
            .with_metrics(metrics)
            .with_properties(self.commit_properties)
            .commit(store.as_ref(), None)
            .await?;
        DeltaTable::open_with(store, Some(0)).await
    }
}

impl std::future::IntoFuture for ConvertToDeltaBuilder {
    type Output = DeltaResult<DeltaTable>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// Every data file under the root, as (relative path as named in storage, metadata), sorted by path. Hidden
/// files and directories (`_` or `.` first, such as `_delta_log`, `_SUCCESS`, `.crc` files) are
/// skipped, as Spark and Hive do.
async fn list_data_files(store: &dyn LogStore) -> DeltaResult<Vec<(String, ObjectMeta)>> {
    let root = store.root_path().clone();
    let root_parts = root.parts().count();
    let mut files: Vec<(String, ObjectMeta)> = store
        .object_store()
        .list(Some(&root))
        .map_err(DeltaError::from)
        .try_filter_map(|meta| {
            let parts: Vec<String> = meta
                .location
                .parts()
                .skip(root_parts)
                .map(|p| p.as_ref().to_string())
                .collect();
            let hidden = parts.iter().any(|p| p.starts_with('_') || p.starts_with('.'));
            async move { Ok((!hidden).then(|| (parts.join("/"), meta))) }
        })
        .try_collect()
        .await?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// The partition values of a file from its `col=value` directories, checked against the
/// partition columns (names in order, values parseable as their types). Without partition columns,
/// files may sit in plain subdirectories, but not in partition directories.
fn partition_values(relative: &str, columns: &[StructField]) -> DeltaResult<StringMap> {
    let directories: Vec<&str> = relative.split('/').collect();
    let directories = &directories[..directories.len() - 1];
    let error = |reason: String| DeltaError::InvalidArgument(format!("cannot convert file {relative}: {reason}"));
    let unpartitioned = columns.is_empty() && directories.iter().all(|d| !d.contains('='));
    if !unpartitioned && directories.len() != columns.len() {
        let expected: Vec<String> = columns.iter().map(|c| format!("{}=…", c.name)).collect();
        return Err(error(format!(
            "expected the partition directories {:?}, found {:?}",
            expected, directories
        )));
    }
    let mut values = StringMap::new();
    if unpartitioned {
        return Ok(values);
    }
    for (directory, column) in directories.iter().zip(columns) {
        let (name, raw) = directory.split_once('=').ok_or_else(|| {
            error(format!(
                "directory '{directory}' is not a `column=value` partition directory"
            ))
        })?;
        if !name.eq_ignore_ascii_case(&column.name) {
            return Err(error(format!(
                "found partition directory '{name}=' where '{}=' was expected",
                column.name
            )));
        }
        let value = percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned();
        let value = (value != NULL_PARTITION).then_some(value);
        let DataType::Primitive(ty) = column.data_type else {
            return Err(error(format!(
                "partition column '{}' must have a primitive type",
                column.name
            )));
        };
        Scalar::parse_partition_value(value.as_deref(), ty)
            .map_err(|e| error(format!("partition value of '{}': {e}", column.name)))?;
        values.insert(column.physical_name().to_string(), value);
    }
    Ok(values)
}

/// The Delta schema and Parquet metadata of one file.
async fn read_footer(
    store: &dyn LogStore,
    relative: &str,
    meta: &ObjectMeta,
) -> DeltaResult<(StructType, std::sync::Arc<parquet::file::metadata::ParquetMetaData>)> {
    let mut reader = ObjectFileReader::new(store.object_store().clone(), meta.location.clone(), Some(meta.size));
    let footer = reader
        .get_metadata(None)
        .await
        .map_err(|e| DeltaError::invalid_data_file(relative, format!("not a readable Parquet file: {e}")))?;
    let file = footer.file_metadata();
    let arrow = parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata())
        .map_err(|e| DeltaError::invalid_data_file(relative, e))?;
    let schema = StructType::try_from_arrow(&arrow)
        .map_err(|e| DeltaError::invalid_data_file(relative, format!("unsupported schema: {e}")))?;
    Ok((schema, footer))
}

/// Add the columns of `schema` missing from `fields`; a column present in both must have the same type.
fn merge_fields(fields: &mut Vec<StructField>, schema: &StructType, relative: &str) -> DeltaResult<()> {
    for field in &schema.fields {
        match fields.iter().find(|f| f.name.eq_ignore_ascii_case(&field.name)) {
            None => fields.push(StructField {
                nullable: true,
                ..field.clone()
            }),
            Some(existing) if existing.data_type != field.data_type => {
                return Err(DeltaError::Schema(format!(
                    "file {relative}: column '{}' is {} here but {} in other files",
                    field.name, field.data_type, existing.data_type
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

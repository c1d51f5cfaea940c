//! Creating a table out of data files written by someone else (the Python API's
//! `create_table_with_add_actions`): the files are committed as `add` actions of the new table.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::options::CommitOptions;
use super::requests::CreateMode;
use crate::error::{DeltaError, DeltaResult};
use crate::operations::create::CreateBuilder;
use crate::protocol::{Action, Add, StructType};
use crate::snapshot::Snapshot;
use crate::table::{DeltaTable, DeltaTableBuilder};
use crate::transaction::{CommitBuilder, Operation};

/// A data file written outside this crate, as its `add` action will describe it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExternalFile {
    /// The path relative to the table root (as the log records it), or an absolute URI.
    pub path: String,
    /// Size in bytes.
    pub size: i64,
    /// Partition column to serialised value (`None` for null).
    pub partition_values: HashMap<String, Option<String>>,
    /// Creation time in milliseconds since the epoch.
    pub modification_time: i64,
    /// Whether the file brings new rows (false when it only rearranges existing ones).
    pub data_change: bool,
    /// Column statistics as the protocol's JSON (`numRecords`, `minValues`, ...).
    pub stats: Option<String>,
}

impl ExternalFile {
    fn into_add(self) -> Add {
        let mut add = Add::new_file(
            self.path,
            self.partition_values,
            u64::try_from(self.size).unwrap_or_default(),
            self.modification_time,
            self.stats,
        );
        add.data_change = self.data_change;
        add
    }

    fn check(&self, partition_by: &[String]) -> DeltaResult<()> {
        if self.path.is_empty() {
            return Err(DeltaError::InvalidArgument("an add action needs a path".into()));
        }
        if self.size < 0 {
            return Err(DeltaError::InvalidArgument(format!(
                "add action {}: size {} is negative",
                self.path, self.size
            )));
        }
        if let Some(stats) = &self.stats {
            serde_json::from_str::<Value>(stats).map_err(|e| {
                DeltaError::InvalidArgument(format!("add action {}: stats are not JSON: {e}", self.path))
            })?;
        }
        let mut missing = partition_by.iter().filter(|c| !self.partition_values.contains_key(*c));
        if let Some(column) = missing.next() {
            return Err(DeltaError::InvalidArgument(format!(
                "add action {}: no value for partition column '{column}'",
                self.path
            )));
        }
        Ok(())
    }
}

/// A new table (or, with [`CreateMode::Overwrite`], the replacement of a table's definition and
/// files) whose first commit adds [`ExternalFile`]s.
#[derive(Debug, Clone, Default)]
pub struct CreateWithFilesRequest {
    /// When a table exists already: fail, keep it, or replace it (its files are removed and the
    /// new definition and files committed as one new version).
    pub mode: CreateMode,
    /// Partition columns.
    pub partition_by: Vec<String>,
    /// Table properties.
    pub configuration: HashMap<String, String>,
    /// Table name.
    pub name: Option<String>,
    /// Table description.
    pub description: Option<String>,
    /// Commit settings.
    pub commit: CommitOptions,
    /// The files to add.
    pub files: Vec<ExternalFile>,
}

impl CreateWithFilesRequest {
    /// Commit the table at `uri` with `schema`; returns it at the version committed (or as it
    /// is, when it exists and the mode is `ignore`).
    pub async fn execute(
        self,
        uri: String,
        storage_options: HashMap<String, String>,
        schema: StructType,
    ) -> DeltaResult<DeltaTable> {
        for file in &self.files {
            file.check(&self.partition_by)?;
        }
        let location = DeltaTableBuilder::new(uri).with_storage_options(storage_options);
        let store = location.build_log_store()?;
        let existing = match Snapshot::load(store.as_ref(), None).await {
            Ok(snapshot) => Some(snapshot),
            Err(DeltaError::NotATable { .. }) => None,
            Err(e) => return Err(e),
        };
        let replaced = match (&existing, self.mode) {
            (None, _) => None,
            (Some(_), CreateMode::Ignore) => return DeltaTable::open_with(store, None).await,
            (Some(_), CreateMode::Error) => {
                return Err(DeltaError::TableExists {
                    uri: store.root_url().to_string(),
                });
            }
            (Some(snapshot), CreateMode::Overwrite) => Some(snapshot),
        };
        let mut create = CreateBuilder::new(location)
            .with_schema(schema)
            .with_partition_columns(self.partition_by.clone())
            .with_properties(self.configuration);
        if let Some(name) = self.name {
            create = create.with_name(name);
        }
        if let Some(description) = self.description {
            create = create.with_description(description);
        }
        let definition = create.actions()?;
        let mut parameters = Map::new();
        let mode = if replaced.is_some() {
            "Overwrite"
        } else {
            "ErrorIfExists"
        };
        parameters.insert("mode".into(), Value::from(mode));
        parameters.insert(
            "partitionBy".into(),
            Value::from(serde_json::to_string(&self.partition_by)?),
        );
        parameters.insert(
            "properties".into(),
            Value::from(serde_json::to_string(&definition.metadata.configuration)?),
        );
        let now = chrono::Utc::now().timestamp_millis();
        let mut actions = definition.into_actions();
        if let Some(snapshot) = replaced {
            actions.extend(snapshot.files().iter().map(|f| Action::Remove(f.to_remove(now, true))));
        }
        actions.extend(self.files.into_iter().map(|f| Action::Add(f.into_add())));
        let operation = match replaced {
            Some(_) => "CREATE OR REPLACE TABLE",
            None => "CREATE TABLE",
        };
        let result = CommitBuilder::new(Operation::new(operation, parameters))
            .with_actions(actions)
            .with_properties(self.commit.to_properties())
            .commit(store.as_ref(), replaced)
            .await?;
        DeltaTable::open_with(store, Some(result.version)).await
    }
}

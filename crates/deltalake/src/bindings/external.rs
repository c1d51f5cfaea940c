//! Committing data files written by someone else: as the first version of a new table (the
//! Python API's `create_table_with_add_actions`) or as a write to an existing one
//! (`create_write_transaction`).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::options::CommitOptions;
use super::requests::{CreateMode, Filter};
use crate::error::{DeltaError, DeltaResult};
use crate::operations::create::CreateBuilder;
use crate::operations::write::SaveMode;
use crate::protocol::{Action, Add, StructType};
use crate::snapshot::Snapshot;
use crate::table::{DeltaTable, DeltaTableBuilder};
use crate::transaction::{CommitBuilder, Operation, ReadScope};

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
        let mut commit = CommitBuilder::new(Operation::new(operation, parameters))
            .with_actions(actions)
            .with_properties(self.commit.to_properties());
        for (app_id, version) in &self.commit.app_transactions {
            commit = commit.with_app_transaction(app_id.clone(), *version);
        }
        let result = commit.commit(store.as_ref(), replaced).await?;
        DeltaTable::open_with(store, Some(result.version)).await
    }
}

/// A write to an existing table made of files written elsewhere: `append` adds them (and may
/// remove active files), `overwrite` also removes the active files of the partitions
/// `partition_filter` selects (all of them without one).
#[derive(Debug, Clone, Default)]
pub struct WriteFilesRequest {
    /// `Append` or `Overwrite`.
    pub mode: SaveMode,
    /// The partitions an overwrite replaces.
    pub partition_filter: Option<Filter>,
    /// The files to add.
    pub files: Vec<ExternalFile>,
    /// Active files to remove (append only), by path as the log has it, with whether the
    /// removal changes data.
    pub removes: Vec<(String, bool)>,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl WriteFilesRequest {
    /// Commit on top of `table`'s loaded version; the files must fit `schema` (the table's
    /// schema: names, types and nullability), and name a value for each partition column.
    /// Returns the table at the new version.
    pub async fn execute(self, table: &DeltaTable, schema: &StructType) -> DeltaResult<DeltaTable> {
        let snapshot = table.snapshot();
        let same = |a: &StructType, b: &StructType| {
            a.fields.len() == b.fields.len()
                && a.fields
                    .iter()
                    .zip(&b.fields)
                    .all(|(x, y)| x.name == y.name && x.data_type == y.data_type && x.nullable == y.nullable)
        };
        if !same(schema, snapshot.schema()) {
            return Err(DeltaError::schema(format!(
                "the files' schema {} is not the table's {}",
                schema.to_json(),
                snapshot.schema().to_json()
            )));
        }
        let partition_by = snapshot.partition_columns().to_vec();
        for file in &self.files {
            file.check(&partition_by)?;
        }
        let added: HashSet<&str> = self.files.iter().map(|f| f.path.as_str()).collect();
        if let Some((path, _)) = self.removes.iter().find(|(p, _)| added.contains(p.as_str())) {
            return Err(DeltaError::InvalidArgument(format!(
                "file {path} is both added and removed"
            )));
        }
        let now = chrono::Utc::now().timestamp_millis();
        let (removes, scope, mode) = match self.mode {
            SaveMode::Append => {
                let wanted: HashMap<&str, bool> = self.removes.iter().map(|(p, d)| (p.as_str(), *d)).collect();
                let removes: Vec<Action> = snapshot
                    .files()
                    .iter()
                    .filter_map(|f| wanted.get(f.path()).map(|d| Action::Remove(f.to_remove(now, *d))))
                    .collect();
                if removes.len() != wanted.len() {
                    let active: HashSet<&str> = snapshot.files().iter().map(|f| f.path()).collect();
                    let missing = wanted
                        .keys()
                        .find(|p| !active.contains(*p))
                        .copied()
                        .unwrap_or_default();
                    return Err(DeltaError::InvalidArgument(format!(
                        "cannot remove {missing}: it is not an active file of the table"
                    )));
                }
                let scope = if removes.is_empty() {
                    ReadScope::Nothing
                } else {
                    ReadScope::Files(wanted.keys().map(|p| (*p).to_string()).collect())
                };
                (removes, scope, "Append")
            }
            SaveMode::Overwrite => {
                if !self.removes.is_empty() {
                    return Err(DeltaError::InvalidArgument(
                        "remove actions are only allowed with mode 'append'; an overwrite removes the files \
                         of the partitions it replaces"
                            .into(),
                    ));
                }
                let (keep, scope): (Option<HashSet<String>>, ReadScope) = match self.partition_filter {
                    None => (None, ReadScope::Table),
                    Some(filter) => {
                        let scan = table.scan().with_filter(filter.into_expr()?).build()?;
                        let paths: HashSet<String> = scan.files().iter().map(|f| f.path.clone()).collect();
                        (Some(paths.clone()), ReadScope::Files(paths))
                    }
                };
                let removes = snapshot
                    .files()
                    .iter()
                    .filter(|f| keep.as_ref().is_none_or(|k| k.contains(f.path())))
                    .map(|f| Action::Remove(f.to_remove(now, true)))
                    .collect();
                (removes, scope, "Overwrite")
            }
            other => {
                return Err(DeltaError::InvalidArgument(format!(
                    "a write of files takes mode 'append' or 'overwrite', not {other:?}"
                )));
            }
        };
        let mut parameters = Map::new();
        parameters.insert("mode".into(), Value::from(mode));
        parameters.insert("partitionBy".into(), Value::from(serde_json::to_string(&partition_by)?));
        let mut actions = removes;
        actions.extend(self.files.into_iter().map(|f| Action::Add(f.into_add())));
        let mut commit = CommitBuilder::new(Operation::new("WRITE", parameters))
            .with_actions(actions)
            .with_read_scope(scope)
            .with_properties(self.commit.to_properties());
        for (app_id, version) in &self.commit.app_transactions {
            commit = commit.with_app_transaction(app_id.clone(), *version);
        }
        let store = table.log_store().clone();
        let result = commit.commit(store.as_ref(), Some(snapshot)).await?;
        DeltaTable::open_with(store, Some(result.version)).await
    }
}

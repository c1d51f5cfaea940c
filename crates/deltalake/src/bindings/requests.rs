//! The table operations described by plain values, so that a binding fills a struct from its
//! host's arguments and calls `execute`: no closures, no Parquet types, no builders to chain.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use arrow::datatypes::{Schema as ArrowSchema, SchemaRef};
use chrono::{DateTime, Utc};

use super::options::{CommitOptions, WriterOptions};
use crate::error::{DeltaError, DeltaResult};
use crate::expr::{DnfTerm, DnfValue, Expr};
use crate::operations::alter::TableChange;
use crate::operations::create::{CreateBuilder, IfExists};
use crate::operations::delete::DeleteMetrics;
use crate::operations::filesystem_check::FileSystemCheckMetrics;
use crate::operations::merge::{MergeBuilder, MergeMetrics, MergeSource};
use crate::operations::optimize::{OptimizeMetrics, OptimizeType};
use crate::operations::restore::RestoreMetrics;
use crate::operations::update::UpdateMetrics;
use crate::operations::vacuum::{VacuumMetrics, VacuumMode};
use crate::operations::write::{InputStream, SaveMode, SchemaMode, WriteBuilder};
use crate::protocol::StructType;
use crate::table::{DeltaTable, DeltaTableBuilder};

/// A row filter as bindings receive it: a SQL predicate, or a disjunction of conjunctions of
/// `(column, op, value)` terms (the `[[("a", "=", 1)], ...]` filters of the Python API).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// A SQL predicate.
    Sql(String),
    /// An OR of ANDs of `(column, op, value)` terms.
    Dnf(Vec<Vec<(String, String, DnfValue)>>),
}

impl Filter {
    /// The filter as an expression.
    pub fn into_expr(self) -> DeltaResult<Expr> {
        match self {
            Filter::Sql(sql) => Expr::parse(&sql),
            Filter::Dnf(disjuncts) => disjuncts
                .into_iter()
                .map(|terms| {
                    terms
                        .into_iter()
                        .map(|(column, op, value)| DnfTerm::new(column, &op, value))
                        .collect::<DeltaResult<Vec<_>>>()
                })
                .collect::<DeltaResult<Vec<_>>>()
                .and_then(Expr::from_dnf),
        }
    }
}

/// Where a write goes: a location (the table is opened or created there), or a loaded table
/// whose snapshot is reused (only the commits made since it was loaded are read).
#[derive(Debug)]
pub enum WriteTarget {
    /// A table location and its storage options.
    Location {
        /// The table URI or local path.
        uri: String,
        /// Storage options (credentials, endpoints, ...).
        storage_options: HashMap<String, String>,
    },
    /// A loaded table.
    Table(DeltaTable),
}

/// A write of a stream of Arrow batches.
#[derive(Debug, Clone, Default)]
pub struct WriteRequest {
    /// What to do with existing rows (default append).
    pub mode: SaveMode,
    /// How the data's schema may change the table's (default strict).
    pub schema_mode: SchemaMode,
    /// Partition columns of a new table (must match an existing table's).
    pub partition_by: Option<Vec<String>>,
    /// Table properties of a new table.
    pub configuration: HashMap<String, String>,
    /// Name of a new table.
    pub name: Option<String>,
    /// Description of a new table.
    pub description: Option<String>,
    /// With overwrite, replace only the rows matching this SQL predicate.
    pub predicate: Option<String>,
    /// Parquet settings.
    pub writer: WriterOptions,
    /// Commit settings (application transactions included).
    pub commit: CommitOptions,
}

impl WriteRequest {
    /// Write `input` (batches of `schema`) into `target`; returns the table at the new version.
    pub async fn execute(self, target: WriteTarget, schema: SchemaRef, input: InputStream) -> DeltaResult<DeltaTable> {
        let mut write = match target {
            WriteTarget::Location { uri, storage_options } => {
                WriteBuilder::new(DeltaTableBuilder::new(uri).with_storage_options(storage_options))
            }
            WriteTarget::Table(table) => WriteBuilder::from_table(table),
        }
        .with_stream(schema, input)
        .with_mode(self.mode)
        .with_schema_mode(self.schema_mode)
        .with_writer_config(self.writer.to_config()?)
        .with_configuration(self.configuration)
        .with_commit_properties(self.commit.to_properties());
        if let Some(columns) = self.partition_by {
            write = write.with_partition_columns(columns);
        }
        if let Some(name) = self.name {
            write = write.with_name(name);
        }
        if let Some(description) = self.description {
            write = write.with_description(description);
        }
        if let Some(sql) = self.predicate {
            write = write.with_replace_where(sql);
        }
        for (app_id, version) in self.commit.app_transactions {
            write = write.with_app_transaction(app_id, version);
        }
        write.execute().await
    }
}

/// What to do when creating a table where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreateMode {
    /// Fail (`error`).
    #[default]
    Error,
    /// Keep the existing table (`ignore`, and `append` as the Python API names it).
    Ignore,
    /// Replace it (`overwrite`; not supported yet).
    Overwrite,
}

impl FromStr for CreateMode {
    type Err = DeltaError;

    fn from_str(s: &str) -> DeltaResult<Self> {
        match s {
            "error" => Ok(Self::Error),
            "ignore" | "append" => Ok(Self::Ignore),
            "overwrite" => Ok(Self::Overwrite),
            _ => Err(DeltaError::InvalidArgument(format!(
                "mode must be 'error', 'append', 'overwrite' or 'ignore', not '{s}'"
            ))),
        }
    }
}

/// The creation of an empty table.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// When a table exists already.
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
}

impl CreateRequest {
    /// Create the table at `uri` with the columns of `schema`.
    pub async fn execute(
        self,
        uri: String,
        storage_options: HashMap<String, String>,
        schema: &ArrowSchema,
    ) -> DeltaResult<DeltaTable> {
        let if_exists = match self.mode {
            CreateMode::Error => IfExists::Error,
            CreateMode::Ignore => IfExists::Ignore,
            CreateMode::Overwrite => {
                return Err(DeltaError::NotSupported(
                    "creating a table with mode 'overwrite' is not supported yet".into(),
                ));
            }
        };
        let mut create = CreateBuilder::new(DeltaTableBuilder::new(uri).with_storage_options(storage_options))
            .with_schema(StructType::try_from_arrow(schema)?)
            .with_partition_columns(self.partition_by)
            .with_properties(self.configuration)
            .if_exists(if_exists)
            .with_commit_properties(self.commit.to_properties());
        if let Some(name) = self.name {
            create = create.with_name(name);
        }
        if let Some(description) = self.description {
            create = create.with_description(description);
        }
        create.execute().await
    }
}

/// A delete of the rows matching a SQL predicate (every row without one).
#[derive(Debug, Clone, Default)]
pub struct DeleteRequest {
    /// The SQL predicate.
    pub predicate: Option<String>,
    /// Parquet settings of the files rewritten.
    pub writer: Option<WriterOptions>,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl DeleteRequest {
    /// Delete from `table`.
    pub async fn execute(self, table: &DeltaTable) -> DeltaResult<(DeltaTable, DeleteMetrics)> {
        let mut delete = table.delete().with_commit_properties(self.commit.to_properties());
        if let Some(sql) = self.predicate {
            delete = delete.with_predicate(sql);
        }
        if let Some(writer) = &self.writer {
            delete = delete.with_writer_config(writer.to_config()?);
        }
        delete.execute().await
    }
}

/// An update: each column set to a SQL expression in the rows matching a predicate.
#[derive(Debug, Clone, Default)]
pub struct UpdateRequest {
    /// `(column, SQL expression)` pairs.
    pub updates: Vec<(String, String)>,
    /// The SQL predicate (every row without one).
    pub predicate: Option<String>,
    /// Parquet settings of the files rewritten.
    pub writer: Option<WriterOptions>,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl UpdateRequest {
    /// Update `table`.
    pub async fn execute(self, table: &DeltaTable) -> DeltaResult<(DeltaTable, UpdateMetrics)> {
        let mut update = table.update().with_commit_properties(self.commit.to_properties());
        for (column, sql) in self.updates {
            update = update.with_update(column, sql);
        }
        if let Some(sql) = self.predicate {
            update = update.with_predicate(sql);
        }
        if let Some(writer) = &self.writer {
            update = update.with_writer_config(writer.to_config()?);
        }
        update.execute().await
    }
}

/// The seven kinds of merge clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeClauseKind {
    /// `when_matched_update`: set columns of matched target rows.
    MatchedUpdate,
    /// `when_matched_update_all`: set every column of matched target rows from the source.
    MatchedUpdateAll,
    /// `when_matched_delete`: delete matched target rows.
    MatchedDelete,
    /// `when_not_matched_insert`: insert unmatched source rows, with the columns given.
    NotMatchedInsert,
    /// `when_not_matched_insert_all`: insert unmatched source rows, every column.
    NotMatchedInsertAll,
    /// `when_not_matched_by_source_update`: set columns of target rows no source row matches.
    NotMatchedBySourceUpdate,
    /// `when_not_matched_by_source_delete`: delete target rows no source row matches.
    NotMatchedBySourceDelete,
}

impl MergeClauseKind {
    const NAMES: [(Self, &'static str); 7] = [
        (Self::MatchedUpdate, "when_matched_update"),
        (Self::MatchedUpdateAll, "when_matched_update_all"),
        (Self::MatchedDelete, "when_matched_delete"),
        (Self::NotMatchedInsert, "when_not_matched_insert"),
        (Self::NotMatchedInsertAll, "when_not_matched_insert_all"),
        (Self::NotMatchedBySourceUpdate, "when_not_matched_by_source_update"),
        (Self::NotMatchedBySourceDelete, "when_not_matched_by_source_delete"),
    ];

    /// Whether clauses of this kind take `(column, expression)` assignments.
    pub fn takes_assignments(self) -> bool {
        matches!(
            self,
            Self::MatchedUpdate | Self::NotMatchedInsert | Self::NotMatchedBySourceUpdate
        )
    }

    /// Whether clauses of this kind take columns to leave out.
    pub fn takes_except(self) -> bool {
        matches!(self, Self::MatchedUpdateAll | Self::NotMatchedInsertAll)
    }
}

impl FromStr for MergeClauseKind {
    type Err = DeltaError;

    /// The snake_case method names (`when_matched_update`), or the same in camelCase
    /// (`whenMatchedUpdate`).
    fn from_str(s: &str) -> DeltaResult<Self> {
        let snake: String = s
            .chars()
            .flat_map(|c| match c.is_ascii_uppercase() {
                true => vec!['_', c.to_ascii_lowercase()],
                false => vec![c],
            })
            .collect();
        Self::NAMES
            .into_iter()
            .find(|(_, name)| *name == snake)
            .map(|(kind, _)| kind)
            .ok_or_else(|| DeltaError::InvalidArgument(format!("unknown merge clause '{s}'")))
    }
}

impl std::fmt::Display for MergeClauseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = Self::NAMES.iter().find(|(kind, _)| kind == self).map_or("", |(_, n)| n);
        f.write_str(name)
    }
}

/// One `WHEN ... THEN ...` clause of a merge, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeClause {
    /// Which clause.
    pub kind: MergeClauseKind,
    /// Its SQL condition, if any.
    pub predicate: Option<String>,
    /// `(target column, SQL expression)` pairs (update and insert clauses).
    pub assignments: Vec<(String, String)>,
    /// Columns left out (the `_all` clauses).
    pub except: Vec<String>,
}

impl MergeClause {
    /// A clause of `kind` without condition, assignments or exceptions.
    pub fn new(kind: MergeClauseKind) -> Self {
        Self {
            kind,
            predicate: None,
            assignments: Vec::new(),
            except: Vec::new(),
        }
    }

    fn apply(self, merge: MergeBuilder) -> DeltaResult<MergeBuilder> {
        let kind = self.kind;
        if !kind.takes_assignments() && !self.assignments.is_empty() {
            return Err(DeltaError::InvalidArgument(format!(
                "{kind} takes no column assignments"
            )));
        }
        if !kind.takes_except() && !self.except.is_empty() {
            return Err(DeltaError::InvalidArgument(format!(
                "{kind} takes no columns to leave out"
            )));
        }
        let condition = self.predicate;
        let assignments = self.assignments;
        let except = self.except;
        // Each clause builder has its own `predicate` setter: apply the condition when given.
        macro_rules! when {
            ($clause:expr) => {
                match condition {
                    Some(sql) => $clause.predicate(sql),
                    None => $clause,
                }
            };
        }
        Ok(match kind {
            MergeClauseKind::MatchedUpdate => {
                merge.when_matched_update(|u| assignments.into_iter().fold(when!(u), |u, (c, e)| u.update(c, e)))
            }
            MergeClauseKind::NotMatchedBySourceUpdate => merge.when_not_matched_by_source_update(|u| {
                assignments.into_iter().fold(when!(u), |u, (c, e)| u.update(c, e))
            }),
            MergeClauseKind::NotMatchedInsert => {
                merge.when_not_matched_insert(|i| assignments.into_iter().fold(when!(i), |i, (c, e)| i.set(c, e)))
            }
            MergeClauseKind::MatchedUpdateAll => merge.when_matched_update_all(|a| when!(a).except(except)),
            MergeClauseKind::NotMatchedInsertAll => merge.when_not_matched_insert_all(|a| when!(a).except(except)),
            MergeClauseKind::MatchedDelete => merge.when_matched_delete(|d| when!(d)),
            MergeClauseKind::NotMatchedBySourceDelete => merge.when_not_matched_by_source_delete(|d| when!(d)),
        })
    }
}

/// A merge of a source of rows into a table.
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    /// The SQL join condition (`target.id = source.id`).
    pub predicate: String,
    /// The name of the source relation (default `source`).
    pub source_alias: Option<String>,
    /// The name of the target relation (default `target`).
    pub target_alias: Option<String>,
    /// Whether new source columns are added to the table schema.
    pub merge_schema: bool,
    /// The clauses, in the order they are tried.
    pub clauses: Vec<MergeClause>,
    /// Parquet settings of the files written.
    pub writer: Option<WriterOptions>,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl MergeRequest {
    /// Merge `source` into `table`.
    pub async fn execute(self, table: &DeltaTable, source: MergeSource) -> DeltaResult<(DeltaTable, MergeMetrics)> {
        let mut merge = table
            .merge(source, self.predicate)
            .with_merge_schema(self.merge_schema)
            .with_commit_properties(self.commit.to_properties());
        if let Some(alias) = self.source_alias {
            merge = merge.with_source_alias(alias);
        }
        if let Some(alias) = self.target_alias {
            merge = merge.with_target_alias(alias);
        }
        if let Some(writer) = &self.writer {
            merge = merge.with_writer_config(writer.to_config()?);
        }
        for clause in self.clauses {
            merge = clause.apply(merge)?;
        }
        merge.execute().await
    }
}

/// A compaction or Z-order of a table's files.
#[derive(Debug, Clone, Default)]
pub struct OptimizeRequest {
    /// Compact (default) or Z-order by columns.
    pub kind: OptimizeType,
    /// Only the partitions matching this filter.
    pub partition_filter: Option<Filter>,
    /// Target file size in bytes (default: `delta.targetFileSize`, else 100 MiB).
    pub target_size: Option<u64>,
    /// Bins rewritten at once.
    pub max_concurrent_tasks: Option<usize>,
    /// Parquet settings of the files written.
    pub writer: Option<WriterOptions>,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl OptimizeRequest {
    /// Optimize `table`.
    pub async fn execute(self, table: &DeltaTable) -> DeltaResult<(DeltaTable, OptimizeMetrics)> {
        let mut optimize = table
            .optimize()
            .with_type(self.kind)
            .with_commit_properties(self.commit.to_properties());
        if let Some(filter) = self.partition_filter {
            optimize = optimize.with_filter(filter.into_expr()?);
        }
        if let Some(bytes) = self.target_size {
            optimize = optimize.with_target_size(bytes);
        }
        if let Some(tasks) = self.max_concurrent_tasks {
            optimize = optimize.with_max_concurrent_tasks(tasks);
        }
        if let Some(writer) = &self.writer {
            optimize = optimize.with_writer_config(writer.to_config()?);
        }
        optimize.execute().await
    }
}

/// A vacuum: deletes the files no version within the retention needs.
#[derive(Debug, Clone)]
pub struct VacuumRequest {
    /// Retention in hours (default `delta.deletedFileRetentionDuration`, 7 days).
    pub retention_hours: Option<u64>,
    /// Only list the files (default true).
    pub dry_run: bool,
    /// Refuse a retention shorter than the table's (default true).
    pub enforce_retention_duration: bool,
    /// List the whole table directory, finding files never committed too (default false: only
    /// the files the log removed).
    pub full: bool,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl Default for VacuumRequest {
    fn default() -> Self {
        Self {
            retention_hours: None,
            dry_run: true,
            enforce_retention_duration: true,
            full: false,
            commit: CommitOptions::default(),
        }
    }
}

impl VacuumRequest {
    /// Vacuum `table`.
    pub async fn execute(self, table: &DeltaTable) -> DeltaResult<(DeltaTable, VacuumMetrics)> {
        let mut vacuum = table
            .vacuum()
            .with_dry_run(self.dry_run)
            .with_enforce_retention(self.enforce_retention_duration)
            .with_mode(if self.full { VacuumMode::Full } else { VacuumMode::Lite })
            .with_commit_properties(self.commit.to_properties());
        if let Some(hours) = self.retention_hours {
            let seconds = hours
                .checked_mul(3600)
                .ok_or_else(|| DeltaError::InvalidArgument(format!("retention of {hours} hours is too long")))?;
            vacuum = vacuum.with_retention(Duration::from_secs(seconds));
        }
        vacuum.execute().await
    }
}

/// The version a restore goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreTarget {
    /// This version.
    Version(i64),
    /// The version current at this time.
    Timestamp(DateTime<Utc>),
}

/// A restore of an earlier version, as a new commit.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    /// The version to go back to.
    pub target: RestoreTarget,
    /// Restore even when files of that version are missing.
    pub ignore_missing_files: bool,
    /// Allow a protocol older than the current one.
    pub protocol_downgrade_allowed: bool,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl RestoreRequest {
    /// A restore of `target` with the defaults.
    pub fn new(target: RestoreTarget) -> Self {
        Self {
            target,
            ignore_missing_files: false,
            protocol_downgrade_allowed: false,
            commit: CommitOptions::default(),
        }
    }

    /// Restore `table`.
    pub async fn execute(self, table: &DeltaTable) -> DeltaResult<(DeltaTable, RestoreMetrics)> {
        let restore = table
            .restore()
            .with_ignore_missing_files(self.ignore_missing_files)
            .with_protocol_downgrade_allowed(self.protocol_downgrade_allowed)
            .with_commit_properties(self.commit.to_properties());
        match self.target {
            RestoreTarget::Version(version) => restore.to_version(version),
            RestoreTarget::Timestamp(at) => restore.to_timestamp(at),
        }
        .execute()
        .await
    }
}

/// A repair: removes from the table the files missing from storage.
#[derive(Debug, Clone, Default)]
pub struct RepairRequest {
    /// Only list the missing files.
    pub dry_run: bool,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl RepairRequest {
    /// Repair `table`.
    pub async fn execute(self, table: &DeltaTable) -> DeltaResult<(DeltaTable, FileSystemCheckMetrics)> {
        table
            .filesystem_check()
            .with_dry_run(self.dry_run)
            .with_commit_properties(self.commit.to_properties())
            .execute()
            .await
    }
}

/// An alteration of a table's definition (one [`TableChange`]), as one commit.
#[derive(Debug, Clone, PartialEq)]
pub struct AlterRequest {
    /// The change.
    pub change: TableChange,
    /// Commit settings.
    pub commit: CommitOptions,
}

impl AlterRequest {
    /// An alteration with the default commit settings.
    pub fn new(change: TableChange) -> Self {
        Self {
            change,
            commit: CommitOptions::default(),
        }
    }

    /// Alter `table`.
    pub async fn execute(self, table: &DeltaTable) -> DeltaResult<DeltaTable> {
        table
            .alter()
            .with_change(self.change)
            .with_commit_properties(self.commit.to_properties())
            .execute()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_kinds_parse_in_both_cases() {
        for (kind, name) in MergeClauseKind::NAMES {
            assert_eq!(name.parse::<MergeClauseKind>().unwrap(), kind);
            assert_eq!(kind.to_string(), name);
        }
        assert_eq!(
            "whenNotMatchedBySourceDelete".parse::<MergeClauseKind>().unwrap(),
            MergeClauseKind::NotMatchedBySourceDelete
        );
        assert!("when_sometimes".parse::<MergeClauseKind>().is_err());
    }

    #[test]
    fn modes_parse_and_print() {
        assert_eq!("overwrite".parse::<SaveMode>().unwrap(), SaveMode::Overwrite);
        assert_eq!("Error".parse::<SaveMode>().unwrap().to_string(), "error");
        assert!("upsert".parse::<SaveMode>().is_err());
        assert_eq!("merge".parse::<SchemaMode>().unwrap(), SchemaMode::Merge);
        assert_eq!("append".parse::<CreateMode>().unwrap(), CreateMode::Ignore);
    }

    #[test]
    fn filters_become_expressions() {
        let dnf = Filter::Dnf(vec![vec![("a".into(), "=".into(), DnfValue::from(1i64))]]);
        assert!(dnf.into_expr().is_ok());
        let bad = Filter::Dnf(vec![vec![("a".into(), "like".into(), DnfValue::from(1i64))]]);
        assert_eq!(
            bad.into_expr().unwrap_err().kind(),
            crate::error::ErrorKind::InvalidArgument
        );
        assert!(Filter::Sql("a >".into()).into_expr().is_err());
    }
}

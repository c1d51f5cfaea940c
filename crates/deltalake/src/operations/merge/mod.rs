//! MERGE: upserting a source of Arrow rows into a table.
//!
//! The join predicate is split into equalities between target and source expressions (the keys)
//! and a residual condition. The source, the small side, is held in memory and indexed by key;
//! the target files that may hold a matching row (by partition values and statistics against
//! the range of the source keys) are streamed one at a time and probed. Each matched target row
//! takes the first `WHEN MATCHED` clause whose condition holds, each target row without a match
//! the first `WHEN NOT MATCHED BY SOURCE` clause, and each source row without a match the first
//! `WHEN NOT MATCHED` clause. Changed files get a deletion vector (tables with
//! `delta.enableDeletionVectors`) or are rewritten; change data is recorded when the table
//! enables it.

mod execute;
mod join;
mod plan;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use serde_json::{Map, Value};

use super::matching::Predicate;
use super::write::InputStream;
use crate::error::{DeltaError, DeltaResult};
use crate::table::DeltaTable;
use crate::telemetry::{Figures, operation_span, traced};
use crate::transaction::CommitProperties;
use crate::write::WriterConfig;

/// The rows merged into a table: batches in memory or a stream of them.
pub enum MergeSource {
    /// Batches of one schema.
    Batches(Vec<RecordBatch>),
    /// A stream of batches of `schema` (collected into memory when the merge runs).
    Stream(SchemaRef, InputStream),
}

impl std::fmt::Debug for MergeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MergeSource::Batches(b) => write!(f, "MergeSource::Batches({} batches)", b.len()),
            MergeSource::Stream(schema, _) => write!(f, "MergeSource::Stream({schema:?})"),
        }
    }
}

impl From<Vec<RecordBatch>> for MergeSource {
    fn from(batches: Vec<RecordBatch>) -> Self {
        MergeSource::Batches(batches)
    }
}

impl From<RecordBatch> for MergeSource {
    fn from(batch: RecordBatch) -> Self {
        MergeSource::Batches(vec![batch])
    }
}

/// The relation names of a merge, qualifying columns in its expressions (`target.id`, `source.id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Aliases {
    pub target: String,
    pub source: String,
}

/// When a clause applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClauseKind {
    /// To a target row matched by a source row.
    Matched,
    /// To a source row matching no target row.
    NotMatched,
    /// To a target row matched by no source row.
    NotMatchedBySource,
}

/// What a clause does.
#[derive(Debug, Clone)]
enum ClauseAction {
    /// Set these target columns to these expressions.
    Update(Vec<(String, Predicate)>),
    /// Set every target column to the source column of the same name, but these.
    UpdateAll(Vec<String>),
    /// Delete the target row.
    Delete,
    /// Insert a row with these columns set to these expressions, the others NULL.
    Insert(Vec<(String, Predicate)>),
    /// Insert the source row, every target column taken from the source column of the same
    /// name, but these.
    InsertAll(Vec<String>),
}

impl ClauseAction {
    /// The action as Delta names it in `commitInfo`.
    fn name(&self) -> &'static str {
        match self {
            ClauseAction::Update(_) | ClauseAction::UpdateAll(_) => "update",
            ClauseAction::Delete => "delete",
            ClauseAction::Insert(_) | ClauseAction::InsertAll(_) => "insert",
        }
    }
}

/// One `WHEN ... THEN ...` clause.
#[derive(Debug, Clone)]
struct Clause {
    kind: ClauseKind,
    predicate: Option<String>,
    action: ClauseAction,
}

/// A `WHEN MATCHED` or `WHEN NOT MATCHED BY SOURCE` update: a condition and assignments.
#[derive(Debug, Clone, Default)]
pub struct UpdateClause {
    predicate: Option<String>,
    updates: Vec<(String, Predicate)>,
}

impl UpdateClause {
    /// Apply only to the rows for which this SQL condition holds.
    pub fn predicate(mut self, sql: impl Into<String>) -> Self {
        self.predicate = Some(sql.into());
        self
    }

    /// Set target column `column` (`value` or `target.value`) to a SQL expression over the
    /// target and source columns (`source.value + target.value`).
    pub fn update(mut self, column: impl Into<String>, sql: impl Into<String>) -> Self {
        self.updates.push((column.into(), Predicate::Sql(sql.into())));
        self
    }
}

/// A `WHEN NOT MATCHED` insert: a condition and the values of the new row's columns.
#[derive(Debug, Clone, Default)]
pub struct InsertClause {
    predicate: Option<String>,
    values: Vec<(String, Predicate)>,
}

impl InsertClause {
    /// Apply only to the source rows for which this SQL condition holds.
    pub fn predicate(mut self, sql: impl Into<String>) -> Self {
        self.predicate = Some(sql.into());
        self
    }

    /// Set column `column` of the new row to a SQL expression over the source columns; columns
    /// not set are NULL (or generated).
    pub fn set(mut self, column: impl Into<String>, sql: impl Into<String>) -> Self {
        self.values.push((column.into(), Predicate::Sql(sql.into())));
        self
    }
}

/// A delete clause: an optional condition.
#[derive(Debug, Clone, Default)]
pub struct DeleteClause {
    predicate: Option<String>,
}

impl DeleteClause {
    /// Delete only the rows for which this SQL condition holds.
    pub fn predicate(mut self, sql: impl Into<String>) -> Self {
        self.predicate = Some(sql.into());
        self
    }
}

/// An update-all or insert-all clause: an optional condition and columns left out.
#[derive(Debug, Clone, Default)]
pub struct AllColumnsClause {
    predicate: Option<String>,
    except: Vec<String>,
}

impl AllColumnsClause {
    /// Apply only to the rows for which this SQL condition holds.
    pub fn predicate(mut self, sql: impl Into<String>) -> Self {
        self.predicate = Some(sql.into());
        self
    }

    /// Leave these target columns out (not updated; NULL or generated when inserting).
    pub fn except<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.except.extend(columns.into_iter().map(Into::into));
        self
    }
}

/// What a merge did, as recorded in `commitInfo.operationMetrics`.
///
/// Serialises (for bindings) with the `deltalake` PyPI package's keys: the field names, without
/// the per-clause counts, which it does not report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MergeMetrics {
    /// Rows in the source.
    pub num_source_rows: usize,
    /// Rows inserted (source rows matching no target row).
    pub num_target_rows_inserted: usize,
    /// Target rows updated, by either kind of clause.
    pub num_target_rows_updated: usize,
    /// Matched target rows updated.
    #[serde(skip)]
    pub num_target_rows_matched_updated: usize,
    /// Target rows matched by no source row, updated.
    #[serde(skip)]
    pub num_target_rows_not_matched_by_source_updated: usize,
    /// Target rows deleted, by either kind of clause.
    pub num_target_rows_deleted: usize,
    /// Matched target rows deleted.
    #[serde(skip)]
    pub num_target_rows_matched_deleted: usize,
    /// Target rows matched by no source row, deleted.
    #[serde(skip)]
    pub num_target_rows_not_matched_by_source_deleted: usize,
    /// Target rows copied unchanged into new files.
    pub num_target_rows_copied: usize,
    /// Rows written: inserted, updated and copied.
    pub num_output_rows: usize,
    /// Target files read.
    pub num_target_files_scanned: usize,
    /// Target files skipped by partition values and statistics.
    pub num_target_files_skipped_during_scan: usize,
    /// Data files added.
    pub num_target_files_added: usize,
    /// Files removed (including those given a new deletion vector).
    pub num_target_files_removed: usize,
    /// Change data files added.
    pub num_target_change_files_added: usize,
    /// Deletion vectors added to existing files.
    pub num_target_deletion_vectors_added: usize,
    /// Time the whole operation took.
    pub execution_time_ms: u64,
    /// Time spent reading and probing the target.
    pub scan_time_ms: u64,
    /// Time spent computing and writing new rows and files.
    pub rewrite_time_ms: u64,
}

impl MergeMetrics {
    /// The metrics under Delta's names.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: u64| {
            m.insert(k.into(), v.into());
        };
        let n = |v: usize| v as u64;
        put("numSourceRows", n(self.num_source_rows));
        put("numTargetRowsInserted", n(self.num_target_rows_inserted));
        put("numTargetRowsUpdated", n(self.num_target_rows_updated));
        put("numTargetRowsMatchedUpdated", n(self.num_target_rows_matched_updated));
        put(
            "numTargetRowsNotMatchedBySourceUpdated",
            n(self.num_target_rows_not_matched_by_source_updated),
        );
        put("numTargetRowsDeleted", n(self.num_target_rows_deleted));
        put("numTargetRowsMatchedDeleted", n(self.num_target_rows_matched_deleted));
        put(
            "numTargetRowsNotMatchedBySourceDeleted",
            n(self.num_target_rows_not_matched_by_source_deleted),
        );
        put("numTargetRowsCopied", n(self.num_target_rows_copied));
        put("numOutputRows", n(self.num_output_rows));
        put("numTargetFilesScanned", n(self.num_target_files_scanned));
        put(
            "numTargetFilesSkippedDuringScan",
            n(self.num_target_files_skipped_during_scan),
        );
        put("numTargetFilesAdded", n(self.num_target_files_added));
        put("numTargetFilesRemoved", n(self.num_target_files_removed));
        put("numTargetChangeFilesAdded", n(self.num_target_change_files_added));
        put(
            "numTargetDeletionVectorsAdded",
            n(self.num_target_deletion_vectors_added),
        );
        put("executionTimeMs", self.execution_time_ms);
        put("scanTimeMs", self.scan_time_ms);
        put("rewriteTimeMs", self.rewrite_time_ms);
        m
    }
}

/// Merges a source of rows into a table: updates and deletes of the target rows the source
/// matches (or does not), inserts of the source rows matching nothing, as one commit.
///
/// Clauses of a kind are tried in the order given; the first whose condition holds applies. A
/// target row matched by more than one source row is an error when a `WHEN MATCHED` clause
/// exists (nothing is committed).
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable, source: arrow::array::RecordBatch) -> deltalake::DeltaResult<()> {
/// let (table, metrics) = table
///     .merge(source, "target.id = source.id")
///     .when_matched_update(|u| u.predicate("source.value > target.value").update("value", "source.value"))
///     .when_not_matched_insert_all(|i| i)
///     .await?;
/// println!(
///     "version {}: {} updated, {} inserted",
///     table.version(),
///     metrics.num_target_rows_updated,
///     metrics.num_target_rows_inserted
/// );
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MergeBuilder {
    table: DeltaTable,
    source: MergeSource,
    predicate: String,
    aliases: Aliases,
    clauses: Vec<Clause>,
    merge_schema: bool,
    writer_config: WriterConfig,
    commit_properties: CommitProperties,
}

impl MergeBuilder {
    /// A merge of `source` into `table` (at its loaded version), joined on the SQL `predicate`.
    /// Columns in expressions are qualified by `target.` and `source.` (see the alias setters);
    /// an unqualified name is taken from the one relation that has such a column.
    pub fn new(table: DeltaTable, source: impl Into<MergeSource>, predicate: impl Into<String>) -> Self {
        Self {
            table,
            source: source.into(),
            predicate: predicate.into(),
            aliases: Aliases {
                target: "target".into(),
                source: "source".into(),
            },
            clauses: Vec::new(),
            merge_schema: false,
            writer_config: WriterConfig::default(),
            commit_properties: CommitProperties::default(),
        }
    }

    /// Name the source `alias` in expressions (default `source`).
    pub fn with_source_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.source = alias.into();
        self
    }

    /// Name the target `alias` in expressions (default `target`).
    pub fn with_target_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.target = alias.into();
        self
    }

    /// Add the source's columns the table lacks to its schema (nullable), so that
    /// update-all, insert-all and assignments can set them.
    pub fn with_merge_schema(mut self, merge_schema: bool) -> Self {
        self.merge_schema = merge_schema;
        self
    }

    /// Parquet settings of the files the merge writes.
    pub fn with_writer_config(mut self, config: WriterConfig) -> Self {
        self.writer_config = config;
        self
    }

    /// Retries, user metadata and extra commit information.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    fn clause(mut self, kind: ClauseKind, predicate: Option<String>, action: ClauseAction) -> Self {
        self.clauses.push(Clause {
            kind,
            predicate,
            action,
        });
        self
    }

    /// `WHEN MATCHED [AND condition] THEN UPDATE SET ...`
    pub fn when_matched_update(self, build: impl FnOnce(UpdateClause) -> UpdateClause) -> Self {
        let c = build(UpdateClause::default());
        self.clause(ClauseKind::Matched, c.predicate, ClauseAction::Update(c.updates))
    }

    /// `WHEN MATCHED [AND condition] THEN UPDATE SET *`: every target column from the source
    /// column of the same name.
    pub fn when_matched_update_all(self, build: impl FnOnce(AllColumnsClause) -> AllColumnsClause) -> Self {
        let c = build(AllColumnsClause::default());
        self.clause(ClauseKind::Matched, c.predicate, ClauseAction::UpdateAll(c.except))
    }

    /// `WHEN MATCHED [AND condition] THEN DELETE`
    pub fn when_matched_delete(self, build: impl FnOnce(DeleteClause) -> DeleteClause) -> Self {
        let c = build(DeleteClause::default());
        self.clause(ClauseKind::Matched, c.predicate, ClauseAction::Delete)
    }

    /// `WHEN NOT MATCHED [AND condition] THEN INSERT (...) VALUES (...)`
    pub fn when_not_matched_insert(self, build: impl FnOnce(InsertClause) -> InsertClause) -> Self {
        let c = build(InsertClause::default());
        self.clause(ClauseKind::NotMatched, c.predicate, ClauseAction::Insert(c.values))
    }

    /// `WHEN NOT MATCHED [AND condition] THEN INSERT *`: every target column from the source
    /// column of the same name.
    pub fn when_not_matched_insert_all(self, build: impl FnOnce(AllColumnsClause) -> AllColumnsClause) -> Self {
        let c = build(AllColumnsClause::default());
        self.clause(ClauseKind::NotMatched, c.predicate, ClauseAction::InsertAll(c.except))
    }

    /// `WHEN NOT MATCHED BY SOURCE [AND condition] THEN UPDATE SET ...` (expressions over the
    /// target columns only).
    pub fn when_not_matched_by_source_update(self, build: impl FnOnce(UpdateClause) -> UpdateClause) -> Self {
        let c = build(UpdateClause::default());
        self.clause(
            ClauseKind::NotMatchedBySource,
            c.predicate,
            ClauseAction::Update(c.updates),
        )
    }

    /// `WHEN NOT MATCHED BY SOURCE [AND condition] THEN DELETE`
    pub fn when_not_matched_by_source_delete(self, build: impl FnOnce(DeleteClause) -> DeleteClause) -> Self {
        let c = build(DeleteClause::default());
        self.clause(ClauseKind::NotMatchedBySource, c.predicate, ClauseAction::Delete)
    }

    /// Merge and commit; returns the table at the new version (the same table when nothing
    /// changed) and what was done.
    pub async fn execute(self) -> DeltaResult<(DeltaTable, MergeMetrics)> {
        let span = operation_span!("merge", self.table.log_store().redacted_url());
        traced(span, self.run(), |(table, m)| Figures {
            version: Some(table.version()),
            files: Some(m.num_target_files_added + m.num_target_files_removed),
            rows: Some(m.num_target_rows_inserted + m.num_target_rows_updated + m.num_target_rows_deleted),
            bytes: None,
        })
        .await
    }

    /// The merge itself, inside the span of [`Self::execute`].
    async fn run(self) -> DeltaResult<(DeltaTable, MergeMetrics)> {
        if self.clauses.is_empty() {
            return Err(DeltaError::InvalidArgument(
                "a merge needs at least one clause (when_matched_update, when_not_matched_insert, ...)".into(),
            ));
        }
        if self.aliases.source.eq_ignore_ascii_case(&self.aliases.target) {
            return Err(DeltaError::InvalidArgument(format!(
                "the source and target aliases must differ (both are '{}')",
                self.aliases.source
            )));
        }
        execute::merge(self).await
    }
}

impl std::future::IntoFuture for MergeBuilder {
    type Output = DeltaResult<(DeltaTable, MergeMetrics)>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// The source rows as one batch, of the schema they were given with.
async fn collect_source(source: MergeSource) -> DeltaResult<RecordBatch> {
    use futures::TryStreamExt;
    let (schema, batches) = match source {
        MergeSource::Batches(batches) => {
            let schema = batches.first().map(RecordBatch::schema).ok_or_else(|| {
                DeltaError::InvalidArgument(
                    "the merge source has no batches: give at least one (it may be empty) or a stream with its schema"
                        .into(),
                )
            })?;
            (schema, batches)
        }
        MergeSource::Stream(schema, stream) => (schema, stream.try_collect().await?),
    };
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

//! Updating the rows that match a predicate: new values computed from SQL expressions over the
//! old row, checked against the table's rules, written to new files; the old rows are dropped by
//! deletion vector (tables with `delta.enableDeletionVectors`) or by copying the rest of their file.

use std::collections::HashSet;
use std::time::Instant;

use futures::TryStreamExt;
use serde_json::{Map, Value};
use tracing::info;

use super::assign::{Assignment, assign};
use super::matching::{Matching, Predicate, millis};
use super::rewrite::{DroppedRows, Rewrite};
use super::table_after_commit;
use crate::error::{DeltaError, DeltaResult};
use crate::expr::Expr;
use crate::snapshot::Snapshot;
use crate::table::DeltaTable;
use crate::telemetry::{Figures, operation_span, traced};
use crate::transaction::{CommitBuilder, CommitProperties, Operation};
use crate::write::{WriteRules, WriterConfig};

/// What an update did, as recorded in `commitInfo.operationMetrics`.
///
/// Serialises (for bindings) with the `deltalake` PyPI package's keys: the field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpdateMetrics {
    /// Rows updated.
    pub num_updated_rows: usize,
    /// Rows copied unchanged into new files.
    pub num_copied_rows: usize,
    /// Data files added.
    pub num_added_files: usize,
    /// Files removed from the table (including those given a new deletion vector).
    pub num_removed_files: usize,
    /// Change data files added.
    pub num_added_change_files: usize,
    /// Deletion vectors added to existing files.
    pub num_deletion_vectors_added: usize,
    /// Time the whole operation took.
    pub execution_time_ms: u64,
    /// Time spent finding the matching rows.
    pub scan_time_ms: u64,
    /// Time spent computing and writing the new rows.
    pub rewrite_time_ms: u64,
}

impl UpdateMetrics {
    fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("numUpdatedRows".into(), self.num_updated_rows.into());
        m.insert("numCopiedRows".into(), self.num_copied_rows.into());
        m.insert("numAddedFiles".into(), self.num_added_files.into());
        m.insert("numRemovedFiles".into(), self.num_removed_files.into());
        m.insert("numAddedChangeFiles".into(), self.num_added_change_files.into());
        m.insert("numDeletionVectorsAdded".into(), self.num_deletion_vectors_added.into());
        m.insert("executionTimeMs".into(), self.execution_time_ms.into());
        m.insert("scanTimeMs".into(), self.scan_time_ms.into());
        m.insert("rewriteTimeMs".into(), self.rewrite_time_ms.into());
        m
    }
}

/// Updates the rows of a table that match a predicate (all rows without one).
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
/// let (table, metrics) = table
///     .update()
///     .with_predicate("id > 100")
///     .with_update("value", "value * 2")
///     .with_update("status", "'doubled'")
///     .await?;
/// println!("version {}: {} rows updated", table.version(), metrics.num_updated_rows);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct UpdateBuilder {
    table: DeltaTable,
    predicate: Option<Predicate>,
    updates: Vec<(String, Predicate)>,
    writer_config: WriterConfig,
    commit_properties: CommitProperties,
}

impl UpdateBuilder {
    /// An update of `table` on top of its loaded version; add assignments with `with_update`.
    pub fn new(table: DeltaTable) -> Self {
        Self {
            table,
            predicate: None,
            updates: Vec::new(),
            writer_config: WriterConfig::default(),
            commit_properties: CommitProperties::default(),
        }
    }

    /// Set `column` to the value of a SQL expression over the row's old values (`value + 1`,
    /// `'text'`, `NULL`); the value is converted to the column's type.
    pub fn with_update(mut self, column: impl Into<String>, sql: impl Into<String>) -> Self {
        self.updates.push((column.into(), Predicate::Sql(sql.into())));
        self
    }

    /// Set `column` to the value of `expression`.
    pub fn with_update_expr(mut self, column: impl Into<String>, expression: Expr) -> Self {
        self.updates.push((column.into(), Predicate::Expr(expression)));
        self
    }

    /// Update only the rows for which this SQL predicate is TRUE.
    pub fn with_predicate(mut self, sql: impl Into<String>) -> Self {
        self.predicate = Some(Predicate::Sql(sql.into()));
        self
    }

    /// Update only the rows for which `predicate` is TRUE.
    pub fn with_filter(mut self, predicate: Expr) -> Self {
        self.predicate = Some(Predicate::Expr(predicate));
        self
    }

    /// Parquet settings of the files the update rewrites.
    pub fn with_writer_config(mut self, config: WriterConfig) -> Self {
        self.writer_config = config;
        self
    }

    /// Retries, user metadata and extra commit information.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// The assignments, bound to the table: known columns, each once, values convertible.
    fn assignments(&self, snapshot: &Snapshot) -> DeltaResult<Vec<Assignment>> {
        if self.updates.is_empty() {
            return Err(DeltaError::InvalidArgument(
                "an update needs at least one assignment: call with_update".into(),
            ));
        }
        let schema = snapshot.schema();
        let mut seen = HashSet::new();
        self.updates
            .iter()
            .map(|(column, value)| {
                let index = schema.index_of(column).ok_or_else(|| {
                    let available: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
                    DeltaError::InvalidArgument(format!(
                        "cannot update column '{column}': it does not exist in the table; columns are: {}",
                        available.join(", ")
                    ))
                })?;
                if !seen.insert(index) {
                    return Err(DeltaError::InvalidArgument(format!(
                        "column '{}' is assigned more than once",
                        schema.fields[index].name
                    )));
                }
                Assignment::new(snapshot, index, value.to_expr()?.bind(schema)?)
            })
            .collect()
    }

    /// Update and commit; returns the table at the new version (the same table when nothing
    /// matched) and what was done.
    pub async fn execute(self) -> DeltaResult<(DeltaTable, UpdateMetrics)> {
        let span = operation_span!("update", self.table.log_store().redacted_url());
        traced(span, self.run(), |(table, m)| Figures {
            version: Some(table.version()),
            files: Some(m.num_added_files + m.num_removed_files),
            rows: Some(m.num_updated_rows),
            bytes: None,
        })
        .await
    }

    /// The update itself, inside the span of [`Self::execute`].
    async fn run(self) -> DeltaResult<(DeltaTable, UpdateMetrics)> {
        let started = Instant::now();
        let store = self.table.log_store().clone();
        let snapshot = self.table.snapshot().clone();
        let uri = store.root_url().to_string();
        snapshot.protocol().ensure_writable(&uri)?;
        let assignments = self.assignments(&snapshot)?;
        let rules = WriteRules::new(snapshot.schema(), snapshot.properties())?;
        let predicate = self.predicate.as_ref().map(Predicate::to_expr).transpose()?;
        // Files are first read on the predicate's columns; those with matches are then rewritten
        // a batch at a time.
        let marking = Matching::marking(snapshot.clone(), store.clone(), predicate.clone())?;
        let matching = Matching::new(snapshot.clone(), store.clone(), predicate)?;
        let candidates = matching.candidates(chrono::Utc::now().timestamp_millis())?;
        let mut rewrite = Rewrite::new(&snapshot, store.clone(), self.writer_config.clone())?;
        let mut metrics = UpdateMetrics::default();
        let mut rewrite_time = std::time::Duration::ZERO;
        let result: DeltaResult<()> = async {
            for file in &candidates {
                if !file.all_match && !marking.any_match(file).await? {
                    continue;
                }
                let deleted = matching.deleted_rows(file).await?;
                let mut dropped = DroppedRows::default();
                let mut batches = matching.read_batches(file, deleted.as_ref());
                while let Some(rows) = batches.try_next().await? {
                    let writing = Instant::now();
                    let updated = rows.matched.true_count();
                    if updated > 0 {
                        metrics.num_updated_rows += updated;
                        let before = rows.matched_rows()?;
                        let after = assign(&before, &before, &assignments, &rules)?;
                        rewrite.write_changes(&before, "update_preimage").await?;
                        rewrite.write_changes(&after, "update_postimage").await?;
                        rewrite.write_rows(&after).await?;
                    }
                    rewrite.drop_matched_rows(&mut dropped, &rows).await?;
                    rewrite_time += writing.elapsed();
                }
                rewrite.drop_rows(file, dropped, deleted.as_ref())?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            rewrite.abort().await;
            return Err(e);
        }
        let writing = Instant::now();
        let (actions, counts) = rewrite.finish().await?;
        rewrite_time += writing.elapsed();
        if actions.is_empty() {
            metrics.execution_time_ms = millis(started.elapsed());
            return Ok((self.table, metrics));
        }
        metrics.num_copied_rows = counts.copied_rows;
        metrics.num_added_files = counts.added_files;
        metrics.num_removed_files = counts.removed_files;
        metrics.num_added_change_files = counts.added_change_files;
        metrics.num_deletion_vectors_added = counts.deletion_vectors_added;
        metrics.rewrite_time_ms = millis(rewrite_time);
        metrics.execution_time_ms = millis(started.elapsed());
        metrics.scan_time_ms = metrics.execution_time_ms.saturating_sub(metrics.rewrite_time_ms);

        let mut parameters = Map::new();
        if let Some(p) = matching.predicate() {
            parameters.insert("predicate".into(), Value::from(p.expr().to_string()));
        }
        let result = CommitBuilder::new(Operation::new("UPDATE", parameters))
            .with_actions(actions)
            .with_read_scope(matching.read_scope(&candidates)?)
            .with_metrics(metrics.to_json())
            .with_properties(self.commit_properties)
            .commit(store.as_ref(), Some(&snapshot))
            .await?;
        info!(table = %uri, version = result.version, updated = metrics.num_updated_rows, "updated");
        let table = table_after_commit(store, Some(snapshot), result.version).await?;
        Ok((table, metrics))
    }
}

impl std::future::IntoFuture for UpdateBuilder {
    type Output = DeltaResult<(DeltaTable, UpdateMetrics)>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

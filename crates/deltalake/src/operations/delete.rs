//! Deleting the rows that match a predicate: whole files when their partition values match,
//! else a deletion vector on each file holding matches (tables with `delta.enableDeletionVectors`)
//! or a copy of its other rows.

use std::sync::Arc;
use std::time::Instant;

use futures::TryStreamExt;
use serde_json::{Map, Value};
use tracing::info;

use super::matching::{Matching, Predicate, millis};
use super::rewrite::{DroppedRows, Rewrite, RewriteCounts};
use super::table_after_commit;
use crate::error::DeltaResult;
use crate::expr::Expr;
use crate::protocol::Action;
use crate::snapshot::Snapshot;
use crate::storage::LogStore;
use crate::table::DeltaTable;
use crate::telemetry::{Figures, operation_span, traced};
use crate::transaction::{CommitBuilder, CommitProperties, Operation, ReadScope};
use crate::write::WriterConfig;

/// What a delete did, as recorded in `commitInfo.operationMetrics`.
///
/// Serialises (for bindings) with the `deltalake` PyPI package's keys: the field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeleteMetrics {
    /// Rows deleted.
    pub num_deleted_rows: usize,
    /// Files removed from the table (including those given a new deletion vector).
    pub num_removed_files: usize,
    /// Data files added (copies of the rows kept).
    pub num_added_files: usize,
    /// Change data files added.
    pub num_added_change_files: usize,
    /// Deletion vectors added to existing files.
    pub num_deletion_vectors_added: usize,
    /// Rows copied into new files.
    pub num_copied_rows: usize,
    /// Time the whole operation took.
    pub execution_time_ms: u64,
    /// Time spent finding the matching rows.
    pub scan_time_ms: u64,
    /// Time spent writing files.
    pub rewrite_time_ms: u64,
}

impl DeleteMetrics {
    fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("numDeletedRows".into(), self.num_deleted_rows.into());
        m.insert("numRemovedFiles".into(), self.num_removed_files.into());
        m.insert("numAddedFiles".into(), self.num_added_files.into());
        m.insert("numAddedChangeFiles".into(), self.num_added_change_files.into());
        m.insert("numDeletionVectorsAdded".into(), self.num_deletion_vectors_added.into());
        m.insert("numCopiedRows".into(), self.num_copied_rows.into());
        m.insert("executionTimeMs".into(), self.execution_time_ms.into());
        m.insert("scanTimeMs".into(), self.scan_time_ms.into());
        m.insert("rewriteTimeMs".into(), self.rewrite_time_ms.into());
        m
    }

    fn add_counts(&mut self, counts: RewriteCounts) {
        self.num_removed_files = counts.removed_files;
        self.num_added_files = counts.added_files;
        self.num_added_change_files = counts.added_change_files;
        self.num_deletion_vectors_added = counts.deletion_vectors_added;
        self.num_copied_rows = counts.copied_rows;
    }
}

/// Deletes the rows of a table that match a predicate (all rows without one).
///
/// Files pruned by statistics are not read; files whose partition values match are dropped
/// whole. With deletion vectors (and no change data feed) only the predicate's columns are read;
/// otherwise the other rows of each file with a match are copied a batch at a time.
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
/// let (table, metrics) = table.delete().with_predicate("year = 2021 AND value < 0").await?;
/// println!("version {}: {} rows deleted", table.version(), metrics.num_deleted_rows);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DeleteBuilder {
    table: DeltaTable,
    predicate: Option<Predicate>,
    writer_config: WriterConfig,
    commit_properties: CommitProperties,
}

impl DeleteBuilder {
    /// A delete of every row of `table` (narrow it with a predicate), on top of its loaded version.
    pub fn new(table: DeltaTable) -> Self {
        Self {
            table,
            predicate: None,
            writer_config: WriterConfig::default(),
            commit_properties: CommitProperties::default(),
        }
    }

    /// Delete only the rows for which this SQL predicate is TRUE (e.g. `id < 10 AND day = '2024-01-01'`).
    pub fn with_predicate(mut self, sql: impl Into<String>) -> Self {
        self.predicate = Some(Predicate::Sql(sql.into()));
        self
    }

    /// Delete only the rows for which `predicate` is TRUE.
    pub fn with_filter(mut self, predicate: Expr) -> Self {
        self.predicate = Some(Predicate::Expr(predicate));
        self
    }

    /// Parquet settings of the files the delete rewrites.
    pub fn with_writer_config(mut self, config: WriterConfig) -> Self {
        self.writer_config = config;
        self
    }

    /// Retries, user metadata and extra commit information.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// Delete and commit; returns the table at the new version (the same table when nothing
    /// matched) and what was done.
    pub async fn execute(self) -> DeltaResult<(DeltaTable, DeleteMetrics)> {
        let span = operation_span!("delete", self.table.log_store().redacted_url());
        traced(span, self.run(), |(table, m)| Figures {
            version: Some(table.version()),
            files: Some(m.num_added_files + m.num_removed_files),
            rows: Some(m.num_deleted_rows),
            bytes: None,
        })
        .await
    }

    /// The delete itself, inside the span of [`Self::execute`].
    async fn run(self) -> DeltaResult<(DeltaTable, DeleteMetrics)> {
        let started = Instant::now();
        let store = self.table.log_store().clone();
        let snapshot = self.table.snapshot().clone();
        let uri = store.root_url().to_string();
        snapshot.protocol().ensure_writable(&uri)?;
        let predicate = self.predicate.as_ref().map(Predicate::to_expr).transpose()?;
        let mut deleted = delete_rows(&snapshot, store.clone(), predicate, self.writer_config).await?;
        deleted.metrics.execution_time_ms = millis(started.elapsed());
        deleted.metrics.scan_time_ms = deleted
            .metrics
            .execution_time_ms
            .saturating_sub(deleted.metrics.rewrite_time_ms);
        if deleted.actions.is_empty() {
            return Ok((self.table, deleted.metrics));
        }
        let mut parameters = Map::new();
        if let Some(p) = &deleted.predicate {
            parameters.insert("predicate".into(), Value::from(p.clone()));
        }
        let metrics = deleted.metrics;
        let result = CommitBuilder::new(Operation::new("DELETE", parameters))
            .with_actions(deleted.actions)
            .with_read_scope(deleted.read_scope)
            .with_metrics(metrics.to_json())
            .with_properties(self.commit_properties)
            .commit(store.as_ref(), Some(&snapshot))
            .await?;
        info!(
            table = %uri,
            version = result.version,
            deleted = metrics.num_deleted_rows,
            removed = metrics.num_removed_files,
            "deleted"
        );
        let table = table_after_commit(store, Some(snapshot), result.version).await?;
        Ok((table, metrics))
    }
}

/// The uncommitted outcome of deleting rows: the actions, what the transaction read, and metrics.
pub(crate) struct DeletedRows {
    /// Removes, adds (copies, new deletion vectors) and change data files.
    pub actions: Vec<Action>,
    /// What the transaction read, for conflict detection.
    pub read_scope: ReadScope,
    /// Counts and the time spent writing (the caller fills in the other times).
    pub metrics: DeleteMetrics,
    /// The bound predicate as SQL, when there was one.
    pub predicate: Option<String>,
}

/// Delete the rows of `snapshot` matching `predicate` (all without one), writing the files that
/// need it but committing nothing; files written are deleted again on failure.
pub(crate) async fn delete_rows(
    snapshot: &Arc<Snapshot>,
    store: Arc<dyn LogStore>,
    predicate: Option<Expr>,
    config: WriterConfig,
) -> DeltaResult<DeletedRows> {
    let mut rewrite = Rewrite::new(snapshot, store.clone(), config)?;
    // Files are read on the predicate's columns first. Marking rows in deletion vectors needs
    // nothing more; copying the other rows, or recording the deleted ones, reads every column
    // of the files with matches.
    let marking = Matching::marking(snapshot.clone(), store.clone(), predicate.clone())?;
    let marks_only = rewrite.uses_deletion_vectors() && !rewrite.records_changes();
    let matching = match marks_only {
        true => None,
        false => Some(Matching::new(snapshot.clone(), store, predicate)?),
    };
    let now = chrono::Utc::now().timestamp_millis();
    let candidates = marking.candidates(now)?;
    // Change data, once a commit has any, must hold every change: files dropped whole are
    // then read too. Without it, readers take the removed files as the deleted rows.
    let read_all = rewrite.records_changes() && candidates.iter().any(|c| !c.all_match);
    let mut metrics = DeleteMetrics::default();
    let mut rewrite_time = std::time::Duration::ZERO;
    let result: DeltaResult<()> = async {
        for file in candidates.iter().filter(|c| c.all_match && !read_all) {
            metrics.num_deleted_rows += file.add.live_rows().unwrap_or(0);
            rewrite.remove(file);
        }
        for file in candidates.iter().filter(|c| !c.all_match || read_all) {
            let reader = match &matching {
                Some(matching) if file.all_match || marking.any_match(file).await? => matching,
                Some(_) => continue,
                None => &marking,
            };
            let deleted = reader.deleted_rows(file).await?;
            let mut dropped = DroppedRows::default();
            let mut matches = 0;
            let mut batches = reader.read_batches(file, deleted.as_ref());
            while let Some(rows) = batches.try_next().await? {
                let writing = Instant::now();
                matches += rows.matched.true_count();
                if rewrite.records_changes() {
                    rewrite.write_changes(&rows.matched_rows()?, "delete").await?;
                }
                rewrite.drop_matched_rows(&mut dropped, &rows).await?;
                rewrite_time += writing.elapsed();
            }
            // Only marks were taken (no rows copied): a file without a match is left as it is.
            if matches > 0 {
                metrics.num_deleted_rows += matches;
                rewrite.drop_rows(file, dropped, deleted.as_ref())?;
            }
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
    metrics.add_counts(counts);
    metrics.rewrite_time_ms = millis(rewrite_time);
    Ok(DeletedRows {
        actions,
        read_scope: marking.read_scope(&candidates)?,
        metrics,
        predicate: marking.predicate().map(|p| p.expr().to_string()),
    })
}

impl std::future::IntoFuture for DeleteBuilder {
    type Output = DeltaResult<(DeltaTable, DeleteMetrics)>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

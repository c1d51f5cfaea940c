//! Running a bound merge: each candidate target file probed on the columns that decide what
//! changes, the files with changes rewritten a batch at a time with the clauses applied, the
//! inserts written, and the commit. Memory holds the source, its index and a few batches.

use std::time::{Duration, Instant};

use arrow::array::{Array, BooleanArray, RecordBatch, UInt32Array};
use arrow::compute::{and, filter, filter_record_batch, not, take_record_batch};
use futures::TryStreamExt;
use serde_json::{Map, Value};
use tracing::{debug, info};

use super::join::SourceIndex;
use super::plan::{BoundClause, Plan, TargetAction};
use super::{ClauseKind, MergeBuilder, MergeMetrics, collect_source};
use crate::error::{DeltaError, DeltaResult};
use crate::operations::assign::{Assignment, assign};
use crate::operations::matching::{Candidate, Matching, millis, true_only};
use crate::operations::rewrite::{DroppedRows, Rewrite, layout_of};
use crate::operations::table_after_commit;
use crate::protocol::Action;
use crate::table::DeltaTable;
use crate::transaction::{CommitBuilder, Operation, ReadScope};

/// Merge and commit (see [`MergeBuilder`]).
pub(super) async fn merge(builder: MergeBuilder) -> DeltaResult<(DeltaTable, MergeMetrics)> {
    let started = Instant::now();
    let MergeBuilder {
        table,
        source,
        predicate,
        aliases,
        clauses,
        merge_schema,
        writer_config,
        commit_properties,
    } = builder;
    let store = table.log_store().clone();
    let snapshot = table.snapshot().clone();
    let uri = store.root_url().to_string();
    snapshot.protocol().ensure_writable(&uri)?;
    let source = collect_source(source).await?;
    let plan = Plan::new(&snapshot, &source, &predicate, aliases, &clauses, merge_schema)?;
    drop(source);
    let source_only = plan.source_only()?;
    let source_keys = plan
        .join
        .source_keys
        .iter()
        .map(|k| k.evaluate(&source_only))
        .collect::<DeltaResult<Vec<_>>>()?;
    let index = SourceIndex::new(&source_keys)?;
    // Target rows matched by no source row are all read when a clause acts on them.
    let pruning = match plan.not_matched_by_source.is_empty() {
        true => plan.join.pruning(&source_only, &plan.aliases)?,
        false => None,
    };
    // Files are probed on the columns that decide what changes, then the files with changes are
    // rewritten a batch at a time: memory holds the source and a few batches, whatever the files' size.
    let probing = Matching::projected(
        snapshot.clone(),
        store.clone(),
        pruning.clone(),
        &plan.decision_columns(),
    )?;
    let matching = Matching::new(snapshot.clone(), store.clone(), pruning)?;
    let candidates = matching.candidates(chrono::Utc::now().timestamp_millis())?;
    let mut layout = layout_of(&snapshot)?;
    layout.schema = plan.schema.clone();
    let mut merger = Merger {
        plan: &plan,
        index,
        rewrite: Rewrite::with_layout(&snapshot, store.clone(), layout, writer_config)?,
        metrics: MergeMetrics {
            num_source_rows: plan.source.num_rows(),
            num_target_files_scanned: candidates.len(),
            num_target_files_skipped_during_scan: snapshot.files().len() - candidates.len(),
            ..Default::default()
        },
        source_matched: vec![false; plan.source.num_rows()],
        rewrite_time: Duration::ZERO,
    };
    info!(
        table = %uri,
        source_rows = plan.source.num_rows(),
        candidates = candidates.len(),
        "merging"
    );
    let result: DeltaResult<()> = async {
        let mut changing = Vec::new();
        for file in &candidates {
            if merger.probe(&probing, file).await? {
                changing.push(file);
            }
        }
        debug!(files = changing.len(), "target files to rewrite");
        for file in changing {
            merger.rewrite_file(&matching, file).await?;
        }
        merger.inserts().await
    }
    .await;
    let Merger {
        rewrite,
        mut metrics,
        mut rewrite_time,
        ..
    } = merger;
    if let Err(e) = result {
        rewrite.abort().await;
        return Err(e);
    }
    let writing = Instant::now();
    let (mut actions, counts) = rewrite.finish().await?;
    rewrite_time += writing.elapsed();
    if let Some(metadata) = plan.metadata.clone() {
        actions.insert(0, Action::Metadata(metadata));
    }
    metrics.num_target_rows_copied = counts.copied_rows;
    metrics.num_output_rows =
        metrics.num_target_rows_inserted + metrics.num_target_rows_updated + metrics.num_target_rows_copied;
    metrics.num_target_files_added = counts.added_files;
    metrics.num_target_files_removed = counts.removed_files;
    metrics.num_target_change_files_added = counts.added_change_files;
    metrics.num_target_deletion_vectors_added = counts.deletion_vectors_added;
    metrics.rewrite_time_ms = millis(rewrite_time);
    metrics.execution_time_ms = millis(started.elapsed());
    metrics.scan_time_ms = metrics.execution_time_ms.saturating_sub(metrics.rewrite_time_ms);
    if actions.is_empty() {
        return Ok((table, metrics));
    }
    let scope = match plan.not_matched_by_source.is_empty() {
        true => matching.read_scope(&candidates)?,
        false => ReadScope::Table,
    };
    let mut parameters = Map::new();
    parameters.insert("predicate".into(), Value::from(predicate));
    let names = [
        "matchedPredicates",
        "notMatchedPredicates",
        "notMatchedBySourcePredicates",
    ];
    for (name, descriptions) in names.iter().zip(&plan.descriptions) {
        parameters.insert(
            (*name).into(),
            Value::from(Value::Array(descriptions.clone()).to_string()),
        );
    }
    let result = CommitBuilder::new(Operation::new("MERGE", parameters))
        .with_actions(actions)
        .with_read_scope(scope)
        .with_metrics(metrics.to_json())
        .with_properties(commit_properties)
        .commit(store.as_ref(), Some(&snapshot))
        .await?;
    info!(
        table = %uri,
        version = result.version,
        inserted = metrics.num_target_rows_inserted,
        updated = metrics.num_target_rows_updated,
        deleted = metrics.num_target_rows_deleted,
        "merged"
    );
    let table = table_after_commit(store, Some(snapshot), result.version).await?;
    Ok((table, metrics))
}

/// The state of a running merge.
struct Merger<'a> {
    plan: &'a Plan,
    index: SourceIndex,
    rewrite: Rewrite,
    metrics: MergeMetrics,
    /// Source rows that matched a target row.
    source_matched: Vec<bool>,
    rewrite_time: Duration,
}

/// Which of `input`'s rows each clause takes: the first clause whose condition is TRUE.
fn choose<A>(clauses: &[BoundClause<A>], input: &RecordBatch) -> DeltaResult<Vec<BooleanArray>> {
    let mut left = BooleanArray::from(vec![true; input.num_rows()]);
    let mut chosen = Vec::with_capacity(clauses.len());
    for clause in clauses {
        let hit = match &clause.predicate {
            Some(p) => and(&left, &true_only(&p.evaluate_predicate(input)?))?,
            None => left.clone(),
        };
        left = and(&left, &not(&hit)?)?;
        chosen.push(hit);
    }
    Ok(chosen)
}

/// The two passes over a target file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Find which rows change, from the columns that decide it; mark the source rows matched.
    Probe,
    /// Write what changes.
    Rewrite,
}

impl Merger<'_> {
    /// Whether the merge changes any row of `file`, read from the columns that decide it; marks
    /// the source rows its rows match.
    async fn probe(&mut self, probing: &Matching, file: &Candidate) -> DeltaResult<bool> {
        let deleted = probing.deleted_rows(file).await?;
        let mut batches = probing.read_batches(file, deleted.as_ref());
        let mut changes = false;
        while let Some(rows) = batches.try_next().await? {
            let live = rows.live()?;
            let batch = self.plan.widen(&rows.batch)?;
            let changed = self.batch(Pass::Probe, file, &batch, &live, rows.first_row).await?;
            changes |= changed.true_count() > 0;
        }
        Ok(changes)
    }

    /// Rewrite `file` a batch at a time: the clauses applied, the rows they leave copied into new
    /// files, or left in place under a deletion vector.
    async fn rewrite_file(&mut self, matching: &Matching, file: &Candidate) -> DeltaResult<()> {
        let deleted = matching.deleted_rows(file).await?;
        let mut dropped = DroppedRows::default();
        let mut batches = matching.read_batches(file, deleted.as_ref());
        while let Some(rows) = batches.try_next().await? {
            let live = rows.live()?;
            let first_row = rows.first_row;
            let batch = self.plan.pad(rows.batch)?;
            let changed = self.batch(Pass::Rewrite, file, &batch, &live, first_row).await?;
            let writing = Instant::now();
            self.rewrite
                .drop_batch_rows(&mut dropped, &batch, first_row, &live, &changed)
                .await?;
            self.rewrite_time += writing.elapsed();
        }
        debug!(file = %file.add.path, "merged file");
        self.rewrite.drop_rows(file, dropped, deleted.as_ref())
    }

    /// Apply the clauses to `batch`, rows `first_row..` of target file `file` (`live`: those
    /// not deleted), and return which rows they change. Probing marks the source rows matched
    /// and checks that no target row is matched twice; rewriting writes the changed rows.
    async fn batch(
        &mut self,
        pass: Pass,
        file: &Candidate,
        batch: &RecordBatch,
        live: &BooleanArray,
        first_row: u64,
    ) -> DeltaResult<BooleanArray> {
        let plan = self.plan;
        let target_only = plan.target_only(batch)?;
        let keys = plan
            .join
            .target_keys
            .iter()
            .map(|k| k.evaluate(&target_only))
            .collect::<DeltaResult<Vec<_>>>()?;
        let (mut targets, mut sources) = self.index.probe(&keys, live)?;
        let pairs = match targets.is_empty() {
            true => None,
            false => {
                let target_rows = take_record_batch(batch, &targets)?;
                let source_rows = take_record_batch(&plan.source, &sources)?;
                let mut combined = plan.combined(Some(&target_rows), Some(&source_rows), targets.len())?;
                let mut target_rows = target_rows;
                if let Some(residual) = &plan.join.residual {
                    let keep = true_only(&residual.evaluate_predicate(&combined)?);
                    targets = downcast_u32(filter(&targets, &keep)?)?;
                    sources = downcast_u32(filter(&sources, &keep)?)?;
                    combined = filter_record_batch(&combined, &keep)?;
                    target_rows = filter_record_batch(&target_rows, &keep)?;
                }
                Some((target_rows, combined))
            }
        };
        if pass == Pass::Probe {
            if !plan.matched.is_empty() {
                let twice = targets.values().windows(2).find(|w| w[0] == w[1]);
                if let Some(w) = twice {
                    return Err(DeltaError::InvalidArgument(format!(
                        "the merge source matches row {} of target file {} more than once: a target row may \
                         be matched by at most one source row when a WHEN MATCHED clause exists",
                        first_row + u64::from(w[0]),
                        file.add.path
                    )));
                }
            }
            for &s in sources.values() {
                self.source_matched[s as usize] = true;
            }
        }
        let mut changed = vec![false; batch.num_rows()];
        if let Some((target_rows, combined)) = pairs
            && !plan.matched.is_empty()
            && !targets.is_empty()
        {
            self.apply(
                pass,
                ClauseKind::Matched,
                &target_rows,
                &combined,
                &targets,
                &mut changed,
            )
            .await?;
        }
        if !plan.not_matched_by_source.is_empty() {
            let mut unmatched: Vec<bool> = live.iter().map(|v| v == Some(true)).collect();
            for &t in targets.values() {
                unmatched[t as usize] = false;
            }
            let unmatched = BooleanArray::from(unmatched);
            if unmatched.true_count() > 0 {
                let indices = UInt32Array::from_iter_values(unmatched.values().set_indices().map(|i| i as u32));
                let target_rows = filter_record_batch(batch, &unmatched)?;
                let combined = plan.combined(Some(&target_rows), None, target_rows.num_rows())?;
                self.apply(
                    pass,
                    ClauseKind::NotMatchedBySource,
                    &target_rows,
                    &combined,
                    &indices,
                    &mut changed,
                )
                .await?;
            }
        }
        Ok(BooleanArray::from(changed))
    }

    /// Apply the target clauses of `kind` to `target_rows` (rows `indices` of their batch), whose
    /// expressions read `combined`; mark the rows they change in `changed`, and write them when
    /// rewriting.
    async fn apply(
        &mut self,
        pass: Pass,
        kind: ClauseKind,
        target_rows: &RecordBatch,
        combined: &RecordBatch,
        indices: &UInt32Array,
        changed: &mut [bool],
    ) -> DeltaResult<()> {
        let plan = self.plan;
        let clauses = match kind {
            ClauseKind::Matched => &plan.matched,
            _ => &plan.not_matched_by_source,
        };
        for (clause, hit) in clauses.iter().zip(choose(clauses, combined)?) {
            let n = hit.true_count();
            if n == 0 {
                continue;
            }
            for i in hit.values().set_indices() {
                changed[indices.value(i) as usize] = true;
            }
            if pass == Pass::Probe {
                continue;
            }
            let writing = Instant::now();
            let before = filter_record_batch(target_rows, &hit)?;
            match &clause.action {
                TargetAction::Update(assignments) => {
                    let input = filter_record_batch(combined, &hit)?;
                    let after = assign(&before, &input, assignments, &plan.rules)?;
                    self.rewrite.write_changes(&before, "update_preimage").await?;
                    self.rewrite.write_changes(&after, "update_postimage").await?;
                    self.rewrite.write_rows(&after).await?;
                    self.metrics.num_target_rows_updated += n;
                    match kind {
                        ClauseKind::Matched => self.metrics.num_target_rows_matched_updated += n,
                        _ => self.metrics.num_target_rows_not_matched_by_source_updated += n,
                    }
                }
                TargetAction::Delete => {
                    self.rewrite.write_changes(&before, "delete").await?;
                    self.metrics.num_target_rows_deleted += n;
                    match kind {
                        ClauseKind::Matched => self.metrics.num_target_rows_matched_deleted += n,
                        _ => self.metrics.num_target_rows_not_matched_by_source_deleted += n,
                    }
                }
            }
            self.rewrite_time += writing.elapsed();
        }
        Ok(())
    }

    /// Insert the source rows that matched no target row, by the first insert clause that
    /// takes each.
    async fn inserts(&mut self) -> DeltaResult<()> {
        let plan = self.plan;
        if plan.not_matched.is_empty() {
            return Ok(());
        }
        let unmatched = BooleanArray::from(self.source_matched.iter().map(|m| !m).collect::<Vec<_>>());
        if unmatched.true_count() == 0 {
            return Ok(());
        }
        let writing = Instant::now();
        let source_rows = filter_record_batch(&plan.source, &unmatched)?;
        let combined = plan.combined(None, Some(&source_rows), source_rows.num_rows())?;
        for (clause, hit) in plan.not_matched.iter().zip(choose(&plan.not_matched, &combined)?) {
            let n = hit.true_count();
            if n == 0 {
                continue;
            }
            let input = filter_record_batch(&combined, &hit)?;
            let inserted = self.insert_rows(&input, &clause.action)?;
            self.rewrite.write_changes(&inserted, "insert").await?;
            self.rewrite.write_rows(&inserted).await?;
            self.metrics.num_target_rows_inserted += n;
        }
        self.rewrite_time += writing.elapsed();
        Ok(())
    }

    /// The rows an insert clause makes from `input` (combined rows without a target side).
    fn insert_rows(&self, input: &RecordBatch, assignments: &[Assignment]) -> DeltaResult<RecordBatch> {
        let base = self.plan.null_rows(input.num_rows())?;
        let rows = assign(&base, input, assignments, &self.plan.rules)?;
        // Back to the table's schema, whose NOT NULL columns the clause was checked to set.
        RecordBatch::try_new(self.plan.arrow_schema.clone(), rows.columns().to_vec())
            .map_err(|e| DeltaError::Schema(format!("the inserted rows do not fit the table: {e}")))
    }
}

/// `array` as the `UInt32Array` it is.
fn downcast_u32(array: arrow::array::ArrayRef) -> DeltaResult<UInt32Array> {
    array
        .as_any()
        .downcast_ref::<UInt32Array>()
        .cloned()
        .ok_or_else(|| DeltaError::InvalidArgument("expected row indices".into()))
}

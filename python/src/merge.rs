//! MERGE from Python: the clauses `deltalake.TableMerger` collects, applied to the core's
//! `MergeBuilder`, and its metrics under the reference package's keys.

use std::collections::HashMap;

use deltalake::operations::merge::{MergeBuilder, MergeMetrics};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// One clause as `TableMerger` records it: `(kind, predicate, updates, except_cols)`, where kind
/// is the name of the `TableMerger` method (`when_matched_update`, ...).
pub type PyMergeClause = (
    String,
    Option<String>,
    Option<Vec<(String, String)>>,
    Option<Vec<String>>,
);

/// `merge` with `clause` added.
pub fn add_clause(merge: MergeBuilder, clause: PyMergeClause) -> PyResult<MergeBuilder> {
    let (kind, predicate, updates, except) = clause;
    let updates = updates.unwrap_or_default();
    let except = except.unwrap_or_default();
    // Each clause type has its own `predicate` setter: apply the condition when there is one.
    macro_rules! when {
        ($clause:expr) => {
            match &predicate {
                Some(p) => $clause.predicate(p.clone()),
                None => $clause,
            }
        };
    }
    Ok(match kind.as_str() {
        "when_matched_update" => {
            merge.when_matched_update(|u| updates.into_iter().fold(when!(u), |u, (c, e)| u.update(c, e)))
        }
        "when_not_matched_by_source_update" => {
            merge.when_not_matched_by_source_update(|u| updates.into_iter().fold(when!(u), |u, (c, e)| u.update(c, e)))
        }
        "when_not_matched_insert" => {
            merge.when_not_matched_insert(|i| updates.into_iter().fold(when!(i), |i, (c, e)| i.set(c, e)))
        }
        "when_matched_update_all" => merge.when_matched_update_all(|a| when!(a).except(except)),
        "when_not_matched_insert_all" => merge.when_not_matched_insert_all(|a| when!(a).except(except)),
        "when_matched_delete" => merge.when_matched_delete(|d| when!(d)),
        "when_not_matched_by_source_delete" => merge.when_not_matched_by_source_delete(|d| when!(d)),
        other => return Err(PyValueError::new_err(format!("unknown merge clause '{other}'"))),
    })
}

/// The metrics with the reference package's keys.
pub fn metrics_dict(m: &MergeMetrics) -> HashMap<&'static str, i64> {
    let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    let ms = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    HashMap::from([
        ("num_source_rows", n(m.num_source_rows)),
        ("num_target_rows_inserted", n(m.num_target_rows_inserted)),
        ("num_target_rows_updated", n(m.num_target_rows_updated)),
        ("num_target_rows_deleted", n(m.num_target_rows_deleted)),
        ("num_target_rows_copied", n(m.num_target_rows_copied)),
        ("num_output_rows", n(m.num_output_rows)),
        ("num_target_files_scanned", n(m.num_target_files_scanned)),
        (
            "num_target_files_skipped_during_scan",
            n(m.num_target_files_skipped_during_scan),
        ),
        ("num_target_files_added", n(m.num_target_files_added)),
        ("num_target_files_removed", n(m.num_target_files_removed)),
        ("num_target_change_files_added", n(m.num_target_change_files_added)),
        (
            "num_target_deletion_vectors_added",
            n(m.num_target_deletion_vectors_added),
        ),
        ("execution_time_ms", ms(m.execution_time_ms)),
        ("scan_time_ms", ms(m.scan_time_ms)),
        ("rewrite_time_ms", ms(m.rewrite_time_ms)),
    ])
}

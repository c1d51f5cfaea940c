//! Log compaction files: `<x>.<y>.compacted.json` holds the reconciled actions of commits `x`
//! through `y`, which a reader may read in their place (the protocol's "Log Compaction Files").
//! This crate's own replay reads the commits; other readers can use the compaction.

use std::collections::BTreeMap;

use object_store::ObjectStoreExt;
use object_store::path::Path;
use tracing::info;

use super::history::read_commits;
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::Action;
use crate::protocol::actions::serialize_actions;
use crate::storage::LogStore;

/// The name of the log compaction file of commits `start..=end`.
fn compaction_file_name(start: i64, end: i64) -> String {
    format!("{start:020}.{end:020}.compacted.json")
}

/// Write the log compaction file of commits `start..=end` (`start < end`, both in the log) and
/// return its location. Writing it again for the same range writes the same actions.
pub async fn write_log_compaction(store: &dyn LogStore, start: i64, end: i64) -> DeltaResult<Path> {
    if start < 0 || start >= end {
        return Err(DeltaError::InvalidArgument(format!(
            "a log compaction covers two commits or more: versions {start} to {end}"
        )));
    }
    let commits = read_commits(store, start, Some(end)).await?;
    let actions = reconcile(commits.into_iter().flat_map(|c| c.actions));
    let path = store.log_path().join(compaction_file_name(start, end).as_str());
    store
        .object_store()
        .as_ref()
        .put(&path, serialize_actions(&actions)?.into())
        .await?;
    info!(table = %store.root_url(), start, end, actions = actions.len(), "log compaction written");
    Ok(path)
}

/// The protocol's action reconciliation of `actions` (in commit order): the last protocol and
/// metadata, the last `txn` of each application and domain metadata of each domain (removals
/// kept), and for each logical file (path and deletion vector) its last `add` or `remove`.
/// Commit information and change data files are not part of the state.
fn reconcile(actions: impl IntoIterator<Item = Action>) -> Vec<Action> {
    let mut protocol = None;
    let mut metadata = None;
    let mut txns = BTreeMap::new();
    let mut domains = BTreeMap::new();
    let mut files = BTreeMap::new();
    for action in actions {
        match action {
            Action::Protocol(p) => protocol = Some(Action::Protocol(p)),
            Action::Metadata(m) => metadata = Some(Action::Metadata(m)),
            Action::Txn(t) => {
                txns.insert(t.app_id.clone(), Action::Txn(t));
            }
            Action::DomainMetadata(d) => {
                domains.insert(d.domain.clone(), Action::DomainMetadata(d));
            }
            Action::Add(add) => {
                let key = (add.path.clone(), add.deletion_vector.as_ref().map(|dv| dv.unique_id()));
                files.insert(key, Action::Add(add));
            }
            Action::Remove(remove) => {
                let key = (
                    remove.path.clone(),
                    remove.deletion_vector.as_ref().map(|dv| dv.unique_id()),
                );
                files.insert(key, Action::Remove(remove));
            }
            Action::CommitInfo(_) | Action::Cdc(_) | Action::CheckpointMetadata(_) | Action::Sidecar(_) => {}
        }
    }
    protocol
        .into_iter()
        .chain(metadata)
        .chain(txns.into_values())
        .chain(domains.into_values())
        .chain(files.into_values())
        .collect()
}

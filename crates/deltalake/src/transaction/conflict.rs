//! Conflict detection between a transaction and the commits that won the race before it,
//! following the specification's optimistic concurrency rules.

use std::collections::HashSet;

use crate::error::{DeltaError, DeltaResult};
use crate::protocol::Action;

/// What a transaction read from its snapshot, which decides which concurrent changes it must not miss.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ReadScope {
    /// Nothing: a blind append. Only metadata, protocol and app-transaction changes conflict.
    #[default]
    Nothing,
    /// Exactly these files (paths as in the log), e.g. the files a compaction rewrites.
    Files(HashSet<String>),
    /// The whole table: any concurrent data change conflicts.
    Table,
}

/// The parts of our transaction that concurrent commits are checked against.
#[derive(Debug)]
pub(crate) struct OurChanges<'a> {
    pub scope: &'a ReadScope,
    pub removed: HashSet<&'a str>,
    pub app_ids: HashSet<&'a str>,
    pub changes_metadata: bool,
}

impl<'a> OurChanges<'a> {
    pub fn new(scope: &'a ReadScope, actions: &'a [Action]) -> Self {
        let mut removed = HashSet::new();
        let mut app_ids = HashSet::new();
        let mut changes_metadata = false;
        for action in actions {
            match action {
                Action::Remove(r) => {
                    removed.insert(r.path.as_str());
                }
                Action::Txn(t) => {
                    app_ids.insert(t.app_id.as_str());
                }
                Action::Metadata(_) | Action::Protocol(_) => changes_metadata = true,
                _ => {}
            }
        }
        Self {
            scope,
            removed,
            app_ids,
            changes_metadata,
        }
    }

    /// Check one winning commit; `Err(CommitConflict)` when we cannot commit after it.
    pub fn check(&self, version: i64, winner: &[Action]) -> DeltaResult<()> {
        let conflict = |reason: String| Err(DeltaError::CommitConflict { version, reason });
        let mut winner_changes_data = false;
        for action in winner {
            match action {
                Action::Protocol(_) => return conflict("the protocol changed concurrently".into()),
                Action::Metadata(_) => {
                    return conflict("the table metadata (schema or properties) changed concurrently".into());
                }
                Action::Txn(t) if self.app_ids.contains(t.app_id.as_str()) => {
                    return conflict(format!(
                        "application '{}' committed a transaction concurrently",
                        t.app_id
                    ));
                }
                Action::Remove(r) => {
                    if self.removed.contains(r.path.as_str()) {
                        return conflict(format!("file {} was removed concurrently (delete-delete)", r.path));
                    }
                    let read = match self.scope {
                        ReadScope::Nothing => false,
                        ReadScope::Files(files) => files.contains(&r.path),
                        ReadScope::Table => r.data_change,
                    };
                    if read {
                        return conflict(format!(
                            "file {} that this transaction read was removed concurrently",
                            r.path
                        ));
                    }
                    winner_changes_data |= r.data_change;
                }
                Action::Add(a) => {
                    if self.scope == &ReadScope::Table && a.data_change {
                        return conflict(format!(
                            "data was added concurrently ({}) to a table this transaction read",
                            a.path
                        ));
                    }
                    winner_changes_data |= a.data_change;
                }
                _ => {}
            }
        }
        if self.changes_metadata && winner_changes_data {
            return conflict("data changed concurrently while this transaction changes the table metadata".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Add, Remove, Txn};

    fn add(path: &str) -> Action {
        Action::Add(Add {
            path: path.into(),
            partition_values: Default::default(),
            size: 1,
            modification_time: 0,
            data_change: true,
            stats: None,
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
            clustering_provider: None,
        })
    }

    fn remove(path: &str) -> Action {
        Action::Remove(Remove {
            path: path.into(),
            deletion_timestamp: Some(0),
            data_change: true,
            extended_file_metadata: None,
            partition_values: None,
            size: None,
            stats: None,
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
        })
    }

    fn txn(app: &str) -> Action {
        Action::Txn(Txn {
            app_id: app.into(),
            version: 1,
            last_updated: None,
        })
    }

    #[test]
    fn blind_appends_only_conflict_on_metadata_and_app_ids() {
        let ours = vec![add("mine"), txn("app")];
        let changes = OurChanges::new(&ReadScope::Nothing, &ours);
        changes.check(1, &[add("theirs"), remove("old")]).unwrap();
        assert!(changes.check(1, &[txn("app")]).is_err());
        changes.check(1, &[txn("other")]).unwrap();
    }

    #[test]
    fn readers_of_files_conflict_with_their_removal() {
        let scope = ReadScope::Files(HashSet::from(["a".to_string()]));
        let ours = vec![remove("a"), add("compacted")];
        let changes = OurChanges::new(&scope, &ours);
        changes.check(1, &[add("new")]).unwrap();
        let err = changes.check(1, &[remove("a")]).unwrap_err();
        assert!(matches!(err, DeltaError::CommitConflict { version: 1, .. }), "{err}");
        changes.check(1, &[remove("b")]).unwrap();
    }

    #[test]
    fn whole_table_readers_conflict_with_any_data_change() {
        let ours = vec![remove("a")];
        let changes = OurChanges::new(&ReadScope::Table, &ours);
        assert!(changes.check(3, &[add("x")]).is_err());
        assert!(changes.check(3, &[remove("y")]).is_err());
    }

    #[test]
    fn metadata_changes_conflict_with_concurrent_data_and_metadata() {
        let ours = vec![Action::Protocol(crate::protocol::Protocol {
            min_reader_version: 1,
            min_writer_version: 2,
            reader_features: None,
            writer_features: None,
        })];
        let changes = OurChanges::new(&ReadScope::Nothing, &ours);
        assert!(changes.check(2, &[add("x")]).is_err());
        let p = ours[0].clone();
        assert!(
            OurChanges::new(&ReadScope::Nothing, &[add("z")])
                .check(2, &[p])
                .is_err()
        );
    }
}

//! Conflict detection between a transaction and the commits that won the race before it,
//! following the specification's optimistic concurrency rules.

use std::collections::HashSet;

use crate::error::{DeltaError, DeltaResult};
use crate::expr::{BoundExpr, FileSkipping};
use crate::log::file_list::AddBatchBuilder;
use crate::protocol::{Action, Add, StructType};

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
    /// The rows matching a predicate (DELETE, UPDATE): the files read may not be removed
    /// concurrently, and a concurrently added file conflicts only if it may hold matching rows.
    Matching(MatchingFiles),
}

/// The files a predicate-driven transaction read, and the predicate, for [`ReadScope::Matching`].
#[derive(Debug, Clone)]
pub struct MatchingFiles {
    files: HashSet<String>,
    skipping: FileSkipping,
}

impl MatchingFiles {
    /// `files` (paths as in the log) were read to find the rows matching `predicate`, which is
    /// bound to `schema`, the schema of a table partitioned by `partition_columns`.
    pub fn new(
        files: HashSet<String>,
        predicate: &BoundExpr,
        schema: &StructType,
        partition_columns: &[String],
    ) -> DeltaResult<Self> {
        Ok(Self {
            files,
            skipping: FileSkipping::new(predicate, schema, partition_columns)?,
        })
    }

    /// Whether `add` may hold rows matching the predicate, by its partition values and statistics.
    fn may_match(&self, add: &Add) -> DeltaResult<bool> {
        let mut batch = AddBatchBuilder::default();
        batch.append(add)?;
        Ok(self.skipping.keep_mask(&batch.finish()?)?.value(0))
    }
}

impl PartialEq for MatchingFiles {
    fn eq(&self, other: &Self) -> bool {
        self.files == other.files && self.skipping.skipping_predicate() == other.skipping.skipping_predicate()
    }
}

impl Eq for MatchingFiles {}

/// The parts of our transaction that concurrent commits are checked against.
#[derive(Debug)]
pub(crate) struct OurChanges<'a> {
    pub scope: &'a ReadScope,
    pub removed: HashSet<&'a str>,
    pub app_ids: HashSet<&'a str>,
    /// Metadata domains we set or remove.
    pub domains: HashSet<&'a str>,
    pub changes_metadata: bool,
}

impl<'a> OurChanges<'a> {
    pub fn new(scope: &'a ReadScope, actions: &'a [Action]) -> Self {
        let mut removed = HashSet::new();
        let mut app_ids = HashSet::new();
        let mut domains = HashSet::new();
        let mut changes_metadata = false;
        for action in actions {
            match action {
                Action::Remove(r) => {
                    removed.insert(r.path.as_str());
                }
                Action::Txn(t) => {
                    app_ids.insert(t.app_id.as_str());
                }
                Action::DomainMetadata(d) => {
                    domains.insert(d.domain.as_str());
                }
                Action::Metadata(_) | Action::Protocol(_) => changes_metadata = true,
                _ => {}
            }
        }
        Self {
            scope,
            removed,
            app_ids,
            domains,
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
                Action::DomainMetadata(d) if self.domains.contains(d.domain.as_str()) => {
                    return conflict(format!("metadata domain '{}' changed concurrently", d.domain));
                }
                Action::Remove(r) => {
                    if self.removed.contains(r.path.as_str()) {
                        return conflict(format!("file {} was removed concurrently (delete-delete)", r.path));
                    }
                    let read = match self.scope {
                        ReadScope::Nothing => false,
                        ReadScope::Files(files) => files.contains(&r.path),
                        ReadScope::Table => r.data_change,
                        ReadScope::Matching(m) => m.files.contains(&r.path),
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
                    if let ReadScope::Matching(m) = self.scope
                        && a.data_change
                        && m.may_match(a)?
                    {
                        return conflict(format!(
                            "file {} added concurrently may hold rows matching this transaction's predicate",
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
        Action::Add(Add::new_file(path.into(), Default::default(), 1, 0, None))
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
    fn domain_changes_conflict_only_with_the_same_domain() {
        let domain = |name: &str| {
            Action::DomainMetadata(crate::protocol::DomainMetadata {
                domain: name.into(),
                configuration: "{}".into(),
                removed: false,
            })
        };
        let ours = vec![domain("delta.clustering")];
        let changes = OurChanges::new(&ReadScope::Nothing, &ours);
        changes.check(1, &[domain("other"), add("x")]).unwrap();
        let err = changes.check(1, &[domain("delta.clustering")]).unwrap_err();
        assert!(err.to_string().contains("delta.clustering"), "{err}");
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
    fn predicate_readers_conflict_only_with_files_that_may_match() {
        use crate::protocol::{DataType, PrimitiveType, StructField};
        let schema = StructType::new(vec![
            StructField::new("part", DataType::Primitive(PrimitiveType::String), true),
            StructField::new("id", DataType::Primitive(PrimitiveType::Long), true),
        ]);
        let predicate = crate::Expr::parse("part = 'a'")
            .unwrap()
            .bind_predicate(&schema)
            .unwrap();
        let read = HashSet::from(["part=a/f1".to_string()]);
        let scope = ReadScope::Matching(MatchingFiles::new(read, &predicate, &schema, &["part".into()]).unwrap());
        let ours = vec![remove("part=a/f1")];
        let changes = OurChanges::new(&scope, &ours);
        let in_partition = |p: &str| {
            let Action::Add(mut a) = add(&format!("part={p}/new")) else {
                unreachable!()
            };
            a.partition_values.insert("part".into(), Some(p.into()));
            Action::Add(a)
        };
        changes.check(1, &[in_partition("b")]).unwrap();
        assert!(changes.check(1, &[in_partition("a")]).is_err());
        assert!(changes.check(1, &[remove("part=a/f1")]).is_err());
        changes.check(1, &[remove("part=b/other")]).unwrap();
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

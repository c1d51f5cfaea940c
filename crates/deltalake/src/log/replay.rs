//! Log replay: reconciling a checkpoint (or an earlier snapshot) and the commits after it into
//! the state of one version, as the specification's "Action Reconciliation" describes.

use std::collections::{HashMap, HashSet};

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt, stream};
use object_store::ObjectMeta;

use super::checkpoint_read::read_checkpoint;
use super::file_list::{AddBatchBuilder, FileKey, FileList, FileView};
use super::segment::LogSegment;
use super::tombstones::{TombstoneBatchBuilder, TombstoneList, TombstoneView};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::actions::parse_actions;
use crate::protocol::{Action, CommitInfo, DomainMetadata, Metadata, Protocol, Txn};
use crate::storage::LogStore;

/// The reconciled state of one version.
#[derive(Debug, Clone)]
pub(crate) struct Replayed {
    /// The version.
    pub version: i64,
    /// The protocol in force.
    pub protocol: Protocol,
    /// The metadata in force.
    pub metadata: Metadata,
    /// The active files.
    pub files: FileList,
    /// Files removed and not re-added (unexpired or not: expiry is the checkpoint writer's call).
    pub tombstones: TombstoneList,
    /// The latest transaction version of each application.
    pub txns: HashMap<String, Txn>,
    /// Active metadata domains.
    pub domains: HashMap<String, DomainMetadata>,
    /// The commit timestamp of the version, in milliseconds: the in-commit timestamp when the
    /// commit has one, else the commit file's modification time.
    pub timestamp: i64,
}

/// Read one commit file.
pub async fn read_commit(store: &dyn LogStore, version: i64, meta: &ObjectMeta) -> DeltaResult<Vec<Action>> {
    let read = store.read_log_files(vec![meta.location.clone()]).next().await;
    let read = read.unwrap_or_else(|| Ok(Default::default()));
    parse_commit((read, (version, meta.clone()))).map(|(_, _, actions)| actions)
}

/// Commits parsed by one task when reading many.
const PARSE_CHUNK: usize = 256;

/// Read and parse commit files, in the order given (many at once: see [`LogStore::read_log_files`]).
/// Inside a Tokio runtime, chunks of commits are parsed by tasks of their own while the next are read.
pub(crate) fn read_commits_in_order(
    store: &dyn LogStore,
    commits: Vec<(i64, ObjectMeta)>,
) -> BoxStream<'_, DeltaResult<(i64, ObjectMeta, Vec<Action>)>> {
    let locations = commits.iter().map(|(_, meta)| meta.location.clone()).collect();
    let chunks = store
        .read_log_files(locations)
        .zip(stream::iter(commits))
        .ready_chunks(PARSE_CHUNK);
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => chunks
            .map(move |chunk| {
                let parsed = runtime.spawn(async move { chunk.into_iter().map(parse_commit).collect::<Vec<_>>() });
                async move {
                    match parsed.await {
                        Ok(parsed) => parsed,
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        // The runtime is shutting down.
                        Err(e) => vec![Err(DeltaError::ObjectStore(object_store::Error::Generic {
                            store: "log reader",
                            source: Box::new(e),
                        }))],
                    }
                }
            })
            .buffered(2)
            .flat_map(stream::iter)
            .boxed(),
        Err(_) => chunks
            .flat_map(|chunk| stream::iter(chunk.into_iter().map(parse_commit)))
            .boxed(),
    }
}

fn parse_commit(
    (bytes, (version, meta)): (object_store::Result<bytes::Bytes>, (i64, ObjectMeta)),
) -> DeltaResult<(i64, ObjectMeta, Vec<Action>)> {
    let path = meta.location.to_string();
    let actions = match bytes {
        Ok(bytes) => parse_actions(&bytes, &path, Some(version))?,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(DeltaError::invalid_log(
                path,
                Some(version),
                "commit file disappeared while reading the log",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok((version, meta, actions))
}

/// Replay `segment`; `base` is an earlier state the segment's commits apply on top of (for incremental
/// updates), used instead of the segment's checkpoint.
pub async fn replay(store: &dyn LogStore, segment: &LogSegment, base: Option<&Replayed>) -> DeltaResult<Replayed> {
    let commits = read_commits_in_order(store, segment.commits.clone()).try_collect::<Vec<_>>();
    let checkpoint = async {
        match (&segment.checkpoint, base) {
            (Some((v, files)), None) => read_checkpoint(store, *v, files).await.map(Some),
            _ => Ok(None),
        }
    };
    let (commits, checkpoint) = futures::try_join!(commits, checkpoint)?;

    let mut state = Reconciler::default();
    for (version, meta, actions) in commits.into_iter().rev() {
        state.apply_commit(version, meta.last_modified.timestamp_millis(), actions)?;
    }
    match (checkpoint, base) {
        (Some(cp), _) => {
            state.apply_base_actions(cp.actions);
            for batch in &cp.adds {
                state.apply_base_files(batch)?;
            }
            for batch in &cp.tombstones {
                state.apply_base_tombstones(batch)?;
            }
            if state.timestamp.is_none() {
                let cp_version = segment.checkpoint.as_ref().map_or(0, |c| c.0);
                let modified = segment
                    .checkpoint
                    .as_ref()
                    .and_then(|c| c.1.first())
                    .map(|f| f.meta.last_modified);
                state.note_timestamp(cp_version, modified.map_or(0, |m| m.timestamp_millis()), None);
            }
        }
        (None, Some(base)) => {
            state.protocol.get_or_insert_with(|| base.protocol.clone());
            state.metadata.get_or_insert_with(|| base.metadata.clone());
            for (app, txn) in &base.txns {
                state.txns.entry(app.clone()).or_insert_with(|| txn.clone());
            }
            for (name, d) in &base.domains {
                if state.seen_domains.insert(name.clone()) {
                    state.domains.insert(name.clone(), d.clone());
                }
            }
            for batch in base.files.batches() {
                state.apply_base_files(batch)?;
            }
            for batch in base.tombstones.batches() {
                state.apply_base_tombstones(batch)?;
            }
            if state.timestamp.is_none() {
                state.timestamp = Some((base.version, base.timestamp));
            }
        }
        (None, None) => {}
    }
    state.finish(store, segment.version)
}

#[derive(Default)]
struct Reconciler {
    seen_files: HashSet<FileKey>,
    adds: AddBatchBuilder,
    base_files: Vec<RecordBatch>,
    tombstones: TombstoneBatchBuilder,
    base_tombstones: Vec<RecordBatch>,
    protocol: Option<Protocol>,
    metadata: Option<Metadata>,
    txns: HashMap<String, Txn>,
    seen_domains: HashSet<String>,
    domains: HashMap<String, DomainMetadata>,
    /// Version and timestamp of the newest commit seen.
    timestamp: Option<(i64, i64)>,
}

impl Reconciler {
    /// Apply the actions of one commit; commits arrive newest first.
    fn apply_commit(&mut self, version: i64, modified_ms: i64, actions: Vec<Action>) -> DeltaResult<()> {
        let mut ict = None;
        for action in actions {
            match action {
                Action::Add(add) => {
                    if self
                        .seen_files
                        .insert(FileKey::new(&add.path, add.deletion_vector.as_ref()))
                    {
                        self.adds.append(&add)?;
                    }
                }
                Action::Remove(remove) => {
                    if self
                        .seen_files
                        .insert(FileKey::new(&remove.path, remove.deletion_vector.as_ref()))
                    {
                        self.tombstones.append(&remove)?;
                    }
                }
                Action::CommitInfo(CommitInfo {
                    in_commit_timestamp, ..
                }) => ict = ict.or(in_commit_timestamp),
                other => self.apply_state_action(other),
            }
        }
        self.note_timestamp(version, modified_ms, ict);
        Ok(())
    }

    fn note_timestamp(&mut self, version: i64, modified_ms: i64, ict: Option<i64>) {
        if self.timestamp.is_none() {
            self.timestamp = Some((version, ict.unwrap_or(modified_ms)));
        }
    }

    /// Non-file actions of a checkpoint: they count only where no newer commit set them.
    fn apply_base_actions(&mut self, actions: Vec<Action>) {
        for action in actions {
            self.apply_state_action(action);
        }
    }

    /// Protocol, metadata, txn and domain actions: the newest one seen wins.
    fn apply_state_action(&mut self, action: Action) {
        match action {
            Action::Protocol(p) => {
                self.protocol.get_or_insert(p);
            }
            Action::Metadata(m) => {
                self.metadata.get_or_insert(m);
            }
            Action::Txn(t) => {
                self.txns.entry(t.app_id.clone()).or_insert(t);
            }
            // A domain is settled by its newest action, which may be a removal.
            Action::DomainMetadata(d) if self.seen_domains.insert(d.domain.clone()) && !d.removed => {
                self.domains.insert(d.domain.clone(), d);
            }
            _ => {}
        }
    }

    /// Files of the base state survive unless a newer commit added or removed the same logical file.
    fn apply_base_files(&mut self, batch: &RecordBatch) -> DeltaResult<()> {
        let kept = self.unseen(batch, |row| FileView::new(batch, row).key())?;
        self.base_files.push(kept);
        Ok(())
    }

    /// Tombstones of the base state survive unless a newer commit added or removed the same logical file.
    fn apply_base_tombstones(&mut self, batch: &RecordBatch) -> DeltaResult<()> {
        let kept = self.unseen(batch, |row| TombstoneView::new(batch, row).key())?;
        self.base_tombstones.push(kept);
        Ok(())
    }

    /// The rows of `batch` whose logical file no newer commit mentions.
    fn unseen(&self, batch: &RecordBatch, key: impl Fn(usize) -> FileKey) -> DeltaResult<RecordBatch> {
        if self.seen_files.is_empty() {
            return Ok(batch.clone());
        }
        let keep: BooleanArray = (0..batch.num_rows())
            .map(|row| Some(!self.seen_files.contains(&key(row))))
            .collect();
        Ok(filter_record_batch(batch, &keep)?)
    }

    fn finish(self, store: &dyn LogStore, version: i64) -> DeltaResult<Replayed> {
        let uri = store.root_url().to_string();
        let log = store.log_path().to_string();
        let protocol = self
            .protocol
            .ok_or_else(|| DeltaError::invalid_log(&log, Some(version), "no protocol action found in the log"))?;
        let metadata = self
            .metadata
            .ok_or_else(|| DeltaError::invalid_log(&log, Some(version), "no metaData action found in the log"))?;
        protocol.ensure_readable(&uri)?;
        let mut batches = self.base_files;
        if !self.adds.is_empty() {
            batches.insert(0, self.adds.finish()?);
        }
        let mut tombstones = self.base_tombstones;
        if !self.tombstones.is_empty() {
            tombstones.insert(0, self.tombstones.finish()?);
        }
        Ok(Replayed {
            version,
            protocol,
            metadata,
            files: FileList::new(batches),
            tombstones: TombstoneList::new(tombstones),
            txns: self.txns,
            domains: self.domains,
            timestamp: self.timestamp.map_or(0, |t| t.1),
        })
    }
}

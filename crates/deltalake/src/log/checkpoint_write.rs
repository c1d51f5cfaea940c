//! Writing checkpoints: a classic single-file Parquet checkpoint, or a UUID-named V2 checkpoint
//! with sidecars when the table has the `v2Checkpoint` feature, then `_last_checkpoint`.
//!
//! Every file is written with one atomic put (or a multipart upload completed at the end), and
//! `_last_checkpoint` only after the checkpoint is complete, so readers never see a partial one.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use object_store::ObjectMeta;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tracing::debug;

use super::checkpoint_schema::CheckpointLayout;
use super::replay::Replayed;
use super::segment::LastCheckpoint;
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::{Action, CheckpointMetadata, Sidecar, TableConfig};
use crate::storage::LogStore;

/// How checkpoints are written.
#[derive(Debug, Clone)]
pub struct CheckpointOptions {
    /// At most this many file actions per sidecar file of a V2 checkpoint (default 1,000,000).
    pub actions_per_sidecar: usize,
}

impl Default for CheckpointOptions {
    fn default() -> Self {
        Self {
            actions_per_sidecar: 1_000_000,
        }
    }
}

/// Write the checkpoint of `snapshot`'s version and point `_last_checkpoint` at it. `snapshot` is
/// a [`Snapshot`](crate::Snapshot), or the [`Replayed`] state of a version.
///
/// Returns what `_last_checkpoint` describes (written unless it already named a newer checkpoint).
pub async fn write_checkpoint(store: &dyn LogStore, snapshot: &impl AsRef<Replayed>) -> DeltaResult<LastCheckpoint> {
    write_checkpoint_with(store, snapshot, &CheckpointOptions::default()).await
}

/// [`write_checkpoint`] with options.
pub async fn write_checkpoint_with(
    store: &dyn LogStore,
    snapshot: &impl AsRef<Replayed>,
    options: &CheckpointOptions,
) -> DeltaResult<LastCheckpoint> {
    let span = crate::telemetry::operation_span!("checkpoint", store.redacted_url());
    crate::telemetry::traced(span, write(store, snapshot.as_ref(), options), |hint| {
        crate::telemetry::Figures {
            version: Some(hint.version),
            files: hint.num_of_add_files.and_then(|n| usize::try_from(n).ok()),
            rows: hint.size.and_then(|n| usize::try_from(n).ok()),
            bytes: hint.size_in_bytes.and_then(|n| u64::try_from(n).ok()),
        }
    })
    .await
}

/// [`write_checkpoint_with`] inside its span.
async fn write(store: &dyn LogStore, state: &Replayed, options: &CheckpointOptions) -> DeltaResult<LastCheckpoint> {
    let config = TableConfig::new(&state.metadata.configuration);
    let layout = CheckpointLayout::new(state, &config)?;
    let retention = config.deleted_file_retention()?;
    let cutoff = chrono::Utc::now()
        .timestamp_millis()
        .saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
    let tombstones = state.tombstones.unexpired(cutoff)?;
    let files = FileActions {
        layout: &layout,
        adds: state.files.batches(),
        removes: &tombstones,
    };
    let version = state.version;
    let (size, bytes) = if state.protocol.has_writer_feature("v2Checkpoint") {
        write_v2(store, state, &layout, &files, options).await?
    } else {
        let path = store
            .log_path()
            .join(format!("{version:020}.checkpoint.parquet").as_str());
        let schema = layout.v1_schema();
        let mut sink = ParquetSink::create(store, path, &schema)?;
        sink.write(&CheckpointLayout::action_batch(&schema, &state_actions(state))?)
            .await?;
        for batch in files.batches(&schema) {
            sink.write(&batch?).await?;
        }
        let rows = sink.rows;
        let meta = sink.finish(store).await?;
        (rows, meta.size)
    };
    let hint = LastCheckpoint {
        version,
        size: Some(size as i64),
        parts: None,
        size_in_bytes: Some(i64::try_from(bytes).unwrap_or(i64::MAX)),
        num_of_add_files: Some(state.files.len() as i64),
    };
    hint.publish(store).await?;
    debug!(version, actions = size, bytes, "checkpoint written");
    Ok(hint)
}

/// Write the sidecars, then the top-level file. Returns the number of actions and bytes written.
async fn write_v2(
    store: &dyn LogStore,
    state: &Replayed,
    layout: &CheckpointLayout,
    files: &FileActions<'_>,
    options: &CheckpointOptions,
) -> DeltaResult<(usize, u64)> {
    let sidecar_dir = store.log_path().join("_sidecars");
    let sidecar_schema = layout.sidecar_schema();
    let per_file = options.actions_per_sidecar.max(1);
    let mut sidecars = Vec::new();
    let mut bytes = 0;
    let mut file_actions = 0;
    let mut sink: Option<ParquetSink> = None;
    for batch in files.batches(&sidecar_schema) {
        let mut batch = batch?;
        while batch.num_rows() > 0 {
            let current = match &mut sink {
                Some(s) => s,
                None => {
                    let name = format!("{}.parquet", uuid::Uuid::new_v4());
                    sink.insert(ParquetSink::create(
                        store,
                        sidecar_dir.clone().join(name.as_str()),
                        &sidecar_schema,
                    )?)
                }
            };
            let take = batch.num_rows().min(per_file - current.rows);
            current.write(&batch.slice(0, take)).await?;
            batch = batch.slice(take, batch.num_rows() - take);
            if current.rows == per_file
                && let Some(full) = sink.take()
            {
                file_actions += full.rows;
                sidecars.push(full.finish(store).await?);
            }
        }
    }
    if let Some(last) = sink.take() {
        file_actions += last.rows;
        sidecars.push(last.finish(store).await?);
    }
    let mut actions = vec![Action::CheckpointMetadata(CheckpointMetadata {
        version: state.version,
        tags: None,
    })];
    actions.extend(state_actions(state));
    for meta in &sidecars {
        bytes += meta.size;
        actions.push(Action::Sidecar(Sidecar {
            path: meta.location.filename().unwrap_or_default().to_string(),
            size_in_bytes: i64::try_from(meta.size).unwrap_or(i64::MAX),
            modification_time: meta.last_modified.timestamp_millis(),
            tags: None,
        }));
    }
    let name = format!("{:020}.checkpoint.{}.parquet", state.version, uuid::Uuid::new_v4());
    let schema = layout.v2_schema();
    let mut top = ParquetSink::create(store, store.log_path().join(name.as_str()), &schema)?;
    top.write(&CheckpointLayout::action_batch(&schema, &actions)?).await?;
    let meta = top.finish(store).await?;
    Ok((actions.len() + file_actions, bytes + meta.size))
}

/// Protocol, metadata, application transactions and active domains, in a stable order.
fn state_actions(state: &Replayed) -> Vec<Action> {
    let mut actions = vec![
        Action::Protocol(state.protocol.clone()),
        Action::Metadata(state.metadata.clone()),
    ];
    let mut txns: Vec<_> = state.txns.values().cloned().collect();
    txns.sort_by(|a, b| a.app_id.cmp(&b.app_id));
    actions.extend(txns.into_iter().map(Action::Txn));
    let mut domains: Vec<_> = state.domains.values().cloned().collect();
    domains.sort_by(|a, b| a.domain.cmp(&b.domain));
    actions.extend(domains.into_iter().map(Action::DomainMetadata));
    actions
}

/// The file actions of a checkpoint: the snapshot's files as adds, unexpired tombstones as removes.
struct FileActions<'a> {
    layout: &'a CheckpointLayout,
    adds: &'a [RecordBatch],
    removes: &'a [RecordBatch],
}

impl FileActions<'_> {
    /// Batches of `schema`, one per file-list or tombstone batch, built as they are consumed.
    fn batches<'s>(&'s self, schema: &'s SchemaRef) -> impl Iterator<Item = DeltaResult<RecordBatch>> + 's {
        let adds = self.adds.iter().map(|b| self.layout.add_batch(schema, b));
        let removes = self.removes.iter().map(|b| CheckpointLayout::remove_batch(schema, b));
        adds.chain(removes)
    }
}

/// Actions per row group of a checkpoint file: readers decode row groups in parallel, so a
/// checkpoint of many thousand files loads on every core.
const CHECKPOINT_ROW_GROUP_ROWS: usize = 4096;

/// One Parquet file being written to the object store.
struct ParquetSink {
    writer: AsyncArrowWriter<BufWriter>,
    path: Path,
    rows: usize,
}

impl ParquetSink {
    fn create(store: &dyn LogStore, path: Path, schema: &SchemaRef) -> DeltaResult<Self> {
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(CHECKPOINT_ROW_GROUP_ROWS))
            .build();
        let sink = BufWriter::new(store.object_store().clone(), path.clone());
        let writer = AsyncArrowWriter::try_new(sink, schema.clone(), Some(properties))?;
        Ok(Self { writer, path, rows: 0 })
    }

    async fn write(&mut self, batch: &RecordBatch) -> DeltaResult<()> {
        self.rows += batch.num_rows();
        Ok(self.writer.write(batch).await?)
    }

    /// Complete the file; its size and modification time.
    async fn finish(self, store: &dyn LogStore) -> DeltaResult<ObjectMeta> {
        self.writer.close().await?;
        crate::storage::head(store.object_store().as_ref(), &self.path)
            .await
            .map_err(|e| {
                DeltaError::invalid_log(self.path.to_string(), None, format!("checkpoint file not written: {e}"))
            })
    }
}

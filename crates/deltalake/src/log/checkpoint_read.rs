//! Reading checkpoints: classic single-file, multi-part and V2 (JSON or Parquet top level with sidecars).

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use futures::{StreamExt, TryStreamExt, stream};
use object_store::ObjectMeta;
use object_store::path::Path;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use super::file_list::{AddBatchBuilder, adds_from_checkpoint};
use super::listing::LogFile;
use super::tombstones::{TOMBSTONE_SCHEMA, TombstoneBatchBuilder, tombstones_from_checkpoint};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::actions::parse_actions;
use crate::protocol::{Action, Sidecar};
use crate::storage::{LogStore, ObjectFileReader, get_bytes};

/// Checkpoint columns other than `add` and `remove` that replay needs.
const OTHER_ACTIONS: &[&str] = &[
    "protocol",
    "metaData",
    "txn",
    "domainMetadata",
    "sidecar",
    "checkpointMetadata",
];

/// The content of a checkpoint: file actions as Arrow, everything else typed.
#[derive(Debug, Default)]
pub struct CheckpointData {
    /// Batches of `add` actions in the file-list schema.
    pub adds: Vec<RecordBatch>,
    /// Batches of `remove` actions (tombstones) in the tombstone schema.
    pub tombstones: Vec<RecordBatch>,
    /// Protocol, metadata, txn and domain metadata actions.
    pub actions: Vec<Action>,
}

/// Read every file of a checkpoint of `version`, following V2 sidecars.
pub async fn read_checkpoint(store: &dyn LogStore, version: i64, files: &[LogFile]) -> DeltaResult<CheckpointData> {
    let mut data = CheckpointData::default();
    let parts: Vec<CheckpointData> = stream::iter(files.to_vec())
        .map(|f| async move { read_checkpoint_file(store, version, &f.meta).await })
        .buffered(4)
        .try_collect()
        .await?;
    for part in parts {
        data.adds.extend(part.adds);
        data.tombstones.extend(part.tombstones);
        data.actions.extend(part.actions);
    }
    let sidecars: Vec<Sidecar> = data
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Sidecar(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    if !sidecars.is_empty() {
        let sidecar_dir = store.log_path().join("_sidecars");
        let metas = sidecars
            .iter()
            .map(|s| {
                let location = if s.path.contains("://") {
                    store.resolve_file(&s.path)?
                } else {
                    Path::from_iter(sidecar_dir.parts().chain(Path::from(s.path.as_str()).parts()))
                };
                Ok(ObjectMeta {
                    location,
                    last_modified: chrono::DateTime::from_timestamp_millis(s.modification_time).unwrap_or_default(),
                    size: u64::try_from(s.size_in_bytes).unwrap_or_default(),
                    e_tag: None,
                    version: None,
                })
            })
            .collect::<DeltaResult<Vec<_>>>()?;
        let parts: Vec<CheckpointData> = stream::iter(metas)
            .map(|m| async move { read_parquet_actions(store, version, &m).await })
            .buffered(4)
            .try_collect()
            .await?;
        for part in parts {
            data.adds.extend(part.adds);
            data.tombstones.extend(part.tombstones);
        }
    }
    Ok(data)
}

async fn read_checkpoint_file(store: &dyn LogStore, version: i64, meta: &ObjectMeta) -> DeltaResult<CheckpointData> {
    if meta.location.extension() == Some("json") {
        let bytes = get_bytes(store.object_store().as_ref(), &meta.location).await?;
        let mut data = CheckpointData::default();
        let mut adds = AddBatchBuilder::default();
        let mut removes = TombstoneBatchBuilder::default();
        for action in parse_actions(&bytes, meta.location.as_ref(), Some(version))? {
            match action {
                Action::Add(add) => adds.append(&add)?,
                Action::Remove(remove) => removes.append(&remove)?,
                Action::CommitInfo(_) | Action::Cdc(_) => {}
                other => data.actions.push(other),
            }
        }
        data.adds.push(adds.finish()?);
        data.tombstones.push(removes.finish()?);
        Ok(data)
    } else {
        read_parquet_actions(store, version, meta).await
    }
}

/// Read the actions of a Parquet checkpoint part or sidecar, its row groups decoded in parallel
/// (on tasks of their own inside a Tokio runtime), in order.
async fn read_parquet_actions(store: &dyn LogStore, version: i64, meta: &ObjectMeta) -> DeltaResult<CheckpointData> {
    let path: Arc<str> = meta.location.to_string().into();
    let mut reader = store.file_reader(meta.location.clone(), Some(meta.size));
    let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
        .await
        .map_err(|e| unreadable(&path, version, &e))?;
    // Whole `add` and non-file columns; of `remove`, only what tombstones keep (not stats or tags).
    let wanted: Vec<usize> = metadata
        .parquet_schema()
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| match c.path().parts() {
            [root, ..] if root == "add" || OTHER_ACTIONS.contains(&root.as_str()) => true,
            [root, field, ..] if root == "remove" => TOMBSTONE_SCHEMA.field_with_name(field).is_ok(),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::leaves(metadata.parquet_schema(), wanted);
    let row_groups = metadata.metadata().num_row_groups();
    let decode = |row_groups: Vec<usize>| {
        let builder = ParquetRecordBatchStreamBuilder::new_with_metadata(reader.clone(), metadata.clone())
            .with_projection(mask.clone())
            .with_row_groups(row_groups)
            .with_batch_size(65_536);
        decode_actions(builder, path.clone(), version)
    };
    let parts: Vec<CheckpointData> = match tokio::runtime::Handle::try_current() {
        Ok(runtime) if row_groups > 1 => {
            let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
            stream::iter(0..row_groups)
                .map(|group| runtime.spawn(decode(vec![group])))
                .buffered(parallel)
                .map(|joined| match joined {
                    Ok(part) => part,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => Err(unreadable(&path, version, &e)),
                })
                .try_collect()
                .await?
        }
        _ => vec![decode((0..row_groups).collect()).await?],
    };
    let mut data = CheckpointData::default();
    for part in parts {
        data.adds.extend(part.adds);
        data.tombstones.extend(part.tombstones);
        data.actions.extend(part.actions);
    }
    Ok(data)
}

/// The error of a checkpoint file that cannot be decoded.
fn unreadable(path: &str, version: i64, e: &dyn std::fmt::Display) -> DeltaError {
    DeltaError::invalid_log(path, Some(version), format!("unreadable checkpoint: {e}"))
}

/// Decode the row groups `builder` selects into file and other actions.
async fn decode_actions(
    builder: ParquetRecordBatchStreamBuilder<ObjectFileReader>,
    path: Arc<str>,
    version: i64,
) -> DeltaResult<CheckpointData> {
    let invalid = |e: &dyn std::fmt::Display| unreadable(&path, version, e);
    let mut stream = builder.build().map_err(|e| invalid(&e))?;
    let mut data = CheckpointData::default();
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| invalid(&e))?;
        if let Some(add) = batch.column_by_name("add") {
            let add = add
                .as_struct_opt()
                .ok_or_else(|| invalid(&"column 'add' is not a struct"))?;
            data.adds.push(adds_from_checkpoint(add, &path)?);
        }
        if let Some(remove) = batch.column_by_name("remove") {
            let remove = remove
                .as_struct_opt()
                .ok_or_else(|| invalid(&"column 'remove' is not a struct"))?;
            data.tombstones.push(tombstones_from_checkpoint(remove, &path)?);
        }
        data.actions.extend(other_actions(&batch, &path, version)?);
    }
    Ok(data)
}

/// The non-file actions of a checkpoint batch, typed through their JSON form.
fn other_actions(batch: &RecordBatch, path: &str, version: i64) -> DeltaResult<Vec<Action>> {
    let columns: Vec<(&str, &dyn Array)> = OTHER_ACTIONS
        .iter()
        .filter_map(|name| batch.column_by_name(name).map(|c| (*name, c.as_ref())))
        .collect();
    let mut present = vec![false; batch.num_rows()];
    for (_, column) in &columns {
        for (row, p) in present.iter_mut().enumerate() {
            *p |= column.is_valid(row);
        }
    }
    if !present.contains(&true) {
        return Ok(Vec::new());
    }
    let projected = batch.project(
        &columns
            .iter()
            .map(|(name, _)| batch.schema().index_of(name))
            .collect::<Result<Vec<_>, _>>()?,
    )?;
    let rows = filter_record_batch(&projected, &BooleanArray::from(present))?;
    let mut json = Vec::new();
    let mut writer = arrow_json::LineDelimitedWriter::new(&mut json);
    writer.write(&rows)?;
    writer.finish()?;
    drop(writer);
    parse_actions(&json, path, Some(version))
}

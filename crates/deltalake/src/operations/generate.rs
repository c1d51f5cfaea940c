//! GENERATE symlink_format_manifest: manifests listing the data files of the loaded version, for
//! engines that read a table through a Hive symlink table (Presto, Trino, Athena, BigQuery)
//! instead of its log.
//!
//! An unpartitioned table gets `_symlink_format_manifest/manifest`; a partitioned one a manifest
//! per partition directory (`_symlink_format_manifest/day=2024-01-01/manifest`). Each line is a
//! data file's location (a local path for local tables, else a full URI). Manifests of
//! partitions that no longer have files are deleted. Nothing is committed.

use std::collections::{BTreeMap, HashSet};

use futures::TryStreamExt;
use object_store::path::{Path, PathPart};
use object_store::{ObjectStore, ObjectStoreExt};
use tracing::info;

use crate::error::{DeltaError, DeltaResult};
use crate::storage::display_url;
use crate::table::DeltaTable;
use crate::write::partition_directory;

/// The directory of the manifests, under the table root.
const MANIFEST_DIR: &str = "_symlink_format_manifest";

/// Write the symlink manifests of `table`'s loaded version; returns how many were written.
///
/// Tables whose files have deletion vectors are refused: readers of manifests would return the
/// deleted rows (rewrite the files first, e.g. with a purge or optimize).
pub(crate) async fn generate_symlink_manifests(table: &DeltaTable) -> DeltaResult<usize> {
    let snapshot = table.snapshot();
    let store = table.log_store();
    let root = snapshot.table_root();
    let columns: Vec<&str> = snapshot
        .partition_columns()
        .iter()
        .map(|c| snapshot.schema().field(c).map_or(c.as_str(), |f| f.physical_name()))
        .collect();
    let mut manifests: BTreeMap<String, String> = BTreeMap::new();
    for file in snapshot.files().iter() {
        if file.deletion_vector().is_some() {
            return Err(DeltaError::NotSupported(format!(
                "{} has deletion vectors, which readers of symlink manifests would not apply: \
                 rewrite its files without them first",
                display_url(root)
            )));
        }
        let values = file.partition_values();
        let directory = if columns.is_empty() {
            String::new()
        } else {
            partition_directory(columns.iter().map(|c| (*c, values.get(c).copied().flatten())))
        };
        let location = root
            .join(file.path())
            .map_err(|e| DeltaError::invalid_data_file(file.path(), format!("not a valid path: {e}")))?;
        let lines = manifests.entry(directory).or_default();
        lines.push_str(&display_url(&location));
        lines.push('\n');
    }
    let object_store = store.object_store().as_ref();
    let base = store.root_path().clone().join(MANIFEST_DIR);
    let mut written = HashSet::new();
    for (directory, lines) in manifests {
        let segments = directory.split('/').filter(|s| !s.is_empty()).chain(["manifest"]);
        let path = Path::from_iter(base.parts().chain(segments.map(PathPart::from)));
        object_store.put(&path, lines.into()).await?;
        written.insert(path);
    }
    let stale: Vec<Path> = ObjectStore::list(object_store, Some(&base))
        .map_ok(|meta| meta.location)
        .try_filter(|p| std::future::ready(!written.contains(p) && p.filename() == Some("manifest")))
        .try_collect()
        .await?;
    for path in &stale {
        object_store.delete(path).await?;
    }
    info!(table = %store.root_url(), manifests = written.len(), deleted = stale.len(), "symlink manifests generated");
    Ok(written.len())
}

//! `DeltaFileSystemHandler`: the table's object store as a file system with paths relative to
//! the table root, for `deltalake.fs.DeltaStorageHandler` (a pyarrow `FileSystemHandler`).

use std::collections::HashMap;

use deltalake::bindings::{Entry, EntryKind, TableFileSystem};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::to_py;
use crate::runtime::run;
use crate::table::RawDeltaTable;

/// `(path, type, size, mtime_ns)`, the type numbered as `pyarrow.fs.FileType` (0 not found,
/// 2 file, 3 directory).
type PyEntry = (String, u8, Option<u64>, Option<i64>);

fn entry_tuple(entry: Entry) -> PyEntry {
    let kind = match entry.kind {
        EntryKind::NotFound => 0,
        EntryKind::File => 2,
        EntryKind::Directory => 3,
    };
    (entry.path, kind, entry.size, entry.modified_ns)
}

/// The object store of a table location, read and written with paths relative to its root.
#[pyclass(module = "deltalake._internal", frozen)]
pub struct DeltaFileSystemHandler {
    fs: TableFileSystem,
    known_sizes: HashMap<String, u64>,
}

#[pymethods]
impl DeltaFileSystemHandler {
    /// The file system at `table_uri` (no table needs to be there) with backend `options`;
    /// `known_sizes` (relative path to size) spares a request per file opened.
    #[new]
    #[pyo3(signature = (table_uri, options = None, known_sizes = None))]
    fn new(
        table_uri: &str,
        options: Option<HashMap<String, String>>,
        known_sizes: Option<HashMap<String, u64>>,
    ) -> PyResult<Self> {
        Ok(Self {
            fs: TableFileSystem::open(table_uri, &options.unwrap_or_default()).map_err(to_py)?,
            known_sizes: known_sizes.unwrap_or_default(),
        })
    }

    /// The file system of a loaded table's location, on the table's store.
    #[staticmethod]
    #[pyo3(signature = (table, options = None, known_sizes = None))]
    fn from_table(
        table: &RawDeltaTable,
        options: Option<HashMap<String, String>>,
        known_sizes: Option<HashMap<String, u64>>,
    ) -> Self {
        // The table's store already carries its options.
        let _ = options;
        Self {
            fs: TableFileSystem::of_table(&table.current()),
            known_sizes: known_sizes.unwrap_or_default(),
        }
    }

    /// The root's URI.
    fn table_uri(&self) -> &str {
        self.fs.uri()
    }

    /// `path` without leading, trailing or repeated slashes.
    fn normalize_path(&self, path: &str) -> PyResult<String> {
        TableFileSystem::normalize(path).map_err(to_py)
    }

    /// What each of `paths` names, as `(path, type, size, mtime_ns)`.
    fn get_file_info(&self, py: Python<'_>, paths: Vec<String>) -> PyResult<Vec<PyEntry>> {
        let fs = self.fs.clone();
        let entries = run(py, async move {
            let mut entries = Vec::with_capacity(paths.len());
            for path in paths {
                entries.push(fs.info(&path).await?);
            }
            Ok(entries)
        })?;
        Ok(entries.into_iter().map(entry_tuple).collect())
    }

    /// The entries under `base_dir`, as `(path, type, size, mtime_ns)`.
    fn get_file_info_selector(
        &self,
        py: Python<'_>,
        base_dir: String,
        allow_not_found: bool,
        recursive: bool,
    ) -> PyResult<Vec<PyEntry>> {
        let fs = self.fs.clone();
        let entries = run(py, async move { fs.list(&base_dir, recursive, allow_not_found).await })?;
        Ok(entries.into_iter().map(entry_tuple).collect())
    }

    /// The size of the file `path`.
    fn size(&self, py: Python<'_>, path: String) -> PyResult<u64> {
        let relative = TableFileSystem::normalize(&path).map_err(to_py)?;
        if let Some(size) = self.known_sizes.get(&relative) {
            return Ok(*size);
        }
        let fs = self.fs.clone();
        run(py, async move { fs.size(&relative).await })
    }

    /// Bytes `start..end` of the file `path`.
    fn read_range<'py>(&self, py: Python<'py>, path: String, start: u64, end: u64) -> PyResult<Bound<'py, PyBytes>> {
        let fs = self.fs.clone();
        let bytes = run(py, async move { fs.read_range(&path, start, end).await })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Write the file `path` (replacing it).
    fn write(&self, py: Python<'_>, path: String, data: Vec<u8>) -> PyResult<()> {
        let fs = self.fs.clone();
        run(py, async move { fs.write(&path, data.into()).await })
    }

    /// Copy the file `src` to `dst`.
    fn copy_file(&self, py: Python<'_>, src: String, dst: String) -> PyResult<()> {
        let fs = self.fs.clone();
        run(py, async move { fs.copy(&src, &dst).await })
    }

    /// Move the file `src` to `dest`.
    fn move_file(&self, py: Python<'_>, src: String, dest: String) -> PyResult<()> {
        let fs = self.fs.clone();
        run(py, async move { fs.rename(&src, &dest).await })
    }

    /// Delete the file `path`.
    fn delete_file(&self, py: Python<'_>, path: String) -> PyResult<()> {
        let fs = self.fs.clone();
        run(py, async move { fs.delete_file(&path).await })
    }

    /// Delete the files under the directory `path`.
    #[pyo3(signature = (path, accept_root_dir = false, missing_dir_ok = false))]
    fn delete_dir_contents(
        &self,
        py: Python<'_>,
        path: String,
        accept_root_dir: bool,
        missing_dir_ok: bool,
    ) -> PyResult<()> {
        let fs = self.fs.clone();
        run(py, async move {
            fs.delete_dir_contents(&path, accept_root_dir, missing_dir_ok).await
        })
    }
}

/// Add the class to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<DeltaFileSystemHandler>()
}

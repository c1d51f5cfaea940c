//! A file system over a table's object store, with paths relative to the table root: what a host
//! needs to offer its own file-system interface (Python's `pyarrow.fs.FileSystemHandler`) on the
//! same storage and credentials as the table.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::{DeltaError, DeltaResult};
use crate::storage::{open_log_store, table_url};
use crate::table::DeltaTable;

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Nothing.
    NotFound,
    /// An object.
    File,
    /// A prefix under which objects exist.
    Directory,
}

/// A path of the file system and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path relative to the table root (`/`-separated, no leading or trailing slash).
    pub path: String,
    /// File, directory or nothing.
    pub kind: EntryKind,
    /// Size in bytes (files).
    pub size: Option<u64>,
    /// Last modification in nanoseconds since the epoch (files).
    pub modified_ns: Option<i64>,
}

/// The object store of a table location, addressed by paths relative to its root.
#[derive(Debug, Clone)]
pub struct TableFileSystem {
    store: Arc<dyn ObjectStore>,
    root: Path,
    uri: String,
}

impl TableFileSystem {
    /// The file system of the location `uri` (a table need not exist there), with backend
    /// `options` as a table would take them.
    pub fn open(uri: &str, options: &HashMap<String, String>) -> DeltaResult<Self> {
        let url = table_url(uri)?;
        let log_store = open_log_store(&url, options)?;
        Ok(Self {
            store: log_store.object_store().clone(),
            root: log_store.root_path().clone(),
            uri: log_store.root_url().to_string(),
        })
    }

    /// The file system of `table`'s location, on its store.
    pub fn of_table(table: &DeltaTable) -> Self {
        let log_store = table.log_store();
        Self {
            store: log_store.object_store().clone(),
            root: log_store.root_path().clone(),
            uri: log_store.root_url().to_string(),
        }
    }

    /// The root's URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// `path` without leading, trailing or repeated slashes (`""` is the root); `.` and `..`
    /// segments are `InvalidArgument` errors.
    pub fn normalize(path: &str) -> DeltaResult<String> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if parts.iter().any(|p| *p == "." || *p == "..") {
            return Err(DeltaError::InvalidArgument(format!(
                "path '{path}' has a '.' or '..' segment"
            )));
        }
        Ok(parts.join("/"))
    }

    fn location(&self, path: &str) -> DeltaResult<Path> {
        let relative = Self::normalize(path)?;
        let mut location = self.root.clone();
        for part in relative.split('/').filter(|p| !p.is_empty()) {
            location = location.join(part);
        }
        Ok(location)
    }

    fn relative(&self, location: &Path) -> String {
        location
            .prefix_match(&self.root)
            .map(|parts| parts.map(|p| p.as_ref().to_string()).collect::<Vec<_>>().join("/"))
            .unwrap_or_else(|| location.to_string())
    }

    fn file_entry(&self, meta: &ObjectMeta) -> Entry {
        Entry {
            path: self.relative(&meta.location),
            kind: EntryKind::File,
            size: Some(meta.size),
            modified_ns: meta.last_modified.timestamp_nanos_opt(),
        }
    }

    /// What `path` names: an object, a prefix of objects, or nothing.
    pub async fn info(&self, path: &str) -> DeltaResult<Entry> {
        let relative = Self::normalize(path)?;
        let location = self.location(&relative)?;
        if !relative.is_empty() {
            match self.store.head(&location).await {
                Ok(meta) => return Ok(self.file_entry(&meta)),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // A directory exists through the files under it (an empty local directory does not count).
        let any_file = self.store.list(Some(&location)).try_next().await?.is_some();
        let kind = if relative.is_empty() || any_file {
            EntryKind::Directory
        } else {
            EntryKind::NotFound
        };
        Ok(Entry {
            path: relative,
            kind,
            size: None,
            modified_ns: None,
        })
    }

    /// The entries under the directory `path` (all levels when `recursive`, directories
    /// included, in path order). A directory that does not exist is a `FileNotFound` error
    /// unless `allow_not_found`.
    pub async fn list(&self, path: &str, recursive: bool, allow_not_found: bool) -> DeltaResult<Vec<Entry>> {
        let relative = Self::normalize(path)?;
        let location = self.location(&relative)?;
        let mut entries = BTreeMap::new();
        if recursive {
            let objects: Vec<ObjectMeta> = self.store.list(Some(&location)).try_collect().await?;
            for meta in &objects {
                let entry = self.file_entry(meta);
                // Every directory between the listed one and the file.
                let inner = entry.path.strip_prefix(&relative).unwrap_or(&entry.path);
                let inner = inner.trim_start_matches('/');
                let mut directory = relative.clone();
                for part in inner
                    .split('/')
                    .collect::<Vec<_>>()
                    .split_last()
                    .map_or(&[][..], |(_, d)| d)
                {
                    directory = if directory.is_empty() {
                        (*part).to_string()
                    } else {
                        format!("{directory}/{part}")
                    };
                    entries.entry(directory.clone()).or_insert_with(|| Entry {
                        path: directory.clone(),
                        kind: EntryKind::Directory,
                        size: None,
                        modified_ns: None,
                    });
                }
                entries.insert(entry.path.clone(), entry);
            }
        } else {
            let listed = self.store.list_with_delimiter(Some(&location)).await?;
            for prefix in &listed.common_prefixes {
                let path = self.relative(prefix);
                entries.insert(
                    path.clone(),
                    Entry {
                        path,
                        kind: EntryKind::Directory,
                        size: None,
                        modified_ns: None,
                    },
                );
            }
            for meta in &listed.objects {
                let entry = self.file_entry(meta);
                entries.insert(entry.path.clone(), entry);
            }
        }
        if entries.is_empty() && !relative.is_empty() && !allow_not_found {
            return Err(DeltaError::ObjectStore(object_store::Error::NotFound {
                path: location.to_string(),
                source: format!("no directory '{relative}' under {}", self.uri).into(),
            }));
        }
        Ok(entries.into_values().collect())
    }

    /// The size of the file `path`.
    pub async fn size(&self, path: &str) -> DeltaResult<u64> {
        Ok(self.store.head(&self.location(path)?).await?.size)
    }

    /// Bytes `start..end` of the file `path` (`end` past the file's end is cut to it).
    pub async fn read_range(&self, path: &str, start: u64, end: u64) -> DeltaResult<Bytes> {
        if start >= end {
            return Ok(Bytes::new());
        }
        Ok(self.store.get_range(&self.location(path)?, start..end).await?)
    }

    /// The whole file `path`.
    pub async fn read(&self, path: &str) -> DeltaResult<Bytes> {
        Ok(self.store.get(&self.location(path)?).await?.bytes().await?)
    }

    /// Write the file `path` (replacing it).
    pub async fn write(&self, path: &str, data: Bytes) -> DeltaResult<()> {
        self.store.put(&self.location(path)?, PutPayload::from(data)).await?;
        Ok(())
    }

    /// Delete the file `path` (a missing one is a `FileNotFound` error).
    pub async fn delete_file(&self, path: &str) -> DeltaResult<()> {
        let location = self.location(path)?;
        self.store.head(&location).await?;
        self.store.delete(&location).await?;
        Ok(())
    }

    /// Delete every file under the directory `path` (the root's contents only when
    /// `accept_root`); a missing directory is a `FileNotFound` error unless `missing_ok`.
    pub async fn delete_dir_contents(&self, path: &str, accept_root: bool, missing_ok: bool) -> DeltaResult<()> {
        let relative = Self::normalize(path)?;
        if relative.is_empty() && !accept_root {
            return Err(DeltaError::InvalidArgument(
                "deleting the contents of the root directory needs accept_root_dir".into(),
            ));
        }
        let location = self.location(&relative)?;
        let objects: Vec<ObjectMeta> = self.store.list(Some(&location)).try_collect().await?;
        if objects.is_empty() && !relative.is_empty() && !missing_ok {
            return Err(DeltaError::ObjectStore(object_store::Error::NotFound {
                path: location.to_string(),
                source: format!("no directory '{relative}' under {}", self.uri).into(),
            }));
        }
        for meta in objects {
            match self.store.delete(&meta.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Copy the file `from` to `to` (replacing it).
    pub async fn copy(&self, from: &str, to: &str) -> DeltaResult<()> {
        self.store.copy(&self.location(from)?, &self.location(to)?).await?;
        Ok(())
    }

    /// Move the file `from` to `to` (replacing it).
    pub async fn rename(&self, from: &str, to: &str) -> DeltaResult<()> {
        self.store.rename(&self.location(from)?, &self.location(to)?).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_and_directories_relative_to_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let fs = TableFileSystem::open(dir.path().to_str().unwrap(), &HashMap::new()).unwrap();
        fs.write("a/b/one.txt", Bytes::from_static(b"hello")).await.unwrap();
        fs.write("two.txt", Bytes::from_static(b"xy")).await.unwrap();
        assert_eq!(fs.info("a").await.unwrap().kind, EntryKind::Directory);
        assert_eq!(fs.info("/a/b/one.txt").await.unwrap().size, Some(5));
        assert_eq!(fs.info("nope").await.unwrap().kind, EntryKind::NotFound);
        let all: Vec<String> = fs
            .list("", true, false)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(all, ["a", "a/b", "a/b/one.txt", "two.txt"]);
        let top: Vec<String> = fs
            .list("", false, false)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(top, ["a", "two.txt"]);
        assert!(fs.list("nope", false, false).await.is_err());
        assert!(fs.list("nope", false, true).await.unwrap().is_empty());
        assert_eq!(&fs.read_range("a/b/one.txt", 1, 3).await.unwrap()[..], b"el");
        fs.rename("two.txt", "a/three.txt").await.unwrap();
        assert_eq!(fs.info("two.txt").await.unwrap().kind, EntryKind::NotFound);
        assert!(fs.delete_file("two.txt").await.is_err());
        fs.delete_dir_contents("a", false, false).await.unwrap();
        assert_eq!(fs.info("a").await.unwrap().kind, EntryKind::NotFound);
        assert!(fs.delete_dir_contents("", false, false).await.is_err());
        assert!(TableFileSystem::normalize("a/../b").is_err());
        assert_eq!(TableFileSystem::normalize("//a//b/").unwrap(), "a/b");
    }
}

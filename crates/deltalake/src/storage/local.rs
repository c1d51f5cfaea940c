//! The fast path for tables on the local file system.
//!
//! `object_store`'s local store hands every request to Tokio's blocking pool, and lists a
//! directory by turning each entry into a path and reading its metadata. Opening a long log
//! that way costs two blocking tasks per commit and thousands of path conversions; here the log
//! is listed with one directory read that only reads the metadata of the files it keeps, and
//! its files are read in a few blocking calls of many files each.
//!
//! Parquet byte ranges are read into buffers allocated by the caller (the task that decodes
//! them): allocated on the blocking pool's threads, they would be served by those threads'
//! malloc arenas, which keep the memory once it is freed, and a scan's peak memory would grow
//! with every blocking thread that ever held a row group.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use object_store::ObjectMeta;
use object_store::path::Path;

/// Run `f` on the blocking pool inside a Tokio runtime, or right here outside one. A panic in `f`
/// is resumed here; the error is the runtime shutting down.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> object_store::Result<T> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(f());
    }
    match tokio::task::spawn_blocking(f).await {
        Ok(out) => Ok(out),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(e),
        }),
    }
}

fn io_error(e: io::Error, path: &FsPath) -> object_store::Error {
    let path = path.display().to_string();
    match e.kind() {
        io::ErrorKind::NotFound => object_store::Error::NotFound {
            path,
            source: Box::new(e),
        },
        _ => object_store::Error::Generic {
            store: "LocalFileSystem",
            source: format!("{path}: {e}").into(),
        },
    }
}

/// The files directly in `dir` (the log directory, `log` in the store) whose names sort after
/// `offset`; a missing directory has none. Only the kept files' metadata is read.
pub(crate) fn list_dir(dir: &FsPath, log: &Path, offset: Option<&str>) -> object_store::Result<Vec<ObjectMeta>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(e, dir)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(e, dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if offset.is_some_and(|offset| name <= offset) {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| io_error(e, &path))?;
        // Relative to the directory, without looking the path up again; symbolic links are
        // followed, as the object store does.
        let metadata = if file_type.is_symlink() {
            std::fs::metadata(&path)
        } else {
            entry.metadata()
        };
        // Removed since the directory was read (a concurrent cleanup) when `None`.
        if let Some(meta) = file_meta(metadata, &path, log, name)? {
            files.push(meta);
        }
    }
    Ok(files)
}

/// The metadata of the files `names` directly in `dir` (`log` in the store), `None` for those
/// missing (or not files), in order.
pub(crate) fn stat_files(dir: &FsPath, log: &Path, names: &[String]) -> object_store::Result<Vec<Option<ObjectMeta>>> {
    names
        .iter()
        .map(|name| {
            let path = dir.join(name);
            file_meta(std::fs::metadata(&path), &path, log, name)
        })
        .collect()
}

/// The object metadata of the file `name` of `log` from its file system metadata; `None` when it
/// is missing or not a file.
fn file_meta(
    metadata: io::Result<std::fs::Metadata>,
    path: &FsPath,
    log: &Path,
    name: &str,
) -> object_store::Result<Option<ObjectMeta>> {
    let metadata = match metadata {
        Ok(m) if m.is_file() => m,
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(e, path)),
    };
    let modified = metadata.modified().map_err(|e| io_error(e, path))?;
    Ok(Some(ObjectMeta {
        location: log.clone().join(name),
        last_modified: DateTime::<Utc>::from(modified),
        size: metadata.len(),
        e_tag: None,
        version: None,
    }))
}

/// Read whole files, one result per file.
pub(crate) fn read_files(paths: &[PathBuf]) -> Vec<object_store::Result<Bytes>> {
    paths
        .iter()
        .map(|path| std::fs::read(path).map(Bytes::from).map_err(|e| io_error(e, path)))
        .collect()
}

/// Buffers for `ranges`, allocated by the calling thread (see the module documentation).
pub(crate) fn buffers_for(ranges: &[Range<u64>]) -> Vec<Vec<u8>> {
    ranges
        .iter()
        .map(|r| Vec::with_capacity(usize::try_from(r.end.saturating_sub(r.start)).unwrap_or_default()))
        .collect()
}

/// Read `ranges` of the file at `path` into `buffers` (from [`buffers_for`]).
pub(crate) fn read_ranges(
    path: &FsPath,
    ranges: &[Range<u64>],
    buffers: Vec<Vec<u8>>,
) -> object_store::Result<Vec<Bytes>> {
    let mut file = File::open(path).map_err(|e| io_error(e, path))?;
    ranges
        .iter()
        .zip(buffers)
        .map(|(range, mut buffer)| {
            let len = range.end.saturating_sub(range.start);
            file.seek(SeekFrom::Start(range.start)).map_err(|e| io_error(e, path))?;
            (&mut file)
                .take(len)
                .read_to_end(&mut buffer)
                .map_err(|e| io_error(e, path))?;
            if buffer.len() as u64 != len {
                return Err(io_error(
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("range {range:?} is past the end of the file"),
                    ),
                    path,
                ));
            }
            Ok(Bytes::from(buffer))
        })
        .collect()
}

/// Read the last `suffix` bytes of the file at `path`.
pub(crate) fn read_suffix(path: &FsPath, suffix: u64) -> object_store::Result<Bytes> {
    let len = std::fs::metadata(path).map_err(|e| io_error(e, path))?.len();
    let range = len.saturating_sub(suffix)..len;
    let range = std::slice::from_ref(&range);
    let mut read = read_ranges(path, range, buffers_for(range))?;
    Ok(read.pop().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_after_the_offset_and_reads_ranges() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "00000000000000000001.json",
            "00000000000000000002.json",
            "_last_checkpoint",
        ] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        std::fs::create_dir(dir.path().join("_sidecars")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            dir.path().join("_last_checkpoint"),
            dir.path().join("00000000000000000003.json"),
        )
        .unwrap();
        let log = Path::from("t/_delta_log");
        let mut listed: Vec<(String, u64)> = list_dir(dir.path(), &log, Some("00000000000000000001"))
            .unwrap()
            .into_iter()
            .map(|m| (m.location.to_string(), m.size))
            .collect();
        listed.sort();
        let mut expected = vec![
            ("t/_delta_log/00000000000000000001.json".to_string(), 25),
            ("t/_delta_log/00000000000000000002.json".to_string(), 25),
            ("t/_delta_log/_last_checkpoint".to_string(), 16),
        ];
        // A link is listed as the file it points to.
        if cfg!(unix) {
            expected.insert(2, ("t/_delta_log/00000000000000000003.json".to_string(), 16));
        }
        assert_eq!(listed, expected);
        assert!(list_dir(&dir.path().join("missing"), &log, None).unwrap().is_empty());

        let path = dir.path().join("_last_checkpoint");
        let ranges = [0..5, 6..16];
        let read = read_ranges(&path, &ranges, buffers_for(&ranges)).unwrap();
        assert_eq!(read, [Bytes::from("_last"), Bytes::from("checkpoint")]);
        let past_end = 10..20;
        let past_end = std::slice::from_ref(&past_end);
        assert!(read_ranges(&path, past_end, buffers_for(past_end)).is_err());
        assert_eq!(read_suffix(&path, 5).unwrap(), Bytes::from("point"));
        let missing = read_files(&[dir.path().join("nothing")]);
        assert!(matches!(missing[0], Err(object_store::Error::NotFound { .. })));
    }
}

//! Listing and classifying the files of `_delta_log`.

use std::collections::BTreeMap;

use object_store::ObjectMeta;

use crate::error::DeltaResult;
use crate::storage::LogStore;

/// What a log file is, from its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFileKind {
    /// `N.json`
    Commit,
    /// `N.checkpoint.parquet`
    SingleCheckpoint,
    /// `N.checkpoint.P.T.parquet`: part `P` of `T`.
    MultiPartCheckpoint {
        /// 1-based part number.
        part: u32,
        /// Number of parts.
        parts: u32,
    },
    /// `N.checkpoint.<uuid>.json|parquet`: the top-level file of a V2 checkpoint.
    V2Checkpoint,
}

/// A classified file of `_delta_log`.
#[derive(Debug, Clone)]
pub struct LogFile {
    /// The version the file belongs to.
    pub version: i64,
    /// What kind of file it is.
    pub kind: LogFileKind,
    /// Location, size and modification time.
    pub meta: ObjectMeta,
}

impl LogFile {
    /// Classify a file by its name; `None` for files that are not commits or checkpoints
    /// (`_last_checkpoint`, `.crc`, compacted logs, temporary files).
    pub fn parse(meta: ObjectMeta) -> Option<Self> {
        let name = meta.location.filename()?;
        let (version, rest) = name.split_once('.')?;
        if version.len() != 20 || !version.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let version: i64 = version.parse().ok()?;
        let kind = match rest {
            "json" => LogFileKind::Commit,
            "checkpoint.parquet" => LogFileKind::SingleCheckpoint,
            _ => {
                let tail = rest.strip_prefix("checkpoint.")?;
                let parts: Vec<&str> = tail.split('.').collect();
                match parts.as_slice() {
                    [part, total, "parquet"] if part.len() == 10 && total.len() == 10 => {
                        LogFileKind::MultiPartCheckpoint {
                            part: part.parse().ok()?,
                            parts: total.parse().ok()?,
                        }
                    }
                    [uuid, "json" | "parquet"] if uuid.len() == 36 => LogFileKind::V2Checkpoint,
                    _ => return None,
                }
            }
        };
        Some(Self { version, kind, meta })
    }
}

/// The commits and checkpoints found in `_delta_log`.
#[derive(Debug, Default, Clone)]
pub struct LogListing {
    /// Commit files by version.
    pub commits: BTreeMap<i64, ObjectMeta>,
    /// Checkpoint files by version.
    pub checkpoints: BTreeMap<i64, Vec<LogFile>>,
}

impl LogListing {
    /// List `_delta_log` once, from the file named `from_version` on when given.
    pub async fn list(store: &dyn LogStore, from_version: Option<i64>) -> DeltaResult<Self> {
        // Every file of version `v` sorts after the bare zero-padded number.
        let offset = from_version.map(|v| format!("{:020}", v.max(0)));
        let mut listing = Self::default();
        for meta in store.list_log(offset.as_deref()).await? {
            let Some(file) = LogFile::parse(meta) else {
                continue;
            };
            match file.kind {
                LogFileKind::Commit => {
                    listing.commits.insert(file.version, file.meta);
                }
                _ => listing.checkpoints.entry(file.version).or_default().push(file),
            }
        }
        Ok(listing)
    }

    /// The latest version with a commit file, if any.
    pub fn latest_commit(&self) -> Option<i64> {
        self.commits.keys().next_back().copied()
    }

    /// The files of the newest complete checkpoint at or before `version`.
    pub fn checkpoint_at_or_before(&self, version: i64) -> Option<(i64, Vec<LogFile>)> {
        self.checkpoints
            .range(..=version)
            .rev()
            .find_map(|(v, files)| complete_checkpoint(files).map(|f| (*v, f)))
    }
}

/// One complete checkpoint out of the files of a version: a V2 or single-file one, or all parts of a multi-part one.
fn complete_checkpoint(files: &[LogFile]) -> Option<Vec<LogFile>> {
    if let Some(f) = files.iter().find(|f| f.kind == LogFileKind::V2Checkpoint) {
        return Some(vec![f.clone()]);
    }
    if let Some(f) = files.iter().find(|f| f.kind == LogFileKind::SingleCheckpoint) {
        return Some(vec![f.clone()]);
    }
    let mut by_total: BTreeMap<u32, BTreeMap<u32, &LogFile>> = BTreeMap::new();
    for f in files {
        if let LogFileKind::MultiPartCheckpoint { part, parts } = f.kind {
            by_total.entry(parts).or_default().insert(part, f);
        }
    }
    by_total.into_iter().rev().find_map(|(total, parts)| {
        (parts.len() as u32 == total && parts.keys().copied().eq(1..=total))
            .then(|| parts.into_values().cloned().collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::path::Path;

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            location: Path::from(format!("t/_delta_log/{name}")),
            last_modified: chrono::Utc::now(),
            size: 1,
            e_tag: None,
            version: None,
        }
    }

    #[test]
    fn classifies_log_file_names() {
        let kind = |n: &str| LogFile::parse(meta(n)).map(|f| (f.version, f.kind));
        assert_eq!(kind("00000000000000000007.json"), Some((7, LogFileKind::Commit)));
        assert_eq!(
            kind("00000000000000000010.checkpoint.parquet"),
            Some((10, LogFileKind::SingleCheckpoint))
        );
        assert_eq!(
            kind("00000000000000000010.checkpoint.0000000002.0000000003.parquet"),
            Some((10, LogFileKind::MultiPartCheckpoint { part: 2, parts: 3 }))
        );
        assert_eq!(
            kind("00000000000000000008.checkpoint.e5ac4dc4-be27-4106-8a55-609707487f83.json"),
            Some((8, LogFileKind::V2Checkpoint))
        );
        for ignored in [
            "_last_checkpoint",
            "00000000000000000007.crc",
            "7.json",
            "00000000000000000001.00000000000000000003.compacted.json",
            ".00000000000000000007.json.tmp",
        ] {
            assert_eq!(kind(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn incomplete_multi_part_checkpoints_are_skipped() {
        let mut listing = LogListing::default();
        for name in [
            "00000000000000000005.checkpoint.parquet",
            "00000000000000000010.checkpoint.0000000001.0000000002.parquet",
        ] {
            let f = LogFile::parse(meta(name)).unwrap();
            listing.checkpoints.entry(f.version).or_default().push(f);
        }
        assert_eq!(listing.checkpoint_at_or_before(12).map(|c| c.0), Some(5));
        let f = LogFile::parse(meta("00000000000000000010.checkpoint.0000000002.0000000002.parquet")).unwrap();
        listing.checkpoints.entry(10).or_default().push(f);
        let (v, files) = listing.checkpoint_at_or_before(12).unwrap();
        assert_eq!((v, files.len()), (10, 2));
        assert_eq!(listing.checkpoint_at_or_before(9).map(|c| c.0), Some(5));
    }
}

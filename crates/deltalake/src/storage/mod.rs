//! Storage: table locations, object stores and the [`LogStore`] through which commits are written.
//!
//! The bottom layer with `protocol`: modules here use only `crate::error`, `crate::protocol` and
//! each other.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryStreamExt};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, local::LocalFileSystem};
use url::Url;

use crate::error::{DeltaError, DeltaResult};

/// Name of the log directory under the table root.
pub const DELTA_LOG_DIR: &str = "_delta_log";

/// The commit file name of a version: `00000000000000000042.json`.
pub fn commit_file_name(version: i64) -> String {
    format!("{version:020}.json")
}

/// Exponential backoff with jitter: about 10 ms doubling per attempt, at most about 1 s.
pub(crate) fn backoff(attempt: u32) -> std::time::Duration {
    let base = 10u64.saturating_mul(1 << attempt.min(7));
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base / 255;
    std::time::Duration::from_millis((base / 2 + jitter / 2).min(1_000))
}

pub mod azure;
pub mod commit_put;
pub mod dynamodb;
pub mod gcs;
mod local;
pub mod options;
mod parquet_reader;
pub mod s3;
pub use commit_put::{CreateMode, Created, create_file};
pub use dynamodb::DynamoLogStore;
pub use options::StorageOptions;
pub use parquet_reader::{ObjectFileReader, get_bytes, get_range, head};

/// The log store of the table at `url`: a [`DynamoLogStore`] for S3 tables with
/// `AWS_S3_LOCKING_PROVIDER=dynamodb`, an [`ObjectLogStore`] otherwise. `options` are backend
/// settings (credentials, endpoints) over the environment's (see [`StorageOptions`]).
///
/// ```no_run
/// # fn example() -> deltalake::DeltaResult<()> {
/// use std::collections::HashMap;
/// let url = deltalake::storage::table_url("s3://bucket/table")?;
/// let options = HashMap::from([("AWS_REGION".to_string(), "eu-west-1".to_string())]);
/// let store = deltalake::storage::open_log_store(&url, &options)?;
/// # Ok(()) }
/// ```
pub fn open_log_store(url: &Url, options: &HashMap<String, String>) -> DeltaResult<Arc<dyn LogStore>> {
    let options = StorageOptions::new(options);
    if matches!(url.scheme(), "s3" | "s3a") {
        let (store, commits) = s3::build(url, &options)?;
        let root_path = root_path(url)?;
        return Ok(match commits {
            s3::S3Commits::Put(mode) => {
                Arc::new(ObjectLogStore::new(store, url.clone(), root_path).with_create_mode(mode))
            }
            s3::S3Commits::DynamoDb(dynamo) => Arc::new(DynamoLogStore::new(store, url.clone(), root_path, *dynamo)?),
        });
    }
    Ok(Arc::new(ObjectLogStore::open(url, &options)?))
}

/// The path of the table root inside its store.
fn root_path(url: &Url) -> DeltaResult<Path> {
    Path::from_url_path(url.path())
        .map_err(|e| DeltaError::InvalidArgument(format!("invalid table path {}: {e}", options::redact_url(url))))
}

/// Turn a user-supplied location (URI or local path, relative or absolute) into a directory URL.
pub fn table_url(location: &str) -> DeltaResult<Url> {
    let mut url = match Url::parse(location) {
        Ok(url) if url.scheme().len() > 1 => url,
        _ => {
            let path = PathBuf::from(location);
            let absolute = if path.is_absolute() {
                path
            } else {
                std::env::current_dir()
                    .map_err(|e| DeltaError::InvalidArgument(format!("cannot resolve '{location}': {e}")))?
                    .join(path)
            };
            let absolute = std::fs::canonicalize(&absolute).unwrap_or(absolute);
            Url::from_directory_path(&absolute)
                .map_err(|()| DeltaError::InvalidArgument(format!("invalid table path '{location}'")))?
        }
    };
    if url.scheme() == "file"
        && let Ok(path) = url.to_file_path()
        // Without its trailing slash, or a file would not be seen as one.
        && let path = path.components().collect::<PathBuf>()
        && path.is_file()
    {
        return Err(DeltaError::InvalidArgument(format!(
            "table location '{}' is a file, not a directory",
            path.display()
        )));
    }
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

/// Writes and reads the log of one table.
///
/// Every commit goes through [`LogStore::write_commit`], which must be atomic and must fail with
/// [`DeltaError::VersionExists`] when the version already exists. Backends provide their own
/// implementation of that primitive (conditional put, a lock table, ...).
pub trait LogStore: Send + Sync + fmt::Debug {
    /// The object store holding the table.
    fn object_store(&self) -> &Arc<dyn ObjectStore>;

    /// The table root as a directory URL (credentials never included).
    fn root_url(&self) -> &Url;

    /// The table root as a path inside [`LogStore::object_store`].
    fn root_path(&self) -> &Path;

    /// Atomically create the commit file of `version`; fails with [`DeltaError::VersionExists`]
    /// if another writer created it first.
    fn write_commit(&self, version: i64, body: Bytes) -> BoxFuture<'_, DeltaResult<()>>;

    /// The `_delta_log` directory.
    fn log_path(&self) -> Path {
        self.root_path().clone().join(DELTA_LOG_DIR)
    }

    /// The files directly in `_delta_log` (not in its sub-directories) whose names sort after
    /// `offset` (all of them when `None`), in no particular order.
    fn list_log(&self, offset: Option<&str>) -> BoxFuture<'_, DeltaResult<Vec<ObjectMeta>>> {
        list_log(self.object_store().as_ref(), self.log_path(), offset)
    }

    /// The metadata of the files of `_delta_log` named `names` (`None` for those missing), in
    /// order; `None` from a store that lists the log from an offset faster than it looks files
    /// up one by one (object stores do; a local directory is only ever read whole).
    fn lookup_log(&self, names: Vec<String>) -> Option<BoxFuture<'_, DeltaResult<Vec<Option<ObjectMeta>>>>> {
        let _ = names;
        None
    }

    /// Read whole files of the log, one result per file, in the order given. Many files are read
    /// at once.
    fn read_log_files(&self, files: Vec<Path>) -> BoxStream<'_, object_store::Result<Bytes>> {
        read_log_files(self.object_store(), files)
    }

    /// A reader of the Parquet file at `location`; `size` (from the log) saves a request when known.
    fn file_reader(&self, location: Path, size: Option<u64>) -> ObjectFileReader {
        ObjectFileReader::new(self.object_store().clone(), location, size)
    }

    /// `location` (a path in [`LogStore::object_store`]) as users name it in messages: an
    /// absolute local path for local tables, else a full URI.
    fn display_location(&self, location: &Path) -> String {
        let mut url = self.root_url().clone();
        url.set_path(&format!("/{location}"));
        display_url(&url)
    }

    /// The table root for logs and messages, without credentials.
    fn redacted_url(&self) -> String {
        options::redact_url(self.root_url())
    }

    /// The location of a file named by a path in the log: relative (URL-encoded) paths are resolved
    /// under the root, absolute URIs inside this store are accepted.
    fn resolve_file(&self, path: &str) -> DeltaResult<Path> {
        resolve_file(self.root_url(), self.root_path(), path)
    }
}

/// `url` as users name a location: a local path for `file://` URLs, else the URL.
pub fn display_url(url: &Url) -> String {
    match url.to_file_path() {
        Ok(path) if url.scheme() == "file" => path.to_string_lossy().into_owned(),
        _ => url.to_string(),
    }
}

/// [`LogStore::list_log`] over an object store.
fn list_log(
    store: &dyn ObjectStore,
    log: Path,
    offset: Option<&str>,
) -> BoxFuture<'static, DeltaResult<Vec<ObjectMeta>>> {
    let stream = match offset {
        Some(offset) => store.list_with_offset(Some(&log), &log.clone().join(offset)),
        None => store.list(Some(&log)),
    };
    async move {
        let metas: Vec<ObjectMeta> = stream.try_collect().await?;
        Ok(metas
            .into_iter()
            .filter(|meta| {
                meta.location
                    .prefix_match(&log)
                    .is_some_and(|mut rest| rest.nth(1).is_none())
            })
            .collect())
    }
    .boxed()
}

/// [`LogStore::read_log_files`] over an object store.
fn read_log_files(store: &Arc<dyn ObjectStore>, files: Vec<Path>) -> BoxStream<'_, object_store::Result<Bytes>> {
    futures::stream::iter(files)
        .map(move |path| async move { get_bytes(store.as_ref(), &path).await })
        .buffered(CONCURRENT_LOG_READS)
        .boxed()
}

/// How many log files the default [`LogStore::read_log_files`] fetches at once.
const CONCURRENT_LOG_READS: usize = 64;

/// How many log files the local file system's [`LogStore::read_log_files`] reads in one blocking call.
const LOCAL_LOG_READ_CHUNK: usize = 256;

fn resolve_file(root_url: &Url, root_path: &Path, path: &str) -> DeltaResult<Path> {
    if let Ok(url) = Url::parse(path)
        && url.scheme().len() > 1
    {
        if url.scheme() != root_url.scheme() || url.host_str() != root_url.host_str() {
            return Err(DeltaError::InvalidArgument(format!(
                "file {path} is not in the store of table {root_url}"
            )));
        }
        return Path::from_url_path(url.path()).map_err(|e| DeltaError::invalid_data_file(path, e));
    }
    let relative = Path::from_url_path(path).map_err(|e| DeltaError::invalid_data_file(path, e))?;
    Ok(Path::from_iter(root_path.parts().chain(relative.parts())))
}

/// The default log store: commits by the object store's create-if-absent put.
pub struct ObjectLogStore {
    store: Arc<dyn ObjectStore>,
    root_url: Url,
    root_path: Path,
    /// How commit files are created.
    create_mode: CreateMode,
    /// The local file system when it is the store: the log and the Parquet files are read directly.
    local: Option<LocalRoot>,
}

/// The local file system a table is on, and its log directory there.
#[derive(Debug)]
struct LocalRoot {
    fs: LocalFileSystem,
    log_dir: PathBuf,
}

impl fmt::Debug for ObjectLogStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectLogStore")
            .field("root", &self.root_url.as_str())
            .field("create_mode", &self.create_mode)
            .finish()
    }
}

impl ObjectLogStore {
    /// A log store over `store`, for the table whose root is `root_path` in it; commits by
    /// conditional put.
    pub fn new(store: Arc<dyn ObjectStore>, root_url: Url, root_path: Path) -> Self {
        Self {
            store,
            root_url,
            root_path,
            create_mode: CreateMode::Conditional,
            local: None,
        }
    }

    /// Create commit files with `mode` instead of a conditional put.
    pub fn with_create_mode(mut self, mode: CreateMode) -> Self {
        self.create_mode = mode;
        self
    }

    /// Open the store for a table location (`file`, `memory`, `s3`, `s3a`, `az`, `abfs`, `abfss`,
    /// `azure`, `adl`, `gs`). `options` are backend settings (credentials, endpoints) over the
    /// environment's; S3 tables with a DynamoDB lock need [`open_log_store`].
    pub fn for_url(url: &Url, options: &HashMap<String, String>) -> DeltaResult<Self> {
        Self::open(url, &StorageOptions::new(options))
    }

    fn open(url: &Url, options: &StorageOptions) -> DeltaResult<Self> {
        let root = root_path(url)?;
        let store = match url.scheme() {
            "file" => {
                let store = Self::new(Arc::new(LocalFileSystem::new()), url.clone(), root);
                let fs = LocalFileSystem::new();
                let local = fs
                    .path_to_filesystem(&store.log_path())
                    .ok()
                    .map(|log_dir| LocalRoot { fs, log_dir });
                return Ok(Self { local, ..store });
            }
            "memory" => memory_store(url.host_str().unwrap_or_default()),
            "s3" | "s3a" => match s3::build(url, options)? {
                (store, s3::S3Commits::Put(mode)) => {
                    return Ok(Self::new(store, url.clone(), root).with_create_mode(mode));
                }
                (_, s3::S3Commits::DynamoDb(_)) => {
                    return Err(DeltaError::InvalidArgument(format!(
                        "{} uses a DynamoDB lock: open it with storage::open_log_store",
                        options::redact_url(url)
                    )));
                }
            },
            "az" | "abfs" | "abfss" | "azure" | "adl" => azure::build(url, options)?,
            "gs" => gcs::build(url, options)?,
            other => {
                return Err(DeltaError::InvalidArgument(format!(
                    "unsupported storage scheme '{other}' in {} (supported: file, memory, s3, s3a, az, \
                     abfs, abfss, azure, adl, gs)",
                    options::redact_url(url)
                )));
            }
        };
        Ok(Self::new(store, url.clone(), root))
    }
}

impl ObjectLogStore {
    /// Where `location` is on the local file system, when the store is the local file system.
    fn local_path(&self, location: &Path) -> Option<PathBuf> {
        let local = self.local.as_ref()?;
        // The common case, files of the log, without the URL round trip of `path_to_filesystem`.
        if let Some(name) = location.prefix_match(&self.log_path()).and_then(|mut rest| {
            let name = rest.next()?;
            rest.next().is_none().then_some(name)
        }) && name
            .as_ref()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Some(local.log_dir.join(name.as_ref()));
        }
        local.fs.path_to_filesystem(location).ok()
    }
}

/// In-memory stores are shared per host name, so `memory://name/` opened twice is one store.
fn memory_store(name: &str) -> Arc<dyn ObjectStore> {
    use std::sync::{LazyLock, Mutex};
    static STORES: LazyLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = LazyLock::new(Default::default);
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    stores
        .entry(name.to_string())
        .or_insert_with(|| Arc::new(InMemory::new()))
        .clone()
}

impl LogStore for ObjectLogStore {
    fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    fn root_url(&self) -> &Url {
        &self.root_url
    }

    fn root_path(&self) -> &Path {
        &self.root_path
    }

    fn list_log(&self, offset: Option<&str>) -> BoxFuture<'_, DeltaResult<Vec<ObjectMeta>>> {
        let Some(dir) = self.local.as_ref().map(|l| l.log_dir.clone()) else {
            return list_log(self.store.as_ref(), self.log_path(), offset);
        };
        let (log, offset) = (self.log_path(), offset.map(str::to_string));
        async move { Ok(local::blocking(move || local::list_dir(&dir, &log, offset.as_deref())).await??) }.boxed()
    }

    fn lookup_log(&self, names: Vec<String>) -> Option<BoxFuture<'_, DeltaResult<Vec<Option<ObjectMeta>>>>> {
        let dir = self.local.as_ref()?.log_dir.clone();
        let log = self.log_path();
        Some(async move { Ok(local::blocking(move || local::stat_files(&dir, &log, &names)).await??) }.boxed())
    }

    fn read_log_files(&self, files: Vec<Path>) -> BoxStream<'_, object_store::Result<Bytes>> {
        let paths: Option<Vec<PathBuf>> = files.iter().map(|f| self.local_path(f)).collect();
        let Some(paths) = paths else {
            return read_log_files(&self.store, files);
        };
        let chunks: Vec<Vec<PathBuf>> = paths.chunks(LOCAL_LOG_READ_CHUNK).map(<[_]>::to_vec).collect();
        futures::stream::iter(chunks)
            .map(|chunk| async move {
                let files = chunk.len();
                match local::blocking(move || local::read_files(&chunk)).await {
                    Ok(read) => read,
                    // Still one result per file.
                    Err(e) => (0..files)
                        .map(|_| {
                            Err(object_store::Error::Generic {
                                store: "LocalFileSystem",
                                source: e.to_string().into(),
                            })
                        })
                        .collect(),
                }
            })
            // Reading the next chunk while the caller parses this one.
            .buffered(2)
            .flat_map(futures::stream::iter)
            .boxed()
    }

    fn file_reader(&self, location: Path, size: Option<u64>) -> ObjectFileReader {
        match self.local_path(&location) {
            Some(local) => ObjectFileReader::local(self.store.clone(), location, local, size),
            None => ObjectFileReader::new(self.store.clone(), location, size),
        }
    }

    fn write_commit(&self, version: i64, body: Bytes) -> BoxFuture<'_, DeltaResult<()>> {
        Box::pin(async move {
            let path = self.log_path().join(commit_file_name(version).as_str());
            match create_file(self.store.as_ref(), &path, body, self.create_mode).await? {
                Created::Ours => Ok(()),
                Created::Theirs => Err(DeltaError::VersionExists {
                    uri: self.redacted_url(),
                    version,
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_conflict_does_not_name_the_password_of_the_table_uri() {
        let url = Url::parse("s3://key:s3cr3t@bucket/t/").unwrap();
        let store = ObjectLogStore::new(Arc::new(InMemory::new()), url, Path::from("t"));
        store.write_commit(0, Bytes::from_static(b"{}\n")).await.unwrap();
        let err = store.write_commit(0, Bytes::from_static(b"[]\n")).await.unwrap_err();
        assert!(matches!(err, DeltaError::VersionExists { version: 0, .. }), "{err}");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(!format!("{err:?}").contains("s3cr3t"), "{err:?}");
    }

    #[test]
    fn names_files_as_users_give_them() {
        let local = ObjectLogStore::new(
            Arc::new(InMemory::new()),
            Url::parse("file:///work/t/").unwrap(),
            Path::from("work/t"),
        );
        assert_eq!(
            local.display_location(&Path::from("work/t/a=1/x.parquet")),
            "/work/t/a=1/x.parquet"
        );
        assert_eq!(
            local.display_location(&Path::from("other/y.parquet")),
            "/other/y.parquet"
        );
        let s3 = ObjectLogStore::new(
            Arc::new(InMemory::new()),
            Url::parse("s3://bucket/t/").unwrap(),
            Path::from("t"),
        );
        assert_eq!(
            s3.display_location(&Path::from("t/x.parquet")),
            "s3://bucket/t/x.parquet"
        );
        assert_eq!(
            s3.display_location(&Path::from("tt/x.parquet")),
            "s3://bucket/tt/x.parquet"
        );
    }

    #[test]
    fn resolves_relative_encoded_and_absolute_paths() {
        let root = Url::parse("file:///data/t/").unwrap();
        let root_path = Path::from_url_path(root.path()).unwrap();
        // The log holds URL-encoded paths: a directory literally named `x=A%2FB` is written `x=A%252FB`.
        let p = resolve_file(&root, &root_path, "x=A%252FB/part-1.parquet").unwrap();
        assert_eq!(
            p.parts().map(|p| p.as_ref().to_string()).collect::<Vec<_>>(),
            ["data", "t", "x=A%2FB", "part-1.parquet"]
        );
        let abs = resolve_file(&root, &root_path, "file:///other/f.parquet").unwrap();
        assert_eq!(abs.as_ref(), "other/f.parquet");
        assert!(resolve_file(&root, &root_path, "s3://bucket/f.parquet").is_err());
    }

    fn options(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn cloud_uris_open_their_stores_at_their_roots() {
        let s3 = options(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]);
        let azure = options(&[
            ("AZURE_STORAGE_ACCOUNT_NAME", "account"),
            ("AZURE_STORAGE_ACCOUNT_KEY", "c2VjcmV0"),
        ]);
        let key = r#"{"gcs_base_url": "http://127.0.0.1:1", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}"#;
        let gcs = options(&[("GOOGLE_SERVICE_ACCOUNT_KEY", key)]);
        for (uri, options) in [
            ("s3://bucket/a/t", &s3),
            ("s3a://bucket/a/t", &s3),
            ("az://container/a/t", &azure),
            ("azure://container/a/t", &azure),
            ("abfs://container/a/t", &azure),
            ("abfss://container@account.dfs.core.windows.net/a/t", &azure),
            ("gs://bucket/a/t", &gcs),
        ] {
            let url = table_url(uri).unwrap();
            let store = open_log_store(&url, options).unwrap_or_else(|e| panic!("{uri}: {e}"));
            assert_eq!(store.root_path().as_ref(), "a/t", "{uri}");
            assert_eq!(store.log_path().as_ref(), "a/t/_delta_log", "{uri}");
        }
    }

    #[test]
    fn the_dynamodb_locking_provider_selects_the_dynamodb_log_store() {
        let url = table_url("s3://bucket/t").unwrap();
        let mut s3 = options(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ("AWS_S3_LOCKING_PROVIDER", "dynamodb"),
        ]);
        let store = open_log_store(&url, &s3).unwrap();
        let shown = format!("{store:?}");
        assert!(shown.starts_with("DynamoLogStore"), "{shown}");
        assert!(
            shown.contains("dynamodb.eu-west-1.amazonaws.com") && shown.contains("delta_log"),
            "{shown}"
        );
        assert!(!shown.contains("very-secret"), "{shown}");
        // Only `open_log_store` knows the DynamoDB store.
        assert!(ObjectLogStore::for_url(&url, &s3).is_err());
        s3.insert("AWS_S3_LOCKING_PROVIDER".into(), "zookeeper".into());
        let err = open_log_store(&url, &s3).unwrap_err();
        assert!(err.to_string().contains("zookeeper"), "{err}");
    }

    #[test]
    fn table_urls_are_directories() {
        assert_eq!(table_url("memory://t").unwrap().as_str(), "memory://t/");
        assert!(table_url("relative/dir").unwrap().path().ends_with("/relative/dir/"));
    }
}

//! An [`AsyncFileReader`] over an object store, for reading Parquet data and checkpoint files.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{AsyncFileReader, MetadataSuffixFetch};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

/// How many bytes of the file's end are fetched in one request when reading the footer.
const FOOTER_PREFETCH: usize = 64 * 1024;

/// Reads one Parquet file from an object store.
#[derive(Debug, Clone)]
pub struct ObjectFileReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: Option<u64>,
    /// The file's path when the store is the local file system: read directly (see `local`).
    local: Option<Arc<std::path::Path>>,
}

impl ObjectFileReader {
    /// A reader of `path`; `size` (from the log) saves a request when known.
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, size: Option<u64>) -> Self {
        Self {
            store,
            path,
            size,
            local: None,
        }
    }

    /// A reader of a file of the local file system, at `local` there and `path` in `store`.
    pub(crate) fn local(store: Arc<dyn ObjectStore>, path: Path, local: std::path::PathBuf, size: Option<u64>) -> Self {
        Self {
            local: Some(local.into()),
            ..Self::new(store, path, size)
        }
    }

    async fn read_ranges(&self, ranges: &[Range<u64>]) -> object_store::Result<Vec<Bytes>> {
        match &self.local {
            Some(local) => {
                let (local, ranges, buffers) = (local.clone(), ranges.to_vec(), super::local::buffers_for(ranges));
                super::local::blocking(move || super::local::read_ranges(&local, &ranges, buffers)).await?
            }
            None => self.store.get_ranges(&self.path, ranges).await,
        }
    }
}

fn to_parquet(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

/// Fetch the bytes of `range` of `path`.
pub async fn get_range(store: &dyn ObjectStore, path: &Path, range: Range<u64>) -> object_store::Result<Bytes> {
    let options = GetOptions {
        range: Some(GetRange::Bounded(range)),
        ..Default::default()
    };
    store.get_opts(path, options).await?.bytes().await
}

/// Fetch a whole object.
pub async fn get_bytes(store: &dyn ObjectStore, path: &Path) -> object_store::Result<Bytes> {
    store.get_opts(path, GetOptions::default()).await?.bytes().await
}

/// Size and modification time of an object.
pub async fn head(store: &dyn ObjectStore, path: &Path) -> object_store::Result<object_store::ObjectMeta> {
    Ok(store
        .get_opts(
            path,
            GetOptions {
                head: true,
                ..Default::default()
            },
        )
        .await?
        .meta)
}

impl AsyncFileReader for ObjectFileReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        async move {
            let mut bytes = self
                .read_ranges(std::slice::from_ref(&range))
                .await
                .map_err(to_parquet)?;
            Ok(bytes.pop().unwrap_or_default())
        }
        .boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, Result<Vec<Bytes>>> {
        async move { self.read_ranges(&ranges).await.map_err(to_parquet) }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, Result<Arc<ParquetMetaData>>> {
        async move {
            let reader = ParquetMetaDataReader::new()
                .with_metadata_options(options.map(|o| o.metadata_options().clone()))
                .with_prefetch_hint(Some(FOOTER_PREFETCH));
            let metadata = match self.size {
                Some(size) => reader.load_and_finish(self, size).await?,
                None => reader.load_via_suffix_and_finish(self).await?,
            };
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

impl MetadataSuffixFetch for &mut ObjectFileReader {
    fn fetch_suffix(&mut self, suffix: usize) -> BoxFuture<'_, Result<Bytes>> {
        async move {
            if let Some(local) = self.local.clone() {
                let suffix = suffix as u64;
                return super::local::blocking(move || super::local::read_suffix(&local, suffix))
                    .await
                    .and_then(|r| r)
                    .map_err(to_parquet);
            }
            let options = GetOptions {
                range: Some(GetRange::Suffix(suffix as u64)),
                ..Default::default()
            };
            let result = self.store.get_opts(&self.path, options).await.map_err(to_parquet)?;
            result.bytes().await.map_err(to_parquet)
        }
        .boxed()
    }
}

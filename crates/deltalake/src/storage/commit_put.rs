//! Creating a commit file exactly once: the store's create-if-absent put, and recognition of our
//! own commit when a response was lost (a retried put that finds the file, a timeout after the
//! server wrote it).

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions};
use tracing::{debug, warn};

use super::backoff;
use crate::storage::get_bytes;

/// How many times a put whose outcome is unknown (and that did not land) is sent again.
const UNKNOWN_OUTCOME_ATTEMPTS: u32 = 5;

/// How a store creates a file only if it is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    /// An atomic conditional put (`If-None-Match: *` on S3 and GCS, `If-None-Match` on Azure,
    /// an exclusive create on local disks).
    Conditional,
    /// A check for the file, then a plain put: only safe with a single writer.
    UnsafeCheckThenPut,
}

/// Whether [`create_file`] wrote the file or found another writer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The file now holds our bytes (written now, or by an earlier attempt whose answer was lost).
    Ours,
    /// Another writer created the file first.
    Theirs,
}

/// Create `path` holding `body` unless it exists.
///
/// A put that fails with "already exists", or whose outcome is unknown (timeout, connection
/// lost, server errors after the store's own retries), is followed by a read of the file: if it
/// holds exactly our bytes, the earlier attempt landed and the file is ours. Commit bodies carry
/// a unique transaction id, so another writer's commit never holds the same bytes.
pub async fn create_file(
    store: &dyn ObjectStore,
    path: &Path,
    body: Bytes,
    mode: CreateMode,
) -> object_store::Result<Created> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match put(store, path, body.clone(), mode).await {
            Ok(()) => return Ok(Created::Ours),
            Err(object_store::Error::AlreadyExists { .. }) => return whose(store, path, &body).await,
            Err(e) if outcome_unknown(&e) => e,
            Err(e) => return Err(e),
        };
        match get_bytes(store, path).await {
            Ok(stored) if stored == body => {
                debug!(%path, "the commit's response was lost but it landed");
                return Ok(Created::Ours);
            }
            Ok(_) => return Ok(Created::Theirs),
            Err(object_store::Error::NotFound { .. }) if attempt < UNKNOWN_OUTCOME_ATTEMPTS => {
                warn!(%path, attempt, error = %error, "commit put failed before landing, retrying");
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(_) => return Err(error),
        }
    }
}

async fn put(store: &dyn ObjectStore, path: &Path, body: Bytes, mode: CreateMode) -> object_store::Result<()> {
    let mode = match mode {
        CreateMode::Conditional => PutMode::Create,
        CreateMode::UnsafeCheckThenPut => match store.head(path).await {
            Ok(_) => {
                return Err(object_store::Error::AlreadyExists {
                    path: path.to_string(),
                    source: "the file exists".into(),
                });
            }
            Err(object_store::Error::NotFound { .. }) => PutMode::Overwrite,
            Err(e) => return Err(e),
        },
    };
    let opts = PutOptions {
        mode,
        ..Default::default()
    };
    store.put_opts(path, body.into(), opts).await.map(|_| ())
}

/// The file exists: ours if it holds our bytes.
async fn whose(store: &dyn ObjectStore, path: &Path, body: &Bytes) -> object_store::Result<Created> {
    let stored = get_bytes(store, path).await?;
    Ok(if stored == *body {
        Created::Ours
    } else {
        Created::Theirs
    })
}

/// Errors after which the put may or may not have been applied by the server.
fn outcome_unknown(error: &object_store::Error) -> bool {
    matches!(error, object_store::Error::Generic { .. })
}

//! Amazon S3 and S3-compatible stores: the object store, and how commits are made atomic there.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use url::Url;

use crate::error::{DeltaError, DeltaResult};
use crate::storage::commit_put::CreateMode;
use crate::storage::dynamodb::DynamoOptions;
use crate::storage::options::{StorageOptions, redact_url};

/// `AWS_S3_LOCKING_PROVIDER`: `dynamodb` commits through a DynamoDB log store.
pub const LOCKING_PROVIDER: &str = "aws_s3_locking_provider";
/// `AWS_S3_ALLOW_UNSAFE_RENAME`: allow commits without any atomic primitive (one writer only).
pub const ALLOW_UNSAFE_RENAME: &str = "aws_s3_allow_unsafe_rename";
/// `AWS_CONDITIONAL_PUT`: `etag` (the default) or `disabled` for stores without conditional put.
const CONDITIONAL_PUT: &str = "aws_conditional_put";

/// How commits are made atomic on an S3 table.
#[derive(Debug, Clone, PartialEq)]
pub enum S3Commits {
    /// The store's put with `If-None-Match: *` (or a check then a put in unsafe mode).
    Put(CreateMode),
    /// A DynamoDB table holds one entry per commit (Delta Spark's `S3DynamoDBLogStore` layout).
    DynamoDb(Box<DynamoOptions>),
}

/// The S3 store of `url`, and how its commits are made atomic.
pub fn build(url: &Url, options: &StorageOptions) -> DeltaResult<(Arc<dyn ObjectStore>, S3Commits)> {
    let mut builder = AmazonS3Builder::new().with_url(url.as_str());
    let own = [LOCKING_PROVIDER, ALLOW_UNSAFE_RENAME]
        .into_iter()
        .chain(DynamoOptions::KEYS)
        .collect::<Vec<_>>();
    options.apply_to("S3", &own, |key, value| match key.parse::<AmazonS3ConfigKey>() {
        Ok(key) => {
            builder = std::mem::take(&mut builder).with_config(key, value);
            true
        }
        Err(_) => false,
    })?;
    let store = builder
        .build()
        .map_err(|e| DeltaError::InvalidArgument(format!("cannot open the S3 store of {}: {e}", redact_url(url))))?;
    let commits = match options.get(LOCKING_PROVIDER).map(str::to_ascii_lowercase).as_deref() {
        Some("dynamodb") => S3Commits::DynamoDb(Box::new(DynamoOptions::new(options)?)),
        Some("" | "none") | None => match options.get(CONDITIONAL_PUT).map(str::trim) {
            Some("disabled") if options.flag(ALLOW_UNSAFE_RENAME)? => S3Commits::Put(CreateMode::UnsafeCheckThenPut),
            Some("disabled") => {
                return Err(DeltaError::InvalidArgument(format!(
                    "commits to {} need an atomic primitive: conditional put is disabled, so set \
                     AWS_S3_LOCKING_PROVIDER=dynamodb, or AWS_S3_ALLOW_UNSAFE_RENAME=true if only one \
                     writer ever writes the table",
                    redact_url(url)
                )));
            }
            _ => S3Commits::Put(CreateMode::Conditional),
        },
        Some(other) => {
            return Err(DeltaError::InvalidArgument(format!(
                "unknown AWS_S3_LOCKING_PROVIDER '{other}' (supported: dynamodb)"
            )));
        }
    };
    Ok((Arc::new(store), commits))
}

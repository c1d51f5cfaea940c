//! Google Cloud Storage: commits by the conditional create (`ifGenerationMatch=0`).

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use url::Url;

use crate::error::{DeltaError, DeltaResult};
use crate::storage::options::{StorageOptions, redact_url};

/// The GCS store of `url` (`gs://bucket/path`).
pub fn build(url: &Url, options: &StorageOptions) -> DeltaResult<Arc<dyn ObjectStore>> {
    let mut builder = GoogleCloudStorageBuilder::new().with_url(url.as_str());
    options.apply_to("GCS", &[], |key, value| match key.parse::<GoogleConfigKey>() {
        Ok(key) => {
            builder = std::mem::take(&mut builder).with_config(key, value);
            true
        }
        Err(_) => false,
    })?;
    let store = builder
        .build()
        .map_err(|e| DeltaError::InvalidArgument(format!("cannot open the GCS store of {}: {e}", redact_url(url))))?;
    Ok(Arc::new(store))
}

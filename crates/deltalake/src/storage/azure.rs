//! Azure Blob Storage and ADLS Gen2: commits by the conditional create (`If-None-Match: *`).

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use url::Url;

use crate::error::{DeltaError, DeltaResult};
use crate::storage::options::{StorageOptions, redact_url};

/// The Azure store of `url` (`az://`, `abfs[s]://`, `azure://`, `adl://`).
pub fn build(url: &Url, options: &StorageOptions) -> DeltaResult<Arc<dyn ObjectStore>> {
    let mut builder = MicrosoftAzureBuilder::new().with_url(url.as_str());
    options.apply_to("Azure", &[], |key, value| match key.parse::<AzureConfigKey>() {
        Ok(key) => {
            builder = std::mem::take(&mut builder).with_config(key, value);
            true
        }
        Err(_) => false,
    })?;
    let store = builder
        .build()
        .map_err(|e| DeltaError::InvalidArgument(format!("cannot open the Azure store of {}: {e}", redact_url(url))))?;
    Ok(Arc::new(store))
}

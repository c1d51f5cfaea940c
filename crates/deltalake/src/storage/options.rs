//! Storage options: the caller's map over the environment, with the names users of delta-rs
//! already use, and their redaction in `Debug` output.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::error::{DeltaError, DeltaResult};

/// Environment variables with these prefixes are read as storage options.
const ENV_PREFIXES: [&str; 4] = ["AWS_", "AZURE_", "GOOGLE_", "DELTA_"];

/// Options whose values are shown in `Debug` output; every other value is redacted.
const PUBLIC_OPTIONS: [&str; 14] = [
    "aws_region",
    "aws_default_region",
    "aws_endpoint",
    "aws_endpoint_url",
    "aws_endpoint_url_dynamodb",
    "aws_allow_http",
    "aws_conditional_put",
    "aws_s3_locking_provider",
    "aws_s3_allow_unsafe_rename",
    "delta_dynamo_table_name",
    "azure_storage_account_name",
    "azure_storage_use_emulator",
    "azure_storage_endpoint",
    "google_bucket",
];

/// Where an option came from: explicit options are checked strictly, the environment is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionSource {
    /// Passed by the caller.
    Explicit,
    /// Read from an environment variable.
    Environment,
}

/// The storage options of one table: keys lower-cased, the caller's values over the environment's.
///
/// ```
/// use std::collections::HashMap;
/// use deltalake::storage::StorageOptions;
///
/// let options = StorageOptions::new(&HashMap::from([("AWS_REGION".into(), "eu-west-1".into())]));
/// assert_eq!(options.get("aws_region"), Some("eu-west-1"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StorageOptions {
    values: BTreeMap<String, (String, OptionSource)>,
}

impl StorageOptions {
    /// The environment's `AWS_*`, `AZURE_*`, `GOOGLE_*` and `DELTA_*` variables, overridden by
    /// `options`.
    pub fn new(options: &HashMap<String, String>) -> Self {
        let env = std::env::vars().filter(|(k, _)| ENV_PREFIXES.iter().any(|p| k.starts_with(p)));
        let mut this = Self::default();
        for (key, value) in env {
            this.values
                .insert(key.to_ascii_lowercase(), (value, OptionSource::Environment));
        }
        this.extend(options);
        this
    }

    /// Only `options`, without the environment.
    pub fn from_map(options: &HashMap<String, String>) -> Self {
        let mut this = Self::default();
        this.extend(options);
        this
    }

    fn extend(&mut self, options: &HashMap<String, String>) {
        for (key, value) in options {
            self.values
                .insert(key.to_ascii_lowercase(), (value.clone(), OptionSource::Explicit));
        }
    }

    /// The value of `key` (lower case).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(v, _)| v.as_str())
    }

    /// The first of `keys` that is set.
    pub fn get_any(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.get(k))
    }

    /// `key` as a boolean (`true`/`false`, `1`/`0`, `yes`/`no`), `false` when unset.
    pub fn flag(&self, key: &str) -> DeltaResult<bool> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(false),
            Some(v) if ["true", "1", "yes"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["false", "0", "no", ""].contains(&v.as_str()) => Ok(false),
            Some(_) => Err(DeltaError::InvalidArgument(format!(
                "storage option '{key}' must be true or false"
            ))),
        }
    }

    /// Every option with where it came from.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, OptionSource)> {
        self.values.iter().map(|(k, (v, s))| (k.as_str(), v.as_str(), *s))
    }

    /// Pass every option not in `own` to a backend's `apply`, which returns `false` for keys it
    /// does not know: unknown explicit options are an error, unknown environment variables are
    /// ignored (the environment holds much more than storage settings).
    pub fn apply_to(&self, backend: &str, own: &[&str], mut apply: impl FnMut(&str, &str) -> bool) -> DeltaResult<()> {
        for (key, value, source) in self.iter() {
            if own.contains(&key) || apply(key, value) || source == OptionSource::Environment {
                continue;
            }
            return Err(DeltaError::InvalidArgument(format!(
                "unknown {backend} storage option '{key}'"
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for StorageOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.values.iter().map(|(k, (v, _))| {
                let shown = if PUBLIC_OPTIONS.contains(&k.as_str()) {
                    v.as_str()
                } else {
                    "<redacted>"
                };
                (k, shown)
            }))
            .finish()
    }
}

/// `url` without user information, query or fragment, for messages.
pub fn redact_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_options_override_and_are_lower_cased() {
        let options = StorageOptions::from_map(&HashMap::from([
            ("AWS_ALLOW_HTTP".to_string(), "TRUE".to_string()),
            ("aws_secret_access_key".to_string(), "s3cr3t".to_string()),
        ]));
        assert!(options.flag("aws_allow_http").unwrap());
        assert!(!options.flag("aws_s3_allow_unsafe_rename").unwrap());
        let shown = format!("{options:?}");
        assert!(shown.contains("aws_allow_http") && shown.contains("TRUE"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn unknown_explicit_options_are_errors() {
        let options = StorageOptions::from_map(&HashMap::from([("aws_regoin".to_string(), "x".to_string())]));
        let err = options.apply_to("S3", &[], |k, _| k == "aws_region").unwrap_err();
        assert!(err.to_string().contains("aws_regoin"), "{err}");
        assert!(options.apply_to("S3", &["aws_regoin"], |_, _| false).is_ok());
    }

    #[test]
    fn urls_lose_their_credentials() {
        let url = url::Url::parse("s3://key:secret@bucket/t/?sig=abc").unwrap();
        assert_eq!(redact_url(&url), "s3://bucket/t/");
    }
}

//! Table features and the reader versions this implementation supports.

use super::actions::Protocol;
use crate::error::{DeltaError, DeltaResult};

/// Reader features this implementation can read.
pub const SUPPORTED_READER_FEATURES: &[&str] = &[
    "columnMapping",
    "deletionVectors",
    "timestampNtz",
    "v2Checkpoint",
    "vacuumProtocolCheck",
    "variantType",
    "variantType-preview",
    // Shredded files are read where their values are unshredded; shredded values are refused per file.
    "variantShredding",
    "variantShredding-preview",
    "typeWidening",
    "typeWidening-preview",
];

/// The highest reader version understood.
pub const MAX_READER_VERSION: i32 = 3;

impl Protocol {
    /// Whether the named reader feature is active (listed, or implied by the reader version).
    pub fn has_reader_feature(&self, name: &str) -> bool {
        match &self.reader_features {
            Some(features) => features.iter().any(|f| f == name),
            None => name == "columnMapping" && self.min_reader_version >= 2,
        }
    }

    /// Whether the named writer feature is active.
    pub fn has_writer_feature(&self, name: &str) -> bool {
        self.writer_features
            .as_ref()
            .is_some_and(|f| f.iter().any(|x| x == name))
    }

    /// Check that a table with this protocol can be read; the error names every missing feature.
    pub fn ensure_readable(&self, uri: &str) -> DeltaResult<()> {
        let unsupported: Vec<String> = match &self.reader_features {
            Some(features) => features
                .iter()
                .filter(|f| !SUPPORTED_READER_FEATURES.contains(&f.as_str()))
                .cloned()
                .collect(),
            None if self.min_reader_version > MAX_READER_VERSION => {
                vec![format!("readerVersion {}", self.min_reader_version)]
            }
            None => Vec::new(),
        };
        if unsupported.is_empty() {
            Ok(())
        } else {
            Err(DeltaError::UnsupportedFeature {
                uri: uri.to_string(),
                kind: "reader",
                features: unsupported,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol(reader: i32, features: Option<&[&str]>) -> Protocol {
        Protocol {
            min_reader_version: reader,
            min_writer_version: 7,
            reader_features: features.map(|f| f.iter().map(|s| s.to_string()).collect()),
            writer_features: None,
        }
    }

    #[test]
    fn refuses_unknown_reader_features_by_name() {
        let err = protocol(3, Some(&["deletionVectors", "blahabl"]))
            .ensure_readable("t")
            .unwrap_err();
        assert!(
            err.to_string().contains("blahabl") && !err.to_string().contains("deletionVectors"),
            "{err}"
        );
        assert!(protocol(4, None).ensure_readable("t").is_err());
        protocol(3, Some(&["columnMapping", "v2Checkpoint"]))
            .ensure_readable("t")
            .unwrap();
        protocol(1, None).ensure_readable("t").unwrap();
        assert!(protocol(2, None).has_reader_feature("columnMapping"));
    }
}

//! Table features and the reader versions this implementation supports.

use std::collections::HashMap;

use super::actions::Protocol;
use super::schema::{DataType, PrimitiveType, StructField, StructType};
use super::table_config::{
    CheckpointPolicy, ColumnMappingMode, GENERATION_EXPRESSION, IDENTITY_PREFIX, INVARIANTS, TableConfig, TableFeature,
};
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
    // Shredded values are reassembled into plain variant binaries on read.
    "variantShredding",
    "variantShredding-preview",
    "typeWidening",
    "typeWidening-preview",
];

/// The highest reader version understood.
pub const MAX_READER_VERSION: i32 = 3;

/// Writer features this implementation honours when it writes.
pub const SUPPORTED_WRITER_FEATURES: &[&str] = &[
    "appendOnly",
    "invariants",
    "checkConstraints",
    "generatedColumns",
    "changeDataFeed",
    "columnMapping",
    "identityColumns",
    "deletionVectors",
    "timestampNtz",
    "variantType",
    "variantType-preview",
    "v2Checkpoint",
    "inCommitTimestamp",
    "domainMetadata",
    "vacuumProtocolCheck",
    "typeWidening",
    "typeWidening-preview",
    "clustering",
];

/// The highest writer version understood.
pub const MAX_WRITER_VERSION: i32 = 7;

/// The writer features implied by a legacy (pre-table-features) writer version.
fn legacy_writer_features(version: i32) -> &'static [&'static str] {
    const ALL: &[&str] = &[
        "appendOnly",
        "invariants",
        "checkConstraints",
        "changeDataFeed",
        "generatedColumns",
        "columnMapping",
        "identityColumns",
    ];
    match version {
        ..=1 => &[],
        2 => &ALL[..2],
        3 => &ALL[..3],
        4 => &ALL[..5],
        5 => &ALL[..6],
        _ => ALL,
    }
}

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

    /// Whether the protocol supports the named writer feature: it names it (writer version 7) or
    /// implies it by its legacy writer version (`changeDataFeed` from version 4, ...).
    pub fn supports_writer_feature(&self, name: &str) -> bool {
        self.explicit_writer_features().iter().any(|f| f == name)
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

impl Protocol {
    /// Check that a table with this protocol can be written: it must be readable, and every writer
    /// feature it has must be honoured. The error names every missing feature.
    pub fn ensure_writable(&self, uri: &str) -> DeltaResult<()> {
        self.ensure_readable(uri)?;
        if self.min_writer_version > MAX_WRITER_VERSION {
            return Err(DeltaError::UnsupportedFeature {
                uri: uri.to_string(),
                kind: "writer",
                features: vec![format!("writerVersion {}", self.min_writer_version)],
            });
        }
        let listed: Vec<&str> = match &self.writer_features {
            Some(features) if self.min_writer_version >= 7 => features.iter().map(String::as_str).collect(),
            _ => legacy_writer_features(self.min_writer_version).to_vec(),
        };
        let unsupported: Vec<String> = listed
            .into_iter()
            .filter(|f| !SUPPORTED_WRITER_FEATURES.contains(f))
            .map(str::to_string)
            .collect();
        if unsupported.is_empty() {
            Ok(())
        } else {
            Err(DeltaError::UnsupportedFeature {
                uri: uri.to_string(),
                kind: "writer",
                features: unsupported,
            })
        }
    }
}

impl Protocol {
    /// The reader features this protocol names or implies (`columnMapping` for reader version 2).
    fn explicit_reader_features(&self) -> Vec<String> {
        match &self.reader_features {
            Some(features) if self.min_reader_version >= 3 => features.clone(),
            _ if self.min_reader_version >= 2 => vec!["columnMapping".into()],
            _ => Vec::new(),
        }
    }

    /// The writer features this protocol names or implies by its legacy version.
    fn explicit_writer_features(&self) -> Vec<String> {
        match &self.writer_features {
            Some(features) if self.min_writer_version >= 7 => features.clone(),
            _ => legacy_writer_features(self.min_writer_version)
                .iter()
                .map(|f| f.to_string())
                .collect(),
        }
    }

    /// The smallest protocol that supports everything `self` and `other` support. Legacy versions
    /// are spelled out as feature lists when the result needs table features.
    pub fn merge(&self, other: &Protocol) -> Protocol {
        let legacy = |p: &Protocol| p.min_reader_version < 3 && p.min_writer_version < 7;
        if legacy(self) && legacy(other) {
            return Protocol {
                min_reader_version: self.min_reader_version.max(other.min_reader_version),
                min_writer_version: self.min_writer_version.max(other.min_writer_version),
                reader_features: None,
                writer_features: None,
            };
        }
        let union = |a: Vec<String>, b: Vec<String>| {
            let mut all = a;
            for f in b {
                if !all.contains(&f) {
                    all.push(f);
                }
            }
            all
        };
        let readers = union(self.explicit_reader_features(), other.explicit_reader_features());
        let table_reader = self.min_reader_version >= 3 || other.min_reader_version >= 3;
        // Every reader feature is a writer feature too.
        let writers = union(
            union(self.explicit_writer_features(), other.explicit_writer_features()),
            if table_reader { readers.clone() } else { Vec::new() },
        );
        Protocol {
            min_reader_version: if table_reader {
                3
            } else {
                self.min_reader_version.max(other.min_reader_version)
            },
            min_writer_version: 7,
            reader_features: table_reader.then_some(readers),
            writer_features: Some(writers),
        }
    }

    /// This protocol with the named features added (reader-writer features to both lists).
    pub fn with_features<S: AsRef<str>>(&self, names: &[S]) -> DeltaResult<Protocol> {
        let mut protocol = self.clone();
        for name in names {
            let name = name.as_ref();
            let feature = if SUPPORTED_READER_FEATURES.contains(&name) {
                Protocol {
                    min_reader_version: 3,
                    min_writer_version: 7,
                    reader_features: Some(vec![name.to_string()]),
                    writer_features: Some(vec![name.to_string()]),
                }
            } else if SUPPORTED_WRITER_FEATURES.contains(&name) {
                Protocol {
                    min_reader_version: 1,
                    min_writer_version: 7,
                    reader_features: None,
                    writer_features: Some(vec![name.to_string()]),
                }
            } else {
                return Err(DeltaError::InvalidArgument(format!(
                    "unknown or unsupported table feature '{name}'; supported: {}",
                    SUPPORTED_WRITER_FEATURES.join(", ")
                )));
            };
            protocol = protocol.merge(&feature);
        }
        Ok(protocol)
    }

    /// Whether every feature of `other` is supported by `self` (no upgrade needed).
    pub fn covers(&self, other: &Protocol) -> bool {
        let merged = self.merge(other);
        let same = |a: Vec<String>, b: Vec<String>| a.len() == b.len() && a.iter().all(|f| b.contains(f));
        same(merged.explicit_reader_features(), self.explicit_reader_features())
            && same(merged.explicit_writer_features(), self.explicit_writer_features())
    }
}

/// A feature a table needs, and the protocol versions that carry it.
struct Needed {
    name: &'static str,
    /// Legacy reader version implying it, or `None` when only reader version 3 can name it
    /// (`Some(1)` for writer-only features).
    reader: Option<i32>,
    /// Legacy writer version implying it, or `None` when only writer version 7 can name it.
    writer: Option<i32>,
}

impl Protocol {
    /// The smallest protocol that covers what a table with this schema and these properties uses.
    pub fn required_for(schema: &StructType, configuration: &HashMap<String, String>) -> DeltaResult<Self> {
        let config = TableConfig::new(configuration);
        let enabled = |feature| config.flag(feature);
        let mut needed = Vec::new();
        let mut need = |name, reader, writer| needed.push(Needed { name, reader, writer });
        if enabled(TableFeature::AppendOnly) {
            need("appendOnly", Some(1), Some(2));
        }
        if schema_has(schema, &|f| f.metadata.contains_key(INVARIANTS)) {
            need("invariants", Some(1), Some(2));
        }
        if !config.constraints().is_empty() {
            need("checkConstraints", Some(1), Some(3));
        }
        if enabled(TableFeature::ChangeDataFeed) {
            need("changeDataFeed", Some(1), Some(4));
        }
        if schema_has(schema, &|f| f.metadata.contains_key(GENERATION_EXPRESSION)) {
            need("generatedColumns", Some(1), Some(4));
        }
        if config.column_mapping_mode()? != ColumnMappingMode::None {
            need("columnMapping", Some(2), Some(5));
        }
        if schema_has(schema, &|f| f.metadata.keys().any(|k| k.starts_with(IDENTITY_PREFIX))) {
            need("identityColumns", Some(1), Some(6));
        }
        if enabled(TableFeature::DeletionVectors) {
            need("deletionVectors", None, None);
        }
        if schema_has(schema, &|f| type_has(&f.data_type, PrimitiveType::TimestampNtz)) {
            need("timestampNtz", None, None);
        }
        if schema_has(schema, &|f| type_has(&f.data_type, PrimitiveType::Variant)) {
            need("variantType", None, None);
        }
        if config.checkpoint_policy() == CheckpointPolicy::V2 {
            need("v2Checkpoint", None, None);
        }
        if enabled(TableFeature::InCommitTimestamps) {
            need("inCommitTimestamp", Some(1), None);
        }
        if enabled(TableFeature::RowTracking) {
            need("domainMetadata", Some(1), None);
            need("rowTracking", Some(1), None);
        }
        let table_features = needed.iter().any(|n| n.reader.is_none() || n.writer.is_none());
        let reader_table_features = needed.iter().any(|n| n.reader.is_none());
        let legacy_reader = needed.iter().filter_map(|n| n.reader).max().unwrap_or(1);
        let legacy_writer = needed.iter().filter_map(|n| n.writer).max().unwrap_or(2);
        Ok(if !table_features {
            Self {
                min_reader_version: legacy_reader,
                min_writer_version: legacy_writer,
                reader_features: None,
                writer_features: None,
            }
        } else {
            let reader_features = reader_table_features.then(|| {
                needed
                    .iter()
                    .filter(|n| n.reader != Some(1))
                    .map(|n| n.name.to_string())
                    .collect()
            });
            Self {
                min_reader_version: if reader_table_features { 3 } else { legacy_reader },
                min_writer_version: 7,
                reader_features,
                writer_features: Some(needed.iter().map(|n| n.name.to_string()).collect()),
            }
        })
    }
}

fn schema_has(schema: &StructType, test: &dyn Fn(&StructField) -> bool) -> bool {
    schema.fields.iter().any(|f| {
        test(f)
            || match &f.data_type {
                DataType::Struct(inner) => schema_has(inner, test),
                DataType::Array(a) => nested_struct(&a.element_type).is_some_and(|s| schema_has(s, test)),
                DataType::Map(m) => [&m.key_type, &m.value_type]
                    .into_iter()
                    .filter_map(nested_struct)
                    .any(|s| schema_has(s, test)),
                DataType::Primitive(_) => false,
            }
    })
}

fn nested_struct(t: &DataType) -> Option<&StructType> {
    match t {
        DataType::Struct(s) => Some(s),
        DataType::Array(a) => nested_struct(&a.element_type),
        _ => None,
    }
}

fn type_has(t: &DataType, p: PrimitiveType) -> bool {
    match t {
        DataType::Primitive(x) => *x == p,
        DataType::Struct(s) => s.fields.iter().any(|f| type_has(&f.data_type, p)),
        DataType::Array(a) => type_has(&a.element_type, p),
        DataType::Map(m) => type_has(&m.key_type, p) || type_has(&m.value_type, p),
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

    #[test]
    fn refuses_writes_that_would_break_unhonoured_writer_features() {
        let legacy = |writer| Protocol {
            min_reader_version: 1,
            min_writer_version: writer,
            reader_features: None,
            writer_features: None,
        };
        for version in 1..=7 {
            legacy(version).ensure_writable("t").unwrap();
        }
        let err = legacy(8).ensure_writable("t").unwrap_err();
        assert!(err.to_string().contains("writerVersion 8"), "{err}");

        let features = |names: &[&str]| Protocol {
            min_reader_version: 3,
            min_writer_version: 7,
            reader_features: Some(vec![]),
            writer_features: Some(names.iter().map(|s| s.to_string()).collect()),
        };
        features(&["appendOnly", "deletionVectors", "checkConstraints", "generatedColumns"])
            .ensure_writable("t")
            .unwrap();
        let err = features(&["rowTracking", "domainMetadata", "icebergCompatV2"])
            .ensure_writable("t")
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("rowTracking")
                && message.contains("icebergCompatV2")
                && !message.contains("domainMetadata"),
            "{message}"
        );
        // A writer must be able to read the table too.
        let mut unreadable = features(&["appendOnly"]);
        unreadable.reader_features = Some(vec!["somethingNew".into()]);
        assert!(unreadable.ensure_writable("t").is_err());
    }

    #[test]
    fn merging_protocols_spells_out_legacy_versions() {
        let legacy = |r, w| Protocol {
            min_reader_version: r,
            min_writer_version: w,
            reader_features: None,
            writer_features: None,
        };
        assert_eq!(legacy(1, 2).merge(&legacy(2, 4)), legacy(2, 4));
        let dv = legacy(1, 2).with_features(&["deletionVectors"]).unwrap();
        assert_eq!((dv.min_reader_version, dv.min_writer_version), (3, 7));
        assert_eq!(dv.reader_features, Some(vec!["deletionVectors".to_string()]));
        assert_eq!(
            dv.writer_features,
            Some(vec!["appendOnly".into(), "invariants".into(), "deletionVectors".into()])
        );
        let ict = legacy(2, 5).with_features(&["inCommitTimestamp"]).unwrap();
        assert_eq!(
            (ict.min_reader_version, ict.min_writer_version, &ict.reader_features),
            (2, 7, &None)
        );
        assert!(ict.explicit_writer_features().contains(&"columnMapping".to_string()));
        assert!(ict.covers(&legacy(2, 5)) && !legacy(2, 5).covers(&ict));
        assert!(dv.covers(&legacy(1, 1)) && !dv.covers(&legacy(1, 3)));
        assert!(legacy(1, 2).with_features(&["noSuchThing"]).is_err());
    }

    #[test]
    fn required_protocol_is_the_smallest_that_covers_the_features() {
        let schema = |t: &str| {
            StructType::from_json(&format!(
                r#"{{"type":"struct","fields":[{{"name":"a","type":"{t}","nullable":true,"metadata":{{}}}}]}}"#
            ))
            .unwrap()
        };
        let props = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let p = Protocol::required_for(&schema("long"), &props(&[])).unwrap();
        assert_eq!(
            (p.min_reader_version, p.min_writer_version, p.writer_features),
            (1, 2, None)
        );
        let p = Protocol::required_for(&schema("long"), &props(&[("delta.enableChangeDataFeed", "true")])).unwrap();
        assert_eq!((p.min_reader_version, p.min_writer_version), (1, 4));
        let p = Protocol::required_for(&schema("long"), &props(&[("delta.columnMapping.mode", "name")])).unwrap();
        assert_eq!((p.min_reader_version, p.min_writer_version), (2, 5));
        let p = Protocol::required_for(&schema("timestamp_ntz"), &props(&[("delta.appendOnly", "true")])).unwrap();
        assert_eq!((p.min_reader_version, p.min_writer_version), (3, 7));
        assert_eq!(p.reader_features, Some(vec!["timestampNtz".to_string()]));
        assert_eq!(
            p.writer_features,
            Some(vec!["appendOnly".to_string(), "timestampNtz".to_string()])
        );
        let p = Protocol::required_for(&schema("long"), &props(&[("delta.enableInCommitTimestamps", "true")])).unwrap();
        assert_eq!(
            (p.min_reader_version, p.min_writer_version, p.reader_features),
            (1, 7, None)
        );
        let p = Protocol::required_for(
            &schema("long"),
            &props(&[
                ("delta.enableDeletionVectors", "true"),
                ("delta.columnMapping.mode", "id"),
            ]),
        )
        .unwrap();
        assert_eq!(
            p.reader_features,
            Some(vec!["columnMapping".to_string(), "deletionVectors".to_string()])
        );
        assert!(Protocol::required_for(&schema("long"), &props(&[("delta.columnMapping.mode", "x")])).is_err());
        p.ensure_readable("t").unwrap();
    }

    #[test]
    fn required_protocol_reads_properties_as_spark_does() {
        let schema = StructType::new(vec![StructField::new(
            "a",
            DataType::Primitive(PrimitiveType::Long),
            true,
        )]);
        for spelling in ["true", "TRUE", "True", " tRuE "] {
            let props = |key: &str| HashMap::from([(key.to_string(), spelling.to_string())]);
            let p = Protocol::required_for(&schema, &props("delta.enableInCommitTimestamps")).unwrap();
            assert!(p.has_writer_feature("inCommitTimestamp"), "'{spelling}'");
            let p = Protocol::required_for(&schema, &props("delta.enableChangeDataFeed")).unwrap();
            assert!(p.supports_writer_feature("changeDataFeed"), "'{spelling}'");
            let p = Protocol::required_for(&schema, &props("delta.enableDeletionVectors")).unwrap();
            assert!(p.has_reader_feature("deletionVectors"), "'{spelling}'");
        }
        let name = HashMap::from([("delta.columnMapping.mode".to_string(), "NAME".to_string())]);
        let p = Protocol::required_for(&schema, &name).unwrap();
        assert!(p.supports_writer_feature("columnMapping") && !p.supports_writer_feature("deletionVectors"));
    }
}

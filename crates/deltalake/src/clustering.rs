//! Liquid clustering: the clustering columns of a table and the rules they follow.
//!
//! A clustered table has the `clustering` writer feature (which needs `domainMetadata`) and keeps
//! its clustering columns in the `delta.clustering` metadata domain, as physical column paths:
//! `{"clusteringColumns": [["a"], ["b", "c"]]}`. Files that OPTIMIZE has clustered carry
//! `add.clusteringProvider`; files written otherwise do not. A clustered table is never
//! partitioned, and its clustering columns must have statistics (minimum and maximum), since
//! clustering exists to make file skipping on them effective.
//!
//! Tables from the Databricks preview of the feature (writer feature `liquid`, domain
//! `delta.liquid` with `{"clusteringColumns": [{"physicalName": ["id"]}]}`) are read too.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{DeltaError, DeltaResult};
use crate::protocol::stats_schema::StatsSchema;
use crate::protocol::table_config::LIQUID_PREVIEW_DOMAIN;
use crate::protocol::{DataType, DomainMetadata, PrimitiveType, Protocol, StructType, TableConfig};

pub use crate::protocol::table_config::CLUSTERING_DOMAIN;

/// The writer feature of clustered tables.
pub const CLUSTERING_FEATURE: &str = "clustering";

/// The `add.clusteringProvider` of files this crate clusters (the name Delta Spark uses, so other
/// engines recognise the files as clustered).
pub const CLUSTERING_PROVIDER: &str = "liquid";

/// The most clustering columns a table may have (as in Delta Spark).
pub const MAX_CLUSTERING_COLUMNS: usize = 4;

/// The features a clustered table needs.
const FEATURES: [&str; 2] = ["domainMetadata", CLUSTERING_FEATURE];

/// The configuration of the `delta.clustering` domain.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusteringDomain {
    /// Physical paths of the clustering columns.
    #[serde(default)]
    clustering_columns: Vec<Vec<String>>,
    /// The domain name again (Delta Spark writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    domain_name: Option<String>,
}

/// The configuration of the preview `delta.liquid` domain.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewDomain {
    #[serde(default)]
    clustering_columns: Vec<PreviewColumn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewColumn {
    physical_name: Vec<String>,
}

/// The clustering columns of a table as logical paths (top-level name first), or `None` when the
/// table is not clustered. A table with the feature and no domain has no clustering columns.
pub(crate) fn clustering_paths(
    protocol: &Protocol,
    schema: &StructType,
    domains: &HashMap<String, DomainMetadata>,
) -> DeltaResult<Option<Vec<Vec<String>>>> {
    let parse_error = |domain: &str, e: serde_json::Error| {
        DeltaError::Schema(format!("the {domain} domain metadata is not valid: {e}"))
    };
    let physical: Vec<Vec<String>> = if let Some(d) = domains.get(CLUSTERING_DOMAIN) {
        serde_json::from_str::<ClusteringDomain>(&d.configuration)
            .map_err(|e| parse_error(CLUSTERING_DOMAIN, e))?
            .clustering_columns
    } else if let Some(d) = domains.get(LIQUID_PREVIEW_DOMAIN) {
        serde_json::from_str::<PreviewDomain>(&d.configuration)
            .map_err(|e| parse_error(LIQUID_PREVIEW_DOMAIN, e))?
            .clustering_columns
            .into_iter()
            .map(|c| c.physical_name)
            .collect()
    } else if protocol.has_writer_feature(CLUSTERING_FEATURE) {
        Vec::new()
    } else {
        return Ok(None);
    };
    physical
        .iter()
        .map(|path| logical_path(schema, path))
        .collect::<DeltaResult<_>>()
        .map(Some)
}

/// The logical path of the column at a physical path.
fn logical_path(schema: &StructType, physical: &[String]) -> DeltaResult<Vec<String>> {
    let mut fields = schema;
    let mut logical = Vec::with_capacity(physical.len());
    for (depth, name) in physical.iter().enumerate() {
        let field = fields
            .fields
            .iter()
            .find(|f| f.physical_name() == name)
            .ok_or_else(|| {
                DeltaError::Schema(format!(
                    "clustering column '{}' is not in the table schema",
                    physical.join(".")
                ))
            })?;
        logical.push(field.name.clone());
        match &field.data_type {
            DataType::Struct(inner) => fields = inner,
            _ if depth + 1 < physical.len() => {
                return Err(DeltaError::Schema(format!(
                    "clustering column '{}' is not in the table schema",
                    physical.join(".")
                )));
            }
            _ => {}
        }
    }
    Ok(logical)
}

/// The logical path, physical path and type of the leaf column a (possibly dotted) logical name
/// designates: a top-level column of that exact name first, else a path through struct columns.
/// Names are matched as the schema matches them (case-insensitively).
fn resolve(schema: &StructType, name: &str) -> Option<(Vec<String>, Vec<String>, DataType)> {
    resolve_path(schema, &[name]).or_else(|| resolve_path(schema, &name.split('.').collect::<Vec<_>>()))
}

/// [`resolve`] for a path of names, top-level name first.
fn resolve_path<S: AsRef<str>>(schema: &StructType, parts: &[S]) -> Option<(Vec<String>, Vec<String>, DataType)> {
    let mut fields = schema;
    let mut logical = Vec::new();
    let mut physical = Vec::new();
    for (depth, part) in parts.iter().enumerate() {
        let field = fields.field(part.as_ref())?;
        logical.push(field.name.clone());
        physical.push(field.physical_name().to_string());
        match &field.data_type {
            DataType::Struct(inner) if depth + 1 < parts.len() => fields = inner,
            t if depth + 1 == parts.len() => return Some((logical, physical, t.clone())),
            _ => return None,
        }
    }
    None
}

/// The `delta.clustering` domain of a table clustered by `columns` (logical names, nested ones
/// dotted), checked against its schema, partition columns and properties: columns must exist,
/// be leaves of a type with statistics that the table collects statistics for, appear once, be
/// at most [`MAX_CLUSTERING_COLUMNS`], and the table must not be partitioned. No columns is the
/// domain of a clustered table without clustering columns (`CLUSTER BY NONE`).
pub(crate) fn clustering_domain(
    schema: &StructType,
    partition_columns: &[String],
    properties: &HashMap<String, String>,
    columns: &[String],
) -> DeltaResult<DomainMetadata> {
    if !partition_columns.is_empty() {
        return Err(DeltaError::InvalidArgument(format!(
            "a table cannot be both partitioned and clustered: it is partitioned by {partition_columns:?}"
        )));
    }
    if columns.len() > MAX_CLUSTERING_COLUMNS {
        return Err(DeltaError::InvalidArgument(format!(
            "a table has at most {MAX_CLUSTERING_COLUMNS} clustering columns, not {} ({columns:?})",
            columns.len()
        )));
    }
    let stats = StatsSchema::new(schema, &[], &TableConfig::new(properties).stats_config()?);
    let mut physical_paths: Vec<Vec<String>> = Vec::new();
    let mut logical_paths: Vec<Vec<String>> = Vec::new();
    for column in columns {
        let (logical, physical, data_type) = resolve(schema, column).ok_or_else(|| {
            let available: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
            DeltaError::InvalidArgument(format!(
                "clustering column '{column}' does not exist in the table; columns are: {}",
                available.join(", ")
            ))
        })?;
        if logical_paths.contains(&logical) {
            return Err(DeltaError::InvalidArgument(format!(
                "clustering column '{column}' is given twice"
            )));
        }
        if !stats.has_bounds(&logical) {
            let reason = match data_type {
                DataType::Primitive(p)
                    if !matches!(
                        p,
                        PrimitiveType::Boolean | PrimitiveType::Binary | PrimitiveType::Variant
                    ) =>
                {
                    "the table collects no statistics for it \
                     (delta.dataSkippingNumIndexedCols / delta.dataSkippingStatsColumns)"
                        .to_string()
                }
                other => format!("its type {other} has no minimum and maximum statistics"),
            };
            return Err(DeltaError::InvalidArgument(format!(
                "cannot cluster by '{column}': {reason}"
            )));
        }
        logical_paths.push(logical);
        physical_paths.push(physical);
    }
    let configuration = ClusteringDomain {
        clustering_columns: physical_paths,
        domain_name: Some(CLUSTERING_DOMAIN.to_string()),
    };
    Ok(DomainMetadata {
        domain: CLUSTERING_DOMAIN.to_string(),
        configuration: serde_json::to_string(&configuration)?,
        removed: false,
    })
}

/// Check that a clustered table, about to be written with `schema` and `partition_columns`, stays
/// a valid clustered table: unpartitioned, its clustering columns (logical paths) still there.
pub(crate) fn ensure_clustering_kept(
    clustering: &[Vec<String>],
    schema: &StructType,
    partition_columns: &[String],
) -> DeltaResult<()> {
    if !partition_columns.is_empty() {
        return Err(DeltaError::InvalidArgument(format!(
            "the table is clustered: it cannot be partitioned (by {partition_columns:?})"
        )));
    }
    if let Some(missing) = clustering.iter().find(|path| resolve_path(schema, path).is_none()) {
        return Err(DeltaError::InvalidArgument(format!(
            "the table is clustered by '{}': the new schema must keep that column",
            missing.join(".")
        )));
    }
    Ok(())
}

/// `protocol` with the features of clustered tables added.
pub(crate) fn with_clustering_features(protocol: &Protocol) -> DeltaResult<Protocol> {
    protocol.with_features(&FEATURES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> StructType {
        StructType::from_json(
            r#"{"type":"struct","fields":[
                {"name":"id","type":"long","nullable":true,"metadata":{}},
                {"name":"flag","type":"boolean","nullable":true,"metadata":{}},
                {"name":"s","type":{"type":"struct","fields":[
                    {"name":"x","type":"double","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
                {"name":"late","type":"string","nullable":true,"metadata":{}}]}"#,
        )
        .unwrap()
    }

    fn domains(configuration: &str, name: &str) -> HashMap<String, DomainMetadata> {
        let domain = DomainMetadata {
            domain: name.into(),
            configuration: configuration.into(),
            removed: false,
        };
        HashMap::from([(name.to_string(), domain)])
    }

    fn plain() -> Protocol {
        Protocol {
            min_reader_version: 1,
            min_writer_version: 2,
            reader_features: None,
            writer_features: None,
        }
    }

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_domain_round_trips_physical_paths() {
        let domain = clustering_domain(&schema(), &[], &HashMap::new(), &columns(&["ID", "s.x"])).unwrap();
        assert_eq!(
            domain.configuration,
            r#"{"clusteringColumns":[["id"],["s","x"]],"domainName":"delta.clustering"}"#
        );
        let protocol = with_clustering_features(&plain()).unwrap();
        let paths = clustering_paths(&protocol, &schema(), &domains(&domain.configuration, CLUSTERING_DOMAIN));
        assert_eq!(
            paths.unwrap().unwrap(),
            vec![vec!["id".to_string()], vec!["s".into(), "x".into()]]
        );
    }

    #[test]
    fn preview_domains_and_bare_features_are_read() {
        let preview = domains(
            r#"{"clusteringColumns":[{"physicalName":["id"]}]}"#,
            LIQUID_PREVIEW_DOMAIN,
        );
        let paths = clustering_paths(&plain(), &schema(), &preview).unwrap();
        assert_eq!(paths, Some(vec![vec!["id".to_string()]]));
        let protocol = with_clustering_features(&plain()).unwrap();
        assert_eq!(
            clustering_paths(&protocol, &schema(), &HashMap::new()).unwrap(),
            Some(vec![])
        );
        assert_eq!(clustering_paths(&plain(), &schema(), &HashMap::new()).unwrap(), None);
        let unknown = domains(r#"{"clusteringColumns":[["nope"]]}"#, CLUSTERING_DOMAIN);
        assert!(clustering_paths(&protocol, &schema(), &unknown).is_err());
        let garbage = domains("{not json", CLUSTERING_DOMAIN);
        assert!(clustering_paths(&protocol, &schema(), &garbage).is_err());
    }

    #[test]
    fn bad_clustering_columns_are_refused_with_the_reason() {
        let refuse = |names: &[&str], partitions: &[&str], props: &[(&str, &str)]| {
            let props = props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            clustering_domain(&schema(), &columns(partitions), &props, &columns(names))
                .unwrap_err()
                .to_string()
        };
        assert!(refuse(&["nope"], &[], &[]).contains("does not exist"));
        assert!(refuse(&["id", "Id"], &[], &[]).contains("twice"));
        assert!(refuse(&["flag"], &[], &[]).contains("no minimum and maximum"));
        assert!(refuse(&["s"], &[], &[]).contains("no minimum and maximum"));
        assert!(refuse(&["id"], &["late"], &[]).contains("partitioned and clustered"));
        assert!(refuse(&["late"], &[], &[("delta.dataSkippingNumIndexedCols", "2")]).contains("no statistics"));
        assert!(refuse(&["id", "late", "s.x", "id", "flag"], &[], &[]).contains("at most 4"));
        let props = HashMap::from([("delta.dataSkippingStatsColumns".to_string(), "late".to_string())]);
        clustering_domain(&schema(), &[], &props, &columns(&["late"])).unwrap();
    }
}

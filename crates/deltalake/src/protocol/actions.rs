//! Every action of the Delta log, with the exact JSON names of the specification,
//! and the parser of one commit file.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::deletion_vector::DeletionVectorDescriptor;
use super::schema::StructType;
use crate::error::{DeltaError, DeltaResult};

/// Partition values and tags: a string map whose values may be null.
pub type StringMap = HashMap<String, Option<String>>;

/// A data file added to the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Add {
    /// Path relative to the table root (URL-encoded), or an absolute URI.
    pub path: String,
    /// Partition column (physical name) to serialised value; null for a null partition.
    #[serde(default)]
    pub partition_values: StringMap,
    /// Size in bytes.
    pub size: i64,
    /// Creation time in milliseconds since the epoch.
    pub modification_time: i64,
    /// False when the file only rearranges data (compaction).
    pub data_change: bool,
    /// Column statistics as a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "stats_string")]
    pub stats: Option<String>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
    /// Rows of the file that are deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_vector: Option<DeletionVectorDescriptor>,
    /// Row tracking: id of the file's first row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_row_id: Option<i64>,
    /// Row tracking: version that first committed the file's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_row_commit_version: Option<i64>,
    /// The clustering implementation that wrote the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clustering_provider: Option<String>,
}

impl Add {
    /// A newly written data file: `size` bytes, created at `modification_time` (milliseconds since
    /// the epoch), with its statistics; a data change, without deletion vector, tags or row ids.
    pub fn new_file(
        path: String,
        partition_values: StringMap,
        size: u64,
        modification_time: i64,
        stats: Option<String>,
    ) -> Self {
        Self {
            path,
            partition_values,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            modification_time,
            data_change: true,
            stats,
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
            clustering_provider: None,
        }
    }

    /// The live rows of the file by its statistics: `numRecords` less the rows its deletion vector
    /// deletes; `None` without statistics.
    pub fn live_rows(&self) -> Option<usize> {
        live_rows(self.stats.as_deref(), self.deletion_vector.as_ref())
    }
}

/// The live rows of a data file with these statistics (JSON) and deletion vector.
pub(crate) fn live_rows(stats: Option<&str>, dv: Option<&DeletionVectorDescriptor>) -> Option<usize> {
    #[derive(Deserialize)]
    struct Counts {
        #[serde(rename = "numRecords")]
        num_records: Option<i64>,
    }
    let records = serde_json::from_str::<Counts>(stats?).ok()?.num_records?;
    usize::try_from(records.checked_sub(dv.map_or(0, |dv| dv.cardinality))?).ok()
}

/// A data file removed from the table (a tombstone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remove {
    /// Path as in the matching add.
    pub path: String,
    /// When the file was removed, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<i64>,
    /// False when the data is not changed (compaction).
    pub data_change: bool,
    /// Whether partition values, size and tags are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_file_metadata: Option<bool>,
    /// Partition values of the removed file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_values: Option<StringMap>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Statistics as in the add.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "stats_string")]
    pub stats: Option<String>,
    /// Tags as in the add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
    /// The deletion vector of the removed (path, vector) pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_vector: Option<DeletionVectorDescriptor>,
    /// Row tracking: id of the file's first row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_row_id: Option<i64>,
    /// Row tracking: version that first committed the file's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_row_commit_version: Option<i64>,
}

/// A change data file (`_change_data/...`) written by an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddCdcFile {
    /// Path relative to the table root.
    pub path: String,
    /// Partition values of the rows in the file.
    #[serde(default)]
    pub partition_values: StringMap,
    /// Size in bytes.
    pub size: i64,
    /// Always false.
    #[serde(default)]
    pub data_change: bool,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
}

/// The storage format of data files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Format {
    /// Always `parquet`.
    pub provider: String,
    /// Format options.
    #[serde(default)]
    pub options: StringMap,
}

impl Default for Format {
    fn default() -> Self {
        Self {
            provider: "parquet".into(),
            options: HashMap::new(),
        }
    }
}

/// The table's metadata: schema, partitioning and configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Unique table id.
    pub id: String,
    /// User-facing name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// User-facing description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Data file format.
    #[serde(default)]
    pub format: Format,
    /// The schema as JSON (some writers omit it from a first, schema-less metadata).
    #[serde(default)]
    pub schema_string: String,
    /// Partition column names, in order.
    #[serde(default)]
    pub partition_columns: Vec<String>,
    /// Table properties (`delta.*` and user properties).
    #[serde(default, deserialize_with = "non_null_map")]
    pub configuration: HashMap<String, String>,
    /// Creation time in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
}

impl Metadata {
    /// Parse the schema string.
    pub fn schema(&self) -> DeltaResult<StructType> {
        StructType::from_json(&self.schema_string)
    }
}

/// The protocol versions and features a client needs to read or write the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Protocol {
    /// Minimum reader version.
    pub min_reader_version: i32,
    /// Minimum writer version.
    pub min_writer_version: i32,
    /// Named reader features (reader version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_features: Option<Vec<String>>,
    /// Named writer features (writer version 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_features: Option<Vec<String>>,
}

/// An application's transaction version, for idempotent writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Txn {
    /// The application id.
    pub app_id: String,
    /// The application's version.
    pub version: i64,
    /// When it was written, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<i64>,
}

/// Provenance of a commit. Unknown fields are kept in `other`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitInfo {
    /// Wall-clock time of the commit in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// The in-commit timestamp, when the feature is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_commit_timestamp: Option<i64>,
    /// The operation name (`WRITE`, `DELETE`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The operation's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_parameters: Option<HashMap<String, Value>>,
    /// The version the writer read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_version: Option<i64>,
    /// The isolation level used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_level: Option<String>,
    /// Whether the commit only appended data without reading the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_blind_append: Option<bool>,
    /// Metrics of the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_metrics: Option<HashMap<String, Value>>,
    /// The writing engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_info: Option<String>,
    /// User metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_metadata: Option<String>,
    /// Any other fields.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// Configuration of a metadata domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainMetadata {
    /// The domain name.
    pub domain: String,
    /// Its configuration (a string, usually JSON).
    pub configuration: String,
    /// True when the domain is removed.
    pub removed: bool,
}

/// The first action of a V2 checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointMetadata {
    /// The version the checkpoint is of.
    pub version: i64,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
}

/// A sidecar file of a V2 checkpoint, holding file actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sidecar {
    /// Path relative to `_delta_log/_sidecars`, or absolute.
    pub path: String,
    /// Size in bytes.
    pub size_in_bytes: i64,
    /// Modification time in milliseconds.
    pub modification_time: i64,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
}

/// One action of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// A data file added.
    Add(Add),
    /// A data file removed.
    Remove(Remove),
    /// New table metadata.
    #[serde(rename = "metaData")]
    Metadata(Metadata),
    /// New protocol.
    Protocol(Protocol),
    /// Application transaction version.
    Txn(Txn),
    /// Commit provenance.
    CommitInfo(CommitInfo),
    /// Domain metadata.
    DomainMetadata(DomainMetadata),
    /// Change data file.
    Cdc(AddCdcFile),
    /// V2 checkpoint header.
    CheckpointMetadata(CheckpointMetadata),
    /// V2 checkpoint sidecar.
    Sidecar(Sidecar),
}

/// One line of a commit file; unknown action kinds are ignored as the specification asks.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionLine {
    add: Option<Add>,
    remove: Option<Remove>,
    #[serde(rename = "metaData")]
    metadata: Option<Metadata>,
    protocol: Option<Protocol>,
    txn: Option<Txn>,
    commit_info: Option<CommitInfo>,
    domain_metadata: Option<DomainMetadata>,
    cdc: Option<AddCdcFile>,
    checkpoint_metadata: Option<CheckpointMetadata>,
    sidecar: Option<Sidecar>,
}

impl ActionLine {
    fn into_actions(self, out: &mut Vec<Action>) {
        let Self {
            add,
            remove,
            metadata,
            protocol,
            txn,
            commit_info,
            domain_metadata,
            cdc,
            checkpoint_metadata,
            sidecar,
        } = self;
        out.extend(commit_info.map(Action::CommitInfo));
        out.extend(protocol.map(Action::Protocol));
        out.extend(metadata.map(Action::Metadata));
        out.extend(add.map(Action::Add));
        out.extend(remove.map(Action::Remove));
        out.extend(txn.map(Action::Txn));
        out.extend(domain_metadata.map(Action::DomainMetadata));
        out.extend(cdc.map(Action::Cdc));
        out.extend(checkpoint_metadata.map(Action::CheckpointMetadata));
        out.extend(sidecar.map(Action::Sidecar));
    }
}

/// Parse a newline-delimited JSON log file (a commit or a JSON V2 checkpoint).
///
/// `path` and `version` name the file in errors.
pub fn parse_actions(bytes: &[u8], path: &str, version: Option<i64>) -> DeltaResult<Vec<Action>> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed: ActionLine = serde_json::from_slice(line)
            .map_err(|e| DeltaError::invalid_log(path, version, format!("line {}: invalid action: {e}", i + 1)))?;
        parsed.into_actions(&mut out);
    }
    Ok(out)
}

/// Serialise actions as newline-delimited JSON, the body of a commit file.
pub fn serialize_actions(actions: &[Action]) -> DeltaResult<Vec<u8>> {
    let mut out = Vec::new();
    for action in actions {
        serde_json::to_writer(&mut out, action)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// Some writers store statistics as an embedded object rather than a string: accept both.
fn stats_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// Configuration maps may hold nulls: drop those entries.
fn non_null_map<'de, D: Deserializer<'de>>(d: D) -> Result<HashMap<String, String>, D::Error> {
    let map = Option::<HashMap<String, Option<String>>>::deserialize(d)?.unwrap_or_default();
    Ok(map.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_action_kind_and_ignores_unknown_ones() {
        let log = br#"{"commitInfo":{"timestamp":1,"operation":"WRITE","engineInfo":"x","custom":42}}
{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}}
{"metaData":{"id":"i","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{"a":null,"b":"1"},"createdTime":5}}
{"add":{"path":"a.parquet","partitionValues":{"p":null},"size":1,"modificationTime":2,"dataChange":true,"stats":{"numRecords":3}}}
{"remove":{"path":"b.parquet","deletionTimestamp":3,"dataChange":true}}
{"txn":{"appId":"app","version":7}}
{"domainMetadata":{"domain":"d","configuration":"{}","removed":false}}
{"cdc":{"path":"_change_data/c.parquet","partitionValues":{},"size":4,"dataChange":false}}
{"checkpointMetadata":{"version":9}}
{"sidecar":{"path":"s.parquet","sizeInBytes":1,"modificationTime":2}}
{"someFutureAction":{"x":1}}

"#;
        let actions = parse_actions(log, "00.json", Some(0)).unwrap();
        assert_eq!(actions.len(), 10);
        let Action::CommitInfo(ci) = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(ci.other.get("custom"), Some(&Value::from(42)));
        let Action::Metadata(m) = &actions[2] else { panic!() };
        assert_eq!(m.configuration.len(), 1);
        let Action::Add(a) = &actions[3] else { panic!() };
        assert_eq!(a.stats.as_deref(), Some(r#"{"numRecords":3}"#));
        assert_eq!(a.partition_values.get("p"), Some(&None));
        let again = parse_actions(&serialize_actions(&actions).unwrap(), "x", None).unwrap();
        assert_eq!(again, actions);
    }

    #[test]
    fn live_rows_of_counts_out_of_range_are_unknown() {
        let dv = |cardinality| DeletionVectorDescriptor {
            storage_type: "i".into(),
            path_or_inline_dv: String::new(),
            offset: None,
            size_in_bytes: 0,
            cardinality,
        };
        let stats = |n: i64| format!("{{\"numRecords\":{n}}}");
        assert_eq!(live_rows(Some(&stats(10)), Some(&dv(3))), Some(7));
        assert_eq!(live_rows(Some(&stats(i64::MIN)), Some(&dv(1))), None);
        assert_eq!(live_rows(Some(&stats(i64::MAX)), Some(&dv(-1))), None);
        assert_eq!(live_rows(Some(&stats(2)), Some(&dv(3))), None);
    }

    #[test]
    fn a_broken_line_names_file_version_and_line() {
        let err = parse_actions(b"{\"add\":{}}\n{not json", "_delta_log/3.json", Some(3)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("_delta_log/3.json") && msg.contains("version 3") && msg.contains("line 1"),
            "{msg}"
        );
    }
}

//! The Arrow layout of checkpoints: one struct column per action kind, and the `add` column built
//! columnarly from a snapshot's file list (with `stats_parsed` and `partitionValues_parsed` when the
//! table asks for them).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, StructArray, new_null_array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType as ArrowType, Field, Fields, Schema as ArrowSchema, SchemaRef};
use arrow_json::ReaderBuilder;

use super::file_list::{ADD_SCHEMA, string_map_type};
use super::replay::Replayed;
use super::tombstones::TOMBSTONE_SCHEMA;
use crate::arrow_utils::{FieldMatch, conform_array, conform_struct, with_offset_time_zones};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::actions::serialize_actions;
use crate::protocol::stats_schema::StatsSchema;
use crate::protocol::{Action, TableConfig};

fn string_list() -> ArrowType {
    ArrowType::List(Arc::new(Field::new("element", ArrowType::Utf8, true)))
}

fn nullable_struct(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, ArrowType::Struct(fields.into()), true)
}

fn protocol_field() -> Field {
    nullable_struct(
        "protocol",
        vec![
            Field::new("minReaderVersion", ArrowType::Int32, true),
            Field::new("minWriterVersion", ArrowType::Int32, true),
            Field::new("readerFeatures", string_list(), true),
            Field::new("writerFeatures", string_list(), true),
        ],
    )
}

fn metadata_field() -> Field {
    nullable_struct(
        "metaData",
        vec![
            Field::new("id", ArrowType::Utf8, true),
            Field::new("name", ArrowType::Utf8, true),
            Field::new("description", ArrowType::Utf8, true),
            nullable_struct(
                "format",
                vec![
                    Field::new("provider", ArrowType::Utf8, true),
                    Field::new("options", string_map_type(), true),
                ],
            ),
            Field::new("schemaString", ArrowType::Utf8, true),
            Field::new("partitionColumns", string_list(), true),
            Field::new("configuration", string_map_type(), true),
            Field::new("createdTime", ArrowType::Int64, true),
        ],
    )
}

fn txn_field() -> Field {
    nullable_struct(
        "txn",
        vec![
            Field::new("appId", ArrowType::Utf8, true),
            Field::new("version", ArrowType::Int64, true),
            Field::new("lastUpdated", ArrowType::Int64, true),
        ],
    )
}

fn domain_metadata_field() -> Field {
    nullable_struct(
        "domainMetadata",
        vec![
            Field::new("domain", ArrowType::Utf8, true),
            Field::new("configuration", ArrowType::Utf8, true),
            Field::new("removed", ArrowType::Boolean, true),
        ],
    )
}

fn checkpoint_metadata_field() -> Field {
    nullable_struct(
        "checkpointMetadata",
        vec![
            Field::new("version", ArrowType::Int64, true),
            Field::new("tags", string_map_type(), true),
        ],
    )
}

fn sidecar_field() -> Field {
    nullable_struct(
        "sidecar",
        vec![
            Field::new("path", ArrowType::Utf8, true),
            Field::new("sizeInBytes", ArrowType::Int64, true),
            Field::new("modificationTime", ArrowType::Int64, true),
            Field::new("tags", string_map_type(), true),
        ],
    )
}

/// How the files of one snapshot are laid out in its checkpoint.
#[derive(Debug, Clone)]
pub(super) struct CheckpointLayout {
    /// Fields of the `add` struct.
    add_fields: Fields,
    /// Whether `add.stats` (the JSON string) is written.
    stats_json: bool,
    /// Partition columns (physical name) and their Arrow types, for `partitionValues_parsed`.
    partition_columns: Option<Vec<(String, ArrowType)>>,
    /// Fields of `add.stats_parsed`, when written.
    stats_parsed: Option<Fields>,
}

impl CheckpointLayout {
    /// The layout the table configuration `config` of `state` asks for
    /// (`delta.checkpoint.writeStatsAsJson`, default true; `delta.checkpoint.writeStatsAsStruct`,
    /// default false).
    pub(super) fn new(state: &Replayed, config: &TableConfig) -> DeltaResult<Self> {
        let stats_json = config.checkpoint_stats_as_json();
        let as_struct = config.checkpoint_stats_as_struct();
        let mut add_fields: Vec<Field> = ADD_SCHEMA
            .fields()
            .iter()
            .filter(|f| stats_json || f.name() != "stats")
            .map(|f| f.as_ref().clone())
            .collect();
        let (mut partition_columns, mut stats_parsed) = (None, None);
        if as_struct {
            let schema = &state.metadata.schema()?;
            let partitions = &state.metadata.partition_columns;
            let columns = partitions
                .iter()
                .map(|name| {
                    let field = schema
                        .field(name)
                        .ok_or_else(|| DeltaError::schema(format!("partition column '{name}' is not in the schema")))?;
                    Ok((field.physical_name().to_string(), field.data_type.to_arrow()?))
                })
                .collect::<DeltaResult<Vec<_>>>()?;
            if !columns.is_empty() {
                let fields: Vec<Field> = columns.iter().map(|(n, t)| Field::new(n, t.clone(), true)).collect();
                add_fields.push(nullable_struct("partitionValues_parsed", fields));
                partition_columns = Some(columns);
            }
            let fields = StatsSchema::new(schema, partitions, &config.stats_config()?).parsed_fields();
            add_fields.push(Field::new("stats_parsed", ArrowType::Struct(fields.clone()), true));
            stats_parsed = Some(fields);
        }
        Ok(Self {
            add_fields: add_fields.into(),
            stats_json,
            partition_columns,
            stats_parsed,
        })
    }

    fn add_field(&self) -> Field {
        Field::new("add", ArrowType::Struct(self.add_fields.clone()), true)
    }

    fn remove_field() -> Field {
        Field::new("remove", ArrowType::Struct(TOMBSTONE_SCHEMA.fields().clone()), true)
    }

    /// The schema of a classic (V1) checkpoint.
    pub(super) fn v1_schema(&self) -> SchemaRef {
        Arc::new(ArrowSchema::new(vec![
            protocol_field(),
            metadata_field(),
            txn_field(),
            domain_metadata_field(),
            self.add_field(),
            Self::remove_field(),
        ]))
    }

    /// The schema of the top-level file of a V2 checkpoint (its `add` and `remove` stay empty).
    pub(super) fn v2_schema(&self) -> SchemaRef {
        Arc::new(ArrowSchema::new(vec![
            checkpoint_metadata_field(),
            protocol_field(),
            metadata_field(),
            txn_field(),
            domain_metadata_field(),
            sidecar_field(),
            self.add_field(),
            Self::remove_field(),
        ]))
    }

    /// The schema of a sidecar file: file actions only.
    pub(super) fn sidecar_schema(&self) -> SchemaRef {
        Arc::new(ArrowSchema::new(vec![self.add_field(), Self::remove_field()]))
    }

    /// A batch of `schema` holding non-file actions, one per row.
    pub(super) fn action_batch(schema: &SchemaRef, actions: &[Action]) -> DeltaResult<RecordBatch> {
        let rows = decode_json(&serialize_actions(actions)?, schema.fields(), actions.len())?;
        Ok(RecordBatch::try_new(schema.clone(), rows.columns().to_vec())?)
    }

    /// A batch of `schema` holding the files of `files` (a file-list batch) as `add` actions.
    pub(super) fn add_batch(&self, schema: &SchemaRef, files: &RecordBatch) -> DeltaResult<RecordBatch> {
        let add = self.add_struct(files)?;
        file_action_batch(schema, "add", Arc::new(add))
    }

    /// A batch of `schema` holding `tombstones` (a tombstone batch) as `remove` actions.
    pub(super) fn remove_batch(schema: &SchemaRef, tombstones: &RecordBatch) -> DeltaResult<RecordBatch> {
        let remove = StructArray::from(tombstones.clone());
        file_action_batch(schema, "remove", Arc::new(remove))
    }

    fn add_struct(&self, files: &RecordBatch) -> DeltaResult<StructArray> {
        let mut columns: Vec<ArrayRef> = ADD_SCHEMA
            .fields()
            .iter()
            .zip(files.columns())
            .filter(|(f, _)| self.stats_json || f.name() != "stats")
            .map(|(_, c)| c.clone())
            .collect();
        if let Some(partition_columns) = &self.partition_columns {
            columns.push(Arc::new(parsed_partition_values(
                files.column_by_name("partitionValues"),
                partition_columns,
            )?));
        }
        if let Some(fields) = &self.stats_parsed {
            let stats = files
                .column_by_name("stats")
                .and_then(|c| c.as_string_opt::<i32>())
                .ok_or_else(|| DeltaError::schema("file list without a stats column"))?;
            columns.push(Arc::new(parse_stats(stats, fields)?));
        }
        Ok(StructArray::try_new(self.add_fields.clone(), columns, None)?)
    }
}

/// A batch of `schema` whose column `name` is `column` and whose other columns are null.
fn file_action_batch(schema: &SchemaRef, name: &str, column: ArrayRef) -> DeltaResult<RecordBatch> {
    let rows = column.len();
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            if f.name() == name {
                column.clone()
            } else {
                new_null_array(f.data_type(), rows)
            }
        })
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// `partitionValues_parsed`: each partition column's serialised values cast to its type (an empty
/// string is a null, except for strings).
fn parsed_partition_values(map: Option<&ArrayRef>, columns: &[(String, ArrowType)]) -> DeltaResult<StructArray> {
    let map = map
        .and_then(|m| m.as_map_opt())
        .ok_or_else(|| DeltaError::schema("file list without partition values"))?;
    let keys = map.keys().as_string::<i32>();
    let values = map.values().as_string::<i32>();
    let offsets = map.value_offsets();
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for (name, data_type) in columns {
        let text: StringArray = (0..map.len())
            .map(|row| {
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                (start..end)
                    .find(|i| keys.value(*i) == name)
                    .filter(|i| values.is_valid(*i))
                    .map(|i| values.value(i))
                    .filter(|v| !v.is_empty() || *data_type == ArrowType::Utf8)
            })
            .collect();
        let options = CastOptions {
            safe: false,
            ..Default::default()
        };
        let field = Field::new(name, data_type.clone(), true);
        let typed = cast_with_options(&text, &with_offset_time_zones(data_type), &options)
            .map_err(|e| DeltaError::schema(format!("partition column '{name}': {e}")))?;
        arrays.push(conform_array(
            &typed,
            &field,
            FieldMatch::Name,
            "partitionValues_parsed",
        )?);
        fields.push(field);
    }
    Ok(StructArray::try_new(fields.into(), arrays, None)?)
}

/// `stats_parsed`: the statistics JSON of each file decoded into `fields`. Files without
/// statistics get a null; a file whose statistics do not fit the types gets a null too.
fn parse_stats(stats: &StringArray, fields: &Fields) -> DeltaResult<StructArray> {
    let rows = stats.len();
    let texts: Vec<&str> = (0..rows)
        .map(|row| if stats.is_valid(row) { stats.value(row) } else { "{}" })
        .collect();
    let (batch, valid) = match decode_stats(&texts, fields) {
        Ok(batch) => (batch, stats.nulls().cloned()),
        Err(_) => {
            // One bad file: decode each on its own and null out those that fail.
            let ok: Vec<bool> = texts.iter().map(|t| decode_stats(&[t], fields).is_ok()).collect();
            let kept: Vec<&str> = texts
                .iter()
                .zip(&ok)
                .map(|(t, ok)| if *ok { *t } else { "{}" })
                .collect();
            let valid: Vec<bool> = ok
                .iter()
                .enumerate()
                .map(|(row, ok)| *ok && stats.is_valid(row))
                .collect();
            (decode_stats(&kept, fields)?, Some(valid.into()))
        }
    };
    Ok(StructArray::try_new(fields.clone(), batch.columns().to_vec(), valid)?)
}

/// Decode statistics JSON texts, one row each, into a batch of `fields`.
fn decode_stats(texts: &[&str], fields: &Fields) -> DeltaResult<RecordBatch> {
    let mut json = Vec::with_capacity(texts.iter().map(|t| t.len() + 1).sum());
    for text in texts {
        json.extend_from_slice(text.as_bytes());
        json.push(b'\n');
    }
    decode_json(&json, fields, texts.len())
}

/// Decode newline-delimited JSON objects, expected to be `rows`, into a batch of `fields`
/// (unknown keys ignored, numbers and strings coerced where the type asks).
fn decode_json(json: &[u8], fields: &Fields, rows: usize) -> DeltaResult<RecordBatch> {
    // Zoned timestamps are decoded with an offset zone (no time-zone database needed), then relabelled.
    let ArrowType::Struct(decoded) = with_offset_time_zones(&ArrowType::Struct(fields.clone())) else {
        unreachable!("a struct stays a struct")
    };
    let schema = Arc::new(ArrowSchema::new(decoded));
    let mut decoder = ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.max(1))
        .with_coerce_primitive(true)
        .build_decoder()?;
    let mut consumed = 0;
    while consumed < json.len() {
        let n = decoder.decode(&json[consumed..])?;
        if n == 0 {
            break;
        }
        consumed += n;
    }
    let batch = decoder.flush()?.unwrap_or_else(|| RecordBatch::new_empty(schema));
    if batch.num_rows() != rows {
        return Err(DeltaError::schema(format!(
            "{rows} JSON objects decoded into {} rows",
            batch.num_rows()
        )));
    }
    let conformed = conform_struct(&StructArray::from(batch), fields, FieldMatch::Name, "checkpoint")?;
    Ok(RecordBatch::from(conformed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::Int64Type;

    fn stats_fields() -> Fields {
        Fields::from(vec![
            Field::new("numRecords", ArrowType::Int64, true),
            Field::new(
                "minValues",
                ArrowType::Struct(Fields::from(vec![Field::new("a", ArrowType::Int32, true)])),
                true,
            ),
        ])
    }

    #[test]
    fn statistics_are_decoded_with_a_null_for_missing_or_unfit_ones() {
        let stats = StringArray::from(vec![
            Some(r#"{"numRecords":3,"minValues":{"a":1},"unknown":true}"#),
            None,
            Some(r#"{"numRecords":2,"minValues":{"a":"not a number"}}"#),
        ]);
        let parsed = parse_stats(&stats, &stats_fields()).unwrap();
        assert_eq!(parsed.logical_nulls().unwrap().null_count(), 2);
        let records = parsed.column(0).as_primitive::<Int64Type>();
        assert_eq!(records.value(0), 3);
        let min = parsed.column(1).as_struct().column(0);
        assert_eq!(min.as_any().downcast_ref::<Int32Array>().unwrap().value(0), 1);
    }
}

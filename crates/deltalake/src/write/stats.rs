//! Statistics of written data files (`add.stats`): row count, per-column minimum, maximum and
//! null count, for the columns `delta.dataSkippingNumIndexedCols` / `delta.dataSkippingStatsColumns` select.

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StructArray};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType as ArrowType, Field, Float32Type, Float64Type, Schema as ArrowSchema};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::parquet_to_arrow_schema;
use parquet::file::metadata::ParquetMetaData;

use crate::error::DeltaResult;
use crate::protocol::stats_schema::StatsSchema;
use crate::protocol::{Scalar, StructType};

pub use crate::protocol::table_config::StatsConfig;

/// One leaf column that gets statistics, and its statistics so far.
#[derive(Debug)]
struct Leaf {
    /// Logical names from the top-level column down.
    logical: Vec<String>,
    /// Physical names (the keys of the stats JSON).
    physical: Vec<String>,
    /// The Arrow type of the column while min / max are recorded (see [`StatsColumn::bounded`](crate::protocol::stats_schema::StatsColumn::bounded);
    /// dropped when a footer lacks them).
    bounded: Option<ArrowType>,
    min: Option<Scalar>,
    max: Option<Scalar>,
    /// `None` when unknown (a Parquet footer without it).
    null_count: Option<i64>,
}

impl Leaf {
    /// Widen the bounds to cover `lo..=hi`.
    fn widen(&mut self, lo: Scalar, hi: Scalar) {
        if self.min.as_ref().is_none_or(|m| lo.compare(m) == Some(Ordering::Less)) {
            self.min = Some(lo);
        }
        if self
            .max
            .as_ref()
            .is_none_or(|m| hi.compare(m) == Some(Ordering::Greater))
        {
            self.max = Some(hi);
        }
    }
}

/// Accumulates statistics over the batches written to one file.
#[derive(Debug)]
pub struct StatsCollector {
    leaves: Vec<Leaf>,
    num_records: i64,
    string_prefix_len: usize,
}

impl StatsCollector {
    /// A collector for files of `schema`; `partition_columns` never get statistics.
    pub fn new(schema: &StructType, partition_columns: &[String], config: &StatsConfig) -> DeltaResult<Self> {
        let leaves = StatsSchema::new(schema, partition_columns, config)
            .columns()
            .iter()
            .map(|column| Leaf {
                logical: column.logical.clone(),
                physical: column.physical.clone(),
                bounded: column.bounded.clone(),
                min: None,
                max: None,
                null_count: Some(0),
            })
            .collect();
        Ok(Self {
            leaves,
            num_records: 0,
            string_prefix_len: config.string_prefix_len,
        })
    }

    /// Account for a batch of the schema's columns (by logical name).
    pub fn update(&mut self, batch: &RecordBatch) -> DeltaResult<()> {
        self.num_records += batch.num_rows() as i64;
        let root = StructArray::from(batch.clone());
        for leaf in &mut self.leaves {
            let Some(array) = leaf_array(&root, &leaf.logical) else {
                continue;
            };
            leaf.null_count = leaf.null_count.map(|n| n + array.null_count() as i64);
            if leaf.bounded.is_none() {
                continue;
            }
            if let Some((lo, hi)) = bounds(&array)? {
                leaf.widen(lo, hi);
            }
        }
        Ok(())
    }

    /// Account for a whole Parquet file from the statistics in its footer, without reading its
    /// data (files written by someone else). Columns are matched by physical name; bounds and null
    /// counts the footer lacks are left out of the statistics rather than guessed.
    pub fn update_from_footer(&mut self, metadata: &ParquetMetaData) -> DeltaResult<()> {
        let file = metadata.file_metadata();
        let descr = file.schema_descr();
        let arrow = parquet_to_arrow_schema(descr, file.key_value_metadata())?;
        let row_groups = metadata.row_groups();
        let rows: Vec<i64> = row_groups.iter().map(|rg| rg.num_rows()).collect();
        self.num_records += rows.iter().sum::<i64>();
        for leaf in &mut self.leaves {
            let column = (0..descr.num_columns()).find(|i| descr.column(*i).path().parts() == leaf.physical.as_slice());
            let (Some(column), Some(field)) = (column, nested_field(&arrow, &leaf.physical)) else {
                // Absent from the file: every value is null.
                leaf.null_count = leaf.null_count.map(|n| n + rows.iter().sum::<i64>());
                continue;
            };
            let converter = StatisticsConverter::from_column_index(column, field, descr)?;
            let nulls = converter.row_group_null_counts(row_groups)?;
            leaf.null_count = match (leaf.null_count, nulls.null_count()) {
                (Some(n), 0) => Some(n + nulls.values().iter().map(|v| *v as i64).sum::<i64>()),
                _ => None,
            };
            let Some(target) = &leaf.bounded else { continue };
            let mins = cast(&converter.row_group_mins(row_groups)?, target)?;
            let maxes = cast(&converter.row_group_maxes(row_groups)?, target)?;
            // A row group without bounds hides values unless all its values are null.
            let complete = (0..row_groups.len()).all(|i| {
                (mins.is_valid(i) && maxes.is_valid(i)) || (nulls.is_valid(i) && nulls.value(i) as i64 == rows[i])
            });
            if !complete {
                leaf.bounded = None;
                leaf.min = None;
                leaf.max = None;
                continue;
            }
            if let (Some((lo, _)), Some((_, hi))) = (bounds(&mins)?, bounds(&maxes)?) {
                leaf.widen(lo, hi);
            }
        }
        Ok(())
    }

    /// The `stats` JSON of an add action, keyed by physical column names.
    pub fn to_json(&self) -> String {
        let mut min = JsonObject::default();
        let mut max = JsonObject::default();
        let mut nulls = JsonObject::default();
        for leaf in &self.leaves {
            if let Some(n) = leaf.null_count {
                nulls.insert(&leaf.physical, n.to_string());
            }
            if let Some(v) = leaf
                .min
                .as_ref()
                .and_then(|v| json_value(v, self.string_prefix_len, Bound::Lower))
            {
                min.insert(&leaf.physical, v);
            }
            if let Some(v) = leaf
                .max
                .as_ref()
                .and_then(|v| json_value(v, self.string_prefix_len, Bound::Upper))
            {
                max.insert(&leaf.physical, v);
            }
        }
        format!(
            "{{\"numRecords\":{},\"minValues\":{},\"maxValues\":{},\"nullCount\":{},\"tightBounds\":true}}",
            self.num_records,
            min.render(),
            max.render(),
            nulls.render()
        )
    }
}

/// The field at a path of nested struct fields.
fn nested_field<'a>(schema: &'a ArrowSchema, path: &[String]) -> Option<&'a Field> {
    let (first, rest) = path.split_first()?;
    let mut field = schema.field_with_name(first).ok()?;
    for name in rest {
        let ArrowType::Struct(children) = field.data_type() else {
            return None;
        };
        field = children.iter().find(|f| f.name() == name)?;
    }
    Some(field)
}

/// The array of a leaf, with the nulls of its parent structs applied.
fn leaf_array(root: &StructArray, path: &[String]) -> Option<ArrayRef> {
    let mut current: ArrayRef = root.column_by_name(&path[0])?.clone();
    for name in &path[1..] {
        let parent = current.as_struct_opt()?;
        let child = parent.column_by_name(name)?.clone();
        current = match NullBuffer::union(parent.nulls(), child.nulls()) {
            Some(nulls) if Some(&nulls) != child.nulls() => {
                arrow::array::make_array(child.to_data().into_builder().nulls(Some(nulls)).build().ok()?)
            }
            _ => child,
        };
    }
    Some(current)
}

/// The minimum and maximum non-null, non-NaN values of `array`.
fn bounds(array: &ArrayRef) -> DeltaResult<Option<(Scalar, Scalar)>> {
    let (lo, hi) = match array.data_type() {
        ArrowType::Float32 => {
            let values = array
                .as_primitive::<Float32Type>()
                .iter()
                .flatten()
                .filter(|v| !v.is_nan());
            match values.fold(None, |acc: Option<(f32, f32)>, v| {
                Some(acc.map_or((v, v), |(a, b)| (a.min(v), b.max(v))))
            }) {
                Some((a, b)) => (Scalar::Float(a), Scalar::Float(b)),
                None => return Ok(None),
            }
        }
        ArrowType::Float64 => {
            let values = array
                .as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .filter(|v| !v.is_nan());
            match values.fold(None, |acc: Option<(f64, f64)>, v| {
                Some(acc.map_or((v, v), |(a, b)| (a.min(v), b.max(v))))
            }) {
                Some((a, b)) => (Scalar::Double(a), Scalar::Double(b)),
                None => return Ok(None),
            }
        }
        _ => return scan_bounds(array),
    };
    Ok(Some((lo, hi)))
}

/// Bounds of an array of the other primitive Delta types, with Arrow's aggregate kernels.
fn scan_bounds(array: &ArrayRef) -> DeltaResult<Option<(Scalar, Scalar)>> {
    use arrow::compute::{max, max_string, min, min_string};
    use arrow::datatypes::*;
    macro_rules! prim {
        ($t:ty, $make:expr) => {{
            let a = array.as_primitive::<$t>();
            match (min(a), max(a)) {
                (Some(lo), Some(hi)) => Some(($make(lo), $make(hi))),
                _ => None,
            }
        }};
    }
    Ok(match array.data_type() {
        ArrowType::Int8 => prim!(Int8Type, Scalar::Byte),
        ArrowType::Int16 => prim!(Int16Type, Scalar::Short),
        ArrowType::Int32 => prim!(Int32Type, Scalar::Integer),
        ArrowType::Int64 => prim!(Int64Type, Scalar::Long),
        ArrowType::Date32 => prim!(Date32Type, Scalar::Date),
        ArrowType::Timestamp(TimeUnit::Microsecond, Some(_)) => prim!(TimestampMicrosecondType, Scalar::Timestamp),
        ArrowType::Timestamp(TimeUnit::Microsecond, None) => prim!(TimestampMicrosecondType, Scalar::TimestampNtz),
        ArrowType::Decimal128(p, s) => {
            let (p, s) = (*p, *s);
            prim!(Decimal128Type, |v| Scalar::Decimal(v, p, s))
        }
        ArrowType::Utf8 => {
            let a = array.as_string::<i32>();
            match (min_string(a), max_string(a)) {
                (Some(lo), Some(hi)) => Some((Scalar::String(lo.to_string()), Scalar::String(hi.to_string()))),
                _ => None,
            }
        }
        _ => None,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Bound {
    Lower,
    Upper,
}

/// The JSON text of a bound; strings are truncated so that a lower bound stays below and an upper
/// bound above every value (`None` when no such upper bound exists).
fn json_value(value: &Scalar, prefix_len: usize, bound: Bound) -> Option<String> {
    let text = match value {
        Scalar::String(s) => {
            if s.chars().count() <= prefix_len {
                s.clone()
            } else {
                let prefix: String = s.chars().take(prefix_len).collect();
                match bound {
                    Bound::Lower => prefix,
                    Bound::Upper => increment(&prefix)?,
                }
            }
        }
        Scalar::Float(v) if v.is_finite() => return Some(format!("{v:?}")),
        Scalar::Double(v) if v.is_finite() => return Some(format!("{v:?}")),
        Scalar::Float(_) | Scalar::Double(_) => return None,
        Scalar::Date(_) => value.to_partition_string()?,
        Scalar::Timestamp(v) => chrono::DateTime::from_timestamp_micros(*v)?
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string(),
        Scalar::TimestampNtz(v) => chrono::DateTime::from_timestamp_micros(*v)?
            .naive_utc()
            .format("%Y-%m-%dT%H:%M:%S%.6f")
            .to_string(),
        // Numbers and decimals are written as JSON numbers, exactly.
        other => return Some(other.to_string()),
    };
    Some(serde_json::Value::String(text).to_string())
}

/// The smallest string greater than every string starting with `prefix`: its last incrementable
/// character raised by one, the rest dropped.
fn increment(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 {
            0xD7FF => Some('\u{E000}'),
            c => char::from_u32(c + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A JSON object built from paths to raw JSON values.
#[derive(Default)]
struct JsonObject {
    entries: Vec<(String, JsonNode)>,
}

enum JsonNode {
    Value(String),
    Object(JsonObject),
}

impl JsonObject {
    fn insert(&mut self, path: &[String], value: String) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.entries.push((first.clone(), JsonNode::Value(value)));
            return;
        }
        let index = match self
            .entries
            .iter()
            .position(|(k, n)| k == first && matches!(n, JsonNode::Object(_)))
        {
            Some(i) => i,
            None => {
                self.entries
                    .push((first.clone(), JsonNode::Object(JsonObject::default())));
                self.entries.len() - 1
            }
        };
        if let JsonNode::Object(inner) = &mut self.entries[index].1 {
            inner.insert(rest, value);
        }
    }

    fn render(&self) -> String {
        let body: Vec<String> = self
            .entries
            .iter()
            .map(|(k, n)| {
                let key = serde_json::Value::from(k.as_str()).to_string();
                match n {
                    JsonNode::Value(v) => format!("{key}:{v}"),
                    JsonNode::Object(o) => format!("{key}:{}", o.render()),
                }
            })
            .collect();
        format!("{{{}}}", body.join(","))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow::array::{
        Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::{Field, Fields};
    use serde_json::Value;

    use super::*;
    use crate::protocol::PrimitiveType;

    fn schema(json: &str) -> StructType {
        StructType::from_json(json).unwrap()
    }

    const SCHEMA: &str = r#"{"type":"struct","fields":[
        {"name":"id","type":"long","nullable":true,"metadata":{}},
        {"name":"x","type":"double","nullable":true,"metadata":{}},
        {"name":"s","type":"string","nullable":true,"metadata":{"delta.columnMapping.physicalName":"col-s"}},
        {"name":"n","type":{"type":"struct","fields":[{"name":"a","type":"integer","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
        {"name":"d","type":"decimal(38,10)","nullable":true,"metadata":{}},
        {"name":"t","type":"timestamp","nullable":true,"metadata":{}},
        {"name":"day","type":"date","nullable":true,"metadata":{}}]}"#;

    fn batch(ids: Vec<Option<i64>>, xs: Vec<Option<f64>>, strings: Vec<Option<&str>>) -> RecordBatch {
        let n = ids.len();
        let nested = StructArray::try_new(
            Fields::from(vec![Field::new("a", ArrowType::Int32, true)]),
            vec![Arc::new(Int32Array::from_iter_values((0..n as i32).map(|i| i * 10)))],
            Some(NullBuffer::from((0..n).map(|i| i != 0).collect::<Vec<_>>())),
        )
        .unwrap();
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ("x", Arc::new(Float64Array::from(xs)) as _),
            ("s", Arc::new(StringArray::from(strings)) as _),
            ("n", Arc::new(nested) as _),
            (
                "d",
                Arc::new(
                    Decimal128Array::from_iter_values((0..n as i128).map(|i| i * 10i128.pow(27) - 1))
                        .with_precision_and_scale(38, 10)
                        .unwrap(),
                ) as _,
            ),
            (
                "t",
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values((0..n as i64).map(|i| -62_135_596_800_000_000 + i))
                        .with_timezone("UTC"),
                ) as _,
            ),
            (
                "day",
                Arc::new(Date32Array::from_iter_values((0..n as i32).map(|i| 2_932_896 - i))) as _,
            ),
        ])
        .unwrap()
    }

    fn stats_of(schema: &StructType, config: &StatsConfig, batches: &[RecordBatch]) -> Value {
        let mut c = StatsCollector::new(schema, &[], config).unwrap();
        for b in batches {
            c.update(b).unwrap();
        }
        serde_json::from_str(&c.to_json()).unwrap()
    }

    #[test]
    fn footer_statistics_match_the_data() {
        let schema = schema(SCHEMA);
        let batches = [
            batch(
                vec![Some(5), None, Some(-3)],
                vec![Some(0.5), Some(2.5), None],
                vec![Some("m"), Some("b"), None],
            ),
            batch(vec![Some(9), Some(0)], vec![Some(-1.0), None], vec![Some("z"), None]),
            batch(vec![None, None], vec![None, None], vec![None, None]),
        ];
        // The file uses physical names, as our writer does.
        let physical = Arc::new(schema.to_physical_arrow(true).unwrap());
        let mut bytes = Vec::new();
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, physical.clone(), None).unwrap();
        for b in &batches {
            let renamed = RecordBatch::try_new(physical.clone(), b.columns().to_vec()).unwrap();
            writer.write(&renamed).unwrap();
            writer.flush().unwrap();
        }
        writer.close().unwrap();
        let metadata = parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&bytes::Bytes::from(bytes))
            .unwrap();
        assert_eq!(metadata.num_row_groups(), 3);
        let mut from_footer = StatsCollector::new(&schema, &[], &StatsConfig::default()).unwrap();
        from_footer.update_from_footer(&metadata).unwrap();
        let from_footer: Value = serde_json::from_str(&from_footer.to_json()).unwrap();
        assert_eq!(from_footer, stats_of(&schema, &StatsConfig::default(), &batches));
        assert_eq!(from_footer["minValues"]["id"], -3);
        assert_eq!(from_footer["nullCount"]["col-s"], 4);
    }

    #[test]
    fn bounds_nulls_and_nan_over_several_batches() {
        let schema = schema(SCHEMA);
        let batches = [
            batch(
                vec![Some(5), None, Some(-3)],
                vec![Some(f64::NAN), Some(2.5), None],
                vec![Some("m"), Some("b"), None],
            ),
            batch(
                vec![Some(9), Some(0)],
                vec![Some(-1.0), Some(f64::NAN)],
                vec![Some("z"), None],
            ),
        ];
        let stats = stats_of(&schema, &StatsConfig::default(), &batches);
        // Decimals are exact JSON numbers (38 digits do not survive an f64).
        let mut c = StatsCollector::new(&schema, &[], &StatsConfig::default()).unwrap();
        c.update(&batches[0]).unwrap();
        assert!(
            c.to_json().contains(r#""d":199999999999999999.9999999999"#),
            "{}",
            c.to_json()
        );
        assert_eq!(stats["numRecords"], 5);
        assert_eq!(
            (&stats["minValues"]["id"], &stats["maxValues"]["id"]),
            (&Value::from(-3), &Value::from(9))
        );
        assert_eq!(
            (&stats["minValues"]["x"], &stats["maxValues"]["x"]),
            (&Value::from(-1.0), &Value::from(2.5))
        );
        assert_eq!(
            (&stats["minValues"]["col-s"], &stats["maxValues"]["col-s"]),
            (&Value::from("b"), &Value::from("z"))
        );
        assert_eq!(stats["nullCount"]["id"], 1);
        assert_eq!(stats["nullCount"]["x"], 1);
        assert_eq!(stats["nullCount"]["col-s"], 2);
        // The struct is null in the first row of each batch: its leaf counts those rows as null.
        assert_eq!(stats["nullCount"]["n"]["a"], 2);
        assert_eq!(stats["minValues"]["n"]["a"], 10);
        assert_eq!(stats["tightBounds"], true);
        // Every bound reads back, exactly, as the reader parses statistics.
        let read = |v: &Value, t| Scalar::from_stats_json(v, t).unwrap();
        assert_eq!(
            read(&stats["minValues"]["d"], PrimitiveType::Decimal(38, 10)),
            Scalar::Decimal(-1, 38, 10)
        );
        assert_eq!(
            read(&stats["minValues"]["t"], PrimitiveType::Timestamp),
            Scalar::Timestamp(-62_135_596_800_000_000)
        );
        assert_eq!(
            read(&stats["maxValues"]["t"], PrimitiveType::Timestamp),
            Scalar::Timestamp(-62_135_596_800_000_000 + 2)
        );
        assert_eq!(
            read(&stats["maxValues"]["day"], PrimitiveType::Date),
            Scalar::Date(2_932_896)
        );
    }

    #[test]
    fn column_selection_by_count_and_by_name() {
        let schema = schema(SCHEMA);
        let b = batch(vec![Some(1)], vec![Some(1.0)], vec![Some("a")]);
        let two = stats_of(
            &schema,
            &StatsConfig {
                num_indexed_cols: 2,
                ..Default::default()
            },
            std::slice::from_ref(&b),
        );
        let keys: Vec<_> = two["nullCount"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["id", "x"]);
        let named = StatsConfig {
            stats_columns: Some(vec!["n.a".into(), "day".into()]),
            ..Default::default()
        };
        let picked = stats_of(&schema, &named, std::slice::from_ref(&b));
        let keys: Vec<_> = picked["nullCount"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["day", "n"]);
        let props = HashMap::from([("delta.dataSkippingNumIndexedCols".to_string(), "x".to_string())]);
        assert!(crate::protocol::TableConfig::new(&props).stats_config().is_err());
        let mut c = StatsCollector::new(&schema, &["id".to_string()], &StatsConfig::default()).unwrap();
        c.update(&b).unwrap();
        assert!(!c.to_json().contains("\"id\""));
    }

    #[test]
    fn truncated_strings_stay_bounds() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        };
        let alphabet = ['a', 'z', 'é', '\u{D7FF}', '\u{10FFFF}', '日', '0'];
        for _ in 0..300 {
            let len = 30 + (next() % 10) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let lo: String =
                serde_json::from_str(&json_value(&Scalar::String(s.clone()), 32, Bound::Lower).unwrap()).unwrap();
            assert!(lo.as_str() <= s.as_str());
            if let Some(hi) = json_value(&Scalar::String(s.clone()), 32, Bound::Upper) {
                let hi: String = serde_json::from_str(&hi).unwrap();
                assert!(hi.as_str() >= s.as_str(), "{hi:?} < {s:?}");
                assert!(hi.chars().count() <= 32);
            }
        }
        assert_eq!(increment("ab"), Some("ac".into()));
        assert_eq!(increment("a\u{10FFFF}"), Some("b".into()));
        assert_eq!(increment("\u{10FFFF}"), None);
    }
}

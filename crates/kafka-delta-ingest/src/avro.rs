//! Avro payloads as JSON values, which the transforms and the JSON decoder then take as they take
//! JSON messages.
//!
//! Values map to what the JSON decoder reads into the table's types: timestamps become
//! microseconds since the epoch (Delta's unit), dates `"YYYY-MM-DD"`, decimals their exact text,
//! bytes and fixed values hex strings (as a `binary` column reads them), enums their symbol, and
//! unions the value of their branch.

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{Name, ResolvedSchema};
use apache_avro::types::Value as Avro;
use serde_json::{Map, Value};

/// How message payloads are encoded.
#[derive(Debug, Clone, Default)]
pub enum Format {
    /// JSON text, one object per message.
    #[default]
    Json,
    /// One Avro datum per message, written with this schema (`--avro SCHEMA_FILE`).
    AvroDatum(std::sync::Arc<Schema>),
    /// An Avro object container file per message, its schema in its header (`--avro` alone).
    AvroContainer,
}

impl Format {
    /// The `--avro` flag's value: empty for schemas embedded in the messages, else a schema file.
    pub fn avro(flag: &str) -> Result<Self, String> {
        if flag.is_empty() {
            return Ok(Format::AvroContainer);
        }
        if flag.starts_with("http://") || flag.starts_with("https://") {
            return Err(format!(
                "--avro {flag}: a schema registry is not supported; pass a schema file, or --avro \
                 alone for messages that embed their schema"
            ));
        }
        let text =
            std::fs::read_to_string(flag).map_err(|e| format!("cannot read the Avro schema file {flag}: {e}"))?;
        let schema = Schema::parse_str(&text).map_err(|e| format!("the Avro schema in {flag}: {e}"))?;
        Ok(Format::AvroDatum(std::sync::Arc::new(schema)))
    }
}

/// Decodes the Avro payloads of one batch of messages.
pub struct AvroDecoder<'s> {
    datum: Option<(GenericDatumReader<'s>, &'s Schema, Names<'s>)>,
}

type Names<'s> = HashMap<Name, &'s Schema>;

impl<'s> AvroDecoder<'s> {
    /// A decoder of datums written with `schema`, or of container files when `None`.
    pub fn new(schema: Option<&'s Schema>) -> Result<Self, String> {
        let datum = match schema {
            None => None,
            Some(schema) => {
                let reader = GenericDatumReader::builder(schema).build().map_err(|e| e.to_string())?;
                Some((reader, schema, names(schema)?))
            }
        };
        Ok(AvroDecoder { datum })
    }

    /// The records of one payload as JSON values: one for a datum, every record for a container.
    pub fn decode(&self, payload: &[u8]) -> Result<Vec<Value>, String> {
        if let Some((reader, schema, names)) = &self.datum {
            let mut rest = payload;
            let value = reader.read_value(&mut rest).map_err(|e| format!("avro: {e}"))?;
            if !rest.is_empty() {
                return Err(format!(
                    "avro: {} bytes left after the datum: not written with the schema given",
                    rest.len()
                ));
            }
            return Ok(vec![to_json(&value, schema, names)]);
        }
        let reader = apache_avro::Reader::new(payload).map_err(|e| format!("avro: {e}"))?;
        let schema = reader.writer_schema().clone();
        let names = names(&schema)?;
        reader
            .map(|value| Ok(to_json(&value.map_err(|e| format!("avro: {e}"))?, &schema, &names)))
            .collect()
    }
}

/// The named types of `schema`, which its `Ref`s point to.
fn names(schema: &Schema) -> Result<Names<'_>, String> {
    let resolved = ResolvedSchema::new(schema).map_err(|e| format!("avro: {e}"))?;
    Ok(resolved.get_names().clone())
}

/// `value` (of `schema`) as JSON.
fn to_json(value: &Avro, schema: &Schema, names: &Names) -> Value {
    let schema = match schema {
        Schema::Ref { name } => names.get(name).copied().unwrap_or(schema),
        other => other,
    };
    match value {
        Avro::Null => Value::Null,
        Avro::Boolean(b) => Value::Bool(*b),
        Avro::Date(days) => chrono::NaiveDate::from_yo_opt(1970, 1)
            .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(*days))))
            .map_or(Value::Null, |d| Value::String(d.to_string())),
        Avro::Int(i) | Avro::TimeMillis(i) => Value::from(*i),
        Avro::Long(l) | Avro::TimeMicros(l) => Value::from(*l),
        Avro::TimestampMicros(t) | Avro::LocalTimestampMicros(t) => Value::from(*t),
        Avro::TimestampMillis(t) | Avro::LocalTimestampMillis(t) => Value::from(t.saturating_mul(1000)),
        Avro::TimestampNanos(t) | Avro::LocalTimestampNanos(t) => Value::from(t.div_euclid(1000)),
        Avro::Float(f) => Value::from(f64::from(*f)),
        Avro::Double(d) => Value::from(*d),
        Avro::Bytes(b) | Avro::Fixed(_, b) => Value::String(hex(b)),
        Avro::String(s) | Avro::Enum(_, s) => Value::String(s.clone()),
        Avro::Uuid(u) => Value::String(u.to_string()),
        Avro::Decimal(d) => {
            let scale = match schema {
                Schema::Decimal(d) => d.scale,
                _ => 0,
            };
            <Vec<u8>>::try_from(d).map_or(Value::Null, |bytes| Value::String(decimal_text(&bytes, scale)))
        }
        Avro::BigDecimal(d) => Value::String(d.to_string()),
        Avro::Duration(d) => serde_json::json!({
            "months": u32::from(d.months()),
            "days": u32::from(d.days()),
            "millis": u32::from(d.millis()),
        }),
        Avro::Union(branch, inner) => {
            let variant = match schema {
                Schema::Union(u) => u.variants().get(*branch as usize),
                _ => None,
            };
            to_json(inner, variant.unwrap_or(schema), names)
        }
        Avro::Array(items) => {
            let item_schema = match schema {
                Schema::Array(a) => a.items.as_ref(),
                _ => schema,
            };
            Value::Array(items.iter().map(|v| to_json(v, item_schema, names)).collect())
        }
        Avro::Map(entries) => {
            let value_schema = match schema {
                Schema::Map(m) => m.types.as_ref(),
                _ => schema,
            };
            let object = entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v, value_schema, names)));
            Value::Object(object.collect::<Map<_, _>>())
        }
        Avro::Record(fields) => {
            let field_schemas = match schema {
                Schema::Record(r) => r.fields.iter().map(|f| &f.schema).collect(),
                _ => Vec::new(),
            };
            let object = fields.iter().enumerate().map(|(i, (name, v))| {
                let field_schema = field_schemas.get(i).copied().unwrap_or(schema);
                (name.clone(), to_json(v, field_schema, names))
            });
            Value::Object(object.collect::<Map<_, _>>())
        }
    }
}

/// Lowercase hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The exact decimal text of a big-endian two's-complement unscaled value with `scale` digits
/// after the point.
fn decimal_text(be_bytes: &[u8], scale: usize) -> String {
    // Delta decimals have at most 38 digits, which fit an i128; a wider value keeps its sign bytes.
    let significant = be_bytes.len().saturating_sub(16);
    let negative = be_bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut buf = [if negative { 0xff } else { 0 }; 16];
    let tail = &be_bytes[significant..];
    buf[16 - tail.len()..].copy_from_slice(tail);
    let unscaled = i128::from_be_bytes(buf);
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::types::Record;

    const SCHEMA: &str = r#"{"type": "record", "name": "Event", "namespace": "t", "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "raw", "type": "bytes"},
        {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "int"}]}},
        {"name": "again", "type": ["null", "Inner"]}
    ]}"#;

    fn record(schema: &Schema) -> Avro {
        let mut r = Record::new(schema).unwrap();
        r.put("id", 7i64);
        r.put("name", Avro::Union(1, Box::new(Avro::String("n7".into()))));
        r.put("at", Avro::TimestampMillis(1_704_164_645_123));
        r.put("day", Avro::Date(19_724));
        r.put(
            "price",
            Avro::Decimal(apache_avro::Decimal::from((-12_345i64).to_be_bytes())),
        );
        r.put("kind", Avro::Enum(1, "B".into()));
        r.put("tags", Avro::Array(vec![Avro::String("a".into())]));
        r.put("raw", Avro::Bytes(vec![0, 255]));
        r.put("inner", Avro::Record(vec![("x".into(), Avro::Int(3))]));
        r.put(
            "again",
            Avro::Union(1, Box::new(Avro::Record(vec![("x".into(), Avro::Int(4))]))),
        );
        r.into()
    }

    fn expected() -> Value {
        serde_json::json!({
            "id": 7, "name": "n7", "at": 1_704_164_645_123_000i64, "day": "2024-01-02",
            "price": "-123.45", "kind": "B", "tags": ["a"], "raw": "00ff",
            "inner": {"x": 3}, "again": {"x": 4}
        })
    }

    #[test]
    fn a_datum_of_the_schema_file() {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
            .build()
            .unwrap();
        let bytes = writer.write_value_to_vec(record(&schema)).unwrap();
        let decoder = AvroDecoder::new(Some(&schema)).unwrap();
        assert_eq!(decoder.decode(&bytes).unwrap(), vec![expected()]);
        // Garbage, and a datum with bytes after it, are errors rather than rows.
        assert!(decoder.decode(b"\x01").is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        let err = decoder.decode(&longer).unwrap_err();
        assert!(err.contains("left after the datum"), "{err}");
    }

    #[test]
    fn every_record_of_a_container_with_its_own_schema() {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let mut writer = apache_avro::Writer::new(&schema, Vec::new()).unwrap();
        writer.append_value(record(&schema)).unwrap();
        writer.append_value(record(&schema)).unwrap();
        let bytes = writer.into_inner().unwrap();
        let decoder = AvroDecoder::new(None).unwrap();
        assert_eq!(decoder.decode(&bytes).unwrap(), vec![expected(), expected()]);
        let err = decoder.decode(br#"{"id": 1}"#).unwrap_err();
        assert!(err.starts_with("avro:"), "{err}");
    }

    #[test]
    fn decimal_texts() {
        assert_eq!(decimal_text(&[0x01, 0x00], 2), "2.56");
        assert_eq!(decimal_text(&[0xff], 3), "-0.001");
        assert_eq!(decimal_text(&[0x30, 0x39], 0), "12345");
        assert_eq!(decimal_text(&[], 1), "0.0");
    }

    #[test]
    fn the_flag() {
        assert!(matches!(Format::avro("").unwrap(), Format::AvroContainer));
        let err = Format::avro("http://registry:8081").unwrap_err();
        assert!(err.contains("registry is not supported"), "{err}");
        let err = Format::avro("/no/such.avsc").unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.avsc");
        std::fs::write(&path, SCHEMA).unwrap();
        assert!(matches!(
            Format::avro(path.to_str().unwrap()).unwrap(),
            Format::AvroDatum(_)
        ));
        std::fs::write(&path, "{").unwrap();
        assert!(
            Format::avro(path.to_str().unwrap())
                .unwrap_err()
                .contains("Avro schema")
        );
    }
}

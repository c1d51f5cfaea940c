//! Messages into Arrow: JSON decoded straight into the table's schema (fields the table does not
//! have are ignored), with the messages that cannot be decoded set aside as dead letters.

use std::io::Read;

use arrow::array::RecordBatch;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use arrow_json::ReaderBuilder;
use base64::Engine;
use serde_json::{Value, json};

use crate::avro::Format;
use crate::transform::{MessageMeta, Transformer};

/// One message as polled.
#[derive(Debug, Clone)]
pub struct Message {
    /// Coordinates and metadata.
    pub meta: MessageMeta,
    /// The payload (`None` for a tombstone).
    pub payload: Option<Vec<u8>>,
}

impl Message {
    /// Bytes of its payload.
    pub fn size(&self) -> usize {
        self.payload.as_ref().map_or(0, Vec::len)
    }
}

/// A message that could not be written, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Coordinates.
    pub meta: MessageMeta,
    /// The raw bytes, when they were not JSON.
    pub bytes: Option<Vec<u8>>,
    /// The JSON, when it was.
    pub json: Option<String>,
    /// The reason.
    pub error: String,
}

impl DeadLetter {
    /// The dead letter as a row of the DLQ table: the original's columns plus the coordinates.
    pub fn to_json(&self) -> Value {
        let b64 = self
            .bytes
            .as_ref()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b));
        json!({
            "base64_bytes": b64,
            "json_string": self.json,
            "error": self.error,
            "timestamp": chrono::Utc::now().timestamp_micros(),
            "kafka_topic": self.meta.topic,
            "kafka_partition": self.meta.partition,
            "kafka_offset": self.meta.offset,
            "kafka_key": self.meta.key,
        })
    }
}

/// The Arrow schema of a new DLQ table.
pub fn dead_letter_schema() -> SchemaRef {
    use arrow::datatypes::{Field, TimeUnit};
    let utc = Some("UTC".into());
    Arc::new(Schema::new(vec![
        Field::new("base64_bytes", DataType::Utf8, true),
        Field::new("json_string", DataType::Utf8, true),
        Field::new("error", DataType::Utf8, true),
        Field::new("timestamp", DataType::Timestamp(TimeUnit::Microsecond, utc), true),
        Field::new("kafka_topic", DataType::Utf8, true),
        Field::new("kafka_partition", DataType::Int32, true),
        Field::new("kafka_offset", DataType::Int64, true),
        Field::new("kafka_key", DataType::Utf8, true),
    ]))
}

/// How payloads become rows.
#[derive(Clone)]
pub struct Decoding {
    /// The table's schema.
    pub schema: SchemaRef,
    /// Transforms and filter.
    pub transformer: std::sync::Arc<Transformer>,
    /// Gunzip payloads first.
    pub gzip: bool,
    /// JSON or Avro.
    pub format: Format,
}

/// What one partition's messages became.
#[derive(Debug)]
pub struct Decoded {
    /// The rows (possibly none).
    pub batch: RecordBatch,
    /// The messages set aside.
    pub dead: Vec<DeadLetter>,
}

/// The messages of one partition made ready to decode.
#[derive(Debug)]
pub struct Prepared {
    /// Their JSON lines after gzip and transforms, with the index of each line's message.
    lines: Vec<(usize, Vec<u8>)>,
    /// The messages set aside already (not gzip, not JSON, a failing transform, no payload).
    dead: Vec<DeadLetter>,
}

impl Decoding {
    /// Gunzip, decode from Avro and transform `messages` (of one partition, in order) into JSON
    /// lines.
    pub fn prepare_all(&self, messages: &[Message]) -> Prepared {
        let mut dead = Vec::new();
        let mut lines: Vec<(usize, Vec<u8>)> = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            match self.prepare(m) {
                Ok(Lines::One(line)) => lines.push((i, line)),
                Ok(Lines::Many(many)) => lines.extend(many.into_iter().map(|line| (i, line))),
                Err(letter) => dead.push(*letter),
            }
        }
        Prepared { lines, dead }
    }

    /// Decode the `prepared` lines of `messages` into the schema.
    pub fn decode(&self, messages: &[Message], prepared: Prepared) -> Result<Decoded, arrow::error::ArrowError> {
        let Prepared { lines, mut dead } = prepared;
        // The fast path: every line at once; on any error, line by line to find the bad ones.
        match decode_json_lines(&self.schema, lines.iter().map(|(_, l)| l.as_slice())) {
            Ok(batch) if batch.num_rows() == lines.len() => return Ok(Decoded { batch, dead }),
            _ => {}
        }
        let mut good = Vec::with_capacity(lines.len());
        for (i, line) in &lines {
            match decode_json_lines(&self.schema, std::iter::once(line.as_slice())) {
                Ok(b) if b.num_rows() == 1 => good.push(b),
                Ok(b) => dead.push(self.letter(&messages[*i], line, format!("{} rows in one message", b.num_rows()))),
                Err(e) => dead.push(self.letter(&messages[*i], line, e.to_string())),
            }
        }
        dead.sort_by_key(|d| d.meta.offset);
        let batch = arrow::compute::concat_batches(&self.schema, &good)?;
        Ok(Decoded { batch, dead })
    }

    /// The fields of the `prepared` lines that the schema lacks (by name, ignoring case),
    /// nullable, with the Arrow types their JSON values suggest. A field seen only as null waits
    /// for a value that shows its type.
    pub fn new_fields(&self, prepared: &Prepared) -> Result<Vec<Field>, arrow::error::ArrowError> {
        let values = prepared
            .lines
            .iter()
            .filter_map(|(_, line)| serde_json::from_slice::<Value>(line).ok())
            .filter(|v| match v.as_object() {
                Some(object) => object.keys().any(|k| !self.has_field(k)),
                None => false,
            });
        let inferred = arrow_json::reader::infer_json_schema_from_iterator(values.map(Ok))?;
        Ok(inferred
            .fields()
            .iter()
            .filter(|f| !self.has_field(f.name()) && !has_null_type(f.data_type()))
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect())
    }

    fn has_field(&self, name: &str) -> bool {
        self.schema.fields().iter().any(|f| f.name().eq_ignore_ascii_case(name))
    }

    fn letter(&self, m: &Message, line: &[u8], error: String) -> DeadLetter {
        dead_letter(m, None, Some(String::from_utf8_lossy(line).into_owned()), error)
    }

    /// The JSON lines of a message after gzip, Avro and transforms: none when filtered out, one
    /// per record of an Avro container.
    fn prepare(&self, m: &Message) -> Result<Lines, Box<DeadLetter>> {
        let dead =
            |bytes: Option<Vec<u8>>, json: Option<String>, error: String| Box::new(dead_letter(m, bytes, json, error));
        let Some(raw) = &m.payload else {
            return Err(dead(None, None, "the message has no payload".into()));
        };
        // Borrowed unless gunzipped: most paths read it and build a line of their own.
        let payload: std::borrow::Cow<'_, [u8]> = if self.gzip {
            let mut out = Vec::with_capacity(raw.len() * 4);
            if let Err(e) = flate2::read::GzDecoder::new(raw.as_slice()).read_to_end(&mut out) {
                return Err(dead(Some(raw.clone()), None, format!("gzip: {e}")));
            }
            out.into()
        } else {
            raw.as_slice().into()
        };
        let avro = self.format.avro_values(&payload);
        let from_avro = avro.is_some();
        let values = match avro {
            Some(values) => values.map_err(|e| dead(Some(payload.to_vec()), None, e))?,
            None if self.transformer.is_empty() => {
                // Checked by the decoder itself; a newline inside would split the message in two rows.
                if !payload.contains(&b'\n') {
                    return Ok(Lines::One(payload.into_owned()));
                }
                let value: Value = serde_json::from_slice(&payload)
                    .map_err(|e| dead(Some(payload.to_vec()), None, format!("malformed JSON: {e}")))?;
                return Ok(Lines::One(value.to_string().into_bytes()));
            }
            None if self.transformer.only_appends() && is_one_object(&payload) => {
                // Kafka fields only: appended to the object's text (a later key wins, as setting
                // it would), saving a parse into a value and a serialisation per message.
                return Ok(Lines::One(self.transformer.append_fields(&payload, &m.meta)));
            }
            None => vec![
                serde_json::from_slice(&payload)
                    .map_err(|e| dead(Some(payload.to_vec()), None, format!("malformed JSON: {e}")))?,
            ],
        };
        let mut lines = Vec::with_capacity(values.len());
        for value in values {
            match self.transformer.apply(value, &m.meta) {
                Ok(Some(v)) => lines.push(v.to_string().into_bytes()),
                Ok(None) => {}
                // A JSON message is kept as its text, an Avro one as its bytes.
                Err(e) => {
                    let (bytes, json) = match from_avro {
                        true => (Some(payload.into_owned()), None),
                        false => (None, Some(String::from_utf8_lossy(&payload).into_owned())),
                    };
                    return Err(dead(bytes, json, format!("transform: {e}")));
                }
            }
        }
        Ok(Lines::Many(lines))
    }
}

/// Whether `payload` is one JSON object on one line.
fn is_one_object(payload: &[u8]) -> bool {
    payload.trim_ascii().first() == Some(&b'{')
        && !payload.contains(&b'\n')
        && serde_json::from_slice::<&serde_json::value::RawValue>(payload).is_ok()
}

/// The JSON lines of one message.
enum Lines {
    /// The payload itself, or its one line.
    One(Vec<u8>),
    /// Zero or more lines (filtered out, or the records of an Avro container).
    Many(Vec<Vec<u8>>),
}

/// A dead letter for `m`.
fn dead_letter(m: &Message, bytes: Option<Vec<u8>>, json: Option<String>, error: String) -> DeadLetter {
    DeadLetter {
        meta: m.meta.clone(),
        bytes,
        json,
        error,
    }
}

/// Whether a type is or holds the null type (a JSON field seen only as null, which no Delta type
/// matches).
fn has_null_type(t: &DataType) -> bool {
    match t {
        DataType::Null => true,
        DataType::List(f) => has_null_type(f.data_type()),
        DataType::Struct(fields) => fields.is_empty() || fields.iter().any(|f| has_null_type(f.data_type())),
        _ => false,
    }
}

/// JSON lines (one object each) into one batch of `schema`; fields it does not have are ignored.
pub fn decode_json_lines<'b>(
    schema: &SchemaRef,
    lines: impl Iterator<Item = &'b [u8]>,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let lines: Vec<&[u8]> = lines.collect();
    // arrow-json parses named time zones only with chrono-tz: decode with the same instants
    // under "+00:00", then relabel them with the table's zone (a metadata-only cast).
    let parse_schema = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_data_type(offset_zones(f.data_type())))
            .collect::<Vec<_>>(),
    ));
    let mut decoder = ReaderBuilder::new(parse_schema)
        .with_batch_size(lines.len().max(1))
        .build_decoder()?;
    for line in lines {
        let mut rest = line;
        while !rest.is_empty() {
            let read = decoder.decode(rest)?;
            if read == 0 {
                return Err(arrow::error::ArrowError::JsonError("the decoder is full".into()));
            }
            rest = &rest[read..];
        }
        decoder.decode(b"\n")?;
    }
    let Some(batch) = decoder.flush()? else {
        return Ok(RecordBatch::new_empty(schema.clone()));
    };
    let columns = (batch.columns().iter().zip(schema.fields()))
        .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

/// `dt` with every timestamp's zone written as an offset.
fn offset_zones(dt: &DataType) -> DataType {
    let field = |f: &FieldRef| Arc::new(f.as_ref().clone().with_data_type(offset_zones(f.data_type())));
    match dt {
        DataType::Timestamp(unit, Some(_)) => DataType::Timestamp(*unit, Some("+00:00".into())),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect()),
        DataType::List(f) => DataType::List(field(f)),
        DataType::LargeList(f) => DataType::LargeList(field(f)),
        DataType::Map(f, sorted) => DataType::Map(field(f), *sorted),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Int64Array};
    use arrow::datatypes::{Field, Int64Type};
    use std::io::Write;

    fn message(offset: i64, payload: &[u8]) -> Message {
        Message {
            meta: MessageMeta {
                topic: "t".into(),
                partition: 0,
                offset,
                ..Default::default()
            },
            payload: Some(payload.to_vec()),
        }
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
        ]))
    }

    #[test]
    fn good_rows_decode_and_bad_ones_are_set_aside() {
        let transformer = Arc::new(Transformer::new(&[], None).unwrap());
        let decoding = Decoding {
            schema: schema(),
            transformer: transformer.clone(),
            gzip: false,
            format: Format::Json,
        };
        let messages = vec![
            message(0, br#"{"id": 1, "name": "a", "extra": true}"#),
            message(1, b"{not json"),
            message(2, br#"{"id": "x"}"#),
            message(3, br#"{"id": 4}"#),
            Message {
                payload: None,
                ..message(4, b"")
            },
        ];
        let out = decoding.decode(&messages, decoding.prepare_all(&messages)).unwrap();
        let ids = out.batch.column(0).as_primitive::<Int64Type>();
        assert_eq!(ids, &Int64Array::from(vec![1, 4]));
        let offsets: Vec<i64> = out.dead.iter().map(|d| d.meta.offset).collect();
        assert_eq!(offsets, vec![1, 2, 4]);
        assert!(out.dead.iter().all(|d| !d.error.is_empty()));
    }

    #[test]
    fn timestamps_in_utc_from_strings_and_numbers() {
        use arrow::datatypes::{TimeUnit, TimestampMicrosecondType};
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = Arc::new(Schema::new(vec![Field::new("at", utc, true)]));
        let lines: [&[u8]; 2] = [br#"{"at": "2024-01-02T03:04:05Z"}"#, br#"{"at": 1000000}"#];
        let batch = decode_json_lines(&schema, lines.into_iter()).unwrap();
        assert_eq!(batch.schema(), schema);
        let at = batch.column(0).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(at.value(0), 1_704_164_645_000_000);
        assert_eq!(at.value(1), 1_000_000);
    }

    #[test]
    fn gzip_payloads() {
        let transformer = Arc::new(Transformer::new(&[], None).unwrap());
        let decoding = Decoding {
            schema: schema(),
            transformer: transformer.clone(),
            gzip: true,
            format: Format::Json,
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(br#"{"id": 7}"#).unwrap();
        let messages = [message(0, &gz.finish().unwrap()), message(1, b"plain")];
        let out = decoding.decode(&messages, decoding.prepare_all(&messages)).unwrap();
        assert_eq!(out.batch.num_rows(), 1);
        assert_eq!(out.dead.len(), 1);
        assert!(out.dead[0].error.starts_with("gzip"), "{}", out.dead[0].error);
        assert!(out.dead[0].bytes.is_some());
    }

    #[test]
    fn avro_datums_into_the_tables_types_through_the_transforms() {
        use arrow::datatypes::{Date32Type, TimeUnit, TimestampMicrosecondType};
        let avro = crate::avro::Schema::parse(
            r#"{"type": "record", "name": "E", "fields": [
                {"name": "id", "type": "long"},
                {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
                {"name": "day", "type": {"type": "int", "logicalType": "date"}},
                {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
                {"name": "raw", "type": "bytes"}]}"#,
        )
        .unwrap();
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("at", utc, true),
            Field::new("day", DataType::Date32, true),
            Field::new("price", DataType::Decimal128(9, 2), true),
            Field::new("raw", DataType::Binary, true),
            Field::new("offset", DataType::Int64, true),
        ]));
        let transforms = crate::transform::parse_transforms(&["offset: kafka.offset".to_string()]).unwrap();
        let decoding = Decoding {
            schema,
            transformer: Arc::new(Transformer::new(&transforms, None).unwrap()),
            gzip: false,
            format: Format::AvroDatum(Arc::new(avro)),
        };
        // id 5 (zig-zag 10), 1500 ms, day 2, 123.45 (12345 = 0x3039), bytes 01 02.
        let datum = [10, 0xb8, 0x17, 4, 4, 0x30, 0x39, 4, 1, 2];
        let messages = [message(10, &datum), message(11, b"not avro at all")];
        let out = decoding.decode(&messages, decoding.prepare_all(&messages)).unwrap();
        let b = &out.batch;
        assert_eq!(b.num_rows(), 1);
        assert_eq!(b.column(0).as_primitive::<Int64Type>().value(0), 5);
        assert_eq!(
            b.column(1).as_primitive::<TimestampMicrosecondType>().value(0),
            1_500_000
        );
        assert_eq!(b.column(2).as_primitive::<Date32Type>().value(0), 2);
        let price = b.column(3).as_primitive::<arrow::datatypes::Decimal128Type>();
        assert_eq!(price.value_as_string(0), "123.45");
        assert_eq!(b.column(4).as_binary::<i32>().value(0), &[1u8, 2]);
        assert_eq!(b.column(5).as_primitive::<Int64Type>().value(0), 10);
        // The bad message is a dead letter that keeps its bytes.
        assert_eq!(out.dead.len(), 1);
        assert_eq!(out.dead[0].meta.offset, 11);
        assert_eq!(out.dead[0].bytes.as_deref(), Some(&b"not avro at all"[..]));
        assert!(out.dead[0].error.starts_with("avro"), "{}", out.dead[0].error);
    }
}

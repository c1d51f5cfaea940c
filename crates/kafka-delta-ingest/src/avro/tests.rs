//! Decoding checked against bytes encoded here by the specification's rules.

use serde_json::json;

use super::datum::decimal_text;
use super::*;

/// Avro binary encoding, by hand.
#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    fn long(&mut self, n: i64) -> &mut Self {
        let mut z = ((n << 1) ^ (n >> 63)) as u64;
        while z >= 0x80 {
            self.0.push((z as u8 & 0x7f) | 0x80);
            z >>= 7;
        }
        self.0.push(z as u8);
        self
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.long(b.len() as i64);
        self.raw(b)
    }
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
}

const SCHEMA: &str = r#"{"type": "record", "name": "Event", "namespace": "t", "fields": [
    {"name": "id", "type": "long"},
    {"name": "name", "type": ["null", "string"]},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "at_ns", "type": {"type": "long", "logicalType": "local-timestamp-nanos"}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
    {"name": "cost", "type": {"type": "fixed", "name": "Cost", "size": 4, "logicalType": "decimal", "precision": 8, "scale": 3}},
    {"name": "wait", "type": {"type": "fixed", "name": "Wait", "size": 12, "logicalType": "duration"}},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "int"}},
    {"name": "raw", "type": "bytes"},
    {"name": "ok", "type": "boolean"},
    {"name": "ratio", "type": "float"},
    {"name": "score", "type": "double"},
    {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
        {"name": "x", "type": "int"}, {"name": "next", "type": ["null", "Inner"]}]}},
    {"name": "again", "type": ["null", "t.Inner"]}
]}"#;

/// A datum of SCHEMA for `id`.
fn datum(id: i64) -> Vec<u8> {
    let mut o = Out::default();
    o.long(id).long(1).bytes(format!("n{id}").as_bytes());
    o.long(1_704_164_645_123).long(1_500_999).long(19_724);
    o.bytes(&(-12_345i16).to_be_bytes()).raw(&1_234_567i32.to_be_bytes());
    o.raw(&[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]).long(1);
    // Two array blocks, the second with its byte size (a negative count).
    o.long(1).bytes(b"a").long(-1).long(2).bytes(b"b").long(0);
    o.long(1).bytes(b"k").long(-7).long(0);
    o.bytes(&[0, 255])
        .raw(&[1])
        .raw(&0.5f32.to_le_bytes())
        .raw(&2.25f64.to_le_bytes());
    // inner = {x: 3, next: {x: 4, next: null}}, again = null
    o.long(3).long(1).long(4).long(0).long(0);
    o.0
}

fn expected(id: i64) -> serde_json::Value {
    json!({
        "id": id, "name": format!("n{id}"), "at": 1_704_164_645_123_000i64, "at_ns": 1_500,
        "day": "2024-01-02", "price": "-123.45", "cost": "1234.567",
        "wait": {"months": 1, "days": 2, "millis": 3}, "kind": "B", "tags": ["a", "b"],
        "attrs": {"k": -7}, "raw": "00ff", "ok": true, "ratio": 0.5, "score": 2.25,
        "inner": {"x": 3, "next": {"x": 4, "next": null}}, "again": null
    })
}

#[test]
fn a_datum_of_every_kind_of_type() {
    let schema = Schema::parse(SCHEMA).unwrap();
    assert_eq!(schema.datum(&datum(7)).unwrap(), expected(7));
    let mut longer = datum(7);
    longer.push(0);
    let err = schema.datum(&longer).unwrap_err();
    assert!(err.contains("left after the datum"), "{err}");
    let short = datum(7);
    assert!(
        schema
            .datum(&short[..short.len() - 1])
            .unwrap_err()
            .contains("ends early")
    );
    // A union branch that does not exist.
    let mut bad = Out::default();
    bad.long(1).long(5);
    assert!(schema.datum(&bad.0).unwrap_err().contains("union branch 5"));
}

#[test]
fn schemas_that_do_not_parse() {
    assert!(Schema::parse("{").unwrap_err().contains("not JSON"));
    assert!(Schema::parse(r#""Nope""#).unwrap_err().contains("unknown type Nope"));
    let no_fields = r#"{"type": "record", "name": "R"}"#;
    assert!(Schema::parse(no_fields).unwrap_err().contains("\"fields\""));
}

/// An object container file of `blocks` (each a list of ids) with `codec`.
fn container(codec: &str, blocks: &[&[i64]]) -> Vec<u8> {
    let sync = [7u8; 16];
    let mut o = Out::default();
    o.raw(b"Obj\x01").long(2);
    o.bytes(b"avro.schema").bytes(SCHEMA.as_bytes());
    o.bytes(b"avro.codec").bytes(codec.as_bytes());
    o.long(0).raw(&sync);
    for ids in blocks {
        let data: Vec<u8> = ids.iter().flat_map(|id| datum(*id)).collect();
        let data = match codec {
            "deflate" => {
                use std::io::Write;
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&data).unwrap();
                e.finish().unwrap()
            }
            "snappy" => {
                let mut c = snap::raw::Encoder::new().compress_vec(&data).unwrap();
                c.extend_from_slice(&[0; 4]); // the CRC, not checked
                c
            }
            _ => data,
        };
        o.long(ids.len() as i64).bytes(&data).raw(&sync);
    }
    o.0
}

#[test]
fn every_record_of_a_container_with_each_codec() {
    for codec in ["null", "deflate", "snappy"] {
        let records = container_records(&container(codec, &[&[1, 2], &[3]])).unwrap();
        assert_eq!(records, vec![expected(1), expected(2), expected(3)], "{codec}");
    }
    let err = container_records(&container("zstandard", &[&[1]])).unwrap_err();
    assert!(err.contains("zstandard is not supported"), "{err}");
    let mut bad_sync = container("null", &[&[1]]);
    *bad_sync.last_mut().unwrap() = 0;
    assert!(container_records(&bad_sync).unwrap_err().contains("sync marker"));
    assert!(
        container_records(br#"{"id": 1}"#)
            .unwrap_err()
            .contains("not an Avro object container")
    );
}

#[test]
fn decimal_texts() {
    assert_eq!(decimal_text(&[0x01, 0x00], 2).unwrap(), "2.56");
    assert_eq!(decimal_text(&[0xff], 3).unwrap(), "-0.001");
    assert_eq!(decimal_text(&[0x30, 0x39], 0).unwrap(), "12345");
    assert_eq!(decimal_text(&[], 1).unwrap(), "0.0");
    assert!(decimal_text(&[1; 17], 0).is_err());
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
    let format = Format::avro(path.to_str().unwrap()).unwrap();
    assert_eq!(format.avro_values(&datum(2)).unwrap().unwrap(), vec![expected(2)]);
    assert!(format.avro_values(b"\x02").unwrap().unwrap_err().starts_with("avro: "));
    assert!(Format::Json.avro_values(b"{}").is_none());
    std::fs::write(&path, "{").unwrap();
    assert!(
        Format::avro(path.to_str().unwrap())
            .unwrap_err()
            .contains("Avro schema")
    );
}

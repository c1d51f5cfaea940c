//! Avro object container files: a header with the schema and codec, then blocks of records.

use std::io::Read;

use serde_json::Value;

use super::datum::{blocks, long, sized, take};
use super::schema::Schema;

const MAGIC: &[u8] = b"Obj\x01";

/// Every record of an object container file, as JSON values.
pub fn container_records(payload: &[u8]) -> Result<Vec<Value>, String> {
    let mut input = payload;
    if take(&mut input, 4).ok() != Some(MAGIC) {
        return Err("not an Avro object container file (no Obj\\x01 header)".into());
    }
    let (mut schema, mut codec) = (None, "null".to_string());
    // The metadata: a map of bytes, in blocks.
    blocks(&mut input, |input| {
        let key = sized(input)?;
        let value = sized(input)?;
        match key {
            b"avro.schema" => {
                schema = Some(Schema::parse(
                    std::str::from_utf8(value).map_err(|_| "a schema that is not UTF-8")?,
                )?)
            }
            b"avro.codec" => codec = String::from_utf8_lossy(value).into_owned(),
            _ => {}
        }
        Ok(())
    })?;
    let schema = schema.ok_or("a container without avro.schema")?;
    let sync = take(&mut input, 16)?;
    let mut records = Vec::new();
    while !input.is_empty() {
        let count = long(&mut input)?;
        let block = sized(&mut input)?;
        let data = uncompress(&codec, block)?;
        let mut rest = data.as_slice();
        for _ in 0..count {
            records.push(schema.value(schema.root, &mut rest)?);
        }
        if take(&mut input, 16)? != sync {
            return Err("a block not followed by the file's sync marker".into());
        }
    }
    Ok(records)
}

fn uncompress(codec: &str, block: &[u8]) -> Result<Vec<u8>, String> {
    match codec {
        "null" => Ok(block.to_vec()),
        "deflate" => {
            let mut out = Vec::with_capacity(block.len() * 4);
            flate2::read::DeflateDecoder::new(block)
                .read_to_end(&mut out)
                .map_err(|e| format!("deflate: {e}"))?;
            Ok(out)
        }
        "snappy" => {
            // The compressed data, then the CRC-32 of the uncompressed data.
            let compressed = block.get(..block.len().saturating_sub(4)).unwrap_or_default();
            snap::raw::Decoder::new()
                .decompress_vec(compressed)
                .map_err(|e| format!("snappy: {e}"))
        }
        other => Err(format!(
            "the codec {other} is not supported (null, deflate and snappy are)"
        )),
    }
}

//! Avro payloads as JSON values, which the transforms and the JSON decoder then take as they take
//! JSON messages. The decoder is written from the Avro 1.11 specification: schemas (named types,
//! recursion, logical types), the binary encoding, and object container files (null, deflate and
//! snappy codecs).
//!
//! Values map to what the JSON decoder reads into the table's types: timestamps become
//! microseconds since the epoch (Delta's unit), dates `"YYYY-MM-DD"`, decimals their exact text,
//! bytes and fixed values hex strings (as a `binary` column reads them), enums their symbol, and
//! unions the value of their branch.

mod container;
mod datum;
mod schema;
#[cfg(test)]
mod tests;

pub use container::container_records;
pub use schema::Schema;

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
        let schema = Schema::parse(&text).map_err(|e| format!("the Avro schema in {flag}: {e}"))?;
        Ok(Format::AvroDatum(std::sync::Arc::new(schema)))
    }

    /// The JSON values of one payload: none for JSON (the caller parses it), one for a datum,
    /// every record for a container.
    pub fn avro_values(&self, payload: &[u8]) -> Option<Result<Vec<serde_json::Value>, String>> {
        match self {
            Format::Json => None,
            Format::AvroDatum(schema) => Some(schema.datum(payload).map(|v| vec![v])),
            Format::AvroContainer => Some(container_records(payload)),
        }
        .map(|result| result.map_err(|e| format!("avro: {e}")))
    }
}

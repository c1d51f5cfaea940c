//! Avro schemas, parsed from their JSON form into a table of types (named types referenced by
//! index, so recursive records need no boxes).

use std::collections::HashMap;

use serde_json::Value;

/// A parsed Avro schema.
#[derive(Debug, Clone)]
pub struct Schema {
    pub(super) types: Vec<Type>,
    pub(super) root: usize,
}

/// One type of a schema; children are indices into [`Schema::types`].
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Type {
    Null,
    Boolean,
    Int(IntLogical),
    Long(LongLogical),
    Float,
    Double,
    /// `bytes`, possibly a decimal of this scale.
    Bytes(Option<usize>),
    String,
    /// Fields' names and types.
    Record(Vec<(String, usize)>),
    Enum(Vec<String>),
    Array(usize),
    Map(usize),
    Union(Vec<usize>),
    /// `fixed` of this size, possibly a decimal of this scale or a duration.
    Fixed(usize, FixedLogical),
    /// A named type being parsed (its definition comes once its fields are read).
    Pending,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum IntLogical {
    None,
    Date,
}

/// How many microseconds one unit of a long is (`None`: a plain number).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum LongLogical {
    None,
    Millis,
    Micros,
    Nanos,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum FixedLogical {
    None,
    Decimal(usize),
    Duration,
}

impl Schema {
    /// Parse the JSON form of a schema.
    pub fn parse(text: &str) -> Result<Self, String> {
        let json: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let mut parser = Parser::default();
        let root = parser.parse(&json, None)?;
        Ok(Schema {
            types: parser.types,
            root,
        })
    }
}

#[derive(Default)]
struct Parser {
    types: Vec<Type>,
    named: HashMap<String, usize>,
}

impl Parser {
    fn push(&mut self, t: Type) -> usize {
        self.types.push(t);
        self.types.len() - 1
    }

    /// The index of the type `json` defines or names, in the enclosing `namespace`.
    fn parse(&mut self, json: &Value, namespace: Option<&str>) -> Result<usize, String> {
        match json {
            Value::String(name) => self.named_or_primitive(name, namespace),
            Value::Array(branches) => {
                let branches = branches
                    .iter()
                    .map(|b| self.parse(b, namespace))
                    .collect::<Result<_, _>>()?;
                Ok(self.push(Type::Union(branches)))
            }
            Value::Object(object) => {
                let kind = object
                    .get("type")
                    .ok_or_else(|| format!("a schema object without \"type\": {json}"))?;
                let logical = object.get("logicalType").and_then(Value::as_str);
                let kind = match kind {
                    Value::String(kind) => kind.as_str(),
                    // {"type": {...}} or {"type": [...]}: the inner schema.
                    other => return self.parse(other, namespace),
                };
                match kind {
                    "record" | "error" | "enum" | "fixed" => self.named(object, kind, logical, namespace),
                    "array" => {
                        let items = self.parse(field(object, "items")?, namespace)?;
                        Ok(self.push(Type::Array(items)))
                    }
                    "map" => {
                        let values = self.parse(field(object, "values")?, namespace)?;
                        Ok(self.push(Type::Map(values)))
                    }
                    "int" if logical == Some("date") => Ok(self.push(Type::Int(IntLogical::Date))),
                    "long" => Ok(self.push(Type::Long(long_logical(logical)))),
                    "bytes" if logical == Some("decimal") => Ok(self.push(Type::Bytes(Some(scale(object)?)))),
                    other => self.named_or_primitive(other, namespace),
                }
            }
            other => Err(format!("not a schema: {other}")),
        }
    }

    fn named_or_primitive(&mut self, name: &str, namespace: Option<&str>) -> Result<usize, String> {
        let t = match name {
            "null" => Type::Null,
            "boolean" => Type::Boolean,
            "int" => Type::Int(IntLogical::None),
            "long" => Type::Long(LongLogical::None),
            "float" => Type::Float,
            "double" => Type::Double,
            "bytes" => Type::Bytes(None),
            "string" => Type::String,
            _ => {
                let full = full_name(name, namespace);
                return self
                    .named
                    .get(&full)
                    .or_else(|| self.named.get(name))
                    .copied()
                    .ok_or_else(|| format!("unknown type {name}"));
            }
        };
        Ok(self.push(t))
    }

    /// A record, enum or fixed: registered under its full name before its fields are parsed, so
    /// that they may refer to it.
    fn named(
        &mut self,
        object: &serde_json::Map<String, Value>,
        kind: &str,
        logical: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<usize, String> {
        let name = field(object, "name")?.as_str().ok_or("a name that is not a string")?;
        let namespace = object.get("namespace").and_then(Value::as_str).or(namespace);
        let full = full_name(name, namespace);
        let inner_namespace = full.rsplit_once('.').map(|(ns, _)| ns.to_string());
        let index = self.push(Type::Pending);
        self.named.insert(full, index);
        self.types[index] = match kind {
            "enum" => {
                let symbols = field(object, "symbols")?
                    .as_array()
                    .ok_or("enum symbols that are not a list")?;
                Type::Enum(
                    symbols
                        .iter()
                        .map(|s| s.as_str().unwrap_or_default().to_string())
                        .collect(),
                )
            }
            "fixed" => {
                let size = field(object, "size")?
                    .as_u64()
                    .ok_or("a fixed size that is not a number")? as usize;
                let logical = match logical {
                    Some("decimal") => FixedLogical::Decimal(scale(object)?),
                    Some("duration") => FixedLogical::Duration,
                    _ => FixedLogical::None,
                };
                Type::Fixed(size, logical)
            }
            _ => {
                let fields = field(object, "fields")?
                    .as_array()
                    .ok_or("record fields that are not a list")?;
                let mut parsed = Vec::with_capacity(fields.len());
                for f in fields {
                    let f = f.as_object().ok_or("a record field that is not an object")?;
                    let name = field(f, "name")?.as_str().ok_or("a field name that is not a string")?;
                    parsed.push((
                        name.to_string(),
                        self.parse(field(f, "type")?, inner_namespace.as_deref())?,
                    ));
                }
                Type::Record(parsed)
            }
        };
        Ok(index)
    }
}

fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    object.get(name).ok_or_else(|| format!("a schema without \"{name}\""))
}

fn scale(object: &serde_json::Map<String, Value>) -> Result<usize, String> {
    Ok(object
        .get("scale")
        .map_or(Some(0), Value::as_u64)
        .ok_or("a decimal scale that is not a number")? as usize)
}

fn long_logical(logical: Option<&str>) -> LongLogical {
    match logical {
        Some("timestamp-millis" | "local-timestamp-millis") => LongLogical::Millis,
        Some("timestamp-micros" | "local-timestamp-micros") => LongLogical::Micros,
        Some("timestamp-nanos" | "local-timestamp-nanos") => LongLogical::Nanos,
        _ => LongLogical::None,
    }
}

fn full_name(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if !name.contains('.') && !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_string(),
    }
}

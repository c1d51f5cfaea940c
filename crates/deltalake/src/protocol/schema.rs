//! The Delta schema: primitive, struct, array and map types, their JSON form
//! (`schemaString`) and their conversion to and from Arrow.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Field as ArrowField, Fields, Schema as ArrowSchema, TimeUnit};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{DeltaError, DeltaResult};

use super::table_config::DELTA_PREFIX;
pub use super::table_config::{COLUMN_MAPPING_ID, COLUMN_MAPPING_PHYSICAL_NAME};
/// Arrow field metadata key under which Parquet stores field ids.
pub const PARQUET_FIELD_ID: &str = "PARQUET:field_id";

/// A primitive Delta type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrimitiveType {
    /// UTF-8 text.
    String,
    /// 64-bit signed integer.
    Long,
    /// 32-bit signed integer.
    Integer,
    /// 16-bit signed integer.
    Short,
    /// 8-bit signed integer.
    Byte,
    /// 32-bit IEEE float.
    Float,
    /// 64-bit IEEE float.
    Double,
    /// true / false.
    Boolean,
    /// Raw bytes.
    Binary,
    /// Days since the epoch.
    Date,
    /// Microseconds since the epoch, UTC.
    Timestamp,
    /// Microseconds since the epoch, no time zone.
    TimestampNtz,
    /// Fixed-point decimal with precision and scale.
    Decimal(u8, i8),
    /// Semi-structured variant (stored as `metadata` and `value` binaries).
    Variant,
}

impl PrimitiveType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "long" => Self::Long,
            "integer" => Self::Integer,
            "short" => Self::Short,
            "byte" => Self::Byte,
            "float" => Self::Float,
            "double" => Self::Double,
            "boolean" => Self::Boolean,
            "binary" => Self::Binary,
            "date" => Self::Date,
            "timestamp" => Self::Timestamp,
            "timestamp_ntz" => Self::TimestampNtz,
            "variant" => Self::Variant,
            "decimal" => Self::Decimal(10, 0),
            _ => {
                let inner = s.strip_prefix("decimal(")?.strip_suffix(')')?;
                let (p, sc) = inner.split_once(',')?;
                let p: u8 = p.trim().parse().ok()?;
                let sc: i8 = sc.trim().parse().ok()?;
                if p == 0 || p > 38 || sc < 0 || sc as u8 > p {
                    return None;
                }
                Self::Decimal(p, sc)
            }
        })
    }
}

impl fmt::Display for PrimitiveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::String => "string",
            Self::Long => "long",
            Self::Integer => "integer",
            Self::Short => "short",
            Self::Byte => "byte",
            Self::Float => "float",
            Self::Double => "double",
            Self::Boolean => "boolean",
            Self::Binary => "binary",
            Self::Date => "date",
            Self::Timestamp => "timestamp",
            Self::TimestampNtz => "timestamp_ntz",
            Self::Variant => "variant",
            Self::Decimal(p, s) => return write!(f, "decimal({p},{s})"),
        };
        f.write_str(s)
    }
}

/// Any Delta type.
#[derive(Debug, Clone, PartialEq)]
pub enum DataType {
    /// A primitive type.
    Primitive(PrimitiveType),
    /// A struct of named fields.
    Struct(Box<StructType>),
    /// A list of elements.
    Array(Box<ArrayType>),
    /// A map from keys to values.
    Map(Box<MapType>),
}

/// A named, typed, nullable field with metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructField {
    /// The (logical) name.
    pub name: String,
    /// The type.
    #[serde(rename = "type")]
    pub data_type: DataType,
    /// Whether nulls are allowed.
    #[serde(default = "default_true")]
    pub nullable: bool,
    /// Free-form metadata (column mapping, invariants, generation expressions...).
    #[serde(default)]
    pub metadata: HashMap<String, Value>,
}

fn default_true() -> bool {
    true
}

/// A struct type: an ordered list of fields. The table schema is one of these.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StructType {
    /// The fields in order.
    pub fields: Vec<StructField>,
}

/// An array type.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayType {
    /// The element type.
    pub element_type: DataType,
    /// Whether elements may be null.
    pub contains_null: bool,
}

/// A map type.
#[derive(Debug, Clone, PartialEq)]
pub struct MapType {
    /// The key type.
    pub key_type: DataType,
    /// The value type.
    pub value_type: DataType,
    /// Whether values may be null.
    pub value_contains_null: bool,
}

/// The table schema.
pub type Schema = StructType;

impl StructField {
    /// A field without metadata.
    pub fn new(name: impl Into<String>, data_type: DataType, nullable: bool) -> Self {
        Self {
            name: name.into(),
            data_type,
            nullable,
            metadata: HashMap::new(),
        }
    }

    /// The name of the column in data files: the physical name under column mapping, else the name.
    pub fn physical_name(&self) -> &str {
        match self.metadata.get(COLUMN_MAPPING_PHYSICAL_NAME) {
            Some(Value::String(s)) => s,
            _ => &self.name,
        }
    }

    /// The column-mapping id, if the field has one.
    pub fn column_mapping_id(&self) -> Option<i64> {
        self.metadata.get(COLUMN_MAPPING_ID).and_then(Value::as_i64)
    }
}

impl StructType {
    /// A struct of the given fields.
    pub fn new(fields: Vec<StructField>) -> Self {
        Self { fields }
    }

    /// The field with this name (exact match first, then case-insensitive, as Delta names are).
    pub fn field(&self, name: &str) -> Option<&StructField> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .or_else(|| self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)))
    }

    /// Index of the field with this name, matched as in [`StructType::field`].
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .or_else(|| self.fields.iter().position(|f| f.name.eq_ignore_ascii_case(name)))
    }

    /// Parse a `schemaString`.
    pub fn from_json(s: &str) -> DeltaResult<Self> {
        match serde_json::from_str::<DataType>(s) {
            Ok(DataType::Struct(st)) => Ok(*st),
            Ok(other) => Err(DeltaError::schema(format!(
                "table schema must be a struct, found {other}"
            ))),
            Err(e) => Err(DeltaError::schema(format!("invalid schemaString: {e}"))),
        }
    }

    /// Serialise to a `schemaString`.
    pub fn to_json(&self) -> String {
        #[allow(
            clippy::expect_used,
            reason = "schema types serialise to JSON without error: string keys, no custom failures"
        )]
        serde_json::to_string(&DataType::Struct(Box::new(self.clone()))).expect("a schema always serialises")
    }

    /// Convert to an Arrow schema (logical names, Delta field metadata as strings).
    pub fn to_arrow(&self) -> DeltaResult<ArrowSchema> {
        Ok(ArrowSchema::new(self.arrow_fields()?))
    }

    fn arrow_fields(&self) -> DeltaResult<Fields> {
        self.fields
            .iter()
            .map(|f| f.to_arrow())
            .collect::<DeltaResult<Vec<_>>>()
            .map(Fields::from)
    }

    /// Convert from an Arrow schema.
    pub fn try_from_arrow(schema: &ArrowSchema) -> DeltaResult<Self> {
        Self::from_arrow_fields(schema.fields())
    }

    fn from_arrow_fields(fields: &Fields) -> DeltaResult<Self> {
        fields
            .iter()
            .map(|f| StructField::try_from_arrow(f))
            .collect::<DeltaResult<_>>()
            .map(Self::new)
    }
}

impl StructType {
    /// A copy where every field, at every depth, has a column-mapping id and physical name;
    /// new ids continue after `max_id`. Returns the schema and the new highest id.
    pub fn with_column_mapping(&self, max_id: i64) -> (Self, i64) {
        let mut next = max_id;
        let schema = self.map_fields(&mut |field| {
            if field.column_mapping_id().is_none() {
                next += 1;
                field.metadata.insert(COLUMN_MAPPING_ID.into(), Value::from(next));
            }
            if !field.metadata.contains_key(COLUMN_MAPPING_PHYSICAL_NAME) {
                let physical = format!("col-{}", uuid::Uuid::new_v4());
                field
                    .metadata
                    .insert(COLUMN_MAPPING_PHYSICAL_NAME.into(), Value::from(physical));
            }
        });
        (schema, next)
    }

    fn map_fields(&self, f: &mut dyn FnMut(&mut StructField)) -> Self {
        fn map_type(t: &DataType, f: &mut dyn FnMut(&mut StructField)) -> DataType {
            match t {
                DataType::Struct(s) => DataType::Struct(Box::new(s.map_fields(f))),
                DataType::Array(a) => DataType::Array(Box::new(ArrayType {
                    element_type: map_type(&a.element_type, f),
                    contains_null: a.contains_null,
                })),
                DataType::Map(m) => DataType::Map(Box::new(MapType {
                    key_type: map_type(&m.key_type, f),
                    value_type: map_type(&m.value_type, f),
                    value_contains_null: m.value_contains_null,
                })),
                DataType::Primitive(_) => t.clone(),
            }
        }
        let fields = self
            .fields
            .iter()
            .map(|field| {
                let mut field = StructField {
                    data_type: map_type(&field.data_type, f),
                    ..field.clone()
                };
                f(&mut field);
                field
            })
            .collect();
        Self { fields }
    }
}

impl StructType {
    /// The Arrow schema of data files: physical names and, under column mapping, Parquet field ids.
    pub fn to_physical_arrow(&self, column_mapping: bool) -> DeltaResult<ArrowSchema> {
        fn physical_type(t: &DataType, mapping: bool) -> DeltaResult<ArrowType> {
            Ok(match t {
                DataType::Struct(s) => ArrowType::Struct(
                    s.fields
                        .iter()
                        .map(|f| physical_field(f, mapping))
                        .collect::<DeltaResult<Vec<_>>>()?
                        .into(),
                ),
                DataType::Array(a) => ArrowType::List(Arc::new(ArrowField::new(
                    "element",
                    physical_type(&a.element_type, mapping)?,
                    a.contains_null,
                ))),
                DataType::Map(m) => ArrowType::Map(
                    Arc::new(ArrowField::new(
                        "key_value",
                        ArrowType::Struct(Fields::from(vec![
                            ArrowField::new("key", physical_type(&m.key_type, mapping)?, false),
                            ArrowField::new("value", physical_type(&m.value_type, mapping)?, m.value_contains_null),
                        ])),
                        false,
                    )),
                    false,
                ),
                DataType::Primitive(_) => t.to_arrow()?,
            })
        }
        fn physical_field(f: &StructField, mapping: bool) -> DeltaResult<ArrowField> {
            let field = ArrowField::new(f.physical_name(), physical_type(&f.data_type, mapping)?, f.nullable);
            Ok(match (mapping, f.column_mapping_id()) {
                (true, Some(id)) => {
                    field.with_metadata(HashMap::from([(PARQUET_FIELD_ID.to_string(), id.to_string())]))
                }
                _ => field,
            })
        }
        let fields = self
            .fields
            .iter()
            .map(|f| physical_field(f, column_mapping))
            .collect::<DeltaResult<Vec<_>>>()?;
        Ok(ArrowSchema::new(fields))
    }
}

impl StructField {
    /// Convert to an Arrow field.
    pub fn to_arrow(&self) -> DeltaResult<ArrowField> {
        let metadata: HashMap<String, String> = self
            .metadata
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect();
        Ok(ArrowField::new(&self.name, self.data_type.to_arrow()?, self.nullable).with_metadata(metadata))
    }

    /// Convert from an Arrow field.
    pub fn try_from_arrow(field: &ArrowField) -> DeltaResult<Self> {
        let metadata = field
            .metadata()
            .iter()
            .filter(|(k, _)| k.as_str() != PARQUET_FIELD_ID)
            .map(|(k, v)| {
                let parsed = if k.starts_with(DELTA_PREFIX) {
                    serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone()))
                } else {
                    Value::String(v.clone())
                };
                (k.clone(), parsed)
            })
            .collect();
        Ok(Self {
            name: field.name().clone(),
            data_type: DataType::try_from_arrow(field.data_type())?,
            nullable: field.is_nullable(),
            metadata,
        })
    }
}

/// The Arrow type of the Delta `variant` type.
pub fn variant_arrow_type() -> ArrowType {
    ArrowType::Struct(Fields::from(vec![
        ArrowField::new("metadata", ArrowType::Binary, false),
        ArrowField::new("value", ArrowType::Binary, false),
    ]))
}

impl DataType {
    /// Shorthand for a primitive type.
    pub const fn primitive(p: PrimitiveType) -> Self {
        Self::Primitive(p)
    }

    /// Convert to the Arrow type used for this Delta type.
    pub fn to_arrow(&self) -> DeltaResult<ArrowType> {
        use PrimitiveType as P;
        Ok(match self {
            Self::Primitive(p) => match p {
                P::String => ArrowType::Utf8,
                P::Long => ArrowType::Int64,
                P::Integer => ArrowType::Int32,
                P::Short => ArrowType::Int16,
                P::Byte => ArrowType::Int8,
                P::Float => ArrowType::Float32,
                P::Double => ArrowType::Float64,
                P::Boolean => ArrowType::Boolean,
                P::Binary => ArrowType::Binary,
                P::Date => ArrowType::Date32,
                P::Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                P::TimestampNtz => ArrowType::Timestamp(TimeUnit::Microsecond, None),
                P::Decimal(p, s) => ArrowType::Decimal128(*p, *s),
                P::Variant => variant_arrow_type(),
            },
            Self::Struct(st) => ArrowType::Struct(st.arrow_fields()?),
            Self::Array(a) => ArrowType::List(Arc::new(ArrowField::new(
                "element",
                a.element_type.to_arrow()?,
                a.contains_null,
            ))),
            Self::Map(m) => ArrowType::Map(
                Arc::new(ArrowField::new(
                    "key_value",
                    ArrowType::Struct(Fields::from(vec![
                        ArrowField::new("key", m.key_type.to_arrow()?, false),
                        ArrowField::new("value", m.value_type.to_arrow()?, m.value_contains_null),
                    ])),
                    false,
                )),
                false,
            ),
        })
    }

    /// Convert from an Arrow type (the inverse of [`DataType::to_arrow`], plus the close relatives
    /// Arrow writers produce: large / view strings and binaries, other timestamp units, large lists;
    /// unsigned integers as the signed type of their width, as the `deltalake` PyPI package maps
    /// them, values that do not fit being refused when written).
    pub fn try_from_arrow(t: &ArrowType) -> DeltaResult<Self> {
        use PrimitiveType as P;
        Ok(Self::Primitive(match t {
            ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => P::String,
            ArrowType::Int64 | ArrowType::UInt64 => P::Long,
            ArrowType::Int32 | ArrowType::UInt32 => P::Integer,
            ArrowType::Int16 | ArrowType::UInt16 => P::Short,
            ArrowType::Int8 | ArrowType::UInt8 => P::Byte,
            ArrowType::Float32 => P::Float,
            ArrowType::Float64 => P::Double,
            ArrowType::Boolean => P::Boolean,
            ArrowType::Binary | ArrowType::LargeBinary | ArrowType::BinaryView | ArrowType::FixedSizeBinary(_) => {
                P::Binary
            }
            ArrowType::Date32 | ArrowType::Date64 => P::Date,
            ArrowType::Timestamp(_, Some(_)) => P::Timestamp,
            ArrowType::Timestamp(_, None) => P::TimestampNtz,
            ArrowType::Decimal128(p, s) => P::Decimal(*p, *s),
            ArrowType::Struct(fields) => {
                if is_variant_struct(fields) {
                    P::Variant
                } else {
                    return Ok(Self::Struct(Box::new(StructType::from_arrow_fields(fields)?)));
                }
            }
            ArrowType::List(f) | ArrowType::LargeList(f) | ArrowType::ListView(f) | ArrowType::FixedSizeList(f, _) => {
                return Ok(Self::Array(Box::new(ArrayType {
                    element_type: Self::try_from_arrow(f.data_type())?,
                    contains_null: f.is_nullable(),
                })));
            }
            ArrowType::Map(entries, _) => match entries.data_type() {
                ArrowType::Struct(kv) if kv.len() == 2 => {
                    return Ok(Self::Map(Box::new(MapType {
                        key_type: Self::try_from_arrow(kv[0].data_type())?,
                        value_type: Self::try_from_arrow(kv[1].data_type())?,
                        value_contains_null: kv[1].is_nullable(),
                    })));
                }
                other => {
                    return Err(DeltaError::schema(format!("invalid Arrow map entries type {other}")));
                }
            },
            ArrowType::Dictionary(_, value) => return Self::try_from_arrow(value),
            other => {
                return Err(DeltaError::schema(format!(
                    "Arrow type {other} has no Delta equivalent"
                )));
            }
        }))
    }
}

fn is_variant_struct(fields: &Fields) -> bool {
    fields.len() == 2
        && fields
            .iter()
            .any(|f| f.name() == "metadata" && f.data_type() == &ArrowType::Binary)
        && fields
            .iter()
            .any(|f| f.name() == "value" && f.data_type() == &ArrowType::Binary)
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Primitive(p) => write!(f, "{p}"),
            Self::Struct(st) => {
                f.write_str("struct<")?;
                for (i, field) in st.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", field.name, field.data_type)?;
                }
                f.write_str(">")
            }
            Self::Array(a) => write!(f, "array<{}>", a.element_type),
            Self::Map(m) => write!(f, "map<{}, {}>", m.key_type, m.value_type),
        }
    }
}

/// The JSON shape of a type: a string for primitives, an object for the others.
#[derive(Serialize)]
#[serde(untagged)]
enum TypeJson {
    Primitive(String),
    Complex(ComplexJson),
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum ComplexJson {
    Struct {
        fields: Vec<StructField>,
    },
    #[serde(rename_all = "camelCase")]
    Array {
        element_type: DataType,
        contains_null: bool,
    },
    #[serde(rename_all = "camelCase")]
    Map {
        key_type: DataType,
        value_type: DataType,
        value_contains_null: bool,
    },
}

impl Serialize for DataType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let json = match self {
            Self::Primitive(p) => TypeJson::Primitive(p.to_string()),
            Self::Struct(st) => TypeJson::Complex(ComplexJson::Struct {
                fields: st.fields.clone(),
            }),
            Self::Array(a) => TypeJson::Complex(ComplexJson::Array {
                element_type: a.element_type.clone(),
                contains_null: a.contains_null,
            }),
            Self::Map(m) => TypeJson::Complex(ComplexJson::Map {
                key_type: m.key_type.clone(),
                value_type: m.value_type.clone(),
                value_contains_null: m.value_contains_null,
            }),
        };
        json.serialize(s)
    }
}

impl<'de> Deserialize<'de> for DataType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let complex = match Value::deserialize(d)? {
            Value::String(s) => {
                return PrimitiveType::parse(&s)
                    .map(Self::Primitive)
                    .ok_or_else(|| D::Error::custom(format!("unknown Delta type '{s}'")));
            }
            other => ComplexJson::deserialize(other).map_err(D::Error::custom)?,
        };
        Ok(match complex {
            ComplexJson::Struct { fields } => Self::Struct(Box::new(StructType { fields })),
            ComplexJson::Array {
                element_type,
                contains_null,
            } => Self::Array(Box::new(ArrayType {
                element_type,
                contains_null,
            })),
            ComplexJson::Map {
                key_type,
                value_type,
                value_contains_null,
            } => Self::Map(Box::new(MapType {
                key_type,
                value_type,
                value_contains_null,
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_primitive_and_nested_type() {
        let json = r#"{"type":"struct","fields":[
            {"name":"a","type":"decimal(10,2)","nullable":true,"metadata":{}},
            {"name":"b","type":{"type":"array","elementType":"timestamp_ntz","containsNull":false},"nullable":false,"metadata":{}},
            {"name":"c","type":{"type":"map","keyType":"string","valueType":{"type":"struct","fields":[{"name":"d","type":"variant","nullable":true,"metadata":{"delta.columnMapping.id":3}}]},"valueContainsNull":true},"nullable":true,"metadata":{}}
        ]}"#;
        let schema = StructType::from_json(json).unwrap();
        assert_eq!(
            schema.fields[0].data_type,
            DataType::Primitive(PrimitiveType::Decimal(10, 2))
        );
        assert_eq!(
            schema.to_string_types(),
            "decimal(10,2) | array<timestamp_ntz> | map<string, struct<d: variant>>"
        );
        let back = StructType::from_json(&schema.to_json()).unwrap();
        assert_eq!(back, schema);
        let arrow = schema.to_arrow().unwrap();
        assert_eq!(StructType::try_from_arrow(&arrow).unwrap(), schema);
    }

    #[test]
    fn rejects_unknown_types() {
        let err = StructType::from_json(
            r#"{"type":"struct","fields":[{"name":"a","type":"uint128","nullable":true,"metadata":{}}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("uint128"), "{err}");
        assert!(StructType::from_json(r#"{"type":"struct","fields":[{"name":"a","type":"decimal(50,2)"}]}"#).is_err());
    }

    impl StructType {
        fn to_string_types(&self) -> String {
            self.fields
                .iter()
                .map(|f| f.data_type.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        }
    }
}

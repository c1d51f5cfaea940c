//! The schema classes of `deltalake.schema` (`PrimitiveType`, `VariantType`, `ArrayType`,
//! `MapType`, `StructType`, `Field`, `Schema`): Python faces of the core's schema types, with
//! their Delta JSON and Arrow forms.

use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Field as ArrowField, Fields, Schema as ArrowSchemaType};
use arrow::ffi::FFI_ArrowSchema;
use deltalake::bindings::invariants;
use deltalake::protocol::{ArrayType as CoreArray, DataType, MapType as CoreMap, PrimitiveType as CorePrimitive};
use deltalake::protocol::{StructField, StructType as CoreStruct};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyString};

use crate::arrow_interop::{ArrowSchema, field_from_py, schema_from_py};
use crate::error::to_py;

const SCHEMA_CAPSULE: &std::ffi::CStr = c"arrow_schema";

fn capsule<'py, T>(py: Python<'py>, arrow: &T) -> PyResult<Bound<'py, PyCapsule>>
where
    for<'a> FFI_ArrowSchema: TryFrom<&'a T, Error = arrow::error::ArrowError>,
{
    let ffi = FFI_ArrowSchema::try_from(arrow).map_err(|e| PyValueError::new_err(e.to_string()))?;
    PyCapsule::new_with_value(py, ffi, SCHEMA_CAPSULE)
}

/// `obj` turned into the Arrow library's object by `deltalake._arrow.<helper>` (pyarrow when
/// installed, else `obj` itself, which exports `__arrow_c_schema__`).
fn arrow_object<'py>(obj: Bound<'py, PyAny>, helper: &str) -> PyResult<Bound<'py, PyAny>> {
    obj.py().import("deltalake._arrow")?.getattr(helper)?.call1((obj,))
}

fn json_error(e: serde_json::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn parse_type(json: &str) -> PyResult<DataType> {
    serde_json::from_str(json).map_err(json_error)
}

/// A primitive type by name (`"long"`, `"decimal(10,2)"`); `variant` has a class of its own.
fn parse_primitive(name: &str) -> PyResult<CorePrimitive> {
    match serde_json::from_value::<DataType>(serde_json::Value::String(name.to_string())) {
        Ok(DataType::Primitive(p)) if p != CorePrimitive::Variant => Ok(p),
        _ => Err(PyValueError::new_err(format!("invalid type string: {name}"))),
    }
}

/// The Python object of a Delta type.
pub fn type_to_py(py: Python<'_>, data_type: &DataType) -> PyResult<Py<PyAny>> {
    match data_type {
        DataType::Primitive(CorePrimitive::Variant) => VariantType.into_py_any(py),
        DataType::Primitive(p) => PrimitiveType { inner: *p }.into_py_any(py),
        DataType::Array(a) => ArrayType { inner: (**a).clone() }.into_py_any(py),
        DataType::Map(m) => MapType { inner: (**m).clone() }.into_py_any(py),
        DataType::Struct(s) => StructType { inner: (**s).clone() }.into_py_any(py),
    }
}

/// The Delta type of a type object or a primitive type's name.
pub fn type_from_py(obj: &Bound<'_, PyAny>) -> PyResult<DataType> {
    if let Ok(name) = obj.cast::<PyString>() {
        return Ok(DataType::Primitive(parse_primitive(name.to_str()?)?));
    }
    if let Ok(p) = obj.cast::<PrimitiveType>() {
        return Ok(DataType::Primitive(p.get().inner));
    }
    if obj.cast::<VariantType>().is_ok() {
        return Ok(DataType::Primitive(CorePrimitive::Variant));
    }
    if let Ok(a) = obj.cast::<ArrayType>() {
        return Ok(DataType::Array(Box::new(a.get().inner.clone())));
    }
    if let Ok(m) = obj.cast::<MapType>() {
        return Ok(DataType::Map(Box::new(m.get().inner.clone())));
    }
    if let Ok(s) = obj.cast::<StructType>() {
        return Ok(DataType::Struct(Box::new(s.get().inner.clone())));
    }
    Err(PyValueError::new_err("Invalid data type"))
}

fn type_repr(py: Python<'_>, data_type: &DataType) -> PyResult<String> {
    type_to_py(py, data_type)?.bind(py).repr()?.extract()
}

/// The Arrow type of `obj`, an object with `__arrow_c_schema__` describing a type or field.
fn arrow_type_of(obj: &Bound<'_, PyAny>) -> PyResult<ArrowType> {
    Ok(field_from_py(obj)?.data_type().clone())
}

fn delta_type_of_arrow(arrow: &ArrowType) -> PyResult<DataType> {
    DataType::try_from_arrow(arrow).map_err(to_py)
}

fn to_json_string(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(json_error)
}

/// A primitive type: `string`, `long`, `integer`, `short`, `byte`, `float`, `double`, `boolean`,
/// `binary`, `date`, `timestamp`, `timestamp_ntz` or `decimal(<precision>,<scale>)`.
#[pyclass(module = "deltalake._internal", frozen, eq)]
#[derive(PartialEq)]
pub struct PrimitiveType {
    inner: CorePrimitive,
}

#[pymethods]
impl PrimitiveType {
    #[new]
    fn new(data_type: &str) -> PyResult<Self> {
        Ok(Self {
            inner: parse_primitive(data_type)?,
        })
    }

    /// The type's name.
    #[getter(r#type)]
    fn type_name(&self) -> String {
        self.inner.to_string()
    }

    /// The type as Delta JSON (a quoted name).
    fn to_json(&self) -> PyResult<String> {
        to_json_string(&DataType::Primitive(self.inner))
    }

    /// The primitive type of its Delta JSON.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        match serde_json::from_str::<serde_json::Value>(json).map_err(json_error)? {
            serde_json::Value::String(name) => parse_primitive(&name)
                .map(|inner| Self { inner })
                .map_err(|_| PyValueError::new_err(format!("Unsupported Delta table type: '{name}'"))),
            _ => Err(PyTypeError::new_err("Type is not primitive")),
        }
    }

    /// The Arrow type, an `arro3.core.DataType`.
    fn to_arrow<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        arrow_object(slf.into_any(), "arrow_type")
    }

    /// The primitive type of an Arrow type (an object with `__arrow_c_schema__`).
    #[staticmethod]
    fn from_arrow(r#type: &Bound<'_, PyAny>) -> PyResult<Self> {
        match delta_type_of_arrow(&arrow_type_of(r#type)?)? {
            DataType::Primitive(p) if p != CorePrimitive::Variant => Ok(Self { inner: p }),
            _ => Err(PyTypeError::new_err("Type is not primitive")),
        }
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        capsule(py, &DataType::Primitive(self.inner).to_arrow().map_err(to_py)?)
    }

    fn __repr__(&self) -> String {
        format!("PrimitiveType(\"{}\")", self.inner)
    }
}

/// The semi-structured `variant` type.
#[pyclass(module = "deltalake._internal", frozen, eq)]
#[derive(PartialEq)]
pub struct VariantType;

#[pymethods]
impl VariantType {
    #[new]
    fn new() -> Self {
        Self
    }

    /// Always `"variant"`.
    #[getter(r#type)]
    fn type_name(&self) -> &'static str {
        "variant"
    }

    /// The type as Delta JSON.
    fn to_json(&self) -> PyResult<String> {
        to_json_string(&DataType::Primitive(CorePrimitive::Variant))
    }

    /// The variant type of its Delta JSON.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        match parse_type(json)? {
            DataType::Primitive(CorePrimitive::Variant) => Ok(Self),
            _ => Err(PyTypeError::new_err("Type is not variant")),
        }
    }

    /// The Arrow type: a struct of binary `metadata` and `value`.
    fn to_arrow<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        arrow_object(slf.into_any(), "arrow_type")
    }

    /// The variant type of its Arrow type.
    #[staticmethod]
    fn from_arrow(r#type: &Bound<'_, PyAny>) -> PyResult<Self> {
        let arrow = arrow_type_of(r#type)?;
        if arrow == DataType::Primitive(CorePrimitive::Variant).to_arrow().map_err(to_py)? {
            Ok(Self)
        } else {
            Err(PyTypeError::new_err("Type is not variant"))
        }
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        capsule(
            py,
            &DataType::Primitive(CorePrimitive::Variant).to_arrow().map_err(to_py)?,
        )
    }

    fn __repr__(&self) -> &'static str {
        "VariantType()"
    }
}

/// A list of elements of one type.
#[pyclass(module = "deltalake._internal", frozen, eq)]
#[derive(PartialEq)]
pub struct ArrayType {
    inner: CoreArray,
}

impl ArrayType {
    fn data_type(&self) -> DataType {
        DataType::Array(Box::new(self.inner.clone()))
    }
}

#[pymethods]
impl ArrayType {
    #[new]
    #[pyo3(signature = (element_type, contains_null = true))]
    fn new(element_type: &Bound<'_, PyAny>, contains_null: bool) -> PyResult<Self> {
        Ok(Self {
            inner: CoreArray {
                element_type: type_from_py(element_type)?,
                contains_null,
            },
        })
    }

    /// Always `"array"`.
    #[getter(r#type)]
    fn type_name(&self) -> &'static str {
        "array"
    }

    /// The type of the elements.
    #[getter]
    fn element_type(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        type_to_py(py, &self.inner.element_type)
    }

    /// Whether elements may be null.
    #[getter]
    fn contains_null(&self) -> bool {
        self.inner.contains_null
    }

    /// The type as Delta JSON.
    fn to_json(&self) -> PyResult<String> {
        to_json_string(&self.data_type())
    }

    /// The array type of its Delta JSON.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        match parse_type(json)? {
            DataType::Array(inner) => Ok(Self { inner: *inner }),
            _ => Err(PyTypeError::new_err("Type is not an array")),
        }
    }

    /// The Arrow type, an `arro3.core.DataType`.
    fn to_arrow<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        arrow_object(slf.into_any(), "arrow_type")
    }

    /// The array type of an Arrow list type.
    #[staticmethod]
    fn from_arrow(r#type: &Bound<'_, PyAny>) -> PyResult<Self> {
        match delta_type_of_arrow(&arrow_type_of(r#type)?)? {
            DataType::Array(inner) => Ok(Self { inner: *inner }),
            _ => Err(PyTypeError::new_err("Type is not an array")),
        }
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        capsule(py, &self.data_type().to_arrow().map_err(to_py)?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ArrayType({}, contains_null={})",
            type_repr(py, &self.inner.element_type)?,
            py_bool(self.inner.contains_null)
        ))
    }
}

/// A map from keys of one type to values of another.
#[pyclass(module = "deltalake._internal", frozen, eq)]
#[derive(PartialEq)]
pub struct MapType {
    inner: CoreMap,
}

impl MapType {
    fn data_type(&self) -> DataType {
        DataType::Map(Box::new(self.inner.clone()))
    }
}

#[pymethods]
impl MapType {
    #[new]
    #[pyo3(signature = (key_type, value_type, value_contains_null = true))]
    fn new(key_type: &Bound<'_, PyAny>, value_type: &Bound<'_, PyAny>, value_contains_null: bool) -> PyResult<Self> {
        Ok(Self {
            inner: CoreMap {
                key_type: type_from_py(key_type)?,
                value_type: type_from_py(value_type)?,
                value_contains_null,
            },
        })
    }

    /// Always `"map"`.
    #[getter(r#type)]
    fn type_name(&self) -> &'static str {
        "map"
    }

    /// The type of the keys.
    #[getter]
    fn key_type(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        type_to_py(py, &self.inner.key_type)
    }

    /// The type of the values.
    #[getter]
    fn value_type(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        type_to_py(py, &self.inner.value_type)
    }

    /// Whether values may be null.
    #[getter]
    fn value_contains_null(&self) -> bool {
        self.inner.value_contains_null
    }

    /// The type as Delta JSON.
    fn to_json(&self) -> PyResult<String> {
        to_json_string(&self.data_type())
    }

    /// The map type of its Delta JSON.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        match parse_type(json)? {
            DataType::Map(inner) => Ok(Self { inner: *inner }),
            _ => Err(PyTypeError::new_err("Type is not a map")),
        }
    }

    /// The Arrow type, an `arro3.core.DataType`.
    fn to_arrow<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        arrow_object(slf.into_any(), "arrow_type")
    }

    /// The map type of an Arrow map type.
    #[staticmethod]
    fn from_arrow(r#type: &Bound<'_, PyAny>) -> PyResult<Self> {
        match delta_type_of_arrow(&arrow_type_of(r#type)?)? {
            DataType::Map(inner) => Ok(Self { inner: *inner }),
            _ => Err(PyTypeError::new_err("Type is not a map")),
        }
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        capsule(py, &self.data_type().to_arrow().map_err(to_py)?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "MapType({}, {}, value_contains_null={})",
            type_repr(py, &self.inner.key_type)?,
            type_repr(py, &self.inner.value_type)?,
            py_bool(self.inner.value_contains_null)
        ))
    }
}

/// A named column or struct member with its type, nullability and metadata.
#[pyclass(module = "deltalake._internal", frozen, eq)]
#[derive(PartialEq)]
pub struct Field {
    inner: StructField,
}

#[pymethods]
impl Field {
    #[new]
    #[pyo3(signature = (name, r#type, nullable = true, metadata = None))]
    fn new(
        py: Python<'_>,
        name: String,
        r#type: &Bound<'_, PyAny>,
        nullable: bool,
        metadata: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut inner = StructField::new(name, type_from_py(r#type)?, nullable);
        if let Some(metadata) = metadata {
            let json: String = py.import("json")?.call_method1("dumps", (metadata,))?.extract()?;
            inner.metadata = serde_json::from_str(&json)
                .map_err(|_| PyTypeError::new_err("metadata must be a dict of string keys to JSON values"))?;
        }
        Ok(Self { inner })
    }

    /// The field's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// The field's type.
    #[getter(r#type)]
    fn data_type(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        type_to_py(py, &self.inner.data_type)
    }

    /// Whether the field may be null.
    #[getter]
    fn nullable(&self) -> bool {
        self.inner.nullable
    }

    /// The field's metadata, a dict of JSON values.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json = to_json_string(&self.inner.metadata)?;
        py.import("json")?.call_method1("loads", (json,))
    }

    /// The field as Delta JSON.
    fn to_json(&self) -> PyResult<String> {
        to_json_string(&self.inner)
    }

    /// The field of its Delta JSON.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        Ok(Self {
            inner: serde_json::from_str(json).map_err(json_error)?,
        })
    }

    /// The Arrow field, an `arro3.core.Field`.
    fn to_arrow<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        arrow_object(slf.into_any(), "arrow_field")
    }

    /// The field of an Arrow field (an object with `__arrow_c_schema__`).
    #[staticmethod]
    fn from_arrow(field: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            inner: StructField::try_from_arrow(&field_from_py(field)?).map_err(to_py)?,
        })
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        capsule(py, &self.inner.to_arrow().map_err(to_py)?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut repr = format!(
            "Field({}, {}, nullable={}",
            self.inner.name,
            type_repr(py, &self.inner.data_type)?,
            py_bool(self.inner.nullable)
        );
        if !self.inner.metadata.is_empty() {
            let metadata = self.metadata(py)?.repr()?;
            repr.push_str(&format!(", metadata={metadata}"));
        }
        repr.push(')');
        Ok(repr)
    }
}

fn fields_from_py(fields: Vec<Bound<'_, Field>>) -> CoreStruct {
    CoreStruct::new(fields.iter().map(|f| f.get().inner.clone()).collect())
}

fn fields_to_py(py: Python<'_>, schema: &CoreStruct) -> PyResult<Vec<Py<Field>>> {
    schema
        .fields
        .iter()
        .map(|f| Py::new(py, Field { inner: f.clone() }))
        .collect()
}

fn fields_repr(py: Python<'_>, schema: &CoreStruct) -> PyResult<String> {
    let parts = schema
        .fields
        .iter()
        .map(|f| Field { inner: f.clone() }.__repr__(py))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(parts.join(", "))
}

/// A struct of named fields. `Schema` (a table's schema) is one too.
#[pyclass(module = "deltalake._internal", frozen, subclass)]
pub struct StructType {
    inner: CoreStruct,
}

/// The Delta schema of a `Schema`/`StructType` (taken as it is, field metadata included) or of
/// any object with `__arrow_c_schema__`.
pub fn delta_schema_from_py(obj: &Bound<'_, PyAny>) -> PyResult<CoreStruct> {
    if let Ok(schema) = obj.cast::<StructType>() {
        return Ok(schema.get().inner.clone());
    }
    CoreStruct::try_from_arrow(&schema_from_py(obj)?).map_err(to_py)
}

impl StructType {
    fn data_type(&self) -> DataType {
        DataType::Struct(Box::new(self.inner.clone()))
    }
}

#[pymethods]
impl StructType {
    #[new]
    fn new(fields: Vec<Bound<'_, Field>>) -> Self {
        Self {
            inner: fields_from_py(fields),
        }
    }

    /// Always `"struct"`.
    #[getter(r#type)]
    fn type_name(&self) -> &'static str {
        "struct"
    }

    /// The fields, in order.
    #[getter]
    fn fields(&self, py: Python<'_>) -> PyResult<Vec<Py<Field>>> {
        fields_to_py(py, &self.inner)
    }

    /// The type as Delta JSON.
    fn to_json(&self) -> PyResult<String> {
        to_json_string(&self.data_type())
    }

    /// The struct type of its Delta JSON.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        match parse_type(json)? {
            DataType::Struct(inner) => Ok(Self { inner: *inner }),
            _ => Err(PyTypeError::new_err("Type is not a struct")),
        }
    }

    /// The Arrow struct type, an `arro3.core.DataType`.
    fn to_arrow<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        arrow_object(slf.into_any(), "arrow_type")
    }

    /// The struct type of an Arrow struct type (or schema).
    #[staticmethod]
    fn from_arrow(r#type: &Bound<'_, PyAny>) -> PyResult<Self> {
        match delta_type_of_arrow(&arrow_type_of(r#type)?)? {
            DataType::Struct(inner) => Ok(Self { inner: *inner }),
            _ => Err(PyTypeError::new_err("Type is not a struct")),
        }
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        capsule(py, &self.data_type().to_arrow().map_err(to_py)?)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<StructType>().is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("StructType([{}])", fields_repr(py, &self.inner)?))
    }
}

/// The schema of a table: its top-level fields.
#[pyclass(module = "deltalake._internal", frozen, extends = StructType)]
pub struct Schema;

impl Schema {
    /// A `Schema` object of a core schema.
    pub fn create(py: Python<'_>, schema: CoreStruct) -> PyResult<Py<Schema>> {
        Py::new(
            py,
            PyClassInitializer::from(StructType { inner: schema }).add_subclass(Schema),
        )
    }
}

fn large_type(t: &ArrowType) -> ArrowType {
    let large_field = |f: &ArrowField| f.clone().with_data_type(large_type(f.data_type()));
    match t {
        ArrowType::Utf8 => ArrowType::LargeUtf8,
        ArrowType::Binary => ArrowType::LargeBinary,
        ArrowType::List(f) => ArrowType::LargeList(Arc::new(large_field(f))),
        ArrowType::Struct(fields) => ArrowType::Struct(fields.iter().map(|f| large_field(f)).collect::<Fields>()),
        ArrowType::Map(f, sorted) => ArrowType::Map(Arc::new(large_field(f)), *sorted),
        other => other.clone(),
    }
}

#[pymethods]
impl Schema {
    #[new]
    fn new(fields: Vec<Bound<'_, Field>>) -> PyClassInitializer<Self> {
        PyClassInitializer::from(StructType::new(fields)).add_subclass(Schema)
    }

    /// The schema as Delta JSON.
    fn to_json(slf: PyRef<'_, Self>) -> String {
        slf.as_super().inner.to_json()
    }

    /// The schema of its Delta JSON.
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &str) -> PyResult<Py<Schema>> {
        let parsed: CoreStruct = match parse_type(json)? {
            DataType::Struct(inner) => *inner,
            _ => return Err(PyTypeError::new_err("Type is not a struct")),
        };
        Self::create(py, parsed)
    }

    /// The Arrow schema, an `arro3.core.Schema`; with `as_large_types`,
    /// strings, binaries and lists are their large variants.
    #[pyo3(signature = (as_large_types = false))]
    fn to_arrow<'py>(slf: PyRef<'py, Self>, as_large_types: bool) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let mut arrow = slf.as_super().inner.to_arrow().map_err(to_py)?;
        if as_large_types {
            let fields: Fields = arrow
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_data_type(large_type(f.data_type())))
                .collect();
            arrow = ArrowSchemaType::new_with_metadata(fields, arrow.metadata().clone());
        }
        arrow_object(
            Bound::new(py, ArrowSchema::new(Arc::new(arrow)))?.into_any(),
            "arrow_schema",
        )
    }

    /// The schema of an Arrow schema (an object with `__arrow_c_schema__`).
    #[staticmethod]
    fn from_arrow(py: Python<'_>, r#type: &Bound<'_, PyAny>) -> PyResult<Py<Schema>> {
        let arrow = schema_from_py(r#type)?;
        Self::create(py, CoreStruct::try_from_arrow(&arrow).map_err(to_py)?)
    }

    /// The schema as a dict of Delta JSON (deprecated, as in the reference package).
    fn json<'py>(slf: PyRef<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let warning = py.get_type::<pyo3::exceptions::PyDeprecationWarning>();
        PyErr::warn(
            py,
            &warning,
            c"Schema.json() is deprecated. Use json.loads(Schema.to_json()) instead.",
            1,
        )?;
        py.import("json")?
            .call_method1("loads", (slf.as_super().inner.to_json(),))
    }

    /// The column invariants: `(column path, SQL expression)` pairs.
    #[getter]
    fn invariants(slf: PyRef<'_, Self>) -> PyResult<Vec<(String, String)>> {
        invariants(&slf.as_super().inner).map_err(to_py)
    }

    fn __arrow_c_schema__<'py>(slf: PyRef<'py, Self>) -> PyResult<Bound<'py, PyCapsule>> {
        let arrow = slf.as_super().inner.to_arrow().map_err(to_py)?;
        capsule(slf.py(), &arrow)
    }

    fn __repr__(slf: PyRef<'_, Self>) -> PyResult<String> {
        Ok(format!("Schema([{}])", fields_repr(slf.py(), &slf.as_super().inner)?))
    }
}

fn py_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// Add the schema classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PrimitiveType>()?;
    m.add_class::<VariantType>()?;
    m.add_class::<ArrayType>()?;
    m.add_class::<MapType>()?;
    m.add_class::<Field>()?;
    m.add_class::<StructType>()?;
    m.add_class::<Schema>()?;
    Ok(())
}

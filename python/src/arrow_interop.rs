//! The Arrow PyCapsule interface: record batch streams and schemas handed to Python
//! (`__arrow_c_stream__`, `__arrow_c_schema__`) and taken from any object that exports them.

use std::ffi::CStr;
use std::sync::{Mutex, PoisonError};

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use deltalake::DeltaError as CoreError;
use deltalake::bindings::{BlockingReader, import_ffi_stream};
use deltalake::scan::RecordBatchStream;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::error::to_py;

const STREAM_CAPSULE: &CStr = c"arrow_array_stream";
const SCHEMA_CAPSULE: &CStr = c"arrow_schema";

/// A stream of Arrow record batches that can be consumed once through `__arrow_c_stream__`
/// (`pyarrow.table(stream)`, `pyarrow.RecordBatchReader.from_stream(stream)`, polars, ...).
#[pyclass(module = "deltalake._internal", frozen)]
pub struct ArrowStream {
    schema: SchemaRef,
    reader: Mutex<Option<BlockingReader>>,
}

impl ArrowStream {
    /// A stream over batches already in memory.
    pub fn from_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> PyResult<Self> {
        Ok(Self::from_reader(
            BlockingReader::from_batches(schema, batches).map_err(to_py)?,
        ))
    }

    /// A stream reading `stream` batch by batch as the consumer asks for them.
    pub fn from_async(schema: SchemaRef, stream: RecordBatchStream) -> PyResult<Self> {
        Ok(Self::from_reader(BlockingReader::new(schema, stream).map_err(to_py)?))
    }

    fn from_reader(reader: BlockingReader) -> Self {
        Self {
            schema: reader.schema(),
            reader: Mutex::new(Some(reader)),
        }
    }

    fn take_reader(&self) -> PyResult<BlockingReader> {
        self.reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| PyValueError::new_err("this Arrow stream was already consumed"))
    }
}

#[pymethods]
impl ArrowStream {
    /// Export the stream as an `arrow_array_stream` PyCapsule (the requested schema is not applied).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        PyCapsule::new_with_value(py, self.take_reader()?.into_ffi(), STREAM_CAPSULE)
    }

    /// Read the rest of the stream into memory (with the GIL released): a new stream over the
    /// batches read, for callers without a Python Arrow library.
    fn read_all(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let reader = self.take_reader()?;
        let schema = reader.schema();
        let batches = py
            .detach(|| reader.collect::<Result<Vec<_>, _>>())
            .map_err(|e| to_py(CoreError::from(e)))?;
        Self::from_batches(schema, batches)
    }

    /// Export the schema of the stream as an `arrow_schema` PyCapsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.schema)
    }
}

/// An Arrow schema exported through `__arrow_c_schema__` (`pyarrow.schema(obj)`).
#[pyclass(module = "deltalake._internal", frozen)]
pub struct ArrowSchema {
    schema: SchemaRef,
}

impl ArrowSchema {
    /// Wrap a schema.
    pub fn new(schema: SchemaRef) -> Self {
        Self { schema }
    }
}

#[pymethods]
impl ArrowSchema {
    /// Export the schema as an `arrow_schema` PyCapsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.schema)
    }
}

fn schema_capsule<'py>(py: Python<'py>, schema: &Schema) -> PyResult<Bound<'py, PyCapsule>> {
    let ffi = FFI_ArrowSchema::try_from(schema).map_err(|e| PyValueError::new_err(e.to_string()))?;
    PyCapsule::new_with_value(py, ffi, SCHEMA_CAPSULE)
}

/// A reader of the batches of `data`, an object with `__arrow_c_stream__`.
pub fn reader_from_py(data: &Bound<'_, PyAny>) -> PyResult<RecordBatchStreamReader> {
    let capsule = capsule_of(data, "__arrow_c_stream__", "Arrow data")?;
    let pointer = capsule.pointer_checked(Some(STREAM_CAPSULE))?;
    // SAFETY: the capsule is named `arrow_array_stream`, so by the Arrow PyCapsule interface it
    // holds a valid `FFI_ArrowArrayStream`; the import moves it out and marks the original released.
    unsafe { import_ffi_stream(pointer.as_ptr().cast::<FFI_ArrowArrayStream>()) }.map_err(to_py)
}

/// The schema of `obj`, an object with `__arrow_c_schema__`.
pub fn schema_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Schema> {
    let capsule = capsule_of(obj, "__arrow_c_schema__", "an Arrow schema")?;
    let pointer = capsule.pointer_checked(Some(SCHEMA_CAPSULE))?;
    // SAFETY: the capsule is named `arrow_schema`, so it holds a valid `FFI_ArrowSchema` that
    // stays alive (owned by the capsule) while we borrow it here.
    let ffi = unsafe { &*pointer.as_ptr().cast::<FFI_ArrowSchema>() };
    Schema::try_from(ffi).map_err(|e| PyValueError::new_err(format!("invalid Arrow schema: {e}")))
}

/// The field (or bare type, as a field without a name) of `obj`, an object with
/// `__arrow_c_schema__`.
pub fn field_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Field> {
    let capsule = capsule_of(obj, "__arrow_c_schema__", "an Arrow type or field")?;
    let pointer = capsule.pointer_checked(Some(SCHEMA_CAPSULE))?;
    // SAFETY: as in `schema_from_py`, the capsule owns a valid `FFI_ArrowSchema`.
    let ffi = unsafe { &*pointer.as_ptr().cast::<FFI_ArrowSchema>() };
    Field::try_from(ffi).map_err(|e| PyValueError::new_err(format!("invalid Arrow type: {e}")))
}

fn capsule_of<'py>(obj: &Bound<'py, PyAny>, method: &str, what: &str) -> PyResult<Bound<'py, PyCapsule>> {
    if !obj.hasattr(method)? {
        return Err(PyTypeError::new_err(format!(
            "expected {what} (an object with {method}), got {}",
            obj.get_type().name()?
        )));
    }
    Ok(obj.call_method0(method)?.cast_into::<PyCapsule>()?)
}

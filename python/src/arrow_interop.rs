//! The Arrow PyCapsule interface: record batch streams and schemas handed to Python
//! (`__arrow_c_stream__`, `__arrow_c_schema__`) and taken from any object that exports them.

use std::ffi::CStr;
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::{Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use deltalake::scan::RecordBatchStream;
use futures::StreamExt;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use tokio::runtime::Runtime;

use crate::error::to_py;

const STREAM_CAPSULE: &CStr = c"arrow_array_stream";
const SCHEMA_CAPSULE: &CStr = c"arrow_schema";

type BoxedReader = Box<dyn RecordBatchReader + Send>;

/// A stream of Arrow record batches that can be consumed once through `__arrow_c_stream__`
/// (`pyarrow.table(stream)`, `pyarrow.RecordBatchReader.from_stream(stream)`, polars, ...).
#[pyclass(module = "deltalake._internal", frozen)]
pub struct ArrowStream {
    schema: SchemaRef,
    reader: Mutex<Option<BoxedReader>>,
}

impl ArrowStream {
    /// A stream over batches already in memory.
    pub fn from_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        let reader = arrow::array::RecordBatchIterator::new(batches.into_iter().map(Ok), schema.clone());
        Self::from_reader(Box::new(reader))
    }

    /// A stream reading `stream` batch by batch on `runtime` as the consumer asks for them.
    pub fn from_async(schema: SchemaRef, stream: RecordBatchStream, runtime: Arc<Runtime>) -> Self {
        Self::from_reader(Box::new(BlockingReader {
            schema,
            stream,
            runtime,
        }))
    }

    fn take_reader(&self) -> PyResult<BoxedReader> {
        self.reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| PyValueError::new_err("this Arrow stream was already consumed"))
    }

    fn from_reader(reader: BoxedReader) -> Self {
        Self {
            schema: reader.schema(),
            reader: Mutex::new(Some(reader)),
        }
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
        PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(self.take_reader()?), STREAM_CAPSULE)
    }

    /// Read the rest of the stream into memory (with the GIL released): a new stream over the
    /// batches read, for callers without a Python Arrow library.
    fn read_all(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let reader = self.take_reader()?;
        let schema = reader.schema();
        let batches = py
            .detach(|| reader.collect::<Result<Vec<_>, _>>())
            .map_err(|e| match e {
                ArrowError::ExternalError(inner) => match inner.downcast::<deltalake::DeltaError>() {
                    Ok(ours) => to_py(*ours),
                    Err(other) => PyValueError::new_err(other.to_string()),
                },
                other => PyValueError::new_err(other.to_string()),
            })?;
        Ok(Self::from_batches(schema, batches))
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

/// Drives an async batch stream from the synchronous C stream interface.
struct BlockingReader {
    schema: SchemaRef,
    stream: RecordBatchStream,
    runtime: Arc<Runtime>,
}

impl Iterator for BlockingReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Some(Err(ArrowError::ExternalError(
                "a deltalake stream cannot be read from inside an async runtime".into(),
            )));
        }
        let next = self.runtime.block_on(self.stream.next())?;
        Some(next.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for BlockingReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// A reader of the batches of `data`, an object with `__arrow_c_stream__`.
pub fn reader_from_py(data: &Bound<'_, PyAny>) -> PyResult<RecordBatchStreamReader> {
    if !data.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(format!(
            "expected Arrow data (an object with __arrow_c_stream__), got {}",
            data.get_type().name()?
        )));
    }
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(STREAM_CAPSULE))?;
    // SAFETY: the capsule is named `arrow_array_stream`, so by the Arrow PyCapsule interface it
    // holds a valid `FFI_ArrowArrayStream`; `from_raw` moves it out and marks the original released.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(pointer.as_ptr().cast()) };
    RecordBatchStreamReader::try_new(stream).map_err(|e| PyValueError::new_err(format!("invalid Arrow stream: {e}")))
}

/// The schema of `obj`, an object with `__arrow_c_schema__`.
pub fn schema_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Schema> {
    if !obj.hasattr("__arrow_c_schema__")? {
        return Err(PyTypeError::new_err(format!(
            "expected an Arrow schema (an object with __arrow_c_schema__), got {}",
            obj.get_type().name()?
        )));
    }
    let capsule = obj.call_method0("__arrow_c_schema__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(SCHEMA_CAPSULE))?;
    // SAFETY: the capsule is named `arrow_schema`, so it holds a valid `FFI_ArrowSchema` that
    // stays alive (owned by the capsule) while we borrow it here.
    let ffi = unsafe { &*pointer.as_ptr().cast::<FFI_ArrowSchema>() };
    Schema::try_from(ffi).map_err(|e| PyValueError::new_err(format!("invalid Arrow schema: {e}")))
}

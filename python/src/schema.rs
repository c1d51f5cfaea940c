//! Conversions between Delta schemas (JSON) and Arrow schemas (PyCapsules).

use std::sync::Arc;

use deltalake::protocol::StructType;
use pyo3::prelude::*;

use crate::arrow_interop::{ArrowSchema, schema_from_py};
use crate::error::to_py;

/// The Arrow schema of a Delta schema given as JSON.
#[pyfunction]
pub fn schema_to_arrow(schema_json: &str) -> PyResult<ArrowSchema> {
    let schema = StructType::from_json(schema_json).map_err(to_py)?;
    Ok(ArrowSchema::new(Arc::new(schema.to_arrow().map_err(to_py)?)))
}

/// The Delta schema (as JSON) of an object with `__arrow_c_schema__`.
#[pyfunction]
pub fn schema_from_arrow(schema: &Bound<'_, PyAny>) -> PyResult<String> {
    let arrow = schema_from_py(schema)?;
    Ok(StructType::try_from_arrow(&arrow).map_err(to_py)?.to_json())
}

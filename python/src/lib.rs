//! `deltalake._internal`: the Python extension module over the `deltalake` crate.
//!
//! The pure-Python package `deltalake` wraps these classes and functions; everything about the Delta
//! protocol happens in the core crate. Arrow data crosses the boundary through the Arrow PyCapsule
//! interface (C stream and C schema), so no Python Arrow library is required.

mod arrow_interop;
mod error;
mod filter;
mod query;
mod runtime;
mod schema;
mod table;
mod write;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    error::register(m)?;
    m.add_class::<arrow_interop::ArrowStream>()?;
    m.add_class::<arrow_interop::ArrowSchema>()?;
    m.add_class::<table::RawDeltaTable>()?;
    m.add_class::<query::PyQueryBuilder>()?;
    m.add_function(wrap_pyfunction!(schema::schema_to_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(schema::schema_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(write::write_to_deltalake, m)?)?;
    m.add_function(wrap_pyfunction!(write::create_deltalake, m)?)?;
    m.add_function(wrap_pyfunction!(write::convert_to_deltalake, m)?)?;
    Ok(())
}

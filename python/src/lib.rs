//! `deltalake._internal`: the Python extension module over the `deltalake` crate.
//!
//! The pure-Python package `deltalake` wraps these classes and functions; everything about the Delta
//! protocol happens in the core crate. Arrow data crosses the boundary through the Arrow PyCapsule
//! interface (C stream and C schema), so no Python Arrow library is required.

mod arrow_interop;
mod error;
mod filesystem;
mod filter;
mod query;
mod runtime;
mod schema;
mod table;
mod write;

use deltalake::bindings::{CORE_VERSION, DEFAULT_LOG_FILTER, init_logging};
use pyo3::prelude::*;

use crate::error::not_supported_error;

/// The version of the Rust core (`deltalake` crate) this module is built on.
#[pyfunction]
fn rust_core_version() -> &'static str {
    CORE_VERSION
}

/// Log the core's spans and events to standard error, filtered by `RUST_LOG` (default
/// `deltalake=info`); a second call does nothing. An OpenTelemetry `endpoint` is not supported.
#[pyfunction]
#[pyo3(signature = (endpoint = None))]
fn init_tracing(endpoint: Option<String>) -> PyResult<()> {
    if let Some(endpoint) = endpoint {
        return Err(not_supported_error(format!(
            "exporting traces to {endpoint} is not supported: this build has no OpenTelemetry exporter; \
             call init_tracing() without an endpoint to log the spans to standard error"
        )));
    }
    // Another subscriber (an earlier call, or the host's) keeps its place.
    init_logging(DEFAULT_LOG_FILTER);
    Ok(())
}

/// The extension module.
#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(rust_core_version, m)?)?;
    m.add_function(wrap_pyfunction!(init_tracing, m)?)?;
    error::register(m)?;
    m.add_class::<arrow_interop::ArrowStream>()?;
    m.add_class::<arrow_interop::ArrowSchema>()?;
    m.add_class::<table::RawDeltaTable>()?;
    m.add_class::<query::PyQueryBuilder>()?;
    schema::register(m)?;
    filesystem::register(m)?;
    m.add_function(wrap_pyfunction!(write::write_to_deltalake, m)?)?;
    m.add_function(wrap_pyfunction!(write::create_deltalake, m)?)?;
    m.add_function(wrap_pyfunction!(write::convert_to_deltalake, m)?)?;
    m.add_function(wrap_pyfunction!(write::create_table_with_add_actions, m)?)?;
    Ok(())
}

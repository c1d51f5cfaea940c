//! The Python exceptions and the mapping of the core's errors onto them.

use deltalake::DeltaError as CoreError;
use pyo3::exceptions::{PyException, PyFileNotFoundError};
use pyo3::prelude::*;

pyo3::create_exception!(
    _internal,
    DeltaError,
    PyException,
    "The base class of every error raised by deltalake."
);
pyo3::create_exception!(
    _internal,
    DeltaProtocolError,
    DeltaError,
    "The Delta log is invalid, or the table needs a feature this implementation does not support."
);
pyo3::create_exception!(
    _internal,
    TableNotFoundError,
    DeltaError,
    "No Delta table exists at the location."
);
pyo3::create_exception!(
    _internal,
    CommitFailedError,
    DeltaError,
    "A commit could not be made: a conflicting concurrent commit, retries exhausted, or an \
     application transaction that was already committed."
);
pyo3::create_exception!(
    _internal,
    SchemaMismatchError,
    DeltaError,
    "Data or a schema does not fit the table's schema."
);

/// Add the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DeltaError", py.get_type::<DeltaError>())?;
    m.add("DeltaProtocolError", py.get_type::<DeltaProtocolError>())?;
    m.add("TableNotFoundError", py.get_type::<TableNotFoundError>())?;
    m.add("CommitFailedError", py.get_type::<CommitFailedError>())?;
    m.add("SchemaMismatchError", py.get_type::<SchemaMismatchError>())?;
    Ok(())
}

/// The Python exception for an error of the core.
pub fn to_py(err: CoreError) -> PyErr {
    let message = err.to_string();
    match err {
        CoreError::NotATable { .. } => TableNotFoundError::new_err(message),
        CoreError::InvalidLog { .. } | CoreError::UnsupportedFeature { .. } => DeltaProtocolError::new_err(message),
        CoreError::Schema(_) => SchemaMismatchError::new_err(message),
        CoreError::VersionExists { .. }
        | CoreError::CommitConflict { .. }
        | CoreError::CommitFailed { .. }
        | CoreError::TransactionAlreadyCommitted { .. } => CommitFailedError::new_err(message),
        CoreError::ObjectStore(object_store::Error::NotFound { .. }) => PyFileNotFoundError::new_err(message),
        _ => DeltaError::new_err(message),
    }
}

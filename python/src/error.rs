//! The Python exceptions and the mapping of the core's error kinds onto them.

use deltalake::DeltaError as CoreError;
use deltalake::error::ErrorKind;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyNotImplementedError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

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
    "No Delta table (or no such version of it) exists at the location."
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

/// `DeltaInvalidArgumentError(DeltaError, ValueError)`, `NotSupportedError(DeltaError,
/// NotImplementedError)` and `DeltaFileNotFoundError(DeltaError, FileNotFoundError)`: both a
/// table error and the built-in a caller may catch instead.
static INVALID_ARGUMENT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static NOT_SUPPORTED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FILE_NOT_FOUND: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn dual_class<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
    builtin: Bound<'py, PyType>,
    doc: &str,
) -> PyResult<&'py Bound<'py, PyType>> {
    cell.get_or_try_init(py, || {
        let bases = PyTuple::new(py, [py.get_type::<DeltaError>(), builtin])?;
        let namespace = PyDict::new(py);
        namespace.set_item("__module__", "deltalake._internal")?;
        namespace.set_item("__doc__", doc)?;
        let class = py.get_type::<PyType>().call1((name, bases, namespace))?;
        Ok(class.cast_into::<PyType>()?.unbind())
    })
    .map(|class| class.bind(py))
}

fn invalid_argument(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    dual_class(
        py,
        &INVALID_ARGUMENT,
        "DeltaInvalidArgumentError",
        py.get_type::<PyValueError>(),
        "An invalid argument value: a bad predicate, option or version range.",
    )
}

fn not_supported(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    dual_class(
        py,
        &NOT_SUPPORTED,
        "NotSupportedError",
        py.get_type::<PyNotImplementedError>(),
        "An argument or operation that this implementation does not support yet.",
    )
}

fn file_not_found(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    dual_class(
        py,
        &FILE_NOT_FOUND,
        "DeltaFileNotFoundError",
        py.get_type::<PyFileNotFoundError>(),
        "A file the table needs (a data file or deletion vector listed in the log, or a file \
         asked for by path) is missing from storage.",
    )
}

/// Add the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DeltaError", py.get_type::<DeltaError>())?;
    m.add("DeltaProtocolError", py.get_type::<DeltaProtocolError>())?;
    m.add("TableNotFoundError", py.get_type::<TableNotFoundError>())?;
    m.add("CommitFailedError", py.get_type::<CommitFailedError>())?;
    m.add("SchemaMismatchError", py.get_type::<SchemaMismatchError>())?;
    m.add("DeltaInvalidArgumentError", invalid_argument(py)?)?;
    m.add("NotSupportedError", not_supported(py)?)?;
    m.add("DeltaFileNotFoundError", file_not_found(py)?)?;
    Ok(())
}

/// An exception of one of the dual classes with `message`.
fn from_class(class: for<'py> fn(Python<'py>) -> PyResult<&'py Bound<'py, PyType>>, message: String) -> PyErr {
    Python::attach(|py| match class(py) {
        Ok(class) => PyErr::from_type(class.clone(), message),
        Err(e) => e,
    })
}

/// A `DeltaInvalidArgumentError` (also a `ValueError`) with `message`.
pub fn invalid_argument_error(message: String) -> PyErr {
    from_class(invalid_argument, message)
}

/// A `NotSupportedError` with `message`, for what the binding itself does not support.
pub fn not_supported_error(message: String) -> PyErr {
    from_class(not_supported, message)
}

/// The Python exception for an error of the core, chosen by its kind.
pub fn to_py(err: CoreError) -> PyErr {
    let message = err.to_string();
    match err.kind() {
        ErrorKind::NotFound => TableNotFoundError::new_err(message),
        ErrorKind::Protocol => DeltaProtocolError::new_err(message),
        ErrorKind::SchemaMismatch => SchemaMismatchError::new_err(message),
        ErrorKind::CommitConflict => CommitFailedError::new_err(message),
        ErrorKind::FileNotFound => from_class(file_not_found, message),
        ErrorKind::InvalidArgument => invalid_argument_error(message),
        ErrorKind::NotSupported => not_supported_error(message),
        _ => DeltaError::new_err(message),
    }
}

//! Blocking on the core's futures with the GIL released, Ctrl-C honoured.

use std::future::Future;

use deltalake::DeltaError as CoreError;
use deltalake::bindings::block_on_interruptible;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

use crate::error::to_py;

/// Run `future` to completion with the GIL released. Python's signal handlers run meanwhile: when
/// one raises (Ctrl-C's `KeyboardInterrupt`), the future is dropped, so the work stops, and that
/// exception is returned. A commit is atomic, so an interrupted operation commits nothing or all.
pub fn run<F, T>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = Result<T, CoreError>> + Send,
    T: Send,
{
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        block_on_interruptible(future, || {
            Python::attach(|py| match py.check_signals() {
                Ok(()) => false,
                Err(err) => {
                    raised = Some(err);
                    true
                }
            })
        })
    });
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(to_py(err)),
        Err(CoreError::Cancelled) => Err(raised.unwrap_or_else(|| PyKeyboardInterrupt::new_err(()))),
        Err(err) => Err(to_py(err)),
    }
}

//! The Tokio runtime the bindings block on: one per process, created lazily, so that a child
//! made by `fork` (whose copy of the parent's runtime has no worker threads) gets its own.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of the current process.
pub fn runtime() -> PyResult<Arc<Runtime>> {
    let pid = std::process::id();
    let mut current = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, runtime)) = current.as_ref()
        && *owner == pid
    {
        return Ok(runtime.clone());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("deltalake")
        .build()
        .map(Arc::new)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the I/O runtime: {e}")))?;
    if let Some(inherited) = current.replace((pid, runtime.clone())) {
        // The parent's runtime after a fork: its threads are gone, so dropping it could wait forever.
        std::mem::forget(inherited);
    }
    Ok(runtime)
}

/// How often a blocked call looks for signals (Ctrl-C) that Python should handle.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Run `future` to completion with the GIL released. Signals are handled meanwhile: when a handler
/// raises (Ctrl-C's `KeyboardInterrupt`), the future is dropped, so the work stops, and the
/// exception is returned. A commit is atomic, so an interrupted operation commits nothing or all.
pub fn block_on<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let runtime = runtime()?;
    py.detach(|| {
        runtime.block_on(async {
            let mut future = std::pin::pin!(future);
            let mut ticks = tokio::time::interval(SIGNAL_CHECK);
            loop {
                tokio::select! {
                    output = &mut future => return Ok(output),
                    _ = ticks.tick() => Python::attach(|py| py.check_signals())?,
                }
            }
        })
    })
}

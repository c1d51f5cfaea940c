//! Blocking on the core's futures with the GVL released, so that other Ruby threads run, and
//! honouring Ruby's interrupts (Ctrl-C's `Interrupt`, `Thread#raise`, `Thread#kill`, `Timeout`).

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

use deltalake::DeltaError as CoreError;
use deltalake::bindings::block_on_interruptible;
use magnus::Error;

use crate::error::{internal, ruby, to_rb};

/// What the function run without the GVL reads and writes.
struct Call<F, R> {
    work: Option<F>,
    result: Option<std::thread::Result<R>>,
}

extern "C" fn call_work<F: FnOnce() -> R, R>(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is the `Call` that `without_gvl` passed, alive until the call returns.
    let call = unsafe { &mut *data.cast::<Call<F, R>>() };
    if let Some(work) = call.work.take() {
        call.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// Ruby's "unblocking function": called (with the GVL) when the thread is interrupted.
extern "C" fn raise_flag(data: *mut c_void) {
    // SAFETY: `data` is the flag that `without_gvl` passed, alive until the call returns.
    let flag = unsafe { &*data.cast::<AtomicBool>() };
    flag.store(true, Ordering::SeqCst);
}

/// Run `work` without the GVL. `interrupted` is set when Ruby wants the thread to stop; `work`
/// must poll it. Returns `None` when Ruby had an interrupt pending and `work` never ran.
///
/// `work` must not touch Ruby objects.
fn without_gvl<F: FnOnce() -> R, R>(work: F, interrupted: &AtomicBool) -> Result<Option<R>, Error> {
    let mut call = Call::<F, R> {
        work: Some(work),
        result: None,
    };
    // SAFETY: both pointers outlive the call. The `2` variant neither runs `work` when an
    // interrupt is already pending nor raises afterwards: raising would unwind through Rust frames.
    unsafe {
        rb_sys::rb_thread_call_without_gvl2(
            Some(call_work::<F, R>),
            (&raw mut call).cast(),
            Some(raise_flag),
            std::ptr::from_ref(interrupted).cast_mut().cast(),
        );
    }
    match call.result {
        None => Ok(None),
        Some(Ok(result)) => Ok(Some(result)),
        Some(Err(_)) => Err(internal("the deltalake extension panicked")),
    }
}

/// Run `future` to completion with the GVL released. When Ruby interrupts the thread, the future
/// is dropped (its work stops; a commit is atomic, so nothing or everything was committed) and
/// the interrupt's exception is raised.
pub fn run<F, T>(future: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, CoreError>>,
{
    blocking(|interrupted| block_on_interruptible(future, || interrupted.load(Ordering::SeqCst)).and_then(|r| r))
}

/// Run the blocking `work` (which polls the flag it is given) with the GVL released; see [`run`].
pub fn blocking<T>(work: impl FnOnce(&AtomicBool) -> Result<T, CoreError>) -> Result<T, Error> {
    let interrupted = AtomicBool::new(false);
    match without_gvl(|| work(&interrupted), &interrupted)? {
        Some(Ok(value)) => Ok(value),
        Some(Err(CoreError::Cancelled)) | None => Err(interruption()),
        Some(Err(err)) => Err(to_rb(err)),
    }
}

/// The exception of the pending interrupt (raised by Ruby's own check), else `Interrupt`.
fn interruption() -> Error {
    let ruby = ruby();
    match ruby.thread_check_ints() {
        Err(pending) => pending,
        Ok(()) => Error::new(ruby.exception_interrupt(), "interrupted"),
    }
}

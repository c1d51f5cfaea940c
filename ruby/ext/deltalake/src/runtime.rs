//! Blocking on the core's futures with the GVL released, so that other Ruby threads run, and
//! honouring Ruby's interrupts (Ctrl-C's `Interrupt`, `Thread#raise`, `Thread#kill`, `Timeout`).

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

use deltalake::DeltaError as CoreError;
use deltalake::bindings::{block_on_interruptible, on_large_stack};
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
/// must poll it. Gives `work` back (`Err`) when Ruby had an interrupt flag set and did not run it.
///
/// `work` must not touch Ruby objects.
fn without_gvl<F: FnOnce() -> R, R>(work: F, interrupted: &AtomicBool) -> Result<Result<R, F>, Error> {
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
    match (call.result, call.work) {
        (Some(Ok(result)), _) => Ok(Ok(result)),
        (Some(Err(_)), _) => Err(internal("the deltalake extension panicked")),
        (None, Some(work)) => Ok(Err(work)),
        (None, None) => Err(internal("the blocking call ended without a result")),
    }
}

/// Run the future `make` gives to completion with the GVL released. When Ruby interrupts the
/// thread, the future is dropped (its work stops; a commit is atomic, so nothing or everything
/// was committed) and the interrupt's exception is raised.
///
/// The future is made on the thread that polls it: the state of a write or merge can be larger
/// than a Ruby thread's whole stack in a debug build.
pub fn run<F, Fut, T>(make: F) -> Result<T, Error>
where
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = Result<T, CoreError>>,
    T: Send,
{
    blocking(|interrupted| block_on_interruptible(make(), || interrupted.load(Ordering::SeqCst)).and_then(|r| r))
}

/// Run the blocking `work` (which polls the flag it is given) with the GVL released, on a thread
/// with a large stack (`on_large_stack`: a Ruby thread's 1 MiB is too small for the deepest
/// futures, a write's plan in a debug build); see [`run`].
pub fn blocking<T: Send>(work: impl FnOnce(&AtomicBool) -> Result<T, CoreError> + Send) -> Result<T, Error> {
    let interrupted = AtomicBool::new(false);
    let mut job = || on_large_stack(|| work(&interrupted));
    loop {
        match without_gvl(job, &interrupted)? {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(CoreError::Cancelled)) => return Err(interruption()),
            Ok(Err(err)) => return Err(to_rb(err)),
            // An interrupt flag was set (a thread switch or a signal, not only an exception): let
            // Ruby handle it, raising if it is an exception, then start the work.
            Err(unrun) => {
                ruby().thread_check_ints()?;
                job = unrun;
            }
        }
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

//! The Tokio runtime the bindings block on, and cancellation.
//!
//! One multi-threaded runtime per process, created on first use. A child made by `fork` (Python
//! multiprocessing, Puma and Unicorn workers, Resque jobs) inherits a copy of the parent's runtime
//! whose worker threads do not exist in the child; the next call made in the child notices the new
//! process id and starts a runtime of its own.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::Notify;

use crate::error::{DeltaError, DeltaResult};

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// How often [`block_on_interruptible`] asks whether the caller wants to stop.
pub const INTERRUPT_CHECK: Duration = Duration::from_millis(100);

/// The runtime of the current process, started on first use (and again in a forked child).
pub fn runtime() -> DeltaResult<Arc<Runtime>> {
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
        .map_err(|e| DeltaError::NotSupported(format!("cannot start the I/O runtime: {e}")))?;
    if let Some(inherited) = current.replace((pid, runtime.clone())) {
        // The parent's runtime after a fork: its threads are gone, so dropping it could wait forever.
        std::mem::forget(inherited);
    }
    Ok(runtime)
}

/// Run `future` to completion on the process's runtime, blocking the calling thread.
///
/// Fails with a clear error when called from inside an async runtime (where blocking would
/// deadlock), instead of panicking.
pub fn block_on<F: Future>(future: F) -> DeltaResult<F::Output> {
    refuse_nested()?;
    Ok(runtime()?.block_on(future))
}

/// Run `future` to completion, asking `interrupted` every [`INTERRUPT_CHECK`] whether to stop;
/// when it answers `true` the future is dropped (its work stops where it is; a commit is atomic,
/// so nothing or everything was committed) and [`DeltaError::Cancelled`] is returned.
///
/// Python passes a check of its signal handlers (Ctrl-C), Ruby its interrupt queue.
///
/// ```
/// use deltalake::bindings::block_on_interruptible;
///
/// let result = block_on_interruptible(std::future::pending::<()>(), || true);
/// assert_eq!(result.unwrap_err().kind(), deltalake::error::ErrorKind::Cancelled);
/// ```
pub fn block_on_interruptible<F: Future>(future: F, mut interrupted: impl FnMut() -> bool) -> DeltaResult<F::Output> {
    block_on(async {
        let mut future = std::pin::pin!(future);
        let mut ticks = tokio::time::interval(INTERRUPT_CHECK);
        loop {
            tokio::select! {
                output = &mut future => return Ok(output),
                _ = ticks.tick() => if interrupted() {
                    return Err(DeltaError::Cancelled);
                },
            }
        }
    })?
}

/// Run `future` until it ends or `token` is cancelled, whichever comes first.
///
/// ```
/// use deltalake::bindings::{CancellationToken, block_on, cancellable};
///
/// let token = CancellationToken::new();
/// token.cancel();
/// let result = block_on(cancellable(std::future::pending::<()>(), &token)).unwrap();
/// assert!(result.is_err());
/// ```
pub async fn cancellable<F: Future>(future: F, token: &CancellationToken) -> DeltaResult<F::Output> {
    tokio::select! {
        output = future => Ok(output),
        () = token.cancelled() => Err(DeltaError::Cancelled),
    }
}

/// The stack of the threads [`on_large_stack`] and [`spawn_on_large_stack`] start. The futures of
/// the rewriting operations (merge, update, optimize) are large in unoptimised builds: more than a
/// Ruby thread's 1 MiB stack or a runtime worker's 2 MiB.
pub const OPERATION_STACK_SIZE: usize = 16 << 20;

/// Run `work` on a new thread with a stack of [`OPERATION_STACK_SIZE`] and wait for it; a panic
/// there carries on here. For hosts whose own threads have small stacks (Ruby): `work` makes the
/// operation's future and blocks on it there, so the future never lives on the host's stack.
///
/// ```
/// use deltalake::bindings::{block_on, on_large_stack};
///
/// let answer = on_large_stack(|| block_on(async { 42 })).unwrap();
/// assert_eq!(answer, 42);
/// ```
pub fn on_large_stack<T: Send>(work: impl FnOnce() -> DeltaResult<T> + Send) -> DeltaResult<T> {
    std::thread::scope(|scope| {
        let thread = large_stack_thread()
            .spawn_scoped(scope, work)
            .map_err(|e| DeltaError::NotSupported(format!("cannot start a thread: {e}")))?;
        thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Start `work` on a new thread with a stack of [`OPERATION_STACK_SIZE`]; the returned future
/// resolves to its result without blocking (a thread that panicked gives `Cancelled`). For hosts
/// that must not block their calling thread (Node's event loop).
pub fn spawn_on_large_stack<T: Send + 'static>(
    work: impl FnOnce() -> DeltaResult<T> + Send + 'static,
) -> impl Future<Output = DeltaResult<T>> + Send + 'static {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let spawned = large_stack_thread().spawn(move || {
        let _ = sender.send(work());
    });
    async move {
        spawned.map_err(|e| DeltaError::NotSupported(format!("cannot start a thread: {e}")))?;
        receiver.await.unwrap_or(Err(DeltaError::Cancelled))
    }
}

pub(super) fn large_stack_thread() -> std::thread::Builder {
    std::thread::Builder::new()
        .name("deltalake-operation".into())
        .stack_size(OPERATION_STACK_SIZE)
}

/// An error when the calling thread is inside an async runtime, where blocking would deadlock.
pub(super) fn refuse_nested() -> DeltaResult<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(DeltaError::NotSupported(
            "a blocking deltalake call cannot run inside an async runtime; await the async API instead".into(),
        ));
    }
    Ok(())
}

/// A flag another thread sets to stop an operation (Node's `AbortSignal`, Go's `context`, a C
/// caller's cancel handle). Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancellationToken {
    inner: Arc<TokenState>,
}

#[derive(Debug, Default)]
struct TokenState {
    cancelled: AtomicBool,
    notify: Notify,
}

impl CancellationToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask every operation watching this token to stop.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once the token is cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_reuses_one_runtime() {
        assert_eq!(block_on(async { 1 + 1 }).unwrap(), 2);
        assert!(Arc::ptr_eq(&runtime().unwrap(), &runtime().unwrap()));
    }

    #[test]
    fn refuses_to_block_inside_a_runtime() {
        let err = runtime().unwrap().block_on(async { block_on(async {}) }).unwrap_err();
        assert!(err.to_string().contains("inside an async runtime"), "{err}");
    }

    #[test]
    fn interrupt_stops_the_future() {
        let mut asked = 0;
        let result = block_on_interruptible(std::future::pending::<()>(), || {
            asked += 1;
            asked == 3
        });
        assert!(matches!(result, Err(DeltaError::Cancelled)));
        assert_eq!(asked, 3);
        assert_eq!(block_on_interruptible(async { 7 }, || false).unwrap(), 7);
    }

    #[test]
    fn token_cancels_from_another_thread() {
        let token = CancellationToken::new();
        let other = token.clone();
        let cancel = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            other.cancel();
        });
        let result = block_on(cancellable(std::future::pending::<()>(), &token)).unwrap();
        assert!(matches!(result, Err(DeltaError::Cancelled)));
        assert!(token.is_cancelled());
        cancel.join().unwrap();
        let fresh = CancellationToken::new();
        assert_eq!(block_on(cancellable(async { 5 }, &fresh)).unwrap().unwrap(), 5);
    }
}

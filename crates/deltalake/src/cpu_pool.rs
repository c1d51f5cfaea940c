//! A pool of threads, one per core, for CPU-bound work off the async threads: Parquet encoding,
//! and concatenating and gathering columns.
//!
//! Tokio's blocking pool starts a thread for every task that finds no idle one, so bursts of
//! short encoding tasks (one per column per chunk) grow it to many threads. Each thread that
//! allocates gets a malloc arena of its own, and arenas keep the memory freed in them: with
//! glibc, peak memory grew with the number of threads. This pool keeps one thread per core.
//!
//! Tasks must not wait on other tasks of the pool.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the pool's threads and the process that started them: started on first use, and
/// again in a forked child (Puma, Resque, multiprocessing), where the parent's threads do not exist.
static POOL: Mutex<Option<(u32, Sender<Job>)>> = Mutex::new(None);

/// The queue of the current process's pool.
fn queue() -> Sender<Job> {
    let pid = std::process::id();
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, sender)) = pool.as_ref()
        && *owner == pid
    {
        return sender.clone();
    }
    let sender = start();
    if let Some(inherited) = pool.replace((pid, sender.clone())) {
        // The parent's queue after a fork: nothing in this process serves it.
        std::mem::forget(inherited);
    }
    sender
}

/// Start one thread per core; returns their queue.
fn start() -> Sender<Job> {
    let (sender, receiver) = channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..threads {
        let receiver = receiver.clone();
        let started = std::thread::Builder::new()
            .name(format!("deltalake-cpu-{i}"))
            .spawn(move || work(&receiver));
        if let Err(e) = started {
            tracing::warn!(error = %e, "could not start a CPU pool thread");
        }
    }
    sender
}

/// Run jobs until the queue is gone.
fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let job = receiver.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// The pool's threads are gone (none could be started).
#[derive(Debug)]
pub(crate) struct PoolGone;

impl std::fmt::Display for PoolGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the CPU pool has no threads")
    }
}

/// A job queued on the pool: resolves to its result once done. Dropping it does not cancel it.
pub(crate) struct Task<T>(Option<oneshot::Receiver<std::thread::Result<T>>>);

/// Queue `f` on the pool now. A panic in `f` is resumed where the task is awaited.
pub(crate) fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Task<T> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(catch_unwind(AssertUnwindSafe(f)));
    });
    let queued = queue().send(job);
    Task(queued.ok().map(|()| result))
}

impl<T> Future for Task<T> {
    type Output = Result<T, PoolGone>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(result) = self.0.as_mut() else {
            return Poll::Ready(Err(PoolGone));
        };
        match Pin::new(result).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(Ok(value))) => Poll::Ready(Ok(value)),
            Poll::Ready(Ok(Err(panic))) => resume_unwind(panic),
            Poll::Ready(Err(_)) => Poll::Ready(Err(PoolGone)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_resumes_their_panics() {
        let tasks: Vec<Task<u64>> = (0..64u64).map(|i| spawn(move || (0..=i).sum())).collect();
        let sums: Vec<u64> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(sums[63], 63 * 64 / 2);
        let panicked = tokio::spawn(spawn(|| panic!("in the pool"))).await;
        assert!(panicked.unwrap_err().is_panic());
        // The pool still runs jobs after a panic.
        assert_eq!(spawn(|| 7).await.unwrap(), 7);
    }
}

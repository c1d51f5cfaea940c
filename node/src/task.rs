//! Promises settled by futures that run on the core's runtime, and cancellation from JavaScript
//! (`AbortSignal`) through the facade's `CancellationToken`.

use std::future::Future;

use deltalake::bindings::{CancellationToken, block_on, cancellable, runtime, spawn_on_large_stack};
use deltalake::{DeltaError, DeltaResult};
use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{Env, Result};
use napi_derive::napi;

use crate::error::to_napi;

/// A cancel handle for one or more calls; `index.js` cancels it when the caller's `AbortSignal`
/// aborts.
#[napi]
#[derive(Default)]
pub struct AbortToken {
    token: CancellationToken,
}

#[napi]
impl AbortToken {
    /// A token not cancelled yet.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stop every call watching this token (each rejects with a `cancelled` error).
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }
}

/// A Promise settled by `future`, run on the core's runtime (watching `abort` when given); its
/// output is turned into a JavaScript value by `convert` on the JavaScript thread.
pub fn promise<'env, T, R, F, C>(
    env: &'env Env,
    abort: Option<&AbortToken>,
    future: F,
    convert: C,
) -> Result<Object<'env>>
where
    F: Future<Output = DeltaResult<T>> + Send + 'static,
    T: Send + 'static,
    R: ToNapiValue + 'static,
    C: FnOnce(Env, T) -> Result<R> + Send + 'static,
{
    let runtime = runtime().map_err(to_napi)?;
    let token = abort.map(|a| a.token.clone());
    let (deferred, promise) = env.create_deferred()?;
    runtime.spawn(async move {
        let output = match token {
            Some(token) => cancellable(future, &token).await.and_then(|r| r),
            None => future.await,
        };
        match output {
            Ok(value) => deferred.resolve(move |env| convert(env, value)),
            Err(err) => deferred.reject(to_napi(err)),
        }
    });
    Ok(promise)
}

/// The future `make` gives, made and run to completion on a thread of its own with a large stack
/// (`spawn_on_large_stack`: the futures of the core's operations are large in unoptimised builds),
/// blocking on the core's runtime there, and stopped when `abort` is cancelled. The returned
/// future waits for the output without blocking.
pub fn on_thread<T, F, M>(abort: Option<&AbortToken>, make: M) -> impl Future<Output = DeltaResult<T>> + Send + 'static
where
    M: FnOnce() -> F + Send + 'static,
    F: Future<Output = DeltaResult<T>>,
    T: Send + 'static,
{
    let token = abort.map(|a| a.token.clone());
    spawn_on_large_stack(move || {
        let future = make();
        match token {
            Some(token) => block_on(cancellable(future, &token)).and_then(|r| r.and_then(|r| r)),
            None => block_on(future).and_then(|r| r),
        }
    })
}

/// A Promise of a value that needs no conversion beyond `ToNapiValue`.
pub fn promise_of<'env, T, F>(env: &'env Env, abort: Option<&AbortToken>, future: F) -> Result<Object<'env>>
where
    F: Future<Output = DeltaResult<T>> + Send + 'static,
    T: ToNapiValue + Send + 'static,
{
    promise(env, abort, future, |_, value| Ok(value))
}

/// The time `ms` milliseconds after the epoch.
pub fn datetime_from_ms(ms: f64) -> DeltaResult<chrono::DateTime<chrono::Utc>> {
    let invalid = || DeltaError::InvalidArgument(format!("timestamp {ms} ms is out of range"));
    if !ms.is_finite() {
        return Err(invalid());
    }
    chrono::DateTime::from_timestamp_millis(ms as i64).ok_or_else(invalid)
}

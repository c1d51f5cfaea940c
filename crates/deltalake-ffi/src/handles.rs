//! Opaque handles and the checks that make a null, freed or foreign handle an error instead of
//! a crash: every live handle is registered, and each call takes a counted reference to it, so a
//! handle freed by another thread meanwhile stays valid until the call ends.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use deltalake::DeltaError;
use deltalake::bindings::CancellationToken;

/// The addresses of the live handles of one type.
pub(crate) struct Registry {
    live: Mutex<BTreeSet<usize>>,
    what: &'static str,
}

impl Registry {
    pub(crate) const fn new(what: &'static str) -> Self {
        Self {
            live: Mutex::new(BTreeSet::new()),
            what,
        }
    }

    /// Register `value` and return its handle.
    pub(crate) fn insert<T>(&self, value: T) -> *mut T {
        let ptr = Arc::into_raw(Arc::new(value));
        self.lock().insert(ptr as usize);
        ptr.cast_mut()
    }

    /// The value behind a live handle.
    pub(crate) fn get<T>(&self, handle: *const T) -> Result<Arc<T>, DeltaError> {
        if handle.is_null() {
            return Err(DeltaError::InvalidArgument(format!("the {} handle is null", self.what)));
        }
        let live = self.lock();
        if !live.contains(&(handle as usize)) {
            return Err(DeltaError::InvalidArgument(format!(
                "the {} handle is invalid or was freed",
                self.what
            )));
        }
        // SAFETY: the address is registered, so it came from `Arc::into_raw` in `insert` and the
        // registry still owns that reference (it is released only in `remove`, under the lock).
        unsafe {
            Arc::increment_strong_count(handle);
            Ok(Arc::from_raw(handle))
        }
    }

    /// Unregister a handle and drop the registry's reference; false if it was not live.
    pub(crate) fn remove<T>(&self, handle: *const T) -> bool {
        if handle.is_null() || !self.lock().remove(&(handle as usize)) {
            return false;
        }
        // SAFETY: the address was registered, so it holds the reference `insert` leaked.
        drop(unsafe { Arc::from_raw(handle) });
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<usize>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A cancellation token: pass it to long calls and cancel it from any thread; the call then ends
/// with `DELTA_STATUS_CANCELLED`. Thread-safe. Free with `delta_cancel_token_free`.
pub struct DeltaCancelToken {
    pub(crate) token: CancellationToken,
}

pub(crate) static TOKENS: Registry = Registry::new("cancel token");

/// A new cancellation token (never null). Free it with `delta_cancel_token_free`.
#[unsafe(no_mangle)]
pub extern "C" fn delta_cancel_token_new() -> *mut DeltaCancelToken {
    TOKENS.insert(DeltaCancelToken {
        token: CancellationToken::new(),
    })
}

/// Cancel every call running with this token, and every later one. Safe from any thread and
/// while a call is running; a null or freed token is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn delta_cancel_token_cancel(token: *const DeltaCancelToken) {
    if let Ok(token) = TOKENS.get(token) {
        token.token.cancel();
    }
}

/// Free a token (calls still running with it keep it alive until they end). Null, or a token
/// freed already, is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn delta_cancel_token_free(token: *mut DeltaCancelToken) {
    TOKENS.remove(token);
}

/// The token behind a nullable handle.
pub(crate) fn token_of(token: *const DeltaCancelToken) -> Result<Option<CancellationToken>, DeltaError> {
    if token.is_null() {
        return Ok(None);
    }
    Ok(Some(TOKENS.get(token)?.token.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_and_foreign_handles_are_errors() {
        let registry = Registry::new("test");
        let handle = registry.insert(5u32);
        assert_eq!(*registry.get(handle).unwrap(), 5);
        let held = registry.get(handle).unwrap();
        assert!(registry.remove(handle));
        assert!(!registry.remove(handle), "a double free is ignored");
        assert_eq!(*held, 5, "a reference taken before the free stays valid");
        let err = registry.get(handle).unwrap_err();
        assert!(err.to_string().contains("invalid or was freed"), "{err}");
        assert!(registry.get(std::ptr::null::<u32>()).is_err());
        let foreign = 8usize as *const u32;
        assert!(registry.get(foreign).is_err());
    }

    #[test]
    fn tokens_cancel() {
        let token = delta_cancel_token_new();
        let shared = token_of(token).unwrap().unwrap();
        delta_cancel_token_cancel(token);
        assert!(shared.is_cancelled());
        delta_cancel_token_free(token);
        delta_cancel_token_free(token);
        delta_cancel_token_cancel(token);
        assert!(token_of(token).is_err());
        assert!(token_of(std::ptr::null()).unwrap().is_none());
    }
}

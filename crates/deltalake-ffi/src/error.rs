//! Status codes, the calling thread's last error, and the guard every entry point runs in.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use deltalake::DeltaError;
use deltalake::error::ErrorKind;

/// What every function returns: `DELTA_STATUS_OK` (0), or the kind of the error (the core's
/// stable error kinds, with the same numbers). The message is `delta_last_error_message()`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaStatus {
    /// Success.
    Ok = 0,
    /// No table at the location, or no such version.
    NotFound = 1,
    /// A data or log file is missing from storage.
    FileNotFound = 2,
    /// A table exists where one was to be created.
    AlreadyExists = 3,
    /// Invalid log, or an unsupported table feature.
    Protocol = 4,
    /// A concurrent commit won, retries ran out, or a transaction was already committed.
    CommitConflict = 5,
    /// Data or a schema does not fit the table.
    SchemaMismatch = 6,
    /// Rows break an invariant, CHECK constraint or generated column.
    ConstraintViolation = 7,
    /// A bad argument: null pointer, invalid or freed handle, bad predicate, option or mode.
    InvalidArgument = 8,
    /// Valid, but not supported.
    NotSupported = 9,
    /// The object store failed.
    Storage = 10,
    /// A data file or document could not be read or written.
    Io = 11,
    /// The operation was cancelled through its `DeltaCancelToken`.
    Cancelled = 12,
    /// A bug in the library (a panic is caught and reported as this).
    Internal = 13,
}

impl From<ErrorKind> for DeltaStatus {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::NotFound => Self::NotFound,
            ErrorKind::FileNotFound => Self::FileNotFound,
            ErrorKind::AlreadyExists => Self::AlreadyExists,
            ErrorKind::Protocol => Self::Protocol,
            ErrorKind::CommitConflict => Self::CommitConflict,
            ErrorKind::SchemaMismatch => Self::SchemaMismatch,
            ErrorKind::ConstraintViolation => Self::ConstraintViolation,
            ErrorKind::InvalidArgument => Self::InvalidArgument,
            ErrorKind::NotSupported => Self::NotSupported,
            ErrorKind::Storage => Self::Storage,
            ErrorKind::Io => Self::Io,
            ErrorKind::Cancelled => Self::Cancelled,
            _ => Self::Internal,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<(DeltaStatus, CString)> = RefCell::new((DeltaStatus::Ok, CString::default()));
}

fn set_last_error(status: DeltaStatus, message: String) -> DeltaStatus {
    // A message with a NUL inside is cut there rather than lost.
    let message = CString::new(message).unwrap_or_else(|e| {
        let end = e.nul_position();
        let mut bytes = e.into_vec();
        bytes.truncate(end);
        CString::new(bytes).unwrap_or_default()
    });
    LAST_ERROR.with(|last| *last.borrow_mut() = (status, message));
    status
}

/// Run an entry point's body: its error becomes the thread's last error and the returned status;
/// a panic is caught (it never unwinds into the caller) and reported as `DELTA_STATUS_INTERNAL`.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), DeltaError>) -> DeltaStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => DeltaStatus::Ok,
        Ok(Err(e)) => set_last_error(e.kind().into(), e.to_string()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            set_last_error(DeltaStatus::Internal, format!("internal error (a bug): {what}"))
        }
    }
}

/// The status of the calling thread's last failed call (`DELTA_STATUS_OK` if none failed yet).
/// Successful calls leave it unchanged.
#[unsafe(no_mangle)]
pub extern "C" fn delta_last_error_status() -> DeltaStatus {
    LAST_ERROR.with(|last| last.borrow().0)
}

/// The message of the calling thread's last failed call: NUL-terminated UTF-8 owned by the
/// library, valid until the next failing call on this thread. Never null ("" if none failed).
#[unsafe(no_mangle)]
pub extern "C" fn delta_last_error_message() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().1.as_ptr())
}

/// The stable name of a status (`"ok"`, `"not_found"`, `"commit_conflict"`, ...): a static
/// NUL-terminated string, never freed. Unknown numbers give `"unknown"`.
#[unsafe(no_mangle)]
pub extern "C" fn delta_status_name(status: u32) -> *const c_char {
    static NAMES: OnceLock<Vec<(u32, CString)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let kinds = ErrorKind::ALL.iter().map(|k| (*k as u32, k.as_str()));
        std::iter::once((0, "ok"))
            .chain(kinds)
            .map(|(n, name)| (n, CString::new(name).unwrap_or_default()))
            .collect()
    });
    names
        .iter()
        .find(|(n, _)| *n == status)
        .map_or(c"unknown".as_ptr(), |(_, name)| name.as_ptr())
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    #[test]
    fn errors_and_panics_become_statuses() {
        assert_eq!(guard(|| Ok(())), DeltaStatus::Ok);
        let status = guard(|| Err(DeltaError::InvalidArgument("bad\0tail".into())));
        assert_eq!(status, DeltaStatus::InvalidArgument);
        assert_eq!(delta_last_error_status(), DeltaStatus::InvalidArgument);
        let message = unsafe { CStr::from_ptr(delta_last_error_message()) };
        assert!(message.to_str().unwrap().ends_with("bad"), "{message:?}");
        #[allow(clippy::panic)]
        let status = guard(|| panic!("boom"));
        assert_eq!(status, DeltaStatus::Internal);
        let message = unsafe { CStr::from_ptr(delta_last_error_message()) };
        assert!(message.to_str().unwrap().contains("boom"));
    }

    #[test]
    fn statuses_match_the_core_kinds() {
        for kind in ErrorKind::ALL {
            assert_eq!(DeltaStatus::from(kind) as u32, kind as u32);
            let name = unsafe { CStr::from_ptr(delta_status_name(kind as u32)) };
            assert_eq!(name.to_str().unwrap(), kind.as_str());
        }
        let ok = unsafe { CStr::from_ptr(delta_status_name(0)) };
        assert_eq!(ok.to_str().unwrap(), "ok");
        let unknown = unsafe { CStr::from_ptr(delta_status_name(99)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown");
    }
}

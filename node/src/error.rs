//! The core's errors as JavaScript errors: the message carries the error kind as a prefix
//! (`[deltalake:not_found] ...`) that `index.js` turns into a `DeltaError` subclass and its `code`.

use deltalake::DeltaError;

/// The JavaScript error for an error of the core.
pub fn to_napi(err: DeltaError) -> napi::Error {
    napi::Error::from_reason(format!("[deltalake:{}] {err}", err.kind().as_str()))
}

/// The error of a call on a table that was closed.
pub fn closed() -> DeltaError {
    DeltaError::InvalidArgument("the DeltaTable is closed".into())
}

/// An invalid argument, as the core reports one.
pub fn invalid(message: impl Into<String>) -> napi::Error {
    to_napi(DeltaError::InvalidArgument(message.into()))
}

//! The gem's exception classes and the mapping of the core's error kinds onto them.

use std::sync::OnceLock;

use deltalake::DeltaError as CoreError;
use deltalake::error::ErrorKind;
use magnus::value::Opaque;
use magnus::{Error, ExceptionClass, Module, RModule, Ruby};

/// The classes, defined once when the extension loads.
struct Classes {
    error: Opaque<ExceptionClass>,
    not_found: Opaque<ExceptionClass>,
    protocol: Opaque<ExceptionClass>,
    commit_failed: Opaque<ExceptionClass>,
    schema_mismatch: Opaque<ExceptionClass>,
    not_supported: Opaque<ExceptionClass>,
    invalid_argument: Opaque<ExceptionClass>,
}

static CLASSES: OnceLock<Classes> = OnceLock::new();

/// Define `DeltaLake::Error` (a `StandardError`) and its subclasses, and
/// `DeltaLake::InvalidArgumentError` (an `ArgumentError`).
pub fn define(ruby: &Ruby, module: RModule) -> Result<(), Error> {
    let error = module.define_error("Error", ruby.exception_standard_error())?;
    let classes = Classes {
        error: error.into(),
        not_found: module.define_error("TableNotFoundError", error)?.into(),
        protocol: module.define_error("DeltaProtocolError", error)?.into(),
        commit_failed: module.define_error("CommitFailedError", error)?.into(),
        schema_mismatch: module.define_error("SchemaMismatchError", error)?.into(),
        not_supported: module.define_error("NotSupportedError", error)?.into(),
        invalid_argument: module
            .define_error("InvalidArgumentError", ruby.exception_arg_error())?
            .into(),
    };
    // A second load of the extension keeps the first definitions (the constants are the same).
    let _ = CLASSES.set(classes);
    Ok(())
}

/// The Ruby exception for an error of the core, chosen by its kind.
pub fn to_rb(err: CoreError) -> Error {
    let ruby = ruby();
    let message = err.to_string();
    let Some(classes) = CLASSES.get() else {
        return Error::new(ruby.exception_runtime_error(), message);
    };
    let class = match err.kind() {
        ErrorKind::NotFound => classes.not_found,
        // deltalake-rb raises DeltaProtocolError for rows that break a constraint.
        ErrorKind::Protocol | ErrorKind::ConstraintViolation => classes.protocol,
        ErrorKind::CommitConflict => classes.commit_failed,
        ErrorKind::SchemaMismatch => classes.schema_mismatch,
        ErrorKind::NotSupported => classes.not_supported,
        ErrorKind::InvalidArgument => classes.invalid_argument,
        ErrorKind::Cancelled => return Error::new(ruby.exception_interrupt(), message),
        _ => classes.error,
    };
    Error::new(ruby.get_inner(class), message)
}

/// A `DeltaLake::Error` with `message`, for failures of the extension itself.
pub fn internal(message: impl Into<String>) -> Error {
    let ruby = ruby();
    match CLASSES.get() {
        Some(classes) => Error::new(ruby.get_inner(classes.error), message.into()),
        None => Error::new(ruby.exception_runtime_error(), message.into()),
    }
}

/// An `ArgumentError` (the gem's `InvalidArgumentError`) with `message`.
pub fn invalid_argument(message: impl Into<String>) -> Error {
    to_rb(CoreError::InvalidArgument(message.into()))
}

/// The Ruby VM of the calling thread.
///
/// Errors are only made on threads that hold the GVL (every method of the extension runs on one;
/// the work done without it returns plain Rust values), where the handle is valid.
pub fn ruby() -> Ruby {
    // SAFETY: see above: never called from the code run without the GVL.
    unsafe { Ruby::get_unchecked() }
}

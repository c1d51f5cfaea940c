//! The error type of the crate: one enum whose variants a caller can match on.

use std::fmt;

/// The result type used throughout the crate.
pub type DeltaResult<T, E = DeltaError> = Result<T, E>;

/// Everything that can go wrong while reading or writing a Delta table.
///
/// Variants carry the table, version or file they concern so that a message alone
/// is enough to act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeltaError {
    /// The location holds no `_delta_log` with at least one commit or checkpoint.
    #[error("not a Delta table: {uri} (no commits found in _delta_log)")]
    NotATable {
        /// The table location.
        uri: String,
    },

    /// The requested version is not in the log (too new, or cleaned up).
    #[error("version {version} of {uri} cannot be loaded: {reason}")]
    VersionNotFound {
        /// The table location.
        uri: String,
        /// The version asked for.
        version: i64,
        /// Why it is not available.
        reason: String,
    },

    /// A log file (commit, checkpoint, sidecar, `_last_checkpoint`) is broken or missing.
    #[error("invalid Delta log at {path}{}: {reason}", fmt_version(*.version))]
    InvalidLog {
        /// The log file concerned (or the log directory).
        path: String,
        /// The version the file belongs to, when known.
        version: Option<i64>,
        /// What is wrong with it.
        reason: String,
    },

    /// The table needs a reader or writer feature this implementation does not support.
    #[error("table {uri} requires unsupported {kind} feature(s): {}", .features.join(", "))]
    UnsupportedFeature {
        /// The table location.
        uri: String,
        /// `reader` or `writer`.
        kind: &'static str,
        /// The feature names (or `readerVersion N` for an unknown version).
        features: Vec<String>,
    },

    /// The table schema or a type in it is invalid or cannot be converted.
    #[error("schema error: {0}")]
    Schema(String),

    /// A file the log lists (a data file, a deletion vector) is missing from storage.
    #[error("missing file {path}: {reason}")]
    FileNotFound {
        /// The file, as the user knows it (absolute path or full URI).
        path: String,
        /// What it was needed for.
        reason: String,
    },

    /// A data file (Parquet, deletion vector) is truncated or inconsistent with the log.
    #[error("invalid data file {path}: {reason}")]
    InvalidDataFile {
        /// The file concerned.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The commit file of a version was created by another writer first.
    #[error("version {version} of {uri} was committed by another writer")]
    VersionExists {
        /// The table location.
        uri: String,
        /// The version both tried to create.
        version: i64,
    },

    /// A concurrent commit changed what this transaction depends on; retrying cannot help.
    #[error("commit conflict with version {version}: {reason}")]
    CommitConflict {
        /// The concurrent version that conflicts.
        version: i64,
        /// What it changed.
        reason: String,
    },

    /// The commit did not succeed within the allowed attempts.
    #[error("commit failed after {attempts} attempts: {reason}")]
    CommitFailed {
        /// How many times the commit was tried.
        attempts: u32,
        /// The last reason.
        reason: String,
    },

    /// A table exists where a new one was to be created.
    #[error("a Delta table already exists at {uri}")]
    TableExists {
        /// The table location.
        uri: String,
    },

    /// The application transaction was already committed (idempotent writes).
    #[error("application '{app_id}' already committed transaction version {committed} (asked for {version})")]
    TransactionAlreadyCommitted {
        /// The application id.
        app_id: String,
        /// The version asked for.
        version: i64,
        /// The version recorded in the table.
        committed: i64,
    },

    /// Rows being written break a rule of the table (invariant, CHECK constraint, generated
    /// column); nothing was committed.
    #[error("{rows} row(s) violate {rule}, e.g. {}", .examples.join(", "))]
    ConstraintViolation {
        /// The rule, with its expression.
        rule: String,
        /// How many rows of the batch break it.
        rows: usize,
        /// A few of those rows, rendered.
        examples: Vec<String>,
    },

    /// A filter or predicate could not be parsed or does not fit the schema.
    #[error("invalid expression: {0}")]
    InvalidExpression(String),

    /// An argument passed by the caller is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The request is valid but this implementation does not support it (yet).
    #[error("not supported: {0}")]
    NotSupported(String),

    /// The caller cancelled the operation before it finished; nothing was committed.
    #[error("the operation was cancelled")]
    Cancelled,

    /// An error from the object store.
    #[error("storage error: {0}")]
    ObjectStore(#[from] object_store::Error),

    /// An error from Arrow.
    #[error("arrow error: {0}")]
    Arrow(arrow::error::ArrowError),

    /// An error from the Parquet reader or writer.
    #[error("parquet error: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),

    /// A JSON document could not be read or written.
    #[error("json error: {0}")]
    Json(#[from] serde_json::Error),

    /// An error from DataFusion while planning or running a query.
    #[cfg(feature = "datafusion")]
    #[error("datafusion error: {0}")]
    DataFusion(Box<datafusion::error::DataFusionError>),
}

impl From<arrow::error::ArrowError> for DeltaError {
    /// An Arrow error; one that carries an error of ours (raised inside a stream that crossed an
    /// Arrow interface) gives that error back.
    fn from(err: arrow::error::ArrowError) -> Self {
        match err {
            arrow::error::ArrowError::ExternalError(inner) => match inner.downcast::<DeltaError>() {
                Ok(ours) => *ours,
                Err(other) => Self::Arrow(arrow::error::ArrowError::ExternalError(other)),
            },
            other => Self::Arrow(other),
        }
    }
}

#[cfg(feature = "datafusion")]
impl From<datafusion::error::DataFusionError> for DeltaError {
    /// A DataFusion error; one that wraps an error of ours (raised by a Delta scan inside a query)
    /// gives that error back.
    fn from(err: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError;
        match err {
            DataFusionError::External(inner) => match inner.downcast::<DeltaError>() {
                Ok(ours) => *ours,
                Err(other) => Self::DataFusion(Box::new(DataFusionError::External(other))),
            },
            other => Self::DataFusion(Box::new(other)),
        }
    }
}

#[cfg(feature = "datafusion")]
impl From<DeltaError> for datafusion::error::DataFusionError {
    fn from(err: DeltaError) -> Self {
        match err {
            DeltaError::DataFusion(inner) => *inner,
            other => Self::External(Box::new(other)),
        }
    }
}

fn fmt_version(version: Option<i64>) -> impl fmt::Display {
    struct V(Option<i64>);
    impl fmt::Display for V {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                Some(v) => write!(f, " (version {v})"),
                None => Ok(()),
            }
        }
    }
    V(version)
}

impl DeltaError {
    /// Shorthand for [`DeltaError::InvalidLog`].
    pub fn invalid_log(path: impl Into<String>, version: Option<i64>, reason: impl Into<String>) -> Self {
        Self::InvalidLog {
            path: path.into(),
            version,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`DeltaError::InvalidDataFile`].
    pub fn invalid_data_file(path: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self::InvalidDataFile {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    /// Shorthand for [`DeltaError::Schema`].
    pub fn schema(reason: impl Into<String>) -> Self {
        Self::Schema(reason.into())
    }
}

/// The kind of a [`DeltaError`]: a small, stable classification that bindings map to their own
/// exceptions or error codes (see [`DeltaError::kind`]).
///
/// The numeric values are part of the C ABI and never change; new kinds get new numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No Delta table at the location, or the requested version of it does not exist.
    NotFound = 1,
    /// A data or log file named by the table is missing from storage.
    FileNotFound = 2,
    /// A table already exists where a new one was to be created.
    AlreadyExists = 3,
    /// The Delta log is invalid, or the table needs a feature this implementation lacks.
    Protocol = 4,
    /// A concurrent commit won, a commit ran out of attempts, or an application transaction was
    /// already committed.
    CommitConflict = 5,
    /// Data or a schema does not fit the table's schema, or a schema is invalid.
    SchemaMismatch = 6,
    /// Rows break an invariant, CHECK constraint or generated column of the table.
    ConstraintViolation = 7,
    /// An argument is invalid: a bad predicate, option, mode, version range, ...
    InvalidArgument = 8,
    /// Valid, but not supported by this implementation.
    NotSupported = 9,
    /// The object store failed (network, permissions, throttling, ...).
    Storage = 10,
    /// A data file or JSON document could not be read or written as expected.
    Io = 11,
    /// The caller cancelled the operation.
    Cancelled = 12,
    /// A bug or an unexpected state inside the library.
    Internal = 13,
}

impl ErrorKind {
    /// Every kind, in the order of their numbers.
    pub const ALL: [ErrorKind; 13] = [
        Self::NotFound,
        Self::FileNotFound,
        Self::AlreadyExists,
        Self::Protocol,
        Self::CommitConflict,
        Self::SchemaMismatch,
        Self::ConstraintViolation,
        Self::InvalidArgument,
        Self::NotSupported,
        Self::Storage,
        Self::Io,
        Self::Cancelled,
        Self::Internal,
    ];

    /// The stable snake_case name of the kind (`not_found`, `commit_conflict`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::FileNotFound => "file_not_found",
            Self::AlreadyExists => "already_exists",
            Self::Protocol => "protocol",
            Self::CommitConflict => "commit_conflict",
            Self::SchemaMismatch => "schema_mismatch",
            Self::ConstraintViolation => "constraint_violation",
            Self::InvalidArgument => "invalid_argument",
            Self::NotSupported => "not_supported",
            Self::Storage => "storage",
            Self::Io => "io",
            Self::Cancelled => "cancelled",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorKind {
    type Err = DeltaError;

    fn from_str(s: &str) -> DeltaResult<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DeltaError::InvalidArgument(format!("unknown error kind '{s}'")))
    }
}

impl DeltaError {
    /// The kind of this error, for bindings and callers that branch on the class of a failure
    /// rather than on its details.
    ///
    /// ```
    /// use deltalake::error::{DeltaError, ErrorKind};
    ///
    /// let err = DeltaError::NotATable { uri: "/tmp/nothing".into() };
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// assert_eq!(err.kind().as_str(), "not_found");
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotATable { .. } | Self::VersionNotFound { .. } => ErrorKind::NotFound,
            Self::TableExists { .. } => ErrorKind::AlreadyExists,
            Self::InvalidLog { .. } | Self::UnsupportedFeature { .. } => ErrorKind::Protocol,
            Self::VersionExists { .. }
            | Self::CommitConflict { .. }
            | Self::CommitFailed { .. }
            | Self::TransactionAlreadyCommitted { .. } => ErrorKind::CommitConflict,
            Self::Schema(_) => ErrorKind::SchemaMismatch,
            Self::ConstraintViolation { .. } => ErrorKind::ConstraintViolation,
            Self::InvalidExpression(_) | Self::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Self::NotSupported(_) => ErrorKind::NotSupported,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::FileNotFound { .. } | Self::ObjectStore(object_store::Error::NotFound { .. }) => {
                ErrorKind::FileNotFound
            }
            Self::ObjectStore(object_store::Error::NotImplemented { .. }) => ErrorKind::NotSupported,
            Self::ObjectStore(_) => ErrorKind::Storage,
            Self::InvalidDataFile { .. } | Self::Parquet(_) | Self::Json(_) => ErrorKind::Io,
            Self::Arrow(_) => ErrorKind::Internal,
            #[cfg(feature = "datafusion")]
            Self::DataFusion(_) => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_stable_names_and_numbers() {
        for (i, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as u32, i as u32 + 1);
            assert_eq!(kind.as_str().parse::<ErrorKind>().unwrap(), kind);
        }
        assert!("nope".parse::<ErrorKind>().is_err());
    }

    #[test]
    fn errors_map_to_kinds() {
        let not_found = object_store::Error::NotFound {
            path: "/t/x.parquet".into(),
            source: "gone".into(),
        };
        assert_eq!(DeltaError::from(not_found).kind(), ErrorKind::FileNotFound);
        assert_eq!(
            DeltaError::InvalidExpression("x".into()).kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(DeltaError::Cancelled.kind(), ErrorKind::Cancelled);
        let wrapped = arrow::error::ArrowError::ExternalError(Box::new(DeltaError::schema("no")));
        assert_eq!(DeltaError::from(wrapped).kind(), ErrorKind::SchemaMismatch);
        let conflict = DeltaError::CommitConflict {
            version: 3,
            reason: "files removed".into(),
        };
        assert_eq!(conflict.kind(), ErrorKind::CommitConflict);
    }
}

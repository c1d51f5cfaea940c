//! The daemon's errors.

/// What can stop the daemon (message-level problems go to the dead letter table instead).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A flag or setting is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The Delta table failed.
    #[error(transparent)]
    Delta(#[from] deltalake::DeltaError),
    /// Kafka failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// Arrow failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A worker thread went away.
    #[error("internal: {0}")]
    Internal(String),
}

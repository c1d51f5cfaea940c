//! The Delta protocol as pure data and rules: actions, schema, table features, values and
//! deletion vectors. Nothing here does I/O.
//!
//! The bottom layer with `storage`: modules here use only `crate::error` and each other.

pub mod actions;
pub mod deletion_vector;
pub mod features;
pub mod scalar;
pub mod schema;
pub mod stats_schema;
pub mod table_config;

pub use actions::{
    Action, Add, AddCdcFile, CheckpointMetadata, CommitInfo, DomainMetadata, Format, Metadata, Protocol, Remove,
    Sidecar, Txn,
};
pub use deletion_vector::{DeletedRows, DeletionVectorDescriptor};
pub use scalar::Scalar;
pub use schema::{ArrayType, DataType, MapType, PrimitiveType, Schema, StructField, StructType};
pub use table_config::{ColumnMappingMode, TableConfig, TableFeature};

//! The Delta protocol as pure data and rules: actions, schema, table features, values and
//! deletion vectors. Nothing here does I/O.

pub mod actions;
pub mod deletion_vector;
pub mod features;
pub mod scalar;
pub mod schema;

pub use actions::{
    Action, Add, AddCdcFile, CheckpointMetadata, CommitInfo, DomainMetadata, Format, Metadata, Protocol, Remove,
    Sidecar, Txn,
};
pub use deletion_vector::{DeletedRows, DeletionVectorDescriptor};
pub use scalar::Scalar;
pub use schema::{ArrayType, DataType, MapType, PrimitiveType, Schema, StructField, StructType};

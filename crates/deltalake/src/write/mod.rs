//! Writing data files: partitioning, Parquet encoding, statistics and file rolling.

mod data_writer;
mod encoder;
mod identity;
mod partition;
mod rules;
pub mod stats;

pub use data_writer::{DEFAULT_TARGET_FILE_SIZE, DataWriter, TableLayout, WriterConfig};
pub use identity::IdentityGenerator;
pub(crate) use partition::partition_directory;
pub use partition::{NULL_PARTITION, log_path};
pub use rules::{WriteRules, invariants};

//! A native Rust implementation of the [Delta Lake](https://delta.io) table format.

pub mod error;
pub mod expr;
pub mod protocol;

pub use error::{DeltaError, DeltaResult};

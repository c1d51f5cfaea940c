//! Table operations, each a builder that ends in one transaction.

pub mod create;
pub mod write;

//! The version of the core a binding is built on, for the binding to report.

/// The `deltalake` crate's version (`Cargo.toml`).
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

//! The native addon of the `deltalake` npm package: Delta tables for Node.js on the core's
//! binding facade (`deltalake::bindings`).

use napi_derive::napi;

/// The version of the native addon.
#[napi]
pub fn native_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

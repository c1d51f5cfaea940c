//! The core's logs (operations finished, commits retried, vacuum and optimize progress) on
//! standard error, for hosts that have no `tracing` subscriber of their own.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// What [`init_logging`] shows when `RUST_LOG` is unset: the core's progress, at `info`.
pub const DEFAULT_LOG_FILTER: &str = "deltalake=info";

/// Writes the process's `tracing` events to standard error, filtered by the `RUST_LOG`
/// environment variable (`EnvFilter` directives such as `deltalake=debug`) or, when it is unset
/// or invalid, by `default_filter`; colours only when standard error is a terminal.
///
/// Returns `false`, changing nothing, when the process already has a global subscriber (an
/// earlier call, or the host's own), so a binding can call it whenever its user asks.
///
/// ```
/// use deltalake::bindings::{DEFAULT_LOG_FILTER, init_logging};
///
/// if init_logging(DEFAULT_LOG_FILTER) {
///     // The first subscriber stays.
///     assert!(!init_logging("deltalake=debug"));
/// }
/// ```
pub fn init_logging(default_filter: &str) -> bool {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .is_ok()
}

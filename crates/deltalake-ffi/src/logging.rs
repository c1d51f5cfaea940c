//! The core's log output.

use deltalake::bindings::{DEFAULT_LOG_FILTER, init_logging};

/// Shows the core's progress on standard error: each operation with its figures when it
/// finishes, commits retried after a conflict, vacuum and optimize. The `RUST_LOG` environment
/// variable filters it (e.g. `deltalake=debug`); `deltalake=info` when unset. Returns false,
/// changing nothing, when logging was already set up.
#[unsafe(no_mangle)]
pub extern "C" fn delta_init_logging() -> bool {
    std::panic::catch_unwind(|| init_logging(DEFAULT_LOG_FILTER)).unwrap_or(false)
}

//! The native extension of the `deltalake` Ruby gem: a thin translation of Ruby values onto the
//! core's binding facade (`deltalake::bindings`). The Ruby API itself (`DeltaLake::Table`,
//! `DeltaLake.write`, the mergers and optimizers) lives in `ruby/lib`.

mod convert;
mod error;
mod input;
mod runtime;
mod stream;
mod table;

use deltalake::bindings::{DEFAULT_LOG_FILTER, init_logging};
use magnus::{Error, Ruby, function};

/// Called by Ruby when `deltalake/deltalake_ruby.so` is required.
#[magnus::init(name = "deltalake_ruby")]
fn init(ruby: &Ruby) -> Result<(), Error> {
    let module = ruby.define_module("DeltaLake")?;
    error::define(ruby, module)?;
    stream::define(ruby, module)?;
    table::define(ruby, module)?;
    module.define_module_function("init_logging", function!(|| init_logging(DEFAULT_LOG_FILTER), 0))?;
    Ok(())
}

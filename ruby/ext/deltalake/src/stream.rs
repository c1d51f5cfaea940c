//! `DeltaLake::ArrowArrayStream`: a stream of record batches read as the consumer asks for them,
//! either in Ruby's terms (`next_batch`, which the Ruby side turns into `each_batch`, `each_row`
//! and `to_a`) or handed to an Arrow library through the C stream interface (`to_i`, the address
//! of an `ArrowArrayStream` that polars-df and red-arrow import).

use std::sync::{Mutex, MutexGuard, PoisonError};

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::ffi_stream::FFI_ArrowArrayStream;
use deltalake::DeltaError as CoreError;
use deltalake::bindings::{BlockingReader, import_ffi_stream};
use deltalake::scan::RecordBatchStream;
use magnus::prelude::*;
use magnus::{Error, RArray, RHash, Ruby, Value};

use crate::convert::{batch_hash, batch_rows};
use crate::error::{invalid_argument, to_rb};
use crate::input::batch_from_ruby;
use crate::runtime::blocking;

/// Where the stream's batches are.
enum State {
    /// Not read from yet, or read batch by batch.
    Reading(BlockingReader),
    /// Exported through the C stream interface; the box stays where `to_i` said it is until the
    /// consumer moves the stream out of it (or this object is collected, releasing it).
    Exported(Box<FFI_ArrowArrayStream>),
    /// Read to the end.
    Done,
}

/// A stream of Arrow record batches that can be consumed once.
#[magnus::wrap(class = "DeltaLake::ArrowArrayStream", free_immediately, size)]
pub struct ArrowArrayStream {
    schema: SchemaRef,
    state: Mutex<State>,
}

impl ArrowArrayStream {
    /// A stream reading `stream` batch by batch.
    pub fn from_async(schema: SchemaRef, stream: RecordBatchStream) -> Result<Self, Error> {
        Ok(Self::from_reader(BlockingReader::new(schema, stream).map_err(to_rb)?))
    }

    /// A stream over batches in memory.
    pub fn from_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self, Error> {
        Ok(Self::from_reader(
            BlockingReader::from_batches(schema, batches).map_err(to_rb)?,
        ))
    }

    fn from_reader(reader: BlockingReader) -> Self {
        Self {
            schema: reader.schema(),
            state: Mutex::new(State::Reading(reader)),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next batch, read with the GVL released; `None` at the end.
    pub fn next_record_batch(&self) -> Result<Option<RecordBatch>, Error> {
        let mut reader = {
            let mut state = self.state();
            match std::mem::replace(&mut *state, State::Done) {
                State::Reading(reader) => reader,
                State::Done => return Ok(None),
                exported => {
                    *state = exported;
                    return Err(consumed());
                }
            }
        };
        // The reader leaves the object while it is read, so another thread sees it consumed
        // rather than blocking on the lock with the GVL held.
        let (reader, next) = blocking(move |_| {
            let next = reader.next().transpose().map_err(CoreError::from);
            Ok((reader, next))
        })?;
        match next {
            Ok(Some(batch)) => {
                *self.state() = State::Reading(reader);
                Ok(Some(batch))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(to_rb(e)),
        }
    }

    /// The next batch's rows as an Array of Hashes; `nil` at the end.
    fn next_rows(ruby: &Ruby, rb_self: &Self) -> Result<Option<RArray>, Error> {
        rb_self.next_record_batch()?.map(|b| batch_rows(ruby, &b)).transpose()
    }

    /// The next batch's columns as a Hash of Arrays; `nil` at the end.
    fn next_columns(ruby: &Ruby, rb_self: &Self) -> Result<Option<RHash>, Error> {
        rb_self.next_record_batch()?.map(|b| batch_hash(ruby, &b)).transpose()
    }

    /// The column names.
    fn column_names(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    /// The Arrow schema as a Delta-like description, `name: type` per column.
    fn schema_description(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), f.data_type()))
            .collect()
    }

    /// Export the stream: the address of an `ArrowArrayStream` C struct, which the consumer moves
    /// out (polars-df's `Polars::DataFrame.new(stream)`, red-arrow's `RecordBatchReader.import`).
    fn to_i(&self) -> Result<usize, Error> {
        let mut state = self.state();
        if let State::Exported(ffi) = &*state {
            return Ok(std::ptr::from_ref(ffi.as_ref()) as usize);
        }
        let State::Reading(reader) = std::mem::replace(&mut *state, State::Done) else {
            return Err(consumed());
        };
        let ffi = Box::new(reader.into_ffi());
        let address = std::ptr::from_ref(ffi.as_ref()) as usize;
        *state = State::Exported(ffi);
        Ok(address)
    }

    /// Whether the stream was read to the end or exported.
    fn is_consumed(&self) -> bool {
        !matches!(*self.state(), State::Reading(_))
    }
}

fn consumed() -> Error {
    invalid_argument("this Arrow stream was already consumed")
}

/// A reader of `data`'s batches: its `arrow_c_stream` (an object whose `to_i` is the address of an
/// Arrow C stream, as polars-df and this gem export) is imported, moving the stream out.
pub fn reader_from_ruby(data: Value) -> Result<arrow::ffi_stream::RecordBatchStreamReader, Error> {
    let exported: Value = data.funcall("arrow_c_stream", ())?;
    let address: usize = exported.funcall("to_i", ())?;
    if address == 0 {
        return Err(invalid_argument("arrow_c_stream gave a null stream"));
    }
    // SAFETY: by the protocol, `to_i` is the address of a valid `ArrowArrayStream` that stays
    // alive while `exported` is (it is on this stack frame); the import moves it out and marks
    // the original released, so its producer's release runs once.
    unsafe { import_ffi_stream(address as *mut FFI_ArrowArrayStream) }.map_err(|e| {
        // A stream another consumer already moved out is the usual cause.
        if e.to_string().contains("released") {
            consumed()
        } else {
            to_rb(e)
        }
    })
}

/// `data` (an Array of Hashes or a Hash of Arrays) as an Arrow stream of one batch.
fn from_ruby(ruby: &Ruby, data: Value) -> Result<ArrowArrayStream, Error> {
    let batch = batch_from_ruby(ruby, data, None)?;
    ArrowArrayStream::from_batches(batch.schema(), vec![batch])
}

/// Define the class's methods.
pub fn define(ruby: &Ruby, module: magnus::RModule) -> Result<(), Error> {
    let class = module.define_class("ArrowArrayStream", ruby.class_object())?;
    class.define_singleton_method("from_ruby", magnus::function!(from_ruby, 1))?;
    class.define_method("next_rows", magnus::method!(ArrowArrayStream::next_rows, 0))?;
    class.define_method("next_columns", magnus::method!(ArrowArrayStream::next_columns, 0))?;
    class.define_method("column_names", magnus::method!(ArrowArrayStream::column_names, 0))?;
    class.define_method(
        "schema_description",
        magnus::method!(ArrowArrayStream::schema_description, 0),
    )?;
    class.define_method("to_i", magnus::method!(ArrowArrayStream::to_i, 0))?;
    class.define_method("consumed?", magnus::method!(ArrowArrayStream::is_consumed, 0))?;
    Ok(())
}

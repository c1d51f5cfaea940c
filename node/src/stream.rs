//! Record batch streams handed to JavaScript as Arrow IPC stream chunks (what `apache-arrow`'s
//! `RecordBatchReader` reads), pulled one chunk per Promise.

use std::pin::Pin;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use bytes::Bytes;
use deltalake::DeltaResult;
use deltalake::bindings::ipc_chunks;
use deltalake::scan::RecordBatchStream;
use futures::{Stream, StreamExt, TryStreamExt};
use napi::bindgen_prelude::{Buffer, Object};
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::Mutex;

use crate::task::{AbortToken, promise};

type ChunkStream = Pin<Box<dyn Stream<Item = DeltaResult<Bytes>> + Send>>;

/// An Arrow IPC stream read chunk by chunk: the schema message, one chunk per batch, the end
/// marker.
#[napi]
pub struct RawStream {
    chunks: Arc<Mutex<Option<ChunkStream>>>,
}

impl RawStream {
    /// The IPC chunks of `stream`, with decimals as strings when asked.
    pub fn new(schema: SchemaRef, stream: RecordBatchStream, decimals_as_strings: bool) -> Self {
        let (schema, stream) = converted(schema, stream, decimals_as_strings);
        Self {
            chunks: Arc::new(Mutex::new(Some(Box::pin(ipc_chunks(schema, stream))))),
        }
    }
}

#[napi]
impl RawStream {
    /// The next chunk, or `null` once the stream ended.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn next<'env>(&self, env: &'env Env, abort: Option<&AbortToken>) -> Result<Object<'env>> {
        let chunks = self.chunks.clone();
        let next = async move {
            let mut guard = chunks.lock().await;
            let Some(stream) = guard.as_mut() else {
                return Ok(None);
            };
            match stream.next().await {
                Some(Ok(chunk)) => Ok(Some(chunk)),
                Some(Err(err)) => {
                    *guard = None;
                    Err(err)
                }
                None => {
                    *guard = None;
                    Ok(None)
                }
            }
        };
        promise(env, abort, next, |_, chunk| Ok(chunk.map(to_buffer)))
    }

    /// Stop reading (the rest of the stream is dropped).
    #[napi]
    pub fn close(&self) {
        if let Ok(mut guard) = self.chunks.try_lock() {
            *guard = None;
        }
    }
}

/// A JavaScript `Buffer` over `bytes`, without a copy when `bytes` owns its whole allocation.
pub fn to_buffer(bytes: Bytes) -> Buffer {
    Buffer::from(Vec::<u8>::from(bytes))
}

/// The whole of a stream as the chunks of one Arrow IPC stream (handed to JavaScript as they
/// are: concatenating them would copy every column once more).
pub async fn ipc_bytes(
    schema: SchemaRef,
    stream: RecordBatchStream,
    decimals_as_strings: bool,
) -> DeltaResult<Vec<Bytes>> {
    let (schema, stream) = converted(schema, stream, decimals_as_strings);
    ipc_chunks(schema, stream).try_collect().await
}

/// `stream` with its decimal columns (nested ones too) cast to strings when asked, for
/// `toRows` (JavaScript has no decimal type).
fn converted(
    schema: SchemaRef,
    stream: RecordBatchStream,
    decimals_as_strings: bool,
) -> (SchemaRef, RecordBatchStream) {
    let target = decimals_as_strings.then(|| without_decimals(&schema)).flatten();
    match target {
        None => (schema, stream),
        Some(target) => {
            let target = Arc::new(target);
            let cast_to = target.clone();
            let stream = stream.map(move |batch| cast_batch(&batch?, &cast_to)).boxed();
            (target, stream)
        }
    }
}

fn cast_batch(batch: &RecordBatch, schema: &SchemaRef) -> DeltaResult<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| arrow::compute::cast(column, field.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// `schema` with every decimal type replaced by `Utf8`, or `None` when it has no decimals.
fn without_decimals(schema: &Schema) -> Option<Schema> {
    let fields: Vec<Field> = schema.fields().iter().map(|f| field_without_decimals(f)).collect();
    let changed = fields.iter().zip(schema.fields()).any(|(a, b)| a != b.as_ref());
    changed.then(|| Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn field_without_decimals(field: &Field) -> Field {
    field.clone().with_data_type(type_without_decimals(field.data_type()))
}

fn type_without_decimals(data_type: &DataType) -> DataType {
    let inner = |f: &Arc<Field>| Arc::new(field_without_decimals(f));
    match data_type {
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => {
            DataType::Utf8
        }
        DataType::List(f) => DataType::List(inner(f)),
        DataType::LargeList(f) => DataType::LargeList(inner(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(inner(f), *n),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(inner).collect::<Fields>()),
        DataType::Map(f, sorted) => DataType::Map(inner(f), *sorted),
        other => other.clone(),
    }
}

//! Moving Arrow data between the crate's Arrow (arrow-rs 60) and DataFusion's (arrow-rs 59).
//!
//! The two are different crates to the compiler, but both implement the
//! [Arrow C data interface](https://arrow.apache.org/docs/format/CDataInterface.html): an array
//! exported by one as an `ArrowArray` + `ArrowSchema` pair is imported by the other without
//! copying a buffer. Every `unsafe` block of the integration is in this module.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow as df_arrow;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use crate::error::{DeltaError, DeltaResult};
use crate::scan::RecordBatchStream;

/// Move a C data interface struct exported by one arrow-rs version into the other version's type
/// for the same C struct.
///
/// # Safety
///
/// `From` and `To` must both be `#[repr(C)]` definitions of the same C data interface struct
/// (`ArrowSchema` or `ArrowArray`). The value is moved bit for bit and the source is not dropped,
/// so its `release` callback runs exactly once, when the `To` value is dropped (or consumed).
unsafe fn move_c_struct<From, To>(value: From) -> To {
    const { assert!(size_of::<From>() == size_of::<To>() && align_of::<From>() == align_of::<To>()) };
    let value = std::mem::ManuallyDrop::new(value);
    // SAFETY: the layouts are the same C struct (caller's contract, sizes checked above); the
    // source is never used or dropped again.
    unsafe { std::ptr::read((&*value as *const From).cast::<To>()) }
}

/// The schema in DataFusion's Arrow, metadata included.
pub fn schema_to_datafusion(schema: &Schema) -> DeltaResult<df_arrow::datatypes::SchemaRef> {
    let exported = arrow::ffi::FFI_ArrowSchema::try_from(schema)?;
    // SAFETY: both types are the C `ArrowSchema` struct.
    let imported: df_arrow::ffi::FFI_ArrowSchema = unsafe { move_c_struct(exported) };
    let schema = df_arrow::datatypes::Schema::try_from(&imported).map_err(df_arrow_error)?;
    Ok(Arc::new(schema))
}

/// The schema in the crate's Arrow, metadata included.
pub fn schema_from_datafusion(schema: &df_arrow::datatypes::Schema) -> DeltaResult<SchemaRef> {
    let exported = df_arrow::ffi::FFI_ArrowSchema::try_from(schema).map_err(df_arrow_error)?;
    // SAFETY: both types are the C `ArrowSchema` struct.
    let imported: arrow::ffi::FFI_ArrowSchema = unsafe { move_c_struct(exported) };
    Ok(Arc::new(Schema::try_from(&imported)?))
}

/// The batch in DataFusion's Arrow, with `schema` (the converted schema of `batch`); buffers are
/// shared, not copied.
pub fn batch_to_datafusion(
    batch: &RecordBatch,
    schema: &df_arrow::datatypes::SchemaRef,
) -> DeltaResult<df_arrow::record_batch::RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|column| {
            let (array, array_schema) = arrow::ffi::to_ffi(&column.to_data())?;
            // SAFETY: both pairs of types are the C `ArrowArray` and `ArrowSchema` structs, and
            // `from_ffi` takes ownership of an array exported just above with its own schema.
            let data = unsafe {
                let array: df_arrow::ffi::FFI_ArrowArray = move_c_struct(array);
                let array_schema: df_arrow::ffi::FFI_ArrowSchema = move_c_struct(array_schema);
                df_arrow::ffi::from_ffi(array, &array_schema)
            }
            .map_err(df_arrow_error)?;
            Ok(df_arrow::array::make_array(data))
        })
        .collect::<DeltaResult<Vec<_>>>()?;
    let options = df_arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    df_arrow::record_batch::RecordBatch::try_new_with_options(schema.clone(), columns, &options).map_err(df_arrow_error)
}

/// The batch in the crate's Arrow, with `schema` (the converted schema of `batch`); buffers are
/// shared, not copied.
pub fn batch_from_datafusion(
    batch: &df_arrow::record_batch::RecordBatch,
    schema: &SchemaRef,
) -> DeltaResult<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|column| {
            let (array, array_schema) = df_arrow::ffi::to_ffi(&column.to_data()).map_err(df_arrow_error)?;
            // SAFETY: as in `batch_to_datafusion`, the other way round.
            let data = unsafe {
                let array: arrow::ffi::FFI_ArrowArray = move_c_struct(array);
                let array_schema: arrow::ffi::FFI_ArrowSchema = move_c_struct(array_schema);
                arrow::ffi::from_ffi(array, &array_schema)
            }?;
            Ok(arrow::array::make_array(data))
        })
        .collect::<DeltaResult<Vec<ArrayRef>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(schema.clone(), columns, &options)?)
}

/// A DataFusion stream of the batches of `stream`, whose schema is `schema`.
pub fn stream_to_datafusion(schema: &Schema, stream: RecordBatchStream) -> DeltaResult<SendableRecordBatchStream> {
    let df_schema = schema_to_datafusion(schema)?;
    let target = df_schema.clone();
    let batches = stream.map(move |batch| Ok(batch_to_datafusion(&batch?, &target)?));
    Ok(Box::pin(RecordBatchStreamAdapter::new(df_schema, batches)))
}

/// The batches of a DataFusion stream, with their schema.
pub fn stream_from_datafusion(stream: SendableRecordBatchStream) -> DeltaResult<(SchemaRef, RecordBatchStream)> {
    let schema = schema_from_datafusion(&stream.schema())?;
    let target = schema.clone();
    let batches = stream.map(move |batch| batch_from_datafusion(&batch?, &target)).boxed();
    Ok((schema, batches))
}

/// An error of DataFusion's Arrow as one of ours.
fn df_arrow_error(err: df_arrow::error::ArrowError) -> DeltaError {
    DeltaError::from(datafusion::error::DataFusionError::from(err))
}

#[cfg(test)]
mod tests;

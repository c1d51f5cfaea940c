//! `QueryBuilder`: SQL over registered Delta tables, run by DataFusion.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::prelude::{SessionConfig, SessionContext};
use deltalake::DeltaError as CoreError;
use deltalake::datafusion::DeltaSessionExt;
use deltalake::datafusion::bridge::stream_from_datafusion;
use deltalake::scan::RecordBatchStream;
use futures::StreamExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::arrow_interop::ArrowStream;
use crate::error::to_py;
use crate::runtime::run;
use crate::table::RawDeltaTable;

/// A DataFusion session in which Delta tables are registered by name and queried with SQL.
#[pyclass(module = "deltalake._internal", frozen)]
pub struct PyQueryBuilder {
    ctx: SessionContext,
}

#[pymethods]
impl PyQueryBuilder {
    /// A session with DataFusion's defaults, overridden by `session_config`
    /// (`{"datafusion.execution.batch_size": "1024"}`).
    #[new]
    #[pyo3(signature = (session_config = None))]
    fn new(session_config: Option<HashMap<String, String>>) -> PyResult<Self> {
        let config = SessionConfig::from_string_hash_map(&session_config.unwrap_or_default())
            .map_err(|e| PyValueError::new_err(format!("invalid session configuration: {e}")))?;
        Ok(Self {
            ctx: SessionContext::new_with_config(config),
        })
    }

    /// Make the loaded version of `delta_table` queryable as `table_name`.
    fn register(&self, table_name: &str, delta_table: &RawDeltaTable) -> PyResult<()> {
        self.ctx
            .register_delta(table_name, &delta_table.current())
            .map_err(to_py)
    }

    /// Plan `sql` and start running it; the result is read batch by batch as the consumer asks.
    fn execute(&self, py: Python<'_>, sql: &str) -> PyResult<ArrowStream> {
        let ctx = self.ctx.clone();
        let sql = sql.to_string();
        let (schema, batches) = run(py, async move {
            let frame = ctx.sql(&sql).await.map_err(CoreError::from)?;
            let stream = frame.execute_stream().await.map_err(CoreError::from)?;
            stream_from_datafusion(stream)
        })?;
        let (schema, batches) = with_view_types(schema, batches);
        ArrowStream::from_async(schema, batches)
    }
}

/// The results with strings and binaries as `Utf8View` and `BinaryView` (nested ones too), the
/// types the reference package's DataFusion returns them in. The string data is shared, not copied.
fn with_view_types(schema: SchemaRef, batches: RecordBatchStream) -> (SchemaRef, RecordBatchStream) {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_data_type(view_type(f.data_type())))
        .collect();
    let target = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    if target == schema {
        return (schema, batches);
    }
    let out = target.clone();
    let batches = batches
        .map(move |batch| {
            let batch = batch?;
            let columns = (batch.columns().iter().zip(out.fields()))
                .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(RecordBatch::try_new_with_options(
                out.clone(),
                columns,
                &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
            )?)
        })
        .boxed();
    (target, batches)
}

/// `dt` with its string and binary types (at any depth) as view types.
fn view_type(dt: &DataType) -> DataType {
    let field = |f: &FieldRef| Arc::new(f.as_ref().clone().with_data_type(view_type(f.data_type())));
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 => DataType::Utf8View,
        DataType::Binary | DataType::LargeBinary => DataType::BinaryView,
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect()),
        DataType::List(f) => DataType::List(field(f)),
        DataType::LargeList(f) => DataType::LargeList(field(f)),
        other => other.clone(),
    }
}

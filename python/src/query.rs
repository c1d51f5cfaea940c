//! `QueryBuilder`: SQL over registered Delta tables, run by DataFusion.

use std::collections::HashMap;

use datafusion::prelude::{SessionConfig, SessionContext};
use deltalake::DeltaError as CoreError;
use deltalake::datafusion::DeltaSessionExt;
use deltalake::datafusion::bridge::stream_from_datafusion;
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
        ArrowStream::from_async(schema, batches)
    }
}

//! [`DeltaTableProvider`]: a snapshot of a Delta table as a DataFusion table.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::stats::Precision;
use datafusion::common::{Result, Statistics};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr as DfExpr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::bridge::schema_to_datafusion;
use super::exec::DeltaScanExec;
use super::filter::to_delta_expr;
use crate::error::DeltaResult;
use crate::scan::ScanBuilder;
use crate::snapshot::Snapshot;
use crate::storage::LogStore;
use crate::table::DeltaTable;

/// One version of a Delta table as a DataFusion [`TableProvider`].
///
/// Its schema is the table's logical schema (column mapping applied, partition columns
/// included). Scans read only the columns a query uses; the filters of its `WHERE` clause that
/// have an exact equivalent in [`crate::Expr`] skip files by partition values and statistics and
/// filter rows inside the scan, which also applies deletion vectors. `COUNT(*)` without a filter
/// is answered from the files' statistics.
///
/// ```no_run
/// # async fn example() -> deltalake::DeltaResult<()> {
/// use datafusion::prelude::SessionContext;
/// use deltalake::datafusion::DeltaTableProvider;
///
/// let table = deltalake::DeltaTable::open("path/to/table").await?;
/// let ctx = SessionContext::new();
/// ctx.register_table("events", std::sync::Arc::new(DeltaTableProvider::try_new(&table)?))?;
/// let batches = ctx.sql("SELECT count(*) FROM events WHERE year = 2024").await?.collect().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DeltaTableProvider {
    snapshot: Arc<Snapshot>,
    store: Arc<dyn LogStore>,
    schema: SchemaRef,
}

impl DeltaTableProvider {
    /// The provider of the loaded version of `table`.
    pub fn try_new(table: &DeltaTable) -> DeltaResult<Self> {
        Self::try_from_snapshot(table.snapshot().clone(), table.log_store().clone())
    }

    /// The provider of `snapshot`, read through `store`.
    pub fn try_from_snapshot(snapshot: Arc<Snapshot>, store: Arc<dyn LogStore>) -> DeltaResult<Self> {
        let schema = schema_to_datafusion(snapshot.arrow_schema())?;
        Ok(Self {
            snapshot,
            store,
            schema,
        })
    }

    /// The snapshot this provider reads.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// Whether the scan filters rows by `filter` exactly as DataFusion would.
    fn takes_filter(&self, filter: &DfExpr) -> bool {
        to_delta_expr(filter).is_some_and(|e| e.bind_predicate(self.snapshot.schema()).is_ok())
    }

    /// The live rows of each file of the table by its statistics, keyed by path.
    fn live_rows_by_path(&self) -> HashMap<&str, Option<usize>> {
        self.snapshot
            .files()
            .iter()
            .map(|file| (file.path(), file.live_rows()))
            .collect()
    }
}

#[async_trait]
impl TableProvider for DeltaTableProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[DfExpr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let config = state.config();
        let mut builder =
            ScanBuilder::new(self.snapshot.clone(), self.store.clone()).with_batch_size(config.batch_size());
        if let Some(projection) = projection {
            builder = builder.with_columns(projection.iter().map(|i| self.schema.field(*i).name()));
        }
        for filter in filters {
            let expr = to_delta_expr(filter)
                .ok_or_else(|| DataFusionError::Internal(format!("filter {filter} was not accepted for pushdown")))?;
            builder = builder.with_filter(expr);
        }
        let scan = builder.build()?;
        let schema = schema_to_datafusion(&scan.schema())?;
        let rows = self.live_rows_by_path();
        Ok(Arc::new(DeltaScanExec::new(
            scan,
            schema,
            config.target_partitions(),
            |file| rows.get(file.path.as_str()).copied().flatten(),
            self.snapshot.files().len(),
            !filters.is_empty(),
            limit,
        )))
    }

    fn supports_filters_pushdown(&self, filters: &[&DfExpr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if self.takes_filter(f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    fn statistics(&self) -> Option<Statistics> {
        let files = self.snapshot.files();
        let rows: Option<usize> = files.iter().map(|f| f.live_rows()).sum();
        let bytes = usize::try_from(files.total_size()).unwrap_or(0);
        Some(
            Statistics::new_unknown(&self.schema)
                .with_num_rows(rows.map_or(Precision::Absent, Precision::Exact))
                .with_total_byte_size(Precision::Inexact(bytes)),
        )
    }
}

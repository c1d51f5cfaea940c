//! [`DeltaScanExec`]: the physical plan node that streams a planned Delta [`Scan`] into DataFusion,
//! its files split into partitions that DataFusion reads in parallel.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::statistics::StatisticsArgs;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use futures::StreamExt;
use tracing::debug;

use super::bridge::batch_to_datafusion;
use crate::scan::{Scan, ScanFile};

/// One partition of a [`DeltaScanExec`]: files read one after the other.
#[derive(Debug, Clone, Default)]
struct FileGroup {
    files: Vec<ScanFile>,
    /// Live rows of the files by their statistics (`None` when a file has none).
    rows: Option<usize>,
    bytes: usize,
}

/// Reads the files of a Delta [`Scan`] (file skipping, deletion vectors, column mapping and row
/// filters already applied by the scan) as DataFusion partitions.
#[derive(Debug)]
pub struct DeltaScanExec {
    scan: Scan,
    schema: SchemaRef,
    groups: Vec<FileGroup>,
    table_files: usize,
    filtered: bool,
    limit: Option<usize>,
    concurrency: usize,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl DeltaScanExec {
    /// A plan reading `scan`, whose batches are of `schema` (the scan's schema in DataFusion's
    /// Arrow), in up to `partitions` partitions. `rows_of` gives the live rows of a file by its
    /// statistics; `table_files` is how many files the table has (for display); `filtered` says
    /// whether the scan filters rows; at most `limit` rows are read per partition.
    pub(crate) fn new(
        scan: Scan,
        schema: SchemaRef,
        partitions: usize,
        rows_of: impl Fn(&ScanFile) -> Option<usize>,
        table_files: usize,
        filtered: bool,
        limit: Option<usize>,
    ) -> Self {
        let groups = split_files(scan.files(), partitions.max(1), &rows_of, limit.filter(|_| !filtered));
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(groups.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        let concurrency = scan.concurrency().div_ceil(groups.len()).max(2);
        let metrics = ExecutionPlanMetricsSet::new();
        let scanned: usize = groups.iter().map(|g| g.files.len()).sum();
        MetricBuilder::new(&metrics)
            .global_counter("files_scanned")
            .add(scanned);
        MetricBuilder::new(&metrics)
            .global_counter("files_skipped")
            .add(table_files - scanned);
        debug!(
            files = scanned,
            table_files,
            partitions = groups.len(),
            "planned Delta scan"
        );
        Self {
            scan,
            schema,
            groups,
            table_files,
            filtered,
            limit,
            concurrency,
            properties: Arc::new(properties),
            metrics,
        }
    }

    /// The files read, over every partition.
    pub fn files(&self) -> impl Iterator<Item = &ScanFile> {
        self.groups.iter().flat_map(|g| &g.files)
    }

    /// How many files the table has (read or skipped).
    pub fn table_files(&self) -> usize {
        self.table_files
    }

    /// The statistics of one partition, or of all of them.
    fn statistics(&self, partition: Option<usize>) -> Statistics {
        let groups = match partition {
            Some(p) => self.groups.get(p..=p).unwrap_or(&[]),
            None => &self.groups[..],
        };
        let rows: Option<usize> = groups.iter().map(|g| g.rows).sum();
        let bytes: usize = groups.iter().map(|g| g.bytes).sum();
        let num_rows = match rows {
            Some(n) if !self.filtered && self.limit.is_none() => Precision::Exact(n),
            Some(n) => Precision::Inexact(self.limit.map_or(n, |l| n.min(l))),
            None => Precision::Absent,
        };
        Statistics::new_unknown(&self.schema)
            .with_num_rows(num_rows)
            .with_total_byte_size(Precision::Inexact(bytes))
    }
}

/// Split `files` into at most `partitions` groups of about the same size in bytes, each keeping
/// the files in scan order. With `limit` (and no row filter) only the first files that hold that
/// many live rows by their statistics are kept.
fn split_files(
    files: &[ScanFile],
    partitions: usize,
    rows_of: &dyn Fn(&ScanFile) -> Option<usize>,
    limit: Option<usize>,
) -> Vec<FileGroup> {
    let mut candidates: Vec<(usize, &ScanFile, Option<usize>)> = Vec::new();
    let mut rows_so_far = 0usize;
    for (index, file) in files.iter().enumerate() {
        if limit.is_some_and(|l| rows_so_far >= l) {
            break;
        }
        let rows = rows_of(file);
        // A file without statistics may hold any number of rows: the limit then cannot prune.
        rows_so_far = rows.map_or(usize::MAX, |r| rows_so_far.saturating_add(r));
        candidates.push((index, file, rows));
    }
    let count = partitions.min(candidates.len()).max(1);
    // Largest files first, each to the lightest group so far.
    let mut by_size = candidates.clone();
    by_size.sort_by_key(|(index, file, _)| (std::cmp::Reverse(file.size), *index));
    let mut members: Vec<Vec<(usize, &ScanFile, Option<usize>)>> = vec![Vec::new(); count];
    let mut weights = vec![0i64; count];
    for candidate in by_size {
        let lightest = (0..count).min_by_key(|g| (weights[*g], *g)).unwrap_or(0);
        weights[lightest] += candidate.1.size.max(1);
        members[lightest].push(candidate);
    }
    members
        .into_iter()
        .map(|mut group| {
            group.sort_by_key(|(index, _, _)| *index);
            FileGroup {
                rows: group.iter().map(|(_, _, rows)| *rows).sum(),
                bytes: group.iter().map(|(_, f, _)| usize::try_from(f.size).unwrap_or(0)).sum(),
                files: group.into_iter().map(|(_, f, _)| f.clone()).collect(),
            }
        })
        .collect()
}

impl DisplayAs for DeltaScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let scanned = self.files().count();
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => {
                write!(
                    f,
                    "DeltaScanExec: files={scanned}/{}, partitions={}, filtered={}",
                    self.table_files,
                    self.groups.len(),
                    self.filtered
                )?;
                if let Some(limit) = self.limit {
                    write!(f, ", limit={limit}")?;
                }
                Ok(())
            }
            DisplayFormatType::TreeRender => write!(f, "files={scanned}/{}", self.table_files),
        }
    }
}

impl ExecutionPlan for DeltaScanExec {
    fn name(&self) -> &str {
        "DeltaScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, _children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let group = self.groups.get(partition).ok_or_else(|| {
            datafusion::error::DataFusionError::Internal(format!(
                "DeltaScanExec has {} partitions, asked for partition {partition}",
                self.groups.len()
            ))
        })?;
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let schema = self.schema.clone();
        let mut remaining = self.limit.unwrap_or(usize::MAX);
        let batches = self
            .scan
            .read_some(group.files.clone(), self.concurrency)
            .map(move |batch| -> Result<RecordBatch> { Ok(batch_to_datafusion(&batch?, &schema)?) })
            .take_while(move |batch| {
                let more = remaining > 0;
                if let Ok(b) = batch {
                    remaining = remaining.saturating_sub(b.num_rows());
                }
                futures::future::ready(more)
            })
            .map(move |batch| {
                let batch = batch?;
                baseline.record_output(batch.num_rows());
                Ok(batch)
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), batches)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(Arc::new(self.statistics(args.partition())))
    }
}

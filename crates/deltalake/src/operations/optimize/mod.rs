//! OPTIMIZE: compaction of small files into files of about a target size, Z-ordering of rows
//! by several columns, one partition at a time, and incremental clustering of clustered tables,
//! as a commit that changes no data (`dataChange: false`).

mod curve;
mod metrics;
mod plan;

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use serde_json::Map;
use tracing::info;

use curve::{Curve, SortedRows, curve_sort, cut};
pub use metrics::{FileSizeMetrics, OptimizeMetrics};
use plan::{Bin, Strategy, plan};

use super::columns::{common_dictionaries, concat_columns};
use super::matching::{Candidate, Matching, Predicate, is_partition};
use super::rewrite::layout_of;
use super::table_after_commit;
use crate::clustering::CLUSTERING_PROVIDER;
use crate::error::{DeltaError, DeltaResult};
use crate::expr::Expr;
use crate::protocol::{Action, Add};
use crate::scan::{RecordBatchStream, RowSelection, Scan, ScanBuilder, ScanFile};
use crate::snapshot::Snapshot;
use crate::storage::LogStore;
use crate::table::DeltaTable;
use crate::telemetry::{Figures, operation_span, traced};
use crate::transaction::{CommitBuilder, CommitProperties, Operation, ReadScope};
use crate::write::{DEFAULT_TARGET_FILE_SIZE, DataWriter, TableLayout, WriterConfig};
use arrow::array::{ArrayRef, AsArray, RecordBatch};

/// Rows handed to the writer at a time when writing sorted rows, so files roll at the target
/// size.
const SORTED_WRITE_ROWS: usize = 1024;

/// Sorted rows are gathered this many at a time (while the writer encodes the previous ones).
const GATHER_ROWS: usize = 16 * 1024;

/// The default bound of the input of one clustering bin, in target file sizes.
const CLUSTER_BIN_TARGETS: u64 = 4;

/// How an optimize rewrites files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OptimizeType {
    /// Bin-pack the small files of each partition (and files with deletion vectors) into files
    /// of about the target size, rows in their order.
    #[default]
    Compact,
    /// Rewrite every file of each partition, rows sorted by the Z-order of these columns (not
    /// partition columns). Each partition is sorted in memory: its rows must fit, decoded.
    /// Clustered tables refuse it: they are ordered by their clustering columns.
    ZOrder(Vec<String>),
}

/// Rewrites the files of a table for faster reads: compaction (the default) or Z-order; on a
/// clustered table, incremental clustering.
///
/// Compaction packs, per partition, the files smaller than the target size and the files with
/// deletion vectors (whose deleted rows are dropped) into groups of about the target size, each
/// rewritten into new files; a partition whose only small file has no deletion vector is left
/// alone, so optimizing twice commits nothing the second time. Z-order rewrites each partition
/// whole, sorted in memory: memory grows with the largest partition (its live rows decoded, but
/// strings and binaries that files store with a dictionary kept as keys into their distinct
/// values; a copy of each Z-order column while it is ranked; and about 4 bytes per row and
/// column plus 24 per row for ranks, keys and order); the sorted rows are gathered a chunk at a
/// time as they are written. Up to [`OptimizeBuilder::with_max_concurrent_tasks`] groups are
/// read and written at once (on the calling task; files are decoded on background tasks);
/// compaction streams, so its memory is bounded by the writer's budget and the scan's
/// read-ahead. The commit conflicts only with a concurrent removal of a file it rewrote;
/// concurrent appends are kept.
///
/// On a clustered table (with clustering columns), the default optimize clusters incrementally:
/// clustered files (`clusteringProvider` set) of at least a quarter of the target size and without a
/// deletion vector are settled and left alone; the other files (new data, small clustered files,
/// files with deletion vectors) are packed, in insertion order, into bins of at most
/// [`OptimizeBuilder::with_max_cluster_size`] bytes, and each bin is sorted in memory along a
/// Hilbert curve of the clustering columns and written into files of even sizes near the
/// target, which carry `clusteringProvider`. A second optimize without new data commits
/// nothing; after an append it rewrites only the new (and small clustered) files. Files
/// clustered by earlier clustering columns stay as they are until rewritten for another reason.
///
/// ```no_run
/// # async fn example(table: deltalake::DeltaTable) -> deltalake::DeltaResult<()> {
/// use deltalake::operations::optimize::OptimizeType;
/// let (table, metrics) = table.optimize().with_predicate("year = 2021").await?;
/// println!("{} files compacted into {}", metrics.num_files_removed, metrics.num_files_added);
/// let (_, metrics) = table.optimize().with_type(OptimizeType::ZOrder(vec!["x".into(), "y".into()])).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OptimizeBuilder {
    table: DeltaTable,
    target_size: Option<u64>,
    predicate: Option<Predicate>,
    kind: OptimizeType,
    max_concurrent_tasks: usize,
    max_cluster_size: Option<u64>,
    writer_config: WriterConfig,
    commit_properties: CommitProperties,
}

impl OptimizeBuilder {
    /// A compaction of every partition of `table`, on top of its loaded version.
    pub fn new(table: DeltaTable) -> Self {
        Self {
            table,
            target_size: None,
            predicate: None,
            kind: OptimizeType::Compact,
            max_concurrent_tasks: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_cluster_size: None,
            writer_config: WriterConfig::default(),
            commit_properties: CommitProperties::default(),
        }
    }

    /// The size to aim for, in bytes (default: the table's `delta.targetFileSize`, else 100 MiB).
    pub fn with_target_size(mut self, bytes: u64) -> Self {
        self.target_size = Some(bytes);
        self
    }

    /// Optimize only the partitions for which this predicate over partition columns is TRUE.
    pub fn with_filter(mut self, predicate: Expr) -> Self {
        self.predicate = Some(Predicate::Expr(predicate));
        self
    }

    /// [`OptimizeBuilder::with_filter`] with a SQL predicate such as `year = 2021`.
    pub fn with_predicate(mut self, sql: impl Into<String>) -> Self {
        self.predicate = Some(Predicate::Sql(sql.into()));
        self
    }

    /// Compaction or Z-order.
    pub fn with_type(mut self, kind: OptimizeType) -> Self {
        self.kind = kind;
        self
    }

    /// How many groups of files are rewritten at once (default: the number of CPUs).
    pub fn with_max_concurrent_tasks(mut self, tasks: usize) -> Self {
        self.max_concurrent_tasks = tasks.max(1);
        self
    }

    /// On a clustered table, the most bytes of files clustered together in one bin, which is
    /// sorted in memory (default: four times the target size). Larger bins cluster better
    /// (fewer overlapping files) and use more memory.
    pub fn with_max_cluster_size(mut self, bytes: u64) -> Self {
        self.max_cluster_size = Some(bytes.max(1));
        self
    }

    /// How new files are written; its target file size is replaced by the optimize's target, and
    /// its memory budget (`max_buffered_bytes`) is shared by the groups written at once.
    pub fn with_writer_config(mut self, config: WriterConfig) -> Self {
        self.writer_config = config;
        self
    }

    /// Retries, user metadata and extra commit information.
    pub fn with_commit_properties(mut self, properties: CommitProperties) -> Self {
        self.commit_properties = properties;
        self
    }

    /// Optimize and commit; returns the table at the new version (the same table when nothing
    /// needed rewriting) and what was done.
    pub async fn execute(self) -> DeltaResult<(DeltaTable, OptimizeMetrics)> {
        let span = operation_span!("optimize", self.table.log_store().redacted_url());
        traced(span, self.run(), |(table, m)| Figures {
            version: Some(table.version()),
            files: Some(m.num_files_added + m.num_files_removed),
            rows: None,
            bytes: u64::try_from(m.files_added.total_size).ok(),
        })
        .await
    }

    /// The optimization itself, inside the span of [`Self::execute`].
    async fn run(self) -> DeltaResult<(DeltaTable, OptimizeMetrics)> {
        let store = self.table.log_store().clone();
        let snapshot = self.table.snapshot().clone();
        let uri = store.root_url().to_string();
        snapshot.protocol().ensure_writable(&uri)?;
        let target_size = self.target_size(&snapshot)?;
        let too_large = || DeltaError::InvalidArgument(format!("target size {target_size} is too large"));
        let target_bytes = i64::try_from(target_size).map_err(|_| too_large())?;
        let order = self.row_order(&snapshot)?;
        let strategy = match &order {
            None => Strategy::Compact,
            Some(o) if o.curve == Curve::ZOrder => Strategy::ZOrder,
            Some(_) => {
                let bytes = self
                    .max_cluster_size
                    .unwrap_or(target_size.saturating_mul(CLUSTER_BIN_TARGETS));
                Strategy::Cluster {
                    max_bin_size: i64::try_from(bytes).unwrap_or(i64::MAX),
                }
            }
        };
        let matching = Matching::new(
            snapshot.clone(),
            store.clone(),
            self.predicate.as_ref().map(Predicate::to_expr).transpose()?,
        )?;
        if let Some(p) = matching.predicate()
            && let Some(column) = p.top_level_columns().into_iter().find(|c| !is_partition(&snapshot, c))
        {
            return Err(DeltaError::InvalidArgument(format!(
                "optimize selects partitions: its predicate may only use partition columns, not '{column}'"
            )));
        }
        let now = chrono::Utc::now().timestamp_millis();
        let plan = plan(matching.candidates(now)?, strategy, target_bytes);

        let removed: Vec<&Candidate> = plan.bins.iter().flat_map(|b| &b.files).collect();
        let mut metrics = OptimizeMetrics {
            num_files_removed: removed.len(),
            files_removed: FileSizeMetrics::of(removed.iter().map(|c| c.add.size)),
            partitions_optimized: plan.partitions,
            num_batches: plan.bins.len(),
            total_considered_files: plan.considered_files,
            total_files_skipped: plan.considered_files - removed.len(),
            preserve_insertion_order: order.is_none(),
            ..OptimizeMetrics::default()
        };
        if plan.bins.is_empty() {
            return Ok((self.table, metrics));
        }

        let rewriter = Rewriter {
            // Sorted rows are held in memory: dictionary-encoded columns are kept encoded.
            scan: ScanBuilder::new(snapshot.clone(), store.clone())
                .with_dictionaries(order.is_some())
                .build()?,
            store: store.clone(),
            layout: layout_of(&snapshot)?,
            // Groups are written at once: they share the writer's memory budget.
            config: WriterConfig {
                target_file_size: usize::try_from(target_size).map_err(|_| too_large())?,
                max_buffered_bytes: (self.writer_config.max_buffered_bytes / self.max_concurrent_tasks).max(1),
                ..self.writer_config
            },
            order: order.clone(),
        };
        let adds = rewriter.rewrite_all(&plan.bins, self.max_concurrent_tasks).await?;
        metrics.num_files_added = adds.len();
        metrics.files_added = FileSizeMetrics::of(adds.iter().map(|a| a.size));

        let mut actions: Vec<Action> = removed
            .iter()
            .map(|c| {
                Action::Remove(crate::protocol::Remove {
                    data_change: false,
                    ..c.remove.clone()
                })
            })
            .collect();
        actions.extend(adds.iter().cloned().map(|add| {
            Action::Add(Add {
                data_change: false,
                ..add
            })
        }));
        let read = ReadScope::Files(removed.iter().map(|c| c.add.path.clone()).collect());

        let mut parameters = Map::new();
        let predicates: Vec<String> = matching.predicate().map(|p| p.expr().to_string()).into_iter().collect();
        parameters.insert("predicate".into(), serde_json::to_string(&predicates)?.into());
        parameters.insert("targetSize".into(), target_size.to_string().into());
        let names = |curve| {
            let names = order.as_ref().filter(|o| o.curve == curve).map(|o| o.names.clone());
            serde_json::to_string(&names.unwrap_or_default())
        };
        parameters.insert("zOrderBy".into(), names(Curve::ZOrder)?.into());
        if order.as_ref().is_some_and(|o| o.curve == Curve::Hilbert) {
            parameters.insert("clusterBy".into(), names(Curve::Hilbert)?.into());
        }
        let committed = CommitBuilder::new(Operation::new("OPTIMIZE", parameters))
            .with_actions(actions)
            .with_read_scope(read)
            .with_metrics(metrics.to_json())
            .with_properties(self.commit_properties)
            .commit(store.as_ref(), Some(&snapshot))
            .await;
        let committed = match committed {
            Ok(c) => c,
            Err(e) => {
                discard(store.as_ref(), &adds).await;
                return Err(e);
            }
        };
        info!(
            table = %uri,
            version = committed.version,
            removed = metrics.num_files_removed,
            added = metrics.num_files_added,
            "optimized"
        );
        let table = table_after_commit(store, Some(snapshot), committed.version).await?;
        Ok((table, metrics))
    }

    /// The target size: the builder's, else the table property's, else the writer's default.
    fn target_size(&self, snapshot: &Snapshot) -> DeltaResult<u64> {
        let size = match self.target_size {
            Some(size) => size,
            None => snapshot
                .table_config()
                .target_file_size()?
                .unwrap_or(DEFAULT_TARGET_FILE_SIZE as u64),
        };
        if size == 0 {
            return Err(DeltaError::InvalidArgument(
                "the target file size must be positive".into(),
            ));
        }
        Ok(size)
    }

    /// How rows are reordered: by the clustering columns on a clustered table, by the Z-order
    /// columns (checked against the schema) for Z-order, not at all for compaction.
    fn row_order(&self, snapshot: &Snapshot) -> DeltaResult<Option<RowOrder>> {
        let clustering = snapshot.clustering_paths()?.filter(|c| !c.is_empty());
        let names = match (&self.kind, clustering) {
            (OptimizeType::ZOrder(_), Some(paths)) => {
                let names: Vec<String> = paths.iter().map(|p| p.join(".")).collect();
                return Err(DeltaError::InvalidArgument(format!(
                    "the table is clustered by {names:?}: optimize clusters it by those columns, Z-order does not apply"
                )));
            }
            (OptimizeType::Compact, Some(paths)) => {
                return Ok(Some(RowOrder {
                    names: paths.iter().map(|p| p.join(".")).collect(),
                    paths,
                    curve: Curve::Hilbert,
                }));
            }
            (OptimizeType::Compact, None) => return Ok(None),
            (OptimizeType::ZOrder(names), None) => names,
        };
        if names.is_empty() {
            return Err(DeltaError::InvalidArgument("Z-order needs at least one column".into()));
        }
        let schema = snapshot.schema();
        let paths = names
            .iter()
            .map(|name| {
                let field = schema.field(name).ok_or_else(|| {
                    let available: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
                    DeltaError::InvalidArgument(format!(
                        "Z-order column '{name}' does not exist in the table; columns are: {}",
                        available.join(", ")
                    ))
                })?;
                if is_partition(snapshot, name) {
                    return Err(DeltaError::InvalidArgument(format!(
                        "cannot Z-order by partition column '{name}': each partition is ordered separately"
                    )));
                }
                Ok(vec![field.name.clone()])
            })
            .collect::<DeltaResult<_>>()?;
        Ok(Some(RowOrder {
            names: names.clone(),
            paths,
            curve: Curve::ZOrder,
        }))
    }
}

impl std::future::IntoFuture for OptimizeBuilder {
    type Output = DeltaResult<(DeltaTable, OptimizeMetrics)>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// How the rows of a bin are reordered: along a curve of some columns.
#[derive(Debug, Clone)]
struct RowOrder {
    /// The columns as named in the commit.
    names: Vec<String>,
    /// Their logical paths in the table schema (top-level name first).
    paths: Vec<Vec<String>>,
    curve: Curve,
}

impl RowOrder {
    /// The arrays of the ordering columns in `batch` (of the table's logical schema).
    fn keys(&self, batch: &RecordBatch) -> DeltaResult<Vec<ArrayRef>> {
        self.paths
            .iter()
            .map(|path| {
                let missing = || DeltaError::Schema(format!("column '{}' is not in the data", path.join(".")));
                let (first, rest) = path.split_first().ok_or_else(missing)?;
                let mut array = batch.column_by_name(first).ok_or_else(missing)?.clone();
                for name in rest {
                    let inner = array
                        .as_struct_opt()
                        .and_then(|s| s.column_by_name(name))
                        .ok_or_else(missing)?;
                    array = inner.clone();
                }
                Ok(array)
            })
            .collect()
    }
}

/// Rewrites bins of files into new files.
struct Rewriter {
    /// Reads every column of the table's files (deletion vectors applied, column mapping honoured).
    scan: Scan,
    store: Arc<dyn LogStore>,
    layout: TableLayout,
    config: WriterConfig,
    order: Option<RowOrder>,
}

impl Rewriter {
    /// Rewrite every bin, `concurrency` at a time; the new files' `add` actions. On failure, every
    /// file written is deleted again.
    async fn rewrite_all(&self, bins: &[Bin], concurrency: usize) -> DeltaResult<Vec<Add>> {
        // By index: a closure taking `&Bin` would not be general enough for a `Send` future.
        let results: Vec<DeltaResult<Vec<Add>>> = futures::stream::iter(0..bins.len())
            .map(|i| self.rewrite(&bins[i]))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut adds = Vec::new();
        let mut failure = None;
        for result in results {
            match result {
                Ok(written) => adds.extend(written),
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        match failure {
            None => Ok(adds),
            Some(e) => {
                discard(self.store.as_ref(), &adds).await;
                Err(e)
            }
        }
    }

    /// Rewrite one bin into new files (deleted again on failure).
    async fn rewrite(&self, bin: &Bin) -> DeltaResult<Vec<Add>> {
        let target = self.config.target_file_size;
        let Some(order) = &self.order else {
            return self.write(Rows::Files(bin), target).await;
        };
        let sorted = self.sorted(bin, order).await?;
        if order.curve == Curve::ZOrder {
            return self.write(Rows::Sorted(&sorted, 0..sorted.len()), target).await;
        }
        // Clustering: even files, the bin's bytes over as many files as the target size needs,
        // cut by rows, so that no small last file is left to cluster again next time.
        let input: usize = bin.files.iter().map(|f| usize::try_from(f.add.size).unwrap_or(0)).sum();
        let files = input.div_ceil(target).max(1);
        let rows_per_file = sorted.len().div_ceil(files).max(1);
        let mut adds = Vec::new();
        for part in cut(0..sorted.len(), rows_per_file) {
            match self.write(Rows::Sorted(&sorted, part), usize::MAX).await {
                Ok(written) => adds.extend(written),
                Err(e) => {
                    discard(self.store.as_ref(), &adds).await;
                    return Err(e);
                }
            }
        }
        for add in &mut adds {
            add.clustering_provider = Some(CLUSTERING_PROVIDER.to_string());
        }
        Ok(adds)
    }

    /// Write `rows` into new files that roll at `target_file_size` bytes (deleted again on
    /// failure).
    async fn write(&self, rows: Rows<'_>, target_file_size: usize) -> DeltaResult<Vec<Add>> {
        let config = WriterConfig {
            target_file_size,
            ..self.config.clone()
        };
        let mut writer = DataWriter::new(self.store.clone(), self.layout.clone(), config)?;
        let written = match rows {
            Rows::Files(bin) => self.copy(bin, &mut writer).await,
            Rows::Sorted(sorted, range) => write_sorted(sorted, range, &mut writer).await,
        };
        match written {
            Ok(()) => writer.finish().await,
            Err(e) => {
                writer.abort().await;
                Err(e)
            }
        }
    }

    /// Stream the live rows of the bin's files, in order, into `writer`.
    async fn copy(&self, bin: &Bin, writer: &mut DataWriter) -> DeltaResult<()> {
        let mut batches = self.read(bin);
        while let Some(batch) = batches.try_next().await? {
            writer.write(&batch).await?;
        }
        Ok(())
    }

    /// The live rows of the bin's files, read into memory and sorted along the curve of `order`.
    async fn sorted(&self, bin: &Bin, order: &RowOrder) -> DeltaResult<SortedRows> {
        let batches: Vec<RecordBatch> = self.read(bin).try_collect().await?;
        let schema = self.scan.schema();
        let (common, batches) = common_dictionaries(&schema, batches)?;
        let rows = concat_columns(&common, batches).await?;
        let keys = order.keys(&rows)?;
        curve_sort(rows, &keys, order.curve, schema)
    }

    /// The live rows of the bin's files, in order (several files read ahead at once).
    fn read(&self, bin: &Bin) -> RecordBatchStream {
        let files = bin.files.iter().map(|file| ScanFile {
            rows: RowSelection::live(file.add.deletion_vector.clone()),
            ..file.scan_file.clone()
        });
        self.scan.read_some(files.collect(), self.scan.concurrency())
    }
}

/// The rows a writer is given.
enum Rows<'a> {
    /// The live rows of a bin's files, in order.
    Files(&'a Bin),
    /// Sorted rows in memory, those at a range of their order.
    Sorted(&'a SortedRows, std::ops::Range<usize>),
}

/// Hand the rows at `range` of `sorted` to `writer` a slice at a time, so its files roll at their
/// target size.
async fn write_sorted(sorted: &SortedRows, range: std::ops::Range<usize>, writer: &mut DataWriter) -> DeltaResult<()> {
    for part in cut(range, GATHER_ROWS) {
        let chunk = sorted.gather(part).await?;
        for slice in cut(0..chunk.num_rows(), SORTED_WRITE_ROWS) {
            writer.write(&chunk.slice(slice.start, slice.len())).await?;
        }
    }
    Ok(())
}

/// Delete data files that will not be committed (best effort).
async fn discard(store: &dyn LogStore, adds: &[Add]) {
    for add in adds {
        if let Ok(location) = store.resolve_file(&add.path)
            && let Err(e) = store.object_store().delete(&location).await
        {
            tracing::debug!(path = %add.path, error = %e, "could not delete an uncommitted data file");
        }
    }
}

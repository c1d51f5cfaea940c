//! Scans: from a snapshot to a stream of Arrow record batches, with column projection,
//! partition values, deletion vectors and column mapping.

pub mod cdf;
mod file_reader;
mod selection;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use tracing::debug;

pub(crate) use file_reader::load_deletion_vector;
use file_reader::{MAX_BATCHES_AHEAD, ScanContext, read_files};
pub use file_reader::{RowSelection, ScanFile};
pub use selection::{SELECTION_SCHEMA, selection_vectors};

use crate::arrow_utils::FieldMatch;
use crate::error::{DeltaError, DeltaResult};
use crate::expr::{BoundExpr, Expr, FileSkipping};
use crate::log::FileView;
use crate::protocol::{DataType, Scalar, StructField};
use crate::snapshot::{ColumnMappingMode, Snapshot};
use crate::storage::LogStore;

/// A stream of record batches.
pub type RecordBatchStream = BoxStream<'static, DeltaResult<RecordBatch>>;

/// Configures a [`Scan`]: columns, filters, batch size and concurrency.
#[derive(Debug, Clone)]
pub struct ScanBuilder {
    snapshot: Arc<Snapshot>,
    store: Arc<dyn LogStore>,
    columns: Option<Vec<String>>,
    filters: Vec<Filter>,
    batch_size: usize,
    concurrency: usize,
    dictionaries: bool,
    batches_ahead: usize,
}

/// A filter as given to the builder; SQL is parsed at [`ScanBuilder::build`].
#[derive(Debug, Clone)]
enum Filter {
    Expr(Expr),
    Sql(String),
}

impl ScanBuilder {
    /// A scan of every column and row of `snapshot`.
    pub fn new(snapshot: Arc<Snapshot>, store: Arc<dyn LogStore>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            snapshot,
            store,
            columns: None,
            filters: Vec::new(),
            batch_size: 8192,
            concurrency: cpus * 2,
            dictionaries: false,
            batches_ahead: MAX_BATCHES_AHEAD,
        }
    }

    /// Read only these columns, in this order.
    pub fn with_columns<S: AsRef<str>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = Some(columns.into_iter().map(|c| c.as_ref().to_string()).collect());
        self
    }

    /// Return only the rows for which `filter` is TRUE. Files that cannot hold such rows (by
    /// partition values and statistics) are not read. Several filters must all hold.
    pub fn with_filter(mut self, filter: Expr) -> Self {
        self.filters.push(Filter::Expr(filter));
        self
    }

    /// [`ScanBuilder::with_filter`] with a SQL predicate such as `year = 2021 AND value > 10`
    /// (see [`crate::expr::parse_predicate`]); a syntax error is reported by `build`.
    pub fn with_predicate(mut self, sql: &str) -> Self {
        self.filters.push(Filter::Sql(sql.to_string()));
        self
    }

    /// Rows per batch (default 8192).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// How many row groups are decoded at once, each by a task of its own (default: twice the
    /// number of CPUs). Those after the one being consumed decode ahead of the consumer, so this
    /// also bounds the memory held for a slow consumer to about as many row groups.
    pub fn with_concurrency(mut self, files: usize) -> Self {
        self.concurrency = files.max(1);
        self
    }

    /// Return the string and binary columns that a file stores dictionary-encoded as
    /// `Dictionary(Int32, _)` arrays, not decoded: cheaper to decode, hold and gather. Batches then
    /// carry schemas of their own. Ignored when the scan has filters.
    pub(crate) fn with_dictionaries(mut self, dictionaries: bool) -> Self {
        self.dictionaries = dictionaries;
        self
    }

    /// How many batches each row group being read decodes ahead of the consumer at most (default
    /// 128): consumers slower than decoding, such as rewrites, hold less with fewer.
    pub(crate) fn with_batches_ahead(mut self, batches: usize) -> Self {
        self.batches_ahead = batches.max(1);
        self
    }

    /// The conjunction of the filters, bound to the table schema.
    fn bound_filter(&self) -> DeltaResult<Option<BoundExpr>> {
        if self.filters.is_empty() {
            return Ok(None);
        }
        let exprs = self
            .filters
            .iter()
            .map(|f| match f {
                Filter::Expr(e) => Ok(e.clone()),
                Filter::Sql(sql) => Expr::parse(sql),
            })
            .collect::<DeltaResult<Vec<_>>>()?;
        Expr::and_all(exprs).bind_predicate(self.snapshot.schema()).map(Some)
    }

    /// Resolve the columns and filters, and list the files to read: those that may hold
    /// matching rows.
    pub fn build(self) -> DeltaResult<Scan> {
        let filter = self.bound_filter()?;
        let snapshot = &self.snapshot;
        let table_schema = snapshot.arrow_schema();
        let logical = snapshot.schema();
        let resolve = |name: &str| {
            logical.index_of(name).ok_or_else(|| {
                let available: Vec<&str> = logical.fields.iter().map(|f| f.name.as_str()).collect();
                DeltaError::InvalidArgument(format!(
                    "column '{name}' does not exist in the table; columns are: {}",
                    available.join(", ")
                ))
            })
        };
        let output_indices: Vec<usize> = match &self.columns {
            Some(cols) => cols.iter().map(|c| resolve(c)).collect::<DeltaResult<_>>()?,
            None => (0..logical.fields.len()).collect(),
        };
        // Columns the filter needs beyond the output are read, then dropped.
        let mut read_indices = output_indices.clone();
        for name in filter.iter().flat_map(BoundExpr::top_level_columns) {
            let i = resolve(name)?;
            if !read_indices.contains(&i) {
                read_indices.push(i);
            }
        }
        let read_schema = Arc::new(table_schema.project(&read_indices)?);
        let output_projection: Vec<usize> = (0..output_indices.len()).collect();
        let output_schema = Arc::new(read_schema.project(&output_projection)?);
        let partition_columns = snapshot.partition_columns();
        let is_partition: Vec<bool> = read_indices
            .iter()
            .map(|i| {
                partition_columns
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&logical.fields[*i].name))
            })
            .collect();

        let partition_fields: Vec<StructField> = read_indices
            .iter()
            .zip(&is_partition)
            .filter(|(_, p)| **p)
            .map(|(i, _)| logical.fields[*i].clone())
            .collect();
        let skipping = match &filter {
            Some(f) => Some(FileSkipping::new(f, logical, partition_columns)?).filter(FileSkipping::can_skip),
            None => None,
        };
        let mut files = Vec::new();
        for batch in snapshot.files().batches() {
            let keep = skipping.as_ref().map(|s| s.keep_mask(batch)).transpose()?;
            for row in 0..batch.num_rows() {
                if keep.as_ref().is_some_and(|k| !k.value(row)) {
                    continue;
                }
                let file = FileView::new(batch, row);
                let partition_values = file.partition_values();
                let values = partition_scalars(&partition_fields, &partition_values, file.path())?;
                files.push(ScanFile {
                    path: file.path().to_string(),
                    size: file.size(),
                    partition_values: values,
                    rows: RowSelection::live(file.deletion_vector()),
                });
            }
        }
        let skipped = snapshot.files().len() - files.len();
        if let Some(f) = &filter {
            debug!(filter = %f.expr(), skipped, kept = files.len(), "skipped files by partition values and statistics");
        }
        debug!(version = snapshot.version(), files = files.len(), "planned scan");

        let matcher = match snapshot.column_mapping_mode() {
            ColumnMappingMode::None => FieldMatch::Name,
            ColumnMappingMode::Name => FieldMatch::PhysicalName,
            ColumnMappingMode::Id => FieldMatch::Id,
        };
        let context = ScanContext {
            dictionaries: self.dictionaries && filter.is_none(),
            batches_ahead: self.batches_ahead,
            store: self.store.clone(),
            read_schema,
            output_projection,
            output_schema: output_schema.clone(),
            is_partition,
            matcher,
            filter,
            batch_size: self.batch_size,
        };
        Ok(Scan {
            context: Arc::new(context),
            files,
            concurrency: self.concurrency,
        })
    }
}

/// A planned scan: the files to read and how to read them.
#[derive(Debug, Clone)]
pub struct Scan {
    context: Arc<ScanContext>,
    files: Vec<ScanFile>,
    concurrency: usize,
}

impl Scan {
    /// The schema of the batches produced.
    pub fn schema(&self) -> SchemaRef {
        self.context.output_schema.clone()
    }

    /// The files that will be read.
    pub fn files(&self) -> &[ScanFile] {
        &self.files
    }

    /// Read the files as a stream of batches, several row groups at once, in file and row order.
    /// Must be polled inside a Tokio runtime.
    pub fn execute(&self) -> RecordBatchStream {
        let bytes = self.files.iter().map(|f| u64::try_from(f.size).unwrap_or(0)).sum();
        // The figures are recorded when the stream ends (once: a field recorded twice shows twice).
        let span = tracing::info_span!(
            "scan",
            files = tracing::field::Empty,
            bytes = tracing::field::Empty,
            rows = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let stream = self.read_some(self.files.clone(), self.concurrency);
        crate::telemetry::TracedBatches::new(stream, span, self.files.len(), bytes).boxed()
    }

    /// Read one file of the table (planned by this scan or not) with this scan's columns and filter.
    pub(crate) fn read_file(&self, file: ScanFile) -> RecordBatchStream {
        self.read_some(vec![file], self.concurrency)
    }

    /// Read some files of the table (planned by this scan or not) with this scan's columns and
    /// filter, `concurrency` row groups at once.
    pub(crate) fn read_some(&self, files: Vec<ScanFile>, concurrency: usize) -> RecordBatchStream {
        read_files(self.context.clone(), files, concurrency.max(1))
            .map_ok(|(_, batch)| batch)
            .boxed()
    }

    /// How many row groups [`Scan::execute`] decodes at once.
    pub(crate) fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Read everything into memory.
    pub async fn collect(&self) -> DeltaResult<Vec<RecordBatch>> {
        self.execute().try_collect().await
    }
}

/// The typed values of `fields` (partition columns) for a file with these serialised partition
/// values, keyed by physical name.
pub(crate) fn partition_scalars<K, V>(
    fields: &[StructField],
    values: &std::collections::HashMap<K, Option<V>>,
    path: &str,
) -> DeltaResult<Vec<Scalar>>
where
    K: std::borrow::Borrow<str> + std::hash::Hash + Eq,
    V: AsRef<str>,
{
    fields
        .iter()
        .map(|field| {
            let DataType::Primitive(ty) = field.data_type else {
                return Err(DeltaError::schema(format!(
                    "partition column '{}' is not primitive",
                    field.name
                )));
            };
            let raw = values
                .get(field.physical_name())
                .and_then(|v| v.as_ref())
                .map(AsRef::as_ref);
            Scalar::parse_partition_value(raw, ty)
                .map_err(|e| DeltaError::invalid_data_file(path, format!("partition column '{}': {e}", field.name)))
        })
        .collect()
}

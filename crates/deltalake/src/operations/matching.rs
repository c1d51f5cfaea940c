//! Finding the rows of a table that match a predicate, for DELETE, UPDATE and MERGE: files pruned by
//! partition values and statistics, files whose partition values match wholly (no need to read
//! them), and the matching rows of the others, by position in their file.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch};
use arrow::compute::{and, filter_record_batch, not, or};
use arrow::datatypes::{Field, Schema as ArrowSchema};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use crate::error::DeltaResult;
use crate::expr::{BoundExpr, Expr, FileSkipping};
use crate::log::FileView;
use crate::protocol::{Add, DeletedRows, Remove, StructField};
use crate::scan::{RowSelection, Scan, ScanBuilder, ScanFile, load_deletion_vector, partition_scalars};
use crate::snapshot::Snapshot;
use crate::storage::LogStore;
use crate::transaction::{MatchingFiles, ReadScope};

/// A predicate as given to a builder; SQL is parsed at execution.
#[derive(Debug, Clone)]
pub(crate) enum Predicate {
    Expr(Expr),
    Sql(String),
}

impl Predicate {
    /// The expression, parsed if given as SQL.
    pub(crate) fn to_expr(&self) -> DeltaResult<Expr> {
        match self {
            Predicate::Expr(e) => Ok(e.clone()),
            Predicate::Sql(sql) => Expr::parse(sql),
        }
    }
}

/// Batches each row group decodes ahead of a rewrite (which encodes slower than rows decode):
/// 128k rows at the default batch size.
const BATCHES_AHEAD: usize = 16;

/// The rows of a snapshot that match an optional predicate (none: every row).
pub(crate) struct Matching {
    snapshot: Arc<Snapshot>,
    store: Arc<dyn LogStore>,
    predicate: Option<BoundExpr>,
    /// Reads whole files (every row; every column, or those asked for) of the snapshot.
    reader: Scan,
    /// The partition columns, in schema order (the order of a [`ScanFile`]'s partition values).
    partition_fields: Vec<StructField>,
}

/// A file that may hold matching rows.
pub(crate) struct Candidate {
    /// The file as the table holds it.
    pub add: Add,
    /// Its removal, should the operation drop it.
    pub remove: Remove,
    /// Every row matches (by partition values): the file can be dropped without reading it.
    pub all_match: bool,
    /// How to read the file: every row, its deletion vector not applied.
    pub scan_file: ScanFile,
}

/// A batch of the rows of a candidate file.
pub(crate) struct FileRows {
    /// Consecutive rows of the file, deleted ones included, in the table's logical schema.
    pub batch: RecordBatch,
    /// The row number in the file of the batch's first row.
    pub first_row: u64,
    /// Live rows that match.
    pub matched: BooleanArray,
    /// Live rows that do not match.
    pub kept: BooleanArray,
}

impl FileRows {
    /// The live rows: those that match and those kept.
    pub fn live(&self) -> DeltaResult<BooleanArray> {
        Ok(or(&self.matched, &self.kept)?)
    }

    /// The live rows that match.
    pub fn matched_rows(&self) -> DeltaResult<RecordBatch> {
        Ok(filter_record_batch(&self.batch, &self.matched)?)
    }
}

impl Matching {
    /// The rows of `snapshot` matching `predicate`, bound to its schema (unknown columns and type
    /// errors are reported here).
    pub fn new(snapshot: Arc<Snapshot>, store: Arc<dyn LogStore>, predicate: Option<Expr>) -> DeltaResult<Self> {
        Self::build(snapshot, store, predicate, None)
    }

    /// [`Matching::new`] reading only the columns the predicate reads, for operations that mark
    /// rows without writing them (deletion vectors, no change data): [`FileRows::batch`] then
    /// holds those columns.
    pub fn marking(snapshot: Arc<Snapshot>, store: Arc<dyn LogStore>, predicate: Option<Expr>) -> DeltaResult<Self> {
        Self::build(snapshot, store, predicate, Some(Vec::new()))
    }

    /// [`Matching::marking`] reading `columns` too (table columns, in any case; unknown ones are
    /// left out): [`FileRows::batch`] then holds the predicate's columns and these, in schema order.
    pub fn projected(
        snapshot: Arc<Snapshot>,
        store: Arc<dyn LogStore>,
        predicate: Option<Expr>,
        columns: &[&str],
    ) -> DeltaResult<Self> {
        let columns = columns.iter().map(|c| c.to_string()).collect();
        Self::build(snapshot, store, predicate, Some(columns))
    }

    /// A matching reading every column, or only the predicate's and `columns`.
    fn build(
        snapshot: Arc<Snapshot>,
        store: Arc<dyn LogStore>,
        predicate: Option<Expr>,
        columns: Option<Vec<String>>,
    ) -> DeltaResult<Self> {
        let predicate = predicate.map(|p| p.bind_predicate(snapshot.schema())).transpose()?;
        let mut reader = ScanBuilder::new(snapshot.clone(), store.clone()).with_batches_ahead(BATCHES_AHEAD);
        if let Some(columns) = columns {
            let read = predicate.as_ref().map(BoundExpr::top_level_columns).unwrap_or_default();
            let names: Vec<&str> = snapshot
                .schema()
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .filter(|name| {
                    let mut wanted = read.iter().copied().chain(columns.iter().map(String::as_str));
                    wanted.any(|c| c.eq_ignore_ascii_case(name))
                })
                .collect();
            reader = reader.with_columns(names);
        }
        let reader = reader.build()?;
        let partition_fields = snapshot
            .schema()
            .fields
            .iter()
            .filter(|f| is_partition(&snapshot, &f.name))
            .cloned()
            .collect();
        Ok(Self {
            snapshot,
            store,
            predicate,
            reader,
            partition_fields,
        })
    }

    /// The predicate, bound to the table schema.
    pub fn predicate(&self) -> Option<&BoundExpr> {
        self.predicate.as_ref()
    }

    /// The files that may hold matching rows; `now` stamps their removes.
    pub fn candidates(&self, now: i64) -> DeltaResult<Vec<Candidate>> {
        let snapshot = &self.snapshot;
        let skipping = match &self.predicate {
            Some(p) => Some(FileSkipping::new(p, snapshot.schema(), snapshot.partition_columns())?)
                .filter(FileSkipping::can_skip),
            None => None,
        };
        // A predicate over partition columns only is decided per file, without reading it.
        let by_partition = self
            .predicate
            .as_ref()
            .filter(|p| p.top_level_columns().iter().all(|c| is_partition(snapshot, c)));
        let mut candidates = Vec::new();
        for batch in snapshot.files().batches() {
            let keep = skipping.as_ref().map(|s| s.keep_mask(batch)).transpose()?;
            for row in 0..batch.num_rows() {
                if keep.as_ref().is_some_and(|k| !k.value(row)) {
                    continue;
                }
                let file = FileView::new(batch, row);
                let partition_values =
                    partition_scalars(&self.partition_fields, &file.partition_values(), file.path())?;
                let all_match = match by_partition {
                    None => self.predicate.is_none(),
                    Some(p) => {
                        if !self.partition_predicate(p, &partition_values)? {
                            continue;
                        }
                        true
                    }
                };
                candidates.push(Candidate {
                    add: file.to_add(),
                    remove: file.to_remove(now, true),
                    all_match,
                    scan_file: ScanFile {
                        path: file.path().to_string(),
                        size: file.size(),
                        partition_values,
                        rows: RowSelection::All,
                    },
                });
            }
        }
        Ok(candidates)
    }

    /// Whether a predicate over partition columns is TRUE for these partition values.
    fn partition_predicate(&self, predicate: &BoundExpr, values: &[crate::protocol::Scalar]) -> DeltaResult<bool> {
        let (fields, columns): (Vec<Field>, Vec<_>) = self
            .partition_fields
            .iter()
            .zip(values)
            .map(|(f, v)| {
                let array = v.to_array(1)?;
                Ok((Field::new(&f.name, array.data_type().clone(), true), array))
            })
            .collect::<DeltaResult<Vec<_>>>()?
            .into_iter()
            .unzip();
        let batch = RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns)?;
        let verdict = predicate.evaluate_predicate(&batch)?;
        Ok(verdict.is_valid(0) && verdict.value(0))
    }

    /// The rows of `file` a batch at a time, in file order (`deleted`: what its deletion vector
    /// deletes, from [`Matching::deleted_rows`]): rewrites hold a few batches, never the whole file.
    pub fn read_batches<'a>(
        &'a self,
        file: &'a Candidate,
        deleted: Option<&'a DeletedRows>,
    ) -> BoxStream<'a, DeltaResult<FileRows>> {
        let mut first_row = 0u64;
        self.reader
            .read_file(file.scan_file.clone())
            .map(move |batch| {
                let batch = batch?;
                let start = first_row;
                first_row += batch.num_rows() as u64;
                let live = keep_mask(deleted, start, batch.num_rows());
                self.file_rows(batch, start, live)
            })
            .boxed()
    }

    /// Whether any live row of `file` matches, read a batch at a time up to the first match.
    pub async fn any_match(&self, file: &Candidate) -> DeltaResult<bool> {
        let deleted = self.deleted_rows(file).await?;
        let mut batches = self.read_batches(file, deleted.as_ref());
        while let Some(rows) = batches.try_next().await? {
            if rows.matched.true_count() > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The rows the deletion vector of `file` deletes.
    pub async fn deleted_rows(&self, file: &Candidate) -> DeltaResult<Option<DeletedRows>> {
        match &file.add.deletion_vector {
            Some(dv) => Ok(Some(
                load_deletion_vector(self.store.as_ref(), dv, &file.add.path).await?,
            )),
            None => Ok(None),
        }
    }

    /// `batch` with which of its `live` rows match and which are kept.
    fn file_rows(&self, batch: RecordBatch, first_row: u64, live: BooleanArray) -> DeltaResult<FileRows> {
        let matched = match &self.predicate {
            Some(p) => and(&live, &true_only(&p.evaluate_predicate(&batch)?))?,
            None => live.clone(),
        };
        let kept = and(&live, &not(&matched)?)?;
        Ok(FileRows {
            batch,
            first_row,
            matched,
            kept,
        })
    }

    /// What the operation read, for conflict detection: the whole table without a predicate,
    /// else the candidate files and the predicate.
    pub fn read_scope(&self, candidates: &[Candidate]) -> DeltaResult<ReadScope> {
        let Some(predicate) = &self.predicate else {
            return Ok(ReadScope::Table);
        };
        let files: HashSet<String> = candidates.iter().map(|c| c.add.path.clone()).collect();
        Ok(ReadScope::Matching(MatchingFiles::new(
            files,
            predicate,
            self.snapshot.schema(),
            self.snapshot.partition_columns(),
        )?))
    }
}

/// The rows `first_row..first_row + len` that `deleted` keeps (all of them without a vector).
fn keep_mask(deleted: Option<&DeletedRows>, first_row: u64, len: usize) -> BooleanArray {
    match deleted {
        Some(d) => d.keep_mask(first_row, len),
        None => BooleanArray::from(vec![true; len]),
    }
}

/// TRUE where `verdict` is TRUE; FALSE where it is FALSE or NULL.
pub(crate) fn true_only(verdict: &BooleanArray) -> BooleanArray {
    match verdict.nulls() {
        Some(nulls) => BooleanArray::new(verdict.values() & nulls.inner(), None),
        None => verdict.clone(),
    }
}

/// Whether `column` is a partition column of `snapshot`'s table.
pub(crate) fn is_partition(snapshot: &Snapshot, column: &str) -> bool {
    snapshot
        .partition_columns()
        .iter()
        .any(|p| p.eq_ignore_ascii_case(column))
}

/// Milliseconds of a duration, for metrics.
pub(crate) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

//! File skipping: which data files may hold rows matching a predicate, judged from their
//! partition values and statistics without reading them.
//!
//! The predicate is rewritten once into a *skipping predicate* over a small batch with one row
//! per file: the referenced partition columns (typed), and for each referenced data column its
//! lower bound, upper bound and null count, plus the file's record count and whether its bounds
//! are tight. Evaluating that rewritten predicate over the files of a log batch at once tells,
//! per file, FALSE (no row can match: skip) or TRUE / NULL (keep). Anything the rewrite does not
//! understand becomes TRUE, so unknown always keeps the file.
//!
//! The statistics are read conservatively:
//! - missing or unparsable statistics, bounds or counts are unknown;
//! - with `tightBounds: false` (deletion vectors) the bounds still hold, but null counts are not
//!   used;
//! - a string upper bound may be a truncated prefix, so it is raised to cover any extension;
//! - timestamp bounds may be truncated to milliseconds, so they are widened by 999 µs;
//! - NaN is not reflected in floating-point bounds (and a NaN bound is ignored), so a
//!   float column is never skipped on its upper bound.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Int64Builder, MapArray, RecordBatch, RecordBatchOptions,
    StringArray,
};
use arrow::datatypes::{Field, Schema as ArrowSchema, SchemaRef};

use super::stats::{FileStats, StatsPaths, bound, count};
use super::{BinaryOp, BoundExpr, Expr, Function, lit};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::{DataType, PrimitiveType, Scalar, StructType};

/// Column names of the per-file batch; the NUL keeps them apart from any partition column name.
const NUM_RECORDS: &str = "\0numRecords";
const TIGHT: &str = "\0tightBounds";

fn min_name(i: usize) -> String {
    format!("\0min{i}")
}

fn max_name(i: usize) -> String {
    format!("\0max{i}")
}

fn nulls_name(i: usize) -> String {
    format!("\0nullCount{i}")
}

fn stats_column(name: String) -> Expr {
    Expr::Column(vec![name])
}

/// A data column whose statistics the skipping predicate reads.
#[derive(Debug, Clone)]
struct StatsColumn {
    /// The logical path, as in the bound predicate.
    logical: Vec<String>,
    /// The path of the statistics keys (physical names under column mapping).
    physical: Vec<String>,
    ty: PrimitiveType,
}

/// A referenced partition column.
#[derive(Debug, Clone)]
struct PartitionColumn {
    name: String,
    physical: String,
    ty: PrimitiveType,
}

/// Decides, per data file, whether it may contain rows matching a predicate.
///
/// ```no_run
/// # fn example(snapshot: &deltalake::Snapshot) -> deltalake::DeltaResult<()> {
/// use deltalake::expr::{Expr, FileSkipping};
/// let predicate = Expr::parse("year = 2021 AND value > 10")?.bind_predicate(snapshot.schema())?;
/// let skipping = FileSkipping::new(&predicate, snapshot.schema(), snapshot.partition_columns())?;
/// for batch in snapshot.files().batches() {
///     let keep = skipping.keep_mask(batch)?; // one entry per file of the batch
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileSkipping {
    predicate: BoundExpr,
    partitions: Vec<PartitionColumn>,
    stats: Vec<StatsColumn>,
    stats_paths: StatsPaths,
    schema: SchemaRef,
}

impl FileSkipping {
    /// Prepare skipping for `predicate` (bound to `schema`, the table's logical schema) on a table
    /// partitioned by `partition_columns`.
    pub fn new(predicate: &BoundExpr, schema: &StructType, partition_columns: &[String]) -> DeltaResult<Self> {
        let mut partitions = Vec::new();
        for name in partition_columns {
            let field = schema
                .field(name)
                .ok_or_else(|| DeltaError::schema(format!("partition column '{name}' is not in the schema")))?;
            if let DataType::Primitive(ty) = field.data_type {
                partitions.push(PartitionColumn {
                    name: field.name.clone(),
                    physical: field.physical_name().to_string(),
                    ty,
                });
            }
        }
        let mut rewriter = Rewriter {
            schema,
            partition_names: partitions.iter().map(|p| p.name.clone()).collect(),
            stats: Vec::new(),
        };
        let skipping = rewriter.skip(predicate.expr(), false);
        let stats = rewriter.stats;
        let used: Vec<&[String]> = skipping.column_paths();
        partitions.retain(|p| used.iter().any(|path| path.len() == 1 && path[0] == p.name));

        let mut fields: Vec<Field> = partitions
            .iter()
            .map(|p| Ok(Field::new(&p.name, DataType::Primitive(p.ty).to_arrow()?, true)))
            .collect::<DeltaResult<_>>()?;
        for (i, column) in stats.iter().enumerate() {
            let arrow_type = DataType::Primitive(column.ty).to_arrow()?;
            fields.push(Field::new(min_name(i), arrow_type.clone(), true));
            fields.push(Field::new(max_name(i), arrow_type, true));
            fields.push(Field::new(nulls_name(i), arrow::datatypes::DataType::Int64, true));
        }
        if !stats.is_empty() {
            fields.push(Field::new(NUM_RECORDS, arrow::datatypes::DataType::Int64, true));
            fields.push(Field::new(TIGHT, arrow::datatypes::DataType::Boolean, true));
        }
        let predicate = BoundExpr {
            expr: skipping,
            data_type: DataType::Primitive(PrimitiveType::Boolean),
        };
        let stats_paths = StatsPaths::new(stats.iter().map(|c| c.physical.as_slice()));
        Ok(Self {
            predicate,
            partitions,
            stats_paths,
            stats,
            schema: Arc::new(ArrowSchema::new(fields)),
        })
    }

    /// Whether the predicate can skip any file at all (it is not trivially TRUE).
    pub fn can_skip(&self) -> bool {
        self.predicate.expr() != &lit(true)
    }

    /// The skipping predicate, over the per-file columns (for logs and tests).
    pub fn skipping_predicate(&self) -> &Expr {
        self.predicate.expr()
    }

    /// For each file of `files` (a batch of [`crate::log::file_list::ADD_SCHEMA`]), whether it may hold
    /// matching rows.
    pub fn keep_mask(&self, files: &RecordBatch) -> DeltaResult<BooleanArray> {
        let rows = files.num_rows();
        if !self.can_skip() {
            return Ok(BooleanArray::from(vec![true; rows]));
        }
        let batch = self.file_batch(files)?;
        let verdict = self.predicate.evaluate_predicate(&batch)?;
        Ok(verdict.iter().map(|v| Some(v != Some(false))).collect())
    }

    fn file_batch(&self, files: &RecordBatch) -> DeltaResult<RecordBatch> {
        let rows = files.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        if !self.partitions.is_empty() {
            let map = files
                .column_by_name("partitionValues")
                .and_then(|c| c.as_map_opt())
                .ok_or_else(|| DeltaError::schema("file list batch without partitionValues"))?;
            let paths = string_column(files, "path")?;
            for p in &self.partitions {
                let values = (0..rows)
                    .map(|row| {
                        Scalar::parse_partition_value(partition_value(map, row, &p.physical), p.ty).map_err(|e| {
                            DeltaError::invalid_data_file(
                                paths.value(row),
                                format!("partition column '{}': {e}", p.name),
                            )
                        })
                    })
                    .collect::<DeltaResult<Vec<_>>>()?;
                columns.push(Scalar::to_array_of(&values, p.ty)?);
            }
        }
        if !self.stats.is_empty() {
            let stats = string_column(files, "stats")?;
            let has_dv = files.column_by_name("deletionVector").map(|dv| dv.logical_nulls());
            let parsed: Vec<Option<FileStats<'_>>> = (0..rows)
                .map(|row| {
                    stats
                        .is_valid(row)
                        .then(|| FileStats::parse(stats.value(row), &self.stats_paths))
                        .flatten()
                })
                .collect();
            for (i, column) in self.stats.iter().enumerate() {
                let mut mins = Vec::with_capacity(rows);
                let mut maxs = Vec::with_capacity(rows);
                let mut nulls = Int64Builder::with_capacity(rows);
                for s in &parsed {
                    let (min, max, n) = match s {
                        Some(s) => (
                            bound(s.min[i], column.ty),
                            bound(s.max[i], column.ty),
                            count(s.null_count[i]),
                        ),
                        None => (None, None, None),
                    };
                    mins.push(widen(min, column.ty, false));
                    maxs.push(widen(max, column.ty, true));
                    nulls.append_option(n);
                }
                columns.push(Scalar::to_array_of(&mins, column.ty)?);
                columns.push(Scalar::to_array_of(&maxs, column.ty)?);
                columns.push(Arc::new(nulls.finish()));
            }
            let mut records = Int64Builder::with_capacity(rows);
            let mut tight = BooleanBuilder::with_capacity(rows);
            for (row, s) in parsed.iter().enumerate() {
                records.append_option(s.as_ref().and_then(|s| s.num_records));
                let dv_present = match &has_dv {
                    Some(Some(nulls)) => nulls.is_valid(row),
                    Some(None) => true,
                    None => false,
                };
                // Without the field, bounds are tight unless a deletion vector hides rows.
                tight.append_value(s.as_ref().and_then(|s| s.tight_bounds).unwrap_or(!dv_present));
            }
            columns.push(Arc::new(records.finish()));
            columns.push(Arc::new(tight.finish()));
        }
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?)
    }
}

fn string_column<'a>(files: &'a RecordBatch, name: &str) -> DeltaResult<&'a StringArray> {
    files
        .column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| DeltaError::schema(format!("file list batch without a string column '{name}'")))
}

/// The serialised partition value of `key` for the file at `row` (`None`: null or absent).
fn partition_value<'a>(map: &'a MapArray, row: usize, key: &str) -> Option<&'a str> {
    if map.is_null(row) {
        return None;
    }
    let offsets = map.value_offsets();
    let keys = map.keys().as_string::<i32>();
    let values = map.values().as_string::<i32>();
    let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
    (start..end)
        .find(|i| keys.value(*i) == key)
        .filter(|i| values.is_valid(*i))
        .map(|i| values.value(i))
}

/// Make a bound conservative: string upper bounds may be truncated prefixes, and timestamp
/// bounds may have been truncated to milliseconds.
fn widen(value: Option<Scalar>, ty: PrimitiveType, upper: bool) -> Scalar {
    const MICROS_PER_MILLI_MINUS_ONE: i64 = 999;
    match (value, upper) {
        (None, _) => Scalar::Null(ty),
        (Some(Scalar::String(s)), true) => Scalar::String(format!("{s}{}", char::MAX)),
        (Some(Scalar::Timestamp(v)), true) => Scalar::Timestamp(v.saturating_add(MICROS_PER_MILLI_MINUS_ONE)),
        (Some(Scalar::Timestamp(v)), false) => Scalar::Timestamp(v.saturating_sub(MICROS_PER_MILLI_MINUS_ONE)),
        (Some(Scalar::TimestampNtz(v)), true) => Scalar::TimestampNtz(v.saturating_add(MICROS_PER_MILLI_MINUS_ONE)),
        (Some(Scalar::TimestampNtz(v)), false) => Scalar::TimestampNtz(v.saturating_sub(MICROS_PER_MILLI_MINUS_ONE)),
        (Some(v), _) => v,
    }
}

/// Whether `CAST(x AS to)` never reorders values of type `from` (so bounds of `x` cast are bounds
/// of the cast).
fn order_preserving(from: PrimitiveType, to: PrimitiveType) -> bool {
    use PrimitiveType as P;
    let rank = |t: PrimitiveType| match t {
        P::Byte => Some(1),
        P::Short => Some(2),
        P::Integer => Some(3),
        P::Long => Some(4),
        _ => None,
    };
    match (from, to) {
        (f, t) if f == t => true,
        (f, t) if rank(f).is_some() && rank(t).is_some() => rank(f) <= rank(t),
        (f, P::Float | P::Double | P::Decimal(..)) if rank(f).is_some() => true,
        (P::Decimal(..), P::Double) | (P::Float, P::Double) => true,
        (P::Decimal(p1, s1), P::Decimal(p2, s2)) => s2 >= s1 && (p2 as i16 - s2 as i16) >= (p1 as i16 - s1 as i16),
        (P::Date, P::Timestamp | P::TimestampNtz)
        | (P::Timestamp, P::TimestampNtz)
        | (P::TimestampNtz, P::Timestamp) => true,
        _ => false,
    }
}

struct Rewriter<'a> {
    schema: &'a StructType,
    partition_names: HashSet<String>,
    stats: Vec<StatsColumn>,
}

/// The statistics side of a comparison: a data column, possibly under an order-preserving cast.
struct StatsOperand {
    index: usize,
    /// The column's own type (NaN handling).
    column_type: PrimitiveType,
    cast: Option<PrimitiveType>,
}

impl StatsOperand {
    fn wrap(&self, name: String) -> Expr {
        let e = stats_column(name);
        match self.cast {
            Some(to) => e.cast(to),
            None => e,
        }
    }

    fn min(&self) -> Expr {
        self.wrap(min_name(self.index))
    }

    fn max(&self) -> Expr {
        self.wrap(max_name(self.index))
    }

    fn is_float(&self) -> bool {
        matches!(self.column_type, PrimitiveType::Float | PrimitiveType::Double)
    }

    /// FALSE only when the statistics are tight and say every value is null.
    fn not_all_null(&self) -> Expr {
        let all_null =
            stats_column(TIGHT.into()).and(stats_column(nulls_name(self.index)).eq(stats_column(NUM_RECORDS.into())));
        !all_null
    }

    /// FALSE only when the statistics are tight and say no value is null.
    fn may_have_nulls(&self) -> Expr {
        !stats_column(TIGHT.into()).and(stats_column(nulls_name(self.index)).eq(lit(0i64)))
    }
}

impl Rewriter<'_> {
    fn is_partition_only(&self, e: &Expr) -> bool {
        e.column_paths()
            .iter()
            .all(|path| path.len() == 1 && self.partition_names.contains(&path[0]))
    }

    /// The skipping predicate of `e` (of `NOT e` when `negated`): FALSE only for files where `e`
    /// (resp. `NOT e`) cannot be TRUE on any row.
    fn skip(&mut self, e: &Expr, negated: bool) -> Expr {
        if self.is_partition_only(e) {
            // Partition values are exact: evaluate the predicate itself on them, where NULL
            // (no row can match) must skip the file.
            let exact = if negated { !e.clone() } else { e.clone() };
            return Expr::call(Function::Coalesce, [exact, lit(false)]);
        }
        match e {
            Expr::Not(inner) => self.skip(inner, !negated),
            Expr::Binary {
                op: op @ (BinaryOp::And | BinaryOp::Or),
                left,
                right,
            } => {
                let (l, r) = (self.skip(left, negated), self.skip(right, negated));
                // De Morgan: NOT (a AND b) = NOT a OR NOT b.
                if (*op == BinaryOp::And) != negated {
                    simplify_and(l, r)
                } else {
                    simplify_or(l, r)
                }
            }
            Expr::Binary { op, left, right } if op.is_comparison() => {
                let op = match (negated, op.negated()) {
                    (false, _) => *op,
                    (true, Some(inverse)) => inverse,
                    (true, None) => return lit(true),
                };
                self.compare(op, left, right)
            }
            Expr::IsNull {
                expr,
                negated: not_null,
            } => {
                let Some(operand) = self.stats_operand(expr) else {
                    return lit(true);
                };
                if *not_null != negated {
                    operand.not_all_null()
                } else {
                    operand.may_have_nulls()
                }
            }
            Expr::Between {
                expr,
                low,
                high,
                negated: not_between,
            } => {
                if *not_between != negated {
                    let l = self.compare(BinaryOp::Lt, expr, low);
                    let r = self.compare(BinaryOp::Gt, expr, high);
                    simplify_or(l, r)
                } else {
                    let l = self.compare(BinaryOp::GtEq, expr, low);
                    let r = self.compare(BinaryOp::LtEq, expr, high);
                    simplify_and(l, r)
                }
            }
            Expr::InList {
                expr,
                list,
                negated: not_in,
            } if *not_in == negated => list
                .iter()
                .map(|item| self.compare(BinaryOp::Eq, expr, item))
                .reduce(simplify_or)
                .unwrap_or(lit(false)),
            Expr::Like {
                expr,
                pattern,
                negated: not_like,
                case_insensitive: false,
                ..
            } if *not_like == negated => self.like_prefix(expr, pattern),
            _ => lit(true),
        }
    }

    /// `x LIKE 'abc%...'`: only files whose range meets the strings starting with `abc`.
    fn like_prefix(&mut self, expr: &Expr, pattern: &Expr) -> Expr {
        let Expr::Literal(Scalar::String(pattern)) = pattern else {
            return lit(true);
        };
        let prefix: String = pattern.chars().take_while(|c| !matches!(c, '%' | '_' | '\\')).collect();
        if prefix.is_empty() {
            return lit(true);
        }
        let upper = format!("{prefix}{}", char::MAX);
        let l = self.compare(BinaryOp::GtEq, expr, &lit(prefix));
        let r = self.compare(BinaryOp::LtEq, expr, &lit(upper));
        simplify_and(l, r)
    }

    fn compare(&mut self, op: BinaryOp, left: &Expr, right: &Expr) -> Expr {
        let (operand, op, value) = match (left, right) {
            (x, Expr::Literal(v)) => match self.stats_operand(x) {
                Some(operand) => (operand, op, v),
                None => return lit(true),
            },
            (Expr::Literal(v), x) => match self.stats_operand(x) {
                Some(operand) => (operand, op.flipped(), v),
                None => return lit(true),
            },
            _ => return lit(true),
        };
        if value.is_null() {
            // `x op NULL` is NULL on every row; `x <=> NULL` is `x IS NULL`.
            return if op == BinaryOp::NullSafeEq {
                operand.may_have_nulls()
            } else {
                lit(false)
            };
        }
        let v = || Expr::Literal(value.clone());
        let nan_literal =
            matches!(value, Scalar::Double(x) if x.is_nan()) || matches!(value, Scalar::Float(x) if x.is_nan());
        // NaN sorts above every number but is absent from the bounds: upper bounds of float
        // columns cannot exclude anything that NaN would match.
        let upper_bound_usable = !operand.is_float();
        let condition = match op {
            BinaryOp::Eq | BinaryOp::NullSafeEq if nan_literal && operand.is_float() => return lit(true),
            BinaryOp::Eq | BinaryOp::NullSafeEq => operand.min().lt_eq(v()).and(operand.max().gt_eq(v())),
            BinaryOp::NotEq if upper_bound_usable => !(operand.min().eq(v()).and(operand.max().eq(v()))),
            BinaryOp::Lt => operand.min().lt(v()),
            BinaryOp::LtEq => operand.min().lt_eq(v()),
            BinaryOp::Gt if upper_bound_usable => operand.max().gt(v()),
            BinaryOp::GtEq if upper_bound_usable => operand.max().gt_eq(v()),
            _ => return operand.not_all_null(),
        };
        condition.and(operand.not_all_null())
    }

    /// The statistics of `e` if it is a data column (or an order-preserving cast of one).
    fn stats_operand(&mut self, e: &Expr) -> Option<StatsOperand> {
        let (path, cast) = match e {
            Expr::Column(path) => (path, None),
            Expr::Cast { expr, to } => match expr.as_ref() {
                Expr::Column(path) => (path, Some(*to)),
                _ => return None,
            },
            _ => return None,
        };
        if path.len() == 1 && self.partition_names.contains(&path[0]) {
            return None;
        }
        let (physical, ty) = self.physical_path(path)?;
        if matches!(ty, PrimitiveType::Binary | PrimitiveType::Variant) {
            return None;
        }
        if let Some(to) = cast
            && !order_preserving(ty, to)
        {
            return None;
        }
        let index = match self.stats.iter().position(|c| c.logical == *path) {
            Some(i) => i,
            None => {
                self.stats.push(StatsColumn {
                    logical: path.clone(),
                    physical,
                    ty,
                });
                self.stats.len() - 1
            }
        };
        Some(StatsOperand {
            index,
            column_type: ty,
            cast,
        })
    }

    /// Physical names along `path` and the leaf's primitive type.
    fn physical_path(&self, path: &[String]) -> Option<(Vec<String>, PrimitiveType)> {
        let mut fields = self.schema;
        let mut physical = Vec::with_capacity(path.len());
        let mut leaf = None;
        for (depth, name) in path.iter().enumerate() {
            let field = fields.field(name)?;
            physical.push(field.physical_name().to_string());
            match &field.data_type {
                DataType::Struct(s) if depth + 1 < path.len() => fields = s,
                DataType::Primitive(p) if depth + 1 == path.len() => leaf = Some(*p),
                _ => return None,
            }
        }
        Some((physical, leaf?))
    }
}

fn simplify_and(l: Expr, r: Expr) -> Expr {
    let t = lit(true);
    match (l == t, r == t) {
        (true, _) => r,
        (_, true) => l,
        _ => l.and(r),
    }
}

fn simplify_or(l: Expr, r: Expr) -> Expr {
    let t = lit(true);
    if l == t || r == t { t } else { l.or(r) }
}

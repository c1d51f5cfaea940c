//! The join of a MERGE: the equalities between target and source expressions (the keys) and the
//! rest of the predicate (the residual), a hash index of the source rows by key, and the
//! predicate that prunes the target files no source key can match.

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, UInt32Array};
use arrow::compute::kernels::sort::{SortOptions, sort_to_indices};
use arrow::compute::{cast, is_not_null};
use arrow::datatypes::{DataType as ArrowType, Int64Type};
use arrow::row::{RowConverter, SortField};

use super::Aliases;
use crate::error::{DeltaError, DeltaResult};
use crate::expr::{BinaryOp, BoundExpr, Expr};
use crate::operations::key_map::KeyMap;
use crate::protocol::{Scalar, StructType};

/// The join predicate, split: `target_expr = source_expr` conjuncts and whatever else.
pub(super) struct Join {
    /// Target-side key expressions, bound to the combined schema (they read only the target).
    pub target_keys: Vec<BoundExpr>,
    /// Source-side key expressions, of the same types as their target sides.
    pub source_keys: Vec<BoundExpr>,
    /// The other conjuncts, ANDed, bound to the combined schema.
    pub residual: Option<BoundExpr>,
}

impl Join {
    /// Split `predicate` (bound to `combined`, the schema holding the target and source
    /// structs) into keys and residual; at least one key is needed.
    pub fn new(predicate: &Expr, combined: &StructType, aliases: &Aliases) -> DeltaResult<Self> {
        let bound = predicate.bind_predicate(combined)?;
        let mut target_keys = Vec::new();
        let mut source_keys = Vec::new();
        let mut residual = Vec::new();
        for conjunct in conjuncts(bound.expr()) {
            if let Expr::Binary {
                op: BinaryOp::Eq,
                left,
                right,
            } = conjunct
            {
                let sides = (aliases.side_of(left), aliases.side_of(right));
                let pair = match sides {
                    (Some(Side::Target), Some(Side::Source)) => Some((left, right)),
                    (Some(Side::Source), Some(Side::Target)) => Some((right, left)),
                    _ => None,
                };
                if let Some((target, source)) = pair {
                    target_keys.push(target.bind(combined)?);
                    source_keys.push(source.bind(combined)?);
                    continue;
                }
            }
            residual.push(conjunct.clone());
        }
        if target_keys.is_empty() {
            return Err(DeltaError::InvalidArgument(format!(
                "the merge predicate {predicate} needs an equality between a target and a source expression \
                 (e.g. {}.id = {}.id)",
                aliases.target, aliases.source
            )));
        }
        let residual = match residual.is_empty() {
            true => None,
            false => Some(Expr::and_all(residual).bind_predicate(combined)?),
        };
        Ok(Self {
            target_keys,
            source_keys,
            residual,
        })
    }

    /// A predicate over the table's columns that every target row matching a source row
    /// satisfies: each key that is a plain target column between the least and greatest source
    /// key, and the residual's conjuncts that read only target columns. `None` when there is none.
    pub fn pruning(&self, source: &RecordBatch, aliases: &Aliases) -> DeltaResult<Option<Expr>> {
        let mut terms = Vec::new();
        for (target, key) in self.target_keys.iter().zip(&self.source_keys) {
            let Expr::Column(path) = target.expr() else { continue };
            let [_, column] = path.as_slice() else { continue };
            let values = key.evaluate(source)?;
            match bounds(&values)? {
                Some((min, max)) => {
                    terms.push(Expr::Column(vec![column.clone()]).between(Expr::Literal(min), Expr::Literal(max)))
                }
                // No source key is set: no target row can match.
                None => return Ok(Some(Expr::Literal(Scalar::Boolean(false)))),
            }
        }
        if let Some(residual) = &self.residual {
            for conjunct in conjuncts(residual.expr()) {
                if aliases.side_of(conjunct) == Some(Side::Target) {
                    terms.push(aliases.unqualified(conjunct));
                }
            }
        }
        Ok((!terms.is_empty()).then(|| Expr::and_all(terms)))
    }
}

/// Which relation of a merge an expression reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Target,
    Source,
}

impl Aliases {
    /// The one relation `expr` reads columns of (`None`: both, or none).
    pub fn side_of(&self, expr: &Expr) -> Option<Side> {
        let mut side = None;
        for path in expr.column_paths() {
            let this = match path.first() {
                Some(first) if first.eq_ignore_ascii_case(&self.target) => Side::Target,
                Some(first) if first.eq_ignore_ascii_case(&self.source) => Side::Source,
                _ => return None,
            };
            if side.is_some_and(|s| s != this) {
                return None;
            }
            side = Some(this);
        }
        side
    }

    /// `expr` with each column not qualified by an alias qualified by the relation that has it
    /// (`x` becomes `source.x` when only the source has a column `x`); a name both have is
    /// ambiguous.
    pub fn qualified(&self, expr: &Expr, target: &StructType, source: &StructType) -> DeltaResult<Expr> {
        let is_alias = |name: &str| name.eq_ignore_ascii_case(&self.target) || name.eq_ignore_ascii_case(&self.source);
        for path in expr.column_paths() {
            if let Some(first) = path.first()
                && !is_alias(first)
                && target.field(first).is_some()
                && source.field(first).is_some()
            {
                return Err(DeltaError::InvalidExpression(format!(
                    "column '{first}' is ambiguous in {expr}: write {}.{first} or {}.{first}",
                    self.target, self.source
                )));
            }
        }
        Ok(map_columns(expr, &|path| {
            let alias = match path.first() {
                Some(first) if is_alias(first) => None,
                Some(first) if target.field(first).is_some() => Some(&self.target),
                Some(first) if source.field(first).is_some() => Some(&self.source),
                _ => None,
            };
            match alias {
                Some(alias) => std::iter::once(alias.clone()).chain(path.iter().cloned()).collect(),
                None => path.to_vec(),
            }
        }))
    }

    /// `expr` with its columns' relation names dropped (`target.x` becomes `x`).
    pub fn unqualified(&self, expr: &Expr) -> Expr {
        map_columns(expr, &|path| match path.split_first() {
            Some((_, rest)) if !rest.is_empty() => rest.to_vec(),
            _ => path.to_vec(),
        })
    }
}

/// The conjuncts of `expr` (`a AND (b AND c)` gives a, b, c).
fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::Binary {
            op: BinaryOp::And,
            left,
            right,
        } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        other => vec![other],
    }
}

/// `expr` with every column path replaced by `f(path)`.
pub(super) fn map_columns(expr: &Expr, f: &dyn Fn(&[String]) -> Vec<String>) -> Expr {
    let m = |e: &Expr| Box::new(map_columns(e, f));
    match expr {
        Expr::Column(path) => Expr::Column(f(path)),
        Expr::Literal(_) => expr.clone(),
        Expr::Not(e) => Expr::Not(m(e)),
        Expr::Negative(e) => Expr::Negative(m(e)),
        Expr::Binary { op, left, right } => Expr::Binary {
            op: *op,
            left: m(left),
            right: m(right),
        },
        Expr::IsNull { expr, negated } => Expr::IsNull {
            expr: m(expr),
            negated: *negated,
        },
        Expr::InList { expr, list, negated } => Expr::InList {
            expr: m(expr),
            list: list.iter().map(|e| map_columns(e, f)).collect(),
            negated: *negated,
        },
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => Expr::Between {
            expr: m(expr),
            low: m(low),
            high: m(high),
            negated: *negated,
        },
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
            case_insensitive,
        } => Expr::Like {
            expr: m(expr),
            pattern: m(pattern),
            escape: *escape,
            negated: *negated,
            case_insensitive: *case_insensitive,
        },
        Expr::Cast { expr, to } => Expr::Cast { expr: m(expr), to: *to },
        Expr::Function { func, args } => Expr::Function {
            func: *func,
            args: args.iter().map(|e| map_columns(e, f)).collect(),
        },
    }
}

/// The least and greatest non-null values of `values` (`None` when all are null).
fn bounds(values: &ArrayRef) -> DeltaResult<Option<(Scalar, Scalar)>> {
    if values.null_count() == values.len() {
        return Ok(None);
    }
    let first = |descending| -> DeltaResult<Scalar> {
        let options = SortOptions {
            descending,
            nulls_first: false,
        };
        let index = sort_to_indices(values.as_ref(), Some(options), Some(1))?;
        Scalar::from_array(values.as_ref(), index.value(0) as usize)
    };
    Ok(Some((first(false)?, first(true)?)))
}

/// No further source row with the same key.
const END: u32 = u32::MAX;

/// The source rows by join key: the first row of each key, and for each row the next with the
/// same key. Rows with a null key part never match and are left out.
pub(super) struct SourceIndex {
    keys: Keys,
    next: Vec<u32>,
}

/// Keys of one integer column are looked up in an array when their range is dense (at most
/// [`DENSE_RANGE_PER_ROW`] values per source row), else hashed as integers; other keys are
/// hashed in Arrow's row format.
enum Keys {
    /// The first row of each key from `first`: `heads[key - first]`, [`END`] for none.
    Dense {
        first: i64,
        heads: Vec<u32>,
    },
    Integer(KeyMap<i64>),
    Rows(RowConverter, KeyMap<Box<[u8]>>),
}

/// Integer keys spanning up to this many values per source row are indexed by an array.
const DENSE_RANGE_PER_ROW: u64 = 2;

/// The key columns as one integer column, when there is one key of an integer type.
fn as_integers(keys: &[ArrayRef]) -> DeltaResult<Option<ArrayRef>> {
    match keys {
        [key]
            if matches!(
                key.data_type(),
                ArrowType::Int8 | ArrowType::Int16 | ArrowType::Int32 | ArrowType::Int64 | ArrowType::Date32
            ) =>
        {
            Ok(Some(cast(key, &ArrowType::Int64)?))
        }
        _ => Ok(None),
    }
}

/// Rows where every key part is set.
fn all_set(keys: &[ArrayRef], rows: usize) -> DeltaResult<BooleanArray> {
    let mut set = BooleanArray::from(vec![true; rows]);
    for key in keys {
        if key.null_count() > 0 {
            set = arrow::compute::and(&set, &is_not_null(key)?)?;
        }
    }
    Ok(set)
}

impl SourceIndex {
    /// Index the source rows by their key columns `keys` (one value per source row each).
    pub fn new(keys: &[ArrayRef]) -> DeltaResult<Self> {
        let rows = keys.first().map_or(0, |k| k.len());
        let rows_u32 = u32::try_from(rows)
            .ok()
            .filter(|&n| n < END)
            .ok_or_else(|| DeltaError::InvalidArgument(format!("a merge source of {rows} rows is too large")))?;
        let set = all_set(keys, rows)?;
        let mut next = vec![END; rows];
        let mut link = |row: u32, head: Option<u32>| {
            if let Some(head) = head {
                next[row as usize] = head;
            }
        };
        let keys = match as_integers(keys)? {
            Some(ints) => {
                let ints = ints.as_primitive::<Int64Type>();
                // A single key column: its non-null rows are the set ones.
                let span = arrow::compute::min(ints).zip(arrow::compute::max(ints));
                let span = span.map(|(lo, hi)| (lo, hi.abs_diff(lo)));
                match span {
                    Some((first, span)) if span < DENSE_RANGE_PER_ROW * rows as u64 => {
                        let mut heads = vec![END; span as usize + 1];
                        for row in (0..rows_u32).filter(|&r| set.value(r as usize)) {
                            let head = &mut heads[ints.value(row as usize).abs_diff(first) as usize];
                            link(row, (*head != END).then_some(*head));
                            *head = row;
                        }
                        Keys::Dense { first, heads }
                    }
                    _ => {
                        let mut map = KeyMap::with_capacity_and_hasher(rows, Default::default());
                        for row in (0..rows_u32).filter(|&r| set.value(r as usize)) {
                            link(row, map.insert(ints.value(row as usize), row));
                        }
                        Keys::Integer(map)
                    }
                }
            }
            None => {
                let converter =
                    RowConverter::new(keys.iter().map(|k| SortField::new(k.data_type().clone())).collect())?;
                let encoded = converter.convert_columns(keys)?;
                let mut map = KeyMap::with_capacity_and_hasher(rows, Default::default());
                for row in (0..rows_u32).filter(|&r| set.value(r as usize)) {
                    let key: Box<[u8]> = encoded.row(row as usize).as_ref().into();
                    link(row, map.insert(key, row));
                }
                Keys::Rows(converter, map)
            }
        };
        Ok(Self { keys, next })
    }

    /// The (target row, source row) pairs with equal keys, target rows ascending, among the
    /// target rows `live` selects; `keys` are the target's key columns.
    pub fn probe(&self, keys: &[ArrayRef], live: &BooleanArray) -> DeltaResult<(UInt32Array, UInt32Array)> {
        let rows = live.len();
        let set = arrow::compute::and(live, &all_set(keys, rows)?)?;
        let mut targets = Vec::new();
        let mut sources = Vec::new();
        let mut emit = |target: usize, mut source: u32| {
            while source != END {
                targets.push(target as u32);
                sources.push(source);
                source = self.next[source as usize];
            }
        };
        let integers = || {
            as_integers(keys)?
                .ok_or_else(|| DeltaError::InvalidArgument("the target key is not of the source key's type".into()))
        };
        match &self.keys {
            Keys::Dense { first, heads } => {
                let ints = integers()?;
                let ints = ints.as_primitive::<Int64Type>();
                for row in set.values().set_indices() {
                    let head = ints
                        .value(row)
                        .checked_sub(*first)
                        .and_then(|offset| usize::try_from(offset).ok())
                        .and_then(|offset| heads.get(offset));
                    if let Some(&head) = head.filter(|h| **h != END) {
                        emit(row, head);
                    }
                }
            }
            Keys::Integer(map) => {
                let ints = integers()?;
                let ints = ints.as_primitive::<Int64Type>();
                for row in set.values().set_indices() {
                    if let Some(&first) = map.get(&ints.value(row)) {
                        emit(row, first);
                    }
                }
            }
            Keys::Rows(converter, map) => {
                let encoded = converter.convert_columns(keys)?;
                for row in set.values().set_indices() {
                    if let Some(&first) = map.get(encoded.row(row).as_ref()) {
                        emit(row, first);
                    }
                }
            }
        }
        Ok((UInt32Array::from(targets), UInt32Array::from(sources)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, StringArray};

    use super::*;

    #[test]
    fn probes_integer_and_composite_keys_with_duplicates_and_nulls() {
        let source: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), Some(2), Some(1), None]));
        let index = SourceIndex::new(&[source]).unwrap();
        let target: ArrayRef = Arc::new(Int32Array::from(vec![Some(2), None, Some(1), Some(3)]));
        let (t, s) = index.probe(&[target], &BooleanArray::from(vec![true; 4])).unwrap();
        assert_eq!(t.values().to_vec(), vec![0, 2, 2]);
        let mut matched: Vec<u32> = s.values().to_vec();
        matched[1..].sort_unstable();
        assert_eq!(matched, vec![1, 0, 2]);

        assert!(matches!(index.keys, Keys::Dense { .. }));

        // Sparse integer keys are hashed; far below or above the source's keys never match.
        let source: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![
            Some(5),
            Some(1 << 40),
            Some(5),
            None,
        ]));
        let index = SourceIndex::new(&[source]).unwrap();
        assert!(matches!(index.keys, Keys::Integer(_)));
        let target: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![i64::MIN, 5, 1 << 40, i64::MAX]));
        let (t, s) = index.probe(&[target], &BooleanArray::from(vec![true; 4])).unwrap();
        assert_eq!(
            (t.values().to_vec(), s.values().to_vec()),
            (vec![1, 1, 2], vec![2, 0, 1])
        );
        let dense: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![5, 7, 5]));
        let index = SourceIndex::new(&[dense]).unwrap();
        let target: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![i64::MIN, 5, 6, 7, 8, i64::MAX]));
        let (t, s) = index.probe(&[target], &BooleanArray::from(vec![true; 6])).unwrap();
        assert_eq!(
            (t.values().to_vec(), s.values().to_vec()),
            (vec![1, 1, 3], vec![2, 0, 1])
        );

        let a: ArrayRef = Arc::new(StringArray::from(vec!["x", "y"]));
        let b: ArrayRef = Arc::new(Int32Array::from(vec![1, 1]));
        let index = SourceIndex::new(&[a, b]).unwrap();
        let ta: ArrayRef = Arc::new(StringArray::from(vec!["y", "x", "x"]));
        let tb: ArrayRef = Arc::new(Int32Array::from(vec![1, 2, 1]));
        let (t, s) = index
            .probe(&[ta, tb], &BooleanArray::from(vec![true, true, false]))
            .unwrap();
        assert_eq!((t.values().to_vec(), s.values().to_vec()), (vec![0], vec![1]));
    }
}

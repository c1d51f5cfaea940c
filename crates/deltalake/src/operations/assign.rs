//! Assigning new values to the columns of rows (UPDATE and MERGE): SQL expressions bound to the
//! column they set, converted to its type without loss, NOT NULL, generated columns, invariants
//! and CHECK constraints enforced.

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::{CastOptions, can_cast_types, cast_with_options};
use arrow::datatypes::DataType as ArrowType;

use crate::error::{DeltaError, DeltaResult};
use crate::expr::{BoundExpr, Expr};
use crate::protocol::StructField;
use crate::snapshot::Snapshot;
use crate::write::WriteRules;

/// One `column = expression`, bound: the column's position in the table schema, the field, the
/// value and the Arrow type values are converted to.
pub(crate) struct Assignment {
    index: usize,
    field: StructField,
    value: BoundExpr,
    target: ArrowType,
}

impl Assignment {
    /// Set top-level column `index` of `snapshot`'s schema to `value`; fails unless its values
    /// can be stored in the column.
    pub fn new(snapshot: &Snapshot, index: usize, value: BoundExpr) -> DeltaResult<Self> {
        let field = snapshot.schema().fields[index].clone();
        let target = snapshot.arrow_schema().field(index).data_type().clone();
        Self::with_type(index, field, target, value)
    }

    /// Set column `index`, described by `field` and stored as `target`, to `value`.
    pub fn with_type(index: usize, field: StructField, target: ArrowType, value: BoundExpr) -> DeltaResult<Self> {
        check_assignable(&field, &value, &target)?;
        Ok(Self {
            index,
            field,
            value,
            target,
        })
    }

    /// The column set.
    pub fn field(&self) -> &StructField {
        &self.field
    }
}

/// Fail unless values of `value` can be stored in `field`: the same type, a literal that
/// converts exactly, or a type Arrow converts from (checked per value when written).
fn check_assignable(field: &StructField, value: &BoundExpr, target: &ArrowType) -> DeltaResult<()> {
    let from = value.data_type().to_arrow()?;
    if &from == target {
        return Ok(());
    }
    let mismatch = || {
        DeltaError::InvalidExpression(format!(
            "cannot assign {} (type {}) to column '{}' of type {}",
            value.expr(),
            value.data_type(),
            field.name,
            field.data_type
        ))
    };
    if !can_cast_types(&from, target) {
        return Err(mismatch());
    }
    if let Expr::Literal(literal) = value.expr() {
        strict_cast(&literal.to_array(1)?, target).map_err(|_| mismatch())?;
    }
    Ok(())
}

/// `array` converted to `target`, failing (rather than giving NULL) on values that do not fit.
pub(super) fn strict_cast(array: &ArrayRef, target: &ArrowType) -> DeltaResult<ArrayRef> {
    if array.data_type() == target {
        return Ok(array.clone());
    }
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    Ok(cast_with_options(array, target, &options)?)
}

/// The rows of `rows` (in the table's schema) with the assignments applied, their values computed
/// over `input` (one row per row of `rows`): NOT NULL checked, generated columns recomputed, the
/// table's invariants and constraints checked. The result has the schema of `rows`.
pub(crate) fn assign(
    rows: &RecordBatch,
    input: &RecordBatch,
    assignments: &[Assignment],
    rules: &WriteRules,
) -> DeltaResult<RecordBatch> {
    let mut columns = rows.columns().to_vec();
    for a in assignments {
        let value = strict_cast(&a.value.evaluate(input)?, &a.target).map_err(|e| {
            DeltaError::InvalidExpression(format!(
                "cannot assign {} to column '{}': {e}",
                a.value.expr(),
                a.field.name
            ))
        })?;
        if !a.field.nullable && value.null_count() > 0 {
            return Err(DeltaError::Schema(format!(
                "column '{}' is NOT NULL but {} row(s) are set to NULL",
                a.field.name,
                value.null_count()
            )));
        }
        columns[a.index] = value;
    }
    let after = RecordBatch::try_new(rows.schema(), columns)?;
    if rules.is_empty() {
        return Ok(after);
    }
    let assigned = |column: &str| assignments.iter().any(|a| a.field.name.eq_ignore_ascii_case(column));
    rules.apply(after, &assigned)
}

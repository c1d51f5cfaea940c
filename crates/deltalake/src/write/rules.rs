//! The rules a table imposes on the rows written into it: column invariants (`delta.invariants`),
//! CHECK constraints (`delta.constraints.<name>`) and generated columns
//! (`delta.generationExpression`). A batch that breaks one is refused whole, with the rule and
//! examples of the offending rows in the error.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::compute::{cast, filter_record_batch, not};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::{DeltaError, DeltaResult};
use crate::expr::{BoundExpr, Expr};
use crate::protocol::table_config::{GENERATION_EXPRESSION, INVARIANTS};
use crate::protocol::{DataType, StructField, StructType, TableConfig};

/// How many offending rows an error shows.
const EXAMPLE_ROWS: usize = 3;

/// One predicate every row must satisfy (evaluate to TRUE; FALSE and NULL are violations).
#[derive(Debug, Clone)]
struct Check {
    /// How the rule is named in errors.
    description: String,
    predicate: BoundExpr,
}

/// A top-level column computed from the others.
#[derive(Debug, Clone)]
struct Generated {
    index: usize,
    field: StructField,
    sql: String,
    value: BoundExpr,
    /// `column <=> expression`, for values the writer supplies.
    agrees: BoundExpr,
}

/// The checks and generated columns of a table, bound to its schema once per write.
#[derive(Debug, Clone, Default)]
pub struct WriteRules {
    checks: Vec<Check>,
    generated: Vec<Generated>,
}

impl WriteRules {
    /// The rules of a table with this schema and these properties.
    pub fn new(schema: &StructType, configuration: &HashMap<String, String>) -> DeltaResult<Self> {
        let mut rules = Self::default();
        for (i, field) in schema.fields.iter().enumerate() {
            if let Some(sql) = field.metadata.get(GENERATION_EXPRESSION).and_then(|v| v.as_str()) {
                rules.generated.push(generated(schema, i, field, sql)?);
            }
        }
        collect_invariants(schema, &mut Vec::new(), &mut |path, sql| {
            let predicate = bind(schema, sql, &format!("the invariant of column {path}"))?;
            rules.checks.push(Check {
                description: format!("the invariant ({sql}) of column {path}"),
                predicate,
            });
            Ok(())
        })?;
        for (name, sql) in TableConfig::new(configuration).constraints() {
            let predicate = bind(schema, sql, &format!("CHECK constraint {name}"))?;
            rules.checks.push(Check {
                description: format!("CHECK constraint {name} ({sql})"),
                predicate,
            });
        }
        Ok(rules)
    }

    /// Whether there is nothing to check or compute.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.generated.is_empty()
    }

    /// Whether `column` (top-level) is generated: writers may leave it out of their data.
    pub fn is_generated(&self, column: &str) -> bool {
        self.generated.iter().any(|g| g.field.name.eq_ignore_ascii_case(column))
    }

    /// Fill the generated columns the writer did not supply (`supplied` says which it did) and
    /// check those it did, then check every invariant and constraint. `batch` has the table's
    /// columns, with logical names, in schema order.
    pub fn apply(&self, batch: RecordBatch, supplied: &dyn Fn(&str) -> bool) -> DeltaResult<RecordBatch> {
        let mut batch = batch;
        for g in &self.generated {
            if supplied(&g.field.name) {
                let agrees = g.agrees.evaluate_predicate(&batch)?;
                self.ensure(
                    &batch,
                    &agrees,
                    &format!("generated column {} = {}", g.field.name, g.sql),
                )?;
            } else {
                let value = g.value.evaluate(&batch)?;
                let target = batch.schema().field(g.index).data_type().clone();
                let value: ArrayRef = if value.data_type() == &target {
                    value
                } else {
                    cast(&value, &target)?
                };
                if !g.field.nullable
                    && let Some(nulls) = value.nulls().filter(|n| n.null_count() > 0)
                {
                    let valid = BooleanArray::from(nulls.inner().clone());
                    self.ensure(
                        &batch,
                        &valid,
                        &format!("NOT NULL generated column {} = {}", g.field.name, g.sql),
                    )?;
                }
                let mut columns = batch.columns().to_vec();
                columns[g.index] = value;
                batch = RecordBatch::try_new(batch.schema(), columns)?;
            }
        }
        for check in &self.checks {
            let result = check.predicate.evaluate_predicate(&batch)?;
            self.ensure(&batch, &result, &check.description)?;
        }
        Ok(batch)
    }

    /// Fail unless `result` is TRUE on every row.
    fn ensure(&self, batch: &RecordBatch, result: &BooleanArray, rule: &str) -> DeltaResult<()> {
        if result.null_count() == 0 && result.true_count() == result.len() {
            return Ok(());
        }
        // NULL counts as a violation: the violations are the rows where `result` is not TRUE.
        let violations = match result.nulls() {
            None => not(result)?,
            Some(nulls) => {
                let truth = result.values() & nulls.inner();
                BooleanArray::new(!&truth, None)
            }
        };
        let offending = filter_record_batch(batch, &violations)?;
        Err(DeltaError::ConstraintViolation {
            rule: rule.to_string(),
            rows: offending.num_rows(),
            examples: render_rows(&offending, EXAMPLE_ROWS),
        })
    }
}

fn bind(schema: &StructType, sql: &str, what: &str) -> DeltaResult<BoundExpr> {
    Expr::parse(sql)
        .and_then(|e| e.bind_predicate(schema))
        .map_err(|e| DeltaError::InvalidExpression(format!("{what} cannot be enforced: {e}")))
}

fn generated(schema: &StructType, index: usize, field: &StructField, sql: &str) -> DeltaResult<Generated> {
    let context = |e: DeltaError| {
        DeltaError::InvalidExpression(format!(
            "generated column {} ({sql}) cannot be computed: {e}",
            field.name
        ))
    };
    let parsed = Expr::parse(sql).map_err(context)?;
    let value = parsed.clone().bind(schema).map_err(context)?;
    let column = Expr::Column(vec![field.name.clone()]);
    let DataType::Primitive(ty) = field.data_type else {
        return Err(context(DeltaError::InvalidExpression(
            "only primitive columns can be generated".into(),
        )));
    };
    let agrees = column
        .null_safe_eq(parsed.cast(ty))
        .bind_predicate(schema)
        .map_err(context)?;
    Ok(Generated {
        index,
        field: field.clone(),
        sql: sql.to_string(),
        value,
        agrees,
    })
}

/// The column invariants (`delta.invariants` field metadata) of `schema`, nested fields included:
/// `(dotted column path, SQL expression)` in schema order.
pub fn invariants(schema: &StructType) -> DeltaResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    collect_invariants(schema, &mut Vec::new(), &mut |path, sql| {
        found.push((path.to_string(), sql.to_string()));
        Ok(())
    })?;
    Ok(found)
}

/// Call `found(column path, expression)` for every column invariant, nested ones included.
fn collect_invariants(
    schema: &StructType,
    path: &mut Vec<String>,
    found: &mut dyn FnMut(&str, &str) -> DeltaResult<()>,
) -> DeltaResult<()> {
    for field in &schema.fields {
        path.push(field.name.clone());
        if let Some(raw) = field.metadata.get(INVARIANTS) {
            let sql = invariant_expression(raw).ok_or_else(|| {
                DeltaError::schema(format!(
                    "column {}: delta.invariants is not {{\"expression\": {{\"expression\": SQL}}}}",
                    path.join(".")
                ))
            })?;
            found(&path.join("."), &sql)?;
        }
        if let DataType::Struct(inner) = &field.data_type {
            collect_invariants(inner, path, found)?;
        }
        path.pop();
    }
    Ok(())
}

/// The SQL of an invariant: `{"expression": {"expression": "x > 3"}}`, as a JSON string or object.
fn invariant_expression(raw: &serde_json::Value) -> Option<String> {
    let parsed;
    let value = match raw {
        serde_json::Value::String(s) => {
            parsed = serde_json::from_str::<serde_json::Value>(s).ok()?;
            &parsed
        }
        other => other,
    };
    value.get("expression")?.get("expression")?.as_str().map(str::to_string)
}

/// Up to `limit` rows as `{a: 1, b: x}`.
fn render_rows(batch: &RecordBatch, limit: usize) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let formatters: Vec<_> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let schema = batch.schema();
    (0..batch.num_rows().min(limit))
        .map(|row| {
            let cells: Vec<String> = formatters
                .iter()
                .zip(schema.fields())
                .map(|(f, field)| format!("{}: {}", field.name(), f.value(row)))
                .collect();
            format!("{{{}}}", cells.join(", "))
        })
        .collect()
}

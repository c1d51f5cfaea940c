//! Binding a merge: the source normalised to Delta types, the table schema (evolved when asked),
//! the schema expressions are bound to (the target and source rows as two structs named by their
//! aliases), the join and the clauses with their assignments.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StructArray, new_null_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType as ArrowType, Field, Fields, Schema as ArrowSchema, SchemaRef};
use serde_json::{Map, Value};

use super::join::Join;
use super::{Aliases, Clause, ClauseAction, ClauseKind};
use crate::error::{DeltaError, DeltaResult};
use crate::expr::{BoundExpr, Expr};
use crate::operations::assign::Assignment;
use crate::operations::matching::Predicate;
use crate::operations::write::with_new_columns;
use crate::protocol::table_config::IDENTITY_START;
use crate::protocol::{DataType, Metadata, StructField, StructType};
use crate::snapshot::Snapshot;
use crate::write::WriteRules;

/// What a clause on target rows does.
pub(super) enum TargetAction {
    Update(Vec<Assignment>),
    Delete,
}

/// A bound clause: its condition (over the combined schema) and its action.
pub(super) struct BoundClause<A> {
    pub predicate: Option<BoundExpr>,
    pub action: A,
}

/// A merge, bound to the table and the source.
pub(super) struct Plan {
    pub aliases: Aliases,
    /// The source rows, each column converted to the Arrow type of its Delta type.
    pub source: RecordBatch,
    /// The table schema the merge writes (with the source's new columns under schema evolution).
    pub schema: StructType,
    /// Its Arrow schema.
    pub arrow_schema: SchemaRef,
    /// Columns added by schema evolution (at the end of `schema`).
    pub new_columns: Vec<Field>,
    /// The metadata action setting the evolved schema, when it changed.
    pub metadata: Option<Metadata>,
    pub join: Join,
    pub matched: Vec<BoundClause<TargetAction>>,
    pub not_matched_by_source: Vec<BoundClause<TargetAction>>,
    pub not_matched: Vec<BoundClause<Vec<Assignment>>>,
    pub rules: WriteRules,
    /// The clauses as `commitInfo` describes them, by kind.
    pub descriptions: [Vec<Value>; 3],
    target_fields: Fields,
    source_fields: Fields,
}

impl Plan {
    /// Bind a merge of `source` into `snapshot`'s table joined on `predicate`.
    pub fn new(
        snapshot: &Snapshot,
        source: &RecordBatch,
        predicate: &str,
        aliases: Aliases,
        clauses: &[Clause],
        merge_schema: bool,
    ) -> DeltaResult<Self> {
        let source_schema = StructType::try_from_arrow(&source.schema())?;
        let source = normalise(source, &source_schema)?;
        let (schema, metadata) = if merge_schema {
            let extra: Vec<&StructField> = source_schema
                .fields
                .iter()
                .filter(|f| snapshot.schema().field(&f.name).is_none())
                .collect();
            match extra.is_empty() {
                true => (snapshot.schema().clone(), None),
                false => {
                    let (schema, metadata) = with_new_columns(snapshot, extra);
                    (schema, Some(metadata))
                }
            }
        } else {
            (snapshot.schema().clone(), None)
        };
        let arrow_schema = Arc::new(schema.to_arrow()?);
        let new_columns = arrow_schema.fields()[snapshot.schema().fields.len()..]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let combined = StructType::new(vec![
            StructField::new(&aliases.target, DataType::Struct(Box::new(schema.clone())), true),
            StructField::new(&aliases.source, DataType::Struct(Box::new(source_schema.clone())), true),
        ]);
        let predicate = aliases.qualified(&Expr::parse(predicate)?, &schema, &source_schema)?;
        let join = Join::new(&predicate, &combined, &aliases)?;
        let rules = WriteRules::new(&schema, snapshot.properties())?;
        let target_fields = nullable_fields(&arrow_schema);
        let source_fields = nullable_fields(&source.schema());
        let mut plan = Self {
            aliases,
            source,
            schema,
            arrow_schema,
            new_columns,
            metadata,
            join,
            matched: Vec::new(),
            not_matched_by_source: Vec::new(),
            not_matched: Vec::new(),
            rules,
            descriptions: Default::default(),
            target_fields,
            source_fields,
        };
        let binder = Binder {
            plan: &plan,
            combined: &combined,
            source_schema: &source_schema,
        };
        let mut bound = Vec::new();
        for clause in clauses {
            bound.push(binder.clause(clause)?);
        }
        for (clause, (predicate, action)) in clauses.iter().zip(bound) {
            let mut description = Map::new();
            description.insert("actionType".into(), Value::from(clause.action.name()));
            if let Some(p) = &clause.predicate {
                description.insert("predicate".into(), Value::from(p.clone()));
            }
            let slot = match clause.kind {
                ClauseKind::Matched => 0,
                ClauseKind::NotMatched => 1,
                ClauseKind::NotMatchedBySource => 2,
            };
            plan.descriptions[slot].push(Value::Object(description));
            match (clause.kind, action) {
                (ClauseKind::Matched, Bound::Target(action)) => plan.matched.push(BoundClause { predicate, action }),
                (ClauseKind::NotMatchedBySource, Bound::Target(action)) => {
                    plan.not_matched_by_source.push(BoundClause { predicate, action })
                }
                (_, Bound::Insert(action)) => plan.not_matched.push(BoundClause { predicate, action }),
                (_, Bound::Target(_)) => {
                    return Err(DeltaError::InvalidArgument(
                        "a WHEN NOT MATCHED clause can only insert".into(),
                    ));
                }
            }
        }
        Ok(plan)
    }

    /// A batch of the combined schema: `target` and `source` rows side by side (a missing side
    /// is all NULL), `rows` rows.
    pub fn combined(
        &self,
        target: Option<&RecordBatch>,
        source: Option<&RecordBatch>,
        rows: usize,
    ) -> DeltaResult<RecordBatch> {
        let side = |batch: Option<&RecordBatch>, fields: &Fields| -> ArrayRef {
            match batch {
                Some(b) => Arc::new(StructArray::from(b.clone())),
                None => new_null_array(&ArrowType::Struct(fields.clone()), rows),
            }
        };
        let target = side(target, &self.target_fields);
        let source = side(source, &self.source_fields);
        let schema = ArrowSchema::new(vec![
            Field::new(&self.aliases.target, target.data_type().clone(), true),
            Field::new(&self.aliases.source, source.data_type().clone(), true),
        ]);
        Ok(RecordBatch::try_new(Arc::new(schema), vec![target, source])?)
    }

    /// A batch of `batch`'s rows of the table's file, with the columns schema evolution added
    /// (all NULL).
    pub fn pad(&self, batch: RecordBatch) -> DeltaResult<RecordBatch> {
        if self.new_columns.is_empty() {
            return Ok(batch);
        }
        let mut fields: Vec<Field> = batch.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns = batch.columns().to_vec();
        for field in &self.new_columns {
            columns.push(new_null_array(field.data_type(), batch.num_rows()));
            fields.push(field.clone());
        }
        Ok(RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns)?)
    }

    /// `batch`, some columns of the table's file, with every other table column all NULL: what
    /// the merge's decisions read ([`Plan::decision_columns`]) of a file probed on those alone.
    pub fn widen(&self, batch: &RecordBatch) -> DeltaResult<RecordBatch> {
        let columns = self
            .target_fields
            .iter()
            .map(|f| match batch.column_by_name(f.name()) {
                Some(column) => column.clone(),
                None => new_null_array(f.data_type(), batch.num_rows()),
            })
            .collect();
        let schema = ArrowSchema::new(self.target_fields.clone());
        Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
    }

    /// The target columns the merge's decisions read: which target rows match (the join) and
    /// which clause takes each (the clauses' conditions).
    pub fn decision_columns(&self) -> Vec<&str> {
        let conditions = self.matched.iter().chain(&self.not_matched_by_source);
        let exprs = self
            .join
            .target_keys
            .iter()
            .chain(&self.join.residual)
            .chain(conditions.filter_map(|c| c.predicate.as_ref()));
        let mut columns = Vec::new();
        for expr in exprs {
            for path in expr.expr().column_paths() {
                if let [relation, column, ..] = path
                    && relation.eq_ignore_ascii_case(&self.aliases.target)
                    && !columns.contains(&column.as_str())
                {
                    columns.push(column.as_str());
                }
            }
        }
        columns
    }

    /// `rows` rows of NULL in every table column (the start of inserted rows).
    pub fn null_rows(&self, rows: usize) -> DeltaResult<RecordBatch> {
        let columns = self
            .target_fields
            .iter()
            .map(|f| new_null_array(f.data_type(), rows))
            .collect();
        let schema = ArrowSchema::new(self.target_fields.clone());
        Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
    }
}

/// Every field of `schema`, nullable.
fn nullable_fields(schema: &ArrowSchema) -> Fields {
    schema
        .fields()
        .iter()
        .map(|f| Arc::new(f.as_ref().clone().with_nullable(true)))
        .collect()
}

/// `batch` with each column converted to the Arrow type of its Delta type (large strings to
/// strings, nanosecond timestamps to microseconds, ...).
fn normalise(batch: &RecordBatch, schema: &StructType) -> DeltaResult<RecordBatch> {
    let arrow = Arc::new(schema.to_arrow()?);
    let columns = batch
        .columns()
        .iter()
        .zip(arrow.fields())
        .map(|(c, f)| match c.data_type() == f.data_type() {
            true => Ok(c.clone()),
            false => cast(c, f.data_type()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(arrow, columns)?)
}

/// A clause's action, bound.
enum Bound {
    Target(TargetAction),
    Insert(Vec<Assignment>),
}

/// Binds clauses against a plan's schemas.
struct Binder<'a> {
    plan: &'a Plan,
    combined: &'a StructType,
    source_schema: &'a StructType,
}

impl Binder<'_> {
    fn clause(&self, clause: &Clause) -> DeltaResult<(Option<BoundExpr>, Bound)> {
        let predicate = clause
            .predicate
            .as_deref()
            .map(|sql| {
                let expr = self.qualified(&Expr::parse(sql)?)?;
                self.check_side(clause.kind, &expr)?;
                expr.bind_predicate(self.combined)
            })
            .transpose()?;
        let action = match &clause.action {
            ClauseAction::Update(updates) => {
                Bound::Target(TargetAction::Update(self.assignments(clause.kind, updates)?))
            }
            ClauseAction::UpdateAll(except) => Bound::Target(TargetAction::Update(self.all_columns(except, false)?)),
            ClauseAction::Delete => Bound::Target(TargetAction::Delete),
            ClauseAction::Insert(values) => Bound::Insert(self.inserted(self.assignments(clause.kind, values)?)?),
            ClauseAction::InsertAll(except) => Bound::Insert(self.inserted(self.all_columns(except, true)?)?),
        };
        Ok((predicate, action))
    }

    /// `expr` with its unqualified columns qualified (see [`Aliases::qualified`]).
    fn qualified(&self, expr: &Expr) -> DeltaResult<Expr> {
        self.plan.aliases.qualified(expr, &self.plan.schema, self.source_schema)
    }

    /// Fail if `expr` reads the relation that has no row for this kind of clause.
    fn check_side(&self, kind: ClauseKind, expr: &Expr) -> DeltaResult<()> {
        let (absent, name, clause) = match kind {
            ClauseKind::Matched => return Ok(()),
            ClauseKind::NotMatched => (&self.plan.aliases.target, "target", "WHEN NOT MATCHED"),
            ClauseKind::NotMatchedBySource => (&self.plan.aliases.source, "source", "WHEN NOT MATCHED BY SOURCE"),
        };
        let reads_absent = expr
            .column_paths()
            .iter()
            .any(|p| p.first().is_some_and(|f| f.eq_ignore_ascii_case(absent)));
        if reads_absent {
            return Err(DeltaError::InvalidExpression(format!(
                "{expr}: a {clause} clause has no {name} row, so it cannot read {absent}.* columns"
            )));
        }
        Ok(())
    }

    /// The index of target column `column` (`value` or `<target alias>.value`).
    fn target_column(&self, column: &str) -> DeltaResult<usize> {
        let name = match column.split_once('.') {
            Some((alias, rest)) if alias.eq_ignore_ascii_case(&self.plan.aliases.target) => rest,
            _ => column,
        };
        let name = name.trim_matches('`');
        self.plan.schema.index_of(name).ok_or_else(|| {
            let columns: Vec<&str> = self.plan.schema.fields.iter().map(|f| f.name.as_str()).collect();
            DeltaError::InvalidArgument(format!(
                "cannot set column '{column}': it does not exist in the table; columns are: {}",
                columns.join(", ")
            ))
        })
    }

    fn assignment(&self, index: usize, value: BoundExpr) -> DeltaResult<Assignment> {
        Assignment::with_type(
            index,
            self.plan.schema.fields[index].clone(),
            self.plan.arrow_schema.field(index).data_type().clone(),
            value,
        )
    }

    fn assignments(&self, kind: ClauseKind, values: &[(String, Predicate)]) -> DeltaResult<Vec<Assignment>> {
        if values.is_empty() {
            return Err(DeltaError::InvalidArgument(
                "an update or insert clause needs at least one column: call update / set".into(),
            ));
        }
        let mut seen = HashSet::new();
        values
            .iter()
            .map(|(column, value)| {
                let index = self.target_column(column)?;
                if !seen.insert(index) {
                    return Err(DeltaError::InvalidArgument(format!(
                        "column '{}' is assigned more than once in one clause",
                        self.plan.schema.fields[index].name
                    )));
                }
                let expr = self.qualified(&value.to_expr()?)?;
                self.check_side(kind, &expr)?;
                self.assignment(index, expr.bind(self.combined)?)
            })
            .collect()
    }

    /// Every target column but `except` from the source column of the same name.
    fn all_columns(&self, except: &[String], insert: bool) -> DeltaResult<Vec<Assignment>> {
        let excluded = except
            .iter()
            .map(|c| self.target_column(c))
            .collect::<DeltaResult<HashSet<usize>>>()?;
        let mut assignments = Vec::new();
        for (index, field) in self.plan.schema.fields.iter().enumerate() {
            if excluded.contains(&index) || (insert && self.plan.rules.is_generated(&field.name)) {
                continue;
            }
            let Some(source) = self.source_schema.field(&field.name) else {
                continue;
            };
            let value = Expr::Column(vec![self.plan.aliases.source.clone(), source.name.clone()]);
            assignments.push(self.assignment(index, value.bind(self.combined)?)?);
        }
        if assignments.is_empty() {
            return Err(DeltaError::InvalidArgument(
                "no source column has the name of a target column: nothing to update or insert".into(),
            ));
        }
        Ok(assignments)
    }

    /// `assignments` for an insert, checked to set every NOT NULL column the table does not
    /// generate.
    fn inserted(&self, assignments: Vec<Assignment>) -> DeltaResult<Vec<Assignment>> {
        for field in &self.plan.schema.fields {
            let set = assignments.iter().any(|a| a.field().name == field.name);
            if !set && field.metadata.contains_key(IDENTITY_START) {
                return Err(DeltaError::InvalidArgument(format!(
                    "identity column '{}' is not generated by MERGE inserts yet: set it in the insert clause",
                    field.name
                )));
            }
            if !field.nullable && !set && !self.plan.rules.is_generated(&field.name) {
                return Err(DeltaError::InvalidArgument(format!(
                    "column '{}' is NOT NULL but the insert clause does not set it",
                    field.name
                )));
            }
        }
        Ok(assignments)
    }
}

impl Plan {
    /// A batch with only the source struct, for the source key expressions.
    pub fn source_only(&self) -> DeltaResult<RecordBatch> {
        self.one_side(&self.aliases.source, &self.source)
    }

    /// A batch with only the target struct over `batch`, for the target key expressions.
    pub fn target_only(&self, batch: &RecordBatch) -> DeltaResult<RecordBatch> {
        self.one_side(&self.aliases.target, batch)
    }

    fn one_side(&self, alias: &str, batch: &RecordBatch) -> DeltaResult<RecordBatch> {
        let array: ArrayRef = Arc::new(StructArray::from(batch.clone()));
        let schema = ArrowSchema::new(vec![Field::new(alias, array.data_type().clone(), true)]);
        Ok(RecordBatch::try_new_with_options(
            Arc::new(schema),
            vec![array],
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
        )?)
    }
}

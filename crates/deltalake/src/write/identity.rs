//! Identity columns: values generated from `start` and `step`, with the high-water mark kept in the
//! field metadata so that later writes continue after it.

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch};
use arrow::datatypes::{DataType as ArrowType, Field, Schema as ArrowSchema};
use serde_json::Value;

use crate::error::{DeltaError, DeltaResult};
use crate::protocol::table_config::{
    IDENTITY_ALLOW_EXPLICIT_INSERT as ALLOW_EXPLICIT_INSERT, IDENTITY_HIGH_WATER_MARK as HIGH_WATER_MARK,
    IDENTITY_START as START, IDENTITY_STEP as STEP,
};
use crate::protocol::{DataType, PrimitiveType, StructType};

#[derive(Debug)]
struct IdentityColumn {
    name: String,
    next: i64,
    step: i64,
    allow_explicit: bool,
    generated_any: bool,
}

/// The identity columns of a table and the values handed out during one write.
#[derive(Debug, Default)]
pub struct IdentityGenerator {
    columns: Vec<IdentityColumn>,
}

impl IdentityGenerator {
    /// The identity columns of `schema` (top-level `long` columns with `delta.identity.*` metadata).
    pub fn new(schema: &StructType) -> DeltaResult<Self> {
        let mut columns = Vec::new();
        for field in &schema.fields {
            let Some(start) = field.metadata.get(START) else {
                continue;
            };
            if field.data_type != DataType::Primitive(PrimitiveType::Long) {
                return Err(DeltaError::schema(format!(
                    "identity column '{}' must be of type long",
                    field.name
                )));
            }
            let number = |key: &str, v: &Value| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .ok_or_else(|| {
                        DeltaError::schema(format!("identity column '{}': {key} is not a number", field.name))
                    })
            };
            let start = number(START, start)?;
            let step = field.metadata.get(STEP).map_or(Ok(1), |v| number(STEP, v))?;
            if step == 0 {
                return Err(DeltaError::schema(format!(
                    "identity column '{}': step must not be 0",
                    field.name
                )));
            }
            let next = match field.metadata.get(HIGH_WATER_MARK) {
                Some(v) => number(HIGH_WATER_MARK, v)?
                    .checked_add(step)
                    .ok_or_else(|| overflow(&field.name))?,
                None => start,
            };
            let allow_explicit = field
                .metadata
                .get(ALLOW_EXPLICIT_INSERT)
                .is_some_and(|v| v.as_bool() == Some(true) || v == "true");
            columns.push(IdentityColumn {
                name: field.name.clone(),
                next,
                step,
                allow_explicit,
                generated_any: false,
            });
        }
        Ok(Self { columns })
    }

    /// Add generated values for identity columns the batch lacks; refuse explicit values where
    /// the column does not allow them.
    pub fn fill(&mut self, batch: &RecordBatch) -> DeltaResult<RecordBatch> {
        if self.columns.is_empty() {
            return Ok(batch.clone());
        }
        let schema = batch.schema();
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns = batch.columns().to_vec();
        for column in &mut self.columns {
            if schema
                .fields()
                .iter()
                .any(|f| f.name().eq_ignore_ascii_case(&column.name))
            {
                if !column.allow_explicit {
                    return Err(DeltaError::InvalidArgument(format!(
                        "identity column '{}' is generated: the data must not provide it",
                        column.name
                    )));
                }
                continue;
            }
            let rows = i64::try_from(batch.num_rows()).map_err(|_| overflow(&column.name))?;
            let first = column.next;
            let end = rows
                .checked_mul(column.step)
                .and_then(|n| first.checked_add(n))
                .ok_or_else(|| overflow(&column.name))?;
            let values = Int64Array::from_iter_values((0..rows).map(|i| first + i * column.step));
            column.next = end;
            column.generated_any |= rows > 0;
            fields.push(Field::new(&column.name, ArrowType::Int64, false));
            columns.push(Arc::new(values));
        }
        Ok(RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns)?)
    }

    /// The schema with the new high-water marks, if any value was generated.
    pub fn updated_schema(&self, schema: &StructType) -> Option<StructType> {
        let generated: Vec<&IdentityColumn> = self.columns.iter().filter(|c| c.generated_any).collect();
        if generated.is_empty() {
            return None;
        }
        let mut schema = schema.clone();
        for column in generated {
            if let Some(field) = schema.fields.iter_mut().find(|f| f.name == column.name) {
                field
                    .metadata
                    .insert(HIGH_WATER_MARK.into(), Value::from(column.next - column.step));
            }
        }
        Some(schema)
    }
}

fn overflow(name: &str) -> DeltaError {
    DeltaError::InvalidArgument(format!("identity column '{name}' ran out of values"))
}

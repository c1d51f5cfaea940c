//! The active files of a snapshot as one Arrow table for people and dataframes: path, size,
//! modification time, record count, per-column null counts, minimums and maximums from the
//! statistics, and typed partition values.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray, StructArray};
use arrow::datatypes::{Field, Fields, Schema as ArrowSchema};
use serde_json::Value;

use crate::error::DeltaResult;
use crate::protocol::{DataType, PrimitiveType, Scalar, StructType};
use crate::snapshot::Snapshot;

/// Which statistic a column of the table holds.
#[derive(Clone, Copy)]
enum Stat {
    NullCount,
    Min,
    Max,
}

impl Stat {
    fn key(self) -> &'static str {
        match self {
            Stat::NullCount => "nullCount",
            Stat::Min => "minValues",
            Stat::Max => "maxValues",
        }
    }
}

impl Snapshot {
    /// The active files as one batch: `path`, `size_bytes`, `modification_time`, `num_records`,
    /// then `null_count`, `min` and `max` (structs of the table's primitive columns, nested like the
    /// schema) and `partition` (typed partition values) when the table has any.
    ///
    /// With `flatten`, the structs are replaced by one column per leaf named with dots
    /// (`min.a.b`, `partition.day`).
    pub fn add_actions_table(&self, flatten: bool) -> DeltaResult<RecordBatch> {
        let files: Vec<_> = self.files().iter().collect();
        let stats: Vec<Option<Value>> = files
            .iter()
            .map(|f| f.stats().and_then(|s| serde_json::from_str(s).ok()))
            .collect();
        let mut columns: Vec<(String, ArrayRef)> = vec![
            (
                "path".into(),
                Arc::new(StringArray::from_iter_values(files.iter().map(|f| f.path()))),
            ),
            (
                "size_bytes".into(),
                Arc::new(Int64Array::from_iter_values(files.iter().map(|f| f.size()))),
            ),
            (
                "modification_time".into(),
                Arc::new(Int64Array::from_iter_values(
                    files.iter().map(|f| f.modification_time()),
                )),
            ),
            (
                "num_records".into(),
                Arc::new(Int64Array::from_iter(stats.iter().map(|s| {
                    s.as_ref().and_then(|s| s.get("numRecords")).and_then(Value::as_i64)
                }))),
            ),
        ];
        let partition_columns = self.partition_columns();
        let data_fields = StructType::new(
            self.schema()
                .fields
                .iter()
                .filter(|f| !partition_columns.iter().any(|p| p.eq_ignore_ascii_case(&f.name)))
                .cloned()
                .collect(),
        );
        for (name, stat) in [("null_count", Stat::NullCount), ("min", Stat::Min), ("max", Stat::Max)] {
            let values: Vec<Option<&Value>> = stats
                .iter()
                .map(|s| s.as_ref().and_then(|s| s.get(stat.key())))
                .collect();
            if let Some(array) = stats_struct(&data_fields, &values, stat)? {
                columns.push((name.into(), array));
            }
        }
        if !partition_columns.is_empty() {
            let mut fields = Vec::new();
            let mut arrays = Vec::new();
            for column in partition_columns {
                let Some(field) = self.schema().field(column) else {
                    continue;
                };
                let DataType::Primitive(ty) = field.data_type else {
                    continue;
                };
                let scalars = files
                    .iter()
                    .map(|f| {
                        let values = f.partition_values();
                        let raw = values.get(field.physical_name()).copied().flatten();
                        Scalar::parse_partition_value(raw, ty)
                    })
                    .collect::<DeltaResult<Vec<_>>>()?;
                let array = scalars_to_array(&scalars, ty)?;
                fields.push(Field::new(&field.name, array.data_type().clone(), true));
                arrays.push(array);
            }
            let partition = StructArray::try_new(Fields::from(fields), arrays, None)?;
            columns.push(("partition".into(), Arc::new(partition)));
        }
        if flatten {
            columns = columns
                .into_iter()
                .flat_map(|(name, array)| flatten_column(name, array))
                .collect();
        }
        let schema = ArrowSchema::new(
            columns
                .iter()
                .map(|(name, a)| Field::new(name, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        Ok(RecordBatch::try_new(Arc::new(schema), arrays)?)
    }
}

/// The struct of one statistic over the primitive columns of `schema` (recursing into structs);
/// `None` when no column has that statistic.
fn stats_struct(schema: &StructType, values: &[Option<&Value>], stat: Stat) -> DeltaResult<Option<ArrayRef>> {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for field in &schema.fields {
        let children: Vec<Option<&Value>> = values
            .iter()
            .map(|v| v.and_then(|v| v.get(field.physical_name())))
            .collect();
        let array = match &field.data_type {
            DataType::Struct(inner) => match stats_struct(inner, &children, stat)? {
                Some(array) => array,
                None => continue,
            },
            DataType::Primitive(ty) if *ty != PrimitiveType::Variant => match stat {
                Stat::NullCount => Arc::new(Int64Array::from_iter(
                    children.iter().map(|v| v.and_then(Value::as_i64)),
                )),
                Stat::Min | Stat::Max => {
                    let scalars: Vec<Scalar> = children
                        .iter()
                        .map(|v| {
                            v.and_then(|v| Scalar::from_stats_json(v, *ty))
                                .unwrap_or(Scalar::Null(*ty))
                        })
                        .collect();
                    scalars_to_array(&scalars, *ty)?
                }
            },
            _ => continue,
        };
        fields.push(Field::new(&field.name, array.data_type().clone(), true));
        arrays.push(array);
    }
    if fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(Arc::new(StructArray::try_new(
        Fields::from(fields),
        arrays,
        None,
    )?)))
}

/// One array of values of type `ty`.
fn scalars_to_array(scalars: &[Scalar], ty: PrimitiveType) -> DeltaResult<ArrayRef> {
    if scalars.is_empty() {
        return Scalar::Null(ty).to_array(0);
    }
    let arrays = scalars.iter().map(|s| s.to_array(1)).collect::<DeltaResult<Vec<_>>>()?;
    let refs: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
    Ok(arrow::compute::concat(&refs)?)
}

/// A column, or the leaves of a struct column named `parent.child`.
fn flatten_column(name: String, array: ArrayRef) -> Vec<(String, ArrayRef)> {
    match array.as_any().downcast_ref::<StructArray>() {
        Some(s) => s
            .fields()
            .iter()
            .zip(s.columns())
            .flat_map(|(f, a)| flatten_column(format!("{name}.{}", f.name()), a.clone()))
            .collect(),
        None => vec![(name, array)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_names_leaves_with_dots() {
        let inner = StructArray::from(vec![(
            Arc::new(Field::new("b", arrow::datatypes::DataType::Int64, true)),
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        )]);
        let outer = StructArray::from(vec![(
            Arc::new(Field::new("a", inner.data_type().clone(), true)),
            Arc::new(inner) as ArrayRef,
        )]);
        let flat = flatten_column("min".into(), Arc::new(outer));
        assert_eq!(flat.len(), 1);
        assert_eq!(flat[0].0, "min.a.b");
    }
}

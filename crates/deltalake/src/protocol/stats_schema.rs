//! Which columns of a table get statistics (per [`StatsConfig`]) and the shape of those
//! statistics as a struct (`add.stats_parsed` in checkpoints). Shared by the writer, which
//! collects them, the checkpoint writer and clustering.

use arrow::datatypes::{DataType as ArrowType, Field, Fields};

use super::schema::{DataType, PrimitiveType, StructType};
use super::table_config::StatsConfig;

/// One leaf column that gets statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsColumn {
    /// Logical names from the top-level column down.
    pub logical: Vec<String>,
    /// Physical names (the keys of the stats JSON).
    pub physical: Vec<String>,
    /// The Arrow type of the column when min / max are recorded (not for booleans, binaries,
    /// variants and nested types).
    pub bounded: Option<ArrowType>,
}

/// The leaf columns of a table that get statistics, in schema order.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsSchema {
    columns: Vec<StatsColumn>,
}

impl StatsSchema {
    /// The columns of `schema` that `config` selects; `partition_columns` never get statistics.
    pub fn new(schema: &StructType, partition_columns: &[String], config: &StatsConfig) -> Self {
        let mut leaves = Vec::new();
        collect_leaves(schema, &mut Vec::new(), &mut Vec::new(), partition_columns, &mut leaves);
        let columns = match &config.stats_columns {
            Some(columns) => {
                let wanted: Vec<String> = columns.iter().map(|c| c.to_lowercase()).collect();
                leaves
                    .into_iter()
                    .filter(|l| {
                        let path = l.logical.join(".").to_lowercase();
                        wanted.iter().any(|w| path == *w || path.starts_with(&format!("{w}.")))
                    })
                    .collect()
            }
            None if config.num_indexed_cols < 0 => leaves,
            None => leaves.into_iter().take(config.num_indexed_cols as usize).collect(),
        };
        Self { columns }
    }

    /// The selected columns.
    pub fn columns(&self) -> &[StatsColumn] {
        &self.columns
    }

    /// Whether the leaf column at this logical path (names matched case-insensitively) gets a
    /// minimum and a maximum: it is selected for statistics and of a type that has bounds.
    pub fn has_bounds(&self, path: &[String]) -> bool {
        self.columns.iter().any(|l| {
            l.bounded.is_some()
                && l.logical.len() == path.len()
                && l.logical.iter().zip(path).all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
    }

    /// The fields of statistics stored as a struct (`add.stats_parsed` in checkpoints) for these
    /// columns: `numRecords`, `minValues` and `maxValues` typed as the columns, `nullCount` as
    /// longs, `tightBounds`. Empty groups are left out (Parquet cannot store empty structs).
    pub fn parsed_fields(&self) -> Fields {
        let bounded = self
            .columns
            .iter()
            .filter_map(|l| Some((l.physical.as_slice(), l.bounded.clone()?)))
            .collect::<Vec<_>>();
        let counts: Vec<_> = self
            .columns
            .iter()
            .map(|l| (l.physical.as_slice(), ArrowType::Int64))
            .collect();
        let mut fields = vec![Field::new("numRecords", ArrowType::Int64, true)];
        for (name, leaves) in [("minValues", &bounded), ("maxValues", &bounded), ("nullCount", &counts)] {
            if !leaves.is_empty() {
                fields.push(Field::new(name, ArrowType::Struct(nest(leaves)), true));
            }
        }
        fields.push(Field::new("tightBounds", ArrowType::Boolean, true));
        fields.into()
    }
}

/// Nested struct fields for leaves given by their path, in order (leaves sharing a parent are adjacent).
fn nest(leaves: &[(&[String], ArrowType)]) -> Fields {
    let mut fields = Vec::new();
    let mut i = 0;
    while i < leaves.len() {
        let (path, leaf_type) = &leaves[i];
        let name = &path[0];
        if path.len() == 1 {
            fields.push(Field::new(name, leaf_type.clone(), true));
            i += 1;
            continue;
        }
        let end = i + leaves[i..]
            .iter()
            .take_while(|(p, _)| p.len() > 1 && p[0] == *name)
            .count();
        let children: Vec<_> = leaves[i..end].iter().map(|(p, t)| (&p[1..], t.clone())).collect();
        fields.push(Field::new(name, ArrowType::Struct(nest(&children)), true));
        i = end;
    }
    fields.into()
}

fn collect_leaves(
    schema: &StructType,
    logical: &mut Vec<String>,
    physical: &mut Vec<String>,
    partition_columns: &[String],
    out: &mut Vec<StatsColumn>,
) {
    for field in &schema.fields {
        if logical.is_empty() && partition_columns.iter().any(|p| p.eq_ignore_ascii_case(&field.name)) {
            continue;
        }
        logical.push(field.name.clone());
        physical.push(field.physical_name().to_string());
        match &field.data_type {
            DataType::Struct(inner) => collect_leaves(inner, logical, physical, partition_columns, out),
            other => {
                let bounded = match other {
                    DataType::Primitive(p)
                        if !matches!(
                            p,
                            PrimitiveType::Boolean | PrimitiveType::Binary | PrimitiveType::Variant
                        ) =>
                    {
                        other.to_arrow().ok()
                    }
                    _ => None,
                };
                out.push(StatsColumn {
                    logical: logical.clone(),
                    physical: physical.clone(),
                    bounded,
                });
            }
        }
        logical.pop();
        physical.pop();
    }
}

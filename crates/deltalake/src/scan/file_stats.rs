//! Statistics of one file for file skipping: exact partition values plus the `stats` JSON,
//! looked up by physical column names.

use std::collections::HashMap;

use crate::error::DeltaResult;
use crate::expr::{JsonStats, StatsProvider};
use crate::log::FileView;
use crate::protocol::{DataType, PrimitiveType, Scalar, StructField, StructType};
use crate::snapshot::Snapshot;

/// What is shared by the statistics of every file of a snapshot.
pub(crate) struct FileStats {
    /// The schema with physical names, which is how statistics are keyed.
    physical_schema: StructType,
    /// Logical column path (lower case) to physical path.
    physical_paths: HashMap<String, String>,
    /// Partition column (lower-case logical name) to its physical name and type.
    partitions: HashMap<String, (String, PrimitiveType)>,
}

impl FileStats {
    pub(crate) fn new(snapshot: &Snapshot) -> Self {
        let schema = snapshot.schema();
        let mut physical_paths = HashMap::new();
        let physical_schema = physical(schema, "", "", &mut physical_paths);
        let partitions = snapshot
            .partition_columns()
            .iter()
            .filter_map(|name| {
                let field = schema.field(name)?;
                match field.data_type {
                    DataType::Primitive(ty) => Some((name.to_lowercase(), (field.physical_name().to_string(), ty))),
                    _ => None,
                }
            })
            .collect();
        Self {
            physical_schema,
            physical_paths,
            partitions,
        }
    }

    /// The statistics of one file.
    pub(crate) fn for_file<'a>(
        &'a self,
        file: &FileView<'_>,
        partition_values: &HashMap<&str, Option<&str>>,
    ) -> DeltaResult<FileStatsView<'a>> {
        let json = file.stats().and_then(|s| JsonStats::parse(s, &self.physical_schema));
        let mut partitions = HashMap::with_capacity(self.partitions.len());
        for (logical, (physical, ty)) in &self.partitions {
            let raw = partition_values.get(physical.as_str()).copied().flatten();
            partitions.insert(logical.as_str(), Scalar::parse_partition_value(raw, *ty)?);
        }
        Ok(FileStatsView {
            owner: self,
            json,
            partitions,
        })
    }
}

/// Statistics of one file, seen through logical column names.
pub(crate) struct FileStatsView<'a> {
    owner: &'a FileStats,
    json: Option<JsonStats>,
    partitions: HashMap<&'a str, Scalar>,
}

impl FileStatsView<'_> {
    fn partition(&self, column: &str) -> Option<&Scalar> {
        self.partitions.get(column.to_lowercase().as_str())
    }

    fn physical(&self, column: &str) -> Option<&str> {
        self.owner
            .physical_paths
            .get(&column.to_lowercase())
            .map(String::as_str)
    }
}

impl StatsProvider for FileStatsView<'_> {
    fn min(&self, column: &str) -> Option<Scalar> {
        if let Some(v) = self.partition(column) {
            return (!v.is_null()).then(|| v.clone());
        }
        self.json.as_ref()?.min(self.physical(column)?)
    }

    fn max(&self, column: &str) -> Option<Scalar> {
        if let Some(v) = self.partition(column) {
            return (!v.is_null()).then(|| v.clone());
        }
        self.json.as_ref()?.max(self.physical(column)?)
    }

    fn null_count(&self, column: &str) -> Option<i64> {
        if let Some(v) = self.partition(column) {
            let rows = self.num_records()?;
            return Some(if v.is_null() { rows } else { 0 });
        }
        self.json.as_ref()?.null_count(self.physical(column)?)
    }

    fn num_records(&self) -> Option<i64> {
        // Without statistics the row count is unknown, but a partition value holds for every row:
        // one row stands for all of them, which is exact for partition-only predicates.
        match &self.json {
            Some(json) => json.num_records(),
            None if !self.partitions.is_empty() => Some(1),
            None => None,
        }
    }
}

/// A copy of `schema` named by physical names, recording each logical path's physical path.
fn physical(
    schema: &StructType,
    logical_prefix: &str,
    physical_prefix: &str,
    paths: &mut HashMap<String, String>,
) -> StructType {
    let fields = schema
        .fields
        .iter()
        .map(|f| {
            let logical = format!("{logical_prefix}{}", f.name);
            let physical_name = format!("{physical_prefix}{}", f.physical_name());
            paths.insert(logical.to_lowercase(), physical_name.clone());
            let data_type = match &f.data_type {
                DataType::Struct(inner) => DataType::Struct(Box::new(physical(
                    inner,
                    &format!("{logical}."),
                    &format!("{physical_name}."),
                    paths,
                ))),
                other => other.clone(),
            };
            StructField {
                name: f.physical_name().to_string(),
                data_type,
                nullable: f.nullable,
                metadata: Default::default(),
            }
        })
        .collect();
    StructType::new(fields)
}

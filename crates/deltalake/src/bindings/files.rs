//! The active files of a table as bindings list them: paths decoded, locations absolute,
//! partition values under their logical column names.

use std::collections::HashSet;

use percent_encoding::percent_decode_str;
use url::Url;

use super::requests::Filter;
use crate::error::{DeltaError, DeltaResult};
use crate::log::FileView;
use crate::storage::display_url;
use crate::table::DeltaTable;

/// The active files of a table (or those a filter selects), each field computed only when asked
/// for: bindings listing paths do not pay for locations or partition values.
#[derive(Debug)]
pub struct FileListing<'a> {
    root: &'a Url,
    /// `(logical, physical)` name of each partition column, in the table's order.
    columns: Vec<(&'a str, &'a str)>,
    files: Vec<FileView<'a>>,
}

impl<'a> FileListing<'a> {
    /// The active files of `table`, or with a `filter` only those that may hold matching rows
    /// (by partition values and statistics), in the order of the file list.
    pub fn new(table: &'a DeltaTable, filter: Option<Filter>) -> DeltaResult<Self> {
        let snapshot = table.snapshot();
        let columns = snapshot
            .partition_columns()
            .iter()
            .map(|c| {
                let physical = snapshot.schema().field(c).map_or(c.as_str(), |f| f.physical_name());
                (c.as_str(), physical)
            })
            .collect();
        let keep: Option<HashSet<String>> = match filter {
            None => None,
            Some(filter) => {
                let scan = table.scan().with_filter(filter.into_expr()?).build()?;
                Some(scan.files().iter().map(|f| f.path.clone()).collect())
            }
        };
        let files = snapshot
            .files()
            .iter()
            .filter(|f| keep.as_ref().is_none_or(|k| k.contains(f.path())))
            .collect();
        Ok(Self {
            root: snapshot.table_root(),
            columns,
            files,
        })
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Each file's path relative to the table root, URL-decoded (`part=a b/x.parquet`).
    pub fn paths(&self) -> impl Iterator<Item = String> + '_ {
        self.files.iter().map(|f| decoded_path(f.path()))
    }

    /// Where each file is: a local path for local tables, else a full URI.
    pub fn locations(&self) -> impl Iterator<Item = DeltaResult<String>> + '_ {
        self.files.iter().map(|f| Ok(display_url(&absolute_url(self.root, f)?)))
    }

    /// Each file's size in bytes.
    pub fn sizes(&self) -> impl Iterator<Item = i64> + '_ {
        self.files.iter().map(FileView::size)
    }

    /// Each file's partition values by logical column name, in the table's partition column
    /// order (`None` for null).
    pub fn partition_values(&self) -> impl Iterator<Item = Vec<(String, Option<String>)>> + '_ {
        self.files.iter().map(|f| {
            let values = f.partition_values();
            self.columns
                .iter()
                .map(|(name, physical)| {
                    (
                        name.to_string(),
                        values.get(physical).copied().flatten().map(str::to_string),
                    )
                })
                .collect()
        })
    }
}

/// `path` (as in the log, URL-encoded) decoded.
pub fn decoded_path(path: &str) -> String {
    percent_decode_str(path).decode_utf8_lossy().into_owned()
}

/// A location given as a URL or as a local path, in the form [`display_url`] gives.
pub fn location_of(uri_or_path: &str) -> String {
    Url::parse(uri_or_path).map_or_else(|_| uri_or_path.to_string(), |url| display_url(&url))
}

fn absolute_url(root: &Url, file: &FileView<'_>) -> DeltaResult<Url> {
    root.join(file.path())
        .map_err(|e| DeltaError::invalid_data_file(file.path(), format!("not a valid path: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_paths() {
        let url = Url::parse("file:///tmp/t/a%20b/x.parquet").unwrap();
        assert_eq!(display_url(&url), "/tmp/t/a b/x.parquet");
        let s3 = Url::parse("s3://bucket/t/x.parquet").unwrap();
        assert_eq!(display_url(&s3), "s3://bucket/t/x.parquet");
        assert_eq!(decoded_path("part=a%20b/x.parquet"), "part=a b/x.parquet");
        assert_eq!(location_of("file:///tmp/x"), "/tmp/x");
        assert_eq!(location_of("relative/x"), "relative/x");
    }
}

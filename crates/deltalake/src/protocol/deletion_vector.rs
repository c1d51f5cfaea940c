//! Deletion vectors: the descriptor stored in `add` / `remove` actions.

use serde::{Deserialize, Serialize};

/// Where and how a deletion vector is stored (the `deletionVector` field of an add or remove).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionVectorDescriptor {
    /// `u` (relative path from a UUID), `i` (inline) or `p` (absolute path).
    pub storage_type: String,
    /// The encoded UUID (with optional prefix), the inline data, or the path.
    pub path_or_inline_dv: String,
    /// Byte offset of the vector in its file (not for inline vectors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i32>,
    /// Size of the serialised vector in bytes.
    pub size_in_bytes: i32,
    /// Number of deleted rows.
    pub cardinality: i64,
}

impl DeletionVectorDescriptor {
    /// The id that, with the file path, identifies a logical file: `storageType + pathOrInlineDv [+ '@' offset]`.
    pub fn unique_id(&self) -> String {
        match self.offset {
            Some(offset) => format!("{}{}@{offset}", self.storage_type, self.path_or_inline_dv),
            None => format!("{}{}", self.storage_type, self.path_or_inline_dv),
        }
    }
}
use crate::error::DeltaResult;
pub struct DeletedRows;
impl DeletedRows {
    pub fn from_file_bytes(
        _b: &[u8],
        _d: &DeletionVectorDescriptor,
        _p: &str,
    ) -> DeltaResult<Self> {
        Ok(Self)
    }
    pub fn keep_mask(&self, _f: u64, len: usize) -> arrow::array::BooleanArray {
        arrow::array::BooleanArray::from(vec![true; len])
    }
}
impl DeletionVectorDescriptor {
    pub fn absolute_path(&self, _r: &url::Url) -> DeltaResult<Option<url::Url>> {
        Ok(None)
    }
    pub fn read_inline(&self) -> DeltaResult<DeletedRows> {
        Ok(DeletedRows)
    }
}

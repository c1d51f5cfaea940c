//! Deletion vectors: the descriptor stored in `add` / `remove` actions, the set of rows a
//! vector deletes, and the encodings of both (Delta `PROTOCOL.md`, "Deletion Vector Format").
//!
//! Layouts, all read and written here:
//!
//! - **File** (`storageType` `u` or `p`): the file starts with a 1-byte format version
//!   ([`DV_FILE_FORMAT_VERSION`], `1`), followed by one or more vectors. A descriptor's
//!   `offset` points past the version byte (so it is at least 1) to
//!   `dataSize` (u32, big-endian) | `data` (`dataSize` bytes) | CRC-32 of `data` (u32, big-endian).
//! - **Data** (a serialized `RoaringBitmapArray`): magic number 1681511377 (u32, little-endian),
//!   then a 64-bit roaring bitmap in the portable format: the number of buckets (u64,
//!   little-endian) and for each bucket its key, the high 32 bits of its rows (u32,
//!   little-endian), followed by a 32-bit portable roaring bitmap of the low 32 bits.
//! - **Inline** (`storageType` `i`): the data (with its magic number, without length or
//!   checksum) zero-padded to a multiple of 4 bytes and [Z85](https://rfc.zeromq.org/spec/32/)
//!   encoded; `sizeInBytes` is the length before padding.

use std::ops::Range;

use arrow::array::{BooleanArray, BooleanBufferBuilder};
use roaring::{RoaringBitmap, RoaringTreemap};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::error::{DeltaError, DeltaResult};

/// The format version byte at offset 0 of every deletion vector file.
pub const DV_FILE_FORMAT_VERSION: u8 = 1;

/// Magic number of the portable `RoaringBitmapArray` layout, the one the protocol specifies.
const PORTABLE_MAGIC: u32 = 1681511377;
/// Magic number of Delta Spark's older "native" layout (count, then size-prefixed 32-bit
/// bitmaps whose key is their index). The protocol's own inline example uses it.
const NATIVE_MAGIC: u32 = 1681511376;
/// The name used in errors about inline vectors, which have no file.
const INLINE_PATH: &str = "inline deletion vector";
/// Length of a Z85-encoded UUID at the end of `pathOrInlineDv` for storage type `u`.
const UUID_Z85_LEN: usize = 20;
/// The smallest serialized 32-bit roaring bitmap: a cookie and a container count.
const MIN_BITMAP_BYTES: usize = 8;

/// Where and how a deletion vector is stored (the `deletionVector` field of an add or remove).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionVectorDescriptor {
    /// `u` (relative path from a UUID), `i` (inline) or `p` (absolute path).
    pub storage_type: String,
    /// The encoded UUID (with optional prefix), the inline data, or the path.
    pub path_or_inline_dv: String,
    /// Byte offset of the vector in its file (not for inline vectors). The file starts with a
    /// 1-byte format version, so a valid offset is at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i32>,
    /// Size of the serialised vector in bytes (before Z85 encoding, if inline).
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

    /// The URL of the file holding this vector, or `None` for an inline vector.
    ///
    /// For storage type `u`, `pathOrInlineDv` is an optional random prefix followed by a
    /// 20-character Z85-encoded UUID, and the file is
    /// `<table_root>/<prefix>/deletion_vector_<uuid>.bin` (no prefix directory when the prefix
    /// is empty). For `p` it is an absolute URI (or an absolute local path), returned parsed.
    /// `table_root` is the table directory, with or without a trailing `/`.
    pub fn absolute_path(&self, table_root: &Url) -> DeltaResult<Option<Url>> {
        match self.storage_type.as_str() {
            "u" => {
                let (prefix, uuid) = self.relative_parts()?;
                let mut url = table_root.clone();
                {
                    let mut segments = url.path_segments_mut().map_err(|()| {
                        DeltaError::InvalidArgument(format!("table root {table_root} cannot hold relative paths"))
                    })?;
                    segments.pop_if_empty();
                    if !prefix.is_empty() {
                        segments.push(prefix);
                    }
                    segments.push(&format!("deletion_vector_{}.bin", uuid.hyphenated()));
                }
                Ok(Some(url))
            }
            "p" => {
                let path = &self.path_or_inline_dv;
                let url = match Url::parse(path) {
                    Ok(url) => url,
                    Err(_) if path.starts_with('/') => Url::from_file_path(path)
                        .map_err(|()| self.descriptor_error(format!("invalid absolute path {path:?}")))?,
                    Err(e) => {
                        return Err(self.descriptor_error(format!("invalid absolute path {path:?}: {e}")));
                    }
                };
                Ok(Some(url))
            }
            "i" => Ok(None),
            other => Err(self.descriptor_error(format!("unknown storage type {other:?}"))),
        }
    }

    /// The bytes of this vector's file to read: `offset .. offset + 4 + sizeInBytes + 4`
    /// (length, data, checksum), which is what [`DeletedRows::from_file_bytes`] takes.
    ///
    /// A missing offset means 1, the first vector after the format version byte. Errors for
    /// inline vectors and for a negative size or an offset below 1.
    pub fn file_byte_range(&self) -> DeltaResult<Range<u64>> {
        if self.storage_type == "i" {
            return Err(DeltaError::InvalidArgument(
                "an inline deletion vector has no file".to_string(),
            ));
        }
        let offset = self.offset.unwrap_or(1);
        if offset < 1 {
            return Err(self.descriptor_error(format!(
                "offset {offset} points into the file's format version byte; it must be at least 1"
            )));
        }
        let size = checked_size(self, &self.path_or_inline_dv)?;
        let start = u64::from(offset.unsigned_abs());
        Ok(start..start + 8 + size as u64)
    }

    /// Decodes an inline vector (storage type `i`): `pathOrInlineDv` is the Z85 encoding of the
    /// serialized vector (magic number included), zero-padded to a multiple of 4 bytes, and
    /// `sizeInBytes` is its length before padding. The decoded cardinality must match.
    pub fn read_inline(&self) -> DeltaResult<DeletedRows> {
        if self.storage_type != "i" {
            return Err(DeltaError::InvalidArgument(format!(
                "deletion vector {} is stored in a file (storage type {:?}), not inline",
                self.unique_id(),
                self.storage_type
            )));
        }
        let size = checked_size(self, INLINE_PATH)?;
        let mut data = z85_decode_raw(&self.path_or_inline_dv)
            .map_err(|e| DeltaError::invalid_data_file(INLINE_PATH, format!("bad Z85 data: {e}")))?;
        if size > data.len() || data.len() - size >= 4 {
            return Err(DeltaError::invalid_data_file(
                INLINE_PATH,
                format!(
                    "sizeInBytes {size} does not match the {} bytes of its Z85 data",
                    data.len()
                ),
            ));
        }
        data.truncate(size);
        let rows = DeletedRows::deserialize(&data, INLINE_PATH)?;
        rows.check_cardinality(self, INLINE_PATH)?;
        Ok(rows)
    }

    /// Splits `pathOrInlineDv` of a `u` vector into its prefix and decoded UUID.
    fn relative_parts(&self) -> DeltaResult<(&str, Uuid)> {
        let value = &self.path_or_inline_dv;
        let split = value
            .len()
            .checked_sub(UUID_Z85_LEN)
            .filter(|&i| value.is_char_boundary(i))
            .ok_or_else(|| {
                self.descriptor_error(format!(
                    "{value:?} does not end with a {UUID_Z85_LEN}-character Z85-encoded UUID"
                ))
            })?;
        let (prefix, encoded) = value.split_at(split);
        let bytes =
            z85_decode_raw(encoded).map_err(|e| self.descriptor_error(format!("bad Z85 UUID {encoded:?}: {e}")))?;
        let uuid = Uuid::from_slice(&bytes).map_err(|e| self.descriptor_error(format!("bad UUID {encoded:?}: {e}")))?;
        Ok((prefix, uuid))
    }

    fn descriptor_error(&self, reason: String) -> DeltaError {
        DeltaError::invalid_data_file(format!("deletion vector descriptor {}", self.unique_id()), reason)
    }
}

/// Serialized vectors up to this many bytes are stored inline in the log (storage type `i`);
/// larger ones go to a deletion vector file.
pub const INLINE_DV_MAX_BYTES: usize = 64;

impl DeletionVectorDescriptor {
    /// An inline descriptor (storage type `i`) holding `rows`.
    pub fn inline(rows: &DeletedRows) -> DeltaResult<Self> {
        let data = rows.serialize();
        Ok(Self {
            storage_type: "i".to_string(),
            path_or_inline_dv: z85_encode(&data),
            offset: None,
            size_in_bytes: size_field(data.len())?,
            cardinality: rows.cardinality()?,
        })
    }
}

/// Writes deletion vectors: small ones inline, the others packed into one new file
/// `deletion_vector_<uuid>.bin` at the table root, referenced with storage type `u`.
///
/// ```
/// use deltalake::protocol::deletion_vector::{DeletedRows, DeletionVectorWriter};
/// let mut writer = DeletionVectorWriter::new();
/// let descriptor = writer.add(&DeletedRows::from_rows([1, 5, 9])).unwrap();
/// assert_eq!(descriptor.storage_type, "i");
/// assert!(writer.finish().is_none()); // nothing needed a file
/// ```
#[derive(Debug, Clone)]
pub struct DeletionVectorWriter {
    uuid: Uuid,
    /// The file being built: the format version byte, then each vector at its offset.
    file: Vec<u8>,
}

impl Default for DeletionVectorWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl DeletionVectorWriter {
    /// A writer whose file (if one is needed) gets a random UUID.
    pub fn new() -> Self {
        Self {
            uuid: Uuid::new_v4(),
            file: vec![DV_FILE_FORMAT_VERSION],
        }
    }

    /// Store `rows` and return the descriptor that references them: inline when the serialized
    /// vector is at most [`INLINE_DV_MAX_BYTES`], else appended to this writer's file.
    pub fn add(&mut self, rows: &DeletedRows) -> DeltaResult<DeletionVectorDescriptor> {
        let data = rows.serialize();
        if data.len() <= INLINE_DV_MAX_BYTES {
            return DeletionVectorDescriptor::inline(rows);
        }
        let size_in_bytes = size_field(data.len())?;
        let offset = i32::try_from(self.file.len())
            .map_err(|_| DeltaError::InvalidArgument("deletion vector file of 2 GiB or more".into()))?;
        self.file.extend_from_slice(&size_in_bytes.unsigned_abs().to_be_bytes());
        self.file.extend_from_slice(&data);
        self.file.extend_from_slice(&crc32fast::hash(&data).to_be_bytes());
        Ok(DeletionVectorDescriptor {
            storage_type: "u".to_string(),
            path_or_inline_dv: z85_encode(self.uuid.as_bytes()),
            offset: Some(offset),
            size_in_bytes,
            cardinality: rows.cardinality()?,
        })
    }

    /// The file to write, if any vector went into it: its path relative to the table root
    /// (`deletion_vector_<uuid>.bin`, as [`DeletionVectorDescriptor::absolute_path`] resolves
    /// the descriptors) and its bytes.
    pub fn finish(self) -> Option<(String, Vec<u8>)> {
        (self.file.len() > 1).then(|| (format!("deletion_vector_{}.bin", self.uuid.hyphenated()), self.file))
    }
}

/// A serialized length as the `i32` of `sizeInBytes`.
fn size_field(len: usize) -> DeltaResult<i32> {
    i32::try_from(len).map_err(|_| DeltaError::InvalidArgument(format!("deletion vector of {len} bytes is too large")))
}

/// `sizeInBytes` as a `usize`, or an error naming `path` when it is negative.
fn checked_size(descriptor: &DeletionVectorDescriptor, path: &str) -> DeltaResult<usize> {
    usize::try_from(descriptor.size_in_bytes)
        .map_err(|_| DeltaError::invalid_data_file(path, format!("negative sizeInBytes {}", descriptor.size_in_bytes)))
}

/// The set of row indexes (positions in the data file, from 0) a deletion vector deletes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeletedRows {
    rows: RoaringTreemap,
}

impl DeletedRows {
    /// Decodes one vector from the bytes of its file starting at the descriptor's `offset`
    /// (see [`DeletionVectorDescriptor::file_byte_range`]): a 4-byte big-endian length equal
    /// to `sizeInBytes`, the serialized vector, and a 4-byte big-endian CRC-32 of it, which is
    /// verified. Bytes after the checksum are ignored. The decoded cardinality must match the
    /// descriptor's. `path` names the file in errors.
    pub fn from_file_bytes(bytes: &[u8], descriptor: &DeletionVectorDescriptor, path: &str) -> DeltaResult<Self> {
        let size = checked_size(descriptor, path)?;
        let err = |reason: String| DeltaError::invalid_data_file(path, reason);
        let Some(length) = bytes.first_chunk::<4>() else {
            return Err(err(format!(
                "truncated deletion vector: {} bytes, too short for its length field",
                bytes.len()
            )));
        };
        let length = u32::from_be_bytes(*length);
        if u64::from(length) != size as u64 {
            return Err(err(format!(
                "deletion vector length field is {length} but the descriptor's sizeInBytes is {size}"
            )));
        }
        let rest = &bytes[4..];
        if rest.len() < size || rest.len() - size < 4 {
            return Err(err(format!(
                "truncated deletion vector: expected {} bytes (length, {size} bytes of data, checksum), got {}",
                size + 8,
                bytes.len()
            )));
        }
        let (data, rest) = rest.split_at(size);
        let stored = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let computed = crc32fast::hash(data);
        if stored != computed {
            return Err(err(format!(
                "deletion vector checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
            )));
        }
        let rows = Self::deserialize(data, path)?;
        rows.check_cardinality(descriptor, path)?;
        Ok(rows)
    }

    /// Decodes one vector from a whole deletion vector file: checks the format version byte,
    /// then reads at the descriptor's offset as [`DeletedRows::from_file_bytes`] does.
    pub fn from_file(file: &[u8], descriptor: &DeletionVectorDescriptor, path: &str) -> DeltaResult<Self> {
        match file.first() {
            Some(&DV_FILE_FORMAT_VERSION) => {}
            Some(version) => {
                return Err(DeltaError::invalid_data_file(
                    path,
                    format!("unsupported deletion vector file format version {version}"),
                ));
            }
            None => return Err(DeltaError::invalid_data_file(path, "empty file")),
        }
        let range = descriptor.file_byte_range()?;
        let start = usize::try_from(range.start)
            .ok()
            .filter(|&start| start <= file.len())
            .ok_or_else(|| {
                DeltaError::invalid_data_file(
                    path,
                    format!("offset {} is past the end of the {}-byte file", range.start, file.len()),
                )
            })?;
        Self::from_file_bytes(&file[start..], descriptor, path)
    }

    /// Decodes a serialized vector (`RoaringBitmapArray`, starting with its magic number), as
    /// stored between a file's length and checksum, or inline. Also accepts the older "native"
    /// layout (magic 1681511376) that the protocol's inline example uses. `path` names the
    /// vector in errors.
    pub fn deserialize(data: &[u8], path: &str) -> DeltaResult<Self> {
        let Some(magic) = data.first_chunk::<4>() else {
            return Err(DeltaError::invalid_data_file(
                path,
                format!(
                    "deletion vector data is {} bytes, too short for its magic number",
                    data.len()
                ),
            ));
        };
        let rest = &data[4..];
        let result = if u32::from_le_bytes(*magic) == PORTABLE_MAGIC {
            parse_portable(rest)
        } else if u32::from_le_bytes(*magic) == NATIVE_MAGIC {
            parse_native(rest, u32::from_le_bytes)
        } else if u32::from_be_bytes(*magic) == NATIVE_MAGIC {
            parse_native(rest, u32::from_be_bytes)
        } else {
            Err(format!(
                "unknown deletion vector magic number {} (expected {PORTABLE_MAGIC})",
                u32::from_le_bytes(*magic)
            ))
        };
        let rows = result.map_err(|reason| DeltaError::invalid_data_file(path, reason))?;
        Ok(Self { rows })
    }

    /// A set of the given row indexes (duplicates are ignored).
    pub fn from_rows(rows: impl IntoIterator<Item = u64>) -> Self {
        let rows: RoaringTreemap = rows.into_iter().collect();
        // Run-length encode long stretches of deleted rows for a smaller serialized form.
        let rows = RoaringTreemap::from_bitmaps(rows.bitmaps().map(|(key, bitmap)| {
            let mut bitmap = bitmap.clone();
            bitmap.optimize();
            (key, bitmap)
        }));
        Self { rows }
    }

    /// Add every row of `other` (the union of two vectors, e.g. an existing one and new deletes).
    pub fn union_with(&mut self, other: &DeletedRows) {
        self.rows |= &other.rows;
    }

    /// The number of deleted rows as the `i64` of a descriptor's `cardinality`.
    fn cardinality(&self) -> DeltaResult<i64> {
        i64::try_from(self.len())
            .map_err(|_| DeltaError::InvalidArgument(format!("deletion vector of {} rows", self.len())))
    }

    /// Whether row `row` is deleted.
    pub fn contains(&self, row: u64) -> bool {
        self.rows.contains(row)
    }

    /// The number of deleted rows.
    pub fn len(&self) -> u64 {
        self.rows.len()
    }

    /// Whether no row is deleted.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The deleted row indexes in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.rows.iter()
    }

    /// A mask over rows `first_row .. first_row + len`: `true` for rows that are kept (not
    /// deleted). Meant for filtering one record batch of a data file; costs one step per deleted
    /// row in the range, not one lookup per row.
    pub fn keep_mask(&self, first_row: u64, len: usize) -> BooleanArray {
        let mut mask = BooleanBufferBuilder::new(len);
        mask.append_n(len, true);
        if len > 0 && !self.rows.is_empty() {
            // Rows past u64::MAX cannot exist, so the range is cut there.
            let last = first_row.saturating_add(len as u64 - 1);
            let (start_key, start_low) = split_row(first_row);
            let (end_key, end_low) = split_row(last);
            for (key, bitmap) in self.rows.bitmaps() {
                if key < start_key {
                    continue;
                }
                if key > end_key {
                    break;
                }
                let low = if key == start_key { start_low } else { 0 };
                let high = if key == end_key { end_low } else { u32::MAX };
                let base = u64::from(key) << 32;
                for value in bitmap.range(low..=high) {
                    // In range, so the difference is below `len` and fits in usize.
                    mask.set_bit(((base | u64::from(value)) - first_row) as usize, false);
                }
            }
        }
        BooleanArray::new(mask.finish(), None)
    }

    /// The serialized vector: magic number 1681511377 (little-endian) followed by the portable
    /// 64-bit roaring bitmap, as stored inline (before Z85) or in a file (between length and
    /// checksum).
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.rows.serialized_size());
        out.extend_from_slice(&PORTABLE_MAGIC.to_le_bytes());
        #[allow(
            clippy::expect_used,
            reason = "writing into a Vec, the only source of I/O errors here, cannot fail"
        )]
        self.rows
            .serialize_into(&mut out)
            .expect("serializing into a Vec cannot fail");
        out
    }

    /// The vector as written in a file at its offset: 4-byte big-endian length, the
    /// [`serialize`](Self::serialize)d data, and its 4-byte big-endian CRC-32. The inverse of
    /// [`DeletedRows::from_file_bytes`]; the file's leading version byte is not included.
    ///
    /// Errors if the serialized vector is 2 GiB or larger, which no `sizeInBytes` (an `i32`) can
    /// describe.
    pub fn to_file_bytes(&self) -> DeltaResult<Vec<u8>> {
        let data = self.serialize();
        let length = size_field(data.len())?.unsigned_abs();
        let mut out = Vec::with_capacity(data.len() + 8);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&data);
        out.extend_from_slice(&crc32fast::hash(&data).to_be_bytes());
        Ok(out)
    }

    fn check_cardinality(&self, descriptor: &DeletionVectorDescriptor, path: &str) -> DeltaResult<()> {
        let len = self.len();
        if i64::try_from(len).ok() != Some(descriptor.cardinality) {
            return Err(DeltaError::invalid_data_file(
                path,
                format!(
                    "deletion vector holds {len} rows but its descriptor's cardinality is {}",
                    descriptor.cardinality
                ),
            ));
        }
        Ok(())
    }
}

/// The bucket key (high 32 bits) and the low 32 bits of a row index.
fn split_row(row: u64) -> (u32, u32) {
    ((row >> 32) as u32, row as u32)
}

/// Takes the next `n` bytes of `input`, or says which field was cut short.
fn take<'a>(input: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], String> {
    if input.len() < n {
        return Err(format!(
            "truncated deletion vector: {what} needs {n} bytes, {} left",
            input.len()
        ));
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

fn take_u32(input: &mut &[u8], what: &str, decode: fn([u8; 4]) -> u32) -> Result<u32, String> {
    let bytes = take(input, 4, what)?;
    Ok(decode([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Reads one 32-bit portable roaring bitmap from the front of `input`.
fn take_bitmap(input: &mut &[u8], what: &str) -> Result<RoaringBitmap, String> {
    RoaringBitmap::deserialize_from(&mut *input).map_err(|e| format!("invalid roaring bitmap in {what}: {e}"))
}

/// The portable layout after the magic number: bucket count, then (key, bitmap) pairs with
/// strictly ascending keys.
fn parse_portable(mut input: &[u8]) -> Result<RoaringTreemap, String> {
    let count = take(&mut input, 8, "the bucket count")?;
    let count = u64::from_le_bytes(std::array::from_fn(|i| count[i]));
    let max_buckets = input.len() / (4 + MIN_BITMAP_BYTES);
    if count > max_buckets as u64 {
        return Err(format!(
            "{count} buckets cannot fit in the remaining {} bytes",
            input.len()
        ));
    }
    let mut buckets = Vec::with_capacity(count as usize);
    let mut last_key = None;
    for index in 0..count {
        let what = format!("bucket {index}");
        let key = take_u32(&mut input, &what, u32::from_le_bytes)?;
        if let Some(last) = last_key.replace(key)
            && key <= last
        {
            return Err(format!("bucket keys are not ascending: {key} follows {last}"));
        }
        let bitmap = take_bitmap(&mut input, &what)?;
        if !bitmap.is_empty() {
            buckets.push((key, bitmap));
        }
    }
    if !input.is_empty() {
        return Err(format!("{} unexpected bytes after the last bucket", input.len()));
    }
    Ok(RoaringTreemap::from_bitmaps(buckets))
}

/// The native layout after the magic number: bitmap count, then for each bitmap its size and
/// bytes; the bitmap's index is its key. `decode` gives the byte order of counts and sizes.
fn parse_native(mut input: &[u8], decode: fn([u8; 4]) -> u32) -> Result<RoaringTreemap, String> {
    let count = take_u32(&mut input, "the bitmap count", decode)?;
    let max_bitmaps = input.len() / (4 + MIN_BITMAP_BYTES);
    if count as usize > max_bitmaps {
        return Err(format!(
            "{count} bitmaps cannot fit in the remaining {} bytes",
            input.len()
        ));
    }
    let mut buckets = Vec::new();
    for key in 0..count {
        let what = format!("bitmap {key}");
        let size = take_u32(&mut input, &what, decode)? as usize;
        let mut bytes = take(&mut input, size, &what)?;
        let bitmap = take_bitmap(&mut bytes, &what)?;
        if !bytes.is_empty() {
            return Err(format!("{what} declares {size} bytes but uses {}", size - bytes.len()));
        }
        if !bitmap.is_empty() {
            buckets.push((key, bitmap));
        }
    }
    if !input.is_empty() {
        return Err(format!("{} unexpected bytes after the last bitmap", input.len()));
    }
    Ok(RoaringTreemap::from_bitmaps(buckets))
}

/// The Z85 alphabet (ZeroMQ RFC 32).
const Z85_ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Digit value of each byte in Z85, `u8::MAX` for bytes outside the alphabet.
const Z85_DIGITS: [u8; 256] = {
    let mut table = [u8::MAX; 256];
    let mut i = 0;
    while i < Z85_ALPHABET.len() {
        table[Z85_ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Encodes bytes as Z85 (ZeroMQ RFC 32), as the protocol does for inline vectors and UUIDs.
///
/// Z85 works on 4-byte blocks; like Delta, a length that is not a multiple of 4 is padded with
/// zero bytes (an inline vector's `sizeInBytes` keeps the unpadded length), so the output has
/// `5 * ceil(len / 4)` characters.
pub fn z85_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(4) * 5);
    for chunk in bytes.chunks(4) {
        let mut block = [0u8; 4];
        block[..chunk.len()].copy_from_slice(chunk);
        let mut value = u32::from_be_bytes(block);
        let mut chars = [0u8; 5];
        for c in chars.iter_mut().rev() {
            *c = Z85_ALPHABET[(value % 85) as usize];
            value /= 85;
        }
        out.extend(chars.iter().map(|&c| char::from(c)));
    }
    out
}

/// Decodes Z85 text (ZeroMQ RFC 32): 4 bytes per 5 characters. Errors when the length is not a
/// multiple of 5, on characters outside the alphabet, and on blocks above `u32::MAX`. Padding
/// added by [`z85_encode`] is returned; the caller truncates to the known length.
pub fn z85_decode(s: &str) -> DeltaResult<Vec<u8>> {
    z85_decode_raw(s).map_err(|e| DeltaError::InvalidArgument(format!("invalid Z85 text: {e}")))
}

fn z85_decode_raw(s: &str) -> Result<Vec<u8>, String> {
    let text = s.as_bytes();
    if !text.len().is_multiple_of(5) {
        return Err(format!("length {} is not a multiple of 5", text.len()));
    }
    let mut out = Vec::with_capacity(text.len() / 5 * 4);
    for (block_index, block) in text.chunks_exact(5).enumerate() {
        let mut value: u64 = 0;
        for (i, &c) in block.iter().enumerate() {
            let digit = Z85_DIGITS[usize::from(c)];
            if digit == u8::MAX {
                let position = block_index * 5 + i;
                return Err(if c.is_ascii_graphic() {
                    format!("invalid character {:?} at byte {position}", char::from(c))
                } else {
                    format!("invalid byte {c:#04x} at byte {position}")
                });
            }
            value = value * 85 + u64::from(digit);
        }
        let value = u32::try_from(value).map_err(|_| {
            format!(
                "block {:?} at byte {} exceeds 32 bits",
                String::from_utf8_lossy(block),
                block_index * 5
            )
        })?;
        out.extend_from_slice(&value.to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;

    const SPEC_UUID: &str = "d2c639aa-8816-431a-aaf6-d3fe2512ff61";

    fn descriptor(storage_type: &str, path_or_inline_dv: &str) -> DeletionVectorDescriptor {
        DeletionVectorDescriptor {
            storage_type: storage_type.to_string(),
            path_or_inline_dv: path_or_inline_dv.to_string(),
            offset: Some(1),
            size_in_bytes: 0,
            cardinality: 0,
        }
    }

    /// A descriptor for a file vector whose size and cardinality match `rows`.
    fn file_descriptor(rows: &DeletedRows) -> DeletionVectorDescriptor {
        DeletionVectorDescriptor {
            size_in_bytes: rows.serialize().len() as i32,
            cardinality: rows.len() as i64,
            ..descriptor("u", "vBn[lx{q8@P<9BNH/isA")
        }
    }

    fn inline_descriptor(text: &str, size: i32, cardinality: i64) -> DeletionVectorDescriptor {
        DeletionVectorDescriptor {
            offset: None,
            size_in_bytes: size,
            cardinality,
            ..descriptor("i", text)
        }
    }

    fn collect(rows: &DeletedRows) -> Vec<u64> {
        rows.iter().collect()
    }

    fn mask_values(mask: &BooleanArray) -> Vec<bool> {
        assert_eq!(mask.null_count(), 0);
        (0..mask.len()).map(|i| mask.value(i)).collect()
    }

    /// Small deterministic generator (xorshift64*) for the randomised tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn table_dir(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/testdata/tables")
            .join(name)
    }

    // ---- Z85 ----

    #[test]
    fn z85_zeromq_example() {
        let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        assert_eq!(z85_encode(&bytes), "HelloWorld");
        assert_eq!(z85_decode("HelloWorld").unwrap(), bytes);
    }

    #[test]
    fn z85_edges_and_round_trips() {
        assert_eq!(z85_encode(&[]), "");
        assert_eq!(z85_decode("").unwrap(), Vec::<u8>::new());
        assert_eq!(z85_encode(&[0; 4]), "00000");
        assert_eq!(z85_encode(&[0xFF; 4]), "%nSc0");
        assert_eq!(z85_decode("%nSc0").unwrap(), [0xFF; 4]);
        let uuid = Uuid::parse_str(SPEC_UUID).unwrap();
        assert_eq!(z85_encode(uuid.as_bytes()), "^-aqEH.-t@S}K{vb[*k^");

        let mut rng = Rng(7);
        for len in 0..64usize {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let text = z85_encode(&bytes);
            assert_eq!(text.len(), len.div_ceil(4) * 5);
            let mut decoded = z85_decode(&text).unwrap();
            assert_eq!(decoded.len(), len.div_ceil(4) * 4);
            // Padding is zeros, dropped by truncating to the known length.
            assert!(decoded[len..].iter().all(|&b| b == 0));
            decoded.truncate(len);
            assert_eq!(decoded, bytes);
        }
    }

    #[test]
    fn z85_rejects_bad_text() {
        for bad in [
            "Hell",
            "HelloWorl",
            "Hell\"World",
            "Hello Worl",
            "#####",
            "%nSc1",
            "HelloWörld",
        ] {
            let err = z85_decode(bad).unwrap_err();
            assert!(matches!(err, DeltaError::InvalidArgument(_)), "{bad}: {err}");
        }
        let err = z85_decode("HelloWorl~").unwrap_err().to_string();
        assert!(err.contains("'~' at byte 9"), "{err}");
        assert!(z85_decode("%nSc1").unwrap_err().to_string().contains("exceeds 32 bits"));
    }

    // ---- paths ----

    #[test]
    fn absolute_path_relative_with_prefix_spec_example() {
        let dv = descriptor("u", "ab^-aqEH.-t@S}K{vb[*k^");
        let expected = format!("s3://mytable/ab/deletion_vector_{SPEC_UUID}.bin");
        for root in ["s3://mytable/", "s3://mytable"] {
            let url = dv.absolute_path(&Url::parse(root).unwrap()).unwrap().unwrap();
            assert_eq!(url.as_str(), expected, "root {root}");
        }
        let root = Url::parse("s3://bucket/path/to/table").unwrap();
        assert_eq!(
            dv.absolute_path(&root).unwrap().unwrap().as_str(),
            format!("s3://bucket/path/to/table/ab/deletion_vector_{SPEC_UUID}.bin")
        );
    }

    #[test]
    fn absolute_path_relative_without_prefix() {
        let dv = descriptor("u", "^-aqEH.-t@S}K{vb[*k^");
        for root in ["file:///tmp/table/", "file:///tmp/table"] {
            let url = dv.absolute_path(&Url::parse(root).unwrap()).unwrap().unwrap();
            assert_eq!(
                url.as_str(),
                format!("file:///tmp/table/deletion_vector_{SPEC_UUID}.bin")
            );
        }
    }

    #[test]
    fn absolute_path_absolute_and_inline() {
        let root = Url::parse("s3://elsewhere/").unwrap();
        let uri = format!("s3://mytable/deletion_vector_{SPEC_UUID}.bin");
        let dv = descriptor("p", &uri);
        assert_eq!(dv.absolute_path(&root).unwrap().unwrap().as_str(), uri);

        let dv = descriptor("p", "/data/dv/deletion_vector_x.bin");
        assert_eq!(
            dv.absolute_path(&root).unwrap().unwrap().as_str(),
            "file:///data/dv/deletion_vector_x.bin"
        );

        let dv = inline_descriptor("wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", 40, 6);
        assert_eq!(dv.absolute_path(&root).unwrap(), None);
    }

    #[test]
    fn absolute_path_errors() {
        let root = Url::parse("s3://mytable/").unwrap();
        let bad = [
            descriptor("u", "short"),
            descriptor("u", ""),
            descriptor("u", "ab^-aqEH.-t@S}K{vb[*k~"),
            descriptor("u", "%%%%%%%%%%%%%%%%%%%%"),
            // A multi-byte character where the UUID should start.
            descriptor("u", "éaqEH.-t@S}K{vb[*k^x"),
            descriptor("p", "relative/path.bin"),
            descriptor("x", "whatever"),
        ];
        for dv in bad {
            let err = dv.absolute_path(&root).unwrap_err();
            assert!(matches!(err, DeltaError::InvalidDataFile { .. }), "{dv:?}: {err}");
        }
        let dv = descriptor("u", "ab^-aqEH.-t@S}K{vb[*k^");
        let cannot_be_base = Url::parse("mailto:someone@example.com").unwrap();
        assert!(dv.absolute_path(&cannot_be_base).is_err());
    }

    #[test]
    fn file_byte_range() {
        let dv = DeletionVectorDescriptor {
            size_in_bytes: 36,
            ..descriptor("u", "vBn[lx{q8@P<9BNH/isA")
        };
        assert_eq!(dv.file_byte_range().unwrap(), 1..45);
        let dv = DeletionVectorDescriptor { offset: None, ..dv };
        assert_eq!(dv.file_byte_range().unwrap(), 1..45);
        let bad_offset = DeletionVectorDescriptor {
            offset: Some(0),
            ..dv.clone()
        };
        assert!(bad_offset.file_byte_range().is_err());
        let negative = DeletionVectorDescriptor {
            size_in_bytes: -1,
            ..dv
        };
        assert!(negative.file_byte_range().is_err());
        assert!(inline_descriptor("", 0, 0).file_byte_range().is_err());
    }

    // ---- real and spec vectors ----

    #[test]
    fn reads_real_file_from_table_with_dv_small() {
        let dir = table_dir("table-with-dv-small");
        // The descriptor of 00000000000000000001.json.
        let dv = DeletionVectorDescriptor {
            storage_type: "u".to_string(),
            path_or_inline_dv: "vBn[lx{q8@P<9BNH/isA".to_string(),
            offset: Some(1),
            size_in_bytes: 36,
            cardinality: 2,
        };
        let log = std::fs::read_to_string(dir.join("_delta_log/00000000000000000001.json")).unwrap();
        let logged = log
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find_map(|action| action["add"].get("deletionVector").cloned())
            .unwrap();
        assert_eq!(serde_json::from_value::<DeletionVectorDescriptor>(logged).unwrap(), dv);

        let url = dv
            .absolute_path(&Url::from_directory_path(dir.canonicalize().unwrap()).unwrap())
            .unwrap()
            .unwrap();
        assert!(
            url.path()
                .ends_with("/table-with-dv-small/deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin")
        );
        let file = std::fs::read(url.to_file_path().unwrap()).unwrap();
        assert_eq!(file[0], DV_FILE_FORMAT_VERSION);

        let path = url.as_str();
        let range = dv.file_byte_range().unwrap();
        let rows = DeletedRows::from_file_bytes(&file[range.start as usize..range.end as usize], &dv, path).unwrap();
        assert_eq!(collect(&rows), [0, 9]);
        assert_eq!(rows.len(), 2);
        assert_eq!(DeletedRows::from_file(&file, &dv, path).unwrap(), rows);
        assert_eq!(
            mask_values(&rows.keep_mask(0, 10)),
            [false, true, true, true, true, true, true, true, true, false]
        );
        // Writing the same rows gives the same bytes as the file holds.
        assert_eq!(DeletedRows::from_rows([9, 0]).to_file_bytes().unwrap(), &file[1..]);
    }

    #[test]
    fn reads_inline_vector_as_written_by_delta_spark() {
        // 38 bytes, padded to 40 for Z85; rows 1, 3, 5.
        let text = "^Bg9^0rr910000000000iXQKl0rr91000625c8Xg0rri41POJ5";
        let rows = inline_descriptor(text, 38, 3).read_inline().unwrap();
        assert_eq!(collect(&rows), [1, 3, 5]);
        let data = DeletedRows::from_rows([1, 3, 5]).serialize();
        assert_eq!(data.len(), 38);
        assert_eq!(z85_encode(&data), text);
    }

    #[test]
    fn reads_protocol_inline_example() {
        // PROTOCOL.md "JSON Example 3 — Inline" (written in the older native layout).
        let dv = inline_descriptor("wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", 40, 6);
        let rows = dv.read_inline().unwrap();
        assert_eq!(collect(&rows), [3, 4, 7, 11, 18, 29]);
    }

    #[test]
    fn native_layout_little_endian_and_several_bitmaps() {
        let mut data = NATIVE_MAGIC.to_le_bytes().to_vec();
        data.extend_from_slice(&3u32.to_le_bytes());
        for low in [Vec::new(), vec![], vec![7u32, 8]] {
            let bitmap: RoaringBitmap = low.into_iter().collect();
            let mut bytes = Vec::new();
            bitmap.serialize_into(&mut bytes).unwrap();
            data.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            data.extend_from_slice(&bytes);
        }
        let rows = DeletedRows::deserialize(&data, "test").unwrap();
        assert_eq!(collect(&rows), [(2 << 32) + 7, (2 << 32) + 8]);
        // A size that does not match the bitmap is refused.
        let mut bad = data.clone();
        bad[8] += 1;
        assert!(DeletedRows::deserialize(&bad, "test").is_err());
    }

    #[test]
    fn inline_test_data_if_any() {
        // The shared test tables hold no inline vector today; decode any that appear.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
        let mut stack = vec![root];
        let mut found = 0;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    if !text.contains(r#""storageType":"i""#) {
                        continue;
                    }
                    for line in text.lines() {
                        let Ok(action) = serde_json::from_str::<serde_json::Value>(line) else {
                            continue;
                        };
                        for kind in ["add", "remove"] {
                            let Some(dv) = action[kind].get("deletionVector") else {
                                continue;
                            };
                            let dv: DeletionVectorDescriptor = serde_json::from_value(dv.clone()).unwrap();
                            if dv.storage_type == "i" {
                                let rows = dv.read_inline().unwrap();
                                assert_eq!(rows.len() as i64, dv.cardinality);
                                found += 1;
                            }
                        }
                    }
                }
            }
        }
        eprintln!("inline deletion vectors found in test data: {found}");
    }

    // ---- round trips ----

    #[test]
    fn round_trips_file_and_inline() {
        let mut rng = Rng(42);
        let sets: Vec<Vec<u64>> = vec![
            vec![],
            vec![0],
            vec![u64::MAX],
            (0..100_000).collect(),
            (0..5000).map(|i| i * 3).collect(),
            vec![1, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, 5 << 32, u64::MAX - 1],
            (0..2000).map(|_| rng.below(1 << 34)).collect(),
        ];
        for set in sets {
            let rows = DeletedRows::from_rows(set.iter().copied());
            let mut expected = set.clone();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(collect(&rows), expected);
            assert_eq!(rows.is_empty(), expected.is_empty());

            let data = rows.serialize();
            assert_eq!(&data[..4], PORTABLE_MAGIC.to_le_bytes());
            assert_eq!(DeletedRows::deserialize(&data, "test").unwrap(), rows);

            let dv = file_descriptor(&rows);
            let file_bytes = rows.to_file_bytes().unwrap();
            assert_eq!(file_bytes.len(), data.len() + 8);
            assert_eq!(DeletedRows::from_file_bytes(&file_bytes, &dv, "test").unwrap(), rows);
            // Bytes after the checksum (e.g. the next vector in the file) are ignored.
            let mut longer = file_bytes.clone();
            longer.extend_from_slice(&[1, 2, 3]);
            assert_eq!(DeletedRows::from_file_bytes(&longer, &dv, "test").unwrap(), rows);
            // In a whole file, after the version byte and another vector.
            let other = DeletedRows::from_rows([12]).to_file_bytes().unwrap();
            let mut file = vec![DV_FILE_FORMAT_VERSION];
            file.extend_from_slice(&other);
            let dv_at = DeletionVectorDescriptor {
                offset: Some(file.len() as i32),
                ..dv
            };
            file.extend_from_slice(&file_bytes);
            assert_eq!(DeletedRows::from_file(&file, &dv_at, "test").unwrap(), rows);

            let inline = inline_descriptor(&z85_encode(&data), data.len() as i32, rows.len() as i64);
            assert_eq!(inline.read_inline().unwrap(), rows);
        }
    }

    // ---- keep_mask ----

    #[test]
    fn keep_mask_across_bucket_boundaries() {
        let boundary = 1u64 << 32;
        let deleted = [
            boundary - 3,
            boundary - 1,
            boundary,
            boundary + 2,
            2 * boundary + 1,
            3 * boundary,
        ];
        let rows = DeletedRows::from_rows(deleted);
        let first = boundary - 4;
        let mask = mask_values(&rows.keep_mask(first, 8));
        assert_eq!(mask, [true, false, true, false, false, true, false, true]);

        // A window from the end of bucket 1 into bucket 2, with rows in buckets 0 and 3 outside it.
        let spread = DeletedRows::from_rows([5, boundary + 9, 2 * boundary - 2, 2 * boundary + 1, 3 * boundary]);
        assert_eq!(
            mask_values(&spread.keep_mask(2 * boundary - 3, 6)),
            [true, false, true, true, false, true]
        );
        assert_eq!(rows.keep_mask(boundary, 0).len(), 0);
        assert_eq!(mask_values(&rows.keep_mask(boundary + 3, 4)), [true; 4]);
        // Near the end of the row space the range is cut, without overflow.
        let top = DeletedRows::from_rows([u64::MAX - 1, u64::MAX]);
        assert_eq!(
            mask_values(&top.keep_mask(u64::MAX - 2, 5)),
            [true, false, false, true, true]
        );
    }

    #[test]
    fn keep_mask_matches_contains() {
        let mut rng = Rng(3);
        let boundary = 1u64 << 32;
        let mut set: Vec<u64> = (0..3000).map(|_| boundary - 2000 + rng.below(4000)).collect();
        set.extend(100..400); // a dense stretch, run-encoded
        set.extend((0..200).map(|_| rng.below(70_000)));
        let rows = DeletedRows::from_rows(set);
        for _ in 0..200 {
            let first = if rng.below(2) == 0 {
                rng.below(70_000)
            } else {
                boundary - 2500 + rng.below(5000)
            };
            let len = rng.below(3000) as usize;
            let mask = rows.keep_mask(first, len);
            assert_eq!(mask.len(), len);
            for i in 0..len {
                assert_eq!(
                    mask.value(i),
                    !rows.contains(first + i as u64),
                    "row {}",
                    first + i as u64
                );
            }
        }
        assert!(DeletedRows::default().keep_mask(0, 10).values().iter().all(|v| v));
    }

    // ---- errors, never panics ----

    fn sample() -> (DeletedRows, DeletionVectorDescriptor, Vec<u8>) {
        let rows = DeletedRows::from_rows([3, 4, 7, 100_000, (1 << 32) + 5]);
        let dv = file_descriptor(&rows);
        let bytes = rows.to_file_bytes().unwrap();
        (rows, dv, bytes)
    }

    fn assert_invalid_file<T: std::fmt::Debug>(result: DeltaResult<T>, needle: &str) {
        match result {
            Err(DeltaError::InvalidDataFile { path, reason }) => {
                assert!(!path.is_empty());
                assert!(reason.contains(needle), "{reason:?} does not mention {needle:?}");
            }
            other => panic!("expected InvalidDataFile mentioning {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn truncated_file_bytes_are_errors() {
        let (_, dv, bytes) = sample();
        for len in 0..bytes.len() {
            assert_invalid_file(DeletedRows::from_file_bytes(&bytes[..len], &dv, "dv.bin"), "truncated");
        }
        let (_, _, whole) = sample();
        let data = &whole[4..whole.len() - 4];
        for len in 0..data.len() {
            assert!(
                DeletedRows::deserialize(&data[..len], "dv.bin").is_err(),
                "length {len}"
            );
        }
    }

    #[test]
    fn checksum_length_and_cardinality_are_checked() {
        let (_, dv, bytes) = sample();
        let n = bytes.len();

        let mut bad_crc = bytes.clone();
        bad_crc[n - 1] ^= 1;
        assert_invalid_file(DeletedRows::from_file_bytes(&bad_crc, &dv, "dv.bin"), "checksum");
        let mut bad_data = bytes.clone();
        bad_data[10] ^= 0x40;
        assert_invalid_file(DeletedRows::from_file_bytes(&bad_data, &dv, "dv.bin"), "checksum");

        let mut bad_length = bytes.clone();
        bad_length[3] += 1;
        assert_invalid_file(DeletedRows::from_file_bytes(&bad_length, &dv, "dv.bin"), "length");
        let mut huge_length = bytes.clone();
        huge_length[..4].copy_from_slice(&[0xFF; 4]);
        assert_invalid_file(DeletedRows::from_file_bytes(&huge_length, &dv, "dv.bin"), "length");

        let wrong_cardinality = DeletionVectorDescriptor {
            cardinality: 4,
            ..dv.clone()
        };
        assert_invalid_file(
            DeletedRows::from_file_bytes(&bytes, &wrong_cardinality, "dv.bin"),
            "cardinality",
        );
        let wrong_size = DeletionVectorDescriptor {
            size_in_bytes: dv.size_in_bytes - 1,
            ..dv.clone()
        };
        assert_invalid_file(
            DeletedRows::from_file_bytes(&bytes, &wrong_size, "dv.bin"),
            "sizeInBytes",
        );
        let huge_size = DeletionVectorDescriptor {
            size_in_bytes: i32::MAX,
            ..dv.clone()
        };
        assert!(DeletedRows::from_file_bytes(&bytes, &huge_size, "dv.bin").is_err());
        let negative = DeletionVectorDescriptor {
            size_in_bytes: -5,
            ..dv.clone()
        };
        assert_invalid_file(DeletedRows::from_file_bytes(&bytes, &negative, "dv.bin"), "negative");

        let err = DeletedRows::from_file_bytes(&bad_crc, &dv, "s3://t/dv.bin").unwrap_err();
        assert!(err.to_string().contains("s3://t/dv.bin"), "{err}");
    }

    #[test]
    fn whole_file_is_checked() {
        let (rows, dv, bytes) = sample();
        let mut file = vec![DV_FILE_FORMAT_VERSION];
        file.extend_from_slice(&bytes);
        assert_eq!(DeletedRows::from_file(&file, &dv, "dv.bin").unwrap(), rows);
        assert_invalid_file(DeletedRows::from_file(&[], &dv, "dv.bin"), "empty");
        let mut version_2 = file.clone();
        version_2[0] = 2;
        assert_invalid_file(DeletedRows::from_file(&version_2, &dv, "dv.bin"), "version 2");
        let past_end = DeletionVectorDescriptor {
            offset: Some(1000),
            ..dv.clone()
        };
        assert_invalid_file(DeletedRows::from_file(&file, &past_end, "dv.bin"), "past the end");
        let at_end = DeletionVectorDescriptor {
            offset: Some(file.len() as i32),
            ..dv
        };
        assert_invalid_file(DeletedRows::from_file(&file, &at_end, "dv.bin"), "truncated");
    }

    #[test]
    fn malformed_data_is_an_error() {
        let magic = PORTABLE_MAGIC.to_le_bytes();
        let with_magic = |rest: &[u8]| [&magic[..], rest].concat();
        let empty_bitmap = {
            let mut bytes = Vec::new();
            RoaringBitmap::new().serialize_into(&mut bytes).unwrap();
            bytes
        };
        let one_bitmap = {
            let mut bytes = Vec::new();
            RoaringBitmap::from_iter([1u32]).serialize_into(&mut bytes).unwrap();
            bytes
        };

        assert_invalid_file(DeletedRows::deserialize(&[1, 2], "dv.bin"), "magic");
        assert_invalid_file(DeletedRows::deserialize(&[0, 0, 0, 0, 0, 0, 0, 0], "dv.bin"), "magic");
        assert_invalid_file(DeletedRows::deserialize(&with_magic(&[1, 2, 3]), "dv.bin"), "truncated");
        // Bucket counts far beyond the data, up to u64::MAX.
        for count in [1u64, 2, 1 << 20, u64::MAX] {
            let data = with_magic(&count.to_le_bytes());
            assert_invalid_file(DeletedRows::deserialize(&data, "dv.bin"), "buckets");
        }
        // Keys must ascend.
        let mut data = with_magic(&2u64.to_le_bytes());
        for key in [5u32, 5] {
            data.extend_from_slice(&key.to_le_bytes());
            data.extend_from_slice(&one_bitmap);
        }
        assert_invalid_file(DeletedRows::deserialize(&data, "dv.bin"), "ascending");
        // Trailing bytes.
        let mut data = with_magic(&1u64.to_le_bytes());
        data.extend_from_slice(&0u32.to_le_bytes());
        data.extend_from_slice(&empty_bitmap);
        assert!(DeletedRows::deserialize(&data, "dv.bin").unwrap().is_empty());
        data.push(0);
        assert_invalid_file(DeletedRows::deserialize(&data, "dv.bin"), "unexpected");
        // A bitmap claiming 65 536 containers in a few bytes.
        let mut data = with_magic(&1u64.to_le_bytes());
        data.extend_from_slice(&0u32.to_le_bytes());
        data.extend_from_slice(&12346u32.to_le_bytes());
        data.extend_from_slice(&u32::MAX.to_le_bytes());
        data.extend_from_slice(&[0; 8]);
        assert_invalid_file(DeletedRows::deserialize(&data, "dv.bin"), "roaring bitmap");
        // Native layout with a huge count or size.
        for (count, size) in [(u32::MAX, 8u32), (1, u32::MAX), (1, 3)] {
            let mut data = NATIVE_MAGIC.to_be_bytes().to_vec();
            data.extend_from_slice(&count.to_be_bytes());
            data.extend_from_slice(&size.to_be_bytes());
            data.extend_from_slice(&empty_bitmap);
            assert!(DeletedRows::deserialize(&data, "dv.bin").is_err(), "{count} {size}");
        }
    }

    #[test]
    fn inline_errors() {
        let text = "^Bg9^0rr910000000000iXQKl0rr91000625c8Xg0rri41POJ5";
        for (text, size, cardinality, needle) in [
            (text, 38, 4, "cardinality"),
            (text, 41, 3, "sizeInBytes"),
            (text, 36, 3, "sizeInBytes"),
            (text, -1, 3, "negative"),
            (&text[..49], 38, 3, "Z85"),
            ("", 0, 0, "magic"),
            ("0000000000", 8, 0, "magic"),
        ] {
            let err = inline_descriptor(text, size, cardinality).read_inline();
            match err {
                Err(DeltaError::InvalidDataFile { path, reason }) => {
                    assert_eq!(path, INLINE_PATH);
                    assert!(reason.contains(needle), "{reason:?} does not mention {needle:?}");
                }
                other => panic!("{text:?} {size}: expected an error, got {other:?}"),
            }
        }
        let not_inline = descriptor("u", "vBn[lx{q8@P<9BNH/isA");
        assert!(matches!(not_inline.read_inline(), Err(DeltaError::InvalidArgument(_))));
    }

    #[test]
    fn writer_inlines_small_vectors_and_packs_large_ones_into_one_file() {
        let small = DeletedRows::from_rows([3, 4, 700]);
        let mut rng = Rng(11);
        let large = DeletedRows::from_rows((0..500).map(|_| rng.below(1 << 34)));
        let mut other = DeletedRows::from_rows((0..300).map(|i| i * 7));
        other.union_with(&small);
        assert_eq!(other.len(), 302, "700 is a multiple of 7, already there");

        let mut writer = DeletionVectorWriter::new();
        let inline = writer.add(&small).unwrap();
        assert_eq!(inline.storage_type, "i");
        assert_eq!(inline.read_inline().unwrap(), small);
        let first = writer.add(&large).unwrap();
        let second = writer.add(&other).unwrap();
        assert_eq!((first.storage_type.as_str(), first.offset), ("u", Some(1)));
        assert_eq!(first.path_or_inline_dv, second.path_or_inline_dv);
        assert_eq!(second.cardinality, 302);

        let (path, file) = writer.finish().unwrap();
        let root = Url::parse("file:///table/").unwrap();
        let url = first.absolute_path(&root).unwrap().unwrap();
        assert_eq!(url.as_str(), format!("file:///table/{path}"));
        assert_eq!(DeletedRows::from_file(&file, &first, &path).unwrap(), large);
        assert_eq!(DeletedRows::from_file(&file, &second, &path).unwrap(), other);
        let range = second.file_byte_range().unwrap();
        assert_eq!(range.end as usize, file.len());
        assert!(DeletionVectorWriter::new().finish().is_none());
    }

    #[test]
    fn random_garbage_and_corruptions_never_panic() {
        let mut rng = Rng(0x5eed);
        let valid: Vec<Vec<u8>> = [
            DeletedRows::from_rows([3, 4, 7, (1 << 32) + 5]),
            DeletedRows::from_rows(0..10_000),
            DeletedRows::from_rows((0..6000).map(|i| i * 7)),
            DeletedRows::from_rows((0..3).map(|k| k << 32)),
        ]
        .iter()
        .map(|rows| rows.to_file_bytes().unwrap())
        .collect();
        let dv = descriptor("u", "vBn[lx{q8@P<9BNH/isA");
        for round in 0..3000 {
            let mut bytes = if round % 4 == 0 {
                let len = rng.below(200) as usize;
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                valid[rng.below(valid.len() as u64) as usize].clone()
            };
            for _ in 0..=rng.below(4) {
                if bytes.is_empty() {
                    break;
                }
                let i = rng.below(bytes.len() as u64) as usize;
                bytes[i] = rng.next() as u8;
            }
            if rng.below(3) == 0 {
                bytes.truncate(rng.below(bytes.len() as u64 + 1) as usize);
            }
            // Decode the data both with and without the frame, whatever it holds.
            let data = bytes.get(4..bytes.len().saturating_sub(4)).unwrap_or_default();
            let _ = DeletedRows::deserialize(data, "dv.bin");
            let _ = DeletedRows::deserialize(&bytes, "dv.bin");
            let dv = DeletionVectorDescriptor {
                size_in_bytes: data.len() as i32,
                cardinality: rng.below(10) as i64,
                ..dv.clone()
            };
            let _ = DeletedRows::from_file_bytes(&bytes, &dv, "dv.bin");
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            let _ = z85_decode(&text);
            let inline = inline_descriptor(&z85_encode(data), data.len() as i32, dv.cardinality);
            let _ = inline.read_inline();
        }
    }
}

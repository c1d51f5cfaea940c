//! Arguments in (NUL-terminated UTF-8 strings, string arrays, key/value arrays, Arrow C schemas) and results out
//! (strings the caller frees with `delta_string_free`, values written through out-pointers).

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char};

use arrow::datatypes::Schema;
use arrow::ffi::FFI_ArrowSchema;
use deltalake::DeltaError;

/// A required string argument.
///
/// # Safety
/// `ptr` is null or a NUL-terminated string.
pub(crate) unsafe fn string(ptr: *const c_char, name: &str) -> Result<String, DeltaError> {
    // SAFETY: as the caller guarantees.
    unsafe { optional_string(ptr, name) }?
        .ok_or_else(|| DeltaError::InvalidArgument(format!("{name} is a null pointer")))
}

/// An optional string argument (null for none).
///
/// # Safety
/// `ptr` is null or a NUL-terminated string.
pub(crate) unsafe fn optional_string(ptr: *const c_char, name: &str) -> Result<Option<String>, DeltaError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: not null, and NUL-terminated as the caller guarantees.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str()
        .map(|s| Some(s.to_string()))
        .map_err(|e| DeltaError::InvalidArgument(format!("{name} is not valid UTF-8: {e}")))
}

/// An array of `len` strings (none of them null); a null array is `None`.
///
/// # Safety
/// `items` is null or points to `len` NUL-terminated strings.
pub(crate) unsafe fn optional_strings(
    items: *const *const c_char,
    len: usize,
    name: &str,
) -> Result<Option<Vec<String>>, DeltaError> {
    if items.is_null() {
        return Ok(None);
    }
    // SAFETY: `len` valid pointers as the caller guarantees.
    let pointers = unsafe { std::slice::from_raw_parts(items, len) };
    pointers
        .iter()
        .enumerate()
        // SAFETY: each is null or NUL-terminated.
        .map(|(i, p)| unsafe { string(*p, &format!("{name}[{i}]")) })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// `len` keys and values as a map; null arrays give an empty map.
///
/// # Safety
/// `keys` and `values` are null or point to `len` NUL-terminated strings each.
pub(crate) unsafe fn string_map(
    keys: *const *const c_char,
    values: *const *const c_char,
    len: usize,
    name: &str,
) -> Result<HashMap<String, String>, DeltaError> {
    // SAFETY: as the caller guarantees.
    let keys = unsafe { optional_strings(keys, len, &format!("{name} keys")) }?.unwrap_or_default();
    // SAFETY: as the caller guarantees.
    let values = unsafe { optional_strings(values, len, &format!("{name} values")) }?.unwrap_or_default();
    if keys.len() != values.len() {
        return Err(DeltaError::InvalidArgument(format!(
            "{name}: the keys and values must both be given, or both be null"
        )));
    }
    Ok(keys.into_iter().zip(values).collect())
}

/// Write `value` through an out-pointer (the previous content is not read or dropped).
///
/// # Safety
/// `out` is null or valid for writes of a `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T, name: &str) -> Result<(), DeltaError> {
    if out.is_null() {
        return Err(DeltaError::InvalidArgument(format!("{name} is a null pointer")));
    }
    // SAFETY: not null, and valid for writes as the caller guarantees.
    unsafe { out.write(value) };
    Ok(())
}

/// Check an out-pointer before the work that fills it is done.
pub(crate) fn check_out<T>(out: *mut T, name: &str) -> Result<(), DeltaError> {
    if out.is_null() {
        return Err(DeltaError::InvalidArgument(format!("{name} is a null pointer")));
    }
    Ok(())
}

/// Hand `text` to the caller as a NUL-terminated string it frees with `delta_string_free`.
///
/// # Safety
/// `out` is null or valid for writes of a pointer.
pub(crate) unsafe fn write_string(out: *mut *mut c_char, text: String, name: &str) -> Result<(), DeltaError> {
    let text = CString::new(text).map_err(|e| {
        DeltaError::Arrow(arrow::error::ArrowError::ExternalError(
            format!("{name} holds a NUL byte: {e}").into(),
        ))
    })?;
    check_out(out, name)?;
    // SAFETY: as the caller guarantees.
    unsafe { write_out(out, text.into_raw(), name) }
}

/// Free a string the library returned (JSON documents, ...). Null is ignored.
///
/// # Safety
/// `text` is null or a string returned by this library and not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn delta_string_free(text: *mut c_char) {
    if !text.is_null() {
        // SAFETY: it came from `CString::into_raw` in `write_string`.
        drop(unsafe { CString::from_raw(text) });
    }
}

/// The Arrow schema a caller's (borrowed) Arrow C schema describes.
///
/// # Safety
/// `schema` is null or a valid `struct ArrowSchema`.
pub(crate) unsafe fn import_schema(schema: *const FFI_ArrowSchema) -> Result<Schema, DeltaError> {
    if schema.is_null() {
        return Err(DeltaError::InvalidArgument("schema is a null pointer".into()));
    }
    // SAFETY: as the caller guarantees.
    Ok(Schema::try_from(unsafe { &*schema })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_maps() {
        let a = c"a";
        let b = c"b";
        let bad = [0xffu8, 0];
        unsafe {
            assert_eq!(string(a.as_ptr(), "x").unwrap(), "a");
            assert!(string(std::ptr::null(), "x").is_err());
            assert!(optional_string(bad.as_ptr().cast(), "x").is_err());
            let keys = [a.as_ptr()];
            let values = [b.as_ptr()];
            let map = string_map(keys.as_ptr(), values.as_ptr(), 1, "options").unwrap();
            assert_eq!(map["a"], "b");
            assert!(string_map(keys.as_ptr(), std::ptr::null(), 1, "options").is_err());
            assert!(
                string_map(std::ptr::null(), std::ptr::null(), 3, "options")
                    .unwrap()
                    .is_empty()
            );
            let with_null = [a.as_ptr(), std::ptr::null()];
            let err = optional_strings(with_null.as_ptr(), 2, "columns").unwrap_err();
            assert!(err.to_string().contains("columns[1]"), "{err}");
            let mut out: *mut c_char = std::ptr::null_mut();
            write_string(&mut out, "{}".into(), "out").unwrap();
            assert_eq!(CStr::from_ptr(out).to_str().unwrap(), "{}");
            delta_string_free(out);
            assert!(write_string(std::ptr::null_mut(), "x".into(), "out").is_err());
        }
    }
}

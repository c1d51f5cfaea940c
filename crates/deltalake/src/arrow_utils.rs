//! Arrow helpers shared by log replay and scans: conforming arrays to a target type.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, MapArray, StructArray, make_array, new_null_array};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType as ArrowType, Field, FieldRef, Fields};

use crate::error::{DeltaError, DeltaResult};
use crate::protocol::schema::{COLUMN_MAPPING_ID, COLUMN_MAPPING_PHYSICAL_NAME, PARQUET_FIELD_ID, variant_arrow_type};

/// How a target field is found among the children of a source struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldMatch {
    /// By name, exactly, then case-insensitively.
    Name,
    /// By the column-mapping physical name in the target field's metadata (falls back to the name).
    PhysicalName,
    /// By the column-mapping id, compared with the Parquet field id of the source (falls back to the physical name).
    Id,
}

impl FieldMatch {
    fn find<'a>(self, target: &Field, candidates: &'a Fields) -> Option<(usize, &'a FieldRef)> {
        if self == Self::Id
            && let Some(id) = target.metadata().get(COLUMN_MAPPING_ID)
        {
            let hit = candidates
                .iter()
                .enumerate()
                .find(|(_, f)| f.metadata().get(PARQUET_FIELD_ID) == Some(id));
            if hit.is_some() {
                return hit;
            }
        }
        let name = match self {
            Self::Name => target.name().as_str(),
            Self::PhysicalName | Self::Id => target
                .metadata()
                .get(COLUMN_MAPPING_PHYSICAL_NAME)
                .map_or(target.name().as_str(), String::as_str),
        };
        candidates
            .iter()
            .enumerate()
            .find(|(_, f)| f.name() == name)
            .or_else(|| {
                candidates
                    .iter()
                    .enumerate()
                    .find(|(_, f)| f.name().eq_ignore_ascii_case(name))
            })
    }

    /// Index of the child of `candidates` that holds `target`.
    pub fn position(self, target: &Field, candidates: &Fields) -> Option<usize> {
        self.find(target, candidates).map(|(i, _)| i)
    }
}

/// A shredded variant column (`metadata`, `value`, `typed_value`) as plain variant binaries
/// (`metadata`, `value`), per the Parquet variant shredding specification.
fn unshred(source: &StructArray) -> Result<StructArray, arrow::error::ArrowError> {
    let variant = parquet_variant_compute::VariantArray::try_new(source)?;
    Ok(parquet_variant_compute::unshred_variant(&variant)?.into_inner())
}

/// The error of an array whose data type its Arrow array type does not match.
fn mismatch(array: &ArrayRef, context: &str) -> DeltaError {
    DeltaError::schema(format!(
        "{context}: an array of type {} has another layout",
        array.data_type()
    ))
}

/// Reshape `array` into `target`'s type: struct children are matched with `matcher` (and renamed),
/// children missing from the source become nulls, leaves are cast. `context` names the data in errors.
pub fn conform_array(array: &ArrayRef, target: &Field, matcher: FieldMatch, context: &str) -> DeltaResult<ArrayRef> {
    let target_type = target.data_type();
    if array.data_type() == target_type {
        return Ok(array.clone());
    }
    match (array.data_type(), target_type) {
        (ArrowType::Struct(_), ArrowType::Struct(target_fields)) => {
            let source = array.as_struct_opt().ok_or_else(|| mismatch(array, context))?;
            if *target_type == variant_arrow_type() && source.column_by_name("typed_value").is_some() {
                let unshredded = unshred(source).map_err(|e| DeltaError::InvalidDataFile {
                    path: context.to_string(),
                    reason: format!(
                        "variant column '{}': cannot reassemble shredded values: {e}",
                        target.name()
                    ),
                })?;
                return conform_struct(&unshredded, target_fields, matcher, context).map(|s| Arc::new(s) as ArrayRef);
            }
            conform_struct(source, target_fields, matcher, context).map(|s| Arc::new(s) as ArrayRef)
        }
        (ArrowType::List(_) | ArrowType::LargeList(_), ArrowType::List(target_item)) => {
            let list = if let ArrowType::LargeList(_) = array.data_type() {
                cast(
                    array,
                    &ArrowType::List(Arc::new(Field::new("item", list_item_type(array), true))),
                )?
            } else {
                array.clone()
            };
            let list = list.as_list_opt::<i32>().ok_or_else(|| mismatch(&list, context))?;
            let values = conform_array(list.values(), target_item, matcher, context)?;
            let item = Field::new(
                target_item.name(),
                values.data_type().clone(),
                target_item.is_nullable(),
            )
            .with_metadata(target_item.metadata().clone());
            Ok(Arc::new(ListArray::try_new(
                Arc::new(item),
                list.offsets().clone(),
                values,
                list.nulls().cloned(),
            )?))
        }
        (ArrowType::Map(_, _), ArrowType::Map(target_entries, ordered)) => {
            let map = array.as_map_opt().ok_or_else(|| mismatch(array, context))?;
            let ArrowType::Struct(target_kv) = target_entries.data_type() else {
                return Err(DeltaError::schema(format!("{context}: invalid map type {target_type}")));
            };
            let entries: &StructArray = map.entries();
            let keys = conform_array(entries.column(0), &target_kv[0], matcher, context)?;
            let values = conform_array(entries.column(1), &target_kv[1], matcher, context)?;
            let entries = StructArray::try_new(target_kv.clone(), vec![keys, values], None)?;
            Ok(Arc::new(MapArray::try_new(
                target_entries.clone(),
                map.offsets().clone(),
                entries,
                map.nulls().cloned(),
                *ordered,
            )?))
        }
        (ArrowType::Timestamp(_, source_tz), ArrowType::Timestamp(unit, target_tz)) if source_tz != target_tz => {
            // Delta timestamps are UTC instants whatever the file's annotation: convert the unit,
            // then re-label the zone without shifting values.
            let same_zone = cast(array, &ArrowType::Timestamp(*unit, source_tz.clone()))?;
            let data = same_zone
                .to_data()
                .into_builder()
                .data_type(target_type.clone())
                .build()?;
            Ok(make_array(data))
        }
        (source, _) => cast(array, target_type).map_err(|e| {
            DeltaError::schema(format!(
                "{context}: cannot read column '{}' of type {source} as {target_type}: {e}",
                target.name()
            ))
        }),
    }
}

fn list_item_type(array: &ArrayRef) -> ArrowType {
    match array.data_type() {
        ArrowType::List(f) | ArrowType::LargeList(f) => f.data_type().clone(),
        other => other.clone(),
    }
}

/// [`conform_array`] for the children of a struct, producing a struct of exactly `target_fields`.
pub fn conform_struct(
    source: &StructArray,
    target_fields: &Fields,
    matcher: FieldMatch,
    context: &str,
) -> DeltaResult<StructArray> {
    let source_fields = source.fields();
    let columns = target_fields
        .iter()
        .map(|target| match matcher.position(target, source_fields) {
            Some(i) => conform_array(source.column(i), target, matcher, context),
            None => Ok(new_null_array(target.data_type(), source.len())),
        })
        .collect::<DeltaResult<Vec<_>>>()?;
    let fields = relax_nullability(target_fields, &columns, source.nulls());
    Ok(StructArray::try_new(fields, columns, source.nulls().cloned())?)
}

/// A field declared non-nullable that holds nulls outside the parent's null rows (a missing
/// column, an evolved schema) is relaxed rather than failing the whole read.
fn relax_nullability(fields: &Fields, columns: &[ArrayRef], parent_nulls: Option<&NullBuffer>) -> Fields {
    let covered = |c: &ArrayRef| match (c.logical_nulls(), parent_nulls) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(child), Some(parent)) => parent.iter().zip(child.iter()).all(|(p, c)| c || !p),
    };
    fields
        .iter()
        .zip(columns)
        .map(|(f, c)| {
            if !f.is_nullable() && !covered(c) {
                Arc::new(f.as_ref().clone().with_nullable(true))
            } else {
                f.clone()
            }
        })
        .collect()
}

/// `data_type` with every zoned timestamp (at any depth of structs) labelled `+00:00`: Arrow parses
/// and prints offset zones without a time-zone database, and Delta timestamps are UTC instants.
/// [`conform_array`] turns such arrays back into the original labels without shifting values.
pub fn with_offset_time_zones(data_type: &ArrowType) -> ArrowType {
    match data_type {
        ArrowType::Timestamp(unit, Some(_)) => ArrowType::Timestamp(*unit, Some("+00:00".into())),
        ArrowType::Struct(fields) => ArrowType::Struct(
            fields
                .iter()
                .map(|f| f.as_ref().clone().with_data_type(with_offset_time_zones(f.data_type())))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, Int64Array, StringArray};
    use std::collections::HashMap;

    #[test]
    fn conforms_structs_by_physical_name_filling_missing_children() {
        let source = StructArray::from(vec![
            (
                Arc::new(Field::new("col-1", ArrowType::Int32, true)),
                Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("other", ArrowType::Utf8, true)),
                Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
            ),
        ]);
        let mapped = Field::new("a", ArrowType::Int64, true).with_metadata(HashMap::from([(
            COLUMN_MAPPING_PHYSICAL_NAME.to_string(),
            "col-1".to_string(),
        )]));
        let target = Fields::from(vec![mapped, Field::new("missing", ArrowType::Utf8, false)]);
        let out = conform_struct(&source, &target, FieldMatch::PhysicalName, "t").unwrap();
        let a = out.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(a.values().as_ref(), &[1, 2]);
        assert_eq!(out.column(1).null_count(), 2);
        assert!(out.fields()[1].is_nullable());
        assert!(
            conform_struct(&source, &target, FieldMatch::Name, "t")
                .unwrap()
                .column(0)
                .null_count()
                == 2
        );
    }

    #[test]
    fn shredded_variant_values_are_reassembled() {
        use arrow::array::{Array, AsArray, BinaryArray};
        let shredded =
            |metadata: &'static [u8], value: Vec<Option<&'static [u8]>>, typed: Vec<Option<i64>>| -> ArrayRef {
                Arc::new(StructArray::from(vec![
                    (
                        Arc::new(Field::new("metadata", ArrowType::Binary, false)),
                        Arc::new(BinaryArray::from(vec![metadata; value.len()])) as ArrayRef,
                    ),
                    (
                        Arc::new(Field::new("value", ArrowType::Binary, true)),
                        Arc::new(BinaryArray::from(value)) as ArrayRef,
                    ),
                    (
                        Arc::new(Field::new("typed_value", ArrowType::Int64, true)),
                        Arc::new(Int64Array::from(typed)) as ArrayRef,
                    ),
                ]))
            };
        let target = Field::new("v", variant_arrow_type(), true);
        let empty_dictionary: &[u8] = b"\x01\x00\x00";
        let read = conform_array(
            &shredded(empty_dictionary, vec![Some(b"\x00"), None], vec![None, Some(7)]),
            &target,
            FieldMatch::Name,
            "f.parquet",
        )
        .unwrap();
        assert_eq!(read.data_type(), &variant_arrow_type());
        let values = read
            .as_struct()
            .column_by_name("value")
            .unwrap()
            .as_binary::<i32>()
            .clone();
        // Row 0 stays the variant null; row 1 is the typed 7 as a variant int64 (type id 6).
        assert_eq!(values.value(0), b"\x00");
        assert_eq!(values.value(1), [6 << 2, 7, 0, 0, 0, 0, 0, 0, 0]);
        // Broken variant metadata is an error naming the file, never a panic.
        let err = conform_array(
            &shredded(b"\xff", vec![None, None], vec![Some(1), Some(2)]),
            &target,
            FieldMatch::Name,
            "f.parquet",
        )
        .unwrap_err();
        assert!(err.to_string().contains("f.parquet"), "{err}");
    }
}

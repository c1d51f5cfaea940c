//! Reading only the needed values out of an `add.stats` JSON document.
//!
//! The document is scanned once without building a tree; the sections (`minValues`, ...) are kept
//! as raw JSON and searched for the few columns a predicate reads.

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::protocol::{PrimitiveType, Scalar};

/// The statistics of one data file, with per-column sections left unparsed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawStats<'a> {
    /// Rows in the file (before deletion vectors).
    pub num_records: Option<i64>,
    /// Lower bounds, nested by struct as the columns are.
    #[serde(borrow)]
    pub min_values: Option<&'a RawValue>,
    /// Upper bounds.
    #[serde(borrow)]
    pub max_values: Option<&'a RawValue>,
    /// Null counts.
    #[serde(borrow)]
    pub null_count: Option<&'a RawValue>,
    /// Whether bounds and counts are exact for the live rows (false after deletion vectors).
    pub tight_bounds: Option<bool>,
}

impl<'a> RawStats<'a> {
    /// Parse a stats document; `None` when it is not valid JSON of the expected shape (the
    /// statistics are then unknown, which never skips the file).
    pub fn parse(json: &'a str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }
}

/// The value at `path` (physical field names) inside a statistics section.
pub(crate) fn lookup<'a>(section: Option<&'a RawValue>, path: &[String]) -> Option<&'a RawValue> {
    let mut current = section?;
    for name in path {
        let mut de = serde_json::Deserializer::from_str(current.get());
        current = FindKey(name).deserialize(&mut de).ok()??;
    }
    Some(current)
}

/// A bound of type `ty` at `path`; NaN bounds are treated as unknown.
pub(crate) fn bound(section: Option<&RawValue>, path: &[String], ty: PrimitiveType) -> Option<Scalar> {
    let raw = lookup(section, path)?;
    let value: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
    match Scalar::from_stats_json(&value, ty)? {
        Scalar::Double(v) if v.is_nan() => None,
        Scalar::Float(v) if v.is_nan() => None,
        other => Some(other),
    }
}

/// A count at `path`.
pub(crate) fn count(section: Option<&RawValue>, path: &[String]) -> Option<i64> {
    serde_json::from_str(lookup(section, path)?.get()).ok()
}

/// Finds one key of a JSON object, skipping the other values without building them.
struct FindKey<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for FindKey<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FindKey<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(hit) = map.next_key_seed(KeyIs(self.0))? {
            if hit && found.is_none() {
                found = Some(map.next_value::<&RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Deserializes an object key into whether it equals the wanted name.
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values_and_ignores_the_rest() {
        let json = r#"{"numRecords":3,"minValues":{"a":1,"s":{"x":"p\"q","y":[1,2]},"b\u0041":2.5},
            "maxValues":{"a":9},"nullCount":{"a":0,"s":{"x":1}},"tightBounds":false}"#;
        let stats = RawStats::parse(json).unwrap();
        assert_eq!(stats.num_records, Some(3));
        assert_eq!(stats.tight_bounds, Some(false));
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            bound(stats.min_values, &path(&["s", "x"]), PrimitiveType::String),
            Some(Scalar::String("p\"q".into()))
        );
        assert_eq!(
            bound(stats.min_values, &path(&["bA"]), PrimitiveType::Double),
            Some(Scalar::Double(2.5))
        );
        assert_eq!(
            bound(stats.max_values, &path(&["a"]), PrimitiveType::Long),
            Some(Scalar::Long(9))
        );
        assert_eq!(bound(stats.max_values, &path(&["s", "x"]), PrimitiveType::String), None);
        assert_eq!(count(stats.null_count, &path(&["s", "x"])), Some(1));
        // A struct where a leaf was expected, and a leaf where a struct was expected.
        assert_eq!(bound(stats.min_values, &path(&["s"]), PrimitiveType::Long), None);
        assert_eq!(count(stats.null_count, &path(&["a", "z"])), None);
        assert!(RawStats::parse("{not json").is_none());
        let nan = RawStats::parse(r#"{"minValues":{"f":"NaN"}}"#).unwrap();
        assert_eq!(bound(nan.min_values, &path(&["f"]), PrimitiveType::Double), None);
    }
}

//! Reading only the needed values out of an `add.stats` JSON document.
//!
//! The document is scanned once without building a tree: the values of the wanted columns are
//! kept as raw JSON slices and every other value is skipped.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::protocol::{PrimitiveType, Scalar};

/// The statistics columns wanted, as a tree of physical field names.
#[derive(Debug, Default, Clone)]
pub(crate) struct StatsPaths {
    children: Vec<(String, Node)>,
}

#[derive(Debug, Clone)]
enum Node {
    /// The column with this index.
    Leaf(usize),
    /// A struct holding wanted fields.
    Inner(StatsPaths),
}

impl StatsPaths {
    /// The tree of `paths`; column `i` is `paths[i]`.
    pub fn new<'p>(paths: impl IntoIterator<Item = &'p [String]>) -> Self {
        let mut root = Self::default();
        for (index, path) in paths.into_iter().enumerate() {
            root.insert(path, index);
        }
        root
    }

    fn insert(&mut self, path: &[String], index: usize) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let position = match self.children.iter().position(|(name, _)| name == first) {
            Some(p) => p,
            None => {
                let node = if rest.is_empty() {
                    Node::Leaf(index)
                } else {
                    Node::Inner(Self::default())
                };
                self.children.push((first.clone(), node));
                self.children.len() - 1
            }
        };
        if let Node::Inner(inner) = &mut self.children[position].1 {
            inner.insert(rest, index);
        }
    }

    fn len(&self) -> usize {
        self.children
            .iter()
            .map(|(_, node)| match node {
                Node::Leaf(i) => i + 1,
                Node::Inner(inner) => inner.len(),
            })
            .max()
            .unwrap_or(0)
    }
}

/// The statistics of one data file, limited to the wanted columns.
#[derive(Debug, Default)]
pub(crate) struct FileStats<'a> {
    /// Rows in the file (before deletion vectors).
    pub num_records: Option<i64>,
    /// Whether bounds and counts are exact for the live rows (false after deletion vectors).
    pub tight_bounds: Option<bool>,
    /// Lower bound of each wanted column, as raw JSON.
    pub min: Vec<Option<&'a RawValue>>,
    /// Upper bound of each wanted column.
    pub max: Vec<Option<&'a RawValue>>,
    /// Null count of each wanted column.
    pub null_count: Vec<Option<&'a RawValue>>,
}

impl<'a> FileStats<'a> {
    /// Parse a stats document; `None` when it is not valid JSON of the expected shape (the
    /// statistics are then unknown, which never skips the file).
    pub fn parse(json: &'a str, paths: &StatsPaths) -> Option<Self> {
        let mut de = serde_json::Deserializer::from_str(json);
        let stats = Document(paths).deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(stats)
    }
}

/// A bound of type `ty`; NaN bounds are treated as unknown.
pub(crate) fn bound(raw: Option<&RawValue>, ty: PrimitiveType) -> Option<Scalar> {
    let value: serde_json::Value = serde_json::from_str(raw?.get()).ok()?;
    match Scalar::from_stats_json(&value, ty)? {
        Scalar::Double(v) if v.is_nan() => None,
        Scalar::Float(v) if v.is_nan() => None,
        other => Some(other),
    }
}

/// A count.
pub(crate) fn count(raw: Option<&RawValue>) -> Option<i64> {
    serde_json::from_str(raw?.get()).ok()
}

/// The whole document.
struct Document<'p>(&'p StatsPaths);

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = FileStats<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = FileStats<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a statistics object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        const KEYS: [&str; 5] = ["numRecords", "tightBounds", "minValues", "maxValues", "nullCount"];
        let n = self.0.len();
        let mut stats = FileStats {
            min: vec![None; n],
            max: vec![None; n],
            null_count: vec![None; n],
            ..FileStats::default()
        };
        while let Some(key) = map.next_key_seed(KeyIn(&KEYS))? {
            match key {
                Some(0) => stats.num_records = map.next_value()?,
                Some(1) => stats.tight_bounds = map.next_value()?,
                Some(2) => map.next_value_seed(Section(self.0, &mut stats.min))?,
                Some(3) => map.next_value_seed(Section(self.0, &mut stats.max))?,
                Some(4) => map.next_value_seed(Section(self.0, &mut stats.null_count))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(stats)
    }
}

/// One section (`minValues`, ...): wanted leaves are stored by column index.
struct Section<'p, 'o, 'de>(&'p StatsPaths, &'o mut Vec<Option<&'de RawValue>>);

impl<'de> DeserializeSeed<'de> for Section<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Section<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of column statistics")
    }

    /// A null section (or a null struct) holds nothing.
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Section(paths, out) = self;
        let names: Vec<&str> = paths.children.iter().map(|(name, _)| name.as_str()).collect();
        while let Some(key) = map.next_key_seed(KeyIn(&names))? {
            match key.map(|i| &paths.children[i].1) {
                Some(Node::Leaf(index)) => out[*index] = Some(map.next_value()?),
                Some(Node::Inner(inner)) => map.next_value_seed(Section(inner, &mut *out))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Deserializes an object key into its position among the wanted names, without allocating.
struct KeyIn<'k, 's>(&'k [&'s str]);

impl<'de> DeserializeSeed<'de> for KeyIn<'_, '_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIn<'_, '_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|name| *name == v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_nested_values_and_ignores_the_rest() {
        let json = r#"{"numRecords":3,"minValues":{"a":1,"s":{"x":"p\"q","y":[1,2]},"b\u0041":2.5},
            "maxValues":{"a":9,"s":null},"nullCount":{"a":0,"s":{"x":1}},"tightBounds":false,"extra":{"a":1}}"#;
        let wanted = [path(&["s", "x"]), path(&["bA"]), path(&["a"]), path(&["s", "y"])];
        let paths = StatsPaths::new(wanted.iter().map(Vec::as_slice));
        let stats = FileStats::parse(json, &paths).unwrap();
        assert_eq!(stats.num_records, Some(3));
        assert_eq!(stats.tight_bounds, Some(false));
        assert_eq!(
            bound(stats.min[0], PrimitiveType::String),
            Some(Scalar::String("p\"q".into()))
        );
        assert_eq!(bound(stats.min[1], PrimitiveType::Double), Some(Scalar::Double(2.5)));
        assert_eq!(bound(stats.max[2], PrimitiveType::Long), Some(Scalar::Long(9)));
        assert_eq!(bound(stats.max[0], PrimitiveType::String), None);
        assert_eq!(count(stats.null_count[0]), Some(1));
        assert_eq!(count(stats.null_count[1]), None);
        // An array where a leaf was expected does not parse as a bound.
        assert_eq!(bound(stats.min[3], PrimitiveType::Long), None);
        assert!(FileStats::parse("{not json", &paths).is_none());
        assert!(FileStats::parse(r#"{"minValues":[1]}"#, &paths).is_none());
        assert!(FileStats::parse(r#"{"numRecords":1} trailing"#, &paths).is_none());
        let nan = FileStats::parse(r#"{"minValues":{"a":"NaN"}}"#, &paths).unwrap();
        assert_eq!(bound(nan.min[2], PrimitiveType::Double), None);
    }
}

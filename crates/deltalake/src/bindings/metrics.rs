//! Operation metrics as JSON, for bindings.
//!
//! Each metrics struct of [`crate::operations`] serialises with the keys the `deltalake` PyPI
//! package reports (its `Serialize` derive is the one place they are named); this module adds
//! the conversions bindings need.

use serde::Serialize;
use serde_json::Value;

use crate::error::DeltaResult;

/// `metrics` as a JSON value with the `deltalake` PyPI package's keys.
///
/// ```
/// use deltalake::operations::delete::DeleteMetrics;
///
/// let metrics = DeleteMetrics { num_deleted_rows: 3, ..Default::default() };
/// let json = deltalake::bindings::metrics_json(&metrics).unwrap();
/// assert_eq!(json["num_deleted_rows"], 3);
/// ```
pub fn metrics_json(metrics: &impl Serialize) -> DeltaResult<Value> {
    Ok(serde_json::to_value(metrics)?)
}

/// `value` with every object key in camelCase (`num_deleted_rows` → `numDeletedRows`), for hosts
/// whose convention that is (JavaScript, Go's JSON tags).
pub fn camel_case_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (camel_case(&k), camel_case_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::merge::MergeMetrics;
    use crate::operations::optimize::OptimizeMetrics;
    use crate::operations::restore::RestoreMetrics;

    #[test]
    fn keys_are_the_reference_packages() {
        let merge = metrics_json(&MergeMetrics::default()).unwrap();
        let keys: Vec<&String> = merge.as_object().unwrap().keys().collect();
        assert!(keys.contains(&&"num_target_rows_inserted".to_string()));
        assert!(!keys.iter().any(|k| k.contains("matched_updated")), "{keys:?}");
        let restore = metrics_json(&RestoreMetrics::default()).unwrap();
        assert!(restore.get("numRestoredFile").is_some() && restore.get("tableSizeAfterRestore").is_some());
        let optimize = metrics_json(&OptimizeMetrics::default()).unwrap();
        assert_eq!(optimize["filesAdded"]["totalFiles"], 0);
        assert_eq!(Value::Object(OptimizeMetrics::default().to_json()), optimize);
    }

    #[test]
    fn camel_cases_nested_keys() {
        let value =
            serde_json::json!({"num_files": 1, "files_added": {"total_size": 2}, "list": [{"a_b": 1}], "_x": 0});
        let camel = camel_case_keys(value);
        assert_eq!(
            camel,
            serde_json::json!({"numFiles": 1, "filesAdded": {"totalSize": 2}, "list": [{"aB": 1}], "_x": 0})
        );
    }
}

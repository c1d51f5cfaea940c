//! Schema questions bindings answer for their users: the column invariants a schema declares.

use serde_json::Value;

use crate::protocol::schema::{DataType, StructType};
use crate::protocol::table_config::INVARIANTS;
use crate::{DeltaError, DeltaResult};

/// The column invariants (`delta.invariants` field metadata) of `schema`, nested fields included:
/// `(dotted column path, SQL expression)` in schema order.
pub fn invariants(schema: &StructType) -> DeltaResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    collect(schema, "", &mut found)?;
    Ok(found)
}

fn collect(schema: &StructType, prefix: &str, found: &mut Vec<(String, String)>) -> DeltaResult<()> {
    for field in &schema.fields {
        let path = if prefix.is_empty() {
            field.name.clone()
        } else {
            format!("{prefix}.{}", field.name)
        };
        if let Some(raw) = field.metadata.get(INVARIANTS) {
            let sql = expression_of(raw).ok_or_else(|| {
                DeltaError::schema(format!(
                    "column {path}: delta.invariants is not {{\"expression\": {{\"expression\": SQL}}}}"
                ))
            })?;
            found.push((path.clone(), sql));
        }
        if let DataType::Struct(inner) = &field.data_type {
            collect(inner, &path, found)?;
        }
    }
    Ok(())
}

/// The SQL of an invariant written as `{"expression": {"expression": SQL}}`, itself either a JSON
/// object or a string holding one.
fn expression_of(raw: &Value) -> Option<String> {
    let parsed;
    let object = match raw {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    object
        .get("expression")?
        .get("expression")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_invariants_and_rejects_malformed_ones() {
        let json = r#"{"type":"struct","fields":[
            {"name":"a","type":"long","nullable":true,"metadata":{"delta.invariants":"{\"expression\":{\"expression\":\"a > 1\"}}"}},
            {"name":"s","type":{"type":"struct","fields":[
                {"name":"x","type":"long","nullable":true,"metadata":{"delta.invariants":{"expression":{"expression":"s.x < 5"}}}}
            ]},"nullable":true,"metadata":{}}
        ]}"#;
        let schema = StructType::from_json(json).expect("schema");
        assert_eq!(
            invariants(&schema).expect("invariants"),
            vec![("a".into(), "a > 1".into()), ("s.x".into(), "s.x < 5".into())]
        );
        let bad = r#"{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{"delta.invariants":"{}"}}]}"#;
        let schema = StructType::from_json(bad).expect("schema");
        assert!(invariants(&schema).is_err());
    }
}

//! Schema questions bindings answer for their users: the column invariants a schema declares.

pub use crate::write::invariants;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::schema::StructType;

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

//! Message transforms: `PROPERTY: SOURCE` where SOURCE is a JMESPath expression (with the
//! original daemon's extra functions) or a well-known Kafka field (`kafka.offset`, ...).

use std::sync::Arc;

use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, RuntimeError, Variable};
use serde_json::{Map, Value};

use crate::error::IngestError;

/// The Kafka coordinates and metadata of one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageMeta {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp in milliseconds, if the message has one.
    pub timestamp_ms: Option<i64>,
    /// 0 none, 1 create time, 2 log append time (the original's numbering).
    pub timestamp_type: i32,
    /// Key, as UTF-8 (lossy).
    pub key: Option<String>,
    /// Headers, values as UTF-8 (lossy).
    pub headers: Vec<(String, Option<String>)>,
}

impl MessageMeta {
    /// The value of a well-known field, `None` when `name` is not one.
    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "kafka.offset" => Value::from(self.offset),
            "kafka.partition" => Value::from(self.partition),
            "kafka.topic" => Value::from(self.topic.clone()),
            // Microseconds, as the original gives them.
            "kafka.timestamp" => self.timestamp_ms.map_or(Value::Null, |ms| Value::from(ms * 1000)),
            "kafka.timestamp_type" => Value::from(self.timestamp_type),
            "kafka.key" => self.key.clone().map_or(Value::Null, Value::from),
            _ => {
                let header = name.strip_prefix("kafka.headers.")?;
                let found = self.headers.iter().find(|(k, _)| k == header);
                found.and_then(|(_, v)| v.clone()).map_or(Value::Null, Value::from)
            }
        })
    }
}

/// One parsed transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    /// The property set (dots make nested objects).
    pub property: String,
    /// Its source.
    pub source: String,
}

/// Parse `PROPERTY: SOURCE` strings.
pub fn parse_transforms(specs: &[String]) -> Result<Vec<Transform>, IngestError> {
    specs
        .iter()
        .map(|spec| {
            let (property, source) = spec.split_once(':').ok_or_else(|| {
                IngestError::Config(format!("transform '{spec}' is not of the form 'PROPERTY: SOURCE'"))
            })?;
            Ok(Transform {
                property: property.trim().to_string(),
                source: source.trim().to_string(),
            })
        })
        .collect()
}

enum Source {
    Kafka(String),
    Query(jmespath::Expression<'static>),
}

/// Compiled transforms (and an optional filter), applied to messages as JSON values.
pub struct Transformer {
    steps: Vec<(Vec<String>, Source)>,
    filter: Option<jmespath::Expression<'static>>,
}

fn runtime() -> &'static Runtime {
    static RUNTIME: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        let mut rt = Runtime::new();
        rt.register_builtin_functions();
        register_custom_functions(&mut rt);
        rt
    })
}

fn is_well_known(source: &str) -> bool {
    matches!(
        source,
        "kafka.offset" | "kafka.partition" | "kafka.topic" | "kafka.timestamp" | "kafka.timestamp_type" | "kafka.key"
    ) || source.starts_with("kafka.headers.")
}

impl Transformer {
    /// Compile `transforms` and `filter`.
    pub fn new(transforms: &[Transform], filter: Option<&str>) -> Result<Self, IngestError> {
        let compile = |expr: &str| {
            runtime()
                .compile(expr)
                .map_err(|e| IngestError::Config(format!("invalid JMESPath expression '{expr}': {e}")))
        };
        let steps = transforms
            .iter()
            .map(|t| {
                let source = if is_well_known(&t.source) {
                    Source::Kafka(t.source.clone())
                } else {
                    Source::Query(compile(&t.source)?)
                };
                Ok((t.property.split('.').map(str::to_string).collect(), source))
            })
            .collect::<Result<_, IngestError>>()?;
        let filter = filter.map(compile).transpose()?;
        Ok(Self { steps, filter })
    }

    /// Whether there is anything to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.filter.is_none()
    }

    /// Whether the transforms only set top-level properties to Kafka fields (no filter, no
    /// JMESPath), which [`Transformer::append_fields`] can do on the message's text.
    pub fn only_appends(&self) -> bool {
        self.filter.is_none()
            && !self.steps.is_empty()
            && (self.steps.iter()).all(|(path, source)| path.len() == 1 && matches!(source, Source::Kafka(_)))
    }

    /// `object` (the text of one JSON object) with the Kafka fields of the transforms appended as
    /// properties, in order; the JSON decoder keeps the last of repeated keys, so this is what
    /// setting them on the value gives. Only when [`Transformer::only_appends`].
    pub fn append_fields(&self, object: &[u8], meta: &MessageMeta) -> Vec<u8> {
        let text = object.trim_ascii();
        let body = &text[..text.len() - 1];
        let mut out = Vec::with_capacity(text.len() + 32 * self.steps.len());
        out.extend_from_slice(body);
        let mut empty = body[1..].trim_ascii().is_empty();
        for (path, source) in &self.steps {
            let Source::Kafka(name) = source else { continue };
            if !empty {
                out.push(b',');
            }
            empty = false;
            // Writing a string and a value into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, &path[0]);
            out.push(b':');
            let _ = serde_json::to_writer(&mut out, &meta.field(name).unwrap_or(Value::Null));
        }
        out.push(b'}');
        out
    }

    /// Apply the transforms in order (each sees the ones before); `Ok(None)` when the filter drops
    /// the message.
    pub fn apply(&self, mut value: Value, meta: &MessageMeta) -> Result<Option<Value>, String> {
        for (path, source) in &self.steps {
            let result = match source {
                Source::Kafka(name) => meta.field(name).unwrap_or(Value::Null),
                Source::Query(expr) => search(expr, &value)?,
            };
            set_path(&mut value, path, result)?;
        }
        if let Some(filter) = &self.filter {
            let kept = search(filter, &value)?;
            let truthy = !matches!(kept, Value::Null | Value::Bool(false))
                && !matches!(&kept, Value::String(s) if s.is_empty())
                && !matches!(&kept, Value::Array(a) if a.is_empty())
                && !matches!(&kept, Value::Object(o) if o.is_empty());
            if !truthy {
                return Ok(None);
            }
        }
        Ok(Some(value))
    }
}

fn search(expr: &jmespath::Expression<'static>, value: &Value) -> Result<Value, String> {
    let var = Variable::try_from(value).map_err(|e| e.to_string())?;
    let found = expr.search(var).map_err(|e| e.to_string())?;
    serde_json::to_value(&*found).map_err(|e| e.to_string())
}

fn set_path(value: &mut Value, path: &[String], new: Value) -> Result<(), String> {
    let mut target = value;
    for (i, key) in path.iter().enumerate() {
        let Value::Object(map) = target else {
            return Err(format!("cannot set '{}': not inside an object", path.join(".")));
        };
        if i + 1 == path.len() {
            map.insert(key.clone(), new);
            return Ok(());
        }
        target = map.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(())
}

fn runtime_error(ctx: &Context<'_>, message: String) -> JmespathError {
    JmespathError::from_ctx(
        ctx,
        ErrorReason::Runtime(RuntimeError::InvalidType {
            expected: message,
            actual: String::new(),
            position: 0,
        }),
    )
}

fn number(n: f64) -> Rcvar {
    Arc::new(Variable::Number(serde_json::Number::from(n as i64)))
}

fn iso8601(ctx: &Context<'_>, value: &Rcvar, per_second: i64) -> Result<Rcvar, JmespathError> {
    let n = value.as_number().ok_or_else(|| runtime_error(ctx, "a number".into()))? as i64;
    let (secs, frac) = (n.div_euclid(per_second), n.rem_euclid(per_second));
    let nanos = frac * (1_000_000_000 / per_second);
    let time = chrono::DateTime::from_timestamp(secs, nanos as u32)
        .ok_or_else(|| runtime_error(ctx, "an epoch time in range".into()))?;
    Ok(Arc::new(Variable::String(
        time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )))
}

fn register_custom_functions(rt: &mut Runtime) {
    let substr = CustomFunction::new(
        Signature::new(
            vec![ArgumentType::String, ArgumentType::Number, ArgumentType::Number],
            None,
        ),
        Box::new(|args: &[Rcvar], ctx: &mut Context<'_>| {
            let s = args[0]
                .as_string()
                .ok_or_else(|| runtime_error(ctx, "a string".into()))?;
            let skip = args[1].as_number().unwrap_or(0.0).max(0.0) as usize;
            let take = args[2].as_number().unwrap_or(0.0).max(0.0) as usize;
            Ok(Arc::new(Variable::String(s.chars().skip(skip).take(take).collect())))
        }),
    );
    rt.register_function("substr", Box::new(substr));
    for (name, per_second) in [
        ("epoch_seconds_to_iso8601", 1),
        ("epoch_millis_to_iso8601", 1_000),
        ("epoch_micros_to_iso8601", 1_000_000),
    ] {
        let f = CustomFunction::new(
            Signature::new(vec![ArgumentType::Number], None),
            Box::new(move |args: &[Rcvar], ctx: &mut Context<'_>| iso8601(ctx, &args[0], per_second)),
        );
        rt.register_function(name, Box::new(f));
    }
    let to_micro = CustomFunction::new(
        Signature::new(vec![ArgumentType::Number], None),
        Box::new(|args: &[Rcvar], ctx: &mut Context<'_>| {
            let n = args[0]
                .as_number()
                .ok_or_else(|| runtime_error(ctx, "a number".into()))?;
            Ok(number(n * 1000.0))
        }),
    );
    rt.register_function("epoch_millis_to_micro", Box::new(to_micro));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta() -> MessageMeta {
        MessageMeta {
            topic: "web".into(),
            partition: 2,
            offset: 42,
            timestamp_ms: Some(1_700_000_000_123),
            timestamp_type: 1,
            key: Some("k1".into()),
            headers: vec![("trace".into(), Some("abc".into()))],
        }
    }

    fn transformer(specs: &[&str], filter: Option<&str>) -> Transformer {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        Transformer::new(&parse_transforms(&specs).unwrap(), filter).unwrap()
    }

    #[test]
    fn kafka_fields_and_custom_functions() {
        let t = transformer(
            &[
                "date: substr(modified, `0`, `10`)",
                "offset: kafka.offset",
                "partition: kafka.partition",
                "topic: kafka.topic",
                "ts: kafka.timestamp",
                "key: kafka.key",
                "meta.trace: kafka.headers.trace",
                "secs: epoch_seconds_to_iso8601(epoch)",
                "millis: epoch_millis_to_iso8601(epoch_ms)",
                "micro: epoch_millis_to_micro(epoch_ms)",
                "again: date",
            ],
            None,
        );
        let input =
            json!({"modified": "2021-03-04T05:06:07Z", "epoch": 1_600_000_000, "epoch_ms": 1_600_000_000_250i64});
        let out = t.apply(input, &meta()).unwrap().unwrap();
        assert_eq!(out["date"], "2021-03-04");
        assert_eq!(out["offset"], 42);
        assert_eq!(out["partition"], 2);
        assert_eq!(out["topic"], "web");
        assert_eq!(out["ts"], 1_700_000_000_123_000i64);
        assert_eq!(out["key"], "k1");
        assert_eq!(out["meta"]["trace"], "abc");
        assert_eq!(out["secs"], "2020-09-13T12:26:40Z");
        assert_eq!(out["millis"], "2020-09-13T12:26:40.250Z");
        assert_eq!(out["micro"], 1_600_000_000_250_000i64);
        assert_eq!(out["again"], "2021-03-04", "a transform sees the ones before it");
    }

    #[test]
    fn appended_kafka_fields_equal_the_set_ones() {
        let specs = [
            "offset: kafka.offset",
            "key: kafka.key",
            "topic: kafka.topic",
            "ts: kafka.timestamp",
        ];
        let t = transformer(&specs, None);
        assert!(t.only_appends());
        for text in [r#" {"a": [1, {"b": "}"}], "offset": "mine"} "#, "{}", "{ }"] {
            let appended: Value = serde_json::from_slice(&t.append_fields(text.as_bytes(), &meta())).unwrap();
            let set = t.apply(serde_json::from_str(text).unwrap(), &meta()).unwrap().unwrap();
            // serde_json keeps the last of repeated keys too: the transform's value wins.
            assert_eq!(appended, set, "{text}");
        }
        assert!(!transformer(&["a.b: kafka.offset"], None).only_appends());
        assert!(!transformer(&["a: b"], None).only_appends());
        assert!(!transformer(&["a: kafka.offset"], Some("a")).only_appends());
        assert!(!transformer(&[], None).only_appends());
    }

    #[test]
    fn filter_drops_and_errors_are_reported() {
        let t = transformer(&[], Some("level == 'error'"));
        assert!(t.apply(json!({"level": "error"}), &meta()).unwrap().is_some());
        assert!(t.apply(json!({"level": "info"}), &meta()).unwrap().is_none());
        let t = transformer(&["x: substr(n, `0`, `1`)"], None);
        assert!(t.apply(json!({"n": 5}), &meta()).is_err());
        assert!(Transformer::new(&parse_transforms(&["x: a[".into()]).unwrap(), None).is_err());
    }
}

//! Property tests of the parsers and decoders that read untrusted bytes: the SQL predicate parser,
//! the log's JSON actions, deletion vectors and Parquet checkpoints.
//!
//! On any input they must return a value or a clear error, never panic. The inputs are random
//! bytes and text, and structured ones (SQL tokens, action objects, real log lines and checkpoints
//! with mutations) that reach past the first check of each parser. Case counts are bounded so that
//! the whole file runs in seconds in the dev profile.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use deltalake::expr::parse_predicate;
use deltalake::protocol::actions::{parse_actions, serialize_actions};
use deltalake::protocol::deletion_vector::{DV_FILE_FORMAT_VERSION, z85_decode, z85_encode};
use deltalake::protocol::{Action, DeletedRows, DeletionVectorDescriptor};
use deltalake::storage::ObjectLogStore;
use deltalake::{DeltaError, DeltaTable};
use object_store::ObjectStoreExt;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
use url::Url;

fn tables_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/tables")
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Open a table whose `_delta_log` holds exactly `files` (name, content), in memory.
fn open_log(files: Vec<(String, Vec<u8>)>) -> Result<DeltaTable, DeltaError> {
    runtime().block_on(async {
        let memory = Arc::new(InMemory::new());
        for (name, content) in files {
            memory
                .put(
                    &ObjectPath::from(format!("t/_delta_log/{name}")),
                    Bytes::from(content).into(),
                )
                .await
                .unwrap();
        }
        let url = Url::parse("memory://properties/t/").unwrap();
        let store = ObjectLogStore::new(memory, url, ObjectPath::from("t"));
        DeltaTable::open_with(Arc::new(store), None).await
    })
}

/// What a table that did open must satisfy, and what an error must say.
fn check_opened(result: Result<DeltaTable, DeltaError>) -> Result<(), TestCaseError> {
    match result {
        Ok(table) => {
            prop_assert!(table.version() >= 0);
            prop_assert!(table.snapshot().files().iter().all(|f| !f.path().is_empty()));
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SQL predicates

const SQL_WORDS: &[&str] = &[
    "a",
    "b",
    "c_1",
    "x",
    "AND",
    "OR",
    "NOT",
    "IS",
    "NULL",
    "IN",
    "BETWEEN",
    "LIKE",
    "ILIKE",
    "ESCAPE",
    "CAST",
    "AS",
    "TRUE",
    "FALSE",
    "DISTINCT",
    "FROM",
    "DATE",
    "TIMESTAMP",
    "TIMESTAMP_NTZ",
    "int",
    "decimal",
    "string",
    "varchar",
    "double",
    "lower",
    "upper",
    "coalesce",
    "(",
    ")",
    ",",
    ".",
    "=",
    "==",
    "<=>",
    "<>",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "0",
    "1",
    "-1",
    "007",
    "1.5",
    ".5",
    "1.",
    "1e3",
    "1e",
    "1e400",
    "1E-400",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "123456789012345678901234567890123456789",
    "0.000000000000000000000000000000000000001",
    "''",
    "'a'",
    "'it''s'",
    "'",
    "\"",
    "`",
    "\"q\"",
    "`a b`",
    "X'0a'",
    "x'F'",
    "X'zz'",
    "'2021-02-03'",
    "'2021-02-30'",
    "'2021-02-03 04:05:06'",
    "'2021-02-03T04:05:06+02:00'",
    "'%'",
    "'_'",
    "'\\'",
    "é",
    "日本",
    "\u{0}",
    ";",
    "#",
    "?",
    "[",
    "]",
];

/// SQL that always parses: every operand is parenthesised, every literal valid.
fn valid_sql() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "c_[a-z0-9]{0,4}",
        "`[a-z .]{1,5}`",
        "\"[a-z]{1,4}\"\\.[a-z]{1,3}",
        any::<i64>().prop_map(|n| n.to_string()),
        "[0-9]{1,45}(\\.[0-9]{0,40})?",
        "[0-9]{1,3}(\\.[0-9]{1,3})?[eE][+-]?[0-9]{1,4}",
        "'([a-z %_]|'')*'",
        "X'([0-9a-fA-F]{2}){0,4}'",
        select(
            &[
                "TRUE",
                "FALSE",
                "NULL",
                "DATE '2021-02-03'",
                "TIMESTAMP '2021-02-03 04:05:06'",
                "TIMESTAMP '2021-02-03T04:05:06.123+02:00'",
                "TIMESTAMP_NTZ '2021-02-03 04:05:06'",
            ][..]
        )
        .prop_map(str::to_string),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        let pair = (inner.clone(), inner.clone());
        prop_oneof![
            (
                pair.clone(),
                select(&["=", "==", "<>", "!=", "<", "<=", ">", ">=", "<=>"][..])
            )
                .prop_map(|((a, b), op)| format!("({a}) {op} ({b})")),
            (pair.clone(), select(&["+", "-", "*", "/", "%"][..])).prop_map(|((a, b), op)| format!("({a}) {op} ({b})")),
            (
                pair.clone(),
                select(&["AND", "OR", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"][..])
            )
                .prop_map(|((a, b), op)| format!("({a}) {op} ({b})")),
            inner.clone().prop_map(|a| format!("NOT ({a})")),
            inner.clone().prop_map(|a| format!("-({a})")),
            (inner.clone(), any::<bool>()).prop_map(|(a, n)| format!("({a}) IS {}NULL", if n { "NOT " } else { "" })),
            (inner.clone(), prop::collection::vec(inner.clone(), 1..4), any::<bool>()).prop_map(|(a, list, n)| {
                let list: Vec<String> = list.iter().map(|e| format!("({e})")).collect();
                format!("({a}) {}IN ({})", if n { "NOT " } else { "" }, list.join(", "))
            }),
            (inner.clone(), pair.clone()).prop_map(|(a, (l, h))| format!("({a}) BETWEEN ({l}) AND ({h})")),
            (
                pair.clone(),
                select(&["LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"][..]),
                any::<bool>()
            )
                .prop_map(|((a, b), op, esc)| format!("({a}) {op} ({b}){}", if esc { " ESCAPE '!'" } else { "" })),
            (
                inner.clone(),
                select(
                    &[
                        "int",
                        "bigint",
                        "double",
                        "string",
                        "varchar(10)",
                        "decimal(10,2)",
                        "date",
                        "boolean"
                    ][..]
                )
            )
                .prop_map(|(a, t)| format!("CAST(({a}) AS {t})")),
            (select(&["lower", "upper", "coalesce"][..]), pair).prop_map(|(f, (a, b))| format!("{f}(({a}), ({b}))")),
        ]
    })
}

/// Every parse error is an invalid-expression error that quotes the input.
fn check_parse(sql: &str) -> Result<(), TestCaseError> {
    match parse_predicate(sql) {
        Ok(expr) => {
            // What the printer writes reads back, and prints the same.
            let printed = expr.to_string();
            let reparsed = parse_predicate(&printed);
            prop_assert!(reparsed.is_ok(), "{sql:?} printed as {printed:?}: {reparsed:?}");
            if let Ok(reparsed) = reparsed {
                prop_assert_eq!(reparsed.to_string(), printed);
            }
        }
        Err(DeltaError::InvalidExpression(message)) => prop_assert!(message.contains("syntax error"), "{message}"),
        Err(other) => prop_assert!(false, "{sql:?}: unexpected error kind {other:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn sql_arbitrary_text_never_panics(sql in any::<String>()) {
        check_parse(&sql)?;
    }

    #[test]
    fn sql_ascii_soup_never_panics(sql in "[ -~]{0,60}") {
        check_parse(&sql)?;
    }

    #[test]
    fn sql_token_sequences_never_panic(words in prop::collection::vec(select(SQL_WORDS), 0..24), glue in "[ ]{0,1}") {
        check_parse(&words.join(&glue))?;
    }

    #[test]
    fn sql_valid_expressions_parse_and_print_back(sql in valid_sql()) {
        prop_assert!(parse_predicate(&sql).is_ok(), "{sql:?}: {:?}", parse_predicate(&sql));
        check_parse(&sql)?;
    }
}

#[test]
fn sql_deep_nesting_is_an_error_not_a_stack_overflow() {
    for (open, close) in [
        ("(", ")"),
        ("NOT ", ""),
        ("-", ""),
        ("lower(", ")"),
        ("CAST(", " AS int)"),
    ] {
        let sql = format!("{}a{}", open.repeat(100_000), close.repeat(100_000));
        let err = parse_predicate(&sql).unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
    }
    // Up to the limit (100 levels, the whole expression being one) nesting is fine, also on a
    // test thread's small stack in the dev profile.
    let sql = format!("{}a{}", "(".repeat(99), ")".repeat(99));
    assert_eq!(parse_predicate(&sql).unwrap().to_string(), "a");
    let sql = format!("{}a{}", "NOT (-(".repeat(24), "))".repeat(24));
    assert!(parse_predicate(&sql).is_ok());
    let sql = format!("{}a{}", "(".repeat(100), ")".repeat(100));
    assert!(
        parse_predicate(&sql)
            .unwrap_err()
            .to_string()
            .contains("nested too deeply")
    );
}

// ---------------------------------------------------------------------------------------------
// Log JSON actions

const ACTION_KEYS: &[&str] = &[
    "add",
    "remove",
    "metaData",
    "protocol",
    "txn",
    "commitInfo",
    "domainMetadata",
    "cdc",
    "checkpointMetadata",
    "sidecar",
    "unknownAction",
];

const FIELD_NAMES: &[&str] = &[
    "path",
    "size",
    "modificationTime",
    "dataChange",
    "partitionValues",
    "stats",
    "numRecords",
    "tags",
    "deletionVector",
    "storageType",
    "pathOrInlineDv",
    "offset",
    "sizeInBytes",
    "cardinality",
    "id",
    "format",
    "provider",
    "schemaString",
    "partitionColumns",
    "configuration",
    "minReaderVersion",
    "minWriterVersion",
    "readerFeatures",
    "writerFeatures",
    "appId",
    "version",
    "domain",
    "removed",
    "timestamp",
    "deletionTimestamp",
    "baseRowId",
    "defaultRowCommitVersion",
];

/// Integers at the edges of the types of action fields.
const EDGE_INTEGERS: &[i64] = &[0, 1, -1, i64::MIN, i64::MAX, i32::MAX as i64 + 1, i32::MIN as i64 - 1];

/// JSON values whose leaves are the edge cases of each type (no floats other than exact ones,
/// which do not all survive a print and parse exactly).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        select(EDGE_INTEGERS).prop_map(Value::from),
        Just(Value::from(1.5)),
        Just(Value::from(u64::MAX)),
        "[ -~]{0,8}".prop_map(Value::from),
        select(
            &[
                "u",
                "i",
                "p",
                "vBn[lx{q8@P<9BNH/isA",
                "",
                "{}",
                "{\"numRecords\":3}",
                "{\"numRecords\":-9223372036854775808}",
                "{\"numRecords\":9223372036854775807}",
                "a=1/part.parquet",
            ][..]
        )
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((select(FIELD_NAMES), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn edge_integer() -> impl Strategy<Value = i64> {
    prop_oneof![select(EDGE_INTEGERS), any::<i64>()]
}

/// `add` actions with fields of the right types and values at their edges, and sometimes a
/// field of another type.
fn add_line() -> impl Strategy<Value = Value> {
    let dv = (
        select(&["u", "i", "p"][..]),
        "[ -~]{0,25}",
        prop::option::of(edge_integer()),
        edge_integer(),
        edge_integer(),
    )
        .prop_map(|(storage, path, offset, size, cardinality)| {
            serde_json::json!({
                "storageType": storage,
                "pathOrInlineDv": path,
                "offset": offset,
                "sizeInBytes": size,
                "cardinality": cardinality,
            })
        });
    (
        "[a-z0-9=/%.-]{0,20}",
        edge_integer(),
        prop::option::of(edge_integer()),
        prop::option::of(dv),
        prop::option::of((select(FIELD_NAMES), json_value())),
    )
        .prop_map(|(path, size, records, dv, extra)| {
            let mut add = serde_json::json!({
                "path": path,
                "partitionValues": {},
                "size": size,
                "modificationTime": size,
                "dataChange": true,
                "stats": records.map(|n| format!("{{\"numRecords\":{n}}}")),
                "deletionVector": dv,
            });
            if let (Some((key, value)), Value::Object(map)) = (extra, &mut add) {
                map.insert(key.to_string(), value);
            }
            serde_json::json!({ "add": add })
        })
}

/// The lines of real commit files, as JSON objects to mutate.
fn sample_lines() -> &'static [Value] {
    static LINES: OnceLock<Vec<Value>> = OnceLock::new();
    LINES.get_or_init(|| {
        let mut lines = Vec::new();
        for table in [
            "table-with-dv-small",
            "simple_table_features",
            "table-with-domain-metadata",
            "checkpoint-v2-table",
            "delta-0.8.0-partitioned",
            "cdf-table",
        ] {
            let log = tables_dir().join(table).join("_delta_log");
            let mut commits: Vec<_> = std::fs::read_dir(&log)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            commits.sort();
            for commit in commits.iter().take(4) {
                let text = std::fs::read_to_string(commit).unwrap();
                lines.extend(
                    text.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| serde_json::from_str(l).unwrap()),
                );
            }
        }
        assert!(lines.len() > 20);
        lines
    })
}

/// One change to a JSON value: follow `route` (an index at each level) and there replace the
/// value, remove it, or add a field.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Vec<usize>, Value),
    Remove(Vec<usize>),
    Insert(Vec<usize>, &'static str, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let route = prop::collection::vec(any::<usize>(), 1..5);
    prop_oneof![
        (route.clone(), json_value()).prop_map(|(r, v)| Mutation::Replace(r, v)),
        route.clone().prop_map(Mutation::Remove),
        (route, select(FIELD_NAMES), json_value()).prop_map(|(r, k, v)| Mutation::Insert(r, k, v)),
    ]
}

/// Apply `mutation` to `value`, following its route as far as the value nests.
fn apply(value: &mut Value, mutation: &Mutation) {
    let route = match mutation {
        Mutation::Replace(r, _) | Mutation::Remove(r) | Mutation::Insert(r, ..) => r,
    };
    let mut target = value;
    for (depth, step) in route.iter().enumerate() {
        let last = depth + 1 == route.len();
        let child_key = match &*target {
            Value::Object(map) if !map.is_empty() => map.keys().nth(step % map.len()).cloned(),
            Value::Array(items) if !items.is_empty() => Some((step % items.len()).to_string()),
            _ => None,
        };
        let Some(key) = child_key else { break };
        if last {
            match (mutation, &mut *target) {
                (Mutation::Remove(_), Value::Object(map)) => {
                    map.remove(&key);
                    return;
                }
                (Mutation::Remove(_), Value::Array(items)) => {
                    items.remove(key.parse().unwrap());
                    return;
                }
                _ => {}
            }
        }
        target = match target {
            Value::Object(map) => map.get_mut(&key).unwrap(),
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    match mutation {
        Mutation::Replace(_, v) => *target = v.clone(),
        Mutation::Insert(_, k, v) => {
            if let Value::Object(map) = target {
                map.insert(k.to_string(), v.clone());
            }
        }
        Mutation::Remove(_) => {}
    }
}

/// Parse a commit body; what parses must survive its own accessors and print back the same.
fn check_actions(body: &[u8]) -> Result<(), TestCaseError> {
    let root = Url::parse("file:///table/").unwrap();
    match parse_actions(body, "_delta_log/00000000000000000007.json", Some(7)) {
        Ok(actions) => {
            for action in &actions {
                let (dv, add) = match action {
                    Action::Add(add) => (add.deletion_vector.as_ref(), Some(add)),
                    Action::Remove(remove) => (remove.deletion_vector.as_ref(), None),
                    Action::Metadata(metadata) => {
                        let _ = metadata.schema();
                        (None, None)
                    }
                    _ => (None, None),
                };
                if let Some(add) = add {
                    let _ = add.live_rows();
                }
                if let Some(dv) = dv {
                    let _ = dv.unique_id();
                    let _ = dv.absolute_path(&root);
                    let _ = dv.file_byte_range();
                    let _ = dv.read_inline();
                }
            }
            let printed = serialize_actions(&actions).unwrap();
            let reparsed = parse_actions(&printed, "printed", None).unwrap();
            prop_assert_eq!(reparsed, actions);
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(
                message.contains("00000000000000000007.json") && message.contains("line "),
                "{message}"
            );
        }
    }
    Ok(())
}

fn lines_to_body(lines: &[Value]) -> Vec<u8> {
    lines.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn actions_arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..200)) {
        check_actions(&body)?;
    }

    #[test]
    fn actions_objects_with_action_keys_never_panic(
        lines in prop::collection::vec((select(ACTION_KEYS), json_value()), 0..4)
    ) {
        let lines: Vec<Value> = lines
            .into_iter()
            .map(|(key, value)| Value::Object(Map::from_iter([(key.to_string(), value)])))
            .collect();
        check_actions(&lines_to_body(&lines))?;
    }

    #[test]
    fn actions_typed_adds_never_panic(lines in prop::collection::vec(add_line(), 1..4)) {
        check_actions(&lines_to_body(&lines))?;
    }

    #[test]
    fn actions_mutated_real_lines_never_panic(
        picks in prop::collection::vec((any::<prop::sample::Index>(), prop::collection::vec(mutation(), 0..3)), 1..4)
    ) {
        let lines = mutated_lines(&picks);
        check_actions(&lines_to_body(&lines))?;
    }
}

/// Real log lines, each picked by index and mutated.
fn mutated_lines(picks: &[(prop::sample::Index, Vec<Mutation>)]) -> Vec<Value> {
    picks
        .iter()
        .map(|(index, mutations)| {
            let mut line = index.get(sample_lines()).clone();
            for m in mutations {
                apply(&mut line, m);
            }
            line
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The same lines as a table's only commit: opening replays them.
    #[test]
    fn log_of_mutated_real_lines_opens_or_errors(
        picks in prop::collection::vec((any::<prop::sample::Index>(), prop::collection::vec(mutation(), 0..2)), 1..8)
    ) {
        let lines = mutated_lines(&picks);
        check_opened(open_log(vec![("00000000000000000000.json".to_string(), lines_to_body(&lines))]))?;
    }
}

// ---------------------------------------------------------------------------------------------
// Deletion vectors

fn row_sets() -> impl Strategy<Value = DeletedRows> {
    prop_oneof![
        prop::collection::vec(0u64..100_000, 0..200).prop_map(DeletedRows::from_rows),
        (0u64..1 << 34, 1u64..20_000).prop_map(|(start, len)| DeletedRows::from_rows(start..start + len)),
        prop::collection::vec(any::<u64>(), 0..50).prop_map(DeletedRows::from_rows),
        prop::collection::vec((0u64..4, any::<u32>()), 0..100)
            .prop_map(|rows| DeletedRows::from_rows(rows.into_iter().map(|(k, v)| (k << 32) | u64::from(v)))),
    ]
}

fn descriptors() -> impl Strategy<Value = DeletionVectorDescriptor> {
    (
        select(&["u", "i", "p", "", "x"][..]),
        prop_oneof![
            "[ -~]{0,30}",
            "[a-z]{0,3}vBn\\[lx\\{q8@P<9BNH/isA",
            "(/|s3://b/|file:///)[a-z/]{0,10}"
        ],
        prop::option::of(any::<i32>()),
        any::<i32>(),
        any::<i64>(),
    )
        .prop_map(
            |(storage_type, path_or_inline_dv, offset, size_in_bytes, cardinality)| DeletionVectorDescriptor {
                storage_type: storage_type.to_string(),
                path_or_inline_dv,
                offset,
                size_in_bytes,
                cardinality,
            },
        )
}

fn file_descriptor(rows: &DeletedRows, data_len: usize) -> DeletionVectorDescriptor {
    DeletionVectorDescriptor {
        storage_type: "u".to_string(),
        path_or_inline_dv: "vBn[lx{q8@P<9BNH/isA".to_string(),
        offset: Some(1),
        size_in_bytes: i32::try_from(data_len).unwrap(),
        cardinality: i64::try_from(rows.len()).unwrap(),
    }
}

/// A deletion vector file holding `rows` at offset 1, after the format version byte.
fn dv_file(rows: &DeletedRows) -> Vec<u8> {
    [&[DV_FILE_FORMAT_VERSION][..], &rows.to_file_bytes().unwrap()].concat()
}

/// Decode `bytes` every way a vector is read; errors only.
fn decode_all_ways(bytes: &[u8], descriptor: &DeletionVectorDescriptor) {
    let root = Url::parse("s3://bucket/table/").unwrap();
    let _ = DeletedRows::deserialize(bytes, "dv.bin");
    let _ = DeletedRows::from_file_bytes(bytes, descriptor, "dv.bin");
    let _ = DeletedRows::from_file(bytes, descriptor, "dv.bin");
    let _ = descriptor.absolute_path(&root);
    let _ = descriptor.file_byte_range();
    let _ = descriptor.read_inline();
    let inline = DeletionVectorDescriptor {
        storage_type: "i".to_string(),
        path_or_inline_dv: z85_encode(&bytes[..bytes.len() / 4 * 4]),
        ..descriptor.clone()
    };
    if let Ok(rows) = inline.read_inline() {
        let _ = rows.keep_mask(u64::MAX - 3, 10);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn dv_arbitrary_bytes_and_descriptors_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        descriptor in descriptors(),
    ) {
        decode_all_ways(&bytes, &descriptor);
    }

    #[test]
    fn dv_arbitrary_z85_text_never_panics(text in prop_oneof!["[ -~]{0,40}", any::<String>()]) {
        if let Ok(bytes) = z85_decode(&text) {
            prop_assert_eq!(z85_encode(&bytes), text);
        }
    }

    #[test]
    fn dv_round_trips(rows in row_sets()) {
        let data = rows.serialize();
        prop_assert_eq!(&DeletedRows::deserialize(&data, "dv.bin").unwrap(), &rows);
        let descriptor = file_descriptor(&rows, data.len());
        prop_assert_eq!(&DeletedRows::from_file(&dv_file(&rows), &descriptor, "dv.bin").unwrap(), &rows);
        let inline = DeletionVectorDescriptor::inline(&rows).unwrap();
        prop_assert_eq!(&inline.read_inline().unwrap(), &rows);
        let mask = rows.keep_mask(0, 1000);
        prop_assert!((0..1000).all(|i| mask.value(i as usize) != rows.contains(i)));
    }

    #[test]
    fn dv_corrupted_files_are_errors(
        rows in row_sets(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let data = rows.serialize();
        let descriptor = file_descriptor(&rows, data.len());
        let mut file = dv_file(&rows);
        for (at, byte) in &flips {
            let i = at.index(file.len());
            file[i] = *byte;
        }
        if truncate {
            file.truncate(cut.index(file.len() + 1));
        }
        decode_all_ways(&file, &descriptor);
        let mut data = data;
        for (at, byte) in &flips {
            let i = at.index(data.len());
            data[i] = *byte;
        }
        decode_all_ways(&data, &descriptor);
        // A change the checksum catches, or none at all: the file never decodes to other rows.
        if let Ok(decoded) = DeletedRows::from_file(&file, &descriptor, "dv.bin") {
            prop_assert_eq!(decoded, rows);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

/// The Parquet checkpoints of the shared tables: (file name, content).
fn sample_checkpoints() -> &'static [(String, Vec<u8>)] {
    static CHECKPOINTS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    CHECKPOINTS.get_or_init(|| {
        let mut found = Vec::new();
        for table in std::fs::read_dir(tables_dir()).unwrap() {
            let log = table.unwrap().path().join("_delta_log");
            let Ok(entries) = std::fs::read_dir(&log) else { continue };
            for entry in entries {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if name.ends_with(".checkpoint.parquet") {
                    found.push((name, std::fs::read(&path).unwrap()));
                }
            }
        }
        found.sort();
        assert!(found.len() >= 10, "{} checkpoints", found.len());
        found
    })
}

/// A change to a file: overwrite bytes at a position (biased to the Parquet footer), or cut it.
#[derive(Debug, Clone)]
enum ByteEdit {
    Overwrite(prop::sample::Index, Vec<u8>),
    OverwriteFooter(prop::sample::Index, Vec<u8>),
    Truncate(prop::sample::Index),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    let bytes = prop::collection::vec(any::<u8>(), 1..6);
    prop_oneof![
        (any::<prop::sample::Index>(), bytes.clone()).prop_map(|(i, b)| ByteEdit::Overwrite(i, b)),
        (any::<prop::sample::Index>(), bytes).prop_map(|(i, b)| ByteEdit::OverwriteFooter(i, b)),
        any::<prop::sample::Index>().prop_map(ByteEdit::Truncate),
    ]
}

fn edit(file: &mut Vec<u8>, edit: &ByteEdit) {
    let len = file.len();
    match edit {
        ByteEdit::Overwrite(at, bytes) | ByteEdit::OverwriteFooter(at, bytes) => {
            let at = match edit {
                // The footer (metadata, its length, the magic) is in the last few hundred bytes.
                ByteEdit::OverwriteFooter(..) => len - 1 - at.index(len.min(600)),
                _ => at.index(len),
            };
            for (i, b) in bytes.iter().enumerate() {
                if let Some(byte) = file.get_mut(at + i) {
                    *byte = *b;
                }
            }
        }
        ByteEdit::Truncate(at) => file.truncate(at.index(len + 1)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn checkpoint_arbitrary_bytes_never_panic(
        content in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            // The Parquet magic around random bytes, to get past the first check.
            prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| [&b"PAR1"[..], &b, &b"PAR1"[..]].concat()),
        ]
    ) {
        check_opened(open_log(vec![("00000000000000000001.checkpoint.parquet".to_string(), content)]))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn checkpoint_mutated_real_files_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(byte_edit(), 1..4),
    ) {
        let (name, original) = pick.get(sample_checkpoints());
        let mut content = original.clone();
        for e in &edits {
            edit(&mut content, e);
        }
        check_opened(open_log(vec![(name.clone(), content)]))?;
    }
}

#[test]
fn every_real_checkpoint_opens_alone() {
    for (name, content) in sample_checkpoints() {
        let table = open_log(vec![(name.clone(), content.clone())]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(format!("{:020}.checkpoint.parquet", table.version()), *name);
    }
}

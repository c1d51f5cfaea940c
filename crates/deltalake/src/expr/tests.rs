//! Unit tests of parsing, binding, evaluation and file skipping.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int32Array, RecordBatch, StringArray, StructArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType as ArrowType, Field, Fields, Schema as ArrowSchema};

use super::*;
use crate::DeltaError;
use crate::log::file_list::AddBatchBuilder;
use crate::protocol::{Add, DataType, DeletionVectorDescriptor, StructField, StructType};

fn p(sql: &str) -> Expr {
    parse_predicate(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn parse_error(sql: &str) -> String {
    match parse_predicate(sql) {
        Err(DeltaError::InvalidExpression(m)) => m,
        other => panic!("{sql}: expected a syntax error, got {other:?}"),
    }
}

#[test]
fn parses_precedence_and_literals() {
    assert_eq!(p("a OR b AND c"), col("a").or(col("b").and(col("c"))));
    assert_eq!(p("NOT a = 1"), !col("a").eq(lit(1i64)));
    assert_eq!(p("a + b * 2 > -3"), (col("a") + col("b") * lit(2i64)).gt(lit(-3i64)));
    assert_eq!(p("1 - -2"), lit(1i64) - lit(-2i64));
    assert_eq!(p("-9223372036854775808 = x"), lit(i64::MIN).eq(col("x")));
    assert_eq!(p("1.50"), Expr::Literal(Scalar::Decimal(150, 3, 2)));
    assert_eq!(p("0.5"), Expr::Literal(Scalar::Decimal(5, 1, 1)));
    assert_eq!(p("1.5e3"), lit(1500.0f64));
    assert_eq!(
        p("99999999999999999999"),
        Expr::Literal(Scalar::Decimal(99_999_999_999_999_999_999, 20, 0))
    );
    assert_eq!(p("'it''s'"), lit("it's"));
    assert_eq!(p("X'0aFF'"), Expr::Literal(Scalar::Binary(vec![10, 255])));
    assert_eq!(p("DATE '1970-01-02'"), Expr::Literal(Scalar::Date(1)));
    assert_eq!(
        p("TIMESTAMP '1970-01-01 00:00:01+01:00'"),
        Expr::Literal(Scalar::Timestamp(-3_599_000_000))
    );
    assert_eq!(
        p("timestamp_ntz '1970-01-01 00:00:01'"),
        Expr::Literal(Scalar::TimestampNtz(1_000_000))
    );
    assert_eq!(
        p("`a b`.\"c\".d"),
        Expr::Column(vec!["a b".into(), "c".into(), "d".into()])
    );
    // `date` is a column unless a string follows.
    assert_eq!(p("date = '2020-01-01'"), col("date").eq(lit("2020-01-01")));
    assert_eq!(p("a IS NOT DISTINCT FROM b"), col("a").null_safe_eq(col("b")));
    assert_eq!(p("a IS DISTINCT FROM b"), !col("a").null_safe_eq(col("b")));
    assert_eq!(p("a <> 1"), col("a").not_eq(lit(1i64)));
    assert_eq!(
        p("a NOT BETWEEN 1 AND 2 AND b"),
        Expr::Between {
            expr: Box::new(col("a")),
            low: Box::new(lit(1i64)),
            high: Box::new(lit(2i64)),
            negated: true,
        }
        .and(col("b"))
    );
    assert_eq!(
        p("cast(a as decimal(5, 2))"),
        col("a").cast(PrimitiveType::Decimal(5, 2))
    );
    assert_eq!(
        p("COALESCE(a, UPPER(b))"),
        Expr::call(Function::Coalesce, [col("a"), Expr::call(Function::Upper, [col("b")])])
    );
}

#[test]
fn display_prints_sql_that_parses_back_to_the_same_expression() {
    let cases = [
        "a OR b AND c",
        "(a OR b) AND c",
        "NOT (a = 1 OR b IS NULL)",
        "a - (b - c) * 2 % 3 / 4",
        "(a - b) - c",
        "-(a + 1) <=> -5",
        "x IN (1, 2, NULL) AND y NOT IN ('a')",
        "x NOT BETWEEN 1 + 1 AND 10",
        "s NOT LIKE 'a!%' ESCAPE '!' OR s ILIKE '%B_'",
        "CAST(a AS DECIMAL(10,2)) > 1.25",
        "`weird name` = 'it''s' AND `select`.`a.b` > 2",
        "`date` = DATE '2021-01-01' AND ts < TIMESTAMP '2021-01-01 10:00:00' AND tn > TIMESTAMP_NTZ '2000-01-01 00:00:00'",
        "d = 1.5e300 OR d = CAST('NaN' AS DOUBLE) OR f = CAST(0.1 AS FLOAT)",
        "b = X'00FF' AND lower(s) = upper(t) AND coalesce(a, b, 0) IS NOT NULL",
        "(a = 1) = (b = 2)",
        "(a IS NULL) IS NULL",
    ];
    for sql in cases {
        let e = p(sql);
        let printed = e.to_string();
        assert_eq!(p(&printed), e, "{sql} printed as {printed}");
    }
    assert_eq!(p("a OR (b AND c)").to_string(), "a OR b AND c");
    assert_eq!(p("(a OR b) AND c").to_string(), "(a OR b) AND c");
    assert_eq!(col("a b").to_string(), "`a b`");
    assert_eq!(lit(f64::INFINITY).to_string(), "CAST('Infinity' AS DOUBLE)");
    // A negated literal written as a cast prints as the negated cast it reads back as.
    for sql in ["-(1e400)", "-CAST(0.1 AS FLOAT)"] {
        let printed = p(sql).to_string();
        assert!(printed.starts_with("-CAST("), "{printed}");
        assert_eq!(p(&printed).to_string(), printed);
    }
}

#[test]
fn syntax_errors_say_where_and_what() {
    let m = parse_error("a = ");
    assert!(m.contains("offset 4") && m.contains("expected an expression"), "{m}");
    let m = parse_error("a = 'open");
    assert!(m.contains("unterminated"), "{m}");
    let m = parse_error("a IN ()");
    assert!(m.contains("expected an expression"), "{m}");
    let m = parse_error("frobnicate(a)");
    assert!(m.contains("known function"), "{m}");
    let m = parse_error("CAST(a AS pancake)");
    assert!(m.contains("type name"), "{m}");
    let m = parse_error("a = 1 b");
    assert!(m.contains("end of expression") && m.contains("'b'"), "{m}");
    let m = parse_error("a # 1");
    assert!(m.contains("unexpected character '#'"), "{m}");
    let m = parse_error("DATE 'not a date' = d");
    assert!(m.contains("valid date"), "{m}");
    let m = parse_error("s LIKE 'x' ESCAPE 'ab'");
    assert!(m.contains("one-character"), "{m}");
    let m = parse_error("12abc > 1");
    assert!(m.contains("invalid number"), "{m}");
    let m = parse_error("and = 1");
    assert!(m.contains("quote column names"), "{m}");
}

fn schema() -> StructType {
    use PrimitiveType as P;
    let f = |name: &str, t: PrimitiveType| StructField::new(name, DataType::Primitive(t), true);
    let nested = StructType::new(vec![f("x", P::Integer), f("label", P::String)]);
    StructType::new(vec![
        f("i", P::Integer),
        f("l", P::Long),
        f("b", P::Byte),
        f("d", P::Double),
        f("f", P::Float),
        f("dec", P::Decimal(5, 2)),
        f("s", P::String),
        f("dt", P::Date),
        f("ts", P::Timestamp),
        f("flag", P::Boolean),
        StructField::new("st", DataType::Struct(Box::new(nested)), true),
    ])
}

fn bound(sql: &str) -> Expr {
    p(sql)
        .bind_predicate(&schema())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expr()
        .clone()
}

fn bind_error(sql: &str) -> String {
    match p(sql).bind_predicate(&schema()) {
        Err(DeltaError::InvalidExpression(m)) => m,
        other => panic!("{sql}: expected a binding error, got {other:?}"),
    }
}

#[test]
fn binding_coerces_literals_to_the_column_type() {
    use PrimitiveType as P;
    assert_eq!(bound("i = 3"), col("i").eq(lit(3i32)));
    assert_eq!(bound("3 < l"), lit(3i64).lt(col("l")));
    assert_eq!(
        bound("dt = '2021-01-01'"),
        col("dt").eq(Expr::Literal(Scalar::Date(18628)))
    );
    assert_eq!(
        bound("ts >= '2021-01-01'"),
        col("ts").gt_eq(Expr::Literal(Scalar::Timestamp(1_609_459_200_000_000)))
    );
    assert_eq!(
        bound("dec > 1"),
        col("dec").gt(Expr::Literal(Scalar::Decimal(100, 5, 2)))
    );
    assert_eq!(bound("d = 1"), col("d").eq(lit(1.0f64)));
    assert_eq!(bound("i = 3.0"), col("i").eq(lit(3i32)));
    assert_eq!(bound("flag"), col("flag"));
    assert_eq!(
        bound("st.X = 1"),
        Expr::Column(vec!["st".into(), "x".into()]).eq(lit(1i32))
    );
    // Not exact in the column's type: the column is cast instead.
    assert_eq!(
        bound("i > 3.5"),
        col("i")
            .cast(P::Decimal(11, 1))
            .gt(Expr::Literal(Scalar::Decimal(35, 11, 1)))
    );
    assert_eq!(bound("b = 1000"), col("b").cast(P::Long).eq(lit(1000i64)));
    assert_eq!(bound("dt < ts"), col("dt").cast(P::Timestamp).lt(col("ts")));
    assert_eq!(
        bound("i IN (1, NULL, 2.0)"),
        col("i").in_list([lit(1i32), Expr::Literal(Scalar::Null(P::Integer)), lit(2i32)])
    );
    assert_eq!(bound("CAST('12' AS INT) = i"), lit(12i32).eq(col("i")));
    assert_eq!(bound("s LIKE 'a!%' ESCAPE '!'"), col("s").like(lit("a\\%")));
    assert_eq!(
        bound("i / 2 > 1"),
        (col("i").cast(P::Double) / lit(2.0f64)).gt(lit(1.0f64))
    );
}

#[test]
fn binding_errors_name_the_problem() {
    let m = bind_error("nope = 1");
    assert!(m.contains("'nope'") && m.contains("available: i, l, b, d"), "{m}");
    let m = bind_error("st.nope = 1");
    assert!(m.contains("struct 'st'") && m.contains("x, label"), "{m}");
    let m = bind_error("i.x = 1");
    assert!(m.contains("not a struct"), "{m}");
    let m = bind_error("s = 1");
    assert!(m.contains("incompatible types string and long"), "{m}");
    let m = bind_error("dt = 'yesterday'");
    assert!(m.contains("'yesterday' is not a valid date"), "{m}");
    let m = bind_error("i + 1");
    assert!(m.contains("expected a boolean"), "{m}");
    let m = bind_error("s + 1 > 0");
    assert!(
        m.contains("incompatible types") || m.contains("expected a number"),
        "{m}"
    );
    let m = bind_error("st = 1");
    assert!(m.contains("struct values cannot be used"), "{m}");
    let m = bind_error("i LIKE 'a'");
    assert!(m.contains("expected a string"), "{m}");
    let m = bind_error("s LIKE s ESCAPE '!'");
    assert!(m.contains("must be a literal"), "{m}");
}

fn batch() -> RecordBatch {
    let nested_fields = Fields::from(vec![Field::new("x", ArrowType::Int32, true)]);
    let nested = StructArray::new(
        nested_fields.clone(),
        vec![Arc::new(Int32Array::from(vec![Some(7), Some(8), Some(9)])) as ArrayRef],
        Some(NullBuffer::from(vec![true, false, true])),
    );
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])),
        Arc::new(StringArray::from(vec![Some("ab"), None, Some("a%c")])),
        Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN), None])),
        Arc::new(nested),
    ];
    let schema = ArrowSchema::new(vec![
        Field::new("i", ArrowType::Int32, true),
        Field::new("s", ArrowType::Utf8, true),
        Field::new("d", ArrowType::Float64, true),
        Field::new("st", ArrowType::Struct(nested_fields), true),
    ]);
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

fn eval(sql: &str) -> ArrayRef {
    p(sql)
        .bind(&schema())
        .and_then(|b| b.evaluate(&batch()))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn truth(sql: &str) -> Vec<Option<bool>> {
    eval(sql).as_boolean().iter().collect()
}

#[test]
fn evaluation_follows_three_valued_logic() {
    let (t, f, n) = (Some(true), Some(false), None);
    assert_eq!(truth("i > 1"), [f, n, t]);
    assert_eq!(truth("i > 1 OR i IS NULL"), [f, t, t]);
    assert_eq!(truth("i > 1 AND i IS NULL"), [f, n, f]);
    assert_eq!(truth("NOT i > 1"), [t, n, f]);
    assert_eq!(truth("i IN (1, NULL)"), [t, n, n]);
    assert_eq!(truth("i NOT IN (1, NULL)"), [f, n, n]);
    assert_eq!(truth("i NOT IN (1, 2)"), [f, n, t]);
    assert_eq!(truth("i <=> NULL"), [f, t, f]);
    assert_eq!(truth("i <=> 3"), [f, f, t]);
    assert_eq!(truth("i = NULL"), [n, n, n]);
    assert_eq!(truth("i BETWEEN 1 AND 2"), [t, n, f]);
    assert_eq!(truth("i NOT BETWEEN 1 AND 2"), [f, n, t]);
    assert_eq!(truth("TRUE OR i = NULL"), [t, t, t]);
    // NaN equals itself and sorts above every number.
    assert_eq!(truth("d > 1e300"), [f, t, n]);
    assert_eq!(truth("d = CAST('NaN' AS DOUBLE)"), [f, t, n]);
    // A field of a null struct is null.
    assert_eq!(truth("st.x > 0"), [t, n, t]);
}

#[test]
fn like_supports_wildcards_and_escapes() {
    let (t, f, n) = (Some(true), Some(false), None);
    assert_eq!(truth("s LIKE 'a%'"), [t, n, t]);
    assert_eq!(truth("s LIKE 'a_'"), [t, n, f]);
    assert_eq!(truth("s LIKE 'a\\%c'"), [f, n, t]);
    assert_eq!(truth("s LIKE 'a!%c' ESCAPE '!'"), [f, n, t]);
    assert_eq!(truth("s NOT LIKE '%c'"), [t, n, f]);
    assert_eq!(truth("s ILIKE 'A%'"), [t, n, t]);
    assert_eq!(truth("s LIKE 'A%'"), [f, n, f]);
}

#[test]
fn arithmetic_is_null_on_division_by_zero_and_fails_on_overflow() {
    let ints =
        |sql: &str| -> Vec<Option<i32>> { eval(sql).as_primitive::<arrow::datatypes::Int32Type>().iter().collect() };
    let doubles = |sql: &str| -> Vec<Option<f64>> {
        eval(sql)
            .as_primitive::<arrow::datatypes::Float64Type>()
            .iter()
            .collect()
    };
    assert_eq!(ints("i + 1"), [Some(2), None, Some(4)]);
    assert_eq!(ints("-i * 2"), [Some(-2), None, Some(-6)]);
    assert_eq!(ints("i % 2"), [Some(1), None, Some(1)]);
    assert_eq!(ints("i % 0"), [None, None, None]);
    assert_eq!(doubles("i / 2"), [Some(0.5), None, Some(1.5)]);
    assert_eq!(doubles("i / 0"), [None, None, None]);
    assert_eq!(doubles("d / 0"), [None, None, None]);
    assert_eq!(ints("coalesce(i, 0)"), [Some(1), Some(0), Some(3)]);
    assert_eq!(ints("CAST(s AS INT)"), [None, None, None]);
    let upper: Vec<Option<String>> = eval("upper(s)")
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect();
    assert_eq!(upper, [Some("AB".to_string()), None, Some("A%C".to_string())]);
    let err = p("i + 2147483647 > 0")
        .bind(&schema())
        .unwrap()
        .evaluate(&batch())
        .unwrap_err();
    assert!(err.to_string().contains("overflow"), "{err}");
    // Constant expressions give one value per row.
    assert_eq!(truth("1 + 1 = 2"), [Some(true); 3]);
}

#[test]
fn filter_keeps_only_true_rows() {
    let predicate = p("i >= 1 AND s LIKE 'a%'").bind_predicate(&schema()).unwrap();
    let out = predicate.filter(&batch()).unwrap();
    assert_eq!(out.num_rows(), 2);
    let out = p("i IS NULL OR i = 3")
        .bind_predicate(&schema())
        .unwrap()
        .filter(&batch())
        .unwrap();
    let kept: Vec<Option<i32>> = out
        .column(0)
        .as_primitive::<arrow::datatypes::Int32Type>()
        .iter()
        .collect();
    assert_eq!(kept, [None, Some(3)]);
}

// --- File skipping -------------------------------------------------------------------------

fn table_schema() -> StructType {
    use PrimitiveType as P;
    let f = |name: &str, t: PrimitiveType| StructField::new(name, DataType::Primitive(t), true);
    StructType::new(vec![
        f("part", P::String),
        f("year", P::Integer),
        f("v", P::Long),
        f("d", P::Double),
        f("s", P::String),
        f("ts", P::Timestamp),
        StructField::new(
            "st",
            DataType::Struct(Box::new(StructType::new(vec![f("x", P::Integer)]))),
            true,
        ),
    ])
}

fn add(partition: Option<&str>, year: &str, stats: Option<&str>) -> Add {
    Add::new_file(
        format!("f{}-{year}.parquet", partition.unwrap_or("null")),
        [
            ("part".to_string(), partition.map(str::to_string)),
            ("year".to_string(), Some(year.to_string())),
        ]
        .into_iter()
        .collect(),
        1,
        0,
        stats.map(str::to_string),
    )
}

/// Which of `files` a predicate keeps.
fn kept(sql: &str, files: &[Add]) -> Vec<bool> {
    let schema = table_schema();
    let predicate = p(sql).bind_predicate(&schema).unwrap();
    let skipping = FileSkipping::new(&predicate, &schema, &["part".to_string(), "year".to_string()]).unwrap();
    let mut builder = AddBatchBuilder::default();
    for f in files {
        builder.append(f).unwrap();
    }
    let mask = skipping.keep_mask(&builder.finish().unwrap()).unwrap();
    assert_eq!(mask.null_count(), 0);
    mask.iter().map(|v| v.unwrap()).collect()
}

const LOW: &str = r#"{"numRecords":10,"minValues":{"v":1,"d":1.0,"s":"apple","ts":"2021-01-01T00:00:00.000Z","st":{"x":1}},"maxValues":{"v":5,"d":5.0,"s":"banana","ts":"2021-01-01T00:00:00.123Z","st":{"x":5}},"nullCount":{"v":0,"d":0,"s":0,"ts":0,"st":{"x":0}}}"#;
const HIGH: &str = r#"{"numRecords":10,"minValues":{"v":10,"d":10.0,"s":"cherry","st":{"x":10}},"maxValues":{"v":20,"d":20.0,"s":"date","st":{"x":20}},"nullCount":{"v":2,"d":0,"s":0,"st":{"x":0}}}"#;
const ALL_NULL: &str = r#"{"numRecords":4,"minValues":{},"maxValues":{},"nullCount":{"v":4,"d":4,"s":4,"st":{"x":4}}}"#;

#[test]
fn skipping_uses_partition_values_exactly() {
    let files = [
        add(Some("a"), "2020", None),
        add(Some("b"), "2021", None),
        add(None, "2021", None),
    ];
    assert_eq!(kept("part = 'a'", &files), [true, false, false]);
    assert_eq!(kept("part IS NULL", &files), [false, false, true]);
    assert_eq!(kept("part != 'a'", &files), [false, true, false]);
    assert_eq!(kept("year > 2020 AND part <=> NULL", &files), [false, false, true]);
    assert_eq!(kept("upper(part) = 'B' OR year = 2020", &files), [true, true, false]);
    assert_eq!(kept("NOT (part = 'a' OR year = 2021)", &files), [false, false, false]);
    // Data columns without statistics keep every file the partition part allows.
    assert_eq!(kept("part = 'a' OR v > 100", &files), [true, true, true]);
    assert_eq!(kept("part = 'a' AND v > 100", &files), [true, false, false]);
}

#[test]
fn skipping_uses_statistics_ranges() {
    let files = [
        add(Some("a"), "2020", Some(LOW)),
        add(Some("a"), "2020", Some(HIGH)),
        add(Some("a"), "2020", Some(ALL_NULL)),
        add(Some("a"), "2020", None),
        add(Some("a"), "2020", Some("{garbage")),
    ];
    assert_eq!(kept("v > 7", &files), [false, true, false, true, true]);
    assert_eq!(kept("v = 3", &files), [true, false, false, true, true]);
    assert_eq!(kept("7 >= v", &files), [true, false, false, true, true]);
    assert_eq!(kept("v BETWEEN 6 AND 9", &files), [false, false, false, true, true]);
    assert_eq!(kept("v NOT BETWEEN 1 AND 5", &files), [false, true, false, true, true]);
    assert_eq!(kept("v IN (2, 15)", &files), [true, true, false, true, true]);
    assert_eq!(kept("NOT v < 10", &files), [false, true, false, true, true]);
    assert_eq!(kept("v IS NULL", &files), [false, true, true, true, true]);
    assert_eq!(kept("v IS NOT NULL", &files), [true, true, false, true, true]);
    assert_eq!(kept("v = NULL", &files), [false, false, false, false, false]);
    assert_eq!(kept("v <=> NULL", &files), [false, true, true, true, true]);
    assert_eq!(kept("st.x >= 10", &files), [false, true, false, true, true]);
    assert_eq!(
        kept("CAST(v AS DOUBLE) > 7.5", &files),
        [false, true, false, true, true]
    );
    assert_eq!(kept("v + 0 > 7", &files), [true, true, true, true, true]);
    assert_eq!(kept("s LIKE 'ch%'", &files), [false, true, false, true, true]);
}

#[test]
fn skipping_is_conservative_about_bounds_that_may_be_loose() {
    let files = [add(Some("a"), "2020", Some(LOW)), add(Some("a"), "2020", Some(HIGH))];
    // Floating point: NaN is above every bound, so upper bounds never exclude a file.
    assert_eq!(kept("d > 100", &files), [true, true]);
    assert_eq!(kept("d < 2", &files), [true, false]);
    assert_eq!(kept("d = CAST('NaN' AS DOUBLE)", &files), [true, true]);
    // A string maximum may be a truncated prefix of the real maximum.
    assert_eq!(kept("s > 'banana'", &files), [true, true]);
    assert_eq!(kept("s > 'bananb'", &files), [false, true]);
    // Timestamps may have been truncated to milliseconds: .123 may stand for .123999.
    assert_eq!(
        kept("ts > TIMESTAMP '2021-01-01 00:00:00.123500'", &files),
        [true, true]
    );
    assert_eq!(kept("ts > TIMESTAMP '2021-01-01 00:00:00.124'", &files), [false, true]);

    // Loose bounds (deletion vectors): ranges still apply, null counts do not.
    let loose = r#"{"numRecords":10,"minValues":{"v":1},"maxValues":{"v":5},"nullCount":{"v":0},"tightBounds":false}"#;
    let with_dv = |stats: &str| {
        let mut a = add(Some("a"), "2020", Some(stats));
        a.deletion_vector = Some(DeletionVectorDescriptor {
            storage_type: "i".into(),
            path_or_inline_dv: "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L".into(),
            offset: None,
            size_in_bytes: 40,
            cardinality: 6,
        });
        a
    };
    let no_flag = r#"{"numRecords":10,"minValues":{"v":1},"maxValues":{"v":5},"nullCount":{"v":0}}"#;
    let files = [
        add(Some("a"), "2020", Some(loose)),
        with_dv(no_flag),
        add(Some("a"), "2020", Some(no_flag)),
    ];
    assert_eq!(kept("v > 7", &files), [false, false, false]);
    assert_eq!(kept("v IS NULL", &files), [true, true, false]);
}

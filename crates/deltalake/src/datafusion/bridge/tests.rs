use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::*;
use arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema, TimeUnit};
use datafusion::arrow::array::AsArray as _;
use futures::TryStreamExt;

use super::*;

/// A batch with a column of every type Delta tables produce, plus the Arrow-only layouts
/// (views, dictionaries, large offsets) DataFusion may hand back; nulls everywhere.
fn every_type() -> RecordBatch {
    let long_text = "a string longer than twelve bytes, stored out of line";
    let struct_fields = [
        Arc::new(Field::new("x", DataType::Int32, true)),
        Arc::new(Field::new("y", DataType::Utf8, true)),
    ];
    let nested = StructArray::from(vec![
        (
            struct_fields[0].clone(),
            Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
        ),
        (
            struct_fields[1].clone(),
            Arc::new(StringArray::from(vec![Some("p"), Some("q"), None])) as ArrayRef,
        ),
    ]);
    let mut map = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    map.keys().append_value("k");
    map.values().append_value(7);
    map.append(true).unwrap();
    map.append(false).unwrap();
    map.keys().append_value("k2");
    map.values().append_null();
    map.append(true).unwrap();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "bool",
            Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
        ),
        ("i8", Arc::new(Int8Array::from(vec![Some(-1), None, Some(i8::MAX)]))),
        ("i16", Arc::new(Int16Array::from(vec![Some(-2), None, Some(i16::MAX)]))),
        ("i32", Arc::new(Int32Array::from(vec![Some(-3), None, Some(i32::MAX)]))),
        ("i64", Arc::new(Int64Array::from(vec![Some(-4), None, Some(i64::MAX)]))),
        (
            "f32",
            Arc::new(Float32Array::from(vec![Some(1.5), None, Some(f32::NAN)])),
        ),
        (
            "f64",
            Arc::new(Float64Array::from(vec![Some(-0.0), None, Some(f64::INFINITY)])),
        ),
        ("utf8", Arc::new(StringArray::from(vec![Some("é"), None, Some("")]))),
        (
            "large_utf8",
            Arc::new(LargeStringArray::from(vec![Some("l"), None, Some(long_text)])),
        ),
        (
            "utf8_view",
            Arc::new(StringViewArray::from(vec![Some("short"), None, Some(long_text)])),
        ),
        (
            "binary",
            Arc::new(BinaryArray::from(vec![Some(&b"\x00\x01"[..]), None, Some(b"")])),
        ),
        (
            "binary_view",
            Arc::new(BinaryViewArray::from(vec![
                Some(&b"v"[..]),
                None,
                Some(long_text.as_bytes()),
            ])),
        ),
        (
            "date",
            Arc::new(Date32Array::from(vec![Some(0), None, Some(2_932_896)])),
        ),
        (
            "ts",
            Arc::new(
                TimestampMicrosecondArray::from(vec![Some(1), None, Some(253_402_300_799_999_999)])
                    .with_timezone("UTC"),
            ),
        ),
        (
            "ts_ntz",
            Arc::new(TimestampMicrosecondArray::from(vec![Some(-1), None, Some(0)])),
        ),
        (
            "decimal",
            Arc::new(
                Decimal128Array::from(vec![
                    Some(12_345),
                    None,
                    Some(-99_999_999_999_999_999_999_999_999_999_999_999_i128),
                ])
                .with_precision_and_scale(38, 2)
                .unwrap(),
            ),
        ),
        (
            "list",
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
                Some(vec![Some(1), None]),
                None,
                Some(vec![]),
            ])),
        ),
        ("struct", Arc::new(nested)),
        ("map", Arc::new(map.finish())),
        (
            "dictionary",
            Arc::new(
                vec![Some("a"), None, Some("a")]
                    .into_iter()
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
        ),
    ];
    let mut fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    fields[3] = fields[3]
        .clone()
        .with_metadata(HashMap::from([("delta.columnMapping.id".to_string(), "4".to_string())]));
    let schema = Schema::new(fields).with_metadata(HashMap::from([("origin".to_string(), "test".to_string())]));
    RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, a)| a).collect()).unwrap()
}

#[test]
fn every_type_round_trips_with_metadata() {
    let batch = every_type();
    let df_schema = schema_to_datafusion(&batch.schema()).unwrap();
    assert_eq!(df_schema.metadata()["origin"], "test");
    assert_eq!(df_schema.field(3).metadata()["delta.columnMapping.id"], "4");
    assert_eq!(df_schema.fields().len(), batch.num_columns());
    let df_batch = batch_to_datafusion(&batch, &df_schema).unwrap();
    assert_eq!(df_batch.num_rows(), 3);
    // DataFusion's Arrow sees the values.
    let ts = df_batch
        .column_by_name("ts")
        .unwrap()
        .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
    assert_eq!(ts.value(2), 253_402_300_799_999_999);
    assert_eq!(ts.timezone(), Some("UTC"));
    assert_eq!(
        df_batch.column_by_name("utf8_view").unwrap().as_string_view().value(2),
        "a string longer than twelve bytes, stored out of line"
    );

    let back_schema = schema_from_datafusion(&df_schema).unwrap();
    assert_eq!(back_schema, batch.schema());
    let back = batch_from_datafusion(&df_batch, &back_schema).unwrap();
    assert_eq!(back, batch);
}

#[test]
fn buffers_are_shared_not_copied() {
    let values = Int64Array::from(vec![1, 2, 3, 4]);
    let pointer = values.values().inner().as_ptr();
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).unwrap();
    let df_schema = schema_to_datafusion(&schema).unwrap();
    let df_batch = batch_to_datafusion(&batch, &df_schema).unwrap();
    let df_values = df_batch
        .column(0)
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    assert_eq!(df_values.values().inner().as_ptr(), pointer);
    let back = batch_from_datafusion(&df_batch, &schema).unwrap();
    assert_eq!(
        back.column(0).as_primitive::<Int64Type>().values().inner().as_ptr(),
        pointer
    );
}

#[test]
fn sliced_and_zero_column_batches_keep_their_rows() {
    let batch = every_type().slice(1, 2);
    let df_schema = schema_to_datafusion(&batch.schema()).unwrap();
    let back = batch_from_datafusion(&batch_to_datafusion(&batch, &df_schema).unwrap(), &batch.schema()).unwrap();
    assert_eq!(back, batch);

    // `SELECT count(*)` scans no column: only the row count crosses.
    let empty = Arc::new(Schema::empty());
    let rows = RecordBatch::try_new_with_options(
        empty.clone(),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(5)),
    )
    .unwrap();
    let df_rows = batch_to_datafusion(&rows, &schema_to_datafusion(&empty).unwrap()).unwrap();
    assert_eq!(df_rows.num_rows(), 5);
    assert_eq!(batch_from_datafusion(&df_rows, &empty).unwrap().num_rows(), 5);
}

#[test]
fn a_batch_that_does_not_fit_the_schema_is_an_error() {
    let batch = every_type();
    let other = schema_to_datafusion(&Schema::new(vec![Field::new("x", DataType::Int32, true)])).unwrap();
    assert!(matches!(
        batch_to_datafusion(&batch, &other),
        Err(DeltaError::DataFusion(_))
    ));
}

#[test]
fn timestamps_with_other_units_and_zones_round_trip() {
    let array = TimestampNanosecondArray::from(vec![Some(1), None]).with_timezone("+05:30");
    let schema = Arc::new(Schema::new(vec![Field::new(
        "t",
        DataType::Timestamp(TimeUnit::Nanosecond, Some("+05:30".into())),
        true,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(array)]).unwrap();
    let df_schema = schema_to_datafusion(&schema).unwrap();
    let back = batch_from_datafusion(&batch_to_datafusion(&batch, &df_schema).unwrap(), &schema).unwrap();
    assert_eq!(back, batch);
}

#[tokio::test]
async fn streams_cross_both_ways() {
    let batch = every_type();
    let schema = batch.schema();
    let ours: RecordBatchStream = futures::stream::iter(vec![Ok(batch.clone()), Ok(batch.slice(0, 1))]).boxed();
    let df_stream = stream_to_datafusion(&schema, ours).unwrap();
    assert_eq!(df_stream.schema().fields().len(), schema.fields().len());
    let (back_schema, back) = stream_from_datafusion(df_stream).unwrap();
    assert_eq!(back_schema, schema);
    let batches: Vec<RecordBatch> = back.try_collect().await.unwrap();
    assert_eq!(batches, vec![batch.clone(), batch.slice(0, 1)]);

    // An error of the stream comes back as itself.
    let failing: RecordBatchStream =
        futures::stream::iter(vec![Err(DeltaError::InvalidArgument("boom".into()))]).boxed();
    let (_, back) = stream_from_datafusion(stream_to_datafusion(&schema, failing).unwrap()).unwrap();
    let err = back.try_collect::<Vec<_>>().await.unwrap_err();
    assert!(
        matches!(err, DeltaError::InvalidArgument(ref m) if m == "boom"),
        "{err}"
    );
}

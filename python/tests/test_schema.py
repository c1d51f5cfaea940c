"""The schema classes: Delta JSON and Arrow forms, the reference package's names and errors."""

import json

import pyarrow as pa
import pytest

import deltalake
from deltalake import _internal
from deltalake.schema import (
    ArrayType,
    Field,
    MapType,
    PrimitiveType,
    Schema,
    StructType,
    VariantType,
)


def test_classes_are_those_of_the_extension_module() -> None:
    for name in ["ArrayType", "Field", "MapType", "PrimitiveType", "Schema", "StructType", "VariantType"]:
        assert getattr(deltalake.schema, name) is getattr(_internal, name)
    assert deltalake.VariantType is VariantType
    assert issubclass(Schema, StructType)


def test_types_round_trip_through_json() -> None:
    cases = [
        PrimitiveType("decimal(10,2)"),
        ArrayType(PrimitiveType("long"), contains_null=False),
        MapType("string", ArrayType("integer"), value_contains_null=False),
        StructType([Field("a", "long"), Field("v", VariantType())]),
    ]
    for data_type in cases:
        assert type(data_type).from_json(data_type.to_json()) == data_type
    assert PrimitiveType("long").to_json() == '"long"'
    assert json.loads(ArrayType("long").to_json()) == {
        "type": "array",
        "elementType": "long",
        "containsNull": True,
    }
    assert VariantType().to_json() == '"variant"'
    assert Field("v", VariantType()).type == VariantType()


def test_types_convert_to_and_from_arrow() -> None:
    assert PrimitiveType("long").to_arrow() == pa.int64()
    assert PrimitiveType.from_arrow(pa.int32()) == PrimitiveType("integer")
    assert ArrayType.from_arrow(pa.list_(pa.string())) == ArrayType("string")
    assert MapType("string", "long").to_arrow() == pa.map_(pa.string(), pa.int64())
    assert Field("a", "long", nullable=False).to_arrow() == pa.field("a", pa.int64(), nullable=False)
    assert Field.from_arrow(pa.field("x", pa.string())) == Field("x", "string")
    assert pa.field(PrimitiveType("date")).type == pa.date32()
    schema = Schema([Field("a", "long"), Field("b", ArrayType("string"))])
    assert pa.schema(schema.to_arrow()) == pa.schema([("a", pa.int64()), ("b", pa.list_(pa.string()))])
    assert pa.schema(schema.to_arrow(as_large_types=True)) == pa.schema(
        [("a", pa.int64()), ("b", pa.large_list(pa.large_string()))]
    )
    assert pa.schema(schema) == pa.schema(schema.to_arrow())
    assert Schema.from_arrow(schema.to_arrow()) == schema


def test_reprs_and_attributes_match_the_reference() -> None:
    schema = Schema([Field("a", "long", metadata={"x": 1}), Field("s", StructType([Field("y", "date")]))])
    assert repr(schema) == (
        "Schema([Field(a, PrimitiveType(\"long\"), nullable=True, metadata={'x': 1}), "
        "Field(s, StructType([Field(y, PrimitiveType(\"date\"), nullable=True)]), nullable=True)])"
    )
    assert [f.name for f in schema.fields] == ["a", "s"]
    assert schema.fields[0].metadata == {"x": 1}
    assert (schema.type, ArrayType("long").type, MapType("long", "long").type) == ("struct", "array", "map")
    assert StructType([Field("a", "long")]) == Schema([Field("a", "long")])
    with pytest.raises(AttributeError):
        schema.fields[0].name = "b"  # type: ignore[misc]


def test_invariants_are_listed() -> None:
    invariant = json.dumps({"expression": {"expression": "a > 1"}})
    schema = Schema([Field("a", "long", metadata={"delta.invariants": invariant})])
    assert schema.invariants == [("a", "a > 1")]


def test_invalid_types_are_value_errors() -> None:
    with pytest.raises(ValueError, match="invalid type string: foo"):
        PrimitiveType("foo")
    with pytest.raises(ValueError, match="invalid type string"):
        PrimitiveType("decimal(40,2)")
    with pytest.raises(ValueError, match="invalid type string"):
        PrimitiveType("variant")
    with pytest.raises(ValueError, match="Invalid data type"):
        Field("a", 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Field("a", "long", metadata={"x": object()})
    with pytest.raises(TypeError, match="not primitive"):
        PrimitiveType.from_json(ArrayType("long").to_json())
    with pytest.raises(ValueError):
        Schema.from_json('{"type": "struct"}')
    with pytest.raises(deltalake.exceptions.DeltaError):
        Schema.from_arrow(pa.schema([("d", pa.duration("s"))]))


def test_json_is_deprecated_and_gives_a_dict() -> None:
    schema = Schema([Field("a", "long")])
    with pytest.warns(DeprecationWarning, match=r"Schema.json\(\) is deprecated"):
        assert schema.json() == json.loads(schema.to_json())

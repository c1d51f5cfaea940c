"""Delta table schemas: :class:`Schema` made of :class:`Field` objects with Delta data types.

Schemas convert to and from Delta's JSON form and to and from Arrow schemas (any object with
``__arrow_c_schema__``, such as ``pyarrow.Schema``).
"""

from __future__ import annotations

import json
from typing import Any, Union

from deltalake import _internal
from deltalake._arrow import arrow_schema

PRIMITIVE_TYPES = frozenset(
    [
        "string",
        "long",
        "integer",
        "short",
        "byte",
        "float",
        "double",
        "boolean",
        "binary",
        "date",
        "timestamp",
        "timestamp_ntz",
        "variant",
    ]
)


class PrimitiveType:
    """A primitive type: ``long``, ``string``, ``decimal(10,2)``, ``timestamp``, ..."""

    def __init__(self, data_type: str) -> None:
        if not isinstance(data_type, str):
            raise TypeError("a primitive type is named by a string")
        if data_type not in PRIMITIVE_TYPES and not data_type.startswith("decimal("):
            raise ValueError(f"unknown primitive type {data_type!r}")
        self.type = data_type

    def to_json(self) -> Any:
        """The type in Delta's JSON schema form."""
        return self.type

    def __repr__(self) -> str:
        return f'PrimitiveType("{self.type}")'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrimitiveType) and other.type == self.type


class ArrayType:
    """A list of elements of one type."""

    def __init__(self, element_type: DataType, contains_null: bool = True) -> None:
        self.type = "array"
        self.element_type = element_type
        self.contains_null = contains_null

    def to_json(self) -> Any:
        """The type in Delta's JSON schema form."""
        return {
            "type": "array",
            "elementType": self.element_type.to_json(),
            "containsNull": self.contains_null,
        }

    def __repr__(self) -> str:
        return f"ArrayType({self.element_type!r}, contains_null={self.contains_null})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArrayType) and other.to_json() == self.to_json()


class MapType:
    """A map from keys of one type to values of another."""

    def __init__(
        self, key_type: DataType, value_type: DataType, value_contains_null: bool = True
    ) -> None:
        self.type = "map"
        self.key_type = key_type
        self.value_type = value_type
        self.value_contains_null = value_contains_null

    def to_json(self) -> Any:
        """The type in Delta's JSON schema form."""
        return {
            "type": "map",
            "keyType": self.key_type.to_json(),
            "valueType": self.value_type.to_json(),
            "valueContainsNull": self.value_contains_null,
        }

    def __repr__(self) -> str:
        return (
            f"MapType({self.key_type!r}, {self.value_type!r}, "
            f"value_contains_null={self.value_contains_null})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MapType) and other.to_json() == self.to_json()


class StructType:
    """A struct of named fields."""

    def __init__(self, fields: list[Field]) -> None:
        self.type = "struct"
        self.fields = list(fields)

    def to_json(self) -> Any:
        """The type in Delta's JSON schema form."""
        return {"type": "struct", "fields": [f.to_json() for f in self.fields]}

    def __repr__(self) -> str:
        return f"StructType([{', '.join(repr(f) for f in self.fields)}])"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StructType) and other.to_json() == self.to_json()


DataType = Union[PrimitiveType, ArrayType, MapType, StructType]


def _type_from_json(value: Any) -> DataType:
    if isinstance(value, str):
        return PrimitiveType(value)
    kind = value.get("type")
    if kind == "array":
        return ArrayType(_type_from_json(value["elementType"]), value.get("containsNull", True))
    if kind == "map":
        return MapType(
            _type_from_json(value["keyType"]),
            _type_from_json(value["valueType"]),
            value.get("valueContainsNull", True),
        )
    if kind == "struct":
        return StructType([Field._from_json(f) for f in value.get("fields", [])])
    raise ValueError(f"unknown data type {value!r}")


class Field:
    """A named column or struct member."""

    def __init__(
        self,
        name: str,
        type: DataType,
        nullable: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError("a field name must be a string")
        self.name = name
        self.type = type
        self.nullable = nullable
        self.metadata = dict(metadata or {})

    def to_json(self) -> Any:
        """The field in Delta's JSON schema form."""
        return {
            "name": self.name,
            "type": self.type.to_json(),
            "nullable": self.nullable,
            "metadata": self.metadata,
        }

    @staticmethod
    def _from_json(value: dict[str, Any]) -> Field:
        return Field(
            value["name"],
            _type_from_json(value["type"]),
            value.get("nullable", True),
            value.get("metadata"),
        )

    def __repr__(self) -> str:
        return f"Field({self.name}, {self.type!r}, nullable={self.nullable})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Field) and other.to_json() == self.to_json()


class Schema(StructType):
    """The schema of a table: its top-level fields."""

    @staticmethod
    def from_json(schema_json: str) -> Schema:
        """A schema from Delta's JSON form (validated by the core)."""
        _internal.schema_to_arrow(schema_json)
        parsed = json.loads(schema_json)
        return Schema([Field._from_json(f) for f in parsed.get("fields", [])])

    def to_json(self) -> str:  # type: ignore[override]
        """The schema in Delta's JSON form."""
        return json.dumps(
            {"type": "struct", "fields": [f.to_json() for f in self.fields]},
            separators=(",", ":"),
        )

    @staticmethod
    def from_arrow(schema: Any) -> Schema:
        """A schema from an Arrow schema (any object with ``__arrow_c_schema__``)."""
        return Schema.from_json(_internal.schema_from_arrow(schema))

    def to_arrow(self, as_large_types: bool = False) -> Any:
        """The Arrow schema: a ``pyarrow.Schema`` when pyarrow is installed, else an object with
        ``__arrow_c_schema__``. ``as_large_types`` is accepted for compatibility and ignored."""
        del as_large_types
        return arrow_schema(_internal.schema_to_arrow(self.to_json()))

    def __arrow_c_schema__(self) -> Any:
        """The Arrow C schema capsule of :meth:`to_arrow` (the Arrow PyCapsule interface), so
        Arrow libraries (polars' ``pl.Schema(...)``, ``pyarrow.schema(...)``) take the schema as it is."""
        return _internal.schema_to_arrow(self.to_json()).__arrow_c_schema__()

    def __repr__(self) -> str:
        return f"Schema([{', '.join(repr(f) for f in self.fields)}])"

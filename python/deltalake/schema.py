"""Delta table schemas: :class:`Schema` made of :class:`Field` objects with Delta data types.

The classes live in the extension module (``deltalake._internal``); every one converts to and
from Delta's JSON form (``to_json``/``from_json``) and Arrow (``to_arrow``/``from_arrow``, and
``__arrow_c_schema__`` for any Arrow library).
"""

from typing import Union

from deltalake._internal import (
    ArrayType,
    Field,
    MapType,
    PrimitiveType,
    Schema,
    StructType,
    VariantType,
)

__all__ = [
    "ArrayType",
    "DataType",
    "Field",
    "MapType",
    "PrimitiveType",
    "Schema",
    "StructType",
    "VariantType",
]

DataType = Union["PrimitiveType", "MapType", "StructType", "ArrayType", "VariantType"]
"""Any Delta data type."""

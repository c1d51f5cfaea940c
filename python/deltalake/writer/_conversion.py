"""Arrow schemas made fit for Delta (for libraries that prepare data with arro3 before writing).

Needs ``arro3-core``, imported when called.
"""

from __future__ import annotations

from typing import Any


def _convert_arro3_schema_to_delta(schema: Any, existing_schema: Any = None) -> Any:
    """``schema`` (an arro3 ``Schema``) with the types Delta has no equivalent of replaced:
    unsigned integers by the signed ones of the same width, timestamps of any unit by
    microsecond timestamps (UTC when they had a time zone), fixed-size binary by binary; nested
    types are converted inside. A top-level null-typed field takes the type of the field of
    that name in ``existing_schema`` when there is one.
    """
    from arro3.core import DataType
    from arro3.core import Schema as Arro3Schema

    signed = {
        "is_uint8": DataType.int8,
        "is_uint16": DataType.int16,
        "is_uint32": DataType.int32,
        "is_uint64": DataType.int64,
    }

    def convert(dtype: Any, name: str | None) -> Any:
        if DataType.is_null(dtype) and existing_schema is not None and name is not None:
            try:
                existing = existing_schema.field(name).type
            except (KeyError, IndexError):
                return dtype
            return dtype if DataType.is_null(existing) else convert(existing, None)
        if DataType.is_struct(dtype):
            return DataType.struct(
                [f.with_type(convert(f.type, f.name)) for f in dtype.fields]
            )
        if DataType.is_fixed_size_list(dtype):
            element = dtype.value_field
            element = element.with_type(convert(element.type, None))
            if element.name == "item":
                element = element.with_name("element")
            return DataType.list(element, dtype.list_size)
        for test, build in (
            (DataType.is_large_list, DataType.large_list),
            (DataType.is_large_list_view, DataType.large_list_view),
            (DataType.is_list_view, DataType.list_view),
            (DataType.is_list, DataType.list),
        ):
            if test(dtype):
                element = dtype.value_field
                return build(element.with_type(convert(element.type, None)))
        if DataType.is_timestamp(dtype):
            return DataType.timestamp("us", tz=None if dtype.tz is None else "UTC")
        if DataType.is_fixed_size_binary(dtype):
            return DataType.binary()
        for test_name, build in signed.items():
            if getattr(DataType, test_name)(dtype):
                return build()
        return dtype

    return Arro3Schema([f.with_type(convert(f.type, f.name)) for f in schema])

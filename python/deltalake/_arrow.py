"""Moving Arrow data between Python libraries and the extension module.

Data goes in and out through the Arrow PyCapsule interface. What the reference package returns as
arro3-core objects (query results, the change data feed, add actions, Arrow schemas and types) is
returned as arro3-core objects here too; pyarrow, pandas and polars are used when installed but
never required.
"""

from __future__ import annotations

from typing import Any


def pyarrow_or_none() -> Any:
    """The pyarrow module, or ``None`` when it is not installed."""
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow


def require_pyarrow(what: str) -> Any:
    """The pyarrow module, or an ImportError that says what needs it."""
    pa = pyarrow_or_none()
    if pa is None:
        raise ImportError(f"{what} needs pyarrow: pip install pyarrow")
    return pa


def arrow_schema(schema: Any) -> Any:
    """An ``arro3.core.Schema`` for an ``__arrow_c_schema__`` object, as the reference returns."""
    from arro3.core import Schema

    return Schema.from_arrow(schema)


def arrow_type(obj: Any) -> Any:
    """An ``arro3.core.DataType`` for an ``__arrow_c_schema__`` object describing a type."""
    from arro3.core import DataType

    return DataType.from_arrow(obj)


def arrow_field(obj: Any) -> Any:
    """An ``arro3.core.Field`` for an ``__arrow_c_schema__`` object."""
    from arro3.core import Field

    return Field.from_arrow(obj)


def arrow_table(stream: Any) -> Any:
    """An ``arro3.core.Table`` holding an ``__arrow_c_stream__`` object's batches."""
    from arro3.core import Table

    return Table.from_arrow(stream)


def arrow_reader(stream: Any) -> Any:
    """An ``arro3.core.RecordBatchReader`` over an ``__arrow_c_stream__`` object (no copy)."""
    from arro3.core import RecordBatchReader

    return RecordBatchReader.from_arrow(stream)


def _is_pandas(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "columns")


def to_arrow_stream(data: Any) -> Any:
    """An object with ``__arrow_c_stream__`` holding ``data``.

    Accepts pyarrow tables, record batches and readers, pandas and polars data frames, anything
    with ``__arrow_c_stream__`` or ``__arrow_c_array__``, and sequences of record batches.
    """
    if _is_pandas(data):
        pa = require_pyarrow("writing a pandas DataFrame")
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if hasattr(data, "__arrow_c_array__"):
        pa = require_pyarrow("writing an object with only __arrow_c_array__")
        return pa.table(pa.record_batch(data))
    if type(data).__module__.split(".")[0] == "polars" and hasattr(data, "to_arrow"):
        return data.to_arrow()
    if isinstance(data, (list, tuple)) and data and all(
        hasattr(b, "__arrow_c_array__") for b in data
    ):
        pa = require_pyarrow("writing a sequence of record batches")
        return pa.Table.from_batches([pa.record_batch(b) for b in data])
    raise TypeError(
        "expected Arrow data: an object with __arrow_c_stream__ or __arrow_c_array__ "
        f"(pyarrow, polars), a pandas DataFrame or a list of record batches, not {type(data).__name__}"
    )

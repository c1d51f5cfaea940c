"""Moving Arrow data between Python libraries and the extension module.

Data goes in and out through the Arrow PyCapsule interface; pyarrow, pandas and polars are used
when installed but never required.
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
    """A ``pyarrow.Schema`` for an ``__arrow_c_schema__`` object when pyarrow is installed."""
    pa = pyarrow_or_none()
    return pa.schema(schema) if pa is not None else schema


def arrow_type(obj: Any) -> Any:
    """A ``pyarrow.DataType`` for an ``__arrow_c_schema__`` object describing a type, when
    pyarrow is installed."""
    pa = pyarrow_or_none()
    return pa.field(obj).type if pa is not None else obj


def arrow_field(obj: Any) -> Any:
    """A ``pyarrow.Field`` for an ``__arrow_c_schema__`` object when pyarrow is installed."""
    pa = pyarrow_or_none()
    return pa.field(obj) if pa is not None else obj


def arrow_table(stream: Any) -> Any:
    """A ``pyarrow.Table`` for an ``__arrow_c_stream__`` object when pyarrow is installed."""
    pa = pyarrow_or_none()
    return pa.table(stream) if pa is not None else stream


def arrow_reader(stream: Any) -> Any:
    """A ``pyarrow.RecordBatchReader`` for an ``__arrow_c_stream__`` object when pyarrow is
    installed."""
    pa = pyarrow_or_none()
    return pa.RecordBatchReader.from_stream(stream) if pa is not None else stream


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

"""Helpers other libraries import from the reference package."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def encode_partition_value(val: Any) -> str:
    """A partition value in the Delta protocol's string form (booleans lower case, datetimes
    with a space before the time, bytes unescaped).

    Raises:
        ValueError: the value has no partition form.
    """
    if isinstance(val, bool):
        return "true" if val else "false"
    if isinstance(val, str):
        return val
    if isinstance(val, (int, float)):
        return str(val)
    if isinstance(val, datetime):
        return val.isoformat(sep=" ")
    if isinstance(val, date):
        return val.isoformat()
    if isinstance(val, bytes):
        return val.decode("unicode_escape", "backslashreplace")
    raise ValueError(f"Could not encode partition value for type: {val}")

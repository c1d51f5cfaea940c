"""Helpers other libraries import from the reference package."""

from __future__ import annotations

import warnings
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


def positional_args(
    method_name: str,
    args: tuple[Any, ...],
    names: tuple[str, ...],
    given: dict[str, Any],
    stacklevel: int = 3,
) -> dict[str, Any]:
    """``given`` (keyword values, ``None`` when not passed) with the deprecated positional
    ``args`` taken in the order of ``names``, warning that passing them so is deprecated (the
    warning names the line ``stacklevel`` frames up: the caller of the method by default).

    Raises:
        TypeError: more positional values than ``names``, or a value given both ways.
    """
    if not args:
        return given
    if len(args) > len(names):
        raise TypeError(
            f"{method_name}() takes at most {len(names)} positional commit argument(s), "
            f"got {len(args)}"
        )
    warnings.warn(
        f"Passing commit arguments positionally to {method_name}() is deprecated "
        "and will be removed in a future release. Use keyword arguments instead.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    values = dict(given)
    for name, value in zip(names, args):
        if values.get(name) is not None:
            raise TypeError(f"{method_name}() got multiple values for '{name}'")
        values[name] = value
    return values


def deprecate_positional_commit_args(
    method_name: str,
    args: tuple[Any, ...],
    commit_properties: Any = None,
    post_commithook_properties: Any = None,
    legacy_order: tuple[str, ...] = ("commit_properties", "post_commithook_properties"),
    stacklevel: int = 4,
) -> tuple[Any, Any]:
    """``(commit_properties, post_commithook_properties)`` with the deprecated positional
    ``args`` taken in ``legacy_order`` (a :class:`DeprecationWarning` when there are any, naming
    the line ``stacklevel`` frames up: the public method's caller by default).

    Raises:
        TypeError: too many positional values, or a value given both ways.
    """
    values = positional_args(
        method_name,
        args,
        legacy_order,
        {
            "commit_properties": commit_properties,
            "post_commithook_properties": post_commithook_properties,
        },
        stacklevel=stacklevel,
    )
    return values["commit_properties"], values["post_commithook_properties"]

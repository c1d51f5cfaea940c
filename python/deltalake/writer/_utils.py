"""Finding the table a write goes to."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from deltalake.exceptions import TableNotFoundError

if TYPE_CHECKING:
    from deltalake.table import DeltaTable


def try_get_table_and_table_uri(
    table_or_uri: str | Path | DeltaTable,
    storage_options: dict[str, str] | None = None,
) -> tuple[DeltaTable | None, str]:
    """The table (``None`` when there is none yet) and its location, of a location or a table.

    Raises:
        ValueError: ``table_or_uri`` is neither a string, a path nor a :class:`DeltaTable`.
    """
    from deltalake.table import DeltaTable

    if isinstance(table_or_uri, DeltaTable):
        return table_or_uri, table_or_uri.table_uri
    if not isinstance(table_or_uri, (str, Path)):
        raise ValueError("table_or_uri must be a str, Path or DeltaTable")
    return try_get_deltatable(table_or_uri, storage_options), str(table_or_uri)


def try_get_deltatable(
    table_uri: str | Path, storage_options: dict[str, str] | None
) -> DeltaTable | None:
    """The table at ``table_uri``, or ``None`` when there is no table there."""
    from deltalake.table import DeltaTable

    try:
        return DeltaTable(table_uri, storage_options=storage_options)
    except TableNotFoundError:
        return None

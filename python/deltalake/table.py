"""The :class:`DeltaTable` class: open a table, look at its state and history, read it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

from deltalake import _internal
from deltalake._arrow import arrow_reader, arrow_table, require_pyarrow
from deltalake.exceptions import NotSupportedError
from deltalake.schema import Schema

if TYPE_CHECKING:
    import pandas
    import pyarrow
    import pyarrow.dataset

    from deltalake.transaction import CommitProperties, PostCommitHookProperties

FilterType = Any
"""DNF filters (``[("col", "=", 1)]`` or a list of such lists) or a SQL predicate string."""


def _table_uri(table_uri: Any) -> str:
    if isinstance(table_uri, (str, os.PathLike)):
        return os.fspath(table_uri)
    raise TypeError(f"table_uri must be a str or a path, not {type(table_uri).__name__}")


def _reject_filters(**filters: Any) -> None:
    for name, value in filters.items():
        if value:
            raise NotSupportedError(
                f"{name}= is not supported yet (predicates are not implemented in this version "
                "of deltalake); filter the result instead"
            )


def _timestamp_ms(value: str | datetime) -> int:
    """Milliseconds since the epoch of an ISO 8601 string or a datetime (naive means UTC)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError as e:
            raise ValueError(f"invalid timestamp {value!r}: use ISO 8601 (RFC 3339)") from e
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime or an ISO 8601 string, not {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


@dataclass
class Metadata:
    """The table's metadata action."""

    id: str
    name: str | None
    description: str | None
    partition_columns: list[str]
    created_time: int | None
    configuration: dict[str, str]


@dataclass
class ProtocolVersions:
    """The reader and writer versions and features a client needs."""

    min_reader_version: int
    min_writer_version: int
    writer_features: list[str] | None
    reader_features: list[str] | None


class DeltaTable:
    """A Delta table loaded at one version.

    Args:
        table_uri: the table's location: a local path or a URI.
        version: the version to load (the latest when ``None``).
        storage_options: options of the storage backend.
        without_files: accepted for compatibility; the file list is always loaded.
        log_buffer_size: accepted for compatibility (log files are read concurrently anyway).
        skip_stats: accepted for compatibility.

    Raises:
        TableNotFoundError: no Delta table is at ``table_uri``.
    """

    def __init__(
        self,
        table_uri: str | os.PathLike[str],
        version: int | None = None,
        storage_options: dict[str, str] | None = None,
        without_files: bool = False,
        log_buffer_size: int | None = None,
        skip_stats: bool = False,
    ) -> None:
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise TypeError(f"version must be an int, not {type(version).__name__}")
        if log_buffer_size is not None and (
            not isinstance(log_buffer_size, int) or log_buffer_size <= 0
        ):
            raise ValueError("log_buffer_size must be a positive int")
        del without_files, skip_stats
        self._storage_options = storage_options
        self._table = _internal.RawDeltaTable(_table_uri(table_uri), version, storage_options)

    @staticmethod
    def is_deltatable(
        table_uri: str | os.PathLike[str], storage_options: dict[str, str] | None = None
    ) -> bool:
        """Whether a Delta table exists at ``table_uri``."""
        return _internal.RawDeltaTable.is_deltatable(_table_uri(table_uri), storage_options)

    @classmethod
    def create(
        cls,
        table_uri: str | os.PathLike[str],
        schema: Schema | Any,
        mode: Literal["error", "append", "overwrite", "ignore"] = "error",
        partition_by: list[str] | str | None = None,
        name: str | None = None,
        description: str | None = None,
        configuration: Mapping[str, str | None] | None = None,
        storage_options: dict[str, str] | None = None,
        *,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
        raise_if_key_not_exists: bool = True,
    ) -> DeltaTable:
        """Create an empty table with ``schema`` (a :class:`Schema` or an Arrow schema).

        ``mode='error'`` fails if a table exists; ``'ignore'`` and ``'append'`` leave an existing
        table as it is. ``'overwrite'`` is not supported yet.
        """
        del post_commithook_properties, raise_if_key_not_exists
        uri = _table_uri(table_uri)
        if isinstance(schema, Schema):
            schema = _internal.schema_to_arrow(schema.to_json())
        _internal.create_deltalake(
            uri,
            schema,
            mode,
            [partition_by] if isinstance(partition_by, str) else partition_by,
            name,
            description,
            _configuration(configuration),
            storage_options,
            commit_properties,
        )
        return cls(uri, storage_options=storage_options)

    @property
    def table_uri(self) -> str:
        """The table's location as a URL."""
        return self._table.table_uri()

    def version(self) -> int:
        """The loaded version."""
        return self._table.version()

    def files(self, partition_filters: FilterType | None = None) -> list[str]:
        """The paths of the active data files, relative to the table root."""
        _reject_filters(partition_filters=partition_filters)
        return self._table.files()

    def file_uris(self, partition_filters: FilterType | None = None) -> list[str]:
        """The absolute locations of the active data files (local paths for local tables)."""
        _reject_filters(partition_filters=partition_filters)
        return self._table.file_uris()

    def schema(self) -> Schema:
        """The table's schema."""
        return Schema.from_json(self._table.schema_json())

    def metadata(self) -> Metadata:
        """The table's metadata: id, name, description, partition columns, properties."""
        return Metadata(*self._table.metadata())

    def protocol(self) -> ProtocolVersions:
        """The reader and writer versions and features the table needs."""
        reader, writer, reader_features, writer_features = self._table.protocol()
        return ProtocolVersions(reader, writer, writer_features, reader_features)

    def history(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The commit information of the newest ``limit`` versions (all when ``None``), newest
        first, each with its ``version``."""
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError("limit must be a non-negative int")
        return [json.loads(entry) for entry in self._table.history(limit)]

    def load_as_version(self, version: int | str | datetime) -> None:
        """Load a version given by number, or the latest one committed at or before a time
        (a datetime or an ISO 8601 string; naive times are UTC)."""
        if isinstance(version, int) and not isinstance(version, bool):
            self._table.load_version(version)
        elif isinstance(version, (str, datetime)):
            self._table.load_timestamp(_timestamp_ms(version))
        else:
            raise TypeError(
                f"version must be an int, a datetime or a string, not {type(version).__name__}"
            )

    def update_incremental(self) -> None:
        """Move to the latest version, replaying only the commits since the loaded one."""
        self._table.update_incremental()

    def partitions(self, partition_filters: FilterType | None = None) -> list[dict[str, str]]:
        """The distinct partition values of the active files, one dict per partition."""
        _reject_filters(partition_filters=partition_filters)
        seen: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
        for values in self._table.partitions():
            seen.setdefault(tuple(sorted(values.items())), values)
        return list(seen.values())

    def transaction_version(self, app_id: str) -> int | None:
        """The latest transaction version recorded for application ``app_id``."""
        return self._table.transaction_version(app_id)

    def get_add_actions(self, flatten: bool = False) -> Any:
        """The active files with their size, modification time, record count, column statistics
        and partition values: a ``pyarrow.Table`` when pyarrow is installed, else an object with
        ``__arrow_c_stream__``."""
        return arrow_table(self._table.add_actions(flatten))

    def to_pyarrow_table(
        self,
        partitions: FilterType | None = None,
        columns: list[str] | None = None,
        filesystem: Any = None,
        filters: FilterType | None = None,
    ) -> pyarrow.Table:
        """Read the table (or ``columns`` of it) into a ``pyarrow.Table``.

        ``partitions`` and ``filters`` are not supported yet.
        """
        del filesystem
        _reject_filters(partitions=partitions, filters=filters)
        pa = require_pyarrow("to_pyarrow_table()")
        return pa.table(self._table.read_all(_columns(columns)))

    def to_pyarrow_dataset(
        self,
        partitions: FilterType | None = None,
        filesystem: Any = None,
        parquet_read_options: Any = None,
        schema: Any = None,
        as_large_types: bool = False,
    ) -> pyarrow.dataset.Dataset:
        """The table as an in-memory ``pyarrow.dataset.Dataset`` (deletion vectors and column
        mapping applied)."""
        del filesystem, parquet_read_options, as_large_types
        _reject_filters(partitions=partitions)
        require_pyarrow("to_pyarrow_dataset()")
        import pyarrow.dataset as ds

        table = self.to_pyarrow_table()
        if schema is not None:
            table = table.cast(schema)
        return ds.dataset(table)

    def to_pandas(
        self,
        partitions: FilterType | None = None,
        columns: list[str] | None = None,
        filesystem: Any = None,
        filters: FilterType | None = None,
        types_mapper: Callable[[Any], Any] | None = None,
    ) -> pandas.DataFrame:
        """Read the table (or ``columns`` of it) into a ``pandas.DataFrame``."""
        table = self.to_pyarrow_table(partitions, columns, filesystem, filters)
        return table.to_pandas(types_mapper=types_mapper)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """Stream the table's rows through the Arrow PyCapsule interface
        (``pyarrow.table(dt)``, ``polars.DataFrame(dt)``)."""
        return self._table.read_stream(None).__arrow_c_stream__(requested_schema)

    def load_cdf(
        self,
        starting_version: int = 0,
        ending_version: int | None = None,
        starting_timestamp: str | datetime | None = None,
        ending_timestamp: str | datetime | None = None,
        columns: list[str] | None = None,
        predicate: str | None = None,
        allow_out_of_range: bool = False,
    ) -> Any:
        """The change data feed between two versions (or times), with ``_change_type``,
        ``_commit_version`` and ``_commit_timestamp`` columns: a ``pyarrow.RecordBatchReader``
        when pyarrow is installed, else an object with ``__arrow_c_stream__``.

        ``ending_version`` defaults to the loaded version. ``predicate`` is not supported yet.
        """
        _reject_filters(predicate=predicate)
        stream = self._table.load_cdf(
            starting_version,
            ending_version,
            None if starting_timestamp is None else _timestamp_ms(starting_timestamp),
            None if ending_timestamp is None else _timestamp_ms(ending_timestamp),
            _columns(columns),
            allow_out_of_range,
        )
        return arrow_reader(stream)

    def __repr__(self) -> str:
        return f"DeltaTable({self.table_uri!r}, version={self.version()})"


def _columns(columns: list[str] | None) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise TypeError("columns must be a list of column names")
    return list(columns)


def _configuration(configuration: Mapping[str, str | None] | None) -> dict[str, str] | None:
    if configuration is None:
        return None
    return {k: v for k, v in configuration.items() if v is not None}

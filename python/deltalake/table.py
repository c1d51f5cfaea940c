"""The :class:`DeltaTable` class: open a table, look at its state and history, read it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Union

from deltalake import _internal
from deltalake._arrow import arrow_reader, arrow_table, require_pyarrow
from deltalake.schema import Schema
from deltalake.transaction import CommitProperties

if TYPE_CHECKING:
    import pandas
    import pyarrow
    import pyarrow.compute
    import pyarrow.dataset

    from deltalake.transaction import PostCommitHookProperties

FilterLiteralType = tuple[str, str, Any]
"""One ``(column, op, value)`` filter; ``op`` is one of ``=``, ``==``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``in``, ``not in`` (the last two take a list, tuple or set of values)."""
FilterConjunctionType = list[FilterLiteralType]
"""Filters that must all hold (AND)."""
FilterDNFType = list[FilterConjunctionType]
"""Conjunctions of which one must hold (OR of ANDs: disjunctive normal form)."""
FilterType = Union[FilterConjunctionType, FilterDNFType]
"""Tuple filters: a conjunction, or a list of conjunctions."""
FilePruningPredicateType = Union[str, FilterType]
"""A SQL predicate (``"year = 2021 AND month > 6"``) or tuple filters."""


def _table_uri(table_uri: Any) -> str:
    if isinstance(table_uri, (str, os.PathLike)):
        return os.fspath(table_uri)
    raise TypeError(f"table_uri must be a str or a path, not {type(table_uri).__name__}")


def _encode_value(value: Any, partition_form: bool) -> Any:
    """A filter value as the extension module takes it: ``None``, bool, int, float or str.

    Dates, times and decimals become their partition string form, which the table's column type
    parses back. With ``partition_form`` every value becomes a string, as the reference package
    encodes partition filters (``True`` is ``"true"``), and ``""`` means a null partition value.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, Decimal)):
        return str(value)
    if not partition_form:
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value or None
    if isinstance(value, bytes):
        return value.decode("unicode_escape", "backslashreplace")
    raise ValueError(f"cannot encode {value!r} as a partition value")


def _dnf(filters: Any, partition_form: bool) -> list[list[tuple[str, str, Any]]] | None:
    """Tuple filters as a list of conjunctions with encoded values (``None`` for no filter)."""
    if not filters:
        return None
    if not isinstance(filters, (list, tuple)):
        raise TypeError(
            f"filters must be a list of (column, op, value) tuples, not {type(filters).__name__}"
        )
    if all(isinstance(c, list) for c in filters):
        conjunctions = list(filters)
    elif all(isinstance(t, tuple) for t in filters):
        conjunctions = [list(filters)]
    else:
        raise ValueError(
            "filters must be a list of (column, op, value) tuples (a conjunction) or a list of "
            f"such lists (an OR of conjunctions), not {filters!r}"
        )
    encoded = []
    for conjunction in conjunctions:
        if not conjunction:
            raise ValueError("empty conjunction in filters; pass no filter to match everything")
        terms = []
        for term in conjunction:
            if not isinstance(term, (tuple, list)) or len(term) != 3:
                raise ValueError(f"a filter must be a (column, op, value) tuple, not {term!r}")
            column, op, value = term
            if not isinstance(column, str) or not isinstance(op, str):
                raise ValueError(f"a filter's column and op must be strings: {term!r}")
            if isinstance(value, (list, tuple, set, frozenset)):
                value = [_encode_value(v, partition_form) for v in value]
            else:
                value = _encode_value(value, partition_form)
            terms.append((column, op, value))
        encoded.append(terms)
    return encoded


def _file_filter(
    partition_filters: FilterType | None,
    file_pruning_predicate: FilePruningPredicateType | None,
) -> str | list[list[tuple[str, str, Any]]] | None:
    """The filter selecting files: a SQL string as it is, tuple filters in partition form."""
    if partition_filters is not None and file_pruning_predicate is not None:
        raise ValueError("pass either partition_filters or file_pruning_predicate, not both")
    predicate = partition_filters if file_pruning_predicate is None else file_pruning_predicate
    if isinstance(predicate, str):
        return predicate
    return _dnf(predicate, partition_form=True)


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

    def files(
        self,
        partition_filters: FilterType | None = None,
        *,
        file_pruning_predicate: FilePruningPredicateType | None = None,
    ) -> list[str]:
        """The paths of the active data files, relative to the table root.

        The filters select files as in :meth:`file_uris`.
        """
        return self._table.files(_file_filter(partition_filters, file_pruning_predicate))

    def file_uris(
        self,
        partition_filters: FilterType | None = None,
        *,
        file_pruning_predicate: FilePruningPredicateType | None = None,
    ) -> list[str]:
        """The absolute locations of the active data files (local paths for local tables).

        Args:
            partition_filters: tuple filters (the older name of ``file_pruning_predicate``).
            file_pruning_predicate: a SQL predicate (``"year = 2021 AND month > 6"``) or tuple
                filters: ``[("year", "=", 2021), ("month", ">", 6)]`` is an AND, a list of such
                lists an OR of ANDs. Tuple values are taken in their partition string form and
                parsed as the column's type (``""`` matches a null partition value).

        Filters on partition columns select files exactly; filters on other columns keep every
        file whose statistics say it may hold a matching row.

        Raises:
            DeltaError: a filter names an unknown column, has an invalid operator, or a value
                that is not of the column's type.
        """
        return self._table.file_uris(_file_filter(partition_filters, file_pruning_predicate))

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

    def partitions(
        self,
        partition_filters: FilterType | None = None,
        *,
        file_pruning_predicate: FilePruningPredicateType | None = None,
    ) -> list[dict[str, str]]:
        """The distinct partition values of the active files (of the files the filters select,
        as in :meth:`file_uris`), one dict per partition; none for an unpartitioned table."""
        filter = _file_filter(partition_filters, file_pruning_predicate)
        seen: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
        for values in self._table.partitions(filter):
            if values:
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
        filters: FilterType | str | pyarrow.compute.Expression | None = None,
    ) -> pyarrow.Table:
        """Read the table (or ``columns`` of it) into a ``pyarrow.Table``.

        Args:
            partitions: tuple filters selecting files, in partition form as in :meth:`file_uris`.
            columns: the columns to read, in this order.
            filesystem: accepted for compatibility.
            filters: the rows to return: tuple filters (``[("a", ">", 3)]`` is an AND, a list of
                such lists an OR of ANDs; ops ``=``, ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``,
                ``in``, ``not in``), a SQL predicate, or a ``pyarrow.compute.Expression``
                (applied after reading). Files that cannot hold matching rows are not read.

        Raises:
            DeltaError: a filter names an unknown column, has an invalid operator, or a value
                that is not of the column's type.
        """
        del filesystem
        pa = require_pyarrow("to_pyarrow_table()")
        import pyarrow.compute as pc

        expression = filters if isinstance(filters, pc.Expression) else None
        row_filters = [] if expression is not None else [_row_filter(filters)]
        row_filters.append(_dnf(partitions, partition_form=True))
        table = pa.table(
            self._table.read_all(_columns(columns), [f for f in row_filters if f is not None])
        )
        return table if expression is None else table.filter(expression)

    def to_pyarrow_dataset(
        self,
        partitions: FilterType | None = None,
        filesystem: Any = None,
        parquet_read_options: Any = None,
        schema: Any = None,
        as_large_types: bool = False,
        file_pruning_predicate: FilePruningPredicateType | None = None,
    ) -> pyarrow.dataset.Dataset:
        """The table as an in-memory ``pyarrow.dataset.Dataset`` (deletion vectors and column
        mapping applied).

        ``partitions`` or ``file_pruning_predicate`` filter as in :meth:`file_uris`; unlike the
        reference package, which keeps every row of the files selected, the dataset holds only
        the matching rows.
        """
        del filesystem, parquet_read_options, as_large_types
        require_pyarrow("to_pyarrow_dataset()")
        import pyarrow as pa
        import pyarrow.dataset as ds

        filter = _file_filter(partitions, file_pruning_predicate)
        table = pa.table(self._table.read_all(None, [] if filter is None else [filter]))
        if schema is not None:
            table = table.cast(schema)
        return ds.dataset(table)

    def to_pandas(
        self,
        partitions: FilterType | None = None,
        columns: list[str] | None = None,
        filesystem: Any = None,
        filters: FilterType | str | pyarrow.compute.Expression | None = None,
        types_mapper: Callable[[Any], Any] | None = None,
    ) -> pandas.DataFrame:
        """Read the table (or ``columns`` of it, or the rows matching ``filters``) into a
        ``pandas.DataFrame``; the arguments are those of :meth:`to_pyarrow_table`."""
        table = self.to_pyarrow_table(partitions, columns, filesystem, filters)
        return table.to_pandas(types_mapper=types_mapper)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """Stream the table's rows through the Arrow PyCapsule interface
        (``pyarrow.table(dt)``, ``polars.DataFrame(dt)``)."""
        return self._table.read_stream(None, []).__arrow_c_stream__(requested_schema)

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

        ``ending_version`` defaults to the loaded version; ``predicate`` is a SQL predicate on
        the rows of the feed (``"_change_type = 'insert' AND id > 3"``).
        """
        stream = self._table.load_cdf(
            starting_version,
            ending_version,
            None if starting_timestamp is None else _timestamp_ms(starting_timestamp),
            None if ending_timestamp is None else _timestamp_ms(ending_timestamp),
            _columns(columns),
            allow_out_of_range,
            predicate,
        )
        return arrow_reader(stream)

    def restore(
        self,
        target: int | datetime | str,
        *,
        ignore_missing_files: bool = False,
        protocol_downgrade_allowed: bool = False,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> dict[str, Any]:
        """Restore the table to an earlier version, given by number or by time (a datetime or
        an ISO 8601 string; naive times are UTC), as a new commit. The table moves to that commit.

        Args:
            target: the version, or the time whose version (the latest committed at or before
                it) is restored.
            ignore_missing_files: restore even when data files of the target are gone.
            protocol_downgrade_allowed: also restore an older protocol.
            commit_properties: retries and custom metadata of the commit.
            post_commithook_properties: accepted for compatibility.

        Returns:
            The metrics: ``numRemovedFile`` and ``numRestoredFile`` (as the reference package),
            ``removedFilesSize``, ``restoredFilesSize``, ``numOfFilesAfterRestore`` and
            ``tableSizeAfterRestore``.
        """
        del post_commithook_properties
        _check_commit_properties(commit_properties)
        if isinstance(target, int) and not isinstance(target, bool):
            version, timestamp_ms = target, None
        elif isinstance(target, (str, datetime)):
            version, timestamp_ms = None, _timestamp_ms(target)
        else:
            raise TypeError(
                f"target must be an int, a datetime or a string, not {type(target).__name__}"
            )
        return self._table.restore(
            version,
            timestamp_ms,
            ignore_missing_files,
            protocol_downgrade_allowed,
            commit_properties,
        )

    def repair(
        self,
        dry_run: bool = False,
        *,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> dict[str, Any]:
        """Remove from the table the active files that no longer exist in storage (a file-system
        check, committed as an ``FSCK`` operation), or only list them with ``dry_run``.

        Returns:
            ``{"dry_run": bool, "files_removed": [paths relative to the table root]}``.
        """
        del post_commithook_properties
        _check_commit_properties(commit_properties)
        dry_run, files_removed = self._table.repair(dry_run, commit_properties)
        return {"dry_run": dry_run, "files_removed": files_removed}

    def create_checkpoint(self) -> None:
        """Write a checkpoint of the loaded version and point ``_last_checkpoint`` at it."""
        self._table.create_checkpoint()

    def cleanup_metadata(self) -> None:
        """Delete the log files older than ``delta.logRetentionDuration`` (30 days by default)
        that no retained version needs."""
        self._table.cleanup_metadata()

    def __repr__(self) -> str:
        return f"DeltaTable({self.table_uri!r}, version={self.version()})"


def _row_filter(filters: Any) -> str | list[list[tuple[str, str, Any]]] | None:
    """A row filter: a SQL string as it is, tuple filters with typed values."""
    if isinstance(filters, str):
        return filters
    return _dnf(filters, partition_form=False)


def _check_commit_properties(commit_properties: Any) -> None:
    if commit_properties is not None and not isinstance(commit_properties, CommitProperties):
        raise TypeError("commit_properties must be a deltalake.CommitProperties")


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

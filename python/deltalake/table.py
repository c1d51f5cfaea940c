"""The :class:`DeltaTable` class: open a table, look at its state and history, read it."""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, NamedTuple, Union

from deltalake import _internal
from deltalake._util import (
    deprecate_positional_commit_args,
    encode_partition_value,
    positional_args,
)
from deltalake._arrow import arrow_reader, arrow_table, require_pyarrow, to_arrow_stream
from deltalake.exceptions import DeltaError, NotSupportedError
from deltalake.schema import Field, Schema
from deltalake.transaction import CommitProperties, PostCommitHookProperties

if TYPE_CHECKING:
    import pandas
    import pyarrow
    import pyarrow.compute
    import pyarrow.dataset

    from deltalake.writer import WriterProperties

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
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)) or partition_form:
        return encode_partition_value(value) or None
    return value


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
    deprecated_name: str,
    deprecated_value: FilterType | None,
    file_pruning_predicate: FilePruningPredicateType | None,
) -> str | list[list[tuple[str, str, Any]]] | None:
    """The filter selecting files: a SQL string as it is, tuple filters in partition form.

    ``deprecated_value`` (the method's older ``partition_filters`` or ``partitions`` argument)
    is taken with a :class:`DeprecationWarning`, as the reference package does.
    """
    if deprecated_value is not None:
        if file_pruning_predicate is not None:
            raise ValueError(
                f"`{deprecated_name}` is deprecated; pass only `file_pruning_predicate`"
            )
        warnings.warn(
            f"`{deprecated_name}` is deprecated; pass the filters to "
            "`file_pruning_predicate` instead",
            DeprecationWarning,
            stacklevel=3,
        )
        file_pruning_predicate = deprecated_value
    if isinstance(file_pruning_predicate, str):
        return file_pruning_predicate
    return _dnf(file_pruning_predicate, partition_form=True)


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


class _DeltaTableConfigFields(NamedTuple):
    without_files: bool
    log_buffer_size: int
    skip_stats: bool = False


class DeltaTableConfig(_DeltaTableConfigFields):
    """How a table is loaded (deprecated, as in the reference package): the options are ignored
    and :attr:`DeltaTable.table_config` reports the effective defaults."""

    def __new__(
        cls, without_files: bool, log_buffer_size: int, skip_stats: bool = False
    ) -> DeltaTableConfig:
        warnings.warn(
            "The DeltaTableConfig class is deprecated and will be removed in a future release. ",
            DeprecationWarning,
            stacklevel=2,
        )
        return super().__new__(cls, without_files, log_buffer_size, skip_stats)


MAX_SUPPORTED_PYARROW_WRITER_VERSION = 7
"""The highest writer protocol version of tables that files written by pyarrow may be added to
(libraries writing with pyarrow and committing with ``create_write_transaction`` check it)."""
NOT_SUPPORTED_PYARROW_WRITER_VERSIONS = [3, 4, 5, 6]
"""Writer versions whose requirements files written by pyarrow cannot meet."""
SUPPORTED_WRITER_FEATURES = {"appendOnly", "invariants", "timestampNtz"}
"""Writer features files written by pyarrow can be added under."""
MAX_SUPPORTED_READER_VERSION = 3
"""The highest reader protocol version pyarrow-based readers of the table's files handle."""
NOT_SUPPORTED_READER_VERSION = -1
"""No reader version is excluded below the maximum."""
SUPPORTED_READER_FEATURES = {"timestampNtz"}
"""Reader features pyarrow-based readers of the table's files handle."""

_HOOKS_FIRST = ("post_commithook_properties", "commit_properties")
"""The order in which older releases took the commit arguments positionally, for the methods
that had the hook properties first."""

_LOG_BUFFER_SIZE = 8
"""The ``log_buffer_size`` :attr:`DeltaTable.table_config` reports (the reference's default)."""


class ProtocolVersions(NamedTuple):
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
        without_files: deprecated and ignored (warns); the file list is always loaded.
        log_buffer_size: deprecated and ignored (warns); log files are read concurrently.
        skip_stats: deprecated and ignored (warns); file statistics are kept.

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
        if without_files:
            warnings.warn(
                "The 'without_files' parameter is deprecated and ignored. "
                "Table loading materializes active-file metadata.",
                DeprecationWarning,
                stacklevel=2,
            )
        if log_buffer_size is not None:
            warnings.warn(
                "The 'log_buffer_size' parameter is deprecated and ignored. "
                "Log buffering is managed internally.",
                DeprecationWarning,
                stacklevel=2,
            )
        if skip_stats:
            warnings.warn(
                "The 'skip_stats' parameter is deprecated and ignored. "
                "Table loading retains file statistics.",
                DeprecationWarning,
                stacklevel=2,
            )
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
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
        raise_if_key_not_exists: bool | None = None,
    ) -> DeltaTable:
        """Create an empty table with ``schema`` (a :class:`Schema` or an Arrow schema).

        ``mode='error'`` fails if a table exists; ``'ignore'`` and ``'append'`` leave an existing
        table as it is. ``'overwrite'`` is not supported yet.
        """
        given = positional_args(
            "create",
            args,
            ("commit_properties", "post_commithook_properties", "raise_if_key_not_exists"),
            {
                "commit_properties": commit_properties,
                "post_commithook_properties": post_commithook_properties,
                "raise_if_key_not_exists": raise_if_key_not_exists,
            },
        )
        commit_properties = given["commit_properties"]
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(given["post_commithook_properties"])
        uri = _table_uri(table_uri)
        _internal.create_deltalake(
            uri,
            schema,
            mode,
            [partition_by] if isinstance(partition_by, str) else partition_by,
            name,
            description,
            _configuration(configuration),
            storage_options,
            _commit_settings(commit_properties, given["post_commithook_properties"]),
        )
        return cls(uri, storage_options=storage_options)

    @property
    def table_config(self) -> DeltaTableConfig:
        """The loading options in effect (deprecated): always the defaults."""
        warnings.warn(
            "The 'table_config' property is deprecated and will be removed in a future release. "
            "It reports effective defaults; deprecated constructor options are ignored.",
            DeprecationWarning,
            stacklevel=2,
        )
        return DeltaTableConfig(False, _LOG_BUFFER_SIZE, False)

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
        filter = _file_filter("partition_filters", partition_filters, file_pruning_predicate)
        return self._table.files(filter)

    def file_uris(
        self,
        partition_filters: FilterType | None = None,
        *,
        file_pruning_predicate: FilePruningPredicateType | None = None,
    ) -> list[str]:
        """The absolute locations of the active data files (local paths for local tables).

        Args:
            partition_filters: tuple filters (deprecated, warns: use ``file_pruning_predicate``).
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
        filter = _file_filter("partition_filters", partition_filters, file_pruning_predicate)
        return self._table.file_uris(filter)

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
        filter = _file_filter("partition_filters", partition_filters, file_pruning_predicate)
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
        and partition values, as an ``arro3.core.Table`` (``pyarrow.table(...)`` takes it without
        a copy)."""
        return arrow_table(self._table.add_actions(flatten))

    def create_write_transaction(
        self,
        actions: list[Any],
        mode: str,
        schema: Schema | Any,
        partition_by: list[str] | str | None = None,
        partition_filters: FilterType | None = None,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Commit data files written elsewhere (already under the table's location) as one
        transaction on top of the loaded version; the table moves to it.

        Args:
            actions: :class:`~deltalake.transaction.AddAction` and
                :class:`~deltalake.transaction.RemoveAction` entries; removes only with
                ``mode="append"``, and no path both added and removed.
            mode: ``append``, or ``overwrite`` (the active files of the partitions
                ``partition_filters`` selects, all without it, are removed).
            schema: the files' schema, which must be the table's.
            partition_by: accepted for compatibility (the table's partition columns apply).
            partition_filters: the partitions an overwrite replaces, as tuple filters.
            commit_properties: retries, custom metadata and application transactions.
            post_commithook_properties: the log cleanup after the commit.

        Raises:
            SchemaMismatchError: ``schema`` is not the table's.
            ValueError: a bad mode, a remove of a file that is not active, a remove with
                ``overwrite``, a path both added and removed, or an invalid add action.
        """
        from deltalake.transaction import AddAction, RemoveAction

        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "create_write_transaction", args, commit_properties, post_commithook_properties
        )
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        if mode not in ("append", "overwrite"):
            raise ValueError(f"mode must be 'append' or 'overwrite', not {mode!r}")
        if not all(isinstance(a, (AddAction, RemoveAction)) for a in actions):
            raise TypeError("actions must be AddAction and RemoveAction objects")
        self._table.create_write_transaction(
            list(actions),
            mode,
            [partition_by] if isinstance(partition_by, str) else list(partition_by or []),
            schema,
            partition_filters,
            commit_properties,
            post_commithook_properties,
        )

    def count(self) -> int:
        """The number of rows as the files' statistics give it (files without a record count
        add nothing, so this can be below the true count)."""
        counts = self._table.add_actions(False)
        require_pyarrow("count()")
        import pyarrow as pa

        return sum(n for n in pa.table(counts).column("num_records").to_pylist() if n is not None)

    def deletion_vectors(self) -> Any:
        """The deletion vectors as keep masks, one row per file that has one: ``filepath`` (as
        :meth:`file_uris` gives it) and ``selection_vector`` (a list of booleans, one per row of
        the file, ``True`` for the rows kept), as an ``arro3.core.RecordBatchReader``."""
        return arrow_reader(self._table.deletion_vectors())

    def to_pyarrow_table(
        self,
        partitions: FilterType | None = None,
        columns: list[str] | None = None,
        filesystem: Any = None,
        filters: FilterType | str | pyarrow.compute.Expression | None = None,
    ) -> pyarrow.Table:
        """Read the table (or ``columns`` of it) into a ``pyarrow.Table``.

        Args:
            partitions: tuple filters selecting files as in :meth:`file_uris` (deprecated, warns).
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
        if partitions is not None:
            warnings.warn(
                "`partitions` is deprecated; use `filters` instead",
                DeprecationWarning,
                stacklevel=2,
            )
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

        filter = _file_filter("partitions", partitions, file_pruning_predicate)
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

    def scan(self, columns: list[str] | None = None, predicate: str | None = None) -> Any:
        """A stream of the rows (of ``columns``) matching the SQL ``predicate``, read as the
        consumer asks for them, as an ``arro3.core.RecordBatchReader``."""
        if predicate is not None and not isinstance(predicate, str):
            raise TypeError("predicate must be a SQL string")
        filters = [] if predicate is None else [predicate]
        return arrow_reader(self._table.read_stream(_columns(columns), filters))

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
        ``_commit_version`` and ``_commit_timestamp`` columns, as an
        ``arro3.core.RecordBatchReader``.

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
            post_commithook_properties: the log cleanup after the commit
                (:class:`~deltalake.PostCommitHookProperties`).

        Returns:
            The metrics: ``numRemovedFile`` and ``numRestoredFile`` (as the reference package),
            ``removedFilesSize``, ``restoredFilesSize``, ``numOfFilesAfterRestore`` and
            ``tableSizeAfterRestore``.
        """
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        if isinstance(target, int) and not isinstance(target, bool):
            version, timestamp_ms = target, None
        elif isinstance(target, (str, datetime)):
            version, timestamp_ms = None, _timestamp_ms(target)
        else:
            raise TypeError(
                f"target must be an int, a datetime or a string, not {type(target).__name__}"
            )
        metrics = self._table.restore(
            version,
            timestamp_ms,
            ignore_missing_files,
            protocol_downgrade_allowed,
            _commit_settings(commit_properties, post_commithook_properties),
        )
        _post_commit(self._table, post_commithook_properties)
        return metrics

    def repair(
        self,
        dry_run: bool = False,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> dict[str, Any]:
        """Remove from the table the active files that no longer exist in storage (a file-system
        check, committed as an ``FSCK`` operation), or only list them with ``dry_run``.

        Returns:
            ``{"dry_run": bool, "files_removed": [paths relative to the table root]}``.
        """
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "repair", args, commit_properties, post_commithook_properties, _HOOKS_FIRST
        )
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        commit = _commit_settings(commit_properties, post_commithook_properties)
        dry_run, files_removed = self._table.repair(dry_run, commit)
        if not dry_run:
            _post_commit(self._table, post_commithook_properties)
        return {"dry_run": dry_run, "files_removed": files_removed}

    def delete(
        self,
        predicate: str | None = None,
        writer_properties: WriterProperties | None = None,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> dict[str, Any]:
        """Delete the rows for which the SQL ``predicate`` is true (every row without one), as a
        new commit (none when nothing matches). The table moves to that commit.

        Args:
            predicate: a SQL WHERE clause such as ``"id > 10 AND day = '2024-01-01'"``.
            writer_properties: Parquet settings of the rewritten files.
            commit_properties: retries and custom metadata of the commit.
            post_commithook_properties: the log cleanup after the commit
                (:class:`~deltalake.PostCommitHookProperties`).

        Returns:
            The metrics: ``num_deleted_rows``, ``num_added_files``, ``num_removed_files``,
            ``num_copied_rows``, ``num_added_change_files``, ``num_deletion_vectors_added``,
            ``execution_time_ms``, ``scan_time_ms`` and ``rewrite_time_ms``.

        Raises:
            DeltaError: the predicate is invalid (unknown column, bad SQL) or the table is
                append-only.
        """
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "delete", args, commit_properties, post_commithook_properties, _HOOKS_FIRST
        )
        _check_writer_properties(writer_properties)
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        if predicate is not None and not isinstance(predicate, str):
            raise TypeError("predicate must be a SQL string")
        commit = _commit_settings(commit_properties, post_commithook_properties)
        metrics = self._table.delete(predicate, writer_properties, commit)
        _post_commit(self._table, post_commithook_properties)
        return metrics

    def update(
        self,
        updates: dict[str, str] | None = None,
        new_values: dict[str, Any] | None = None,
        predicate: str | None = None,
        writer_properties: WriterProperties | None = None,
        error_on_type_mismatch: bool = True,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> dict[str, Any]:
        """Update the rows for which the SQL ``predicate`` is true (every row without one), as a
        new commit. The table moves to that commit.

        Args:
            updates: column name to SQL expression over the row's old values
                (``{"price": "price * 2"}``).
            new_values: column name to a Python value (None, bool, int, float, str, date,
                datetime or Decimal), as an alternative to ``updates``.
            predicate: a SQL WHERE clause selecting the rows to update.
            writer_properties: Parquet settings of the rewritten files.
            error_on_type_mismatch: accepted for compatibility (values are always converted to
                the column's type, and an impossible conversion is an error).
            commit_properties: retries and custom metadata of the commit.
            post_commithook_properties: the log cleanup after the commit
                (:class:`~deltalake.PostCommitHookProperties`).

        Returns:
            The metrics: ``num_updated_rows``, ``num_added_files``, ``num_removed_files``,
            ``num_copied_rows``, ``num_added_change_files``, ``num_deletion_vectors_added``,
            ``execution_time_ms``, ``scan_time_ms`` and ``rewrite_time_ms``.

        Raises:
            ValueError: neither or both of ``updates`` and ``new_values`` are given.
            DeltaError: an unknown column, invalid SQL, or a value not convertible to its column.
        """
        del error_on_type_mismatch
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "update", args, commit_properties, post_commithook_properties, _HOOKS_FIRST
        )
        _check_writer_properties(writer_properties)
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        if (updates is None) == (new_values is None):
            raise ValueError("pass either updates or new_values")
        if updates is not None:
            if not isinstance(updates, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in updates.items()
            ):
                raise TypeError("updates must be a dict of column names to SQL expressions")
            assignments = list(updates.items())
        else:
            if not isinstance(new_values, dict) or not all(isinstance(k, str) for k in new_values):
                raise TypeError("new_values must be a dict of column names to values")
            assignments = [(k, _sql_literal(v)) for k, v in new_values.items()]
        if not assignments:
            raise ValueError("there is nothing to update")
        if predicate is not None and not isinstance(predicate, str):
            raise TypeError("predicate must be a SQL string")
        commit = _commit_settings(commit_properties, post_commithook_properties)
        metrics = self._table.update(assignments, predicate, writer_properties, commit)
        _post_commit(self._table, post_commithook_properties)
        return metrics

    def merge(
        self,
        source: Any,
        predicate: str,
        source_alias: str | None = None,
        target_alias: str | None = None,
        merge_schema: bool = False,
        error_on_type_mismatch: bool = True,
        writer_properties: WriterProperties | None = None,
        streamed_exec: bool = True,
        max_spill_size: int | None = None,
        max_temp_directory_size: int | None = None,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> TableMerger:
        """Start a MERGE of ``source`` into the table, joined on the SQL ``predicate``; add
        clauses on the returned :class:`TableMerger` and call ``execute()``.

        Args:
            source: the rows to merge: a pyarrow Table, RecordBatch or RecordBatchReader, a
                pandas DataFrame, or anything with ``__arrow_c_stream__``. It is held in memory.
            predicate: the join condition, e.g. ``"target.id = source.id"``; it needs at least
                one equality between a target and a source expression.
            source_alias: the name of the source in expressions (default ``source``).
            target_alias: the name of the target in expressions (default ``target``).
            merge_schema: add the source's columns the table lacks to its schema.
            error_on_type_mismatch: accepted for compatibility (a value that does not convert
                to its column's type is always an error).
            writer_properties: Parquet settings of the files written.
            streamed_exec: accepted for compatibility (the target is always streamed).
            max_spill_size: accepted for compatibility.
            max_temp_directory_size: accepted for compatibility.
            commit_properties: retries and custom metadata of the commit.
            post_commithook_properties: the log cleanup after the commit
                (:class:`~deltalake.PostCommitHookProperties`).
        """
        del error_on_type_mismatch, streamed_exec, max_spill_size, max_temp_directory_size
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "merge", args, commit_properties, post_commithook_properties, _HOOKS_FIRST
        )
        _check_writer_properties(writer_properties)
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        if not isinstance(predicate, str):
            raise TypeError("predicate must be a SQL string")
        return TableMerger(
            self,
            to_arrow_stream(source),
            predicate,
            source_alias,
            target_alias,
            merge_schema,
            writer_properties,
            commit_properties,
            post_commithook_properties,
        )

    @property
    def optimize(self) -> TableOptimizer:
        """File compaction and Z-ordering: ``dt.optimize.compact()``,
        ``dt.optimize.z_order(["x", "y"])``."""
        return TableOptimizer(self)

    @property
    def alter(self) -> TableAlterer:
        """Changes to the table's definition: ``dt.alter.add_constraint({...})`` and others."""
        return TableAlterer(self)

    def vacuum(
        self,
        retention_hours: int | None = None,
        dry_run: bool = True,
        enforce_retention_duration: bool = True,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
        full: bool | None = None,
        keep_versions: list[int] | None = None,
    ) -> list[str]:
        """Delete the data files that no version within the retention period needs.

        Args:
            retention_hours: keep files removed less than this many hours ago (default: the
                table's ``delta.deletedFileRetentionDuration``, 7 days unless set).
            dry_run: only list the files that would be deleted.
            enforce_retention_duration: refuse a retention shorter than the table's.
            post_commithook_properties: the log cleanup after the commit
                (:class:`~deltalake.PostCommitHookProperties`).
            commit_properties: retries and custom metadata of the ``VACUUM START`` / ``END``
                commits.
            full: list the table directory, also deleting files that were never committed;
                otherwise only the files the log removed are considered.
            keep_versions: not supported yet.

        Returns:
            The paths (relative to the table root) of the files deleted, or to delete in a dry run.

        Raises:
            DeltaError: the retention is shorter than the table's and
                ``enforce_retention_duration`` is set.
            NotSupportedError: ``keep_versions`` is given.
        """
        given = positional_args(
            "vacuum",
            args,
            ("post_commithook_properties", "commit_properties", "full", "keep_versions"),
            {
                "post_commithook_properties": post_commithook_properties,
                "commit_properties": commit_properties,
                "full": full,
                "keep_versions": keep_versions,
            },
        )
        post_commithook_properties = given["post_commithook_properties"]
        commit_properties = given["commit_properties"]
        full = bool(given["full"])
        keep_versions = given["keep_versions"]
        _check_post_commithook_properties(post_commithook_properties)
        if keep_versions is not None:
            raise NotSupportedError("vacuum(keep_versions=...) is not supported yet")
        if retention_hours is not None and (
            not isinstance(retention_hours, int)
            or isinstance(retention_hours, bool)
            or retention_hours < 0
        ):
            raise ValueError("retention_hours must be a non-negative int")
        _check_commit_properties(commit_properties)
        deleted = self._table.vacuum(
            dry_run,
            retention_hours,
            enforce_retention_duration,
            full,
            _commit_settings(commit_properties, post_commithook_properties),
        )
        if not dry_run:
            _post_commit(self._table, post_commithook_properties)
        return deleted

    def create_checkpoint(self) -> None:
        """Write a checkpoint of the loaded version and point ``_last_checkpoint`` at it."""
        self._table.create_checkpoint()

    def generate(self) -> None:
        """Write symlink manifests of the loaded version for engines that read a table through a
        Hive symlink table (Presto, Trino, Athena, BigQuery): ``_symlink_format_manifest/manifest``,
        or one ``manifest`` per partition directory, listing the data files. Manifests of
        partitions without files are deleted; nothing is committed.

        Raises:
            NotSupportedError: the table's files have deletion vectors, which such readers
                would not apply.
        """
        self._table.generate()

    def compact_logs(self, starting_version: int, ending_version: int) -> None:
        """Write a log compaction file (``<start>.<end>.compacted.json`` in ``_delta_log``): the
        reconciled actions of commits ``starting_version`` to ``ending_version``, which readers
        may read instead of those commits.

        Raises:
            DeltaInvalidArgumentError: the range has fewer than two commits.
            TableNotFoundError: a commit of the range is no longer in the log.
        """
        self._table.compact_logs(starting_version, ending_version)

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


def _check_post_commithook_properties(post_commithook_properties: Any) -> None:
    if post_commithook_properties is not None and not isinstance(
        post_commithook_properties, PostCommitHookProperties
    ):
        raise TypeError("post_commithook_properties must be a deltalake.PostCommitHookProperties")


class _CommitSettings:
    """What the extension module reads of a commit: the commit properties and whether a due
    checkpoint is written (``PostCommitHookProperties.create_checkpoint``)."""

    def __init__(
        self,
        commit_properties: CommitProperties | None,
        hooks: PostCommitHookProperties | None,
    ) -> None:
        self.max_commit_retries = (
            commit_properties.max_commit_retries if commit_properties else None
        )
        self.custom_metadata_json = (
            commit_properties.custom_metadata_json if commit_properties else None
        )
        self.app_transaction_versions = (
            commit_properties.app_transaction_versions if commit_properties else []
        )
        self.create_checkpoint = hooks.create_checkpoint if hooks else None


def _commit_settings(
    commit_properties: CommitProperties | None, hooks: PostCommitHookProperties | None
) -> _CommitSettings | None:
    """The settings of a commit for the extension module (``None``: all defaults)."""
    if commit_properties is None and hooks is None:
        return None
    return _CommitSettings(commit_properties, hooks)


def _post_commit(raw: Any, post_commithook_properties: PostCommitHookProperties | None) -> None:
    """The post-commit hooks after a commit that moved ``raw`` (a ``RawDeltaTable``): expired log
    files are deleted when the commit was checkpointed, as ``post_commithook_properties`` (or the
    table's properties) say."""
    hooks = post_commithook_properties or PostCommitHookProperties()
    if hooks.create_checkpoint:
        raw.cleanup_expired_logs(hooks.cleanup_expired_logs)


def _check_commit_properties(commit_properties: Any) -> None:
    if commit_properties is None:
        return
    if not isinstance(commit_properties, CommitProperties):
        raise TypeError("commit_properties must be a deltalake.CommitProperties")
    # The custom metadata is checked before anything is written (ValueError).
    commit_properties.custom_metadata_json


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


def _check_writer_properties(writer_properties: Any) -> None:
    from deltalake.writer import WriterProperties

    if writer_properties is not None and not isinstance(writer_properties, WriterProperties):
        raise TypeError("writer_properties must be a deltalake.WriterProperties")


def _sql_literal(value: Any) -> str:
    """``value`` as a SQL literal (strings quoted with embedded quotes doubled)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} as a SQL literal")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value!r} as a SQL literal")
        return str(value)
    if isinstance(value, datetime):
        value = value.isoformat(sep=" ")
    elif isinstance(value, date):
        value = value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot write a {type(value).__name__} as a SQL literal")


class TableFeatures(str, Enum):
    """Table features that :meth:`TableAlterer.add_feature` can add to the protocol."""

    ColumnMapping = "columnMapping"
    DeletionVectors = "deletionVectors"
    TimestampWithoutTimezone = "timestampNtz"
    V2Checkpoint = "v2Checkpoint"
    AppendOnly = "appendOnly"
    Invariants = "invariants"
    CheckConstraints = "checkConstraints"
    ChangeDataFeed = "changeDataFeed"
    GeneratedColumns = "generatedColumns"
    IdentityColumns = "identityColumns"
    RowTracking = "rowTracking"
    DomainMetadata = "domainMetadata"
    IcebergCompatV1 = "icebergCompatV1"
    MaterializePartitionColumns = "materializePartitionColumns"


class TableMerger:
    """The clauses of a MERGE (from :meth:`DeltaTable.merge`), applied by :meth:`execute`.

    Clauses of a kind are tried in the order added; the first whose predicate holds applies.
    Column names with special characters are quoted in backticks: ``target.`my column```.
    """

    def __init__(
        self,
        table: DeltaTable,
        source: Any,
        predicate: str,
        source_alias: str | None,
        target_alias: str | None,
        merge_schema: bool,
        writer_properties: WriterProperties | None,
        commit_properties: CommitProperties | None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        self._table = table
        self._post_commithook_properties = post_commithook_properties
        self._source = source
        self._predicate = predicate
        self._source_alias = source_alias
        self._target_alias = target_alias
        self._merge_schema = merge_schema
        self._writer_properties = writer_properties
        self._commit_properties = commit_properties
        self._clauses: list[tuple[str, str | None, list[tuple[str, str]] | None, list[str] | None]] = []

    def _add(
        self,
        kind: str,
        predicate: str | None,
        updates: dict[str, str] | None = None,
        except_cols: list[str] | None = None,
    ) -> TableMerger:
        if predicate is not None and not isinstance(predicate, str):
            raise TypeError("predicate must be a SQL string")
        assignments = None
        if updates is not None:
            if not isinstance(updates, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in updates.items()
            ):
                raise TypeError("updates must be a dict of column names to SQL expressions")
            assignments = list(updates.items())
        if except_cols is not None and not all(isinstance(c, str) for c in except_cols):
            raise TypeError("except_cols must be a list of column names")
        self._clauses.append((kind, predicate, assignments, except_cols))
        return self

    def when_matched_update(
        self, updates: dict[str, str], predicate: str | None = None
    ) -> TableMerger:
        """Update the matched target rows (where ``predicate`` holds): column name to SQL
        expression over the target and source columns (``{"x": "source.x"}``)."""
        return self._add("when_matched_update", predicate, updates)

    def when_matched_update_all(
        self, predicate: str | None = None, except_cols: list[str] | None = None
    ) -> TableMerger:
        """Update every column of the matched target rows from the source column of the same
        name (but ``except_cols``)."""
        return self._add("when_matched_update_all", predicate, None, except_cols)

    def when_matched_delete(self, predicate: str | None = None) -> TableMerger:
        """Delete the matched target rows (where ``predicate`` holds)."""
        return self._add("when_matched_delete", predicate)

    def when_not_matched_insert(
        self, updates: dict[str, str], predicate: str | None = None
    ) -> TableMerger:
        """Insert the source rows matching no target row (where ``predicate`` holds): column
        name to SQL expression over the source columns; other columns are null."""
        return self._add("when_not_matched_insert", predicate, updates)

    def when_not_matched_insert_all(
        self, predicate: str | None = None, except_cols: list[str] | None = None
    ) -> TableMerger:
        """Insert the source rows matching no target row, every column from the source column
        of the same name (but ``except_cols``)."""
        return self._add("when_not_matched_insert_all", predicate, None, except_cols)

    def when_not_matched_by_source_update(
        self, updates: dict[str, str], predicate: str | None = None
    ) -> TableMerger:
        """Update the target rows no source row matches (where ``predicate`` holds), with SQL
        expressions over the target columns."""
        return self._add("when_not_matched_by_source_update", predicate, updates)

    def when_not_matched_by_source_delete(self, predicate: str | None = None) -> TableMerger:
        """Delete the target rows no source row matches (where ``predicate`` holds)."""
        return self._add("when_not_matched_by_source_delete", predicate)

    def execute(self) -> dict[str, Any]:
        """Run the merge as one commit (none when nothing changes); the table moves to it.

        Returns:
            The metrics: ``num_source_rows``, ``num_target_rows_inserted``,
            ``num_target_rows_updated``, ``num_target_rows_deleted``, ``num_target_rows_copied``,
            ``num_output_rows``, ``num_target_files_scanned``,
            ``num_target_files_skipped_during_scan``, ``num_target_files_added``,
            ``num_target_files_removed``, ``num_target_change_files_added``,
            ``num_target_deletion_vectors_added``, ``execution_time_ms``, ``scan_time_ms`` and
            ``rewrite_time_ms``.

        Raises:
            DeltaError: no clause, an unknown column, invalid SQL, a value not convertible to
                its column, or a target row matched by more than one source row.
            CommitFailedError: a concurrent commit conflicts with the merge.
        """
        metrics = self._table._table.merge(
            self._source,
            self._predicate,
            self._clauses,
            self._source_alias,
            self._target_alias,
            self._merge_schema,
            self._writer_properties,
            _commit_settings(self._commit_properties, self._post_commithook_properties),
        )
        _post_commit(self._table._table, self._post_commithook_properties)
        return metrics


class TableOptimizer:
    """Rewrites the files of a table for faster reads (``DeltaTable.optimize``)."""

    def __init__(self, table: DeltaTable) -> None:
        self.table = table

    def compact(
        self,
        partition_filters: FilterConjunctionType | None = None,
        target_size: int | None = None,
        max_concurrent_tasks: int | None = None,
        max_spill_size: int | None = None,
        max_temp_directory_size: int | None = None,
        min_commit_interval: int | Any | None = None,
        writer_properties: WriterProperties | None = None,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> dict[str, Any]:
        """Pack the small files of each partition into files of about ``target_size`` bytes.

        On a clustered table (liquid clustering), cluster instead: the files not yet clustered
        are sorted along a Hilbert curve of the clustering columns and rewritten, incrementally.

        Args:
            partition_filters: ``(column, op, value)`` filters on partition columns selecting the
                partitions to compact.
            target_size: the file size to aim for (default: ``delta.targetFileSize``, else
                100 MiB).
            max_concurrent_tasks: how many groups of files are rewritten at once.
            max_spill_size: accepted for compatibility.
            max_temp_directory_size: accepted for compatibility.
            min_commit_interval: not supported yet (everything is one commit).
            writer_properties: Parquet settings of the new files.
            commit_properties: retries and custom metadata of the commit.
            post_commithook_properties: the log cleanup after the commit
                (:class:`~deltalake.PostCommitHookProperties`).

        Returns:
            The metrics: ``numFilesAdded``, ``numFilesRemoved``, ``filesAdded``, ``filesRemoved``
            (``min``, ``max``, ``avg``, ``totalFiles``, ``totalSize``), ``partitionsOptimized``,
            ``numBatches``, ``totalConsideredFiles``, ``totalFilesSkipped`` and
            ``preserveInsertionOrder``.
        """
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "compact", args, commit_properties, post_commithook_properties, _HOOKS_FIRST
        )
        return self._run(
            None,
            partition_filters,
            target_size,
            max_concurrent_tasks,
            min_commit_interval,
            writer_properties,
            commit_properties,
            post_commithook_properties,
        )

    def z_order(
        self,
        columns: list[str] | str,
        partition_filters: FilterConjunctionType | None = None,
        target_size: int | None = None,
        max_concurrent_tasks: int | None = None,
        max_spill_size: int | None = None,
        max_temp_directory_size: int | None = None,
        min_commit_interval: int | Any | None = None,
        writer_properties: WriterProperties | None = None,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> dict[str, Any]:
        """Rewrite the files of each partition with rows sorted by the Z-order of ``columns``
        (not partition columns), which clusters rows with near values of all of them.

        Takes the arguments of :meth:`compact` and returns the same metrics.
        """
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "z_order", args, commit_properties, post_commithook_properties, _HOOKS_FIRST
        )
        if isinstance(columns, str):
            columns = [columns]
        names = _columns(columns)
        if not names:
            raise ValueError("z_order needs at least one column")
        return self._run(
            names,
            partition_filters,
            target_size,
            max_concurrent_tasks,
            min_commit_interval,
            writer_properties,
            commit_properties,
            post_commithook_properties,
        )

    def _run(
        self,
        z_order_columns: list[str] | None,
        partition_filters: Any,
        target_size: int | None,
        max_concurrent_tasks: int | None,
        min_commit_interval: Any,
        writer_properties: Any,
        commit_properties: Any,
        post_commithook_properties: Any,
    ) -> dict[str, Any]:
        if min_commit_interval is not None:
            raise NotSupportedError("optimize(min_commit_interval=...) is not supported yet")
        limits = (("target_size", target_size), ("max_concurrent_tasks", max_concurrent_tasks))
        for name, value in limits:
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value <= 0
            ):
                raise ValueError(f"{name} must be a positive int")
        _check_writer_properties(writer_properties)
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        metrics = self.table._table.optimize(
            z_order_columns,
            _dnf(partition_filters, partition_form=True),
            target_size,
            max_concurrent_tasks,
            writer_properties,
            _commit_settings(commit_properties, post_commithook_properties),
        )
        _post_commit(self.table._table, post_commithook_properties)
        return metrics


class TableAlterer:
    """Changes to a table's definition (``DeltaTable.alter``); each is a commit, and the table
    moves to it."""

    def __init__(self, table: DeltaTable) -> None:
        self.table = table

    def add_constraint(
        self,
        constraints: dict[str, str],
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Add CHECK constraints, ``{name: SQL predicate}``; every existing row and every
        row written later must satisfy them. Each constraint is committed on its own.

        Raises:
            DeltaError: a constraint of that name exists, the predicate is invalid, or rows
                violate it.
        """
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "add_constraint", args, commit_properties, post_commithook_properties, _HOOKS_FIRST
        )
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        if not isinstance(constraints, dict) or not constraints:
            raise ValueError("constraints must be a non-empty dict of names to SQL predicates")
        for name, expression in constraints.items():
            if not isinstance(name, str) or not isinstance(expression, str):
                raise TypeError("constraints must map names to SQL predicates (strings)")
        for name, expression in constraints.items():
            commit = _commit_settings(commit_properties, post_commithook_properties)
            self.table._table.add_constraint(name, expression, commit)
            _post_commit(self.table._table, post_commithook_properties)

    def drop_constraint(
        self,
        name: str,
        raise_if_not_exists: bool = True,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Drop the CHECK constraint ``name``.

        Raises:
            DeltaError: there is no such constraint and ``raise_if_not_exists`` is set.
        """
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "drop_constraint", args, commit_properties, post_commithook_properties, _HOOKS_FIRST
        )
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        commit = _commit_settings(commit_properties, post_commithook_properties)
        self.table._table.drop_constraint(name, not raise_if_not_exists, commit)
        _post_commit(self.table._table, post_commithook_properties)

    def add_columns(
        self,
        fields: Field | list[Field],
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
        custom_metadata: dict[str, str] | None = None,
    ) -> None:
        """Append (nullable) columns to the schema; existing rows read them as null.

        Raises:
            DeltaError: a column of that name exists, or a field is not nullable.
        """
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "add_columns", args, commit_properties, post_commithook_properties
        )
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        if isinstance(fields, Field):
            fields = [fields]
        if not fields or not all(isinstance(f, Field) for f in fields):
            raise TypeError("fields must be a deltalake.Field or a non-empty list of them")
        if custom_metadata is not None:
            commit_properties = CommitProperties(custom_metadata=custom_metadata)
        schema_json = json.dumps(
            {"type": "struct", "fields": [json.loads(f.to_json()) for f in fields]}
        )
        commit = _commit_settings(commit_properties, post_commithook_properties)
        self.table._table.add_columns(schema_json, commit)
        _post_commit(self.table._table, post_commithook_properties)

    def set_table_properties(
        self,
        properties: dict[str, str],
        raise_if_not_exists: bool = True,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Set table properties; ``delta.*`` values are checked and the features they need are
        added to the protocol.

        Args:
            properties: the properties to set.
            raise_if_not_exists: accepted for compatibility (unknown ``delta.*`` keys are
                checked by the core).
            commit_properties: retries and custom metadata of the commit.
        """
        del raise_if_not_exists
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "set_table_properties", args, commit_properties, post_commithook_properties
        )
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        if not isinstance(properties, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in properties.items()
        ):
            raise TypeError("properties must be a dict of strings to strings")
        commit = _commit_settings(commit_properties, post_commithook_properties)
        self.table._table.set_table_properties(properties, commit)
        _post_commit(self.table._table, post_commithook_properties)

    def add_feature(
        self,
        feature: TableFeatures | list[TableFeatures],
        allow_protocol_versions_increase: bool = False,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Add table features (:class:`TableFeatures` or their protocol names) to the protocol.

        Raises:
            DeltaError: the feature needs newer protocol versions than the table has and
                ``allow_protocol_versions_increase`` is not set, or it is unknown.
        """
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            "add_feature", args, commit_properties, post_commithook_properties
        )
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        features = feature if isinstance(feature, list) else [feature]
        names = [f.value if isinstance(f, TableFeatures) else f for f in features]
        if not names or not all(isinstance(n, str) for n in names):
            raise TypeError("feature must be a TableFeatures or a list of them")
        if not allow_protocol_versions_increase:
            reader, writer, _, _ = self.table._table.protocol()
            if reader < 3 or writer < 7:
                raise DeltaError(
                    "adding a table feature needs protocol versions (3, 7), the table has "
                    f"({reader}, {writer}): pass allow_protocol_versions_increase=True"
                )
        commit = _commit_settings(commit_properties, post_commithook_properties)
        self.table._table.add_features(names, commit)
        _post_commit(self.table._table, post_commithook_properties)

    def set_table_name(
        self,
        name: str,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Set the table's name (``metadata().name``)."""
        self._change("set_table_name", (name,), args, commit_properties, post_commithook_properties)

    def set_table_description(
        self,
        description: str,
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Set the table's description (``metadata().description``)."""
        self._change(
            "set_table_description", (description,), args, commit_properties, post_commithook_properties
        )

    def set_column_metadata(
        self,
        column: str,
        metadata: dict[str, str],
        *args: Any,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Add or replace entries of a column's metadata (``comment``, an application's keys);
        the other entries stay.

        Raises:
            DeltaInvalidArgumentError: no such column, or a ``delta.columnMapping.*`` key (the
                table's own).
        """
        if not isinstance(metadata, dict):
            raise TypeError("metadata must be a dict of str to str")
        entries = {str(k): str(v) for k, v in metadata.items()}
        self._change(
            "set_column_metadata", (column, entries), args, commit_properties, post_commithook_properties
        )

    def drop_column_not_null(
        self,
        column_name: str,
        commit_properties: CommitProperties | None = None,
        post_commithook_properties: PostCommitHookProperties | None = None,
    ) -> None:
        """Make a non-nullable column nullable (``ALTER COLUMN ... DROP NOT NULL``).

        Raises:
            DeltaInvalidArgumentError: no such column, or the column is nullable already.
        """
        self._change(
            "drop_column_not_null", (column_name,), (), commit_properties, post_commithook_properties
        )

    def _change(
        self,
        method: str,
        arguments: tuple[Any, ...],
        positional: tuple[Any, ...],
        commit_properties: CommitProperties | None,
        post_commithook_properties: PostCommitHookProperties | None,
    ) -> None:
        """Commit one change through the extension's ``method``, with the commit settings (the
        deprecated positional ones taken from ``positional``; a warning names the public
        method's caller)."""
        commit_properties, post_commithook_properties = deprecate_positional_commit_args(
            method, positional, commit_properties, post_commithook_properties, stacklevel=5
        )
        _check_commit_properties(commit_properties)
        _check_post_commithook_properties(post_commithook_properties)
        commit = _commit_settings(commit_properties, post_commithook_properties)
        getattr(self.table._table, method)(*arguments, commit)
        _post_commit(self.table._table, post_commithook_properties)

"""Writing data into Delta tables: :func:`write_deltalake`, :class:`WriterProperties`, and
:func:`convert_to_deltalake` for Parquet directories."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from deltalake import _internal
from deltalake._arrow import to_arrow_stream
from deltalake.exceptions import NotSupportedError
from deltalake.schema import Schema
from deltalake.table import DeltaTable, _check_commit_properties, _configuration, _table_uri
from deltalake.transaction import CommitProperties, PostCommitHookProperties

COMPRESSIONS = ("UNCOMPRESSED", "SNAPPY", "GZIP", "BROTLI", "LZ4", "LZ4_RAW", "ZSTD")
STATISTICS_LEVELS = ("NONE", "CHUNK", "PAGE")
ENCODINGS = (
    "PLAIN",
    "RLE",
    "DELTA_BINARY_PACKED",
    "DELTA_LENGTH_BYTE_ARRAY",
    "DELTA_BYTE_ARRAY",
    "BYTE_STREAM_SPLIT",
)


@dataclass
class BloomFilterProperties:
    """A Parquet bloom filter per row group of a column.

    ``fpp`` is the false-positive probability, strictly between 0 and 1; ``ndv`` the number of
    distinct values expected per row group.
    """

    set_bloom_filter_enabled: bool | None
    fpp: float | None = None
    ndv: int | None = None

    def __post_init__(self) -> None:
        if self.fpp is not None and not 0 < self.fpp < 1:
            raise ValueError("fpp must be between 0 and 1, exclusive")
        if self.ndv is not None and (not isinstance(self.ndv, int) or self.ndv < 0):
            raise ValueError("ndv must be a non-negative int")


@dataclass
class ColumnProperties:
    """Parquet settings of one column (or of every column, as ``default_column_properties``).

    ``statistics_enabled`` is NONE, CHUNK or PAGE (the default), for the statistics inside the
    file; the table's own statistics (data skipping) are kept either way. ``encoding`` applies to the
    values the dictionary does not hold: PLAIN, RLE, DELTA_BINARY_PACKED,
    DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY or BYTE_STREAM_SPLIT.
    """

    dictionary_enabled: bool | None = None
    statistics_enabled: Literal["NONE", "CHUNK", "PAGE"] | None = None
    bloom_filter_properties: BloomFilterProperties | None = None
    encoding: str | None = None

    def __post_init__(self) -> None:
        if self.statistics_enabled is not None and (
            not isinstance(self.statistics_enabled, str)
            or self.statistics_enabled.upper() not in STATISTICS_LEVELS
        ):
            raise ValueError(
                f"statistics_enabled must be one of {', '.join(STATISTICS_LEVELS)}, "
                f"not {self.statistics_enabled!r}"
            )
        if self.encoding is not None and (
            not isinstance(self.encoding, str) or self.encoding.upper() not in ENCODINGS
        ):
            raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {self.encoding!r}")
        if self.bloom_filter_properties is not None and not isinstance(
            self.bloom_filter_properties, BloomFilterProperties
        ):
            raise TypeError("bloom_filter_properties must be a deltalake.BloomFilterProperties")


@dataclass
class WriterProperties:
    """Parquet settings of the data files a write produces.

    ``compression`` is one of UNCOMPRESSED, SNAPPY (default), GZIP, BROTLI, LZ4, LZ4_RAW, ZSTD;
    ``compression_level`` applies to GZIP, BROTLI and ZSTD. ``default_column_properties``
    applies to every column that ``column_properties`` (keyed by column name, nested fields
    dotted) does not name.
    """

    data_page_size_limit: int | None = None
    dictionary_page_size_limit: int | None = None
    data_page_row_count_limit: int | None = None
    write_batch_size: int | None = None
    max_row_group_size: int | None = None
    compression: str | None = None
    compression_level: int | None = None
    statistics_truncate_length: int | None = None
    default_column_properties: ColumnProperties | None = None
    column_properties: dict[str, ColumnProperties] | None = None

    def __post_init__(self) -> None:
        if self.compression is not None and self.compression.upper() not in COMPRESSIONS:
            raise ValueError(
                f"compression must be one of {', '.join(COMPRESSIONS)}, not {self.compression!r}"
            )
        if self.default_column_properties is not None and not isinstance(
            self.default_column_properties, ColumnProperties
        ):
            raise TypeError("default_column_properties must be a deltalake.ColumnProperties")
        if self.column_properties is not None and (
            not isinstance(self.column_properties, dict)
            or not all(
                isinstance(k, str) and isinstance(v, ColumnProperties)
                for k, v in self.column_properties.items()
            )
        ):
            raise TypeError("column_properties must be a dict of column names to ColumnProperties")


def write_deltalake(
    table_or_uri: str | os.PathLike[str] | DeltaTable,
    data: Any,
    *,
    partition_by: list[str] | str | None = None,
    mode: Literal["error", "append", "overwrite", "ignore"] = "error",
    name: str | None = None,
    description: str | None = None,
    configuration: Mapping[str, str | None] | None = None,
    schema_mode: Literal["merge", "overwrite"] | None = None,
    storage_options: dict[str, str] | None = None,
    predicate: str | None = None,
    target_file_size: int | None = None,
    writer_properties: WriterProperties | None = None,
    commit_properties: CommitProperties | None = None,
    post_commithook_properties: PostCommitHookProperties | None = None,
) -> None:
    """Write Arrow data into a Delta table, creating it when absent.

    Args:
        table_or_uri: the table's location, or a loaded :class:`DeltaTable` (updated to the new
            version afterwards).
        data: a pyarrow Table, RecordBatch or RecordBatchReader, a pandas or polars DataFrame,
            or anything with ``__arrow_c_stream__``.
        partition_by: partition columns of a new table.
        mode: ``error`` (fail if the table exists), ``append``, ``overwrite`` or ``ignore``
            (do nothing if the table exists).
        name: name of a new table.
        description: description of a new table.
        configuration: table properties of a new table.
        schema_mode: ``merge`` adds new columns to the schema; ``overwrite`` (with
            ``mode='overwrite'``) replaces it. By default the data must fit the table's schema.
        storage_options: options of the storage backend.
        predicate: with ``mode='overwrite'``, replace only the rows matching this SQL predicate
            (every row of ``data`` must match it); other rows are kept.
        target_file_size: roll to a new data file at about this many bytes.
        writer_properties: Parquet settings.
        commit_properties: retries, custom metadata and application transactions.
        post_commithook_properties: accepted for compatibility.

    Raises:
        SchemaMismatchError: the data does not fit the table's schema.
        CommitFailedError: the commit conflicted with another writer or was already made.
        DeltaError: the table exists and ``mode='error'``, or another table error.
    """
    del post_commithook_properties
    if predicate is not None and not isinstance(predicate, str):
        raise TypeError("predicate must be a SQL string")
    if writer_properties is not None and not isinstance(writer_properties, WriterProperties):
        raise TypeError("writer_properties must be a deltalake.WriterProperties")
    _check_commit_properties(commit_properties)
    if target_file_size is not None and (
        not isinstance(target_file_size, int) or target_file_size <= 0
    ):
        raise ValueError("target_file_size must be a positive int")
    # A DeltaTable is written through its loaded snapshot (only newer commits are read) and moves
    # to the version written.
    if isinstance(table_or_uri, DeltaTable):
        target: _internal.RawDeltaTable | str = table_or_uri._table
    else:
        target = _table_uri(table_or_uri)
    _internal.write_to_deltalake(
        target,
        to_arrow_stream(data),
        mode,
        schema_mode,
        [partition_by] if isinstance(partition_by, str) else partition_by,
        target_file_size,
        storage_options,
        _configuration(configuration),
        name,
        description,
        writer_properties,
        commit_properties,
        predicate,
    )


def convert_to_deltalake(
    uri: str | os.PathLike[str],
    mode: Literal["error", "ignore"] = "error",
    partition_by: Any = None,
    partition_strategy: Literal["hive"] | None = None,
    name: str | None = None,
    description: str | None = None,
    configuration: Mapping[str, str | None] | None = None,
    storage_options: dict[str, str] | None = None,
    *,
    collect_stats: bool = True,
    commit_properties: CommitProperties | None = None,
    post_commithook_properties: PostCommitHookProperties | None = None,
) -> None:
    """Make a Delta table of the Parquet files under ``uri``, in place: the files stay where they
    are and version 0 of a new log adds them, with statistics from their footers.

    Args:
        uri: the directory of Parquet files.
        mode: ``error`` fails if a Delta table is already there, ``ignore`` then does nothing.
        partition_by: the partition columns with their types, outermost first: a pyarrow schema,
            a :class:`Schema`, or anything with ``__arrow_c_schema__``.
        partition_strategy: ``hive`` (``year=2020/month=1/part-0.parquet``); required with
            ``partition_by``. The ``directory`` strategy is not supported yet.
        name: the table name.
        description: the table description.
        configuration: table properties.
        storage_options: options of the storage backend.
        collect_stats: accepted for compatibility; statistics are always collected.
        commit_properties: retries and custom metadata of the commit.
        post_commithook_properties: accepted for compatibility.

    Raises:
        DeltaError: a table exists (``mode='error'``), there are no Parquet files, the files'
            schemas disagree, or a path does not fit the partition columns.
    """
    del collect_stats, post_commithook_properties
    if mode not in ("error", "ignore"):
        raise ValueError(f"mode must be 'error' or 'ignore', not {mode!r}")
    if partition_by is not None and partition_strategy is None:
        raise ValueError("partition_strategy is required with partition_by")
    if partition_strategy == "directory":
        raise NotSupportedError("partition_strategy='directory' is not supported yet")
    if partition_strategy not in (None, "hive"):
        raise ValueError(
            f"partition_strategy must be 'hive' or 'directory', not {partition_strategy!r}"
        )
    _check_commit_properties(commit_properties)
    location = _table_uri(uri)
    if mode == "ignore" and DeltaTable.is_deltatable(location, storage_options):
        return
    if isinstance(partition_by, Schema):
        partition_by = _internal.schema_to_arrow(partition_by.to_json())
    _internal.convert_to_deltalake(
        location,
        partition_by,
        name,
        description,
        _configuration(configuration),
        storage_options,
        commit_properties,
    )

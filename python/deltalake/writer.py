"""Writing data into Delta tables: :func:`write_deltalake` and :class:`WriterProperties`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from deltalake import _internal
from deltalake._arrow import to_arrow_stream
from deltalake.exceptions import NotSupportedError
from deltalake.table import DeltaTable, _configuration, _table_uri
from deltalake.transaction import CommitProperties, PostCommitHookProperties

COMPRESSIONS = ("UNCOMPRESSED", "SNAPPY", "GZIP", "BROTLI", "LZ4", "LZ4_RAW", "ZSTD")


@dataclass
class WriterProperties:
    """Parquet settings of the data files a write produces.

    ``compression`` is one of UNCOMPRESSED, SNAPPY (default), GZIP, BROTLI, LZ4, LZ4_RAW, ZSTD;
    ``compression_level`` applies to GZIP, BROTLI and ZSTD. Per-column properties are not
    supported yet.
    """

    data_page_size_limit: int | None = None
    dictionary_page_size_limit: int | None = None
    data_page_row_count_limit: int | None = None
    write_batch_size: int | None = None
    max_row_group_size: int | None = None
    compression: str | None = None
    compression_level: int | None = None
    statistics_truncate_length: int | None = None
    default_column_properties: Any = None
    column_properties: Any = None

    def __post_init__(self) -> None:
        if self.compression is not None and self.compression.upper() not in COMPRESSIONS:
            raise ValueError(
                f"compression must be one of {', '.join(COMPRESSIONS)}, not {self.compression!r}"
            )
        if self.default_column_properties is not None or self.column_properties is not None:
            raise NotSupportedError("column properties are not supported yet")


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
        predicate: not supported yet.
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
    if predicate is not None:
        raise NotSupportedError("write_deltalake(predicate=...) is not supported yet")
    if writer_properties is not None and not isinstance(writer_properties, WriterProperties):
        raise TypeError("writer_properties must be a deltalake.WriterProperties")
    if commit_properties is not None and not isinstance(commit_properties, CommitProperties):
        raise TypeError("commit_properties must be a deltalake.CommitProperties")
    if target_file_size is not None and (
        not isinstance(target_file_size, int) or target_file_size <= 0
    ):
        raise ValueError("target_file_size must be a positive int")
    table = table_or_uri if isinstance(table_or_uri, DeltaTable) else None
    if table is not None:
        uri = table.table_uri
        if storage_options is None:
            storage_options = table._storage_options
    else:
        uri = _table_uri(table_or_uri)
    _internal.write_to_deltalake(
        uri,
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
    )
    if table is not None:
        table.update_incremental()

"""Writing Arrow data into Delta tables: :func:`write_deltalake`."""

from __future__ import annotations

import os
from typing import Any, Literal, Mapping

from deltalake import _internal
from deltalake._arrow import to_arrow_stream
from deltalake.table import (
    DeltaTable,
    _check_commit_properties,
    _check_post_commithook_properties,
    _configuration,
    _table_uri,
)
from deltalake.transaction import CommitProperties, PostCommitHookProperties
from deltalake.writer._utils import try_get_table_and_table_uri
from deltalake.writer.properties import WriterProperties

__all__ = ["try_get_table_and_table_uri", "write_deltalake"]


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
        post_commithook_properties: the log cleanup after the commit
            (:class:`~deltalake.PostCommitHookProperties`).

    Raises:
        SchemaMismatchError: the data does not fit the table's schema.
        CommitFailedError: the commit conflicted with another writer or was already made.
        DeltaError: the table exists and ``mode='error'``, or another table error.
    """
    _check_post_commithook_properties(post_commithook_properties)
    hooks = post_commithook_properties or PostCommitHookProperties()
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
        hooks.create_checkpoint,
        hooks.cleanup_expired_logs,
    )

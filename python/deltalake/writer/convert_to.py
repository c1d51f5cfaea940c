"""Making a Delta table of a directory of Parquet files, in place: :func:`convert_to_deltalake`."""

from __future__ import annotations

import os
from typing import Any, Literal, Mapping

from deltalake import _internal
from deltalake._util import deprecate_positional_commit_args
from deltalake.exceptions import NotSupportedError
from deltalake.table import DeltaTable, _check_commit_properties, _configuration, _table_uri
from deltalake.transaction import CommitProperties, PostCommitHookProperties


def convert_to_deltalake(
    uri: str | os.PathLike[str],
    mode: Literal["error", "ignore"] = "error",
    partition_by: Any = None,
    partition_strategy: Literal["hive"] | None = None,
    name: str | None = None,
    description: str | None = None,
    configuration: Mapping[str, str | None] | None = None,
    storage_options: dict[str, str] | None = None,
    *args: Any,
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
    commit_properties, post_commithook_properties = deprecate_positional_commit_args(
        "convert_to_deltalake", args, commit_properties, post_commithook_properties
    )
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
    _internal.convert_to_deltalake(
        location,
        partition_by,
        name,
        description,
        _configuration(configuration),
        storage_options,
        commit_properties,
    )

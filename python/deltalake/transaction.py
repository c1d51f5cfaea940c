"""Settings of a commit (retries, custom metadata, application transactions, post-commit hooks)
and :func:`create_table_with_add_actions`, which commits data files written elsewhere."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Mapping

from deltalake import _internal

if TYPE_CHECKING:
    from deltalake.schema import Schema


@dataclass
class AddAction:
    """A data file written outside deltalake, as the ``add`` action committing it describes it.

    Attributes:
        path: the path relative to the table root (as the log records it), or an absolute URI.
        size: the size in bytes.
        partition_values: partition column to its value in the protocol's string form
            (``None`` for null).
        modification_time: the creation time in milliseconds since the epoch.
        data_change: whether the file brings new rows.
        stats: the column statistics as the protocol's JSON (``numRecords``, ``minValues``,
            ``maxValues``, ``nullCount``).
    """

    path: str
    size: int
    partition_values: Mapping[str, str | None]
    modification_time: int
    data_change: bool
    stats: str


@dataclass
class Transaction:
    """The version of an application's transaction, recorded with a commit.

    A later write carrying the same ``app_id`` with a version not newer than the recorded one
    fails with :class:`~deltalake.exceptions.CommitFailedError`, which makes writes idempotent.
    """

    app_id: str
    version: int
    last_updated: int | None = None


@dataclass
class RemoveAction:
    """An active file of the table to remove in :meth:`DeltaTable.create_write_transaction`
    (``mode="append"``); the ``remove`` action written keeps the file's own metadata.

    Attributes:
        path: the path as the log records it.
        data_change: whether removing it changes the table's data (``False`` when its rows live
            on in files added by the same commit).
        deletion_timestamp: the removal time in milliseconds since the epoch (informational;
            the commit stamps its own time).
        size: the size in bytes (informational).
        partition_values: the partition values (informational).
    """

    path: str
    data_change: bool
    deletion_timestamp: int
    size: int | None = None
    partition_values: Mapping[str, str | None] | None = None


class CommitProperties:
    """How a commit is made.

    Args:
        custom_metadata: fields added to the commit's ``commitInfo`` (the key ``userMetadata``
            becomes its ``userMetadata``). Keys must be strings and values JSON-serialisable
            (NaN and infinities are refused); ``userId``, ``userName`` and ``userMetadata``
            must be strings. The fields the commit writes (``timestamp``, ``operation``,
            ``engineInfo``, ``operationParameters``, ``readVersion``, ``isolationLevel``,
            ``isBlindAppend``) cannot be set. Checked when the commit is made
            (:class:`ValueError`, or :class:`~deltalake.exceptions.NotSupportedError` for a
            well-formed value of a field the commit writes).
        max_commit_retries: how many times to retry after concurrent commits (default 15).
        app_transactions: application transaction versions to record with the commit.
    """

    def __init__(
        self,
        custom_metadata: dict[str, Any] | None = None,
        max_commit_retries: int | None = None,
        app_transactions: list[Transaction] | None = None,
    ) -> None:
        if max_commit_retries is not None and (
            not isinstance(max_commit_retries, int) or max_commit_retries < 0
        ):
            raise ValueError("max_commit_retries must be a non-negative int")
        for txn in app_transactions or []:
            if not isinstance(txn, Transaction):
                raise TypeError("app_transactions must be a list of deltalake.Transaction")
        self.custom_metadata = custom_metadata
        self.max_commit_retries = max_commit_retries
        self.app_transactions = app_transactions

    @property
    def custom_metadata_json(self) -> str | None:
        """The custom metadata as a JSON object (read by the extension module).

        Raises:
            ValueError: it is not a mapping, a key is not a string, or a value is not JSON.
        """
        metadata = self.custom_metadata
        if metadata is None:
            return None
        if not isinstance(metadata, Mapping):
            raise ValueError("CommitProperties.custom_metadata must be a mapping")
        for key, value in metadata.items():
            if not isinstance(key, str):
                raise ValueError("CommitProperties.custom_metadata keys must be strings")
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as e:
                raise ValueError(
                    f"CommitProperties.custom_metadata value for {key!r} must be "
                    f"JSON-serializable: {type(e).__name__}: {e}"
                ) from None
        return json.dumps(dict(metadata), allow_nan=False)

    @property
    def app_transaction_versions(self) -> list[tuple[str, int]]:
        """``(app_id, version)`` of each application transaction (read by the extension module)."""
        return [(t.app_id, t.version) for t in self.app_transactions or []]

    def __repr__(self) -> str:
        return (
            f"CommitProperties(custom_metadata={self.custom_metadata!r}, "
            f"max_commit_retries={self.max_commit_retries!r}, "
            f"app_transactions={self.app_transactions!r})"
        )


class PostCommitHookProperties:
    """What runs after a commit.

    Args:
        create_checkpoint: checkpoint the versions that are a multiple of
            ``delta.checkpointInterval`` (``False``: no checkpoint, and so no log cleanup).
        cleanup_expired_logs: after a checkpoint, delete the log files older than
            ``delta.logRetentionDuration`` that no retained version needs; ``None`` follows the
            table's ``delta.enableExpiredLogCleanup`` (on by default).
    """

    def __init__(
        self, create_checkpoint: bool = True, cleanup_expired_logs: bool | None = None
    ) -> None:
        if not isinstance(create_checkpoint, bool):
            raise TypeError("create_checkpoint must be a bool")
        if cleanup_expired_logs is not None and not isinstance(cleanup_expired_logs, bool):
            raise TypeError("cleanup_expired_logs must be a bool or None")
        self.create_checkpoint = create_checkpoint
        self.cleanup_expired_logs = cleanup_expired_logs

    def __repr__(self) -> str:
        return (
            f"PostCommitHookProperties(create_checkpoint={self.create_checkpoint!r}, "
            f"cleanup_expired_logs={self.cleanup_expired_logs!r})"
        )


def create_table_with_add_actions(
    table_uri: str | os.PathLike[str],
    schema: Schema | Any,
    add_actions: list[AddAction],
    mode: Literal["error", "append", "overwrite", "ignore"] = "error",
    partition_by: list[str] | str | None = None,
    name: str | None = None,
    description: str | None = None,
    configuration: Mapping[str, str | None] | None = None,
    storage_options: dict[str, str] | None = None,
    *args: Any,
    commit_properties: CommitProperties | None = None,
    post_commithook_properties: PostCommitHookProperties | None = None,
) -> None:
    """Create a table whose first version adds data files already written (by another Parquet
    writer) under its location; the files are taken as they are, with the statistics given.

    Args:
        table_uri: the table's location.
        schema: the table's schema (a :class:`~deltalake.Schema` or an Arrow schema).
        add_actions: the files to add.
        mode: ``error`` fails if a table exists, ``ignore`` then does nothing, ``overwrite``
            replaces its definition and files in a new version (``CREATE OR REPLACE TABLE``).
            ``append`` is not allowed, as in the reference package.
        partition_by: the partition columns.
        name: the table's name.
        description: the table's description.
        configuration: table properties.
        storage_options: options of the storage backend.
        commit_properties: retries and custom metadata of the commit.
        post_commithook_properties: checkpoint and log cleanup after the commit.

    Raises:
        DeltaError: a table exists (``mode='error'``) or ``mode='append'``.
        ValueError: an add action without a path, with a negative size, statistics that are
            not JSON, or no value for a partition column.
    """
    from deltalake._util import deprecate_positional_commit_args
    from deltalake.table import _check_commit_properties, _configuration, _table_uri

    commit_properties, post_commithook_properties = deprecate_positional_commit_args(
        "create_table_with_add_actions", args, commit_properties, post_commithook_properties
    )
    _check_commit_properties(commit_properties)
    del post_commithook_properties
    if mode == "append":
        raise _internal.DeltaError("SaveMode `append` is not allowed for create operation.")
    if not isinstance(add_actions, list) or not all(isinstance(a, AddAction) for a in add_actions):
        raise TypeError("add_actions must be a list of deltalake.transaction.AddAction")
    _internal.create_table_with_add_actions(
        _table_uri(table_uri),
        schema,
        add_actions,
        mode,
        [partition_by] if isinstance(partition_by, str) else partition_by,
        name,
        description,
        _configuration(configuration),
        storage_options,
        commit_properties,
    )

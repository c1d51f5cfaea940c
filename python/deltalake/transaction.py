"""Settings of a commit: retries, custom metadata and application transactions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Transaction:
    """The version of an application's transaction, recorded with a commit.

    A later write carrying the same ``app_id`` with a version not newer than the recorded one
    fails with :class:`~deltalake.exceptions.CommitFailedError`, which makes writes idempotent.
    """

    app_id: str
    version: int
    last_updated: int | None = None


class CommitProperties:
    """How a commit is made.

    Args:
        custom_metadata: fields added to the commit's ``commitInfo`` (the key ``userMetadata``
            becomes its ``userMetadata``). Values must be JSON-serialisable.
        max_commit_retries: how many times to retry after concurrent commits (default 15).
        app_transactions: application transaction versions to record with the commit.
    """

    def __init__(
        self,
        custom_metadata: dict[str, Any] | None = None,
        max_commit_retries: int | None = None,
        app_transactions: list[Transaction] | None = None,
    ) -> None:
        if custom_metadata is not None and not isinstance(custom_metadata, dict):
            raise TypeError("custom_metadata must be a dict")
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
        """The custom metadata as a JSON object (read by the extension module)."""
        if self.custom_metadata is None:
            return None
        return json.dumps(self.custom_metadata, default=str)

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


@dataclass
class PostCommitHookProperties:
    """Accepted for compatibility; checkpoints and log cleanup after commits are not run yet."""

    create_checkpoint: bool = True
    cleanup_expired_logs: bool | None = None

"""The exceptions raised by deltalake.

Every error coming from the table format derives from :class:`DeltaError`; wrong argument types
raise :class:`TypeError` and bad argument values :class:`ValueError`.
"""

from deltalake._internal import (
    CommitFailedError,
    DeltaError,
    DeltaProtocolError,
    SchemaMismatchError,
    TableNotFoundError,
)

__all__ = [
    "CommitFailedError",
    "DeltaError",
    "DeltaProtocolError",
    "SchemaMismatchError",
    "TableNotFoundError",
]


class NotSupportedError(DeltaError, NotImplementedError):
    """An argument or operation that this implementation does not support yet."""

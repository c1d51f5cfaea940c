"""The exceptions raised by deltalake.

Every error coming from the table format derives from :class:`DeltaError`; wrong argument types
raise :class:`TypeError` and bad argument values :class:`ValueError` (checked by the core, they
raise :class:`DeltaInvalidArgumentError`, both a :class:`DeltaError` and a :class:`ValueError`).
Unsupported requests raise :class:`NotSupportedError`, also a :class:`NotImplementedError`, and a
missing file (a data file listed in the log, as the reference's pyarrow read reports it)
:class:`DeltaFileNotFoundError`, also a :class:`FileNotFoundError`.
"""

from deltalake._internal import (
    CommitFailedError,
    DeltaError,
    DeltaFileNotFoundError,
    DeltaInvalidArgumentError,
    DeltaProtocolError,
    NotSupportedError,
    SchemaMismatchError,
    TableNotFoundError,
)

__all__ = [
    "CommitFailedError",
    "DeltaError",
    "DeltaFileNotFoundError",
    "DeltaInvalidArgumentError",
    "DeltaProtocolError",
    "NotSupportedError",
    "SchemaMismatchError",
    "TableNotFoundError",
]


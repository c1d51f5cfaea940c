"""The table's storage as a pyarrow file system: :class:`DeltaStorageHandler`."""

from deltalake.fs.fs_handler import DeltaStorageHandler

__all__ = ["DeltaStorageHandler"]

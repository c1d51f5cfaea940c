"""``DeltaStorageHandler``: a ``pyarrow.fs.FileSystemHandler`` over a table location's object
store (local, S3, Azure, GCS) with paths relative to the table root, for
``pyarrow.fs.PyFileSystem(DeltaStorageHandler(uri, options))``."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Mapping

from deltalake._arrow import require_pyarrow
from deltalake._internal import DeltaFileSystemHandler

if TYPE_CHECKING:
    import pyarrow as pa
    from pyarrow.fs import FileInfo, FileSelector

try:
    from pyarrow.fs import FileSystemHandler
except ImportError:  # pyarrow is optional: the class then refuses to be made.
    FileSystemHandler = object  # type: ignore[assignment,misc]


class _ObjectInputFile(io.RawIOBase):
    """A file of the store read by ranges, as pyarrow's random-access reads ask for them."""

    def __init__(self, handler: DeltaFileSystemHandler, path: str) -> None:
        super().__init__()
        self._handler = handler
        self._path = path
        self._size = handler.size(path)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        return self._size

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"cannot seek to {base + offset}, before the start of the file")
        self._position = base + offset
        return self._position

    def read(self, size: int = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        end = self._size if size is None or size < 0 else min(self._size, self._position + size)
        if end <= self._position:
            return b""
        data = self._handler.read_range(self._path, self._position, end)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _ObjectOutputStream(io.RawIOBase):
    """A file of the store written in one piece when closed (the whole content is buffered)."""

    def __init__(self, handler: DeltaFileSystemHandler, path: str) -> None:
        super().__init__()
        self._handler = handler
        self._path = path
        self._buffer = io.BytesIO()

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._buffer.tell()

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self._buffer.write(bytes(memoryview(data)))

    def close(self) -> None:
        if not self.closed:
            self._handler.write(self._path, self._buffer.getvalue())
        super().close()


class DeltaStorageHandler(FileSystemHandler):  # type: ignore[misc,valid-type]
    """A ``pyarrow.fs.FileSystemHandler`` over the object store of a table location, with the
    table's backend options; paths are relative to the table root.

    Args:
        table_uri: the location (a table need not exist there yet).
        options: options of the storage backend, as ``storage_options`` elsewhere.
        known_sizes: file sizes by relative path, which spare a request when a file is opened.

    Raises:
        ImportError: pyarrow is not installed.
    """

    def __init__(
        self,
        table_uri: str,
        options: dict[str, str] | None = None,
        known_sizes: dict[str, int] | None = None,
    ) -> None:
        require_pyarrow("DeltaStorageHandler")
        self._handler = DeltaFileSystemHandler(str(table_uri), options, known_sizes)

    @classmethod
    def from_table(
        cls,
        table: Any,
        options: dict[str, str] | None = None,
        known_sizes: dict[str, int] | None = None,
    ) -> DeltaStorageHandler:
        """The handler of a loaded table's location (a ``DeltaTable`` or its ``_table``)."""
        require_pyarrow("DeltaStorageHandler")
        raw = getattr(table, "_table", table)
        self = cls.__new__(cls)
        self._handler = DeltaFileSystemHandler.from_table(raw, options, known_sizes)
        return self

    def __eq__(self, other: object) -> bool:
        return self.equals(other)

    def __ne__(self, other: object) -> bool:
        return not self.equals(other)

    def __hash__(self) -> int:
        return hash(self._handler.table_uri())

    def get_type_name(self) -> str:
        return "object-store"

    def equals(self, other: Any) -> bool:
        """Whether ``other`` is a handler of the same location."""
        return (
            isinstance(other, DeltaStorageHandler)
            and other._handler.table_uri() == self._handler.table_uri()
        )

    def normalize_path(self, path: str) -> str:
        return self._handler.normalize_path(path)

    def get_file_info(self, paths: list[str]) -> list[FileInfo]:
        """What each path names (a missing one is ``FileType.NotFound``)."""
        return [_file_info(entry) for entry in self._handler.get_file_info(list(paths))]

    def get_file_info_selector(self, selector: FileSelector) -> list[FileInfo]:
        """The entries under ``selector.base_dir`` (all levels when ``recursive``).

        Raises:
            FileNotFoundError: the directory does not exist and ``allow_not_found`` is not set.
        """
        entries = self._handler.get_file_info_selector(
            selector.base_dir, selector.allow_not_found, selector.recursive
        )
        return [_file_info(entry) for entry in entries]

    def create_dir(self, path: str, recursive: bool = True) -> None:
        """Directories exist through the files under them: nothing to do."""
        self._handler.normalize_path(path)

    def delete_dir(self, path: str) -> None:
        """Delete a directory and everything under it (directories exist only through their
        files, so an empty or missing one is no error)."""
        self._handler.delete_dir_contents(path, False, True)

    def delete_dir_contents(
        self, path: str, accept_root_dir: bool = False, missing_dir_ok: bool = False
    ) -> None:
        """Delete everything under a directory."""
        self._handler.delete_dir_contents(path, accept_root_dir, missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        """Delete everything under the root."""
        self._handler.delete_dir_contents("", True, True)

    def delete_file(self, path: str) -> None:
        self._handler.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        self._handler.move_file(src, dest)

    def copy_file(self, src: str, dest: str) -> None:
        self._handler.copy_file(src, dest)

    def open_input_stream(self, path: str) -> pa.PythonFile:
        pa = require_pyarrow("DeltaStorageHandler")
        return pa.PythonFile(_ObjectInputFile(self._handler, path), mode="r")

    def open_input_file(self, path: str) -> pa.PythonFile:
        pa = require_pyarrow("DeltaStorageHandler")
        return pa.PythonFile(_ObjectInputFile(self._handler, path), mode="r")

    def open_output_stream(
        self, path: str, metadata: Mapping[str, str] | None = None
    ) -> pa.PythonFile:
        """A stream writing the file ``path`` (replacing it) when closed."""
        pa = require_pyarrow("DeltaStorageHandler")
        return pa.PythonFile(_ObjectOutputStream(self._handler, path), mode="w")

    def open_append_stream(self, path: str, metadata: Mapping[str, str] | None = None) -> None:
        raise NotImplementedError("object stores cannot append to a file")


def _file_info(entry: tuple[str, int, int | None, int | None]) -> FileInfo:
    from pyarrow.fs import FileInfo, FileType

    path, kind, size, mtime_ns = entry
    return FileInfo(path, type=FileType(kind), size=size, mtime_ns=mtime_ns)

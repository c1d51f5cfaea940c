"""deltalake.fs.DeltaStorageHandler: the table's storage as a pyarrow file system."""

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from deltalake import DeltaTable, write_deltalake
from deltalake.fs import DeltaStorageHandler


@pytest.fixture()
def table(tmp_path: Path) -> Path:
    write_deltalake(tmp_path, pa.table({"a": [1, 2, 3], "p": ["x", "y", "y"]}), partition_by=["p"])
    return tmp_path


def test_reads_the_table_files_through_pyarrow(table: Path) -> None:
    dt = DeltaTable(table)
    fs = pafs.PyFileSystem(DeltaStorageHandler(str(table)))
    files = dt.files()
    read = ds.dataset(files, filesystem=fs, format="parquet").to_table()
    assert sorted(read.column("a").to_pylist()) == [1, 2, 3]
    sizes = dt.get_add_file_sizes() if hasattr(dt, "get_add_file_sizes") else {}
    with fs.open_input_file(files[0]) as f:
        assert f.read(4) == b"PAR1"
        f.seek(-4, 2)
        assert f.read() == b"PAR1"
        if sizes:
            assert f.size() == sizes[files[0]]
    assert pq.read_metadata(files[0], filesystem=fs).num_rows >= 1


def test_file_info_and_listing(table: Path) -> None:
    fs = pafs.PyFileSystem(DeltaStorageHandler(str(table)))
    log, commit, missing = fs.get_file_info(
        ["_delta_log", "_delta_log/00000000000000000000.json", "missing"]
    )
    assert log.type == pafs.FileType.Directory
    assert commit.type == pafs.FileType.File and commit.size > 0 and commit.mtime is not None
    assert missing.type == pafs.FileType.NotFound
    everything = fs.get_file_info(pafs.FileSelector("", recursive=True))
    kinds = {i.path: i.type for i in everything}
    assert kinds["p=x"] == pafs.FileType.Directory
    assert kinds["_delta_log/00000000000000000000.json"] == pafs.FileType.File
    top = [i.path for i in fs.get_file_info(pafs.FileSelector("", recursive=False))]
    assert top == ["_delta_log", "p=x", "p=y"]
    with pytest.raises(FileNotFoundError):
        fs.get_file_info(pafs.FileSelector("nope"))
    assert fs.get_file_info(pafs.FileSelector("nope", allow_not_found=True)) == []


def test_writes_copies_moves_and_deletes(table: Path) -> None:
    handler = DeltaStorageHandler(str(table))
    fs = pafs.PyFileSystem(handler)
    with fs.open_output_stream("extra/dir/file.bin") as out:
        out.write(b"hello ")
        out.write(b"world")
    with fs.open_input_stream("extra/dir/file.bin") as f:
        assert f.read() == b"hello world"
    assert (table / "extra" / "dir" / "file.bin").read_bytes() == b"hello world"
    fs.copy_file("extra/dir/file.bin", "extra/copy.bin")
    fs.move("extra/copy.bin", "extra/moved.bin")
    names = [i.path for i in fs.get_file_info(pafs.FileSelector("extra", recursive=True))]
    assert names == ["extra/dir", "extra/dir/file.bin", "extra/moved.bin"]
    fs.delete_file("extra/moved.bin")
    with pytest.raises(FileNotFoundError):
        fs.delete_file("extra/moved.bin")
    with pytest.raises(FileNotFoundError):
        fs.open_input_file("extra/moved.bin")
    fs.delete_dir("extra")
    assert fs.get_file_info(["extra"])[0].type == pafs.FileType.NotFound
    with pytest.raises(ValueError):
        handler.delete_dir_contents("")
    # The table is untouched.
    assert DeltaTable(table).to_pyarrow_table().num_rows == 3


def test_handler_of_a_loaded_table_and_equality(table: Path) -> None:
    dt = DeltaTable(table)
    from_table = DeltaStorageHandler.from_table(dt)
    assert from_table.equals(DeltaStorageHandler(str(table)))
    assert not from_table.equals(DeltaStorageHandler(str(table / "p=x")))
    assert from_table.get_type_name() == "object-store"
    assert from_table.normalize_path("/a//b/") == "a/b"
    fs = pafs.PyFileSystem(from_table)
    assert fs.get_file_info(["p=y"])[0].type == pafs.FileType.Directory

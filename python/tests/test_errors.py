"""Bad input: wrong types, missing tables, bad values and the exception hierarchy."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import deltalake
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import (
    CommitFailedError,
    DeltaError,
    DeltaProtocolError,
    SchemaMismatchError,
    TableNotFoundError,
)


def test_exception_hierarchy() -> None:
    for exc in (CommitFailedError, DeltaProtocolError, SchemaMismatchError, TableNotFoundError):
        assert issubclass(exc, DeltaError)
    assert issubclass(DeltaError, Exception)


def test_missing_table(tmp_path: Path) -> None:
    with pytest.raises(TableNotFoundError):
        DeltaTable(tmp_path / "missing")
    with pytest.raises(TableNotFoundError):
        DeltaTable(tmp_path)


def test_missing_version(tables: Path) -> None:
    with pytest.raises(DeltaError, match="99"):
        DeltaTable(tables / "simple_table", version=99)
    dt = DeltaTable(tables / "simple_table")
    with pytest.raises(DeltaError):
        dt.load_as_version(99)
    assert dt.version() == 4


def test_wrong_argument_types(tables: Path, tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        DeltaTable(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DeltaTable(tables / "simple_table", version="1")  # type: ignore[arg-type]
    dt = DeltaTable(tables / "simple_table")
    with pytest.raises(TypeError):
        dt.load_as_version(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        dt.load_as_version("yesterday")
    with pytest.raises(TypeError):
        dt.to_pyarrow_table(columns="id")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Arrow data"):
        write_deltalake(tmp_path, 5)
    with pytest.raises(TypeError, match="Arrow data"):
        write_deltalake(tmp_path, {"id": [1]})
    with pytest.raises(TypeError):
        write_deltalake(tmp_path, pa.table({"a": [1]}), writer_properties={"compression": "zstd"})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        write_deltalake(tmp_path, pa.table({"a": [1]}), target_file_size=0)
    with pytest.raises(ValueError, match="schema_mode"):
        write_deltalake(tmp_path, pa.table({"a": [1]}), schema_mode="loose")  # type: ignore[arg-type]


def test_unsupported_arguments_are_refused(tmp_path: Path) -> None:
    write_deltalake(tmp_path, pa.table({"a": [1]}))
    with pytest.raises(NotImplementedError):
        DeltaTable(tmp_path).vacuum(keep_versions=[0])


def test_replace_where_without_overwrite_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(DeltaError, match="overwrite"):
        write_deltalake(tmp_path, pa.table({"a": [1]}), predicate="a = 1")
    assert not DeltaTable.is_deltatable(tmp_path)


def test_bad_create_input(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="schema"):
        DeltaTable.create(tmp_path, {"a": "long"})
    with pytest.raises(DeltaError, match="partition column"):
        DeltaTable.create(tmp_path, pa.schema([("a", pa.int64())]), partition_by="b")


def test_invalid_log_is_a_protocol_error(tmp_path: Path) -> None:
    log = tmp_path / "_delta_log"
    log.mkdir()
    (log / "00000000000000000000.json").write_text("{not json\n")
    with pytest.raises(DeltaProtocolError):
        DeltaTable(tmp_path)


def test_no_rust_backtrace_in_messages(tmp_path: Path) -> None:
    with pytest.raises(TableNotFoundError) as info:
        DeltaTable(tmp_path)
    message = str(info.value)
    assert "panicked at" not in message and "RUST_BACKTRACE" not in message


def test_version_is_exposed() -> None:
    assert isinstance(deltalake.__version__, str)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"x": object()}, "value for 'x' must be JSON-serializable"),
        ({"x": float("nan")}, "value for 'x' must be JSON-serializable"),
        ({1: "a"}, "keys must be strings"),
        ("not a dict", "must be a mapping"),
        ({"timestamp": 1}, "key 'timestamp' is generated"),
        ({"engineInfo": "me"}, "key 'engineInfo' is generated"),
        ({"operationParameters": "s"}, r"\['operationParameters'\] must be a JSON object"),
        ({"readVersion": 1.0}, r"\['readVersion'\] must be a non-negative integer"),
        ({"isolationLevel": "Loose"}, r"\['isolationLevel'\] must be a valid IsolationLevel"),
        ({"isBlindAppend": "yes"}, r"\['isBlindAppend'\] must be a boolean"),
        ({"userId": 7}, r"\['userId'\] must be a string"),
        ({"userMetadata": 5}, r"\['userMetadata'\] must be a string"),
    ],
)
def test_invalid_custom_metadata_is_a_value_error(tmp_path: Path, metadata: object, message: str) -> None:
    write_deltalake(tmp_path, pa.table({"a": [1]}))
    properties = deltalake.CommitProperties(custom_metadata=metadata)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CommitProperties.custom_metadata" + ".*" + message):
        write_deltalake(tmp_path, pa.table({"a": [2]}), mode="append", commit_properties=properties)
    with pytest.raises(ValueError, match=message):
        DeltaTable(tmp_path).delete("a = 1", commit_properties=properties)
    # Nothing was committed, and the table stays readable.
    dt = DeltaTable(tmp_path)
    assert dt.version() == 0
    assert dt.to_pyarrow_table().num_rows == 1


def test_custom_metadata_cannot_replace_what_the_commit_writes(tmp_path: Path) -> None:
    write_deltalake(tmp_path, pa.table({"a": [1]}))
    for metadata in ({"readVersion": 0}, {"operationParameters": {"a": 1}}, {"isBlindAppend": True}):
        properties = deltalake.CommitProperties(custom_metadata=metadata)
        with pytest.raises(deltalake.exceptions.NotSupportedError, match="commit writes its own"):
            write_deltalake(tmp_path, pa.table({"a": [2]}), mode="append", commit_properties=properties)
    fine = deltalake.CommitProperties(
        custom_metadata={"userName": "ann", "clientVersion": "c1", "nested": {"a": [1, None]}}
    )
    write_deltalake(tmp_path, pa.table({"a": [2]}), mode="append", commit_properties=fine)
    last = DeltaTable(tmp_path).history(1)[0]
    assert (last["userName"], last["clientVersion"], last["nested"]) == ("ann", "c1", {"a": [1, None]})


def test_sizes_must_be_positive() -> None:
    for name in ("max_row_group_size", "data_page_size_limit", "write_batch_size"):
        with pytest.raises(ValueError, match=f"{name} must be a positive int"):
            deltalake.WriterProperties(**{name: 0})

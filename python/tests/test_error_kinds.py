"""Errors are raised by the kind the core gives them: invalid arguments are also ValueErrors,
unsupported requests also NotImplementedErrors, missing versions TableNotFoundErrors; and a write
into a loaded table reuses it and moves it to the version written."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import (
    DeltaError,
    DeltaFileNotFoundError,
    DeltaInvalidArgumentError,
    NotSupportedError,
    TableNotFoundError,
)


@pytest.fixture
def table(tmp_path: Path, sample: pa.Table) -> DeltaTable:
    write_deltalake(tmp_path, sample, partition_by=["day"])
    return DeltaTable(tmp_path)


def test_invalid_arguments_are_value_errors_and_delta_errors(table: DeltaTable) -> None:
    assert issubclass(DeltaInvalidArgumentError, ValueError)
    assert issubclass(DeltaInvalidArgumentError, DeltaError)
    with pytest.raises(ValueError, match="nope"):
        table.delete("nope > 1")
    with pytest.raises(ValueError):
        table.update(updates={"id": "id +"})
    with pytest.raises(ValueError, match="mode"):
        write_deltalake(table, pa.table({"id": [1]}), mode="upsert")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retention"):
        table.vacuum(retention_hours=0, dry_run=True)
    assert table.version() == 0


def test_unsupported_requests_are_not_implemented_errors(tmp_path: Path, sample: pa.Table) -> None:
    assert issubclass(NotSupportedError, NotImplementedError)
    with pytest.raises(NotImplementedError, match="overwrite"):
        DeltaTable.create(tmp_path, sample.schema, mode="overwrite")


def test_missing_versions_are_not_found(table: DeltaTable) -> None:
    with pytest.raises(TableNotFoundError, match="version 5"):
        DeltaTable(table.table_uri, version=5)


def test_missing_data_files_name_their_absolute_path(table: DeltaTable) -> None:
    path = table.file_uris()[0]
    Path(path).unlink()
    with pytest.raises(DeltaError, match="does not exist") as info:
        table.to_pyarrow_table()
    assert path in str(info.value)
    # As the reference's read reports it, and still a DeltaError.
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, DeltaFileNotFoundError)


def test_write_moves_the_loaded_table_to_the_version_written(
    table: DeltaTable, sample: pa.Table
) -> None:
    write_deltalake(table, sample, mode="append")
    assert table.version() == 1
    assert table.to_pyarrow_table().num_rows == 2 * sample.num_rows
    # Another writer commits; the next write through the old object still lands after it.
    write_deltalake(table.table_uri, sample, mode="append")
    write_deltalake(table, sample, mode="append")
    assert table.version() == 3
    assert DeltaTable(table.table_uri).to_pyarrow_table().num_rows == 4 * sample.num_rows

"""DeltaTable.alter: constraints, columns, properties, features, name and description."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from deltalake import (
    CommitProperties,
    DeltaTable,
    Field,
    PrimitiveType,
    TableFeatures,
    write_deltalake,
)
from deltalake.exceptions import DeltaError


@pytest.fixture
def table(tmp_path: Path, sample: pa.Table) -> DeltaTable:
    write_deltalake(tmp_path, sample)
    return DeltaTable(tmp_path)


def test_add_constraint_is_enforced_on_writes(table: DeltaTable) -> None:
    table.alter.add_constraint(
        {"id_positive": "id > 0"}, commit_properties=CommitProperties(custom_metadata={"k": "v"})
    )
    assert table.version() == 1
    assert table.metadata().configuration["delta.constraints.id_positive"] == "id > 0"
    latest = table.history(1)[0]
    assert latest["operation"] == "ADD CONSTRAINT" and latest["k"] == "v"
    bad = pa.table({"id": [-1], "name": ["x"], "day": ["2024-01-03"]})
    with pytest.raises(DeltaError, match="id_positive"):
        write_deltalake(table, bad, mode="append")
    assert table.version() == 1
    good = pa.table({"id": [5], "name": ["x"], "day": ["2024-01-03"]})
    write_deltalake(table, good, mode="append")
    assert table.to_pyarrow_table().num_rows == 5


def test_add_constraint_errors(table: DeltaTable) -> None:
    with pytest.raises(DeltaError):
        table.alter.add_constraint({"too_big": "id < 3"})  # existing rows violate it
    with pytest.raises(DeltaError):
        table.alter.add_constraint({"unknown": "nope > 0"})
    table.alter.add_constraint({"c": "id > 0"})
    with pytest.raises(DeltaError):
        table.alter.add_constraint({"c": "id > 1"})
    with pytest.raises(ValueError):
        table.alter.add_constraint({})
    with pytest.raises(TypeError):
        table.alter.add_constraint({"c2": 1})  # type: ignore[dict-item]
    assert table.version() == 1


def test_add_several_constraints(table: DeltaTable) -> None:
    table.alter.add_constraint({"a": "id > 0", "b": "id < 100"})
    configuration = table.metadata().configuration
    assert configuration["delta.constraints.a"] == "id > 0"
    assert configuration["delta.constraints.b"] == "id < 100"


def test_drop_constraint(table: DeltaTable) -> None:
    table.alter.add_constraint({"id_positive": "id > 0"})
    table.alter.drop_constraint("id_positive")
    assert "delta.constraints.id_positive" not in table.metadata().configuration
    write_deltalake(table, pa.table({"id": [-1], "name": ["x"], "day": ["d"]}), mode="append")
    with pytest.raises(DeltaError):
        table.alter.drop_constraint("id_positive")
    version = table.version()
    table.alter.drop_constraint("id_positive", raise_if_not_exists=False)
    assert table.version() == version


def test_add_columns(table: DeltaTable) -> None:
    table.alter.add_columns(
        [Field("score", PrimitiveType("double")), Field("tag", PrimitiveType("string"))]
    )
    assert [f.name for f in table.schema().fields] == ["id", "name", "day", "score", "tag"]
    frame = table.to_pandas()
    assert frame["score"].isna().all() and frame["tag"].isna().all()
    table.alter.add_columns(Field("more", PrimitiveType("long")))
    assert table.schema().fields[-1].name == "more"
    with pytest.raises(DeltaError):
        table.alter.add_columns(Field("id", PrimitiveType("long")))
    with pytest.raises(TypeError):
        table.alter.add_columns("id")  # type: ignore[arg-type]


def test_set_table_properties(table: DeltaTable) -> None:
    table.alter.set_table_properties({"delta.appendOnly": "true", "my.key": "1"})
    configuration = table.metadata().configuration
    assert configuration["delta.appendOnly"] == "true" and configuration["my.key"] == "1"
    with pytest.raises(DeltaError):
        table.delete("id = 1")
    with pytest.raises(DeltaError):
        table.alter.set_table_properties({"delta.appendOnly": "maybe"})
    with pytest.raises(TypeError):
        table.alter.set_table_properties({"delta.appendOnly": True})  # type: ignore[dict-item]


def test_add_feature(table: DeltaTable) -> None:
    with pytest.raises(DeltaError, match="allow_protocol_versions_increase"):
        table.alter.add_feature(TableFeatures.DeletionVectors)
    table.alter.add_feature(TableFeatures.DeletionVectors, allow_protocol_versions_increase=True)
    protocol = table.protocol()
    assert protocol.min_reader_version == 3 and protocol.min_writer_version == 7
    assert "deletionVectors" in (protocol.writer_features or [])
    assert "deletionVectors" in (protocol.reader_features or [])
    table.alter.add_feature([TableFeatures.ChangeDataFeed])
    assert "changeDataFeed" in (table.protocol().writer_features or [])
    with pytest.raises(DeltaError):
        table.alter.add_feature(["noSuchFeature"])  # type: ignore[list-item]


def test_set_name_and_description(table: DeltaTable) -> None:
    table.alter.set_table_name("events")
    table.alter.set_table_description("all the events")
    assert table.version() == 2
    metadata = DeltaTable(table.table_uri).metadata()
    assert metadata.name == "events" and metadata.description == "all the events"


def test_set_column_metadata_and_drop_not_null(tmp_path: Path) -> None:
    from deltalake import Schema
    from deltalake.exceptions import DeltaInvalidArgumentError

    dt = DeltaTable.create(tmp_path, Schema([Field("id", "long", nullable=False), Field("s", "string")]))
    dt.alter.set_column_metadata("s", {"comment": "hello", "x": "1"})
    dt.alter.set_column_metadata("s", {"x": "2"})
    assert dt.schema().fields[1].metadata == {"comment": "hello", "x": "2"}
    assert dt.history(1)[0]["operation"] == "UPDATE FIELD METADATA"
    dt.alter.drop_column_not_null("id")
    assert dt.schema().fields[0].nullable
    assert dt.history(1)[0]["operation"] == "CHANGE COLUMN"
    version = dt.version()
    for bad in (
        lambda: dt.alter.drop_column_not_null("s"),
        lambda: dt.alter.drop_column_not_null("nope"),
        lambda: dt.alter.set_column_metadata("nope", {"a": "b"}),
        lambda: dt.alter.set_column_metadata("s", {"delta.columnMapping.id": "7"}),
    ):
        with pytest.raises(DeltaInvalidArgumentError):
            bad()
    assert DeltaTable(tmp_path).version() == version
    with pytest.warns(DeprecationWarning, match="positional"):
        dt.alter.set_column_metadata("s", {"y": "3"}, CommitProperties(custom_metadata={"k": "v"}))
    assert dt.history(1)[0]["k"] == "v"
    write_deltalake(dt, pa.table({"id": pa.array([None], pa.int64()), "s": ["n"]}), mode="append")
    assert DeltaTable(tmp_path).to_pyarrow_table().num_rows == 1

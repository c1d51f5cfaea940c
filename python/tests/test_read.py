"""Reading tables: state, history, time travel, scans and the change data feed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from deltalake import DeltaTable, Schema, write_deltalake
from deltalake.exceptions import DeltaError
from deltalake.table import DeltaTableConfig


def test_version_files_and_uris(tables: Path) -> None:
    dt = DeltaTable(tables / "simple_table")
    assert dt.version() == 4
    files = dt.files()
    assert len(files) == 5 and all(f.endswith(".parquet") for f in files)
    uris = dt.file_uris()
    # Paths are resolved (symlinks followed), as the table location is.
    assert uris == [str((tables / "simple_table").resolve() / f) for f in files]
    assert dt.table_uri.startswith("file://")


def test_time_travel_on_open_and_load_as_version(tables: Path) -> None:
    dt = DeltaTable(str(tables / "simple_table"), version=0)
    assert dt.version() == 0
    dt.load_as_version(2)
    assert dt.version() == 2
    newest = datetime.now(timezone.utc)
    dt.load_as_version(newest)
    assert dt.version() == 4
    dt.load_as_version(newest.isoformat())
    assert dt.version() == 4


ICT = {"delta.enableInCommitTimestamps": "true"}
"""In-commit timestamps: time travel uses the commit times that history() shows."""


def test_load_as_version_by_commit_time(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample, configuration=ICT)
    write_deltalake(tmp_path, sample, mode="append")
    dt = DeltaTable(tmp_path)
    first = dt.history()[-1]["timestamp"]
    at_first = datetime.fromtimestamp(first / 1000, timezone.utc)
    dt.load_as_version(at_first)
    assert dt.version() == 0
    dt.load_as_version(at_first.replace(tzinfo=None).isoformat() + "Z")
    assert dt.version() == 0
    with pytest.raises(DeltaError):
        dt.load_as_version(at_first - timedelta(days=1))


def test_schema_to_arrow_and_json(tables: Path) -> None:
    schema = DeltaTable(tables / "simple_table").schema()
    assert isinstance(schema, Schema)
    assert [f.name for f in schema.fields] == ["id"]
    assert schema.to_arrow() == pa.schema([pa.field("id", pa.int64())])
    parsed = json.loads(schema.to_json())
    assert parsed["fields"][0]["type"] == "long"
    assert Schema.from_json(schema.to_json()) == schema
    assert Schema.from_arrow(schema.to_arrow()) == schema


def test_metadata_and_protocol(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-0.8.0-partitioned")
    metadata = dt.metadata()
    assert metadata.partition_columns == ["year", "month", "day"]
    assert isinstance(metadata.id, str) and isinstance(metadata.configuration, dict)
    protocol = dt.protocol()
    assert protocol.min_reader_version >= 1 and protocol.min_writer_version >= 2


def test_history_newest_first_with_limit(tables: Path) -> None:
    dt = DeltaTable(tables / "simple_table")
    history = dt.history()
    assert [h["version"] for h in history] == [4, 3, 2, 1, 0]
    assert history[0]["operation"] == "DELETE"
    assert [h["version"] for h in dt.history(2)] == [4, 3]


def test_partitions_are_distinct_dicts(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-0.8.0-partitioned")
    partitions = dt.partitions()
    assert {"year": "2020", "month": "1", "day": "1"} in partitions
    assert len(partitions) == len({tuple(sorted(p.items())) for p in partitions})
    assert DeltaTable(tables / "simple_table").partitions() == []


def test_get_add_actions(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-0.8.0-partitioned")
    flat = dt.get_add_actions(flatten=True)
    assert flat.num_rows == len(dt.files())
    assert {"path", "size_bytes", "modification_time", "num_records", "partition.year"} <= set(
        flat.column_names
    )
    nested = pa.table(dt.get_add_actions())
    assert pa.types.is_struct(nested.schema.field("partition").type)
    assert nested.column("path").to_pylist() == flat.column("path").to_pylist()


def test_add_action_statistics_are_typed(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample)
    actions = pa.table(DeltaTable(tmp_path).get_add_actions(flatten=True)).to_pylist()
    assert actions[0]["num_records"] == 4
    assert actions[0]["min.id"] == 1 and actions[0]["max.id"] == 4
    assert actions[0]["null_count.name"] == 0


def test_to_pyarrow_table_and_columns(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-0.8.0-partitioned")
    table = dt.to_pyarrow_table()
    assert table.num_rows == 7
    assert table.column_names == ["value", "year", "month", "day"]
    only = dt.to_pyarrow_table(columns=["day", "value"])
    assert only.column_names == ["day", "value"]
    with pytest.raises(DeltaError, match="does not exist"):
        dt.to_pyarrow_table(columns=["missing"])


def test_deletion_vectors_and_column_mapping(tables: Path) -> None:
    with_dv = DeltaTable(tables / "table-with-dv-small").to_pyarrow_table()
    without = DeltaTable(tables / "table-without-dv-small").to_pyarrow_table()
    assert with_dv.num_rows < without.num_rows
    mapped = DeltaTable(tables / "table_with_column_mapping")
    assert mapped.to_pyarrow_table().column_names == [f.name for f in mapped.schema().fields]


def test_to_pandas_and_dataset(tables: Path) -> None:
    dt = DeltaTable(tables / "simple_table")
    df = dt.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert sorted(df["id"]) == [5, 7, 9]
    assert list(dt.to_pandas(columns=["id"]).columns) == ["id"]
    dataset = dt.to_pyarrow_dataset()
    assert isinstance(dataset, ds.Dataset)
    assert dataset.to_table().num_rows == 3


def test_arrow_c_stream(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-0.8.0-partitioned")
    via_stream = pa.table(dt)
    assert via_stream.sort_by("value").equals(dt.to_pyarrow_table().sort_by("value"))
    reader = pa.RecordBatchReader.from_stream(dt)
    assert sum(b.num_rows for b in reader) == 7


def test_load_cdf(tables: Path) -> None:
    dt = DeltaTable(tables / "cdf-table")
    changes = dt.load_cdf().read_all()
    assert {"_change_type", "_commit_version", "_commit_timestamp"} <= set(changes.column_names)
    assert set(changes.column("_change_type").to_pylist()) >= {"insert"}
    partial = dt.load_cdf(starting_version=1, ending_version=2, columns=["_commit_version"])
    versions = set(partial.read_all().column("_commit_version").to_pylist())
    assert versions <= {1, 2} and versions
    beyond = dt.load_cdf(starting_version=dt.version() + 5, allow_out_of_range=True)
    assert beyond.read_all().num_rows == 0
    with pytest.raises(DeltaError, match="not enabled"):
        DeltaTable(tables / "simple_table").load_cdf()


def test_load_cdf_by_timestamp(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample, configuration={"delta.enableChangeDataFeed": "true", **ICT})
    write_deltalake(tmp_path, sample, mode="append")
    dt = DeltaTable(tmp_path)
    second = dt.history()[0]["timestamp"]
    start = datetime.fromtimestamp(second / 1000, timezone.utc)
    changes = dt.load_cdf(starting_timestamp=start).read_all()
    assert set(changes.column("_commit_version").to_pylist()) == {1}
    assert changes.num_rows == 4


def test_update_incremental(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample)
    reader = DeltaTable(tmp_path)
    write_deltalake(tmp_path, sample, mode="append")
    assert reader.version() == 0
    reader.update_incremental()
    assert reader.version() == 1
    assert reader.to_pyarrow_table().num_rows == 8


def test_is_deltatable(tables: Path, tmp_path: Path) -> None:
    assert DeltaTable.is_deltatable(tables / "simple_table")
    assert DeltaTable.is_deltatable(str(tables / "simple_table"))
    assert not DeltaTable.is_deltatable(tmp_path)
    assert not DeltaTable.is_deltatable(tmp_path / "missing")


def test_constructor_compatibility_arguments(tables: Path) -> None:
    with pytest.warns(DeprecationWarning, match="'without_files' parameter is deprecated"):
        with pytest.warns(DeprecationWarning, match="'log_buffer_size' parameter is deprecated"):
            dt = DeltaTable(tables / "simple_table", without_files=True, log_buffer_size=4)
    assert dt.version() == 4
    with pytest.warns(DeprecationWarning, match="'table_config' property is deprecated"):
        with pytest.warns(DeprecationWarning, match="DeltaTableConfig class is deprecated"):
            config = dt.table_config
    with pytest.warns(DeprecationWarning, match="DeltaTableConfig class is deprecated"):
        expected = DeltaTableConfig(without_files=False, log_buffer_size=8, skip_stats=False)
    assert config == expected


def test_get_add_actions_follows_the_loaded_version(tmp_path: Path) -> None:
    write_deltalake(tmp_path, pa.table({"a": [1, 2]}))
    dt = DeltaTable(tmp_path)
    first = dt.get_add_actions(flatten=True)
    assert first.num_rows == 1
    # Asked again for the same version: the same table, also with the other layout.
    assert pa.table(dt.get_add_actions(flatten=True)).equals(pa.table(first))
    assert "min" in dt.get_add_actions(flatten=False).column_names
    write_deltalake(dt, pa.table({"a": [3]}), mode="append")
    after = pa.table(dt.get_add_actions(flatten=True))
    assert after.num_rows == 2
    assert sorted(after.column("num_records").to_pylist()) == [1, 2]
    dt.load_as_version(0)
    assert dt.get_add_actions(flatten=True).num_rows == 1


def test_protocol_is_a_named_tuple(tables: Path) -> None:
    reader, writer, writer_features, reader_features = DeltaTable(tables / "simple_table").protocol()
    assert (reader, writer) >= (1, 2)
    assert DeltaTable(tables / "simple_table").protocol()._fields[0] == "min_reader_version"


def test_scan_streams_the_matching_rows(tmp_path: Path) -> None:
    write_deltalake(tmp_path, pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    dt = DeltaTable(tmp_path)
    assert pa.table(dt.scan(columns=["b"], predicate="a > 1")).to_pydict() == {"b": ["y", "z"]}
    assert pa.table(dt.scan()).num_rows == 3
    with pytest.raises(DeltaError):
        dt.scan(predicate="nope > 1")

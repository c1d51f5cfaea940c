"""Committing Parquet files written elsewhere: deltalake.transaction.create_table_with_add_actions."""

import json
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deltalake import DeltaTable, Field, Schema
from deltalake.exceptions import DeltaError
from deltalake.transaction import AddAction, create_table_with_add_actions


def _written(root: Path, relative: str, values: list[int], partition: dict[str, str | None]) -> AddAction:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"a": pa.array(values, pa.int64())}), path)
    stats = {
        "numRecords": len(values),
        "minValues": {"a": min(values)},
        "maxValues": {"a": max(values)},
        "nullCount": {"a": 0},
    }
    return AddAction(
        relative, os.path.getsize(path), partition, int(time.time() * 1000), True, json.dumps(stats)
    )


SCHEMA = Schema([Field("a", "long"), Field("p", "string")])


def test_files_written_elsewhere_become_a_table(tmp_path: Path) -> None:
    adds = [
        _written(tmp_path, "p=x/one.parquet", [1, 2, 3], {"p": "x"}),
        _written(tmp_path, "p=y/two.parquet", [10], {"p": "y"}),
    ]
    create_table_with_add_actions(
        str(tmp_path), SCHEMA, adds, partition_by="p", name="external", description="d"
    )
    dt = DeltaTable(tmp_path)
    assert dt.version() == 0
    assert sorted(dt.files()) == ["p=x/one.parquet", "p=y/two.parquet"]
    assert dt.metadata().name == "external" and dt.metadata().partition_columns == ["p"]
    rows = dt.to_pyarrow_table().sort_by("a").to_pydict()
    assert rows == {"a": [1, 2, 3, 10], "p": ["x", "x", "x", "y"]}
    assert dt.history(1)[0]["operation"] == "CREATE TABLE"
    # The statistics given are the ones the table keeps (data skipping uses them).
    assert dt.files(file_pruning_predicate="a > 5") == ["p=y/two.parquet"]


def test_modes_on_an_existing_table(tmp_path: Path) -> None:
    first = _written(tmp_path, "p=x/one.parquet", [1], {"p": "x"})
    create_table_with_add_actions(str(tmp_path), SCHEMA, [first], partition_by=["p"])
    with pytest.raises(DeltaError, match="exists"):
        create_table_with_add_actions(str(tmp_path), SCHEMA, [first], partition_by=["p"])
    with pytest.raises(DeltaError, match="SaveMode `append` is not allowed"):
        create_table_with_add_actions(str(tmp_path), SCHEMA, [first], mode="append", partition_by=["p"])
    create_table_with_add_actions(str(tmp_path), SCHEMA, [first], mode="ignore", partition_by=["p"])
    assert DeltaTable(tmp_path).version() == 0
    with pytest.raises(ValueError, match="mode must be"):
        create_table_with_add_actions(str(tmp_path), SCHEMA, [first], mode="bogus")  # type: ignore[arg-type]

    second = _written(tmp_path, "p=z/two.parquet", [7, 8], {"p": "z"})
    create_table_with_add_actions(str(tmp_path), SCHEMA, [second], mode="overwrite", partition_by=["p"])
    dt = DeltaTable(tmp_path)
    assert dt.version() == 1
    assert dt.files() == ["p=z/two.parquet"]
    assert dt.history(1)[0]["operation"] == "CREATE OR REPLACE TABLE"
    assert dt.to_pyarrow_table().to_pydict() == {"a": [7, 8], "p": ["z", "z"]}


def test_invalid_add_actions_are_rejected_before_committing(tmp_path: Path) -> None:
    good = _written(tmp_path, "one.parquet", [1], {})
    schema = Schema([Field("a", "long")])
    bad_stats = AddAction("one.parquet", good.size, {}, good.modification_time, True, "{not json")
    with pytest.raises(ValueError, match="stats are not JSON"):
        create_table_with_add_actions(str(tmp_path), schema, [bad_stats])
    negative = AddAction("one.parquet", -1, {}, good.modification_time, True, good.stats)
    with pytest.raises(ValueError, match="negative"):
        create_table_with_add_actions(str(tmp_path), schema, [negative])
    with pytest.raises(ValueError, match="partition column 'p'"):
        create_table_with_add_actions(str(tmp_path), SCHEMA, [good], partition_by=["p"])
    with pytest.raises(TypeError, match="AddAction"):
        create_table_with_add_actions(str(tmp_path), schema, [{"path": "one.parquet"}])  # type: ignore[list-item]
    assert not DeltaTable.is_deltatable(str(tmp_path))

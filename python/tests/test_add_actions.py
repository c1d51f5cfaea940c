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


def test_write_transaction_appends_and_overwrites_partitions(tmp_path: Path) -> None:
    from deltalake import write_deltalake
    from deltalake.transaction import RemoveAction

    write_deltalake(tmp_path, pa.table({"a": pa.array([1, 2], pa.int64()), "p": ["x", "y"]}), partition_by=["p"])
    dt = DeltaTable(tmp_path)
    dt.create_write_transaction([_written(tmp_path, "p=x/e1.parquet", [10], {"p": "x"})], "append", dt.schema())
    assert dt.version() == 1
    assert sorted(dt.to_pyarrow_table().column("a").to_pylist()) == [1, 2, 10]
    last = dt.history(1)[0]
    assert last["operation"] == "WRITE" and last["operationParameters"]["mode"] == "Append"

    dt.create_write_transaction(
        [_written(tmp_path, "p=x/e2.parquet", [20], {"p": "x"})],
        "overwrite",
        dt.schema(),
        partition_filters=[("p", "=", "x")],
    )
    assert sorted(dt.to_pyarrow_table().column("a").to_pylist()) == [2, 20]
    assert DeltaTable(tmp_path).version() == 2

    # A compaction done elsewhere: the new file replaces the old ones without a data change.
    y_files = dt.files(file_pruning_predicate=[("p", "=", "y")])
    merged = _written(tmp_path, "p=y/merged.parquet", [2], {"p": "y"})
    merged.data_change = False
    dt.create_write_transaction(
        [merged, *[RemoveAction(f, False, 0) for f in y_files]], "append", dt.schema()
    )
    assert dt.files(file_pruning_predicate=[("p", "=", "y")]) == ["p=y/merged.parquet"]
    assert sorted(dt.to_pyarrow_table().column("a").to_pylist()) == [2, 20]

    dt.create_write_transaction([_written(tmp_path, "p=z/e3.parquet", [30], {"p": "z"})], "overwrite", dt.schema())
    assert dt.to_pyarrow_table().to_pydict() == {"a": [30], "p": ["z"]}


def test_write_transaction_errors(tmp_path: Path) -> None:
    from deltalake import write_deltalake
    from deltalake.exceptions import SchemaMismatchError
    from deltalake.transaction import RemoveAction

    write_deltalake(tmp_path, pa.table({"a": pa.array([1], pa.int64())}))
    dt = DeltaTable(tmp_path)
    new = _written(tmp_path, "new.parquet", [5], {})
    with pytest.raises(SchemaMismatchError):
        dt.create_write_transaction([new], "append", Schema([Field("b", "long")]))
    with pytest.raises(ValueError, match="not an active file"):
        dt.create_write_transaction([RemoveAction("nope.parquet", True, 0)], "append", dt.schema())
    with pytest.raises(ValueError, match="only allowed with mode 'append'"):
        dt.create_write_transaction([RemoveAction(dt.files()[0], True, 0)], "overwrite", dt.schema())
    with pytest.raises(ValueError, match="both added and removed"):
        dt.create_write_transaction([new, RemoveAction("new.parquet", True, 0)], "append", dt.schema())
    with pytest.raises(ValueError, match="mode must be"):
        dt.create_write_transaction([new], "error", dt.schema())
    assert dt.version() == 0
    # An Arrow schema equal to the table's is accepted.
    dt.create_write_transaction([new], "append", pa.schema([("a", pa.int64())]))
    assert sorted(dt.to_pyarrow_table().column("a").to_pylist()) == [1, 5]

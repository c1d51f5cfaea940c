"""Row-level operations: replace-where writes, delete and update."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError

DML_METRICS = {
    "num_added_files",
    "num_removed_files",
    "num_copied_rows",
    "num_added_change_files",
    "num_deletion_vectors_added",
    "execution_time_ms",
    "scan_time_ms",
    "rewrite_time_ms",
}


def _frame(dt: DeltaTable) -> pd.DataFrame:
    return dt.to_pandas().sort_values("id").reset_index(drop=True)


def _expected(data: pa.Table) -> pd.DataFrame:
    return data.to_pandas().sort_values("id").reset_index(drop=True)


@pytest.fixture
def table(tmp_path: Path, sample: pa.Table) -> DeltaTable:
    write_deltalake(tmp_path, sample, partition_by=["day"])
    return DeltaTable(tmp_path)


# write_deltalake(predicate=...)


def test_replace_where_replaces_matching_rows_only(table: DeltaTable) -> None:
    new = pa.table({"id": [7], "name": ["z"], "day": ["2024-01-02"]})
    write_deltalake(table, new, mode="overwrite", predicate="day = '2024-01-02'")
    assert table.version() == 1
    expected = pd.DataFrame(
        {
            "id": [1, 2, 7],
            "name": ["a", "b", "z"],
            "day": ["2024-01-01", "2024-01-01", "2024-01-02"],
        }
    )
    pd.testing.assert_frame_equal(_frame(table), expected, check_dtype=False)
    assert table.history(1)[0]["operation"] == "WRITE"


def test_replace_where_on_non_partition_column(table: DeltaTable) -> None:
    new = pa.table({"id": [2], "name": ["B"], "day": ["2024-01-01"]})
    write_deltalake(table, new, mode="overwrite", predicate="id = 2")
    assert _frame(table)["name"].tolist() == ["a", "B", "c", "d"]


def test_replace_where_rejects_rows_outside_the_predicate(table: DeltaTable) -> None:
    new = pa.table({"id": [7], "name": ["z"], "day": ["2024-01-01"]})
    with pytest.raises(DeltaError, match="replace-where"):
        write_deltalake(table, new, mode="overwrite", predicate="day = '2024-01-02'")
    assert table.version() == 0


def test_replace_where_needs_overwrite_mode(table: DeltaTable, sample: pa.Table) -> None:
    with pytest.raises(DeltaError, match="overwrite"):
        write_deltalake(table, sample, mode="append", predicate="id > 0")


def test_replace_where_unknown_column(table: DeltaTable, sample: pa.Table) -> None:
    with pytest.raises(DeltaError):
        write_deltalake(table, sample, mode="overwrite", predicate="nope = 1")


def test_replace_where_predicate_type(table: DeltaTable, sample: pa.Table) -> None:
    with pytest.raises(TypeError):
        write_deltalake(table, sample, mode="overwrite", predicate=1)  # type: ignore[arg-type]


# delete


def test_delete_with_predicate(table: DeltaTable, sample: pa.Table) -> None:
    metrics = table.delete("id > 2", commit_properties=CommitProperties(custom_metadata={"k": "v"}))
    assert set(metrics) == DML_METRICS | {"num_deleted_rows"}
    assert metrics["num_deleted_rows"] == 2
    assert table.version() == 1
    pd.testing.assert_frame_equal(_frame(table), _expected(sample.slice(0, 2)))
    latest = table.history(1)[0]
    assert latest["operation"] == "DELETE" and latest["k"] == "v"
    pd.testing.assert_frame_equal(
        _frame(DeltaTable(table.table_uri)), _expected(sample.slice(0, 2))
    )


def test_delete_rewrites_part_of_a_file(table: DeltaTable, sample: pa.Table) -> None:
    metrics = table.delete("name = 'a'")
    assert metrics["num_deleted_rows"] == 1
    assert metrics["num_copied_rows"] == 1
    pd.testing.assert_frame_equal(_frame(table), _expected(sample.slice(1)))


def test_delete_everything(table: DeltaTable) -> None:
    metrics = table.delete()
    assert metrics["num_deleted_rows"] == 4
    assert table.to_pyarrow_table().num_rows == 0


def test_delete_nothing_matches_makes_no_commit(table: DeltaTable) -> None:
    metrics = table.delete("id > 100")
    assert metrics["num_deleted_rows"] == 0
    assert table.version() == 0


def test_delete_unknown_column(table: DeltaTable) -> None:
    with pytest.raises(DeltaError):
        table.delete("nope > 1")
    assert table.version() == 0


def test_delete_invalid_arguments(table: DeltaTable) -> None:
    with pytest.raises(TypeError):
        table.delete(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        table.delete(commit_properties={})  # type: ignore[arg-type]


# update


def test_update_with_sql_expressions(table: DeltaTable) -> None:
    metrics = table.update(updates={"id": "id * 10", "name": "'x'"}, predicate="day = '2024-01-02'")
    assert set(metrics) == DML_METRICS | {"num_updated_rows"}
    assert metrics["num_updated_rows"] == 2
    assert table.version() == 1
    frame = _frame(table)
    assert frame["id"].tolist() == [1, 2, 30, 40]
    assert frame["name"].tolist() == ["a", "b", "x", "x"]
    assert table.history(1)[0]["operation"] == "UPDATE"


def test_update_with_new_values_quotes_strings(table: DeltaTable) -> None:
    table.update(new_values={"name": "it's; DROP", "id": None}, predicate="id = 1")
    frame = table.to_pandas()
    row = frame[frame["name"] == "it's; DROP"]
    assert len(row) == 1 and pd.isna(row["id"].iloc[0])
    assert sorted(frame["name"]) == ["b", "c", "d", "it's; DROP"]


def test_update_all_rows(table: DeltaTable) -> None:
    metrics = table.update(new_values={"id": 0})
    assert metrics["num_updated_rows"] == 4
    assert table.to_pandas()["id"].tolist() == [0, 0, 0, 0]


def test_update_typed_literals(tmp_path: Path) -> None:
    data = pa.table(
        {
            "id": [1],
            "flag": [False],
            "x": [1.5],
            "d": [date(2024, 1, 1)],
            "dec": pa.array([Decimal("1.10")], pa.decimal128(5, 2)),
        }
    )
    write_deltalake(tmp_path, data)
    dt = DeltaTable(tmp_path)
    dt.update(new_values={"flag": True, "x": 2.25, "d": date(2025, 2, 3), "dec": Decimal("3.25")})
    row = dt.to_pyarrow_table().to_pylist()[0]
    assert row == {"id": 1, "flag": True, "x": 2.25, "d": date(2025, 2, 3), "dec": Decimal("3.25")}


def test_update_errors(table: DeltaTable) -> None:
    with pytest.raises(DeltaError):
        table.update(updates={"nope": "1"})
    with pytest.raises(DeltaError):
        table.update(updates={"id": "nope + 1"})
    with pytest.raises(DeltaError):
        table.update(new_values={"id": 1}, predicate="nope = 1")
    with pytest.raises(ValueError):
        table.update()
    with pytest.raises(ValueError):
        table.update(updates={"id": "1"}, new_values={"id": 1})
    with pytest.raises(ValueError):
        table.update(new_values={"id": float("nan")})
    with pytest.raises(TypeError):
        table.update(new_values={"id": object()})
    with pytest.raises(TypeError):
        table.update(updates={"id": 1})  # type: ignore[dict-item]
    assert table.version() == 0

"""Filters: DNF tuples and SQL predicates on reads, file lists and partitions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError

# The tests pass tuple filters also through the older positional arguments, which warn (as in the
# reference package); test_deprecated_filter_arguments_warn checks the warnings.
pytestmark = pytest.mark.filterwarnings(
    "ignore:`partition_filters` is deprecated:DeprecationWarning",
    "ignore:`partitions` is deprecated:DeprecationWarning",
)


@pytest.fixture
def events(tmp_path: Path) -> DeltaTable:
    """24 rows partitioned by an int column `part` (one file per partition and write)."""
    ids = list(range(24))
    data = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "value": pa.array([i * 1.5 for i in ids], pa.float64()),
            "name": [f"n{i % 5}" for i in ids],
            "day": pa.array([date(2024, 1, 1 + i % 4) for i in ids], pa.date32()),
            "part": pa.array([i % 3 for i in ids], pa.int32()),
        }
    )
    write_deltalake(tmp_path, data.slice(0, 12), partition_by=["part"])
    write_deltalake(tmp_path, data.slice(12), mode="append")
    return DeltaTable(tmp_path)


ROW_FILTERS: list[Any] = [
    [("id", ">", 3)],
    [("id", ">=", 3), ("id", "<", 10)],
    [("value", "<=", 9.0)],
    [("name", "==", "n2")],
    [("name", "!=", "n2"), ("part", "=", 1)],
    [("name", "in", ["n1", "n3"])],
    [("name", "not in", ("n1", "n3")), ("id", "<", 20)],
    [("part", "in", [0, 2])],
    [("day", "=", date(2024, 1, 2))],
    [("day", ">", date(2024, 1, 2))],
    [[("id", "<", 2)], [("part", "=", 2), ("name", "=", "n0")]],
    [[("id", "=", 5)], [("id", "=", 7)], [("value", ">", 30.0)]],
]


@pytest.mark.parametrize("filters", ROW_FILTERS, ids=str)
def test_row_filters_match_pyarrow(events: DeltaTable, filters: Any) -> None:
    everything = events.to_pyarrow_table()
    expected = everything.filter(pq.filters_to_expression(filters)).sort_by("id")
    got = events.to_pyarrow_table(filters=filters).sort_by("id")
    assert got.equals(expected)
    assert got.num_rows < everything.num_rows


@pytest.mark.parametrize(
    "filters",
    [
        [("k", "in", ["a"])],
        [("k", "in", ["a", None])],
        [("k", "not in", ["a"])],
        [("k", "not in", ["a", None])],
        [("k", "!=", "a")],
        [("n", "not in", [1, 2])],
        [("n", ">", 1)],
    ],
    ids=str,
)
def test_null_values_match_pyarrow(tmp_path: Path, filters: Any) -> None:
    data = pa.table({"k": ["a", None, "b", None], "n": pa.array([1, 2, None, 4], pa.int64())})
    write_deltalake(tmp_path, data)
    expected = data.filter(pq.filters_to_expression(filters))
    assert DeltaTable(tmp_path).to_pyarrow_table(filters=filters).equals(expected)


def test_row_filters_match_pandas(events: DeltaTable) -> None:
    df = events.to_pandas()
    got = events.to_pandas(filters=[[("id", ">", 20)], [("name", "=", "n1"), ("part", "!=", 1)]])
    expected = df[(df.id > 20) | ((df.name == "n1") & (df.part != 1))]
    assert sorted(got.id) == sorted(expected.id)
    # The filter reads a column the result does not hold.
    with_columns = events.to_pandas(columns=["id"], filters=[("name", "=", "n3")])
    assert list(with_columns.columns) == ["id"]
    assert sorted(with_columns.id) == sorted(df[df.name == "n3"].id)


def test_columns_in_another_order_than_the_files(events: DeltaTable) -> None:
    df = events.to_pandas()
    with_columns = events.to_pandas(columns=["name"], filters=[("id", "<", 3)])
    assert sorted(with_columns.name) == sorted(df[df.id < 3].name)
    swapped = events.to_pandas(columns=["name", "id"])
    assert list(swapped.sort_values("id").name) == list(df.sort_values("id").name)


def test_sql_and_expression_filters(events: DeltaTable) -> None:
    df = events.to_pandas()
    sql = events.to_pandas(filters="id % 2 = 0 AND name LIKE 'n%' AND part > 0")
    assert sorted(sql.id) == sorted(df[(df.id % 2 == 0) & (df.part > 0)].id)
    expression = events.to_pyarrow_table(filters=pc.field("value") > 20)
    assert sorted(expression.column("id").to_pylist()) == sorted(df[df.value > 20].id)


def test_partitions_argument_and_empty_filters(events: DeltaTable) -> None:
    both = events.to_pyarrow_table(partitions=[("part", "=", "1")], filters=[("id", ">", 10)])
    assert sorted(both.column("id").to_pylist()) == [13, 16, 19, 22]
    assert events.to_pyarrow_table(filters=[]).num_rows == 24
    assert events.to_pyarrow_table(filters=None).num_rows == 24


def test_partition_filters_skip_files(events: DeltaTable) -> None:
    all_uris = events.file_uris()
    assert len(all_uris) == 6
    only_one = events.file_uris(partition_filters=[("part", "=", "1")])
    assert len(only_one) == 2
    assert only_one == [u for u in all_uris if "/part=1/" in u]
    # Typed values are taken in their partition string form, then as the column's type.
    assert events.file_uris([("part", "=", 1)]) == only_one
    assert events.file_uris([("part", "in", [0, 2])]) == [u for u in all_uris if u not in only_one]
    assert events.file_uris([("part", "not in", ["0", "2"])]) == only_one
    assert events.file_uris(file_pruning_predicate="part = 1") == only_one
    disjunction = events.file_uris([[("part", "<", 1)], [("part", ">=", 2)]])
    assert len(disjunction) == 4 and not set(disjunction) & set(only_one)
    assert events.files([("part", ">", "0")]) == [
        f for f in events.files() if not f.startswith("part=0/")
    ]
    assert events.file_uris([("part", "=", 7)]) == []


def test_statistics_filters_keep_only_possible_files(events: DeltaTable) -> None:
    # The first write holds ids 0-11, the second 12-23: its files are skipped by statistics.
    first = events.file_uris(file_pruning_predicate="id < 12")
    assert len(first) == 3
    assert first == events.file_uris([("id", "<", 12)])
    assert events.file_uris([("id", ">", 100)]) == []


def test_partitions_with_filters(events: DeltaTable) -> None:
    assert sorted(p["part"] for p in events.partitions()) == ["0", "1", "2"]
    selected = sorted(events.partitions([("part", ">=", "1")]), key=lambda p: p["part"])
    assert selected == [{"part": "1"}, {"part": "2"}]
    assert events.partitions(file_pruning_predicate="part = 2") == [{"part": "2"}]


def test_typed_partition_columns(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-2.2.0-partitioned-types")
    assert len(dt.file_uris([("c1", "=", "5")])) == 1
    assert len(dt.file_uris([("c1", ">", 4)])) == 2
    rows = dt.to_pyarrow_table(filters=[("c1", ">", 4), ("c2", "!=", "a")])
    assert rows.to_pydict() == {"c1": [5], "c2": ["b"], "c3": [6]}
    dt = DeltaTable(tables / "delta-0.8.0-partitioned")
    assert dt.partitions([("year", "=", 2020), ("month", "in", [1, 2])]) == dt.partitions(
        file_pruning_predicate="year = '2020' AND month IN ('1', '2')"
    )
    assert len(dt.file_uris([("year", "=", 2020), ("month", "=", 2)])) == 2


def test_null_partition_values(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-0.8.0-null-partition")
    assert dt.partitions([("k", "=", "")]) == [{"k": None}]
    assert dt.partitions([("k", "!=", "")]) == [{"k": "A"}]
    assert dt.to_pyarrow_table(filters=[("k", "=", None)]).to_pydict() == {"k": [None], "v": [2]}


def test_dataset_with_file_pruning_predicate(events: DeltaTable) -> None:
    dataset = events.to_pyarrow_dataset(file_pruning_predicate="part = 2")
    assert set(dataset.to_table().column("part").to_pylist()) == {2}
    dataset = events.to_pyarrow_dataset(partitions=[("part", "=", "0")])
    assert dataset.count_rows() == 8


def test_cdf_predicate(tmp_path: Path) -> None:
    write_deltalake(
        tmp_path,
        pa.table({"id": [1, 2, 3]}),
        configuration={"delta.enableChangeDataFeed": "true"},
    )
    write_deltalake(tmp_path, pa.table({"id": [4, 5]}), mode="append")
    changes = DeltaTable(tmp_path).load_cdf(predicate="id >= 2 AND _commit_version = 1")
    assert changes.read_all().column("id").to_pylist() == [4, 5]


@pytest.mark.parametrize(
    ("filters", "error", "message"),
    [
        ([("nope", "=", 1)], DeltaError, "column 'nope' does not exist"),
        ([("id", "~", 1)], DeltaError, "invalid filter operator '~'"),
        ([("id", "in", 1)], DeltaError, "need a list"),
        ([("id", "=", [1, 2])], DeltaError, "needs the operator 'in'"),
        ([("id", "=", "one")], DeltaError, "not a valid"),
        ([("id", "=")], ValueError, r"\(column, op, value\)"),
        ([[("id", "=", 1)], ("id", "=", 2)], ValueError, "or a list of such lists"),
        (("id", "=", 2), ValueError, "or a list of such lists"),
        ([[("id", "=", 1)], []], ValueError, "empty conjunction"),
        ([("id", "=", object())], TypeError, "unsupported filter value"),
        ("id >", DeltaError, "id >"),
        ("id + 1", DeltaError, "boolean"),
    ],
    ids=str,
)
def test_bad_filters_raise(events: DeltaTable, filters: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        events.to_pyarrow_table(filters=filters)


def test_bad_file_filters_raise(events: DeltaTable) -> None:
    with pytest.raises(DeltaError, match="column 'nope' does not exist"):
        events.file_uris([("nope", "=", "1")])
    with pytest.raises(DeltaError, match="invalid filter operator"):
        events.partitions([("part", "like", "1")])
    with pytest.raises(DeltaError, match="not a valid"):
        events.files([("part", "=", "x")])
    with pytest.raises(ValueError, match="`partition_filters` is deprecated; pass only"):
        events.file_uris([("part", "=", "1")], file_pruning_predicate="part = 1")
    with pytest.raises(TypeError):
        events.file_uris(42)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("default")
def test_deprecated_filter_arguments_warn(events: DeltaTable) -> None:
    with pytest.warns(DeprecationWarning, match="`partition_filters` is deprecated; pass the filters"):
        legacy = events.file_uris([("part", "=", "1")])
    assert legacy == events.file_uris(file_pruning_predicate=[("part", "=", "1")])
    with pytest.warns(DeprecationWarning, match="`partition_filters` is deprecated"):
        events.partitions([("part", "=", "1")])
    with pytest.warns(DeprecationWarning, match="`partitions` is deprecated; use `filters` instead"):
        events.to_pyarrow_table(partitions=[("part", "=", "1")])
    with pytest.warns(DeprecationWarning, match="`partitions` is deprecated; pass the filters"):
        events.to_pyarrow_dataset(partitions=[("part", "=", "1")])

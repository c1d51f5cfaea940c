"""QueryBuilder: SQL over registered Delta tables, and other engines scanning our Arrow streams."""

from __future__ import annotations

import threading
from pathlib import Path

import arro3.core
import pyarrow as pa
import pytest

from deltalake import DeltaTable, QueryBuilder, write_deltalake
from deltalake._internal import PyQueryBuilder
from deltalake.exceptions import DeltaError


def test_select_with_partition_filter_and_projection(tables: Path) -> None:
    dt = DeltaTable(str(tables / "delta-0.8.0-partitioned"))
    qb = QueryBuilder().register("t", dt)
    result = qb.execute("SELECT value, day FROM t WHERE year = '2021' AND month = '12' ORDER BY value")
    assert isinstance(result, arro3.core.RecordBatchReader)
    table = pa.table(result.read_all())
    assert table.column_names == ["value", "day"]
    assert table.to_pylist() == [
        {"value": "5", "day": "4"},
        {"value": "6", "day": "20"},
        {"value": "7", "day": "20"},
    ]


def test_results_are_arro3_objects_as_in_the_reference(tmp_path: Path) -> None:
    write_deltalake(
        tmp_path,
        pa.table({"id": [1, 2], "s": ["a", "b"]}),
        configuration={"delta.enableChangeDataFeed": "true"},
    )
    dt = DeltaTable(tmp_path)
    result = QueryBuilder().register("t", dt).execute("SELECT * FROM t")
    assert isinstance(result, arro3.core.RecordBatchReader)
    assert isinstance(result.read_all(), arro3.core.Table)
    assert isinstance(dt.load_cdf(), arro3.core.RecordBatchReader)
    assert isinstance(dt.deletion_vectors(), arro3.core.RecordBatchReader)
    for flatten in (False, True):
        assert isinstance(dt.get_add_actions(flatten=flatten), arro3.core.Table)
    schema = dt.schema()
    assert isinstance(schema.to_arrow(), arro3.core.Schema)
    assert isinstance(schema.fields[0].to_arrow(), arro3.core.Field)
    assert isinstance(schema.fields[0].type.to_arrow(), arro3.core.DataType)
    # pyarrow takes them without a copy.
    assert pa.table(dt.get_add_actions()).num_rows == 1


def test_strings_and_binaries_come_as_view_types_as_in_the_reference(tmp_path: Path) -> None:
    data = pa.table({"id": [1, 2], "s": ["a", None], "b": [b"x", b"y"], "l": [["p"], ["q", "r"]]})
    write_deltalake(tmp_path, data)
    sql = "SELECT id, s, b, l, upper(s) AS u, 'lit' AS c FROM t ORDER BY id"
    table = pa.table(QueryBuilder().register("t", DeltaTable(tmp_path)).execute(sql).read_all())
    assert table.schema.types == [
        pa.int64(),
        pa.string_view(),
        pa.binary_view(),
        pa.list_(pa.field("element", pa.string_view())),
        pa.string_view(),
        pa.string_view(),
    ]
    assert table.to_pylist() == [
        {"id": 1, "s": "a", "b": b"x", "l": ["p"], "u": "A", "c": "lit"},
        {"id": 2, "s": None, "b": b"y", "l": ["q", "r"], "u": None, "c": "lit"},
    ]


def test_aggregates_honour_deletion_vectors_and_column_mapping(tables: Path) -> None:
    qb = (
        QueryBuilder()
        .register("dv", DeltaTable(str(tables / "table-with-dv-small")))
        .register("cm", DeltaTable(str(tables / "table_with_column_mapping")))
    )
    row = pa.table(qb.execute("SELECT count(*) AS n, sum(value) AS s FROM dv")).to_pylist()
    assert row == [{"n": 8, "s": 36}]
    names = pa.table(qb.execute('SELECT "Super Name" AS name FROM cm ORDER BY 1 LIMIT 2'))
    assert names.column("name").to_pylist() == ["Anthony Johnson", "Mr. Daniel Ferguson MD"]


def test_join_of_two_tables(tmp_path: Path, tables: Path) -> None:
    names = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["one", "two", "three"]})
    write_deltalake(str(tmp_path / "names"), names)
    qb = (
        QueryBuilder()
        .register("names", DeltaTable(str(tmp_path / "names")))
        .register("dv", DeltaTable(str(tables / "table-with-dv-small")))
    )
    joined = pa.table(
        qb.execute(
            "SELECT n.name, d.value FROM dv d JOIN names n ON CAST(d.value AS BIGINT) = n.id ORDER BY d.value"
        )
    )
    assert joined.to_pylist() == [
        {"name": "one", "value": 1},
        {"name": "two", "value": 2},
        {"name": "three", "value": 3},
    ]


def test_registered_version_is_pinned(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(str(tmp_path), sample)
    dt = DeltaTable(str(tmp_path))
    qb = QueryBuilder().register("t", dt)
    write_deltalake(str(tmp_path), sample, mode="append")
    count = pa.table(qb.execute("SELECT count(*) AS n FROM t").read_all())
    assert count.to_pylist() == [{"n": 4}]
    # Registering again picks up the table as loaded then.
    dt.update_incremental()
    count = pa.table(qb.register("t", dt).execute("SELECT count(*) AS n FROM t"))
    assert count.to_pylist() == [{"n": 8}]


def test_session_config_is_applied(tables: Path) -> None:
    qb = QueryBuilder({"datafusion.execution.batch_size": "2"})
    qb.register("t", DeltaTable(str(tables / "delta-0.8.0-partitioned")))
    batches = list(qb.execute("SELECT value FROM t"))
    assert sum(b.num_rows for b in batches) == 7
    assert max(b.num_rows for b in batches) <= 2
    with pytest.raises(ValueError, match="configuration"):
        QueryBuilder({"datafusion.execution.batch_size": "many"})


def test_errors_are_delta_errors(tables: Path) -> None:
    qb = QueryBuilder().register("t", DeltaTable(str(tables / "delta-0.8.0")))
    with pytest.raises(DeltaError, match="missing"):
        qb.execute("SELECT * FROM missing")
    with pytest.raises(DeltaError):
        qb.execute("SELEKT 1")
    with pytest.raises(DeltaError, match="nope"):
        qb.execute("SELECT nope FROM t")


def test_stream_without_pyarrow_has_read_all(tables: Path) -> None:
    raw = PyQueryBuilder(None)
    raw.register("t", DeltaTable(str(tables / "delta-0.8.0"))._table)
    stream = raw.execute("SELECT value FROM t ORDER BY value")
    everything = stream.read_all()
    assert hasattr(everything, "__arrow_c_stream__")
    assert pa.table(everything).column("value").to_pylist() == [0, 1, 2, 4]
    with pytest.raises(ValueError, match="consumed"):
        stream.read_all()


def test_queries_run_in_parallel_threads(tables: Path) -> None:
    qb = QueryBuilder().register("t", DeltaTable(str(tables / "delta-0.8.0-partitioned")))
    results: list[int] = []

    def run() -> None:
        results.append(qb.execute("SELECT count(*) AS n FROM t WHERE year = '2020'").read_all()["n"][0].as_py())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [3, 3, 3, 3]


def test_duckdb_scans_our_streams(tables: Path) -> None:
    duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")
    dt = DeltaTable(str(tables / "delta-0.8.0-partitioned"))
    stream = QueryBuilder().register("t", dt).execute("SELECT value, year FROM t")
    rows = duckdb.sql("SELECT year, count(*) FROM stream GROUP BY year ORDER BY year").fetchall()
    assert rows == [("2020", 3), ("2021", 4)]
    table_stream = dt  # DeltaTable itself exports __arrow_c_stream__
    assert duckdb.sql("SELECT count(*) FROM table_stream").fetchall() == [(7,)]


def test_datafusion_scans_our_streams(tables: Path) -> None:
    datafusion = pytest.importorskip("datafusion", reason="datafusion is not installed")
    ctx = datafusion.SessionContext()
    dt = DeltaTable(str(tables / "table-with-dv-small"))
    frame = ctx.from_arrow(dt, name="dv")
    assert frame.count() == 8
    result = ctx.sql("SELECT sum(value) AS s FROM dv").to_arrow_table()
    assert result.to_pylist() == [{"s": 36}]

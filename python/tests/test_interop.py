"""Other libraries over our package: polars' read_delta / scan_delta (which call the deltalake
API, deletion vectors included), and DuckDB and DataFusion scanning the Arrow C stream.

scripts/test-python.sh installs polars, duckdb and datafusion: here they are required, not skipped.
"""

from __future__ import annotations

from pathlib import Path

import datafusion
import duckdb
import polars as pl
import pyarrow as pa

import deltalake
from deltalake import DeltaTable, write_deltalake


def sorted_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns)


def test_version_is_one_that_dependents_accept() -> None:
    # polars reads deletion vectors only through deltalake >= 1.4.2.
    major, minor = (int(p) for p in deltalake.__version__.split(".")[:2])
    assert (major, minor) >= (1, 5)


def test_schema_is_an_arrow_schema_source(tables: Path) -> None:
    schema = DeltaTable(tables / "delta-0.8.0-partitioned").schema()
    assert pa.schema(schema) == schema.to_arrow()
    assert list(pl.Schema(schema).keys()) == ["value", "year", "month", "day"]


def test_polars_read_delta_matches_our_reader(tables: Path) -> None:
    # (polars itself refuses column mapping tables, with or without our package.)
    for name in ["delta-0.8.0-partitioned", "simple_table", "delta-0.8.0-special-partition"]:
        path = str(tables / name)
        ours = pl.from_arrow(DeltaTable(path).to_pyarrow_table())
        assert isinstance(ours, pl.DataFrame)
        assert sorted_frame(pl.read_delta(path)).equals(sorted_frame(ours)), name


def test_polars_scan_delta_drops_deleted_rows(tables: Path) -> None:
    path = str(tables / "table-with-dv-small")
    frame = pl.scan_delta(path).collect()
    assert sorted(frame["value"].to_list()) == list(range(1, 9))
    # Before the delete, at version 0, every row.
    assert pl.read_delta(path, version=0).height == 10


def test_polars_scan_delta_prunes_partitions_and_follows_writes(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample, partition_by=["day"])
    day = sample.column("day")[0].as_py()
    expected = sum(1 for v in sample.column("day").to_pylist() if v == day)
    frame = pl.scan_delta(str(tmp_path)).filter(pl.col("day") == day).collect()
    assert frame.height == expected
    write_deltalake(tmp_path, sample, mode="append")
    assert pl.read_delta(str(tmp_path)).height == 2 * sample.num_rows


def test_deletion_vectors_are_keep_masks(tables: Path) -> None:
    dt = DeltaTable(tables / "table-with-dv-small")
    masks = pa.table(dt.deletion_vectors())
    assert masks.column_names == ["filepath", "selection_vector"]
    assert masks.num_rows == 1
    assert masks.column("filepath")[0].as_py() in dt.file_uris()
    kept = masks.column("selection_vector")[0].as_py()
    assert (len(kept), sum(kept)) == (10, 8)
    sizes = dt._table.get_add_file_sizes()
    assert sorted(sizes) == sorted(dt.files())
    assert all(size > 0 for size in sizes.values())


def test_duckdb_scans_the_arrow_stream(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-0.8.0-partitioned")
    assert duckdb.sql("SELECT count(*) FROM dt").fetchall() == [(7,)]
    rows = duckdb.sql("SELECT year, count(*) FROM dt GROUP BY year ORDER BY year").fetchall()
    assert rows == [("2020", 3), ("2021", 4)]


def test_datafusion_scans_the_arrow_stream(tables: Path) -> None:
    dt = DeltaTable(tables / "delta-0.8.0-partitioned")
    ctx = datafusion.SessionContext()
    frame = ctx.from_arrow(dt)
    assert frame.count() == 7
    ours = dt.to_pyarrow_table().sort_by("value")
    assert pa.table(frame.to_arrow_table()).sort_by("value").equals(ours)


def test_polars_write_delta_append_overwrite_and_merge(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1, 2, 3], "p": ["x", "y", "y"]})
    frame.write_delta(str(tmp_path))
    frame.write_delta(str(tmp_path), mode="append")
    assert DeltaTable(tmp_path).version() == 1 and pl.read_delta(str(tmp_path)).height == 6
    frame.write_delta(
        str(tmp_path),
        mode="overwrite",
        delta_write_options={"partition_by": ["p"], "schema_mode": "overwrite"},
    )
    assert DeltaTable(tmp_path).metadata().partition_columns == ["p"]
    changes = pl.DataFrame({"a": [3, 4], "p": ["z", "z"]})
    metrics = (
        changes.write_delta(
            str(tmp_path),
            mode="merge",
            delta_merge_options={"predicate": "s.a = t.a", "source_alias": "s", "target_alias": "t"},
        )
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    assert (metrics["num_target_rows_updated"], metrics["num_target_rows_inserted"]) == (1, 1)
    assert sorted_frame(pl.read_delta(str(tmp_path))).to_dict(as_series=False) == {
        "a": [1, 2, 3, 4],
        "p": ["x", "y", "z", "z"],
    }

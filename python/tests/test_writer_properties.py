"""Parquet writer settings: per-column properties, and writer properties of the rewriting
operations (delete, update, merge)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deltalake import (
    BloomFilterProperties,
    ColumnProperties,
    DeltaTable,
    WriterProperties,
    write_deltalake,
)
from deltalake.exceptions import DeltaError


def _data(n: int = 1_000) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "name": pa.array([f"name-{i % 10}" for i in range(n)]),
            "score": pa.array([float(i) for i in range(n)]),
        }
    )


def _columns(path: str) -> dict[str, pq.ColumnChunkMetaData]:
    row_group = pq.ParquetFile(path).metadata.row_group(0)
    return {
        row_group.column(i).path_in_schema: row_group.column(i)
        for i in range(row_group.num_columns)
    }


def test_column_properties_shape_the_files(tmp_path: Path) -> None:
    props = WriterProperties(
        default_column_properties=ColumnProperties(dictionary_enabled=False),
        column_properties={
            "name": ColumnProperties(dictionary_enabled=True, statistics_enabled="NONE"),
            "id": ColumnProperties(
                encoding="DELTA_BINARY_PACKED",
                bloom_filter_properties=BloomFilterProperties(True, fpp=0.01, ndv=1_000),
            ),
        },
    )
    write_deltalake(tmp_path, _data(), writer_properties=props)
    dt = DeltaTable(tmp_path)
    columns = _columns(dt.file_uris()[0])
    assert not any("DICTIONARY" in e for e in columns["score"].encodings)
    assert any("DICTIONARY" in e for e in columns["name"].encodings)
    assert "DELTA_BINARY_PACKED" in columns["id"].encodings
    assert not columns["name"].is_stats_set
    assert columns["id"].is_stats_set
    # The table's own statistics (data skipping) do not depend on the file's.
    actions = pa.table(dt.get_add_actions(flatten=True))
    assert actions.column("min.id").to_pylist() == [0]
    assert actions.column("min.name").to_pylist() == ["name-0"]
    assert dt.to_pyarrow_table().sort_by("id").equals(_data())


@pytest.mark.parametrize(
    "make",
    [
        lambda: ColumnProperties(statistics_enabled="ROWS"),  # type: ignore[arg-type]
        lambda: ColumnProperties(encoding="RLE_DICTIONARY"),
        lambda: BloomFilterProperties(True, fpp=1.5),
        lambda: BloomFilterProperties(True, ndv=-1),
    ],
)
def test_invalid_column_properties_raise_value_error(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        make()


def test_column_properties_must_be_typed() -> None:
    with pytest.raises(TypeError):
        WriterProperties(column_properties={"id": {"dictionary_enabled": False}})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        WriterProperties(default_column_properties="none")  # type: ignore[arg-type]


def test_encoding_that_does_not_fit_the_column_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    props = WriterProperties(column_properties={"name": ColumnProperties(encoding="DELTA_BINARY_PACKED")})
    write_deltalake(tmp_path, _data(10))
    with pytest.raises(DeltaError):
        write_deltalake(tmp_path, _data(10), mode="append", writer_properties=props)
    assert DeltaTable(tmp_path).version() == 0


def test_rewriting_operations_use_the_writer_properties(tmp_path: Path) -> None:
    def codecs(dt: DeltaTable) -> set[str]:
        return {_columns(uri)["id"].compression for uri in dt.file_uris()}

    write_deltalake(tmp_path, _data())
    dt = DeltaTable(tmp_path)
    assert codecs(dt) == {"SNAPPY"}
    dt.delete("id < 10", writer_properties=WriterProperties(compression="ZSTD"))
    assert codecs(dt) == {"ZSTD"}
    gzip = WriterProperties(compression="GZIP")
    dt.update({"score": "score + 1"}, predicate="id >= 990", writer_properties=gzip)
    assert codecs(dt) == {"GZIP"}
    source = pa.table({"id": pa.array([5, 2_000], pa.int64()), "name": ["x", "y"], "score": [0.5, 1.5]})
    lz4 = WriterProperties(compression="BROTLI")
    (
        dt.merge(source, "target.id = source.id", writer_properties=lz4)
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    # Nothing matched (row 5 was deleted): the merge only added a file of its own.
    assert codecs(dt) == {"GZIP", "BROTLI"}
    assert dt.to_pyarrow_table().num_rows == 992
    assert dt.to_pyarrow_table(filters=[("id", "=", 995)]).column("score").to_pylist() == [996.0]

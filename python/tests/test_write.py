"""Writing: input kinds, save and schema modes, partitioning, creation and commit properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deltalake import (
    CommitProperties,
    DeltaTable,
    Field,
    PrimitiveType,
    Schema,
    Transaction,
    WriterProperties,
    write_deltalake,
)
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError


def rows(path: Path) -> list[dict[str, Any]]:
    return DeltaTable(path).to_pyarrow_table().sort_by("id").to_pylist()


def test_write_creates_and_reads_back(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample, name="events", description="test events")
    dt = DeltaTable(tmp_path)
    assert dt.version() == 0
    assert dt.to_pyarrow_table().sort_by("id").equals(sample)
    assert dt.metadata().name == "events"
    assert dt.metadata().description == "test events"
    assert dt.history()[0]["operation"] == "WRITE"


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda t: t.to_reader(), id="record-batch-reader"),
        pytest.param(lambda t: t.to_batches()[0], id="record-batch"),
        pytest.param(lambda t: t.to_batches(), id="list-of-batches"),
        pytest.param(lambda t: t.to_pandas(), id="pandas"),
    ],
)
def test_input_kinds(tmp_path: Path, sample: pa.Table, convert: Any) -> None:
    write_deltalake(tmp_path, convert(sample))
    assert [r["id"] for r in rows(tmp_path)] == [1, 2, 3, 4]


def test_polars_input(tmp_path: Path, sample: pa.Table) -> None:
    pl = pytest.importorskip("polars")
    write_deltalake(tmp_path, pl.from_arrow(sample))
    assert [r["name"] for r in rows(tmp_path)] == ["a", "b", "c", "d"]


def test_any_arrow_c_stream_object(tmp_path: Path, sample: pa.Table) -> None:
    class Producer:
        def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
            return sample.__arrow_c_stream__(requested_schema)

    write_deltalake(tmp_path, Producer())
    assert len(rows(tmp_path)) == 4


def test_reader_backed_by_python_generator(tmp_path: Path, sample: pa.Table) -> None:
    def batches() -> Any:
        yield from sample.to_batches(max_chunksize=1)

    reader = pa.RecordBatchReader.from_batches(sample.schema, batches())
    write_deltalake(tmp_path, reader, target_file_size=1024)
    assert len(rows(tmp_path)) == 4


def test_save_modes(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample)
    with pytest.raises(DeltaError, match="already exists"):
        write_deltalake(tmp_path, sample)
    write_deltalake(tmp_path, sample, mode="ignore")
    assert DeltaTable(tmp_path).version() == 0
    write_deltalake(tmp_path, sample, mode="append")
    assert len(rows(tmp_path)) == 8
    write_deltalake(tmp_path, sample.slice(0, 1), mode="overwrite")
    assert rows(tmp_path) == sample.slice(0, 1).to_pylist()
    with pytest.raises(ValueError, match="mode"):
        write_deltalake(tmp_path, sample, mode="upsert")  # type: ignore[arg-type]


def test_schema_modes(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample)
    wider = sample.append_column("extra", pa.array([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(SchemaMismatchError):
        write_deltalake(tmp_path, wider, mode="append")
    write_deltalake(tmp_path, wider, mode="append", schema_mode="merge")
    dt = DeltaTable(tmp_path)
    assert [f.name for f in dt.schema().fields] == ["id", "name", "day", "extra"]
    other = pa.table({"id": [9], "flag": [True]})
    write_deltalake(tmp_path, other, mode="overwrite", schema_mode="overwrite")
    dt = DeltaTable(tmp_path)
    assert dt.to_pyarrow_table().to_pylist() == [{"id": 9, "flag": True}]


def test_type_mismatch_is_a_schema_error(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample)
    with pytest.raises(SchemaMismatchError):
        write_deltalake(tmp_path, pa.table({"id": ["not a number"]}), mode="append")


def test_partitioned_write(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample, partition_by="day")
    dt = DeltaTable(tmp_path)
    assert dt.metadata().partition_columns == ["day"]
    assert sorted(p["day"] for p in dt.partitions()) == ["2024-01-01", "2024-01-02"]
    assert all(f.startswith("day=") for f in dt.files())
    assert dt.to_pyarrow_table().num_rows == 4


def test_writer_properties_and_file_size(tmp_path: Path) -> None:
    data = pa.table({"id": pa.array(range(20_000), pa.int64()), "text": [f"{i * 7919 % 10007:05}-row" for i in range(20_000)]})
    props = WriterProperties(compression="zstd", compression_level=3, max_row_group_size=5_000)
    chunked = pa.Table.from_batches(data.to_batches(max_chunksize=1_000))
    write_deltalake(tmp_path, chunked, writer_properties=props, target_file_size=20_000)
    dt = DeltaTable(tmp_path)
    assert len(dt.files()) > 1
    meta = pq.ParquetFile(dt.file_uris()[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert meta.row_group(0).num_rows <= 5_000
    assert props.compression == "ZSTD(3)"
    with pytest.raises(ValueError, match="rar is not a valid Compression"):
        WriterProperties(compression="rar")
    with pytest.raises(ValueError, match="Compression level for ZSTD should fall between 1-22"):
        WriterProperties(compression="zstd", compression_level=30)
    with pytest.raises(ValueError, match="without the compression type"):
        WriterProperties(compression_level=3)


def test_commit_properties(tmp_path: Path, sample: pa.Table) -> None:
    props = CommitProperties(
        custom_metadata={"userMetadata": "nightly load", "job": 42},
        max_commit_retries=3,
        app_transactions=[Transaction("loader", 7)],
    )
    write_deltalake(tmp_path, sample, commit_properties=props)
    dt = DeltaTable(tmp_path)
    info = dt.history()[0]
    assert info["userMetadata"] == "nightly load"
    assert info["job"] == 42
    assert dt.transaction_version("loader") == 7
    assert dt.transaction_version("other") is None
    with pytest.raises(CommitFailedError, match="already committed"):
        write_deltalake(
            tmp_path,
            sample,
            mode="append",
            commit_properties=CommitProperties(app_transactions=[Transaction("loader", 7)]),
        )
    with pytest.raises(TypeError):
        CommitProperties(app_transactions=[("loader", 8)])  # type: ignore[list-item]


def test_write_into_a_loaded_table_updates_it(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample)
    dt = DeltaTable(tmp_path)
    write_deltalake(dt, sample, mode="append")
    assert dt.version() == 1


def test_create_with_delta_and_arrow_schemas(tmp_path: Path) -> None:
    schema = Schema([Field("id", PrimitiveType("long"), nullable=False), Field("day", PrimitiveType("date"))])
    dt = DeltaTable.create(
        tmp_path / "a",
        schema,
        partition_by=["day"],
        configuration={"delta.appendOnly": "true", "ignored": None},
        commit_properties=CommitProperties(custom_metadata={"userMetadata": "created"}),
    )
    assert dt.version() == 0
    assert dt.schema() == schema
    assert dt.metadata().configuration == {"delta.appendOnly": "true"}
    assert dt.history()[0]["userMetadata"] == "created"
    with pytest.raises(DeltaError, match="already exists"):
        DeltaTable.create(tmp_path / "a", schema)
    assert DeltaTable.create(tmp_path / "a", schema, mode="ignore").version() == 0

    arrow = pa.schema([pa.field("x", pa.int32()), pa.field("s", pa.string())])
    created = DeltaTable.create(tmp_path / "b", arrow, name="b")
    assert created.schema().to_arrow() == arrow
    assert created.to_pyarrow_table().num_rows == 0


def test_appending_to_append_only_and_reading_with_pandas(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample, configuration={"delta.appendOnly": "true"})
    with pytest.raises(DeltaError, match="append-only"):
        write_deltalake(tmp_path, sample, mode="overwrite")
    df = DeltaTable(tmp_path).to_pandas()
    pd.testing.assert_frame_equal(
        df.sort_values("id").reset_index(drop=True), sample.to_pandas()
    )


def test_unsigned_integers_as_the_reference_maps_them(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"a": pd.Series([1, 100], dtype="uint8"), "b": pd.Series([1, 2**40], dtype="uint64")}
    )
    write_deltalake(tmp_path, frame)
    dt = DeltaTable(tmp_path)
    assert [f.type.type for f in dt.schema().fields] == ["byte", "long"]
    assert dt.to_pandas()["b"].tolist() == [1, 2**40]
    assert Schema.from_arrow(pa.schema([("u", pa.uint32())])).fields[0].type.type == "integer"
    # A value the signed type cannot hold is refused, committing nothing.
    with pytest.raises(SchemaMismatchError, match="do not fit"):
        too_big = pa.table({"a": pa.array([200], pa.uint8()), "b": pa.array([1], pa.uint64())})
        write_deltalake(tmp_path, too_big, mode="append")
    assert DeltaTable(tmp_path).version() == 0

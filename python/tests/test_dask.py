"""dask-deltatable through this package: reads, and writes that commit files written by dask
(create_table_with_add_actions, RawDeltaTable.create_write_transaction, DeltaStorageHandler)."""

from pathlib import Path

import pyarrow as pa
import pytest

from deltalake import DeltaTable, write_deltalake

ddt = pytest.importorskip("dask_deltatable")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

SCHEMA = pa.schema([("a", pa.int64()), ("p", pa.string())])


def test_read_with_partition_filters(tmp_path: Path) -> None:
    write_deltalake(tmp_path, pa.table({"a": [1, 2, 3], "p": ["x", "y", "y"]}), partition_by=["p"])
    frame = ddt.read_deltalake(str(tmp_path)).compute().sort_values("a")
    assert frame["a"].tolist() == [1, 2, 3]
    only_y = ddt.read_deltalake(str(tmp_path), filter=[("p", "=", "y")]).compute()
    assert sorted(only_y["a"].tolist()) == [2, 3]


def test_write_then_append(tmp_path: Path) -> None:
    frame = dd.from_pandas(pd.DataFrame({"a": [1, 2, 3, 4], "p": ["x", "y", "x", "y"]}), npartitions=2)
    ddt.to_deltalake(str(tmp_path), frame, partition_by=["p"], schema=SCHEMA)
    dt = DeltaTable(tmp_path)
    assert dt.version() == 0 and dt.metadata().partition_columns == ["p"]
    assert sorted(dt.to_pyarrow_table().column("a").to_pylist()) == [1, 2, 3, 4]
    ddt.to_deltalake(str(tmp_path), frame, mode="append", schema=SCHEMA)
    dt = DeltaTable(tmp_path)
    assert dt.version() == 1
    assert sorted(dt.to_pyarrow_table().column("a").to_pylist()) == [1, 1, 2, 2, 3, 3, 4, 4]
    # The statistics dask computed are the table's.
    assert dt.count() == 8

"""Optimize (compaction, Z-order) and vacuum."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from deltalake import DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import DeltaError, NotSupportedError

OPTIMIZE_METRICS = {
    "numFilesAdded",
    "numFilesRemoved",
    "filesAdded",
    "filesRemoved",
    "partitionsOptimized",
    "numBatches",
    "totalConsideredFiles",
    "totalFilesSkipped",
    "preserveInsertionOrder",
}


def _frame(dt: DeltaTable) -> pd.DataFrame:
    return dt.to_pandas().sort_values("id").reset_index(drop=True)


@pytest.fixture
def fragmented(tmp_path: Path) -> DeltaTable:
    """Three appends to each of two partitions: six small files."""
    for i in range(3):
        write_deltalake(
            tmp_path,
            pa.table({"id": [i, 10 + i], "x": [3 - i, i], "part": ["a", "b"]}),
            partition_by=["part"],
            mode="append",
        )
    return DeltaTable(tmp_path)


def test_compact(fragmented: DeltaTable) -> None:
    before = _frame(fragmented)
    metrics = fragmented.optimize.compact()
    assert set(metrics) == OPTIMIZE_METRICS
    assert metrics["numFilesRemoved"] == 6 and metrics["numFilesAdded"] == 2
    assert metrics["partitionsOptimized"] == 2
    assert metrics["filesAdded"]["totalFiles"] == 2
    assert metrics["preserveInsertionOrder"] is True
    assert fragmented.version() == 3
    assert len(fragmented.files()) == 2
    pd.testing.assert_frame_equal(_frame(fragmented), before)
    assert fragmented.history(1)[0]["operation"] == "OPTIMIZE"
    # Nothing left to do: no commit.
    assert fragmented.optimize.compact()["numFilesAdded"] == 0
    assert fragmented.version() == 3


def test_compact_partition_filter_and_options(fragmented: DeltaTable) -> None:
    metrics = fragmented.optimize.compact(
        partition_filters=[("part", "=", "a")],
        target_size=1 << 20,
        max_concurrent_tasks=1,
        writer_properties=WriterProperties(compression="ZSTD"),
    )
    assert metrics["numFilesRemoved"] == 3 and metrics["numFilesAdded"] == 1
    assert len(fragmented.files(file_pruning_predicate=[("part", "=", "b")])) == 3


def test_z_order(fragmented: DeltaTable) -> None:
    before = _frame(fragmented)
    metrics = fragmented.optimize.z_order(["x", "id"])
    assert set(metrics) == OPTIMIZE_METRICS
    assert metrics["numFilesRemoved"] == 6
    assert metrics["preserveInsertionOrder"] is False
    pd.testing.assert_frame_equal(_frame(fragmented), before)
    part_a = fragmented.to_pandas(filters=[("part", "=", "a")])
    assert sorted(part_a["x"]) == [1, 2, 3]
    # With one column, Z-order is a sort by it.
    write_deltalake(fragmented, pa.table({"id": [9], "x": [0], "part": ["a"]}), mode="append")
    fragmented.optimize.z_order("x", partition_filters=[("part", "=", "a")])
    assert fragmented.to_pandas(filters=[("part", "=", "a")])["x"].tolist() == [0, 1, 2, 3]


def test_optimize_errors(fragmented: DeltaTable) -> None:
    with pytest.raises(DeltaError):
        fragmented.optimize.z_order(["nope"])
    with pytest.raises(DeltaError):
        fragmented.optimize.z_order("part")
    with pytest.raises(DeltaError):
        fragmented.optimize.compact(partition_filters=[("nope", "=", "a")])
    with pytest.raises(ValueError):
        fragmented.optimize.z_order([])
    with pytest.raises(ValueError):
        fragmented.optimize.compact(target_size=0)
    with pytest.raises(NotSupportedError):
        fragmented.optimize.compact(min_commit_interval=10)
    assert fragmented.version() == 2


def test_vacuum(fragmented: DeltaTable) -> None:
    fragmented.optimize.compact()
    removed = sorted(DeltaTable(fragmented.table_uri, version=2).files())
    # Within the default retention of 7 days nothing is deleted.
    assert fragmented.vacuum() == []
    with pytest.raises(DeltaError, match="retention"):
        fragmented.vacuum(retention_hours=0)
    listed = fragmented.vacuum(retention_hours=0, enforce_retention_duration=False)
    assert sorted(listed) == removed
    root = Path(DeltaTable(fragmented.table_uri).file_uris()[0]).parents[1]
    assert all((root / f).exists() for f in removed)
    deleted = fragmented.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
    assert sorted(deleted) == removed
    assert not any((root / f).exists() for f in removed)
    assert fragmented.to_pyarrow_table().num_rows == 6
    assert "VACUUM END" in [h["operation"] for h in fragmented.history(2)]


def test_vacuum_full_finds_uncommitted_files(fragmented: DeltaTable) -> None:
    root = Path(fragmented.file_uris()[0]).parents[1]
    stray = root / "part=a" / "stray.parquet"
    stray.write_bytes(b"junk")
    an_hour_ago = time.time() - 3600
    os.utime(stray, (an_hour_ago, an_hour_ago))
    assert fragmented.vacuum(retention_hours=0, enforce_retention_duration=False) == []
    full = fragmented.vacuum(retention_hours=0, enforce_retention_duration=False, full=True)
    assert full == ["part=a/stray.parquet"]


def test_vacuum_arguments(fragmented: DeltaTable) -> None:
    with pytest.raises(ValueError):
        fragmented.vacuum(retention_hours=-1)
    with pytest.raises(NotSupportedError):
        fragmented.vacuum(keep_versions=[1])

"""Maintenance operations: restore, convert_to_deltalake, repair, checkpoints and log cleanup."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deltalake import CommitProperties, DeltaTable, Schema, convert_to_deltalake, write_deltalake
from deltalake.exceptions import DeltaError, NotSupportedError


def _ids(dt: DeltaTable) -> list[int]:
    return sorted(dt.to_pyarrow_table().column("id").to_pylist())


@pytest.fixture
def three_versions(tmp_path: Path) -> DeltaTable:
    """Version 0: ids 1-2; version 1: ids 1-4 (append); version 2: id 9 (overwrite), committed
    at distinct milliseconds."""
    write_deltalake(tmp_path, pa.table({"id": [1, 2]}))
    time.sleep(0.01)
    write_deltalake(tmp_path, pa.table({"id": [3, 4]}), mode="append")
    time.sleep(0.01)
    write_deltalake(tmp_path, pa.table({"id": [9]}), mode="overwrite")
    return DeltaTable(tmp_path)


def test_restore_to_version(three_versions: DeltaTable) -> None:
    dt = three_versions
    metrics = dt.restore(1, commit_properties=CommitProperties(custom_metadata={"why": "oops"}))
    # The reference package's keys, plus the sizes of the protocol's RESTORE metrics.
    assert metrics["numRestoredFile"] == 2 and metrics["numRemovedFile"] == 1
    assert metrics["numOfFilesAfterRestore"] == 2
    assert metrics["tableSizeAfterRestore"] == metrics["restoredFilesSize"] > 0
    assert metrics["removedFilesSize"] > 0
    assert dt.version() == 3
    assert _ids(dt) == [1, 2, 3, 4]
    assert _ids(DeltaTable(dt.table_uri)) == [1, 2, 3, 4]
    latest = dt.history(1)[0]
    assert latest["operation"] == "RESTORE" and latest["version"] == 3
    assert latest["why"] == "oops"


def test_restore_to_timestamp(three_versions: DeltaTable) -> None:
    dt = three_versions
    first = dt.history()[-1]["timestamp"]
    when = datetime.fromtimestamp(first / 1000, timezone.utc)
    time.sleep(0.01)  # the restore's commit gets a time of its own
    dt.restore(when)
    assert _ids(dt) == [1, 2]
    second = dt.history()[1]["timestamp"]
    dt.restore(datetime.fromtimestamp(second / 1000, timezone.utc).isoformat())
    assert dt.version() == 4 and _ids(dt) == [9]


def test_restore_errors(three_versions: DeltaTable) -> None:
    with pytest.raises(DeltaError):
        three_versions.restore(17)
    with pytest.raises(TypeError, match="target must be"):
        three_versions.restore(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ISO 8601"):
        three_versions.restore("yesterday")
    with pytest.raises(TypeError, match="CommitProperties"):
        three_versions.restore(0, commit_properties={"a": 1})  # type: ignore[arg-type]
    assert three_versions.version() == 2


def test_restore_with_missing_files(three_versions: DeltaTable) -> None:
    dt = three_versions
    for path in DeltaTable(dt.table_uri, version=0).file_uris():
        os.remove(path)
    with pytest.raises(DeltaError):
        dt.restore(0)
    dt.restore(0, ignore_missing_files=True)
    assert dt.version() == 3


def _parquet_directory(root: Path) -> None:
    (root / "year=2020").mkdir(parents=True)
    (root / "year=2021").mkdir()
    pq.write_table(pa.table({"id": [1, 2], "name": ["a", "b"]}), root / "year=2020" / "a.parquet")
    pq.write_table(pa.table({"id": [3], "name": ["c"]}), root / "year=2021" / "b.parquet")


def test_convert_to_deltalake(tmp_path: Path) -> None:
    _parquet_directory(tmp_path)
    result = convert_to_deltalake(
        tmp_path,
        partition_by=pa.schema([("year", pa.int32())]),
        partition_strategy="hive",
        name="events",
        description="converted",
        configuration={"delta.appendOnly": "true"},
        commit_properties=CommitProperties(custom_metadata={"source": "parquet"}),
    )
    assert result is None
    dt = DeltaTable(tmp_path)
    assert dt.version() == 0
    assert dt.metadata().name == "events" and dt.metadata().description == "converted"
    assert dt.metadata().partition_columns == ["year"]
    assert dt.metadata().configuration["delta.appendOnly"] == "true"
    rows = dt.to_pyarrow_table().sort_by("id")
    assert rows.column("id").to_pylist() == [1, 2, 3]
    assert rows.column("year").to_pylist() == [2020, 2020, 2021]
    assert rows.schema.field("year").type == pa.int32()
    assert len(dt.file_uris(file_pruning_predicate=[("year", "=", 2021)])) == 1
    history = dt.history()
    assert history[0]["operation"] == "CONVERT" and history[0]["source"] == "parquet"
    # The statistics of the footers were recorded.
    assert dt.get_add_actions(flatten=True).column("num_records").to_pylist() != [None, None]


def test_convert_modes_and_arguments(tmp_path: Path) -> None:
    _parquet_directory(tmp_path)
    schema = Schema.from_arrow(pa.schema([("year", pa.int64())]))
    convert_to_deltalake(tmp_path, partition_by=schema, partition_strategy="hive")
    convert_to_deltalake(tmp_path, mode="ignore")
    assert DeltaTable(tmp_path).version() == 0
    with pytest.raises(DeltaError):
        convert_to_deltalake(tmp_path)
    with pytest.raises(ValueError, match="partition_strategy is required"):
        convert_to_deltalake(tmp_path / "x", partition_by=pa.schema([("year", pa.int32())]))
    with pytest.raises(NotSupportedError):
        convert_to_deltalake(
            tmp_path / "x",
            partition_by=pa.schema([("y", pa.int32())]),
            partition_strategy="directory",
        )
    with pytest.raises(ValueError, match="mode"):
        convert_to_deltalake(tmp_path / "x", mode="append")  # type: ignore[arg-type]


def test_convert_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeltaError, match="no Parquet files"):
        convert_to_deltalake(tmp_path / "empty")
    _parquet_directory(tmp_path / "hive")
    # Partition directories without partition columns.
    with pytest.raises(DeltaError):
        convert_to_deltalake(tmp_path / "hive")
    assert not DeltaTable.is_deltatable(tmp_path / "hive")


def test_repair(tmp_path: Path) -> None:
    write_deltalake(tmp_path, pa.table({"id": [1, 2, 3], "p": ["a", "b", "c"]}), partition_by=["p"])
    dt = DeltaTable(tmp_path)
    assert dt.repair() == {"dry_run": False, "files_removed": []}
    assert dt.version() == 0
    lost = dt.files(file_pruning_predicate=[("p", "=", "b")])
    assert len(lost) == 1
    os.remove(tmp_path / lost[0])
    assert dt.repair(dry_run=True) == {"dry_run": True, "files_removed": lost}
    assert dt.version() == 0
    assert dt.repair(commit_properties=CommitProperties(custom_metadata={"k": "v"})) == {
        "dry_run": False,
        "files_removed": lost,
    }
    assert dt.version() == 1
    assert sorted(dt.to_pyarrow_table().column("id").to_pylist()) == [1, 3]
    latest = dt.history(1)[0]
    assert latest["operation"] == "FSCK" and latest["k"] == "v"
    assert dt.repair()["files_removed"] == []


def test_create_checkpoint(three_versions: DeltaTable) -> None:
    dt = three_versions
    assert dt.create_checkpoint() is None
    log = Path(dt.file_uris()[0]).parent / "_delta_log"
    assert (log / "00000000000000000002.checkpoint.parquet").is_file()
    assert json.loads((log / "_last_checkpoint").read_text())["version"] == 2
    assert _ids(DeltaTable(dt.table_uri)) == [9]


def test_compact_logs(three_versions: DeltaTable) -> None:
    dt = three_versions
    assert dt.compact_logs(1, 2) is None
    log = Path(dt.file_uris()[0]).parent / "_delta_log"
    compacted = log / "00000000000000000001.00000000000000000002.compacted.json"
    kinds = [next(iter(json.loads(line))) for line in compacted.read_text().splitlines()]
    assert "commitInfo" not in kinds and "add" in kinds
    assert _ids(DeltaTable(dt.table_uri)) == [9]
    with pytest.raises(ValueError):
        dt.compact_logs(2, 2)


def test_generate_symlink_manifests(tmp_path: Path) -> None:
    write_deltalake(tmp_path, pa.table({"id": [1, 2, 3], "p": ["a", "b c", "a"]}), partition_by=["p"])
    dt = DeltaTable(tmp_path)
    assert dt.generate() is None
    manifests = tmp_path / "_symlink_format_manifest"
    lines = (manifests / "p=a" / "manifest").read_text().splitlines()
    assert lines == [uri for uri in dt.file_uris() if "/p=a/" in uri]
    assert (manifests / "p=b c" / "manifest").read_text().splitlines() == [
        uri for uri in dt.file_uris() if "/p=b c/" in uri
    ]
    assert dt.version() == 0


def test_cleanup_metadata(tmp_path: Path) -> None:
    write_deltalake(
        tmp_path,
        pa.table({"id": [1]}),
        configuration={"delta.logRetentionDuration": "interval 0 seconds"},
    )
    write_deltalake(tmp_path, pa.table({"id": [2]}), mode="append")
    dt = DeltaTable(tmp_path)
    assert dt.cleanup_metadata() is None
    log = tmp_path / "_delta_log"
    # Without a checkpoint, every commit is needed.
    assert (log / "00000000000000000000.json").is_file()
    dt.create_checkpoint()
    dt.cleanup_metadata()
    assert not (log / "00000000000000000000.json").exists()
    assert sorted(DeltaTable(tmp_path).to_pyarrow_table().column("id").to_pylist()) == [1, 2]
    with pytest.raises(DeltaError):
        DeltaTable(tmp_path, version=0)

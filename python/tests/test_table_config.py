"""Table properties read as Delta on Spark reads them: ``true`` in any case, blanks around ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError

SPELLINGS = ["true", "TRUE", "True", " tRuE "]


def _commits(path: Path) -> list[list[dict]]:
    """The actions of every commit file, in version order."""
    files = sorted((path / "_delta_log").glob("*.json"))
    return [[json.loads(line) for line in f.read_text().splitlines() if line] for f in files]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_in_commit_timestamps_in_any_case(tmp_path: Path, sample: pa.Table, spelling: str) -> None:
    write_deltalake(tmp_path, sample, configuration={"delta.enableInCommitTimestamps": spelling})
    write_deltalake(tmp_path, sample, mode="append")
    assert "inCommitTimestamp" in (DeltaTable(tmp_path).protocol().writer_features or [])
    for actions in _commits(tmp_path):
        # commitInfo comes first and carries the in-commit timestamp.
        assert "inCommitTimestamp" in actions[0]["commitInfo"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_change_data_feed_in_any_case(tmp_path: Path, sample: pa.Table, spelling: str) -> None:
    write_deltalake(tmp_path, sample, configuration={"delta.enableChangeDataFeed": spelling})
    dt = DeltaTable(tmp_path)
    dt.delete("id = 3")
    changes = dt.load_cdf(starting_version=1).read_all()
    assert changes.column("id").to_pylist() == [3]
    assert changes.column("_change_type").to_pylist() == ["delete"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_append_only_in_any_case(tmp_path: Path, sample: pa.Table, spelling: str) -> None:
    write_deltalake(tmp_path, sample, configuration={"delta.appendOnly": spelling})
    dt = DeltaTable(tmp_path)
    with pytest.raises(DeltaError, match="append-only"):
        dt.delete("id = 1")
    with pytest.raises(DeltaError, match="append-only"):
        dt.update(updates={"name": "'z'"})
    with pytest.raises(DeltaError, match="append-only"):
        write_deltalake(tmp_path, sample, mode="overwrite")
    write_deltalake(tmp_path, sample, mode="append")
    dt = DeltaTable(tmp_path)
    assert dt.version() == 1
    assert dt.to_pyarrow_table().num_rows == 2 * sample.num_rows

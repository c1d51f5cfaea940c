"""PostCommitHookProperties: the log cleanup after automatic checkpoints."""

from pathlib import Path

import pyarrow as pa
import pytest

from deltalake import DeltaTable, PostCommitHookProperties, write_deltalake

CONFIG = {"delta.checkpointInterval": "2", "delta.logRetentionDuration": "interval 0 seconds"}


def _commits(path: Path) -> list[str]:
    return sorted(p.name for p in (path / "_delta_log").glob("*.json"))


def _three_versions(path: Path, hooks: PostCommitHookProperties | None) -> DeltaTable:
    data = pa.table({"a": [1, 2]})
    write_deltalake(path, data, configuration=CONFIG)
    write_deltalake(path, data, mode="append", post_commithook_properties=hooks)
    dt = DeltaTable(path)
    dt.delete("a = 1", post_commithook_properties=hooks)
    return dt


def test_expired_logs_are_cleaned_after_a_checkpoint_by_default(tmp_path: Path) -> None:
    dt = _three_versions(tmp_path, None)
    assert dt.version() == 2
    assert _commits(tmp_path) == ["00000000000000000002.json"]
    assert dt.to_pyarrow_table().num_rows == 2
    assert DeltaTable(tmp_path).version() == 2


def test_cleanup_can_be_switched_off(tmp_path: Path) -> None:
    _three_versions(tmp_path, PostCommitHookProperties(cleanup_expired_logs=False))
    assert len(_commits(tmp_path)) == 3
    assert (tmp_path / "_delta_log" / "00000000000000000002.checkpoint.parquet").exists()


def test_no_checkpoint_and_no_cleanup_without_the_checkpoint_hook(tmp_path: Path) -> None:
    hooks = PostCommitHookProperties(create_checkpoint=False, cleanup_expired_logs=True)
    dt = _three_versions(tmp_path, hooks)
    assert len(_commits(tmp_path)) == 3
    assert not list((tmp_path / "_delta_log").glob("*.checkpoint.parquet"))
    # Every kind of commit honours it: update, alter, and a write through a table.
    dt.update({"a": "a + 1"}, post_commithook_properties=hooks)
    dt.merge(pa.table({"a": [5]}), "t.a = s.a", "s", "t").when_not_matched_insert_all().execute()
    dt.alter.set_table_name("n", post_commithook_properties=hooks)
    write_deltalake(dt, pa.table({"a": [6]}), mode="append", post_commithook_properties=hooks)
    assert dt.version() == 6
    checkpoints = sorted(p.name for p in (tmp_path / "_delta_log").glob("*.checkpoint.parquet"))
    # The merge had no hook properties: its version (4) was checkpointed as usual.
    assert checkpoints == ["00000000000000000004.checkpoint.parquet"]


def test_write_through_a_uri_and_optimize_run_the_hook(tmp_path: Path) -> None:
    data = pa.table({"a": [1, 2]})
    write_deltalake(tmp_path, data, configuration=CONFIG)
    write_deltalake(tmp_path, data, mode="append")
    dt = DeltaTable(tmp_path)
    dt.optimize.compact(post_commithook_properties=PostCommitHookProperties(cleanup_expired_logs=True))
    assert dt.version() == 2
    assert _commits(tmp_path) == ["00000000000000000002.json"]
    write_deltalake(tmp_path, data, mode="append")
    write_deltalake(tmp_path, data, mode="append")
    assert _commits(tmp_path) == ["00000000000000000004.json"]


def test_invalid_hook_properties() -> None:
    with pytest.raises(TypeError):
        PostCommitHookProperties(create_checkpoint="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="post_commithook_properties"):
        write_deltalake("/tmp/never", pa.table({"a": [1]}), post_commithook_properties={})  # type: ignore[arg-type]

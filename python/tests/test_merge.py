"""MERGE through ``DeltaTable.merge`` and ``TableMerger``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from deltalake import DeltaTable, TableMerger, write_deltalake
from deltalake.exceptions import DeltaError

MERGE_METRICS = {
    "num_source_rows",
    "num_target_rows_inserted",
    "num_target_rows_updated",
    "num_target_rows_deleted",
    "num_target_rows_copied",
    "num_output_rows",
    "num_target_files_scanned",
    "num_target_files_skipped_during_scan",
    "num_target_files_added",
    "num_target_files_removed",
    "execution_time_ms",
    "scan_time_ms",
    "rewrite_time_ms",
}


@pytest.fixture
def table(tmp_path: Path) -> DeltaTable:
    data = pa.table({"id": pa.array([1, 2, 3, 4], pa.int64()), "value": ["a", "b", "c", "d"]})
    write_deltalake(tmp_path, data)
    return DeltaTable(tmp_path)


def _rows(dt: DeltaTable) -> list[tuple]:
    frame = dt.to_pandas().sort_values("id")
    return [tuple(r) for r in frame.itertuples(index=False)]


def _source() -> pa.Table:
    return pa.table({"id": pa.array([3, 4, 5], pa.int64()), "value": ["C", "D", "E"]})


def test_upsert_updates_matches_and_inserts_the_rest(table: DeltaTable) -> None:
    merger = table.merge(_source(), "t.id = s.id", source_alias="s", target_alias="t")
    assert isinstance(merger, TableMerger)
    metrics = merger.when_matched_update_all().when_not_matched_insert_all().execute()
    assert MERGE_METRICS <= set(metrics)
    assert metrics["num_source_rows"] == 3
    assert metrics["num_target_rows_updated"] == 2
    assert metrics["num_target_rows_inserted"] == 1
    assert table.version() == 1
    assert _rows(table) == [(1, "a"), (2, "b"), (3, "C"), (4, "D"), (5, "E")]
    history = table.history(1)[0]
    assert history["operation"] == "MERGE"


def test_clauses_with_predicates_apply_in_order(table: DeltaTable) -> None:
    metrics = (
        table.merge(_source(), "target.id = source.id")
        .when_matched_update({"value": "coalesce(NULL, 'three')"}, predicate="source.id = 3")
        .when_matched_delete()
        .when_not_matched_insert({"id": "source.id", "value": "'new'"})
        .when_not_matched_by_source_update({"value": "'old'"}, predicate="target.id = 1")
        .when_not_matched_by_source_delete()
        .execute()
    )
    assert metrics["num_target_rows_deleted"] == 2
    assert _rows(table) == [(1, "old"), (3, "three"), (5, "new")]


def test_pandas_source_and_except_cols(table: DeltaTable) -> None:
    source = pd.DataFrame({"id": [4, 9], "value": ["x", "y"]})
    table.merge(source, "target.id = source.id").when_matched_update_all(
        except_cols=["value"]
    ).when_not_matched_insert_all(except_cols=["value"]).execute()
    *_, updated, inserted = _rows(table)
    assert updated == (4, "d")
    assert inserted[0] == 9 and pd.isna(inserted[1])


def test_schema_evolution(table: DeltaTable) -> None:
    source = pa.table({"id": pa.array([1, 7], pa.int64()), "value": ["A", "G"], "extra": [1.5, 2.5]})
    table.merge(source, "target.id = source.id", merge_schema=True).when_matched_update_all().when_not_matched_insert_all().execute()
    assert "extra" in [f.name for f in table.schema().fields]
    frame = table.to_pandas().sort_values("id")
    assert frame["extra"].tolist()[0] == 1.5
    assert frame["extra"].isna().sum() == 3


def test_deletion_vectors_and_change_data(tmp_path: Path) -> None:
    data = pa.table({"id": pa.array(range(10), pa.int64()), "value": [str(i) for i in range(10)]})
    write_deltalake(
        tmp_path,
        data,
        configuration={"delta.enableDeletionVectors": "true", "delta.enableChangeDataFeed": "true"},
    )
    dt = DeltaTable(tmp_path)
    metrics = dt.merge(_source(), "target.id = source.id").when_matched_update_all().execute()
    assert metrics["num_target_rows_copied"] == 0
    assert metrics["num_target_deletion_vectors_added"] == 1
    changes = pa.table(dt.load_cdf(starting_version=1)).to_pandas()
    assert sorted(changes["_change_type"]) == ["update_postimage"] * 3 + ["update_preimage"] * 3
    assert _rows(dt)[2:7] == [(2, "2"), (3, "C"), (4, "D"), (5, "E"), (6, "6")]


def test_bad_input_raises_and_commits_nothing(table: DeltaTable) -> None:
    with pytest.raises(DeltaError, match="missing"):
        table.merge(_source(), "target.missing = source.id").when_matched_delete().execute()
    duplicated = pa.table({"id": pa.array([3, 3], pa.int64()), "value": ["x", "y"]})
    with pytest.raises(DeltaError, match="more than once"):
        table.merge(duplicated, "target.id = source.id").when_matched_update_all().execute()
    with pytest.raises(DeltaError, match="at least one clause"):
        table.merge(_source(), "target.id = source.id").execute()
    with pytest.raises(TypeError):
        table.merge(_source(), "target.id = source.id").when_matched_update({"value": 1})  # type: ignore[dict-item]
    assert table.version() == 0
    assert _rows(table) == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]


def test_metrics_recorded_in_the_commit(table: DeltaTable) -> None:
    table.merge(_source(), "target.id = source.id").when_not_matched_insert_all().execute()
    history = table.history(1)[0]
    metrics = history["operationMetrics"]
    assert int(metrics["numTargetRowsInserted"]) == 1
    parameters = history["operationParameters"]
    assert json.loads(parameters["notMatchedPredicates"]) == [{"actionType": "insert"}]

"""Shared fixtures: the real Delta tables of ../shared/testdata and small tables written here."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

REPO = Path(__file__).resolve().parents[2]
TABLES = Path(os.environ.get("DELTA_TESTDATA", REPO.parent / "shared" / "testdata")) / "tables"


@pytest.fixture(scope="session")
def tables() -> Path:
    """The directory of the shared test tables."""
    if not TABLES.is_dir():
        pytest.fail(f"test tables not found at {TABLES} (set DELTA_TESTDATA)")
    return TABLES


@pytest.fixture
def sample() -> pa.Table:
    """A small table with an int, a string and a partition-friendly column."""
    return pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "name": ["a", "b", "c", "d"],
            "day": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02"],
        }
    )

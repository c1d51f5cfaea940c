"""Latency of consecutive small appends with write_deltalake: append.py TABLE COMMITS ROWS

Version 0 creates the table (untimed); the samples are the latencies of appends 1..COMMITS. Each
append passes the same DeltaTable object, which write_deltalake brings up to date and leaves at the
new version, as an application appending in a loop would (no log replay from scratch).
"""

import shutil
import sys
from datetime import datetime, timedelta, timezone

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from _bench import fail, report, timed

table, commits, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start = datetime(2024, 1, 1, tzinfo=timezone.utc)
batch = pa.table(
    {
        "id": pa.array(range(rows), pa.int64()),
        "key": pa.array([f"key-{i:05}" for i in range(rows)], pa.string()),
        "value": pa.array([i * 0.5 for i in range(rows)], pa.float64()),
        "ts": pa.array([start + timedelta(milliseconds=i) for i in range(rows)], pa.timestamp("us", tz="UTC")),
        "flag": pa.array([i % 2 == 0 for i in range(rows)], pa.bool_()),
    }
)
shutil.rmtree(table, ignore_errors=True)
write_deltalake(table, batch)
dt = DeltaTable(table)
samples = []
for _ in range(commits):
    seconds, _ = timed(lambda: write_deltalake(dt, batch, mode="append"))
    samples.append(seconds)
if dt.version() != commits or DeltaTable(table).version() != commits:
    fail(f"expected version {commits} after the appends")
shutil.rmtree(table)
report(samples)

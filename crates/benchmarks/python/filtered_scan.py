"""Read the rows a filter keeps: filtered_scan.py TABLE RUNS delta|parquet id|partition THRESHOLD EXPECTED_ROWS

id: the rows with id >= THRESHOLD (statistics skip files and row groups); partition: the rows of
the flag=true partition of a table partitioned by flag. delta: DeltaTable(TABLE).to_pyarrow_table
with the filter; parquet: pyarrow on the same data files with the same filter (the raw limit).
"""

import glob
import os
import sys

import pyarrow.parquet as pq
from deltalake import DeltaTable

from _bench import fail, time_reads

table, runs, mode, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
threshold, expected = int(sys.argv[5]), int(sys.argv[6])
if kind == "id":
    filters = [("id", ">=", threshold)]
    files = sorted(glob.glob(os.path.join(table, "*.parquet")))
elif kind == "partition":
    filters = [("flag", "=", True)]
    files = sorted(glob.glob(os.path.join(table, "flag=true", "*.parquet")))
else:
    fail(f"unknown filter {kind}: use id or partition")
if mode == "delta":
    action = lambda: DeltaTable(table).to_pyarrow_table(filters=filters)
elif mode == "parquet" and kind == "id":
    action = lambda: pq.read_table(files, filters=filters)
elif mode == "parquet":
    # The partition's files hold the other columns; the directory names the partition.
    action = lambda: pq.read_table(files)
else:
    fail(f"unknown mode {mode}: use delta or parquet")
time_reads(action, runs, expected)

"""Read a whole table into memory: scan.py TABLE RUNS delta|parquet EXPECTED_ROWS

delta: DeltaTable(TABLE).to_pyarrow_table(); parquet: pq.read_table of the same data files (the
reference's own raw limit).
"""

import glob
import os
import sys

import pyarrow.parquet as pq
from deltalake import DeltaTable

from _bench import fail, time_reads

table, runs, mode, expected = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
files = sorted(glob.glob(os.path.join(table, "*.parquet")))
if mode == "delta":
    action = lambda: DeltaTable(table).to_pyarrow_table()
elif mode == "parquet":
    action = lambda: pq.read_table(files)
else:
    fail(f"unknown mode {mode}: use delta or parquet")
time_reads(action, runs, expected)

"""Open a table with deltalake (log replay and file list): open_table.py TABLE RUNS EXPECTED_VERSION"""

import sys

from deltalake import DeltaTable

from _bench import fail, report, timed

table, runs, expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
samples = []
for _ in range(runs):
    seconds, dt = timed(lambda: DeltaTable(table))
    if dt.version() != expected:
        fail(f"opened version {dt.version()}, expected {expected}")
    samples.append(seconds)
report(samples)

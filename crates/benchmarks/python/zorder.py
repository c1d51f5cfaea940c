"""Z-order a copy of a table with deltalake: zorder.py SOURCE SCRATCH RUNS COLUMN...

Each run copies SOURCE to SCRATCH (untimed), opens it and times optimize.z_order(COLUMNS).
"""

import shutil
import sys

from deltalake import DeltaTable

from _bench import fail, report, timed

source, scratch, runs, columns = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
samples = []
for _ in range(runs):
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(source, scratch)
    dt = DeltaTable(scratch)
    seconds, metrics = timed(lambda: dt.optimize.z_order(columns))
    if metrics["numFilesRemoved"] == 0:
        fail(f"Z-order rewrote nothing: {metrics}")
    samples.append(seconds)
shutil.rmtree(scratch, ignore_errors=True)
report(samples)

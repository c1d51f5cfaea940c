"""Delete rows from a copy of a table with deltalake: delete.py SOURCE SCRATCH RUNS PREDICATE

Each run copies SOURCE to SCRATCH (untimed), opens it and times delete(PREDICATE). deltalake
1.6.6 rewrites the files it deletes from, deletion vectors enabled or not.
"""

import shutil
import sys

from deltalake import DeltaTable

from _bench import fail, report, timed

source, scratch, runs, predicate = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
samples = []
for _ in range(runs):
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(source, scratch)
    dt = DeltaTable(scratch)
    seconds, metrics = timed(lambda: dt.delete(predicate))
    if metrics["num_deleted_rows"] == 0:
        fail(f"deleted nothing: {metrics}")
    samples.append(seconds)
shutil.rmtree(scratch, ignore_errors=True)
report(samples)

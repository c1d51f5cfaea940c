"""Compact a copy of a table of small files with deltalake: compact.py SOURCE SCRATCH RUNS

Each run copies SOURCE to SCRATCH (untimed), opens it and times optimize.compact().
"""

import shutil
import sys

from deltalake import DeltaTable

from _bench import fail, report, timed

source, scratch, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
samples = []
for _ in range(runs):
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(source, scratch)
    dt = DeltaTable(scratch)
    before = len(dt.file_uris())
    seconds, metrics = timed(dt.optimize.compact)
    if metrics["numFilesRemoved"] != before or metrics["numFilesAdded"] != 1:
        fail(f"compacted {before} files: {metrics}")
    samples.append(seconds)
shutil.rmtree(scratch, ignore_errors=True)
report(samples)

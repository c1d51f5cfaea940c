"""Checkpoint a table with deltalake: checkpoint.py SOURCE DEST RUNS

Each run copies SOURCE's _delta_log to DEST, opens it (untimed) and times create_checkpoint().
DEST is left with its checkpoint.
"""

import os
import shutil
import sys

from deltalake import DeltaTable

from _bench import fail, report, timed

source, dest, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
samples = []
for _ in range(runs):
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(os.path.join(source, "_delta_log"), os.path.join(dest, "_delta_log"))
    dt = DeltaTable(dest)
    seconds, _ = timed(dt.create_checkpoint)
    checkpoint = os.path.join(dest, "_delta_log", f"{dt.version():020}.checkpoint.parquet")
    if not os.path.exists(checkpoint):
        fail(f"no checkpoint at {checkpoint}")
    samples.append(seconds)
report(samples)

"""Write the data set's rows into a new table with write_deltalake: write.py DATASET SCRATCH RUNS

The rows are read into memory first (untimed), from the data files of DATASET.
"""

import glob
import os
import shutil
import sys

import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake

from _bench import fail, report, timed

dataset, scratch, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = pq.read_table(sorted(glob.glob(os.path.join(dataset, "*.parquet"))))
samples = []
for _ in range(runs):
    shutil.rmtree(scratch, ignore_errors=True)
    seconds, _ = timed(lambda: write_deltalake(scratch, data))
    if DeltaTable(scratch).version() != 0:
        fail("the write did not create version 0")
    shutil.rmtree(scratch)
    samples.append(seconds)
report(samples)

"""Write the data set's rows into 16 partitions: partitioned_write.py DATASET SCRATCH RUNS delta|parquet

The rows are read into memory first (untimed), with a `part` column, id % 16, added, so every batch
holds rows of every partition. delta: write_deltalake(partition_by=["part"]) into a new table;
parquet: pyarrow.dataset.write_dataset of the same rows with hive partitioning (the raw limit).
"""

import glob
import os
import shutil
import sys

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake

from _bench import fail, report, timed

PARTITIONS = 16

dataset, scratch, runs, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = pq.read_table(sorted(glob.glob(os.path.join(dataset, "*.parquet"))))
data = data.append_column("part", pc.bit_wise_and(data["id"], PARTITIONS - 1))


def write_delta():
    write_deltalake(scratch, data, partition_by=["part"])
    if DeltaTable(scratch).version() != 0:
        fail("the write did not create version 0")


def write_parquet():
    ds.write_dataset(data, scratch, format="parquet", partitioning=["part"], partitioning_flavor="hive")


if mode == "delta":
    action = write_delta
elif mode == "parquet":
    action = write_parquet
else:
    fail(f"unknown mode {mode}: use delta or parquet")
samples = []
for _ in range(runs):
    shutil.rmtree(scratch, ignore_errors=True)
    seconds, _ = timed(action)
    written = len(glob.glob(os.path.join(scratch, "part=*")))
    if written != PARTITIONS:
        fail(f"wrote {written} partition directories, expected {PARTITIONS}")
    shutil.rmtree(scratch)
    samples.append(seconds)
report(samples)

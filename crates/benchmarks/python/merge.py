"""Merge the source into a copy of the data set's table: merge.py DATASET SOURCE SCRATCH RUNS

An upsert on target.id = source.id (update all matched, insert all others); the source Parquet
file is read into memory untimed and each run merges into a fresh copy of the table (its log
copied, its data files hard-linked). streamed_exec=False lets delta-rs prune target files by the
source's key range, as ours does.
"""

import os
import shutil
import sys

import pyarrow.parquet as pq
from deltalake import DeltaTable

from _bench import fail, report, timed

dataset, source_path, scratch, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
source = pq.read_table(source_path)
half = source.num_rows // 2


def link_table(src, dst):
    os.makedirs(dst)
    for name in os.listdir(src):
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if name == "_delta_log":
            shutil.copytree(s, d)
        elif os.path.isdir(s):
            link_table(s, d)
        else:
            os.link(s, d)


samples = []
for _ in range(runs):
    shutil.rmtree(scratch, ignore_errors=True)
    link_table(dataset, scratch)
    table = DeltaTable(scratch)
    merger = (
        table.merge(
            source,
            "target.id = source.id",
            source_alias="source",
            target_alias="target",
            streamed_exec=False,
        )
        .when_matched_update_all()
        .when_not_matched_insert_all()
    )
    seconds, metrics = timed(merger.execute)
    if metrics["num_target_rows_updated"] != half or metrics["num_target_rows_inserted"] != half:
        fail(f"unexpected merge: {metrics}")
    shutil.rmtree(scratch)
    samples.append(seconds)
report(samples)

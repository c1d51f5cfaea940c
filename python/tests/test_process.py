"""Threads, fork, Ctrl-C, interpreter exit and interoperability with pandas and pyarrow."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from deltalake import DeltaTable, write_deltalake


def count_rows(path: str) -> int:
    return DeltaTable(path).to_pyarrow_table().num_rows


def test_threads_read_concurrently(tables: Path) -> None:
    path = str(tables / "delta-0.8.0-partitioned")
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(count_rows, [path] * 32))
    assert counts == [7] * 32


def test_threads_append_concurrently(tmp_path: Path) -> None:
    write_deltalake(tmp_path, pa.table({"id": [0]}))

    def append(i: int) -> None:
        write_deltalake(tmp_path, pa.table({"id": [i]}), mode="append")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(append, range(1, 9)))
    dt = DeltaTable(tmp_path)
    assert dt.version() == 8
    assert sorted(dt.to_pyarrow_table().column("id").to_pylist()) == list(range(9))


def _child_read(path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(count_rows(path))


def test_fork_child_reads_after_parent_used_the_runtime(tables: Path) -> None:
    path = str(tables / "delta-0.8.0-partitioned")
    assert count_rows(path) == 7  # the parent's runtime exists before the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_read, args=(path, queue))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == 7


def _child_append(path: str) -> None:
    write_deltalake(path, pa.table({"id": [1]}), mode="append")


def test_fork_child_writes_after_parent_wrote(tmp_path: Path) -> None:
    # The parent's encoding threads exist before the fork; the child must start its own (a write
    # in the child used to wait forever on the parent's).
    write_deltalake(tmp_path, pa.table({"id": [0]}))
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_child_append, args=(str(tmp_path),))
    child.start()
    child.join(timeout=120)
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0
    assert sorted(DeltaTable(tmp_path).to_pyarrow_table().column("id").to_pylist()) == [0, 1]


def test_process_exits_cleanly_after_reading(tables: Path, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from deltalake import DeltaTable, write_deltalake\n"
        "dt = DeltaTable(sys.argv[1])\n"
        "assert dt.to_pyarrow_table().num_rows == 7\n"
        "write_deltalake(sys.argv[2], dt.to_pyarrow_table())\n"
        "print('done')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tables / "delta-0.8.0-partitioned"), str(tmp_path / "t")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"


def test_pyarrow_and_pandas_read_our_files(tmp_path: Path, sample: pa.Table) -> None:
    write_deltalake(tmp_path, sample, partition_by=["day"])
    dt = DeltaTable(tmp_path)
    frames = []
    for uri, partition in zip(dt.file_uris(), dt.get_add_actions(flatten=True).column("partition.day").to_pylist()):
        frame = pd.read_parquet(uri)
        frame["day"] = partition
        frames.append(frame)
    merged = pd.concat(frames).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(merged[["id", "name", "day"]], sample.to_pandas())
    plain = tmp_path / "plain"
    write_deltalake(plain, sample)
    direct = pq.read_table([str(u) for u in DeltaTable(plain).file_uris()][0])
    assert direct.sort_by("id").equals(sample)


def test_works_without_pyarrow(tables: Path, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['pyarrow'] = None  # as if pyarrow were not installed\n"
        "from deltalake import DeltaTable, write_deltalake\n"
        "dt = DeltaTable(sys.argv[1])\n"
        "assert hasattr(dt.get_add_actions(), '__arrow_c_stream__')\n"
        "assert hasattr(dt.schema().to_arrow(), '__arrow_c_schema__')\n"
        "assert hasattr(dt.load_cdf(), '__arrow_c_stream__')\n"
        "try:\n"
        "    dt.to_pyarrow_table()\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('to_pyarrow_table needs pyarrow')\n"
        "write_deltalake(sys.argv[2], dt)  # a DeltaTable is an Arrow stream itself\n"
        "print(len(DeltaTable(sys.argv[2]).files()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tables / "cdf-table"), str(tmp_path / "copy")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 1
    copied = DeltaTable(tmp_path / "copy").to_pyarrow_table()
    assert copied.num_rows == DeltaTable(tables / "cdf-table").to_pyarrow_table().num_rows


def test_ctrl_c_interrupts_a_long_write_and_commits_nothing(tmp_path: Path) -> None:
    # The write consumes an endless stream: only Ctrl-C (SIGINT) ends it.
    script = (
        "import itertools, sys\n"
        "import pyarrow as pa\n"
        "from deltalake import write_deltalake\n"
        "schema = pa.schema([('id', pa.int64())])\n"
        "def batches():\n"
        "    for i in itertools.count():\n"
        "        if i == 10:\n"
        "            print('writing', flush=True)\n"
        "        yield pa.record_batch([pa.array(range(i * 1000, (i + 1) * 1000), pa.int64())], schema=schema)\n"
        "try:\n"
        "    write_deltalake(sys.argv[1], pa.RecordBatchReader.from_batches(schema, batches()))\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(3)\n"
    )
    target = tmp_path / "t"
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "writing"
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError("the write went on after Ctrl-C") from None
    assert child.returncode == 3, err
    assert out.strip() == "interrupted"
    assert not DeltaTable.is_deltatable(str(target))

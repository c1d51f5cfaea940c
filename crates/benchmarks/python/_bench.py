"""Shared helpers of the reference benchmark scripts: timing, checks and the result line.

Every script prints one JSON line, {"samples": [seconds...], "peak_rss_bytes": N}, and leaves with
os._exit: deltalake 1.6.6 sometimes aborts at interpreter exit after a successful run.
"""

import json
import os
import resource
import sys
import time


def timed(action):
    """Run action(); return (seconds, its result)."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def time_reads(action, runs, expected_rows):
    """Time runs of action(), a read returning a pyarrow Table of expected_rows rows; report them."""
    samples = []
    for _ in range(runs):
        seconds, data = timed(action)
        if data.num_rows != expected_rows:
            fail(f"read {data.num_rows} rows, expected {expected_rows}")
        del data
        samples.append(seconds)
    report(samples)


def fail(message):
    """Report an error and stop with exit code 1."""
    print(message, file=sys.stderr)
    sys.stderr.flush()
    os._exit(1)


def report(samples):
    """Print the samples with this process's peak resident memory, and stop."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    print(json.dumps({"samples": samples, "peak_rss_bytes": peak}))
    sys.stdout.flush()
    os._exit(0)

"""Writes the rows the reference read (expected/<table>/rows.parquet) as canonical JSON lines,
one file per table, for the Node tests to compare with what the package reads.

Canonical values: integers (and floats without a fraction) as decimal strings, other floats as
numbers ("NaN", "Infinity" as strings), timestamps as epoch milliseconds, dates as the
milliseconds of their midnight UTC, binary as hex, maps as objects, decimals as numbers.

Usage: python expected_rows.py EXPECTED_DIR OUTPUT_DIR
"""

import calendar
import datetime
import decimal
import json
import math
import os
import sys

import pyarrow.parquet as pq


def canon(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return canon(float(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else value
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return str(calendar.timegm(value.utctimetuple()) * 1000 + value.microsecond // 1000)
    if isinstance(value, datetime.date):
        return str((value - datetime.date(1970, 1, 1)).days * 86400000)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):
            return {str(canon(k)): canon(v) for k, v in value}
        return [canon(item) for item in value]
    raise TypeError(f"no canonical form for {type(value).__name__}")


def main(expected_dir, output_dir):
    os.makedirs(output_dir, exist_ok=True)
    for table in sorted(os.listdir(expected_dir)):
        path = os.path.join(expected_dir, table, "rows.parquet")
        if not os.path.exists(path):
            continue
        out = os.path.join(output_dir, f"{table}.jsonl")
        try:
            rows = pq.read_table(path).to_pylist()
            lines = [json.dumps(canon(row), sort_keys=True) for row in rows]
        except (TypeError, ValueError, OverflowError) as err:
            with open(out + ".error", "w") as f:
                f.write(str(err))
            continue
        with open(out, "w") as f:
            f.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Writes the rows the reference reader read (each expected/<table>/rows.parquet) as JSON lines of
canonical values, OUTPUT_DIR/<table>.jsonl, for the Ruby conformance tests to compare with what
the gem reads.

Canonical values: nil, booleans, integers, floats, strings as themselves; binary as
{"bin": hex}; timestamps as {"us": microseconds since the epoch, UTC}; dates as {"date": ISO};
decimals as {"dec": "numerator/denominator"}; maps (key/value pairs) and structs as objects.

Usage: python expected_rows.py EXPECTED_DIR OUTPUT_DIR
"""

import datetime
import decimal
import fractions
import json
import os
import sys

import pyarrow.parquet as pq

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def canon(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        f = fractions.Fraction(value)
        return {"dec": f"{f.numerator}/{f.denominator}"}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return {"us": (value - EPOCH) // datetime.timedelta(microseconds=1)}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {"bin": bytes(value).hex()}
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):
            return {str(k): canon(v) for k, v in value}
        return [canon(item) for item in value]
    raise TypeError(f"no canonical form for {type(value).__name__}")


def main(expected_dir, output_dir):
    for table in sorted(os.listdir(expected_dir)):
        path = os.path.join(expected_dir, table, "rows.parquet")
        if not os.path.exists(path):
            continue
        with open(os.path.join(output_dir, table + ".jsonl"), "w") as out:
            for row in pq.read_table(path).to_pylist():
                out.write(json.dumps({k: canon(v) for k, v in row.items()}, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

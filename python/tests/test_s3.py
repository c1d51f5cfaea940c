"""storage_options against a real S3 server: moto, started on a free 127.0.0.1 port by a fixture.

scripts/test.sh installs moto with scripts/setup-services.sh and exports DELTA_TEST_MOTO_SERVER.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

import pyarrow as pa
import pytest

from deltalake import DeltaTable, write_deltalake


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto():
    """The endpoint of a moto server with the bucket `bucket`."""
    server = os.environ.get("DELTA_TEST_MOTO_SERVER")
    if not server or not os.path.exists(server):
        pytest.fail("DELTA_TEST_MOTO_SERVER is not set: run ./scripts/setup-services.sh (scripts/test.sh does)")
    port = _free_port()
    process = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("moto did not start")
                time.sleep(0.2)
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/bucket", method="PUT"))
        yield endpoint
    finally:
        process.kill()
        process.wait()


def _options(endpoint: str, **extra: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        **extra,
    }


@pytest.mark.parametrize(
    "name,extra",
    [("conditional", {}), ("dynamodb", {"AWS_S3_LOCKING_PROVIDER": "dynamodb", "DELTA_DYNAMO_TABLE_NAME": "py_log"})],
)
def test_write_read_and_time_travel_on_s3(moto, name, extra):
    uri = f"s3://bucket/{name}"
    options = _options(moto, **extra)
    write_deltalake(uri, pa.table({"id": [1, 2]}), storage_options=options)
    write_deltalake(uri, pa.table({"id": [3]}), mode="append", storage_options=options)
    table = DeltaTable(uri, storage_options=options)
    assert table.version() == 1
    assert sorted(table.to_pyarrow_table()["id"].to_pylist()) == [1, 2, 3]
    first = DeltaTable(uri, version=0, storage_options=options)
    assert sorted(first.to_pyarrow_table()["id"].to_pylist()) == [1, 2]
    with pytest.raises(Exception, match="exists"):
        write_deltalake(uri, pa.table({"id": [4]}), mode="error", storage_options=options)


def test_secrets_are_not_in_error_messages(moto):
    options = _options(moto, AWS_SECRET_ACCESS_KEY="super-secret-value")
    with pytest.raises(Exception) as info:
        DeltaTable("s3://bucket/missing", storage_options=options)
    assert "super-secret-value" not in str(info.value)
    assert "s3://bucket/missing" in str(info.value)

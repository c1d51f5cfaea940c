"""Names that code written for the reference package imports, and what they do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import deltalake


def test_top_level_names_match_the_reference() -> None:
    for name in [
        "enable_nanosecond_timestamps",
        "init_tracing",
        "rust_core_version",
        "VariantType",
        "DataType",
        "TableFeatures",
        "Transaction",
    ]:
        assert name in deltalake.__all__
        assert hasattr(deltalake, name)
    assert deltalake.rust_core_version().count(".") == 2


def test_nanosecond_timestamps_are_refused_as_by_a_build_without_them() -> None:
    with pytest.raises(RuntimeError, match="nanosecond-timestamps"):
        deltalake.enable_nanosecond_timestamps()


def test_init_tracing_logs_spans_to_stderr(tmp_path: Path) -> None:
    script = (
        "import deltalake, pyarrow as pa, sys\n"
        "deltalake.init_tracing()\n"
        "deltalake.init_tracing()\n"
        "deltalake.write_deltalake(sys.argv[1], pa.table({'a': [1, 2]}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUST_LOG", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "t")], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "write" in done.stderr and "deltalake" in done.stderr
    with pytest.raises(deltalake.exceptions.NotSupportedError, match="OpenTelemetry"):
        deltalake.init_tracing("http://localhost:4318/v1/traces")


def test_writer_is_a_package_laid_out_as_the_reference() -> None:
    from deltalake.writer import (
        BloomFilterProperties,
        ColumnProperties,
        WriterProperties,
        convert_to_deltalake,
        write_deltalake,
    )
    from deltalake.writer._utils import try_get_deltatable, try_get_table_and_table_uri
    from deltalake.writer.convert_to import convert_to_deltalake as convert
    from deltalake.writer.properties import Compression, Encoding
    from deltalake.writer.writer import write_deltalake as write

    assert write is write_deltalake and convert is convert_to_deltalake
    assert deltalake.WriterProperties is WriterProperties
    assert deltalake.ColumnProperties is ColumnProperties
    assert deltalake.BloomFilterProperties is BloomFilterProperties
    assert Compression.from_str("zstd").get_level_range() == (1, 22)
    assert Encoding.from_str("plain") is Encoding.PLAIN
    assert try_get_deltatable("/nonexistent/table", None) is None
    with pytest.raises(ValueError, match="table_or_uri must be"):
        try_get_table_and_table_uri(3)  # type: ignore[arg-type]


def test_column_properties_refuse_dictionary_with_an_encoding() -> None:
    with pytest.raises(ValueError, match="dictionary_enabled=True and encoding"):
        deltalake.ColumnProperties(dictionary_enabled=True, encoding="PLAIN")
    with pytest.raises(ValueError, match="not a valid Encoding"):
        deltalake.ColumnProperties(encoding="ZIGZAG")


def test_arro3_schema_conversion() -> None:
    arro3 = pytest.importorskip("arro3.core")
    from deltalake.writer._conversion import _convert_arro3_schema_to_delta

    DataType, Field, Schema = arro3.DataType, arro3.Field, arro3.Schema
    schema = Schema(
        [
            Field("u", DataType.uint16(), True),
            Field("t", DataType.timestamp("ns", tz="Europe/Paris"), True),
            Field("l", DataType.list(Field("item", DataType.uint8(), True)), True),
            Field("n", DataType.null(), True),
        ]
    )
    existing = Schema([Field("n", DataType.string(), True)])
    converted = _convert_arro3_schema_to_delta(schema, existing)
    assert converted.field("u").type == DataType.int16()
    assert converted.field("t").type == DataType.timestamp("us", tz="UTC")
    assert converted.field("l").type.value_type == DataType.int8()
    assert converted.field("n").type == DataType.string()


def test_encode_partition_value() -> None:
    from datetime import date, datetime

    from deltalake._util import encode_partition_value

    assert encode_partition_value(True) == "true"
    assert encode_partition_value(date(2024, 1, 2)) == "2024-01-02"
    assert encode_partition_value(datetime(2024, 1, 2, 3, 4)) == "2024-01-02 03:04:00"
    with pytest.raises(ValueError, match="Could not encode partition value"):
        encode_partition_value(object())


def test_positional_commit_arguments_are_deprecated_but_honoured(tmp_path: Path) -> None:
    import pyarrow as pa

    from deltalake import CommitProperties, DeltaTable, PostCommitHookProperties, write_deltalake

    write_deltalake(tmp_path, pa.table({"a": [1, 2, 3]}))
    dt = DeltaTable(tmp_path)
    tagged = CommitProperties(custom_metadata={"why": "positional"})
    with pytest.warns(DeprecationWarning, match=r"positionally to delete\(\) is deprecated"):
        dt.delete("a = 1", None, PostCommitHookProperties(), tagged)
    assert dt.history(1)[0]["why"] == "positional"
    with pytest.warns(DeprecationWarning, match="set_table_name"):
        dt.alter.set_table_name("t", CommitProperties(custom_metadata={"why": "name"}))
    assert dt.metadata().name == "t" and dt.history(1)[0]["why"] == "name"
    with pytest.warns(DeprecationWarning) as caught:
        with pytest.raises(TypeError, match="multiple values for 'commit_properties'"):
            dt.alter.set_table_description("d", tagged, commit_properties=tagged)
    # The warning points at the caller's line.
    assert caught[0].filename == __file__
    with pytest.raises(TypeError, match="at most 2 positional"):
        dt.repair(False, None, None, None)
    assert dt.count() == 2


def test_deprecate_positional_commit_args_helper() -> None:
    from deltalake._util import deprecate_positional_commit_args

    assert deprecate_positional_commit_args("f", (), 1, 2) == (1, 2)
    with pytest.warns(DeprecationWarning):
        assert deprecate_positional_commit_args(
            "f", ("hooks",), legacy_order=("post_commithook_properties", "commit_properties")
        ) == (None, "hooks")


def test_create_and_convert_take_positional_commit_arguments(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from deltalake import CommitProperties, DeltaTable, convert_to_deltalake

    tagged = CommitProperties(custom_metadata={"why": "create"})
    schema = pa.schema([("a", pa.int64())])
    with pytest.warns(DeprecationWarning, match="create"):
        dt = DeltaTable.create(tmp_path / "t", schema, "error", None, None, None, None, None, tagged)
    assert dt.history(1)[0]["why"] == "create"
    (tmp_path / "p").mkdir()
    pq.write_table(pa.table({"a": [1]}), tmp_path / "p" / "x.parquet")
    tagged = CommitProperties(custom_metadata={"why": "convert"})
    with pytest.warns(DeprecationWarning, match="convert_to_deltalake"):
        convert_to_deltalake(tmp_path / "p", "error", None, None, None, None, None, None, tagged)
    assert DeltaTable(tmp_path / "p").history(1)[0]["why"] == "convert"

"""Read and write Delta Lake tables from Python, natively in Rust.

>>> from deltalake import DeltaTable, write_deltalake
>>> write_deltalake("/tmp/events", pyarrow_table, mode="append")   # doctest: +SKIP
>>> DeltaTable("/tmp/events").to_pandas()                            # doctest: +SKIP
"""

from typing import Optional

from deltalake._internal import __version__, rust_core_version
from deltalake.query import QueryBuilder
from deltalake.schema import (
    ArrayType,
    DataType,
    Field,
    MapType,
    PrimitiveType,
    Schema,
    StructType,
    VariantType,
)
from deltalake.table import (
    DeltaTable,
    Metadata,
    ProtocolVersions,
    TableAlterer,
    TableFeatures,
    TableMerger,
    TableOptimizer,
)
from deltalake.transaction import CommitProperties, PostCommitHookProperties, Transaction
from deltalake.writer import (
    BloomFilterProperties,
    ColumnProperties,
    WriterProperties,
    convert_to_deltalake,
    write_deltalake,
)


def init_tracing(endpoint: Optional[str] = None) -> None:
    """Show what the Rust core is doing: its spans (open, scan, write, commit, checkpoint and the
    other operations, with their key figures) are logged to standard error, filtered by the
    ``RUST_LOG`` environment variable (``deltalake=info`` when unset). Calling it again does
    nothing.

    Raises:
        NotSupportedError: ``endpoint`` (or ``OTEL_EXPORTER_OTLP_ENDPOINT``) asks for an
            OpenTelemetry exporter, which this build does not have.
    """
    import os

    from deltalake import _internal

    endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    _internal.init_tracing(endpoint)


def enable_nanosecond_timestamps() -> None:
    """Write nanosecond timestamps as they are (the ``timestampNanos`` table feature) instead of
    casting them to microseconds.

    Raises:
        RuntimeError: always: this build has no support for nanosecond timestamps, as the
            reference package reports for builds without the feature.
    """
    raise RuntimeError("Extension wasn't compiled with nanosecond-timestamps Cargo feature")


__all__ = [
    "ArrayType",
    "BloomFilterProperties",
    "ColumnProperties",
    "CommitProperties",
    "DataType",
    "DeltaTable",
    "Field",
    "MapType",
    "Metadata",
    "PostCommitHookProperties",
    "PrimitiveType",
    "ProtocolVersions",
    "QueryBuilder",
    "Schema",
    "StructType",
    "TableAlterer",
    "TableFeatures",
    "TableMerger",
    "TableOptimizer",
    "Transaction",
    "VariantType",
    "WriterProperties",
    "__version__",
    "convert_to_deltalake",
    "enable_nanosecond_timestamps",
    "init_tracing",
    "rust_core_version",
    "write_deltalake",
]

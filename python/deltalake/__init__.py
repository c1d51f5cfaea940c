"""Read and write Delta Lake tables from Python, natively in Rust.

>>> from deltalake import DeltaTable, write_deltalake
>>> write_deltalake("/tmp/events", pyarrow_table, mode="append")   # doctest: +SKIP
>>> DeltaTable("/tmp/events").to_pandas()                            # doctest: +SKIP
"""

from deltalake._internal import __version__
from deltalake.query import QueryBuilder
from deltalake.schema import ArrayType, Field, MapType, PrimitiveType, Schema, StructType
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

__all__ = [
    "ArrayType",
    "BloomFilterProperties",
    "ColumnProperties",
    "CommitProperties",
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
    "WriterProperties",
    "__version__",
    "convert_to_deltalake",
    "write_deltalake",
]

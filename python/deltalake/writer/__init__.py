"""Writing data into Delta tables: :func:`write_deltalake`, its Parquet settings
(:class:`WriterProperties`), and :func:`convert_to_deltalake` for Parquet directories."""

from deltalake.writer.convert_to import convert_to_deltalake
from deltalake.writer.properties import (
    BloomFilterProperties,
    ColumnProperties,
    WriterProperties,
)
from deltalake.writer.writer import write_deltalake

__all__ = [
    "BloomFilterProperties",
    "ColumnProperties",
    "WriterProperties",
    "convert_to_deltalake",
    "write_deltalake",
]

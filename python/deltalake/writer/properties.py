"""Parquet settings of the files a write produces: :class:`WriterProperties`, per column
:class:`ColumnProperties` and :class:`BloomFilterProperties`."""

from __future__ import annotations

from enum import Enum
from typing import Literal

STATISTICS_LEVELS = ("NONE", "CHUNK", "PAGE")


class Compression(Enum):
    """The Parquet codecs; GZIP, BROTLI and ZSTD take a level."""

    UNCOMPRESSED = "UNCOMPRESSED"
    SNAPPY = "SNAPPY"
    GZIP = "GZIP"
    BROTLI = "BROTLI"
    LZ4 = "LZ4"
    ZSTD = "ZSTD"
    LZ4_RAW = "LZ4_RAW"

    @classmethod
    def from_str(cls, value: str) -> Compression:
        """The codec named ``value`` (any case).

        Raises:
            ValueError: no codec has that name.
        """
        try:
            return cls(value.upper())
        except (ValueError, AttributeError):
            raise ValueError(
                f"{value} is not a valid Compression. "
                f"Valid values are: {[item.value for item in Compression]}"
            ) from None

    def get_level_range(self) -> tuple[int, int]:
        """The lowest and highest level of the codec.

        Raises:
            KeyError: the codec has no level.
        """
        ranges = {Compression.GZIP: (0, 10), Compression.BROTLI: (0, 11), Compression.ZSTD: (1, 22)}
        if self not in ranges:
            raise KeyError(f"{self.value} does not have a compression level.")
        return ranges[self]

    def get_default_level(self) -> int:
        """The level used when none is given.

        Raises:
            KeyError: the codec has no level.
        """
        defaults = {Compression.GZIP: 6, Compression.BROTLI: 1, Compression.ZSTD: 1}
        if self not in defaults:
            raise KeyError(f"{self.value} does not have a compression level.")
        return defaults[self]

    def check_valid_level(self, level: int) -> bool:
        """``True`` when ``level`` is in the codec's range.

        Raises:
            ValueError: it is not.
        """
        low, high = self.get_level_range()
        if not isinstance(level, int) or isinstance(level, bool) or not low <= level <= high:
            raise ValueError(f"Compression level for {self.value} should fall between {low}-{high}")
        return True


class Encoding(Enum):
    """The encodings of values the dictionary does not hold (or of all values without one);
    dictionary encoding itself is ``ColumnProperties(dictionary_enabled=...)``."""

    PLAIN = "PLAIN"
    RLE = "RLE"
    DELTA_BINARY_PACKED = "DELTA_BINARY_PACKED"
    DELTA_LENGTH_BYTE_ARRAY = "DELTA_LENGTH_BYTE_ARRAY"
    DELTA_BYTE_ARRAY = "DELTA_BYTE_ARRAY"
    BYTE_STREAM_SPLIT = "BYTE_STREAM_SPLIT"

    @classmethod
    def from_str(cls, value: str) -> Encoding:
        """The encoding named ``value`` (any case).

        Raises:
            ValueError: no encoding has that name.
        """
        try:
            return cls(value.upper())
        except (ValueError, AttributeError):
            raise ValueError(
                f"{value} is not a valid Encoding. "
                f"Valid values are: {[item.value for item in Encoding]}"
            ) from None


class BloomFilterProperties:
    """A Parquet bloom filter per row group of a column.

    Args:
        set_bloom_filter_enabled: whether the column gets one.
        fpp: the false-positive probability, strictly between 0 and 1.
        ndv: the number of distinct values expected per row group.
    """

    def __init__(
        self,
        set_bloom_filter_enabled: bool | None,
        fpp: float | None = None,
        ndv: int | None = None,
    ) -> None:
        if fpp is not None and not 0 < fpp < 1:
            raise ValueError("fpp must be between 0 and 1 exclusive")
        if ndv is not None and (not isinstance(ndv, int) or ndv < 0):
            raise ValueError("ndv must be a non-negative int")
        self.set_bloom_filter_enabled = set_bloom_filter_enabled
        self.fpp = fpp
        self.ndv = ndv

    def __str__(self) -> str:
        return (
            f"set_bloom_filter_enabled: {self.set_bloom_filter_enabled}, fpp: {self.fpp}, "
            f"ndv: {self.ndv}"
        )

    def __repr__(self) -> str:
        return (
            f"BloomFilterProperties(set_bloom_filter_enabled={self.set_bloom_filter_enabled!r}, "
            f"fpp={self.fpp!r}, ndv={self.ndv!r})"
        )


class ColumnProperties:
    """Parquet settings of one column (or of every column, as ``default_column_properties``).

    Args:
        dictionary_enabled: dictionary encoding (on by default).
        statistics_enabled: NONE, CHUNK or PAGE (the default), for the statistics inside the
            file; the table's own statistics (data skipping) are kept either way.
        bloom_filter_properties: a bloom filter per row group.
        encoding: the encoding of values the dictionary does not hold: PLAIN, RLE,
            DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY or BYTE_STREAM_SPLIT.
            Not together with ``dictionary_enabled=True``.
    """

    def __init__(
        self,
        dictionary_enabled: bool | None = None,
        statistics_enabled: Literal["NONE", "CHUNK", "PAGE"] | None = None,
        bloom_filter_properties: BloomFilterProperties | None = None,
        encoding: str | None = None,
    ) -> None:
        if statistics_enabled is not None and (
            not isinstance(statistics_enabled, str)
            or statistics_enabled.upper() not in STATISTICS_LEVELS
        ):
            raise ValueError(
                f"statistics_enabled must be one of {', '.join(STATISTICS_LEVELS)}, "
                f"not {statistics_enabled!r}"
            )
        if encoding is not None:
            if not isinstance(encoding, str):
                raise ValueError(f"encoding must be a string, not {encoding!r}")
            Encoding.from_str(encoding)
            if dictionary_enabled:
                raise ValueError("Cannot specify dictionary_enabled=True and encoding")
        if bloom_filter_properties is not None and not isinstance(
            bloom_filter_properties, BloomFilterProperties
        ):
            raise TypeError("bloom_filter_properties must be a deltalake.BloomFilterProperties")
        self.dictionary_enabled = dictionary_enabled
        self.statistics_enabled = statistics_enabled
        self.bloom_filter_properties = bloom_filter_properties
        self.encoding = encoding

    def __str__(self) -> str:
        return (
            f"dictionary_enabled: {self.dictionary_enabled}, "
            f"statistics_enabled: {self.statistics_enabled}, "
            f"bloom_filter_properties: {self.bloom_filter_properties}, encoding: {self.encoding}"
        )

    def __repr__(self) -> str:
        return (
            f"ColumnProperties(dictionary_enabled={self.dictionary_enabled!r}, "
            f"statistics_enabled={self.statistics_enabled!r}, "
            f"bloom_filter_properties={self.bloom_filter_properties!r}, "
            f"encoding={self.encoding!r})"
        )


class WriterProperties:
    """Parquet settings of the data files a write produces.

    ``compression`` is one of UNCOMPRESSED, SNAPPY (default), GZIP, BROTLI, LZ4, LZ4_RAW, ZSTD;
    ``compression_level`` applies to GZIP (0-10, default 6), BROTLI (0-11, default 1) and ZSTD
    (1-22, default 1). The codec is kept as ``compression``, with its level for those three
    (``"ZSTD(3)"``). ``default_column_properties`` applies to every column that
    ``column_properties`` (keyed by column name, nested fields dotted) does not name.

    Raises:
        ValueError: an unknown codec, a level out of its codec's range, a level without a
            codec, or a size or count that is not a positive int.
    """

    def __init__(
        self,
        data_page_size_limit: int | None = None,
        dictionary_page_size_limit: int | None = None,
        data_page_row_count_limit: int | None = None,
        write_batch_size: int | None = None,
        max_row_group_size: int | None = None,
        compression: Literal["UNCOMPRESSED", "SNAPPY", "GZIP", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"]
        | None = None,
        compression_level: int | None = None,
        statistics_truncate_length: int | None = None,
        default_column_properties: ColumnProperties | None = None,
        column_properties: dict[str, ColumnProperties] | None = None,
    ) -> None:
        if compression_level is not None and compression is None:
            raise ValueError(
                "Providing a compression level without the compression type is not possible, "
                "please provide the compression as well."
            )
        sizes = {
            "data_page_size_limit": data_page_size_limit,
            "dictionary_page_size_limit": dictionary_page_size_limit,
            "data_page_row_count_limit": data_page_row_count_limit,
            "write_batch_size": write_batch_size,
            "max_row_group_size": max_row_group_size,
        }
        for name, value in sizes.items():
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value <= 0
            ):
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if default_column_properties is not None and not isinstance(
            default_column_properties, ColumnProperties
        ):
            raise TypeError("default_column_properties must be a deltalake.ColumnProperties")
        if column_properties is not None and (
            not isinstance(column_properties, dict)
            or not all(
                isinstance(k, str) and isinstance(v, ColumnProperties)
                for k, v in column_properties.items()
            )
        ):
            raise TypeError("column_properties must be a dict of column names to ColumnProperties")
        self.data_page_size_limit = data_page_size_limit
        self.dictionary_page_size_limit = dictionary_page_size_limit
        self.data_page_row_count_limit = data_page_row_count_limit
        self.write_batch_size = write_batch_size
        self.max_row_group_size = max_row_group_size
        self.compression: str | None = None
        self.statistics_truncate_length = statistics_truncate_length
        self.default_column_properties = default_column_properties
        self.column_properties = column_properties
        if compression is not None:
            codec = Compression.from_str(compression)
            if codec in (Compression.GZIP, Compression.BROTLI, Compression.ZSTD):
                if compression_level is None:
                    compression_level = codec.get_default_level()
                codec.check_valid_level(compression_level)
                self.compression = f"{codec.value}({compression_level})"
            else:
                self.compression = codec.value

    def __str__(self) -> str:
        columns = (
            ", ".join(f"column '{k}': {v}" for k, v in self.column_properties.items())
            if self.column_properties
            else None
        )
        return (
            f"WriterProperties(data_page_size_limit: {self.data_page_size_limit}, "
            f"dictionary_page_size_limit: {self.dictionary_page_size_limit}, "
            f"data_page_row_count_limit: {self.data_page_row_count_limit}, "
            f"write_batch_size: {self.write_batch_size}, "
            f"max_row_group_size: {self.max_row_group_size}, compression: {self.compression}, "
            f"statistics_truncate_length: {self.statistics_truncate_length}, "
            f"default_column_properties: {self.default_column_properties}, "
            f"column_properties: {columns})"
        )

    __repr__ = __str__

"""SQL over Delta tables, run by Apache DataFusion inside the extension module."""

from __future__ import annotations

from typing import Any

from deltalake._arrow import arrow_reader
from deltalake._internal import PyQueryBuilder
from deltalake.table import DeltaTable


class QueryBuilder:
    """Registers Delta tables by name and runs SQL queries over them.

    >>> from deltalake import DeltaTable, QueryBuilder
    >>> qb = QueryBuilder().register("events", DeltaTable("/tmp/events"))   # doctest: +SKIP
    >>> qb.execute("SELECT day, count(*) FROM events GROUP BY day").read_all()  # doctest: +SKIP
    """

    def __init__(self, session_config: dict[str, str] | None = None) -> None:
        """A query session; ``session_config`` overrides DataFusion settings, e.g.
        ``{"datafusion.execution.batch_size": "1024"}``."""
        self._query_builder = PyQueryBuilder(session_config)

    def register(self, table_name: str, delta_table: DeltaTable) -> QueryBuilder:
        """Make the loaded version of ``delta_table`` queryable as ``table_name`` (replacing a
        table of that name); returns this builder."""
        self._query_builder.register(table_name, delta_table._table)
        return self

    def execute(self, sql: str) -> Any:
        """Run ``sql``; the result streams as it is read, as an ``arro3.core.RecordBatchReader``
        (``read_all()`` gives an ``arro3.core.Table``; ``pyarrow.table(...)`` takes either).

        Planning happens here (an invalid query or unknown table raises ``DeltaError``); rows
        are read from the tables as the result is consumed, with the GIL released."""
        return arrow_reader(self._query_builder.execute(sql))

"""Type stubs of the extension module ``deltalake._internal``."""

from typing import Any, Union

_Filter = Union[str, list[list[tuple[str, str, Any]]]]
"""A SQL predicate, or an OR of ANDs of ``(column, op, value)`` terms (values: None, bool, int,
float, str, or a list of those for ``in`` / ``not in``)."""

__version__: str

class DeltaError(Exception): ...
class DeltaProtocolError(DeltaError): ...
class TableNotFoundError(DeltaError): ...
class CommitFailedError(DeltaError): ...
class SchemaMismatchError(DeltaError): ...

class ArrowStream:
    """A one-shot stream of record batches (Arrow PyCapsule interface)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...

class ArrowSchema:
    """An Arrow schema (Arrow PyCapsule interface)."""

    def __arrow_c_schema__(self) -> object: ...

class RawDeltaTable:
    """A loaded table; wrapped by ``deltalake.DeltaTable``."""

    def __init__(
        self,
        table_uri: str,
        version: int | None = None,
        storage_options: dict[str, str] | None = None,
    ) -> None: ...
    @staticmethod
    def is_deltatable(table_uri: str, storage_options: dict[str, str] | None = None) -> bool: ...
    def version(self) -> int: ...
    def table_uri(self) -> str: ...
    def files(self, filter: _Filter | None = None) -> list[str]: ...
    def file_uris(self, filter: _Filter | None = None) -> list[str]: ...
    def get_add_file_sizes(self) -> dict[str, int]: ...
    def schema_json(self) -> str: ...
    def metadata(
        self,
    ) -> tuple[str, str | None, str | None, list[str], int | None, dict[str, str]]: ...
    def protocol(self) -> tuple[int, int, list[str] | None, list[str] | None]: ...
    def history(self, limit: int | None = None) -> list[str]: ...
    def load_version(self, version: int) -> None: ...
    def load_timestamp(self, timestamp_ms: int) -> None: ...
    def update_incremental(self) -> None: ...
    def partitions(self, filter: _Filter | None = None) -> list[dict[str, str | None]]: ...
    def add_actions(self, flatten: bool = False) -> ArrowStream: ...
    def deletion_vectors(self) -> ArrowStream: ...
    def read_all(
        self, columns: list[str] | None = None, filters: list[_Filter] = ...
    ) -> ArrowStream: ...
    def read_stream(
        self, columns: list[str] | None = None, filters: list[_Filter] = ...
    ) -> ArrowStream: ...
    def load_cdf(
        self,
        starting_version: int = 0,
        ending_version: int | None = None,
        starting_timestamp_ms: int | None = None,
        ending_timestamp_ms: int | None = None,
        columns: list[str] | None = None,
        allow_out_of_range: bool = False,
        predicate: str | None = None,
    ) -> ArrowStream: ...
    def restore(
        self,
        version: int | None = None,
        timestamp_ms: int | None = None,
        ignore_missing_files: bool = False,
        protocol_downgrade_allowed: bool = False,
        commit_properties: Any = None,
    ) -> dict[str, int]: ...
    def repair(
        self, dry_run: bool = False, commit_properties: Any = None
    ) -> tuple[bool, list[str]]: ...
    def delete(
        self, predicate: str | None = None, commit_properties: Any = None
    ) -> dict[str, int]: ...
    def update(
        self,
        updates: list[tuple[str, str]],
        predicate: str | None = None,
        commit_properties: Any = None,
    ) -> dict[str, int]: ...
    def merge(
        self,
        source: Any,
        predicate: str,
        clauses: list[tuple[str, str | None, list[tuple[str, str]] | None, list[str] | None]],
        source_alias: str | None = None,
        target_alias: str | None = None,
        merge_schema: bool = False,
        commit_properties: Any = None,
    ) -> dict[str, int]: ...
    def optimize(
        self,
        z_order_columns: list[str] | None = None,
        partition_filters: _Filter | None = None,
        target_size: int | None = None,
        max_concurrent_tasks: int | None = None,
        writer_properties: Any = None,
        commit_properties: Any = None,
    ) -> str:
        """The metrics as a JSON object."""
    def vacuum(
        self,
        dry_run: bool = True,
        retention_hours: int | None = None,
        enforce_retention_duration: bool = True,
        full: bool = False,
        commit_properties: Any = None,
    ) -> list[str]: ...
    def add_constraint(self, name: str, expression: str, commit_properties: Any = None) -> None: ...
    def drop_constraint(
        self, name: str, if_exists: bool = False, commit_properties: Any = None
    ) -> None: ...
    def add_columns(self, schema_json: str, commit_properties: Any = None) -> None: ...
    def set_table_properties(
        self, properties: dict[str, str], commit_properties: Any = None
    ) -> None: ...
    def add_features(self, features: list[str], commit_properties: Any = None) -> None: ...
    def set_table_name(self, name: str, commit_properties: Any = None) -> None: ...
    def set_table_description(self, description: str, commit_properties: Any = None) -> None: ...
    def create_checkpoint(self) -> None: ...
    def cleanup_metadata(self) -> int: ...
    def transaction_version(self, app_id: str) -> int | None: ...

def schema_to_arrow(schema_json: str) -> ArrowSchema: ...
def schema_from_arrow(schema: Any) -> str: ...
def write_to_deltalake(
    table_uri: str,
    data: Any,
    mode: str,
    schema_mode: str | None = None,
    partition_by: list[str] | None = None,
    target_file_size: int | None = None,
    storage_options: dict[str, str] | None = None,
    configuration: dict[str, str] | None = None,
    name: str | None = None,
    description: str | None = None,
    writer_properties: Any = None,
    commit_properties: Any = None,
    predicate: str | None = None,
) -> int: ...
def create_deltalake(
    table_uri: str,
    schema: Any,
    mode: str,
    partition_by: list[str] | None = None,
    name: str | None = None,
    description: str | None = None,
    configuration: dict[str, str] | None = None,
    storage_options: dict[str, str] | None = None,
    commit_properties: Any = None,
) -> None: ...
def convert_to_deltalake(
    uri: str,
    partition_schema: Any = None,
    name: str | None = None,
    description: str | None = None,
    configuration: dict[str, str] | None = None,
    storage_options: dict[str, str] | None = None,
    commit_properties: Any = None,
) -> None: ...

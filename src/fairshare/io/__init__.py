"""Input tables: read CSV/XLSX/Parquet, validate against a formula's contract, aggregate student rows."""

from fairshare.io.aggregate import AggregateResult, aggregate_students, write_table
from fairshare.io.contract import fiscal_year_of, load_entities, select_year, validate_frame
from fairshare.io.read import RawTable, read_raw
from fairshare.io.table import EntityTable

__all__ = [
    "AggregateResult",
    "EntityTable",
    "RawTable",
    "aggregate_students",
    "fiscal_year_of",
    "load_entities",
    "read_raw",
    "select_year",
    "validate_frame",
    "write_table",
]

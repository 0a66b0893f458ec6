"""General-ledger extracts: import through a mapping, crosswalk to NCES dimensions, coverage."""

from fairshare.ledger.crosswalk import CATEGORIES, Crosswalk, apply_crosswalk, coverage, load_crosswalk
from fairshare.ledger.importer import SourceImport, import_ledger, parse_cents
from fairshare.ledger.mapping import LedgerMapping, load_mapping

__all__ = [
    "CATEGORIES",
    "Crosswalk",
    "LedgerMapping",
    "SourceImport",
    "apply_crosswalk",
    "coverage",
    "import_ledger",
    "load_crosswalk",
    "load_mapping",
    "parse_cents",
]

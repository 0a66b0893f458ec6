"""The validated entity table the evaluator runs on: one NumPy column per contract input."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["EntityTable"]


@dataclass(frozen=True)
class EntityTable:
    """Entities (schools, districts) in file order, columns typed by the contract.

    Column dtypes: ``integer``/``number`` -> float64 (NaN only where an optional
    column declares ``default: null``); ``boolean`` -> bool; ``category`` -> object
    array of ``str``.
    """

    ids: np.ndarray
    names: np.ndarray
    columns: dict[str, np.ndarray]
    #: column -> mask of rows where the contract's default was used
    defaults_used: dict[str, np.ndarray] = field(default_factory=dict)
    #: where the table came from (a path, or a description for generated tables)
    source: str = "<memory>"
    #: the row number a user sees for each entity (CSV/XLSX: header is row 1)
    rows: np.ndarray | None = None
    sha256: str | None = None
    rows_read: int | None = None
    #: columns present in the file that the contract does not use
    unused_columns: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.ids)

    def index_of(self, entity_id: str) -> int | None:
        hits = np.flatnonzero(self.ids == entity_id)
        return int(hits[0]) if len(hits) else None

    def take(self, order: np.ndarray) -> EntityTable:
        """The same table with rows in ``order`` (used by permutation tests)."""
        return EntityTable(
            ids=self.ids[order],
            names=self.names[order],
            columns={k: v[order] for k, v in self.columns.items()},
            defaults_used={k: v[order] for k, v in self.defaults_used.items()},
            source=self.source,
            rows=None if self.rows is None else self.rows[order],
            sha256=self.sha256,
            rows_read=self.rows_read,
            unused_columns=self.unused_columns,
        )

    @classmethod
    def from_columns(
        cls,
        ids: list[str] | np.ndarray,
        columns: dict[str, np.ndarray | list[object]],
        names: list[str] | np.ndarray | None = None,
        source: str = "<memory>",
    ) -> EntityTable:
        """Build a table from in-memory columns without file validation (tests, benchmarks)."""
        id_arr = np.asarray(ids, dtype=object)
        cols: dict[str, np.ndarray] = {}
        for k, v in columns.items():
            a = np.asarray(v)
            if a.dtype.kind in "iuf":
                a = a.astype(np.float64)
            elif a.dtype.kind in "US":
                a = a.astype(object)
            cols[k] = a
        name_arr = np.asarray(names if names is not None else [""] * len(id_arr), dtype=object)
        return cls(ids=id_arr, names=name_arr, columns=cols, source=source, rows_read=len(id_arr))

"""The tables of a school spending review: typed columns, joins, variables, and where a missing value comes from.

The first table the spec declares has one row per unit; its rows are put in unit-id order before anything
is computed, so the order of the file never changes a result. Every other table is matched to it by its
``join`` (its ``key`` column equal to the first table's ``to`` value, compared as text, ``2.0`` = ``2``);
a unit with no matching row gets no values from that table (missing, never zero), and the table's id
reads as yes/no: whether the unit has a matching row. Numbers are float64 with NaN for missing; text
is a string ('' for a blank cell, which is a value, not a missing one); yes/no is 1.0, 0.0 or NaN.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare.errors import FormulaError, InputError, Problem, ProblemList
from fairshare.io.columns import boolean_column, has_columns, number_column, text_column
from fairshare.io.contract import duplicate_rows
from fairshare.io.read import RawTable, read_raw
from fairshare.programs.identify_data import key_text
from fairshare.review.schools_spec import ReviewSpec
from fairshare.rules.expr import Expr

__all__ = ["Source", "Tables", "load_tables", "resolve_tables"]


@dataclass(frozen=True)
class Source:
    """One input file: the table it is, its path and its SHA-256."""

    table: str
    path: str
    sha256: str


def resolve_tables(spec: ReviewSpec, given: str | Path | Mapping[str, str | Path] | list[str]) -> dict[str, Path]:
    """Table id -> file. A single path, or a bare ``PATH`` in a list, is the first (units') table;
    ``NAME=PATH`` (NAME an identifier) names a declared table. Every declared table must be given once."""
    declared = list(spec.model.tables)
    out: dict[str, Path] = {}
    problems = ProblemList()
    if isinstance(given, (str, Path)):
        items: list[tuple[str, str | Path]] = [(spec.primary, given)]
    elif isinstance(given, Mapping):
        items = list(given.items())
    else:
        items = []
        for text in given:
            name, sep, rest = text.partition("=")
            named = sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
            items.append((name, rest) if named else (spec.primary, text))
    for name, path in items:
        if name not in declared:
            near = difflib.get_close_matches(name, declared, n=1)
            problems.add(
                "missing_table",
                f"--data {name}=…: the spec declares no table {name!r}",
                value=name,
                hint=f"did you mean {near[0]!r}?" if near else f"tables: {', '.join(declared)}",
            )
        elif name in out:
            problems.add("missing_table", f"table {name!r} is given twice", value=str(path))
        else:
            out[name] = Path(path)
    for name in declared:
        if name not in out:
            first = " (a bare PATH is this table)" if name == spec.primary else ""
            problems.add(
                "missing_table",
                f"the spec reads table {name!r}: give it as --data {name}=PATH{first}",
                **spec.where("tables", name),
            )
    problems.raise_if_any(InputError)
    return out


def _read_columns(
    raw: RawTable, spec: ReviewSpec, tid: str, problems: ProblemList, only: set[str] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    values: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for cid, col in spec.model.tables[tid].columns.items():
        if only is not None and cid not in only:
            continue
        header = col.column or cid
        if col.type in ("number", "integer"):
            v = number_column(raw, header, problems, integer=col.type == "integer", required=False)
            values[cid], missing[cid] = v, np.isnan(v)
        elif col.type == "text":
            values[cid] = text_column(raw, header, problems, required=False)
            missing[cid] = np.zeros(raw.n, dtype=bool)
        else:
            b = boolean_column(raw, header, problems)
            values[cid], missing[cid] = b, np.isnan(b)
    return values, missing


def _sorted_by_id(raw: RawTable, spec: ReviewSpec, problems: ProblemList) -> RawTable:
    """The units' rows in id order (numerically for a number column); blank and repeated ids are problems."""
    cid = spec.model.unit.id
    header = spec.column(cid).column or cid
    cells = raw.frame.get_column(header)
    for b in np.flatnonzero(cells.is_null().to_numpy()):
        problems.add(
            "missing_value", f"{header} (the unit id) is blank", file=raw.path, row=int(raw.rows[b]), column=header
        )
    keys = key_text(np.asarray(cells.fill_null("").to_numpy(), dtype=object))
    normalised = pl.DataFrame({"key": keys.tolist()}).with_columns(pl.col("key").replace("", None))
    for i, first, k in duplicate_rows(normalised, "key").iter_rows():
        problems.add(
            "duplicate_entity",
            f"unit id {k!r} already appears in row {raw.rows[first]}",
            file=raw.path,
            row=int(raw.rows[i]),
            column=header,
            value=k,
            rule="one row per unit",
        )
    numeric = spec.column(cid).type in ("number", "integer") and bool(cells.str.contains(r"^-?\d+(\.\d*)?$").all())
    sort_key = pl.Series(keys.tolist()).cast(pl.Float64) if numeric else pl.Series(keys.tolist())
    order = sort_key.arg_sort().to_numpy()
    return RawTable(raw.frame[order], raw.path, raw.rows[order], raw.sha256, raw.blank_rows)


class Tables:
    """The joined unit rows: every declared column and variable on demand, with its missing mask."""

    def __init__(self, spec: ReviewSpec, raws: dict[str, RawTable], problems: ProblemList) -> None:
        self.spec = spec
        self.raws = raws
        primary = spec.primary
        self.n = raws[primary].n
        self.owner = spec.column_table()
        self.values: dict[str, np.ndarray] = {}
        self.missing: dict[str, np.ndarray] = {}
        self._table_values: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = {}
        for tid, raw in raws.items():
            self._table_values[tid] = _read_columns(raw, spec, tid, problems)
        self.values.update(self._table_values[primary][0])
        self.missing.update(self._table_values[primary][1])
        #: table id -> row of that table matching each unit (-1: none), and the unit's key
        self.match: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._busy: set[str] = set()
        self.problems = problems

    @property
    def sources(self) -> list[Source]:
        return [Source(t, r.path, r.sha256) for t, r in self.raws.items()]

    def rows(self) -> np.ndarray:
        return self.raws[self.spec.primary].rows

    def get(self, name: str) -> np.ndarray:
        if name not in self.values:
            self._compute(name)
        return self.values[name]

    def miss(self, name: str) -> np.ndarray:
        if name in self.spec.model.parameters:
            return np.zeros(self.n, dtype=bool)
        self.get(name)
        return self.missing[name]

    def _compute(self, name: str) -> None:
        spec = self.spec
        if name in spec.model.tables:  # membership: has a matching row
            self._join(name)
            self.values[name] = (self.match[name][0] >= 0).astype(float)
            self.missing[name] = np.zeros(self.n, dtype=bool)
        elif name in self.owner:
            tid = self.owner[name]
            self._join(tid)
            j = self.match[tid][0]
            vals, miss = self._table_values[tid]
            hit = j >= 0
            src = vals[name]
            out = np.full(self.n, np.nan) if src.dtype.kind == "f" else np.full(self.n, "", dtype=object)
            out[hit] = src[j[hit]]
            gone = np.ones(self.n, dtype=bool)
            gone[hit] = miss[name][j[hit]]
            self.values[name], self.missing[name] = out, gone
        else:
            e = spec.variables[name]
            self.values[name] = self.evaluate(e, ("variables", name, "expr"), f"variable {name}")
            v = self.values[name]
            self.missing[name] = ~np.isfinite(v) if v.dtype.kind == "f" else self.any_missing(e)

    def _join(self, tid: str) -> None:
        if tid in self.match:
            return
        if tid in self._busy:  # pragma: no cover - refused by the spec check
            raise FormulaError(
                Problem("cycle", f"table {tid}'s join key depends on itself", **self.spec.where("tables", tid))
            )
        self._busy.add(tid)
        join = self.spec.model.tables[tid].join
        assert join is not None
        to = self.evaluate(self.spec.joins[tid], ("tables", tid, "join", "to"), f"the join key of table {tid}")
        to_keys = key_text(np.where(self.any_missing(self.spec.joins[tid]), "", to) if to.dtype.kind != "f" else to)
        raw = self.raws[tid]
        vals = self._table_values[tid][0]
        keys = key_text(vals[join.key])
        header = self.spec.column(join.key).column or join.key
        index: dict[str, int] = {}
        for i, k in enumerate(keys):
            if not k:
                continue
            if k in index:
                self.problems.add(
                    "duplicate_entity",
                    f"key {k!r} already appears in row {raw.rows[index[k]]} of table {tid}",
                    file=raw.path,
                    row=int(raw.rows[i]),
                    column=header,
                    value=k,
                    rule="one row per key in a joined table",
                )
            index.setdefault(k, i)
        j = np.array([index.get(k, -1) if k else -1 for k in to_keys], dtype=np.int64)
        self.match[tid] = (j, to_keys)
        self._busy.discard(tid)

    def env(self, e: Expr) -> dict[str, Any]:
        params = self.spec.model.parameters
        return {n: params[n].value if n in params else self.get(n) for n in e.names()}

    def evaluate(self, e: Expr, path: tuple[str | int, ...], what: str) -> np.ndarray:
        env = self.env(e)
        try:
            with np.errstate(all="ignore"):
                out = np.asarray(e.compile()(env))
        except (TypeError, ValueError) as exc:
            raise FormulaError(
                Problem(
                    "invalid_value",
                    f"{what} cannot be computed: {str(exc).splitlines()[0]}",
                    **self.spec.where(*path),
                    hint="text can only be compared (==, !=, in); arithmetic needs number columns",
                )
            ) from None
        if out.ndim == 0:
            out = np.broadcast_to(out, (self.n,)).copy()
        if out.dtype.kind in "biuf":
            return out.astype(float)
        return np.array([str(x) for x in out], dtype=object)

    def any_missing(self, e: Expr) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for name in e.names():
            out |= self.miss(name)
        return out

    def locate(self, name: str, i: int) -> tuple[str, dict[str, Any]]:
        """Why ``name`` has no value for unit ``i``: words and the file, row and column to name."""
        spec = self.spec
        if name in self.owner:
            tid = self.owner[name]
            col = spec.column(name)
            header = col.column or name
            if tid == spec.primary:
                raw = self.raws[tid]
                row = int(raw.rows[i])
                return f"{header} is blank (row {row})", {"file": raw.path, "row": row, "column": header}
            j, keys = self.match[tid]
            raw = self.raws[tid]
            if j[i] < 0:
                return f"table {tid} has no row for key {keys[i]!r}", {"file": raw.path, "value": keys[i]}
            row = int(raw.rows[j[i]])
            return f"{header} is blank in table {tid} (row {row})", {"file": raw.path, "row": row, "column": header}
        if name in spec.variables:
            for n in sorted(spec.variables[name].names()):
                if n not in spec.model.parameters and self.miss(n)[i]:
                    return self.locate(n, i)
            return f"variable {name} is not a finite number (e.g. a division by zero)", spec.where("variables", name)
        return f"{name} has no value", {}


def _filtered(raw: RawTable, spec: ReviewSpec, tid: str, problems: ProblemList) -> RawTable:
    """The rows of ``raw`` meeting the table's ``rows:`` condition (row numbers kept as the user sees them)."""
    e = spec.row_filters[tid]
    read = ProblemList()
    values, missing = _read_columns(raw, spec, tid, read, only=set(e.names()))
    problems.problems.extend(read.problems)
    if read.problems:
        return raw
    with np.errstate(invalid="ignore"):
        out = np.broadcast_to(np.asarray(e.compile()(values)), (raw.n,))
    keep = out.astype(bool) & ~np.logical_or.reduce([missing[n] for n in e.names()] or [np.zeros(raw.n, dtype=bool)])
    if not keep.any():
        problems.add(
            "empty_pool",
            f"no row of table {tid} meets its `rows` condition {spec.model.tables[tid].rows!r}",
            **spec.where("tables", tid, "rows"),
        )
    return RawTable(raw.frame.filter(pl.Series(keep)), raw.path, raw.rows[keep], raw.sha256, raw.blank_rows)


def load_tables(spec: ReviewSpec, paths: Mapping[str, Path]) -> Tables:
    """Read every table the spec declares; the units' table in id order. Every bad cell is located."""
    problems = ProblemList()
    raws: dict[str, RawTable] = {}
    for tid, tspec in spec.model.tables.items():
        raw = read_raw(paths[tid])
        headers = [c.column or cid for cid, c in tspec.columns.items()]
        if has_columns(raw, headers, problems, f"declared by table {tid} in {spec.source}"):
            raws[tid] = _filtered(raw, spec, tid, problems) if tid in spec.row_filters else raw
    problems.raise_if_any(InputError)
    raws[spec.primary] = _sorted_by_id(raws[spec.primary], spec, problems)
    tables = Tables(spec, raws, problems)
    problems.raise_if_any(InputError)
    for tid in list(spec.model.tables)[1:]:
        tables.get(tid)  # every join now, so a repeated key is reported with the other problems
    problems.raise_if_any(InputError)
    return tables

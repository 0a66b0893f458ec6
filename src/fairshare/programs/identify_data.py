"""The tables of an identification run: typed columns, filters, joins, variables and the previous list.

The primary table (``entity.table``) has one row per entity (and year, with ``entity.year``); every
other table is matched to it by ``join`` (its ``key`` column equal to the primary's ``to`` value, and
its year when it has one). A primary row with no match gets no values from that table: they are
missing, never zero. Keys are compared as text, a whole number written without decimals (``2.0`` = ``2``).
Every bad cell, missing column and repeated key is collected with its file, row and column.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare.errors import FormulaError, InputError, Problem, ProblemList
from fairshare.io.columns import boolean_column, has_columns, number_column, text_column
from fairshare.io.read import RawTable, read_raw
from fairshare.programs.identify_schema import IdentifyRules
from fairshare.rules.expr import Expr

__all__ = ["Frame", "PreviousList", "key_text", "load_frame", "read_previous"]


def key_text(values: np.ndarray) -> np.ndarray:
    """Keys as comparable text: numbers without a trailing '.0', text stripped; '' where missing."""
    a = np.asarray(values)
    if a.dtype.kind in "fiu":
        f = a.astype(float)
        out = np.full(len(f), "", dtype=object)
        ok = ~np.isnan(f)
        whole = ok & (np.mod(np.where(ok, f, 0), 1) == 0)
        out[whole] = [str(int(v)) for v in f[whole]]
        out[ok & ~whole] = [repr(float(v)) for v in f[ok & ~whole]]
        return out
    if a.dtype.kind == "b":
        return np.where(a, "true", "false").astype(object)
    return np.array([str(v).strip() for v in a], dtype=object)


@dataclass(frozen=True)
class Source:
    """Where a frame row's values of one table come from (row -1: the table has no matching row)."""

    path: str
    sha256: str
    rows: np.ndarray
    headers: dict[str, str]


@dataclass
class Frame:
    """The joined entity(-year) rows: every declared column and variable, with its missing mask."""

    rules: IdentifyRules
    n: int
    values: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]
    ids: np.ndarray
    names: np.ndarray
    years: np.ndarray | None
    sources: dict[str, Source]
    #: column or variable id -> the columns it is computed from
    roots: dict[str, set[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def env(self, rows: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {k: v[rows] for k, v in self.values.items()}
        out.update({p: v.value for p, v in self.rules.params.items()})
        return out

    def missing_of(self, names: set[str], rows: np.ndarray) -> np.ndarray:
        miss = np.zeros(len(rows), dtype=bool)
        for name in names:
            if name in self.missing:
                miss |= self.missing[name][rows]
        return miss

    def locate(self, name: str, row: int) -> dict[str, Any]:
        """File, row and column of the first missing input behind ``name`` at frame row ``row``."""
        table_of = self.rules.column_table()
        for col in sorted(self.roots.get(name, {name})):
            if col not in self.missing or not self.missing[col][row]:
                continue
            src = self.sources[table_of[col]]
            r = int(src.rows[row])
            if r < 0:
                return {"file": src.path, "column": src.headers[col], "why": f"no row in table {table_of[col]}"}
            return {"file": src.path, "row": r, "column": src.headers[col], "why": f"{src.headers[col]} is blank"}
        return {"why": f"{name} is not defined (e.g. a division by zero)"}


def _typed(
    raw: RawTable, cols: Mapping[str, Any], problems: ProblemList
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    values: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for cid, spec in cols.items():
        header = spec.column or cid
        if spec.type in ("number", "integer"):
            v = number_column(raw, header, problems, integer=spec.type == "integer", required=spec.required)
            values[cid], missing[cid] = v, np.isnan(v)
        elif spec.type == "text":
            t = text_column(raw, header, problems, required=spec.required)
            values[cid], missing[cid] = t, t == ""
        else:
            b = boolean_column(raw, header, problems)
            blank = np.isnan(b)
            if spec.required:
                for i in np.flatnonzero(blank):
                    problems.add(
                        "missing_value",
                        f"{header} is blank",
                        file=raw.path,
                        row=int(raw.rows[i]),
                        column=header,
                        rule="required",
                    )
            values[cid], missing[cid] = np.where(blank, False, b == 1.0), blank
    return values, missing


def _evaluate(e: Expr, env: Mapping[str, Any], n: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        out = e.compile()(env)
    a = np.asarray(out)
    return np.broadcast_to(a, (n,)).copy() if a.ndim == 0 else a


def _read_table(
    rules: IdentifyRules, tid: str, path: Path, problems: ProblemList
) -> tuple[RawTable, dict[str, np.ndarray], dict[str, np.ndarray]] | None:
    spec = rules.model.tables[tid]
    raw = read_raw(path)
    headers = [c.column or cid for cid, c in spec.columns.items()]
    if not has_columns(raw, headers, problems, f"declared by table {tid} in {rules.source}"):
        return None
    filt = rules.filters.get(tid)
    if filt is not None:
        used = {c: spec.columns[c] for c in filt.names()}
        before = len(problems.problems)
        vals, _ = _typed(raw, used, problems)
        if len(problems.problems) > before:
            return None
        keep = _evaluate(filt, vals, raw.n).astype(bool)
        raw = RawTable(raw.frame.filter(pl.Series(keep)), raw.path, raw.rows[keep], raw.sha256, raw.blank_rows)
        if raw.n == 0:
            problems.add(
                "empty_file",
                f"no row of table {tid} passes its filter {rules.model.tables[tid].filter!r}",
                file=raw.path,
            )
            return None
    values, missing = _typed(raw, spec.columns, problems)
    return raw, values, missing


def _duplicates(keys: np.ndarray, raw: RawTable, header: str, what: str, problems: ProblemList) -> dict[str, int]:
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k == "" or k.startswith("\0"):
            continue
        if k in first:
            shown = k.replace("\0", " in year ")
            problems.add(
                "duplicate_entity",
                f"{what} {shown!r} already appears in row {raw.rows[first[k]]}",
                file=raw.path,
                row=int(raw.rows[i]),
                column=header,
                value=shown,
                rule=f"one row per {what}",
                hint=f"keep one row per {what} (a `filter` can select the rows the rules need)",
            )
        else:
            first[k] = i
    return first


def load_frame(rules: IdentifyRules, paths: Mapping[str, Path]) -> Frame:
    """Read every declared table from ``paths`` (table id -> file) and join them on the primary table."""
    m = rules.model
    declared, given = set(m.tables), set(paths)
    if declared != given:
        missing = [
            Problem(
                "missing_table",
                f"the rules read table {t!r}: give it as --data {t}=PATH",
                file=rules.source,
                **_loc(rules, t),
            )
            for t in sorted(declared - given)
        ] + [
            Problem("missing_table", f"--data {t}: the rules declare no table {t!r}", value=t, hint=_near(t, declared))
            for t in sorted(given - declared)
        ]
        raise FormulaError(missing)
    problems = ProblemList()
    read = {tid: _read_table(rules, tid, paths[tid], problems) for tid in m.tables}
    tables = {k: v for k, v in read.items() if v is not None}
    if len(tables) < len(read):  # a column is missing: nothing can be joined
        raise InputError(problems.problems)
    # bad cells are reported with every other problem found while joining
    primary_id = m.entity.table
    raw, pvalues, pmissing = tables[primary_id]
    n = raw.n
    pspec = m.tables[primary_id]
    ids = key_text(pvalues[m.entity.id])
    years = pvalues[m.entity.year] if m.entity.year else None
    for i in np.flatnonzero(ids == ""):
        problems.add(
            "missing_value",
            f"the entity id {m.entity.id} is blank",
            file=raw.path,
            row=int(raw.rows[i]),
            column=pspec.columns[m.entity.id].column or m.entity.id,
        )
    if years is not None:
        for i in np.flatnonzero(np.isnan(years)):
            problems.add(
                "missing_value",
                "the year is blank",
                file=raw.path,
                row=int(raw.rows[i]),
                column=pspec.columns[m.entity.year or ""].column or m.entity.year,
            )
    ykeys = (
        ids
        if years is None
        else np.array([f"{k}\0{key_text(np.array([y]))[0]}" for k, y in zip(ids, years, strict=True)], dtype=object)
    )
    _duplicates(
        ykeys,
        raw,
        pspec.columns[m.entity.id].column or m.entity.id,
        m.entity.kind + (" and year" if years is not None else ""),
        problems,
    )
    frame = Frame(rules, n, dict(pvalues), dict(pmissing), ids, ids.copy(), years, {})
    frame.sources[primary_id] = Source(
        raw.path, raw.sha256, raw.rows, {c: s.column or c for c, s in pspec.columns.items()}
    )
    computed: set[str] = set()
    for tid, (traw, tvalues, tmissing) in tables.items():
        if tid == primary_id:
            continue
        spec = m.tables[tid]
        assert spec.join is not None
        _compute(frame, spec.join.to, computed)
        to = key_text(frame.values[spec.join.to])
        tkeys = key_text(tvalues[spec.join.key])
        if spec.year is not None:
            assert years is not None
            ty = key_text(tvalues[spec.year])
            tkeys = np.array([f"{k}\0{y}" for k, y in zip(tkeys, ty, strict=True)], dtype=object)
            fy = key_text(years)
            to = np.array([f"{k}\0{y}" for k, y in zip(to, fy, strict=True)], dtype=object)
        header = spec.columns[spec.join.key].column or spec.join.key
        index = _duplicates(tkeys, traw, header, f"{tid} key", problems)
        at = np.array([index.get(k, -1) if k != "" else -1 for k in to], dtype=np.int64)
        hit = at >= 0
        for cid in spec.columns:
            v = tvalues[cid]
            if v.dtype.kind == "f":
                out: np.ndarray = np.full(n, np.nan)
            elif v.dtype.kind == "b":
                out = np.zeros(n, dtype=bool)
            else:
                out = np.full(n, "", dtype=object)
            out[hit] = v[at[hit]]
            frame.values[cid] = out
            frame.missing[cid] = np.where(hit, tmissing[cid][np.where(hit, at, 0)], True)
        frame.sources[tid] = Source(
            traw.path,
            traw.sha256,
            np.where(hit, traw.rows[np.where(hit, at, 0)], -1),
            {c: s.column or c for c, s in spec.columns.items()},
        )
        unmatched = len(set(tkeys) - set(to) - {""})
        if unmatched:
            frame.notes.append(f"{unmatched} row(s) of table {tid} match no {m.entity.kind} of {primary_id}")
    for vid in rules.variables:
        _compute(frame, vid, computed)
    if m.entity.name:
        names = key_text(frame.values[m.entity.name])
        frame.names = np.where(names == "", ids, names)
    if problems:
        raise InputError(problems.problems)
    return frame


def _compute(frame: Frame, name: str, done: set[str]) -> None:
    """Evaluate variable ``name`` (and the variables it reads) over every frame row."""
    rules = frame.rules
    if name in done or name not in rules.variables:
        if name not in rules.variables:
            frame.roots.setdefault(name, {name})
        return
    e = rules.variables[name]
    for dep in e.names():
        _compute(frame, dep, done)
    value = _evaluate(e, frame.env(np.arange(frame.n)), frame.n)
    miss = frame.missing_of(e.names(), np.arange(frame.n))
    if value.dtype.kind == "f":
        miss = miss | ~np.isfinite(value)
    if value.dtype.kind == "U":
        value = value.astype(object)
    frame.values[name], frame.missing[name] = value, miss
    frame.roots[name] = (
        set().union(*(frame.roots.get(d, {d}) for d in e.names() if d not in rules.params)) if e.names() else set()
    )
    done.add(name)


def _loc(rules: IdentifyRules, tid: str) -> dict[str, Any]:
    w = rules.where("tables", tid)
    return {"line": w["line"], "col": w["col"]}


def _near(name: str, options: set[str]) -> str:
    near = difflib.get_close_matches(name, sorted(options), n=1)
    return (f"did you mean {near[0]!r}? " if near else "") + f"tables: {', '.join(sorted(options))}"


@dataclass(frozen=True)
class PreviousList:
    """Who was identified before (per run-year entity) and, when the list gives one, their tier."""

    identified: np.ndarray
    tier: np.ndarray | None
    source: str | None
    sha256: str | None


def read_previous(rules: IdentifyRules, frame: Frame, rows: np.ndarray, path: Path | None) -> PreviousList | None:
    """The previous list for the run-year ``rows``: from ``--previous`` (``previous.list``) or a yes/no column."""
    p = rules.model.previous
    if p is None:
        if path is not None:
            raise FormulaError(
                Problem(
                    "missing_table",
                    "--previous was given but the rules declare no `previous`",
                    file=rules.source,
                    hint="add `previous: {list: {id: COLUMN}}` and `exit` to the rules",
                )
            )
        return None
    if p.column is not None:
        if path is not None:
            raise FormulaError(
                Problem(
                    "missing_table",
                    f"--previous was given but the rules read previous identification from column {p.column!r}",
                    file=rules.source,
                    **_where(rules, ("previous", "column")),
                )
            )
        return PreviousList(frame.values[p.column][rows].astype(bool), None, None, None)
    assert p.list is not None
    if path is None:
        raise FormulaError(
            Problem(
                "missing_table",
                "the rules read a previous list: give it with --previous LIST.csv",
                file=rules.source,
                **_where(rules, ("previous", "list")),
            )
        )
    raw = read_raw(path)
    problems = ProblemList()
    want = [p.list.id] + ([p.list.tier] if p.list.tier else [])
    if not has_columns(raw, want, problems, "named by previous.list in the rules"):
        raise InputError(problems.problems)
    names = key_text(text_column(raw, p.list.id, problems))
    tiers = text_column(raw, p.list.tier, problems) if p.list.tier else None
    match_col = p.list.match or rules.model.entity.id
    targets = key_text(frame.values[match_col][rows])
    where: dict[str, list[int]] = {}
    for j, t in enumerate(targets):
        if t != "":
            where.setdefault(t, []).append(j)
    first: dict[str, int] = {}
    identified = np.zeros(len(rows), dtype=bool)
    tier = np.full(len(rows), "", dtype=object)
    for i, name in enumerate(names):
        if name == "":
            continue
        row = int(raw.rows[i])
        if name in first:
            problems.add(
                "duplicate_entity",
                f"{name!r} is listed twice (first in row {first[name]})",
                file=raw.path,
                row=row,
                column=p.list.id,
                value=name,
                rule="one row per previously identified entity",
            )
            continue
        first[name] = row
        hits = where.get(name, [])
        if not hits:
            near = difflib.get_close_matches(name, list(where), n=1)
            problems.add(
                "unknown_entity",
                f"{name!r} matches no {rules.model.entity.kind} ({match_col}) of the run year",
                file=raw.path,
                row=row,
                column=p.list.id,
                value=name,
                rule=f"previous.list.id matches {match_col}",
                hint=f"did you mean {near[0]!r}?" if near else f"use a value of {match_col}",
            )
            continue
        if len(hits) > 1:
            problems.add(
                "duplicate_entity",
                f"{name!r} matches {len(hits)} {rules.model.entity.kind}s by {match_col}",
                file=raw.path,
                row=row,
                column=p.list.id,
                value=name,
                hint="match on a column that is unique per entity (previous.list.match)",
            )
            continue
        identified[hits[0]] = True
        if tiers is not None:
            tier[hits[0]] = tiers[i]
    if problems:
        raise InputError(problems.problems)
    return PreviousList(identified, tier if tiers is not None else None, raw.path, raw.sha256)


def _where(rules: IdentifyRules, path: tuple[str, ...]) -> dict[str, Any]:
    w = rules.where(*path)
    return {"line": w["line"], "col": w["col"]}

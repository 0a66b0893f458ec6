"""The unit table of a benchmark (``fairshare ledger benchmark``): columns, strict numbers, ids, targets,
and each stated quantity for every unit.

Every column the spec names must exist (a missing one names the nearest columns the table has). Text cells
are read as :func:`fairshare.io.read.read_raw` reads them (spaces stripped, empty = blank) and numbers with
:func:`fairshare.io.columns.number_column` (a bad cell is a located problem); numeric columns of an
in-memory frame are taken as they are (null or NaN = blank; an infinite value is a problem). A blank is
never zero: a quantity with a blank input, or a denominator of 0, is blank for that unit with the reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import polars as pl

from fairshare.errors import InputError, Problem, ProblemList
from fairshare.io.columns import number_column
from fairshare.io.contract import duplicate_rows
from fairshare.io.read import RawTable
from fairshare.ledger.benchmark_spec import BenchmarkModel, Quantity, columns_of

__all__ = ["compute_quantity", "missing_columns", "read_units", "resolve_targets"]


# ------------------------------------------------------------------ reading the table


def missing_columns(spec: BenchmarkModel, table: pl.DataFrame, source: str) -> list[Problem]:
    problems = []
    have = table.columns
    for col, where in spec.columns().items():
        if col in have:
            continue
        near = difflib.get_close_matches(col, have, n=3, cutoff=0.6)
        problems.append(
            Problem(
                "missing_column",
                f"the table has no column {col!r} (named by {where} of the spec)",
                file=source,
                column=col,
                rule="every column the spec names",
                hint="did you mean " + " or ".join(repr(n) for n in near) + "?"
                if near
                else f"the table has {len(have)} columns; check the spelling against its header",
            )
        )
    return problems


def _text(raw: RawTable, col: str) -> list[str | None]:
    """A column as text (None where blank); whole numbers in a numeric column lose their '.0'."""
    s = raw.frame.get_column(col)
    if s.dtype == pl.String:
        return s.to_list()
    out: list[str | None] = []
    for v in s.to_list():
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            out.append(None)
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return out


def _numbers(raw: RawTable, col: str, problems: ProblemList) -> np.ndarray:
    s = raw.frame.get_column(col)
    if s.dtype == pl.String:
        return number_column(raw, col, problems, required=False)
    if not (s.dtype.is_numeric() or s.dtype in (pl.Boolean, pl.Null)):
        problems.add(
            "not_a_number",
            f"{col} holds {s.dtype} values, not numbers",
            file=raw.path,
            column=col,
            rule="a numeric or text column",
        )
        return np.full(raw.n, np.nan)
    x = s.cast(pl.Float64).fill_null(float("nan")).to_numpy().astype(float, copy=True)
    for i in np.flatnonzero(np.isinf(x)):
        problems.add(
            "not_a_number",
            f"{col} is not a finite number",
            file=raw.path,
            row=int(raw.rows[i]),
            column=col,
            value=float(x[i]),
            rule="a finite number",
        )
    return x


def read_units(
    spec: BenchmarkModel, table: pl.DataFrame, source: str, rows: Sequence[int] | np.ndarray | None
) -> tuple[list[str], list[str | None], dict[str, list[str | None]], dict[str, np.ndarray], ProblemList]:
    r = np.arange(2, table.height + 2, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    if len(r) != table.height:  # pragma: no cover - programming error
        raise ValueError("rows must give one row number per row of the table")
    text = [c for c in spec.columns() if table.schema[c] == pl.String]
    table = table.with_columns(  # as read_raw does: surrounding spaces stripped, an empty cell is blank
        pl.when(pl.col(c).str.strip_chars().str.len_bytes() > 0).then(pl.col(c).str.strip_chars()).alias(c)
        for c in text
    )
    raw = RawTable(frame=table, path=source, rows=r, sha256="")
    problems = ProblemList()
    u = spec.units
    ids = _text(raw, u.id)
    for i in (i for i, v in enumerate(ids) if v is None):
        problems.add("missing_value", f"{u.id} (the unit id) is blank", file=source, row=int(r[i]), column=u.id)
    for i, first, value in duplicate_rows(pl.DataFrame({"id": ids}, schema={"id": pl.String}), "id").iter_rows():
        problems.add(
            "duplicate_entity",
            f"unit id {value!r} already appears in row {r[first]}",
            file=source,
            row=int(r[i]),
            column=u.id,
            value=value,
            rule="one row per unit",
            hint=f"merge or remove this row (first seen in row {r[first]})",
        )
    names: list[str | None] = _text(raw, u.name) if u.name is not None else [None] * table.height
    match = {c: _text(raw, c) for c in spec.peers.match}
    used = dict.fromkeys(c for q in spec.quantities.values() for c in q.inputs())
    numbers = {c: _numbers(raw, c, problems) for c in used}
    return [v or "" for v in ids], names, match, numbers, problems


def resolve_targets(
    spec: BenchmarkModel, given: Sequence[str], ids: list[str], names: list[str | None], source: str
) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(str(t) for t in (given or spec.targets)))
    known = set(ids)
    by_name = {str(n).casefold(): i for i, n in zip(ids, names, strict=True) if n}
    problems = []
    for t in wanted:
        if t in known:
            continue
        if t.casefold() in by_name:
            hint = f"that is the name of {spec.units.kind} {by_name[t.casefold()]!r}: give its id"
        else:
            near = difflib.get_close_matches(t, sorted(known), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"give a value of the {spec.units.id} column"
        problems.append(
            Problem(
                "unknown_entity",
                f"target {t!r} is no {spec.units.kind} of the table",
                file=source,
                column=spec.units.id,
                value=t,
                hint=hint,
            )
        )
    if problems:
        raise InputError(problems)
    return wanted


# ------------------------------------------------------------------ quantities


def compute_quantity(qid: str, q: Quantity, numbers: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, list[str]]:
    """The quantity for every unit (NaN where blank) and why it is blank ('' where it is not)."""
    why = [""] * n
    top = columns_of(q.column if q.column is not None else q.numerator)
    bottom = columns_of(q.denominator)
    cols = [*top, *bottom]
    blank = np.column_stack([np.isnan(numbers[c]) for c in cols])
    for i in np.flatnonzero(blank.any(axis=1)):
        missing = [c for c, b in zip(cols, blank[i], strict=True) if b]
        why[i] = f"{qid}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} blank"
    num = np.sum([numbers[c] for c in top], axis=0) * q.scale
    if not bottom:
        return num, why
    den = np.sum([numbers[c] for c in bottom], axis=0)
    zero = (den == 0) & ~blank.any(axis=1)
    for i in np.flatnonzero(zero):
        why[i] = f"{qid}: {' + '.join(bottom)} {'is' if len(bottom) == 1 else 'are'} 0"
    value = np.full(n, np.nan)
    ok = ~blank.any(axis=1) & ~zero
    value[ok] = num[ok] / den[ok]
    return value, why

"""Typed columns of a raw table for the programs that read plain tables (funds, partner menus).

A formula's input contract is checked by :mod:`fairshare.io.contract`; these helpers check the
few columns a program reads, collecting every problem with its file, row, column and value.
"""

from __future__ import annotations

import difflib

import numpy as np
import polars as pl

from fairshare.errors import ProblemList
from fairshare.io.contract import BOOLEAN_WORDS, NUMBER_PATTERN, parse_boolean
from fairshare.io.read import RawTable

__all__ = ["boolean_column", "has_columns", "number_column", "text_column"]


def has_columns(raw: RawTable, columns: list[str], problems: ProblemList, what: str) -> bool:
    """Report each missing column (with the nearest name the file has); True when all are there."""
    ok = True
    for col in columns:
        if col not in raw.columns:
            near = difflib.get_close_matches(col, raw.columns, n=1)
            problems.add(
                "missing_column",
                f"the file has no column {col!r} ({what})",
                file=raw.path,
                column=col,
                rule="required column",
                hint=f"did you mean {near[0]!r}?" if near else f"columns: {', '.join(raw.columns)}",
            )
            ok = False
    return ok


def _cells(raw: RawTable, col: str) -> pl.Series:
    return raw.frame.get_column(col)


def text_column(raw: RawTable, col: str, problems: ProblemList, *, required: bool = True) -> np.ndarray:
    """The column as an object array of str ('' where blank); blanks are problems when ``required``."""
    cells = _cells(raw, col)
    if required:
        for i in np.flatnonzero(cells.is_null().to_numpy()):
            problems.add(
                "missing_value", f"{col} is blank", file=raw.path, row=int(raw.rows[i]), column=col, rule="required"
            )
    return cells.fill_null("").to_numpy().astype(object)


def number_column(
    raw: RawTable,
    col: str,
    problems: ProblemList,
    *,
    minimum: float | None = None,
    integer: bool = False,
    required: bool = True,
) -> np.ndarray:
    """The column as float64 (NaN where blank and not required); every bad cell is a located problem."""
    cells = _cells(raw, col)
    text = cells.str.strip_chars()
    good = text.str.contains(NUMBER_PATTERN).fill_null(False).to_numpy()
    blank = cells.is_null().to_numpy()
    values = np.full(raw.n, np.nan)
    values[good] = text.filter(pl.Series(good)).cast(pl.Float64).to_numpy()
    for i in np.flatnonzero(~good):
        if blank[i]:
            if required:
                problems.add(
                    "missing_value", f"{col} is blank", file=raw.path, row=int(raw.rows[i]), column=col, rule="required"
                )
            continue
        problems.add(
            "not_a_number",
            f"{col} is not a number",
            file=raw.path,
            row=int(raw.rows[i]),
            column=col,
            value=cells[int(i)],
            rule="a plain decimal number, e.g. 1250 or 0.35",
            hint="remove $, %, commas and spaces",
        )
    if integer:
        for i in np.flatnonzero(good & (np.mod(values, 1) != 0)):
            problems.add(
                "not_an_integer",
                f"{col} must be a whole number",
                file=raw.path,
                row=int(raw.rows[i]),
                column=col,
                value=cells[int(i)],
                rule="a count",
            )
    if minimum is not None:
        for i in np.flatnonzero(good & (values < minimum)):
            problems.add(
                "below_minimum",
                f"{col} is below {minimum:g}",
                file=raw.path,
                row=int(raw.rows[i]),
                column=col,
                value=cells[int(i)],
                rule=f">= {minimum:g}",
            )
    return values


def boolean_column(raw: RawTable, col: str, problems: ProblemList) -> np.ndarray:
    """yes/no cells as a float array: 1.0 yes, 0.0 no, NaN blank (a blank is 'not yet', never 'no')."""
    cells = _cells(raw, col)
    parsed = pl.select(parse_boolean(pl.lit(cells)).alias("b")).to_series()
    bad = (parsed.is_null() & cells.is_not_null()).to_numpy()
    for i in np.flatnonzero(bad):
        problems.add(
            "not_boolean",
            f"{col} is not yes/no",
            file=raw.path,
            row=int(raw.rows[i]),
            column=col,
            value=cells[int(i)],
            rule=BOOLEAN_WORDS,
        )
    out = np.full(raw.n, np.nan)
    known = parsed.is_not_null().to_numpy()
    out[known] = parsed.filter(pl.Series(known)).cast(pl.Float64).to_numpy()
    return out

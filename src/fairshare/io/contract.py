"""Check a raw table against a formula's input contract and type its columns.

Checks run as polars expressions over whole columns; every problem is collected
and one :class:`InputError` lists them all, sorted by row. Cells are parsed
strictly: numbers are plain decimals (``12``, ``-3.5``, ``1e3``; no thousands
separators, currency or percent signs, ``inf`` or ``nan``); yes/no cells take
``true/false, yes/no, y/n, 1/0, t/f`` in any case; category values are compared
exactly (case matters).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare.errors import FormulaError, InputError, Problem, ProblemList
from fairshare.io.read import RawTable, read_raw
from fairshare.io.table import EntityTable
from fairshare.rules.schema import Formula, InputColumn

__all__ = [
    "BOOLEAN_WORDS",
    "NUMBER_PATTERN",
    "duplicate_rows",
    "first_code",
    "fiscal_year_of",
    "load_entities",
    "parse_boolean",
    "select_year",
    "validate_frame",
]

#: a plain decimal number, optionally signed, with an optional exponent
NUMBER_PATTERN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_TRUE = ("true", "yes", "y", "1", "t")
_FALSE = ("false", "no", "n", "0", "f")
BOOLEAN_WORDS = "true/false, yes/no, y/n, 1/0, t/f"
_COUNT_UNITS = ("pupils", "count", "fte")
_CODE = "\x00code:"
_PARSED = "\x00parsed:"


def parse_boolean(expr: pl.Expr) -> pl.Expr:
    """True/False for a yes/no word (any case), null otherwise."""
    low = expr.str.to_lowercase()
    return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False).otherwise(None)


def load_entities(path: str | Path, formula: Formula) -> EntityTable:
    """Read ``path`` and validate it against ``formula``'s input contract."""
    return validate_frame(read_raw(path), formula)


def fiscal_year_of(date: dt.date) -> int:
    """The fiscal year (named by the year it ends in, July to June) that ``date`` falls in."""
    return date.year + 1 if date.month >= 7 else date.year


def select_year(table: EntityTable, formula: Formula, fiscal_year: int) -> EntityTable:
    """A table with one row per entity and year (``entity.year``) cut to one fiscal year's rows."""
    col = formula.entity.year
    if col is None:
        return table
    years = table.columns[col]
    rows = np.flatnonzero(years == fiscal_year)
    if not rows.size:
        have = sorted({int(y) for y in years[np.isfinite(years)]})
        raise InputError(
            Problem(
                "missing_year",
                f"no rows for fiscal year {fiscal_year} in column {col!r}",
                file=table.source,
                column=col,
                value=fiscal_year,
                rule="one row per entity and fiscal year of the run",
                hint=f"the table has {_year_list(have)}" if have else "the column is empty",
            )
        )
    return table.take(rows)


def _year_list(years: list[int]) -> str:
    return "fiscal year " + str(years[0]) if len(years) == 1 else "fiscal years " + ", ".join(map(str, years))


def validate_frame(raw: RawTable, formula: Formula) -> EntityTable:
    """Validate every contract column of ``raw``; raise one InputError with all problems."""
    specs = _contract(formula)
    defaults = {c: _default(c, s, formula) for c, s in specs.items() if s.has_default}
    frame, n, rows = raw.frame, raw.frame.height, raw.rows
    problems = ProblemList()
    present = [c for c in specs if c in frame.columns]
    for col, spec in specs.items():
        if col not in frame.columns and not spec.has_default:
            problems.add(
                "missing_column",
                f"the file has no column {col!r} ({spec.label})",
                file=raw.path,
                column=col,
                rule="required column",
                hint=_close_names(col, frame.columns),
            )

    exprs: list[pl.Expr] = []
    for col in present:
        value, code = _column_exprs(col, specs[col], defaults.get(col))
        exprs += [value.alias(col), code.alias(_CODE + col)]
    parsed = [_parse_expr(c, specs[c]).alias(_PARSED + c) for c in present]
    checked = frame.lazy().with_columns(parsed).select(exprs).collect() if exprs else pl.DataFrame()
    counts = checked.null_count().row(0, named=True) if exprs else {}
    for col in present:
        if counts[_CODE + col] < n:
            _add_cell_problems(problems, raw, col, specs[col], checked.get_column(_CODE + col))
    _check_part_of(problems, raw, specs, checked, present)
    id_col = formula.entity.id
    year_col = formula.entity.year
    if id_col in frame.columns:
        per_year = year_col if year_col is not None and year_col in frame.columns else None
        check_duplicates(problems, raw, id_col, formula.entity.kind, per=per_year)
    if problems:
        order = {c: i for i, c in enumerate(specs)}
        problems.problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", len(order))))
        raise InputError(problems.problems)

    columns: dict[str, np.ndarray] = {}
    used: dict[str, np.ndarray] = {}
    for col, spec in specs.items():
        if col in present:
            columns[col] = _to_numpy(checked.get_column(col), spec)
            if spec.has_default:
                used[col] = frame.get_column(col).is_null().to_numpy()
        else:
            columns[col] = _constant(defaults[col], spec, n)
            used[col] = np.ones(n, dtype=bool)
    ids = columns[id_col]
    names = ids.copy()
    if formula.entity.name is not None and formula.entity.name in present:
        names = checked.select(pl.col(formula.entity.name).fill_null(pl.col(id_col))).to_series().to_numpy()
    contract = set(specs)
    return EntityTable(
        ids=ids,
        names=names,
        columns=columns,
        defaults_used=used,
        source=raw.path,
        rows=rows,
        sha256=raw.sha256,
        rows_read=n,
        unused_columns=tuple(c for c in frame.columns if c not in contract),
    )


# ------------------------------------------------------------------ contract


def _contract(formula: Formula) -> dict[str, InputColumn]:
    """The contract's columns; the entity id and name columns are required text if not declared."""
    specs = dict(formula.inputs)
    ent = formula.entity
    if ent.id not in specs:
        specs = {ent.id: InputColumn(label=f"{ent.kind} id", type="category", unit="id"), **specs}
    if ent.name is not None and ent.name not in specs:
        specs[ent.name] = InputColumn(label=f"{ent.kind} name", type="category", unit="text")
    return specs


def _default(col: str, spec: InputColumn, formula: Formula) -> Any:
    """The declared default as a value of the column's type."""
    d = spec.default
    bad = f"inputs.{col}.default: {d!r} is not a valid default for a {spec.type} column"
    if spec.type in ("integer", "number"):
        if d is None:
            return None
        if isinstance(d, bool) or (isinstance(d, str) and not pl.Series([d]).str.contains(NUMBER_PATTERN)[0]):
            raise FormulaError(Problem("invalid_value", bad, **formula.where("inputs", col, "default")))
        return float(d)
    if spec.type == "boolean":
        if isinstance(d, bool):
            return d
        word = str(d).lower() if d is not None else ""
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise FormulaError(
            Problem(
                "invalid_value",
                bad + " (a yes/no column cannot be left missing)",
                **formula.where("inputs", col, "default"),
            )
        )
    return None if d is None else (d if isinstance(d, str) else f"{d:g}")


def _rule_text(spec: InputColumn) -> str:
    """A short statement of a column's rule, e.g. ``integer >= 0 (pupils)``."""
    if spec.type in ("integer", "number"):
        lo, hi = spec.bounds()
        if lo is not None and hi is not None:
            return f"{spec.type} from {lo:g} to {hi:g} ({spec.unit})"
        if lo is not None:
            return f"{spec.type} >= {lo:g} ({spec.unit})"
        if hi is not None:
            return f"{spec.type} <= {hi:g} ({spec.unit})"
        return f"{spec.type} ({spec.unit})"
    if spec.type == "boolean":
        return f"yes/no ({BOOLEAN_WORDS})"
    if spec.allowed is not None:
        return "one of " + ", ".join(spec.allowed)
    return f"text ({spec.unit})"


# ---------------------------------------------------------------- expressions


def _parse_expr(col: str, spec: InputColumn) -> pl.Expr:
    """The cell parsed to the column's type; null where blank or unparseable."""
    raw = pl.col(col)
    if spec.type in ("integer", "number"):
        return pl.when(raw.str.contains(NUMBER_PATTERN)).then(raw.cast(pl.Float64, strict=False)).otherwise(None)
    if spec.type == "boolean":
        return parse_boolean(raw)
    return raw


def _column_exprs(col: str, spec: InputColumn, default: Any) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, problem code or null) for one column, given its parsed form in ``_PARSED + col``.

    A blank cell takes ``default`` where the contract declares one.
    """
    blank = pl.col(col).is_null()
    val = pl.col(_PARSED + col)
    # (condition, code) in order: the first that holds names the cell's problem
    cases: list[tuple[pl.Expr, str | None]] = [(blank, None if spec.has_default else "missing_value")]
    dtype = {"integer": pl.Float64, "number": pl.Float64, "boolean": pl.Boolean}.get(spec.type, pl.String)
    if spec.type in ("integer", "number"):
        cases.append((val.is_null() | ~val.is_finite(), "not_a_number"))
        if spec.type == "integer":
            cases.append((val != val.floor(), "not_an_integer"))
        lo, hi = spec.bounds()
        if lo is not None:
            cases.append((val < lo, "below_minimum"))
        if hi is not None:
            cases.append((val > hi, "above_maximum"))
    elif spec.type == "boolean":
        cases.append((val.is_null(), "not_boolean"))
    elif spec.allowed is not None:
        cases.append((~val.is_in(spec.allowed), "not_allowed"))
    value = pl.when(blank).then(pl.lit(default, dtype=dtype)).otherwise(val)
    return value, first_code(cases)


def first_code(cases: list[tuple[pl.Expr, str | None]]) -> pl.Expr:
    """The code of the first case whose condition holds (null if none does, or if that code is None)."""
    code: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, name in reversed(cases):
        code = pl.when(cond).then(pl.lit(name, dtype=pl.String)).otherwise(code)
    return code


def _to_numpy(series: pl.Series, spec: InputColumn) -> np.ndarray:
    if spec.type in ("integer", "number"):
        return series.cast(pl.Float64).to_numpy().astype(np.float64, copy=False)
    if spec.type == "boolean":
        return series.to_numpy().astype(bool, copy=False)
    return series.to_numpy().astype(object, copy=False)


def _constant(default: Any, spec: InputColumn, n: int) -> np.ndarray:
    if spec.type in ("integer", "number"):
        return np.full(n, np.nan if default is None else float(default), dtype=np.float64)
    if spec.type == "boolean":
        return np.full(n, bool(default), dtype=bool)
    return np.full(n, default, dtype=object)


# ------------------------------------------------------------------ problems


def _close_names(col: str, names: list[str]) -> str:
    lower = {c.lower(): c for c in names}
    near = [lower[m] for m in difflib.get_close_matches(col.lower(), list(lower), n=3, cutoff=0.6)]
    listed = ", ".join(repr(c) for c in names[:30]) + (" …" if len(names) > 30 else "")
    if near:
        return f"did you mean {' or '.join(repr(m) for m in near)}? (column names must match exactly)"
    return f"add the column; the file's columns are {listed}"


def _add_cell_problems(problems: ProblemList, raw: RawTable, col: str, spec: InputColumn, codes: pl.Series) -> None:
    """One problem per offending cell (the loop only builds messages; the checks ran vectorised)."""
    bad = pl.DataFrame({"i": np.arange(raw.n), "code": codes, "value": raw.frame.get_column(col)})
    bad = bad.filter(pl.col("code").is_not_null())
    rule = _rule_text(spec)
    explain = _explainer(col, spec)
    for i, code, value in bad.iter_rows():
        message, hint = explain(code, value)
        problems.add(
            code,
            message,
            file=raw.path,
            row=int(raw.rows[i]),
            column=col,
            value=value,
            rule=("required; " + rule) if code == "missing_value" else rule,
            hint=hint,
        )


def _explainer(col: str, spec: InputColumn) -> Callable[[str, str | None], tuple[str, str]]:
    lo, hi = spec.bounds()
    unit = spec.unit
    allowed = spec.allowed or []

    def explain(code: str, value: str | None) -> tuple[str, str]:
        name = spec.label
        if code == "missing_value":
            return f"{name} is blank and the column is required", "fill in the cell; this column has no default"
        if code == "not_a_number":
            return f"{name} is not a number", _number_hint(str(value))
        if code == "not_an_integer":
            return f"{name} has a fraction; it counts whole {unit}", "write a whole number"
        if code == "below_minimum":
            if lo == 0 and unit in _COUNT_UNITS:
                return f"{name} is a negative count of {unit} (minimum 0)", f"a count of {unit} cannot be below 0"
            return f"{name} is below the minimum {lo:g} ({unit})", f"use a value of at least {lo:g}"
        if code == "above_maximum":
            return f"{name} is above the maximum {hi:g} ({unit})", (
                f"use a value of at most {hi:g}"
                + ("; percentages run from 0 to 100" if unit == "percent" else "")
                + ("; shares run from 0 to 1 (write 0.25 for 25 %)" if unit == "share" else "")
            )
        if code == "not_boolean":
            return f"{name} is not a yes/no value", f"write one of {BOOLEAN_WORDS}"
        lowered = [a.lower() for a in allowed]
        near = difflib.get_close_matches(str(value).lower(), lowered, n=1, cutoff=0.6)
        guess = f"did you mean {allowed[lowered.index(near[0])]!r}? " if near else ""
        return f"{name} is not an allowed value", guess + "allowed values: " + ", ".join(allowed)

    return explain


def _number_hint(value: str) -> str:
    if pl.Series([value]).str.contains(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")[0]:
        return f"write {value.replace(',', '')} without thousands separators"
    if "%" in value:
        return "write the number without the % sign (the column's unit says what it measures)"
    if "$" in value:
        return "write the amount without the $ sign or separators"
    if value.replace(",", ".", 1).replace(".", "", 1).lstrip("+-").isdigit():
        return f"use a decimal point: {value.replace(',', '.')}"
    return "write a plain number such as 12 or 12.5, or leave the cell blank only if the column has a default"


def _check_part_of(
    problems: ProblemList, raw: RawTable, specs: dict[str, InputColumn], checked: pl.DataFrame, present: list[str]
) -> None:
    """A subgroup count must not exceed its total, where both cells hold valid values."""
    for col in present:
        total = specs[col].part_of
        if total is None or total not in present:
            continue
        codes = checked.select(pl.col(_CODE + col).is_null() & pl.col(_CODE + total).is_null()).to_series()
        cells = raw.frame.select(pl.col(col).is_not_null() & pl.col(total).is_not_null()).to_series()
        over = (codes & cells & (checked.get_column(col) > checked.get_column(total))).fill_null(False)
        hits = np.flatnonzero(over.to_numpy())
        if len(hits) == 0:
            continue
        values, totals = raw.frame.get_column(col), raw.frame.get_column(total)
        for i in hits.tolist():
            problems.add(
                "exceeds_total",
                f"{col} ({values[i]}) is larger than {total} ({totals[i]}), which it is part of",
                file=raw.path,
                row=int(raw.rows[i]),
                column=col,
                value=values[i],
                rule=f"{col} <= {total}",
                hint=f"a subgroup cannot be larger than its total; check {col} and {total} in this row",
            )


def check_duplicates(
    problems: ProblemList,
    raw: RawTable,
    col: str,
    kind: str,
    code: str = "duplicate_entity",
    per: str | None = None,
) -> None:
    """Every repeat of an id (of an id and ``per``, e.g. a fiscal year) after its first row names that row."""
    for i, first, value in duplicate_rows(raw.frame, col, per).iter_rows():
        year = raw.frame.get_column(per)[i] if per is not None else None
        each = f"{kind} and {per}" if per is not None else kind
        problems.add(
            code,
            f"{kind} id {value!r}"
            + (f" with {per} {year}" if per is not None else "")
            + f" already appears in row {raw.rows[first]}",
            file=raw.path,
            row=int(raw.rows[i]),
            column=col,
            value=value,
            rule=f"one row per {each}",
            hint=f"each {each} is counted once; merge or remove this row (first seen in row {raw.rows[first]})",
        )


def duplicate_rows(frame: pl.DataFrame, col: str, per: str | None = None) -> pl.DataFrame:
    """Rows (``i``) repeating a non-blank value of ``col`` (within one value of ``per``) with their first row."""
    group = ["value"] if per is None else ["value", "per"]
    extra = [] if per is None else [pl.col(per).alias("per")]
    return (
        frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("i"), pl.col(col).alias("value"), *extra)
        .filter(pl.col("value").is_not_null())
        .with_columns(pl.col("i").min().over(group).alias("first"))
        .filter(pl.col("i") != pl.col("first"))
        .select("i", "first", "value")
    )

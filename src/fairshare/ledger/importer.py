"""Import one general-ledger extract through its mapping: every row imported, excluded or rejected.

Amounts become integer cents, parsed exactly from the text (``1,234.50``, ``$1,234.50``,
``-$ 62.74``, ``(12.00)``; at most two decimals). With ``debit``/``credit`` columns the amount is
debit minus credit (a blank side is zero). A row an exclusion rule matches is excluded with the
rule's reason, whatever its amount; any other row with a bad amount, code, district or fiscal
year is rejected with a located problem (file, row, column, value).

The **file total** is the sum, over every data row, of its amount where that amount is a number of
cents below $100 billion; an excluded row whose amount is not such a number (e.g. ``#VALUE!``,
``-6.56E+189``) counts zero and is marked so. Imported + excluded = file total, exactly.
Digit-only codes are compared and written without leading zeros (``099`` -> ``99``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from fairshare.errors import Problem
from fairshare.io.read import read_raw
from fairshare.ledger.mapping import LoadedMapping

__all__ = ["CODE_ROLES", "LIMIT_CENTS", "SourceImport", "import_ledger", "parse_cents"]

CODE_ROLES = ("fund", "function", "object", "program", "location")
LIMIT_CENTS = 10**13  # $100 billion
_NUMBER = re.compile(r"^(\d{1,3}(,\d{3})+|\d*)(\.\d*)?([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class SourceImport:
    """One extract's rows: imported (with cents), excluded (with reasons) and counts."""

    file: str
    mapping_file: str
    source: str
    sha256: str
    rows_read: int
    imported: pl.DataFrame
    excluded: pl.DataFrame
    rejected: int
    file_total_cents: int
    #: rows whose code was read from a mapping's fallback column
    fallback_rows: int = 0


def parse_cents(text: str | None) -> int | None:
    """Exact integer cents of a money cell, or None when it is not one."""
    if text is None:
        return None
    s = text.strip()
    neg = False
    if s.startswith("(") and s.endswith(")"):
        neg, s = True, s[1:-1].strip()
    if s.startswith("-"):
        neg, s = not neg, s[1:].strip()
    if s.startswith("$"):
        s = s[1:].strip()
    if s.startswith("-"):
        neg, s = not neg, s[1:].strip()
    if not s or not _NUMBER.match(s) or s in (".",):
        return None
    try:
        d = Decimal(s.replace(",", "")) * 100
    except InvalidOperation:
        return None
    if d != d.to_integral_value() or abs(d) >= LIMIT_CENTS:
        return None
    return -int(d) if neg else int(d)


def _code(text: str | None) -> str | None:
    if text is None:
        return None
    return str(int(text)) if text.isdigit() else text


def _year(text: str | None) -> int | None:
    if text is None or not text.isdigit():
        return None
    y = int(text)
    if y < 100:
        return 2000 + y
    return y if 1900 <= y <= 2200 else None


def _cents_col(values: list[str | None]) -> list[int | None]:
    cache: dict[str | None, int | None] = {}
    out = []
    for v in values:
        if v not in cache:
            cache[v] = parse_cents(v)
        out.append(cache[v])
    return out


def import_ledger(loaded: LoadedMapping, data: str | Path, problems: list[Problem]) -> SourceImport:
    """Import ``data`` through ``loaded``; rejected rows' problems are appended to ``problems``."""
    m = loaded.mapping
    raw = read_raw(data)
    file = raw.path
    cols = m.columns.named()
    needed = list(cols.values()) + list(m.fallback.values()) + [c.column for r in m.exclude for c in r.when]
    missing = [c for c in dict.fromkeys(needed) if c not in raw.columns]
    for name in missing:
        problems.append(
            Problem(
                "missing_column",
                f"the mapping {loaded.file} names column {name!r}, which the extract does not have",
                file=file,
                column=name,
                hint=f"columns are: {', '.join(raw.columns)}",
            )
        )
    empty = pl.DataFrame()
    if missing:
        return SourceImport(file, loaded.file, m.source, raw.sha256, raw.n, empty, empty, raw.n, 0)
    f = raw.frame
    n = raw.n
    rows = raw.rows.tolist()
    hits: list[list[str]] = [[] for _ in range(n)]
    reasons: dict[str, str] = {r.id: r.reason for r in m.exclude}
    for rule in m.exclude:
        expr = pl.lit(True)
        for cond in rule.when:
            col = pl.col(cond.column)
            if cond.blank is not None:
                test = col.is_null() if cond.blank else col.is_not_null()
            elif cond.matches is not None:
                test = col.str.contains(cond.matches).fill_null(False)
            else:
                test = col.is_in(cond.equals or []).fill_null(False)
            expr = expr & test
        for i in f.select(expr.alias("x")).with_row_index().filter(pl.col("x"))["index"].to_list():
            hits[i].append(rule.id)
    if m.columns.amount is not None:
        amount_text = f[m.columns.amount].to_list()
        cents = _cents_col(amount_text)
    else:
        assert m.columns.debit is not None and m.columns.credit is not None
        dt_, ct_ = f[m.columns.debit].to_list(), f[m.columns.credit].to_list()
        dc, cc = _cents_col(dt_), _cents_col(ct_)
        cents = []
        amount_text = []
        for d, k, dx, cx in zip(dc, cc, dt_, ct_, strict=True):
            broken = (dx is not None and d is None) or (cx is not None and k is None) or (dx is None and cx is None)
            cents.append(None if broken else (d or 0) - (k or 0))
            amount_text.append(f"debit {dx or ''} credit {cx or ''}".strip())
    text = {role: f[c].to_list() for role, c in cols.items() if role not in ("amount", "debit", "credit")}
    fallback_rows = 0
    for code_role, column in m.fallback.items():
        alt = f[column].to_list()
        own = text[code_role]
        fallback_rows += sum(1 for v, a in zip(own, alt, strict=True) if v is None and a is not None)
        text[code_role] = [a if v is None else v for v, a in zip(own, alt, strict=True)]
    imp: dict[str, list[object]] = {
        k: [] for k in ("source", "row", "district", "fiscal_year", *CODE_ROLES, "description", "amount_cents")
    }
    exc: dict[str, list[object]] = {
        k: [] for k in ("source", "row", "district", "fiscal_year", "rule", "reason", "amount_cents", "amount_text")
    }
    rejected, total = 0, 0
    amount_col = m.columns.amount or f"{m.columns.debit}/{m.columns.credit}"
    for i in range(n):
        district = m.district if m.district is not None else text["district"][i]
        fy_text = text["fiscal_year"][i] if m.fiscal_year is None else None
        fy = m.fiscal_year if m.fiscal_year is not None else _year(fy_text)
        if hits[i]:
            exc["source"].append(file)
            exc["row"].append(rows[i])
            exc["district"].append(district)
            exc["fiscal_year"].append(fy)
            exc["rule"].append("+".join(hits[i]))
            exc["reason"].append("; ".join(reasons[h] for h in hits[i]))
            exc["amount_cents"].append(cents[i])
            exc["amount_text"].append(amount_text[i] if cents[i] is None else None)
            total += cents[i] or 0
            continue
        bad: list[Problem] = []
        where = {"file": file, "row": rows[i]}
        if cents[i] is None:
            code = "missing_value" if amount_text[i] is None else "not_a_number"
            bad.append(
                Problem(
                    code,
                    "the amount is not a number of dollars and cents",
                    column=amount_col,
                    value=amount_text[i],
                    hint="fix the cell, or add an exclusion rule if this is a total or summary row",
                    **where,
                )
            )
        if district is None:
            bad.append(Problem("missing_value", "the district is blank", column=cols.get("district"), **where))
        if fy is None:
            bad.append(
                Problem(
                    "ledger_fiscal_year",
                    "the fiscal year is not a year (YYYY, or YY for 20YY)",
                    column=cols.get("fiscal_year"),
                    value=fy_text,
                    hint="fix the cell, or give a fixed fiscal_year: in the mapping",
                    **where,
                )
            )
        for role in ("fund",):
            if text[role][i] is None:
                bad.append(Problem("missing_value", f"the {role} code is blank", column=cols[role], **where))
        if bad:
            problems.extend(bad)
            rejected += 1
            continue
        imp["source"].append(file)
        imp["row"].append(rows[i])
        imp["district"].append(district)
        imp["fiscal_year"].append(fy)
        for role in CODE_ROLES:
            imp[role].append(_code(text[role][i]) if role in text else None)
        imp["description"].append(text["description"][i] if "description" in text else None)
        imp["amount_cents"].append(cents[i])
        total += cents[i] or 0
    schema_i: dict[str, type[pl.DataType]] = {k: pl.String for k in imp}
    schema_i.update(row=pl.Int64, fiscal_year=pl.Int64, amount_cents=pl.Int64)
    schema_e: dict[str, type[pl.DataType]] = {k: pl.String for k in exc}
    schema_e.update(row=pl.Int64, fiscal_year=pl.Int64, amount_cents=pl.Int64)
    return SourceImport(
        file=file,
        mapping_file=loaded.file,
        source=m.source,
        sha256=raw.sha256,
        rows_read=n,
        imported=pl.DataFrame(imp, schema=schema_i),
        excluded=pl.DataFrame(exc, schema=schema_e),
        rejected=rejected,
        file_total_cents=total,
        fallback_rows=fallback_rows,
    )

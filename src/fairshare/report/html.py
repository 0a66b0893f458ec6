"""Shared pieces of the HTML renderers: the Jinja2 environment and exact text for money and dates.

Money is always shown from integer cents (:func:`money`), never through float.
Fiscal-year labels exist only here, in renderers (a year is stored by its first
day). Templates live in ``templates/``; autoescaping is on, so every string from a
formula or a data file is escaped; only the SVG charts rendered by
:mod:`fairshare.report.charts` are marked safe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import jinja2
import numpy as np

__all__ = [
    "environment",
    "fiscal_year_label",
    "fte_text",
    "letter_file_names",
    "money",
    "number_text",
    "percent_text",
    "plural",
    "signed_money",
]

_TEMPLATES = Path(__file__).parent / "templates"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def money(cents: int | np.integer) -> str:
    """Exact dollars from integer cents: 123456 -> '$1,234.56', -5 -> '-$0.05'."""
    c = int(cents)
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}${c // 100:,}.{c % 100:02d}"


def signed_money(cents: int | np.integer) -> str:
    """A change in dollars with its sign: '+$12.00', '-$3.50', '$0.00'."""
    c = int(cents)
    return f"+{money(c)}" if c > 0 else money(c)


def percent_text(share: float, digits: int = 1, signed: bool = False) -> str:
    """0.1234 -> '12.3 %' (signed: '+12.3 %')."""
    value = round(share * 100.0, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    text = f"{value:,.{digits}f} %"
    return f"+{text}" if signed and value > 0 else text


def number_text(x: float) -> str:
    """A count as people read it: 481 -> '481', 1234.5 -> '1,234.5'."""
    return f"{round(x):,}" if float(x).is_integer() else f"{x:,.1f}"


def fte_text(x: float) -> str:
    """FTE without float noise: 1.0 -> '1', 1.5 -> '1.5', 0.333333 -> '0.3333'."""
    return f"{round(float(x), 4) + 0.0:g}"


def plural(word: str) -> str:
    """'school' -> 'schools', 'LEA' -> 'LEAs', 'campus' -> 'campuses'."""
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


def fiscal_year_label(date: dt.date | str) -> str:
    """The label of the fiscal year a run date falls in, for a July-to-June year.

    2025-07-01 -> 'FY 2026 (2025-26)'; 2026-03-15 -> 'FY 2026 (2025-26)'.
    """
    d = dt.date.fromisoformat(date) if isinstance(date, str) else date
    start = d.year if d.month >= 7 else d.year - 1
    return f"FY {start + 1} ({start}-{(start + 1) % 100:02d})"


def letter_file_names(ids: Sequence[object]) -> list[str]:
    """A safe, unique file stem per entity id (letters/<stem>.html).

    Characters outside [A-Za-z0-9._-] become '_'. Where that (or a
    case-insensitive file system) would make two ids share a file, or the result
    is empty or only dots, the changed ids get a short hash of the original id.
    """
    stems = [_UNSAFE.sub("_", str(i)) for i in ids]
    counts: dict[str, int] = {}
    for s in stems:
        counts[s.casefold()] = counts.get(s.casefold(), 0) + 1
    out: list[str] = []
    seen: set[str] = set()
    for original, s in zip(ids, stems, strict=True):
        tag = hashlib.sha256(str(original).encode()).hexdigest()[:8]
        if (counts[s.casefold()] > 1 and s != str(original)) or not s.strip("."):
            s = f"{s}_{tag}"
        if s.casefold() in seen:
            s = f"{s}_{tag}"
        base, k = s, 2
        while s.casefold() in seen:
            s, k = f"{base}_{k}", k + 1
        seen.add(s.casefold())
        out.append(s)
    return out


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    env.filters["signed_money"] = signed_money
    env.filters["percent"] = percent_text
    env.filters["number"] = number_text
    env.filters["fte"] = fte_text
    env.filters["first_upper"] = lambda s: s[:1].upper() + s[1:]  # 'LEA' stays 'LEA' (Jinja's capitalize lowers it)
    return env

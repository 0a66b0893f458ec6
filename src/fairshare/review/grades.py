"""Grade spans as numbers, for comparing a unit's level with its peers'.

A span such as ``EE-05``, ``'KG-12``, ``PK 09-12``, ``EE-PK 01-04`` or ``03-AE`` reads as its lowest and
highest grade over every grade it names: EE (early education) -2, PK -1, KG or K 0, 1 to 12 (with or
without a leading zero), AE (adult education) 13. UG (ungraded) names no grade: a span of only UG has no
grades, like a blank one. A leading apostrophe (a spreadsheet's text marker) is ignored. Anything else in
the text makes it "not a grade span".
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["GRADE_CODES", "parse_grade_spans"]

GRADE_CODES = {"EE": -2.0, "PK": -1.0, "KG": 0.0, "K": 0.0, "AE": 13.0}
_TOKEN = re.compile(r"EE|PK|KG|AE|K|\d{1,2}")
_UNGRADED = re.compile(r"\bUG\b")
_SEPARATORS = re.compile(r"[\s\-,/&]")


def _span(text: str) -> tuple[float, float] | None:
    s = _UNGRADED.sub(" ", text.strip().lstrip("'").upper())
    tokens = _TOKEN.findall(s)
    if not tokens or _SEPARATORS.sub("", _TOKEN.sub("", s)):
        return None
    grades = [GRADE_CODES[x] if x in GRADE_CODES else float(x) for x in tokens]
    if any(x.isdigit() and not 1 <= int(x) <= 12 for x in tokens):
        return None
    return min(grades), max(grades)


def parse_grade_spans(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lowest and highest grade of each span (NaN where blank or unreadable) and a mask of unreadable spans."""
    low, high = np.full(len(text), np.nan), np.full(len(text), np.nan)
    bad = np.zeros(len(text), dtype=bool)
    uniq, inverse = np.unique(np.asarray(text, dtype=str), return_inverse=True)
    for u, t in enumerate(uniq.tolist()):
        if not _UNGRADED.sub("", t.strip().lstrip("'").upper()).strip(" -,/&"):
            continue  # blank or ungraded: no grades
        span = _span(t)
        rows = inverse == u
        if span is None:
            bad[rows] = True
        else:
            low[rows], high[rows] = span
    return low, high, bad

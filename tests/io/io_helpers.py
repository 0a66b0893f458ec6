"""Plain helpers for the io tests: a small formula's text and CSV builders."""

from __future__ import annotations

from collections.abc import Sequence

from fairshare.errors import FairshareError, Problem

TINY = """
formula: tiny
label: Tiny test formula
entity: {kind: school, id: school_id, name: school_name, pupils: enrollment}
parameters:
  base:
    label: Base amount
    unit: usd_per_pupil
    values:
      2025-07-01: {value: 100, reference: {title: test}}
inputs:
  school_id: {label: School id, type: category, unit: id}
  school_name: {label: School name, type: category, unit: text}
  level: {label: School level, type: category, unit: category, allowed: [elementary, middle, high]}
  title1: {label: Title I school, type: boolean, unit: flag}
  magnet: {label: Magnet school, type: boolean, unit: flag, required: false, default: false}
  enrollment: {label: Enrollment, type: integer, unit: pupils}
  english_learners: {label: English learners, type: integer, unit: pupils, part_of: enrollment}
  poverty_pct: {label: Poverty rate, type: number, unit: percent}
  prior: {label: Last year's total, type: number, unit: usd, required: false, default: null}
  extra_fte: {label: Extra staff, type: number, unit: fte, required: false, default: 1.5}
components:
  base: {kind: per_pupil, label: Base, count: enrollment, rate: base}
"""

HEADER = "school_id,school_name,level,title1,magnet,enrollment,english_learners,poverty_pct,prior,extra_fte"


def row(school: str = "A", **cells: str) -> str:
    """One CSV data row in HEADER order with valid defaults, overridden by ``cells``."""
    values = {
        "school_id": school,
        "school_name": f"School {school}",
        "level": "middle",
        "title1": "yes",
        "magnet": "no",
        "enrollment": "100",
        "english_learners": "10",
        "poverty_pct": "45.5",
        "prior": "",
        "extra_fte": "",
    }
    values.update(cells)
    return ",".join(values[c] for c in HEADER.split(","))


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def only(exc: FairshareError, code: str) -> list[Problem]:
    """The problems of ``exc`` with ``code``, asserting there are no others."""
    codes = {p.code for p in exc.problems}
    assert codes == {code}, [str(p) for p in exc.problems]
    return exc.problems


def where(problems: Sequence[Problem]) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in problems]

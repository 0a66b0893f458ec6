"""Fixtures for the report tests: a real run of the demo formula over the seeded synthetic district."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fairshare.io.table import EntityTable
from fairshare.programs.synthetic import synthetic_schools
from fairshare.rules import Run, compile_formula, evaluate, load_formula_text

FORMULA = Path(__file__).parents[2] / "src" / "fairshare" / "programs" / "formulas" / "district-sbb.yaml"
RUN_DATE = dt.date(2025, 7, 1)

MakeRun = Callable[..., Run]


def _make_run(n: int = 40, names: dict[int, str] | None = None, drop: tuple[str, ...] = ()) -> Run:
    """Evaluate the demo formula; ``names`` replaces some entity names, ``drop`` removes formula lines."""
    text = FORMULA.read_text(encoding="utf-8")
    for line in drop:
        assert line in text
        text = text.replace(line, "")
    plan = compile_formula(load_formula_text(text, str(FORMULA)), RUN_DATE)
    df = synthetic_schools(n, 2026)
    cols: dict[str, np.ndarray | list[object]] = {c: df[c].to_numpy() for c in df.columns}
    cols["magnet"] = np.asarray(cols["magnet"], dtype=bool)
    entity_names = df["school_name"].to_list()
    for i, name in (names or {}).items():
        entity_names[i] = name
    table = EntityTable.from_columns(df["school_id"].to_list(), cols, names=entity_names)
    return evaluate(plan, table)


@pytest.fixture(scope="session")
def run() -> Run:
    return _make_run()


@pytest.fixture(scope="session")
def make_run() -> MakeRun:
    return _make_run

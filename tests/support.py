"""Shared builders for tests: the demo formula over synthetic schools, in memory."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np

from fairshare.io.table import EntityTable
from fairshare.programs import DEMO_FORMULA, synthetic_schools
from fairshare.rules import Plan, Run, compile_formula, evaluate, load_formula

RUN_DATE = dt.date(2025, 7, 1)


@cache
def demo_plan() -> Plan:
    return compile_formula(load_formula(DEMO_FORMULA), RUN_DATE)


def demo_table(n: int = 40, seed: int = 2026) -> EntityTable:
    df = synthetic_schools(n, seed)
    cols = {c: df[c].to_numpy() for c in df.columns}
    cols["magnet"] = np.asarray(cols["magnet"], dtype=bool)
    return EntityTable.from_columns(df["school_id"].to_list(), cols, names=df["school_name"].to_list())


def demo_run(n: int = 40, seed: int = 2026, **params: float) -> Run:
    plan = demo_plan()
    if params:
        plan = plan.with_params(params)
    return evaluate(plan, demo_table(n, seed))

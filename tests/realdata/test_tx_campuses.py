"""The engine on a real public file: 9,739 Texas campuses (TEA TAPR 2024-25, from ../shared/data).

Campuses without TAPR membership must be reported row by row, never dropped; on the campuses with
data, a weighted formula fitted to a budget must reconcile to the cent and match an independent
computation of every campus's share.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from fairshare.errors import InputError
from fairshare.io import load_entities
from fairshare.rules import compile_formula, evaluate, load_formula

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "tx_tapr_2024_25" / "tx_campuses_2024_25.csv"
FORMULA = Path(__file__).with_name("tx-weighted.yaml")
P = "campus_2025_student_membership_"
COUNTS = [f"{P}all_students_count", f"{P}econ_disadv_count", f"{P}eb_el_count", f"{P}special_ed_count"]

pytestmark = pytest.mark.skipif(not DATA.is_file(), reason="real data sets live in ../shared/data (present in CI)")


@pytest.fixture(scope="module")
def plan():  # type: ignore[no-untyped-def]
    return compile_formula(load_formula(FORMULA), dt.date(2025, 7, 1))


def test_campuses_without_membership_are_each_reported(plan) -> None:  # type: ignore[no-untyped-def]
    raw = pl.read_csv(DATA, infer_schema=False).with_row_index("row", offset=2)  # header is row 1
    blank_rows = set(raw.filter(pl.col(COUNTS[0]).is_null())["row"].to_list())
    assert len(blank_rows) == 656
    with pytest.raises(InputError) as exc:
        load_entities(DATA, plan.formula)
    problems = exc.value.problems
    assert {p.code for p in problems} == {"missing_value"}
    assert len(problems) == 656 * len(COUNTS)  # every blank cell, none lost
    assert {p.row for p in problems} == blank_rows
    assert {p.column for p in problems} == set(COUNTS)


def test_weighted_budget_over_real_campuses(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = pl.read_csv(DATA, infer_schema=False).select("campus_number", "name", *COUNTS).drop_nulls(COUNTS)
    path = tmp_path / "campuses.csv"
    frame.write_csv(path)
    table = load_entities(path, plan.formula)
    assert table.n == 9083
    run = evaluate(plan, table)
    assert int(run.total_cents.sum()) == 50_000_000_000_00
    # independently: each campus's share of the budget is its weighted pupils' share
    c = frame.select([pl.col(x).cast(pl.Float64) for x in COUNTS]).to_numpy()
    weighted = c[:, 0] + 0.25 * c[:, 1] + 0.10 * c[:, 2] + 1.10 * c[:, 3]
    expected = weighted / weighted.sum() * 50_000_000_000_00
    assert np.max(np.abs(run.total_cents - expected)) <= len(run.lines)  # each line within a cent
    base = run.solved["base"]
    assert base == pytest.approx(50_000_000_000 / weighted.sum(), rel=1e-12)
    # more need, more money per pupil: the top need quartile gets more per pupil than the bottom
    need = c[:, 1] / np.maximum(c[:, 0], 1)
    pp = run.total_cents / np.maximum(c[:, 0], 1)
    lo, hi = np.quantile(need, [0.25, 0.75])
    assert pp[need >= hi].mean() > pp[need <= lo].mean()

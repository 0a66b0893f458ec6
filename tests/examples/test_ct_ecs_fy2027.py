"""Connecticut's FY2027 ECS grant reproduced: every town's entitlement to the dollar, every step checked.

The OFA/CSDE calculation (ecs_component_tool.xlsx, sheet "FY 27") gives each town's inputs, every
intermediate column and the entitlement. The formula reads only the 18 input columns; the test
drops every other column before the run, so no official intermediate can leak into the result.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from fairshare.io import load_entities
from fairshare.rules import Run, compile_formula, evaluate, load_formula

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "ct_ecs_fy2027" / "town_year_ecs_inputs_fy2027.csv"
FORMULA = ROOT / "examples" / "ct-ecs-fy2027" / "ecs.yaml"
RUN_DATE = dt.date(2026, 7, 1)  # FY2027 begins July 1, 2026
STATE_TOTAL = 2_458_690_805  # statewide FY2027 entitlements (data README; CSDE and OPM agree)

#: the only columns the formula may read
INPUTS = (
    "town_code",
    "town",
    "alliance_flag",
    "psd_flag",
    "reform_flag",
    "pic_rank_raw",
    "resident_students",
    "frpl_count",
    "ell_count",
    "engl_avg",
    "population",
    "mhi",
    "rsd_students",
    "rsd_grades",
    "endowed_students",
    "endowed_grades",
    "fy2017_actual",
    "prior_year_entitlement",
)

pytestmark = pytest.mark.skipif(not DATA.is_file(), reason="real data sets live in ../shared/data (present in CI)")


Official = dict[str, dict[str, str]]  # town_code -> the calculation's row


@pytest.fixture(scope="module")
def official() -> Official:
    with DATA.open(newline="", encoding="utf-8") as fh:
        return {row["town_code"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, official: Official) -> Run:
    """The formula run on the 18 input columns only (every official intermediate dropped)."""
    inputs = tmp_path_factory.mktemp("ct_ecs") / "town_inputs_fy2027.csv"
    with inputs.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=INPUTS)
        writer.writeheader()
        for row in official.values():
            writer.writerow({c: row[c] for c in INPUTS})
    formula = load_formula(FORMULA)
    return evaluate(compile_formula(formula, RUN_DATE), load_entities(inputs, formula))


def _column(official: Official, ids: list[str], name: str) -> np.ndarray:
    return np.array([float(official[i][name]) for i in ids])


def test_formula_reads_only_the_listed_inputs() -> None:
    assert set(load_formula(FORMULA).inputs) <= set(INPUTS)


def test_every_town_entitlement_to_the_dollar(run: Run, official: Official) -> None:
    ids = [str(i) for i in run.table.ids]
    assert run.table.n == len(official) == 169
    # The official entitlements are whole dollars and the formula rounds where the calculation does
    # (round(x, 0) on base formula aid and the phase-in), so the model's cents are exactly
    # entitlement × 100: compared in integer cents, no tolerance.
    got = {i: int(c) for i, c in zip(ids, run.total_cents, strict=True)}
    want = {i: round(float(official[i]["entitlement"])) * 100 for i in ids}
    wrong = {official[i]["town"]: (got[i], want[i]) for i in ids if got[i] != want[i]}
    assert not wrong, f"{len(wrong)} towns differ (got cents, want cents): {dict(list(wrong.items())[:5])}"
    assert sum(got.values()) == STATE_TOTAL * 100


def test_money_lines_follow_the_calculation(run: Run, official: Official) -> None:
    ids = [str(i) for i in run.table.ids]

    def dollars(name: str) -> np.ndarray:
        return np.round(_column(official, ids, name)).astype(np.int64) * 100

    assert np.array_equal(run.column("formula_aid"), dollars("base_formula_aid"))
    assert np.array_equal(run.column("regional_bonus"), dollars("rsd_bonus"))
    assert np.array_equal(run.column("endowed_academy_bonus"), dollars("endowed_bonus"))
    assert np.array_equal(
        run.column("alliance_hold_harmless"), dollars("fully_funded_grant_hh") - dollars("fully_funded_grant")
    )
    assert np.array_equal(run.column("phase_in_adjustment"), dollars("entitlement") - dollars("fully_funded_grant_hh"))


# (variable, official column, tolerance). Counts and ratios are printed to 2 and 6 decimals in the
# calculation and the formula rounds at the same places, so they agree to float precision; the
# concentrated-poverty columns are shown to 2 decimals but carried unrounded into need students.
STEPS = [
    ("frpl_weighted", "frpl_weighted", 1e-9),
    ("conc_pov_threshold_students", "conc_pov_threshold_students", 0.005),
    ("excess_frpl_students", "excess_frpl_students", 0.005),
    ("excess_frpl_weighted", "excess_frpl_weighted", 0.005),
    ("ell_weighted", "ell_weighted", 1e-9),
    ("need_students", "need_students", 1e-9),
    ("engl_per_capita", "engl_per_capita", 1e-9),
    ("engl_threshold", "engl_threshold", 1e-9),
    ("engl_factor", "engl_factor", 1e-12),
    ("mhi_threshold", "mhi_threshold", 1e-9),
    ("mhi_factor", "mhi_factor", 1e-12),
    ("wealth_adj_factor", "wealth_adj_factor", 1e-12),
    ("base_aid_ratio", "base_aid_ratio", 1e-12),
    ("pic_bar_adjustment", "pic_bar_adjustment", 1e-12),
    ("final_base_aid_ratio", "final_base_aid_ratio", 1e-12),
    ("base_formula_aid", "base_formula_aid", 0),
    ("rsd_bonus", "rsd_bonus", 0),
    ("endowed_bonus", "endowed_bonus", 0),
    ("fully_funded_grant", "fully_funded_grant", 0),
    ("fully_funded_grant_hh", "fully_funded_grant_hh", 0),
    ("grant_adjustment", "grant_adjustment", 0),
    ("phase_in_amount", "phase_in_amount", 0),
    ("entitlement_no_hh", "entitlement_no_hh", 0),
    ("entitlement", "entitlement", 0),
]


@pytest.mark.parametrize(("variable", "column", "tol"), STEPS, ids=[s[0] for s in STEPS])
def test_every_step_matches_the_calculation(
    run: Run, official: Official, variable: str, column: str, tol: float
) -> None:
    ids = [str(i) for i in run.table.ids]
    got = np.broadcast_to(np.asarray(run.env[variable], dtype=float), (len(ids),))
    want = _column(official, ids, column)
    off = np.abs(got - want) > tol
    wrong = {official[i]["town"]: (float(g), float(w)) for i, g, w, o in zip(ids, got, want, off, strict=True) if o}
    assert not wrong, f"{variable}: {len(wrong)} towns differ (got, want): {dict(list(wrong.items())[:5])}"


def test_underfunded_flag_matches(run: Run, official: Official) -> None:
    ids = [str(i) for i in run.table.ids]
    got = np.asarray(run.env["ff_greater_than_prior"], dtype=bool)
    want = np.array([official[i]["ff_greater_than_prior"] == "Yes" for i in ids])
    assert np.array_equal(got, want)
    assert int(want.sum()) == 16  # towns whose fully funded grant is above their FY2026 grant

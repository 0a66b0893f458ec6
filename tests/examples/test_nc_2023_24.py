"""North Carolina's simulator reproduced: every LEA's total to the cent, for the five settings."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from nc_reference import SETTINGS, cents, lea_totals

from fairshare.io import load_entities
from fairshare.rules import compile_formula, evaluate, load_formula

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "nc_2023_24" / "traditional_lea_2023_24.csv"
EXAMPLES = ROOT / "examples" / "nc-2023-24"

pytestmark = pytest.mark.skipif(not DATA.is_file(), reason="real data sets live in ../shared/data (present in CI)")


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_every_lea_total_to_the_cent(setting: str) -> None:
    plan = compile_formula(load_formula(EXAMPLES / f"{setting}.yaml"), dt.date(2023, 7, 1))
    run = evaluate(plan, load_entities(DATA, plan.formula))
    expected = lea_totals(DATA, SETTINGS[setting])
    assert run.table.n == len(expected) == 115
    got = {str(i): int(t) for i, t in zip(run.table.ids, run.total_cents, strict=True)}
    want = {i: cents(sum(lines.values())) for i, (lines, _) in expected.items()}
    wrong = {i: (got[i], want[i]) for i in want if got[i] != want[i]}
    assert not wrong, f"{len(wrong)} LEAs differ (got, want): {dict(list(wrong.items())[:5])}"
    # each line stays within a cent of the simulator's unrounded amount
    sped = sum(run.column(c) for c in ("sped_tier1", "sped_tier2", "sped_tier3"))
    for k, i in enumerate(run.table.ids):
        lines = expected[str(i)][0]
        assert abs(int(run.column("poverty")[k]) - lines["poverty"] * 100) <= 1
        assert abs(int(sped[k]) - lines["sped"] * 100) <= 3
        assert abs(int(run.column("rural")[k]) - lines["rural"] * 100) <= 1


def test_state_summary_and_charts(tmp_path: Path) -> None:
    from fairshare.report.summary import comparison_charts, component_summary

    plan = compile_formula(load_formula(EXAMPLES / "default.yaml"), dt.date(2023, 7, 1))
    run = evaluate(plan, load_entities(DATA, plan.formula))
    expected = lea_totals(DATA, SETTINGS["default"])
    summary = component_summary(run)
    rows = {r["id"]: r for r in summary["rows"]}
    assert rows["base_funding"]["eligible"] == "1,364,282"  # the data README's total ADM
    assert rows["base_funding"]["base"] == "$8,000"
    assert rows["sped_tier2"]["weight"] == "50 %"
    assert rows["english_learners"]["weight"] == "15 % to 18 %"  # tiered add-on where EL ≥ 9 %
    # every category, rural included, is in the model total, which matches the simulator's
    model = sum(cents(sum(lines.values())) for lines, _ in expected.values())
    assert summary["model"] == f"${model // 100:,}.{model % 100:02d}"
    current = sum(cents(cur) for _, cur in expected.values())
    assert summary["current"] == f"${current // 100:,}.{current % 100:02d}"
    diff = model - current
    assert summary["difference"] == f"+${diff // 100:,}.{diff % 100:02d}"
    # rural: the ADM of the LEAs that get a rural amount
    with DATA.open(newline="", encoding="utf-8") as fh:
        rural_adm = sum(float(r["adm"]) for r in csv.DictReader(fh) if expected[r["dist_id"]][0]["rural"] > 0)
    assert rows["rural"]["eligible"] == f"{rural_adm:,.0f}"
    charts = comparison_charts(run)
    assert charts is not None and "<svg" in charts["scatter"] and "<svg" in charts["need"]

"""Multi-year state aid: each year's prior is last year's grant; phase-in and stop-loss compound."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import FormulaError
from fairshare.programs.aid import parse_years, run_years, write_years

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aid-transition"
FORMULA, TOWNS = EXAMPLE / "foundation.yaml", EXAMPLE / "towns.csv"

# hand-computed, year by year (foundation $11,525, $11,800 from FY 2030; phase-in share 25 %, 50 % from
# FY 2029; stop-loss 2 %; grants rounded to the dollar, half away from zero):
EXPECTED = {
    # Ashford: target 1,120 need × 0.5 × 11,525 = 6,454,000 < prior: stop-loss 0.98 × prior each year,
    # until FY 2030 when the target 6,608,000 passes 6,588,344 and the phase-in closes half the gap
    "T1": [6_860_000, 6_722_800, 6_588_344, 6_598_172],
    # Brookline: target 2,950 × 0.75 × 11,525 = 25,499,062.5 → 25,499,063 > prior: 20,000,000 + 25 % of the
    # gap = 21,374,765.75 → 21,374,766; + 25 % → 22,405,840.25 → 22,405,840; + 50 % → 23,952,451.5 → 23,952,452;
    # FY 2030 target 26,107,500: + 50 % → 25,029,976
    "T2": [21_374_766, 22_405_840, 23_952_452, 25_029_976],
    # Chester: ratio at its 10 % minimum, target 356,123 far below the prior: 2 % stop-loss every year
    # (0.98 × 470,596 = 461,184.08 → 461,184)
    "T3": [490_000, 480_200, 470_596, 461_184],
}


def test_year_by_year_hold_harmless_and_phase_in() -> None:
    runs = run_years(FORMULA, TOWNS, 2027, 2030)
    assert [r.fiscal_year for r in runs] == [2027, 2028, 2029, 2030]
    assert [r.run.plan.date.isoformat() for r in runs] == ["2026-07-01", "2027-07-01", "2028-07-01", "2029-07-01"]
    for town, grants in EXPECTED.items():
        got = [int(r.run.total_cents[r.run.table.index_of(town)]) for r in runs]  # type: ignore[index]
        assert got == [g * 100 for g in grants], town
    # each year's prior is the year before's grant
    for before, after in itertools.pairwise(runs):
        assert (after.run.prior_total_cents == before.run.total_cents).all()


def test_outputs(tmp_path: Path) -> None:
    files = write_years(run_years(FORMULA, TOWNS, 2027, 2030), tmp_path, FORMULA)
    assert [f.name for f in files] == ["by_year.csv", "summary.csv", "manifest.json"]
    by_year = pl.read_csv(files[0], schema_overrides={"total": pl.String, "change": pl.String})
    assert by_year.height == 12
    t2 = by_year.filter(pl.col("entity_id") == "T2")
    assert t2["total"].to_list() == ["21374766.00", "22405840.00", "23952452.00", "25029976.00"]
    assert t2["change"].to_list() == ["1374766.00", "1031074.00", "1546612.00", "1077524.00"]
    summary = pl.read_csv(files[1], schema_overrides={"total": pl.String})
    assert summary["total"].to_list()[0] == "28724766.00"


def test_years_and_missing_prior_are_clear_errors(tmp_path: Path) -> None:
    assert parse_years("2027..2030") == (2027, 2030) and parse_years("2027") == (2027, 2027)
    for bad in ("2030..2027", "FY27", "2027-2030"):
        with pytest.raises(FormulaError):
            parse_years(bad)
    no_prior = tmp_path / "f.yaml"
    no_prior.write_text(
        FORMULA.read_text(encoding="utf-8").replace("  prior_total: aid_last_year\n", ""), encoding="utf-8"
    )
    with pytest.raises(FormulaError) as exc:
        run_years(no_prior, TOWNS, 2027, 2028)
    assert "entity.prior_total" in str(exc.value)


def test_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["aid", str(FORMULA), "--data", str(TOWNS), "--years", "2027..2030", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "FY 2030" in result.output and "$32,089,332.00" in result.output
    result = CliRunner().invoke(
        app, ["aid", str(FORMULA), "--data", str(TOWNS), "--years", "soon", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1 and "FIRST..LAST" in result.output

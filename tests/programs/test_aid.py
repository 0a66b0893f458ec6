"""Multi-year state aid: each year's prior is last year's grant; phase-in and stop-loss compound."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import FormulaError, InputError
from fairshare.pipeline import allocate
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
    runs = run_years(FORMULA, TOWNS, range(2027, 2031))
    assert [r.fiscal_year for r in runs] == [2027, 2028, 2029, 2030]
    assert [r.run.plan.date.isoformat() for r in runs] == ["2026-07-01", "2027-07-01", "2028-07-01", "2029-07-01"]
    for town, grants in EXPECTED.items():
        got = [int(r.run.total_cents[r.run.table.index_of(town)]) for r in runs]  # type: ignore[index]
        assert got == [g * 100 for g in grants], town
    # each year's prior is the year before's grant
    for before, after in itertools.pairwise(runs):
        assert (after.run.prior_total_cents == before.run.total_cents).all()


def test_outputs(tmp_path: Path) -> None:
    files = write_years(run_years(FORMULA, TOWNS, range(2027, 2031)), tmp_path, FORMULA)
    assert [f.name for f in files] == ["by_year.csv", "summary.csv", "manifest.json"]
    by_year = pl.read_csv(files[0], schema_overrides={"total": pl.String, "change": pl.String})
    assert by_year.height == 12
    t2 = by_year.filter(pl.col("entity_id") == "T2")
    assert t2["total"].to_list() == ["21374766.00", "22405840.00", "23952452.00", "25029976.00"]
    assert t2["change"].to_list() == ["1374766.00", "1031074.00", "1546612.00", "1077524.00"]
    summary = pl.read_csv(files[1], schema_overrides={"total": pl.String})
    assert summary["total"].to_list()[0] == "28724766.00"


def test_years_and_missing_prior_are_clear_errors(tmp_path: Path) -> None:
    assert parse_years("2027..2030") == [2027, 2028, 2029, 2030] and parse_years("2027") == [2027]
    assert parse_years("2026, 2013..2014,2014") == [2013, 2014, 2026]
    for bad in ("2030..2027", "FY27", "2027-2030", "2027,", ""):
        with pytest.raises(FormulaError):
            parse_years(bad)
    no_prior = tmp_path / "f.yaml"
    no_prior.write_text(
        FORMULA.read_text(encoding="utf-8").replace("  prior_total: aid_last_year\n", ""), encoding="utf-8"
    )
    with pytest.raises(FormulaError) as exc:
        run_years(no_prior, TOWNS, [2027, 2028])
    assert "entity.prior_total" in str(exc.value)


def test_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["aid", str(FORMULA), "--data", str(TOWNS), "--years", "2027..2030", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "FY 2030" in result.output and "$32,089,332.00" in result.output
    assert "Set-asides" in result.output and "$5,029,976.00" in result.output and "20.10-20.10%" in result.output
    result = CliRunner().invoke(
        app, ["aid", str(FORMULA), "--data", str(TOWNS), "--years", "soon", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1 and "FIRST..LAST" in result.output


# The improvement grant is the increase of an identified town's grant over its base year (FY 2026), never
# below zero; the need-based proposal restricts the share of the grant the low-income weight generates
# (Ashford 400 × 0.30 / 1,120 = 3/28, Brookline 1,500 × 0.30 / 2,950 = 9/59), shown beside it, not carved out.
SET_ASIDES = {
    "T1": ([0, 0, 0, 0], ["735000.00", "720300.00", "705894.00", "706947.00"]),  # grant falls: no increase
    "T2": (
        [1_374_766, 2_405_840, 3_952_452, 5_029_976],  # 21,374,766 - 20,000,000, ...
        ["3260557.53", "3417840.00", "3653763.86", "3818131.93"],  # 21,374,766 × 9/59 = 3,260,557.525… → .53
    ),
    "T3": ([0, 0, 0, 0], ["0.00", "0.00", "0.00", "0.00"]),  # not identified
}


def test_set_asides_year_by_year(tmp_path: Path) -> None:
    runs = run_years(FORMULA, TOWNS, range(2027, 2031))
    for town, (grant, _) in SET_ASIDES.items():
        i = runs[0].run.table.index_of(town)
        assert [int(r.run.set_aside_cents[0][i]) for r in runs] == [g * 100 for g in grant], town
    write_years(runs, tmp_path, FORMULA)
    by_year = pl.read_csv(tmp_path / "by_year.csv", infer_schema=False)
    for town, (grant, by_need) in SET_ASIDES.items():
        rows = by_year.filter(pl.col("entity_id") == town)
        assert rows["improvement_grant"].to_list() == [f"{g}.00" for g in grant]
        assert rows["improvement_grant_by_need"].to_list() == by_need
        # the proposal is shown, not carved out: the town keeps the total less the grant in force
        totals = [int(t.replace(".", "")) for t in rows["total"]]
        after = [int(t.replace(".", "")) for t in rows["after_set_asides"]]
        assert [t - a for t, a in zip(totals, after, strict=True)] == [g * 100 for g in grant]
    # Brookline keeps exactly its base-year grant unrestricted, year after year
    assert by_year.filter(pl.col("entity_id") == "T2")["after_set_asides"].unique().to_list() == ["20000000.00"]
    assert by_year.filter(pl.col("entity_id") == "T2")["improvement_grant_pct"].to_list() == [
        "6.43",  # 1,374,766 / 21,374,766 = 6.4318 %
        "10.74",
        "16.50",  # 3,952,452 / 23,952,452 = 16.5013 %
        "20.10",
    ]
    summary = pl.read_csv(tmp_path / "summary.csv", infer_schema=False)
    assert summary["improvement_grant"].to_list() == ["1374766.00", "2405840.00", "3952452.00", "5029976.00"]
    assert summary["improvement_grant_recipients"].to_list() == ["1"] * 4
    assert summary["improvement_grant_by_need_recipients"].to_list() == ["2"] * 4
    # 735,000 / 6,860,000 = 10.714 %; 3,260,557.53 / 21,374,766 = 15.254 %
    assert summary["improvement_grant_by_need_min_pct"][0] == "10.71"
    assert summary["improvement_grant_by_need_max_pct"][0] == "15.25"
    # 1,374,766 / 28,724,766 = 4.786 %
    assert summary["improvement_grant_pct"][0] == "4.79"


YEAR_FORMULA = """
formula: yearly
label: Per-pupil aid from a table with one row per town and year
entity: {kind: town, id: town_id, pupils: students, prior_total: last_year, year: fiscal_year}
parameters:
  rate:
    label: Aid per pupil
    unit: usd_per_pupil
    values:
      2026-07-01: {value: 1000, reference: {title: Test act}}
      2027-07-01: {value: 1100, reference: {title: Test act}}
  stop_loss:
    label: Largest loss as a share of last year
    unit: share
    values:
      2026-07-01: {value: 0.05, reference: {title: Test act}}
inputs:
  town_id: {label: Town, type: category, unit: id}
  fiscal_year: {label: Fiscal year, type: integer, unit: year}
  students: {label: Students, type: integer, unit: pupils}
  last_year: {label: Last year's aid, type: number, unit: usd, min: 0}
components:
  aid: {kind: per_pupil, label: Aid, count: students, rate: rate}
  floor: {kind: hold_harmless, label: Stop-loss, prior: last_year, max_loss: stop_loss}
"""


def _year_files(tmp_path: Path, rows: str) -> tuple[Path, Path]:
    formula, table = tmp_path / "yearly.yaml", tmp_path / "towns.csv"
    formula.write_text(YEAR_FORMULA, encoding="utf-8")
    table.write_text("town_id,fiscal_year,students,last_year\n" + rows, encoding="utf-8")
    return formula, table


def test_year_tables_run_each_year_on_its_rows(tmp_path: Path) -> None:
    # B's enrolment halves in 2028: the stop-loss holds it to 95 % of its 2027 aid, which the runner carries
    # (rows in another order in 2028, and C appears only in 2028 with its own prior)
    formula, table = _year_files(
        tmp_path,
        "A,2027,100,90000\nB,2027,200,190000\nC,2028,10,12000\nB,2028,100,0\nA,2028,100,0\nA,2029,100,0\n",
    )
    runs = run_years(formula, table, [2027, 2028])
    assert [r.run.table.ids.tolist() for r in runs] == [["A", "B"], ["C", "B", "A"]]
    assert runs[0].run.total_cents.tolist() == [100_000_00, 200_000_00]
    # 2028: rate 1,100; B 110,000 < 95 % × 200,000 = 190,000; C 11,000 < 95 % × 12,000 = 11,400 (its own row)
    assert runs[1].run.total_cents.tolist() == [11_400_00, 190_000_00, 110_000_00]
    assert runs[1].run.prior_total_cents.tolist() == [12_000_00, 200_000_00, 100_000_00]  # type: ignore[union-attr]
    # after a gap the prior is the table's, not the last year run
    gap = run_years(formula, table, [2027, 2029])
    assert gap[1].run.prior_total_cents.tolist() == [0]  # type: ignore[union-attr]
    # allocate takes the rows of the fiscal year its date falls in
    import datetime as dt

    assert allocate(formula, table, dt.date(2027, 9, 1)).table.ids.tolist() == ["C", "B", "A"]
    assert allocate(formula, table, dt.date(2027, 6, 30)).table.ids.tolist() == ["A", "B"]


def test_year_tables_errors(tmp_path: Path) -> None:
    formula, table = _year_files(tmp_path, "A,2027,100,90000\nB,2027,200,190000\nA,2028,100,0\nA,2027,5,0\n")
    with pytest.raises(InputError) as exc:
        run_years(formula, table, [2027])
    (p,) = exc.value.problems
    assert p.code == "duplicate_entity" and p.row == 5 and "with fiscal_year 2027 already appears in row 2" in p.message
    formula, table = _year_files(tmp_path, "A,2027,100,90000\nA,2028,100,0\n")
    with pytest.raises(InputError) as exc:
        run_years(formula, table, [2027, 2028, 2029])
    (p,) = exc.value.problems
    assert p.code == "missing_year" and p.value == 2029 and "fiscal years 2027, 2028" in str(p)
    bad = tmp_path / "bad.yaml"
    bad.write_text(YEAR_FORMULA.replace("{label: Fiscal year, type: integer", "{label: Fiscal year, type: number"))
    with pytest.raises(FormulaError) as fexc:
        run_years(bad, table, [2027])
    assert fexc.value.code == "invalid_value" and "entity.year" in str(fexc.value)


def test_set_asides_in_every_output_of_a_single_run(tmp_path: Path) -> None:
    import datetime as dt

    from fairshare.pipeline import write_outputs
    from fairshare.rules.trace import trace_entity

    run = allocate(FORMULA, TOWNS, dt.date(2026, 7, 1))
    write_outputs(run, tmp_path, FORMULA)
    budgets = pl.read_csv(tmp_path / "budgets.csv", infer_schema=False)
    t2 = budgets.filter(pl.col("entity_id") == "T2").row(0, named=True)
    assert (t2["improvement_grant"], t2["improvement_grant_pct"], t2["after_set_asides"]) == (
        "1374766.00",
        "6.43",
        "20000000.00",
    )
    trace = trace_entity(run, 1)
    grant, proposal = trace.set_asides
    assert (grant.amount, grant.share_pct, grant.alternative_to) == ("1374766.00", "6.43", None)
    assert grant.citation == "Demo state aid act (synthetic), § 6, improvement grant"
    assert (proposal.amount, proposal.alternative_to) == ("3260557.53", "improvement_grant")
    letter = (tmp_path / "letters" / "T2.html").read_text(encoding="utf-8")
    assert "Restricted parts of your total" in letter and "$20,000,000.00" in letter
    assert "a proposal, shown for comparison: not in force" in letter
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<h2>Set-asides</h2>" in report and "6.43 % to 6.43 %" in report
    manifest = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    assert '"improvement_grant_by_need": {' in manifest and '"alternative_to": "improvement_grant"' in manifest
    explained = CliRunner().invoke(
        app, ["explain", str(FORMULA), "--data", str(TOWNS), "--entity", "T2", "--date", "2026-07-01"]
    )
    assert explained.exit_code == 0 and "6.43% of the total; set aside" in explained.output


def test_set_asides_in_the_workbook(tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    from fairshare.report import write_workbook

    path = write_workbook(allocate(FORMULA, TOWNS, dt.date(2026, 7, 1)), tmp_path / "b.xlsx")
    ws = openpyxl.load_workbook(path, read_only=True)["Budgets"]
    rows = list(ws.iter_rows(values_only=True))
    head, brookline = rows[0], rows[2]
    grant = head.index("Improvement grant (the increase over the base year), restricted")
    assert brookline[grant] == 1374766 and abs(brookline[grant + 1] - 0.06432) < 1e-5
    assert head[-1] == "After set-asides" and brookline[-1] == 20_000_000
    assert "(proposal)" in head[grant + 2]

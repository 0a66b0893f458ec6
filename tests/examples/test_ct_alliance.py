"""Connecticut's Alliance District grant as a set-aside of ECS, on the real series, against the CSDE report.

The table (one row per town and fiscal year) is built here from ../shared/data, as
docs/state-formulas.md describes:

- ECS by town: FY2012-FY2014 from the ecstargets scratch workbook; FY2015 from CT Voices' table
  (its ``ecs_fy16`` column is the FY2015 grant carried into the FY2016 proposal: its totals are the
  report's 2014-15 figures exactly); FY2016 as enacted (finalBudgetECS, not the grant as paid);
  FY2017 as paid, FY2026 and FY2027 from the OFA/CSDE FY2027 calculation.
- Identification year from the report's endnotes; FRPM and EL shares from its need tables
  (2012-13 for FY2013-FY2017, 2024-25 for FY2026-FY2027) for the need-based proposal.
- The three districts identified in 2022-23 (Enfield, Plainfield, Stratford) have FY2022 as base
  year, and no FY2022 grant by town is in the data: they are left out of FY2026-FY2027.

The oracles are the report's tables: every original district's grant as a share of its ECS in
2012-13 and 2025-26 (to the printed 0.1 %), and the statewide Alliance total of each year.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from fairshare.cli import app

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
HISTORY, ALLIANCE, FY2027 = SHARED / "ct_ecs_history_2012_2017", SHARED / "ct_alliance_2026", SHARED / "ct_ecs_fy2027"
FORMULA = ROOT / "examples" / "ct-alliance" / "alliance-grant.yaml"
YEARS = "2013..2017,2026..2027"
NO_FY2022_BASE = ("Enfield", "Plainfield", "Stratford")

pytestmark = pytest.mark.skipif(not ALLIANCE.is_dir(), reason="real data sets live in ../shared/data (present in CI)")


def _mac_csv(path: Path) -> pl.DataFrame:
    """The ecstargets CSVs have classic-Mac (CR) line endings."""
    return pl.read_csv(io.BytesIO(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n")))


def build_table() -> pl.DataFrame:
    with warnings.catch_warnings():  # the scratch workbook carries an extension openpyxl does not read
        warnings.filterwarnings("ignore", "Unknown extension", UserWarning)
        book = openpyxl.load_workbook(HISTORY / "ecsTargetScratch_8aba92e.xlsx", read_only=True, data_only=True)
        rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
        book.close()
    scratch = pl.DataFrame(
        [
            {"town_code": str(r[0]), "ecs_fy2012": float(r[10]), "2013": float(r[11]), "2014": float(r[12])}
            for r in rows
            if isinstance(r[0], int)
        ]
    )
    towns = pl.read_csv(FY2027 / "town_year_ecs_inputs_fy2027.csv", infer_schema_length=0).select(
        "town_code",
        "town",
        pl.col("fy2017_actual").cast(pl.Float64).alias("2017"),
        pl.col("prior_year_entitlement").cast(pl.Float64).alias("2026"),
        pl.col("entitlement").cast(pl.Float64).alias("2027"),
    )
    key = pl.col("town_name").str.to_uppercase().alias("key")
    voices = _mac_csv(HISTORY / "ctvoicesECS.csv").select(key, pl.col("ecs_fy16").cast(pl.Float64).alias("2015"))
    enacted = _mac_csv(HISTORY / "finalBudgetECS.csv").select(
        key, pl.col("final_budget_fy16").cast(pl.Float64).alias("2016")
    )
    ecs = (
        towns.with_columns(pl.col("town").str.to_uppercase().alias("key"))
        .join(scratch, on="town_code", how="left", validate="1:1")
        .join(voices, on="key", how="left", validate="1:1")
        .join(enacted, on="key", how="left", validate="1:1")
    )
    assert ecs.height == 169 and ecs.null_count().sum_horizontal().item() == 0
    identified = pl.read_csv(ALLIANCE / "identification.csv").select(
        pl.col("district").alias("town"),
        (pl.col("year_identified").str.slice(0, 4).cast(pl.Int64) + 1).alias("alliance_identified_fy"),
    )
    need = (
        pl.read_csv(ALLIANCE / "need_prevalence.csv")
        .filter(pl.col("district") != "State")
        .with_columns(pl.col("district").str.strip_suffix(" School District").alias("town"))
        .pivot(on="measure", index="town", values=["pct_2012_13", "pct_2024_25"])
    )
    long = ecs.unpivot(
        index=["town_code", "town", "ecs_fy2012"],
        on=["2013", "2014", "2015", "2016", "2017", "2026", "2027"],
        variable_name="fiscal_year",
        value_name="ecs",
    ).with_columns(pl.col("fiscal_year").cast(pl.Int64))
    recent = pl.col("fiscal_year") >= 2026
    return (
        long.join(identified, on="town", how="left", validate="m:1")
        .join(need, on="town", how="left", validate="m:1")
        .filter(~(recent & pl.col("town").is_in(NO_FY2022_BASE)))
        .select(
            "town_code",
            "town",
            "fiscal_year",
            "ecs",
            "alliance_identified_fy",
            "ecs_fy2012",
            pl.lit(None, dtype=pl.Float64).alias("ecs_fy2022"),
            pl.when(recent).then(pl.col("pct_2024_25_FRPM")).otherwise(pl.col("pct_2012_13_FRPM")).alias("frpm_pct"),
            pl.when(recent).then(pl.col("pct_2024_25_EL")).otherwise(pl.col("pct_2012_13_EL")).alias("el_pct"),
        )
        .sort("fiscal_year", pl.col("town_code").cast(pl.Int64))
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    tmp = tmp_path_factory.mktemp("alliance")
    table = tmp / "towns_by_year.csv"
    build_table().write_csv(table)
    result = CliRunner().invoke(
        app, ["aid", str(FORMULA), "--data", str(table), "--years", YEARS, "--out", str(tmp / "out")]
    )
    assert result.exit_code == 0, result.output
    by_year = pl.read_csv(tmp / "out" / "by_year.csv", infer_schema=False)
    summary = pl.read_csv(tmp / "out" / "summary.csv", infer_schema=False)
    return by_year, summary, result.output


def _cents(text: str) -> int:
    return int(text.replace(".", ""))


def test_each_original_district_share_matches_the_report(outputs: tuple[pl.DataFrame, pl.DataFrame, str]) -> None:
    by_year = outputs[0]
    report = pl.read_csv(ALLIANCE / "alliance_share_of_ecs.csv", infer_schema=False)
    assert report.height == 30
    for fiscal_year, column in ((2013, "pct_2012_13"), (2026, "pct_2025_26")):
        ours = by_year.filter(pl.col("fiscal_year") == str(fiscal_year)).join(
            report.select("town_code", column), left_on="entity_id", right_on="town_code", how="inner"
        )
        assert ours.height == 30
        for row in ours.iter_rows(named=True):
            # the exact share, rounded to the report's 0.1 % (half up; no share sits on a tie)
            share = _cents(row["alliance_grant"]) / _cents(row["total"]) * 100
            assert f"{share:.1f}" == row[column], (fiscal_year, row["name"], share, row[column])
            assert abs(float(row["alliance_grant_pct"]) - share) < 0.005


def test_the_range_the_report_quotes(outputs: tuple[pl.DataFrame, pl.DataFrame, str]) -> None:
    """'from 2.1 % to 63.7 %' among the original districts in 2025-26 (Killingly, Stamford)."""
    by_year = outputs[0]
    originals = pl.read_csv(ALLIANCE / "alliance_share_of_ecs.csv", infer_schema=False)["town_code"]
    fy2026 = by_year.filter((pl.col("fiscal_year") == "2026") & pl.col("entity_id").is_in(originals))
    shares = fy2026.with_columns(pl.col("alliance_grant_pct").cast(pl.Float64)).sort("alliance_grant_pct")
    assert (shares["name"][0], f"{shares['alliance_grant_pct'][0]:.1f}") == ("Killingly", "2.1")
    assert (shares["name"][-1], f"{shares['alliance_grant_pct'][-1]:.1f}") == ("Stamford", "63.7")


def test_statewide_totals_match_the_report(outputs: tuple[pl.DataFrame, pl.DataFrame, str]) -> None:
    summary = {r["fiscal_year"]: r for r in outputs[1].iter_rows(named=True)}
    report = {r["fiscal_year"]: r for r in pl.read_csv(ALLIANCE / "ecs_totals.csv").iter_rows(named=True)}
    for fy, label in ((2013, "2012-13"), (2014, "2013-14"), (2015, "2014-15"), (2017, "2016-17")):
        ours, theirs = summary[str(fy)], report[label]
        assert _cents(ours["alliance_grant"]) == theirs["ecs_alliance"] * 100, fy
        assert _cents(ours["total"]) == theirs["ecs_total"] * 100, fy
        assert f"{float(ours['alliance_grant_pct']):.1f}" == f"{theirs['alliance_pct_reported']:.1f}", fy
        assert int(ours["alliance_grant_recipients"]) == 30
    # FY2016 is the enacted budget, not the grants as paid: $199,147 more Alliance money than the report
    assert _cents(summary["2016"]["alliance_grant"]) - report["2015-16"]["ecs_alliance"] * 100 == 199_147_00
    # FY2026: of the 33 districts with a FY2012 base, Groton and Thompson get ECS below their FY2012 grant,
    # so no increase to restrict; the report's total also holds the three 2022-23 districts' increase over
    # FY2022, which the data cannot give town by town
    assert int(summary["2026"]["alliance_grant_recipients"]) == 31
    assert report["2025-26"]["ecs_alliance"] * 100 - _cents(summary["2026"]["alliance_grant"]) == 6_974_311_00


def test_the_proposal_restricts_the_same_money_by_need(outputs: tuple[pl.DataFrame, pl.DataFrame, str]) -> None:
    by_year, summary, printed = outputs
    for row in summary.iter_rows(named=True):
        # the same statewide total (up to the cents of rounding each district), spread by need
        assert abs(_cents(row["alliance_grant_by_need"]) - _cents(row["alliance_grant"])) <= 40
    # every Alliance district restricts some of its ECS under the proposal, increase or not
    assert [summary["alliance_grant_by_need_recipients"].to_list()] == [["30"] * 5 + ["33"] * 2]
    fy2026 = by_year.filter(pl.col("fiscal_year") == "2026").with_columns(
        pl.col("alliance_grant_pct", "alliance_grant_by_need_pct").cast(pl.Float64)
    )
    alliance = fy2026.filter(pl.col("alliance_grant_by_need_pct") > 0)
    # by need, the shares are far closer together than the base-year increases make them
    spread = alliance.select(
        (pl.col("alliance_grant_pct").max() - pl.col("alliance_grant_pct").min()).alias("now"),
        (pl.col("alliance_grant_by_need_pct").max() - pl.col("alliance_grant_by_need_pct").min()).alias("proposal"),
    ).row(0, named=True)
    assert spread["proposal"] < spread["now"] / 2, spread
    # Bridgeport (87.5 % FRPM) restricts more of its ECS than Killingly under the proposal, not under current law
    share = {r["name"]: r for r in fy2026.iter_rows(named=True)}
    assert share["Bridgeport"]["alliance_grant_by_need_pct"] > share["Killingly"]["alliance_grant_by_need_pct"]
    # the town keeps the rest: ECS = grant + what goes to the town, to the cent
    for row in by_year.iter_rows(named=True):
        assert _cents(row["after_set_asides"]) + _cents(row["alliance_grant"]) == _cents(row["total"])
    assert "Set-asides" in printed and "* alliance_gra" in printed and "$39,499,998.00" in printed

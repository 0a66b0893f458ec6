"""The CT Alliance District example against counts computed here directly from indicators.csv with polars."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fairshare.trends import TrendsResult, run_trends

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "ct_alliance_2026"
SPEC = ROOT / "examples" / "ct-alliance-2026" / "spec.yaml"

pytestmark = pytest.mark.skipif(not (DATA / "indicators.csv").exists(), reason="shared CT data not present")

PRE, POST = "Pre-Pandemic", "Since 20"  # fragments of the source_table titles
# (indicator, table fragment, from, to, lower is better)
EXPECTED = [
    ("accountability_index", PRE, "2015-16", "2018-19", False),
    ("ela_performance_index", PRE, "2015-16", "2018-19", False),
    ("math_performance_index", PRE, "2015-16", "2018-19", False),
    ("chronic_absenteeism_pct", PRE, "2012-13", "2018-19", True),
    ("grad_rate_4yr_pct", PRE, "2012-13", "2018-19", False),
    ("grad_rate_6yr_high_needs_pct", PRE, "2010-11 Cohort", "2017-18 Cohort", False),
    ("grad_rate_4yr_pct", POST, "2020-21", "2023-24", False),
    ("grad_rate_6yr_high_needs_pct", POST, "2018-19 Cohort", "2021-22 Cohort", False),
    ("accountability_index", "Post-Pandemic", "2021-22", "2024-25", False),
    ("ela_performance_index", POST, "2021-22", "2024-25", False),
    ("math_performance_index", POST, "2021-22", "2024-25", False),
    ("science_performance_index", POST, "2021-22", "2024-25", False),
    ("chronic_absenteeism_pct", POST, "2021-22", "2024-25", True),
]


def _independent(ind: str, table: str, a: str, b: str, lower: bool) -> tuple[int, int, int, int]:
    df = pl.read_csv(DATA / "indicators.csv", infer_schema_length=0).filter(
        (pl.col("indicator") == ind) & pl.col("source_table").str.contains(table, literal=True)
    )
    wide = (
        df.with_columns(pl.col("value").cast(pl.Float64))
        .filter(pl.col("year").is_in([a, b]))
        .pivot(on="year", index="district", values="value")
    )
    d = (pl.col(b) - pl.col(a)) * (-1 if lower else 1)
    wide = wide.with_columns(d.alias("d"))
    return (
        wide.height,
        wide.filter(pl.col("d") > 0).height,
        wide.filter(pl.col("d") < 0).height,
        wide.filter(pl.col("d") == 0).height,
    )


@pytest.fixture(scope="module")
def result() -> TrendsResult:
    return run_trends(SPEC, DATA)


def test_counts_match_an_independent_computation(result: TrendsResult) -> None:
    rows = result.improvement.to_dicts()[: len(EXPECTED)]
    for row, (ind, table, a, b, lower) in zip(rows, EXPECTED, strict=True):
        assert (row["indicator"], row["from_period"], row["to_period"]) == (ind, a, b)
        assert (row["units"], row["improved"], row["declined"], row["unchanged"]) == _independent(
            ind, table, a, b, lower
        ), (ind, a, b)
        assert row["missing"] == 0


def test_published_counts(result: TrendsResult) -> None:
    got = {(r["indicator"], r["to_period"]): (r["improved"], r["units"]) for r in result.improvement.to_dicts()[:13]}
    assert got[("accountability_index", "2018-19")] == (19, 33)
    assert got[("grad_rate_4yr_pct", "2018-19")] == (27, 31)
    assert got[("math_performance_index", "2024-25")] == (30, 36)
    assert got[("chronic_absenteeism_pct", "2024-25")] == (34, 36)


def test_above_2018_19_matches_the_table_markers(result: TrendsResult) -> None:
    markers = pl.read_csv(DATA / "table_markers.csv").filter(
        pl.col("source_table") == "Accountability Index Scores Post-Pandemic"
    )
    marked = sorted(s.removesuffix(" School District") for s in markers["district"].to_list())
    ex = result.exceeded.row(0, named=True)
    assert ex["exceeded"] == len(marked) == 9
    assert ex["exceeded_units"].split("; ") == marked


def test_claims(result: TrendsResult) -> None:
    claims = {r["text"]: (r["computed"], r["status"]) for r in result.claims.to_dicts()}
    assert claims["19 of 33 improved the accountability index 2015-16 to 2018-19"] == ("19 of 33", "supported")
    assert claims["26 of 31 increased the 4-year graduation rate"] == ("27 of 31", "not supported")
    assert claims["30 of 36 improved mathematics 2021-22 to 2024-25"] == ("30 of 36", "supported")
    assert claims["34 of 36 improved chronic absenteeism 2021-22 to 2024-25"] == ("34 of 36", "supported")
    computed, status = claims["certified staff rose 4.7 % in the 30 original districts"]
    assert status == "supported"
    staff = pl.read_csv(DATA / "staffing_by_category.csv").filter(pl.col("assignment_category") == "Grand Total")
    assert float(computed) == pytest.approx((staff["fte_2024_25"][0] / staff["fte_2012_13"][0] - 1) * 100, abs=1e-3)


def test_ecs_shares_agree_with_reported(result: TrendsResult) -> None:
    shares = result.shares["ecs_totals"]
    assert shares.filter(pl.col("agrees") == "no").height == 0
    assert shares.filter(pl.col("agrees") == "yes").height == 14

"""Equity metrics: every metric against hand-computed values, the Theil decomposition, invariances
(Hypothesis), located errors, the `fairshare review metrics` command and one run on real data."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import CODES, InputError
from fairshare.review import EquityMetrics, equity_metrics, metrics_from_table
from fairshare.review.metrics import DEFINITIONS, check_inputs, weighted_percentile

ROOT = Path(__file__).resolve().parents[2]
NCEP = ROOT.parent / "shared" / "data" / "ct_ecs_fy2027" / "district_year_ncep_fy2025.csv"

runner = CliRunner()


def approx(x: float) -> Any:
    return pytest.approx(x, rel=1e-12, abs=1e-15)


# ------------------------------------------------------------------ hand-computed, unweighted


def test_unweighted_by_hand() -> None:
    m = equity_metrics([4.0, 1.0, 3.0, 2.0])  # sorted: 1 2 3 4, each unit counts once
    assert m.n == 4 and m.pupils == 4 and not m.weighted
    assert m.mean == approx(2.5)  # 10 / 4
    # inverted CDF on cumulative shares .25 .5 .75 1: P5 -> 1 (.25 >= .05), P50 -> 2 (.5 >= .5), P95 -> 4
    assert (m.p5, m.median, m.p95) == (1.0, 2.0, 4.0)
    assert (m.minimum, m.maximum, m.range) == (1.0, 4.0, 3.0)
    assert m.restricted_range == 3.0  # 4 - 1
    assert m.federal_range_ratio == approx(3.0)  # (4 - 1) / 1
    # population variance: (1.5² + .5² + .5² + 1.5²) / 4 = 5 / 4; CV = sqrt(1.25) / 2.5 = sqrt(0.2)
    assert m.coefficient_of_variation == approx(math.sqrt(0.2))
    assert m.mcloone == approx(0.5)  # below the median 2: only 1 -> 1 / (1 × 2)
    assert m.verstegen == approx(1.75)  # above 2: 3 + 4 = 7 -> 7 / (2 × 2)
    # Gini = sum |xi - xj| over all 16 ordered pairs / (2 n² mean) = 2 × (1+2+3+1+2+1) / (2 × 16 × 2.5) = 20 / 80
    assert m.gini == approx(0.25)
    # Theil: ratios x / 2.5 = .4 .8 1.2 1.6; T = (.4 ln .4 + .8 ln .8 + 1.2 ln 1.2 + 1.6 ln 1.6) / 4 ≈ 0.106440
    theil = (0.4 * math.log(0.4) + 0.8 * math.log(0.8) + 1.2 * math.log(1.2) + 1.6 * math.log(1.6)) / 4
    assert m.theil == pytest.approx(theil, rel=1e-12)
    assert m.theil == pytest.approx(0.106440, abs=1e-6)


def test_equal_values_are_perfect_equity() -> None:
    m = equity_metrics([7.5, 7.5, 7.5], weights=[1, 30, 2])
    assert (m.range, m.restricted_range, m.federal_range_ratio) == (0.0, 0.0, 0.0)
    assert (m.coefficient_of_variation, m.gini, m.theil) == (0.0, 0.0, 0.0)
    assert (m.mcloone, m.verstegen) == (1.0, 1.0)


# ------------------------------------------------------------------ hand-computed, pupil-weighted


def test_weighted_by_hand() -> None:
    m = equity_metrics([10.0, 20.0, 40.0], weights=[2, 1, 1])  # pupils: 10 10 20 40
    assert m.weighted and m.pupils == 4
    assert m.mean == approx(20.0)  # (2×10 + 20 + 40) / 4
    # cumulative pupils 2 3 4 of 4: P5 (0.2 pupils) and P50 (2nd pupil) in the first unit, P95 in the last
    assert (m.p5, m.median, m.p95) == (10.0, 10.0, 40.0)
    assert m.federal_range_ratio == approx(3.0)  # (40 - 10) / 10
    # variance (2×10² + 0 + 20²) / 4 = 150; CV = sqrt(150) / 20
    assert m.coefficient_of_variation == approx(math.sqrt(150) / 20)
    assert m.mcloone == 1.0  # no pupil is below the median (10): nobody is short of it
    assert m.verstegen == approx(3.0)  # above 10: 20 + 40 = 60 -> 60 / (10 × 2)
    # pupil pairs: |10-10| + |10-20| + |10-40| + |10-20| + |10-40| + |20-40| = 100; G = 2 × 100 / (2 × 16 × 20)
    assert m.gini == approx(0.3125)
    # ratios .5 (half the pupils), 1, 2: T = .5 × .5 ln .5 + .25 × 0 + .25 × 2 ln 2 = ln 2 / 4 ≈ 0.173287
    assert m.theil == approx(math.log(2) / 4)


def test_weighted_mcloone_and_verstegen_by_hand() -> None:
    m = equity_metrics([12.0, 8.0, 20.0, 10.0], weights=[3, 1, 1, 1])
    # sorted 8 10 12 20 with pupils 1 1 3 1, cumulative 1 2 5 6: the median pupil (3rd of 6) is in the 12 unit
    assert m.median == 12.0
    assert m.mcloone == approx(0.75)  # below 12: 8 + 10 = 18 for 2 pupils -> 18 / (12 × 2)
    assert m.verstegen == approx(20 / 12)  # above 12: 20 for 1 pupil -> 20 / 12


def test_percentile_definition() -> None:
    # 20 equal units 1..20: P5 is reached at the first unit (1/20 = 5%), P95 at the 19th (19/20 = 95%)
    x = np.arange(1.0, 21.0)
    assert weighted_percentile(x, np.ones(20), 5) == 1.0
    assert weighted_percentile(x, np.ones(20), 95) == 19.0
    # the federal rule's example: 5th percentile of pupils reached at $820, 95th at $1,000 -> 22%
    x = np.array([700.0, 820.0, 900.0, 1000.0, 1200.0])
    w = np.array([4.0, 10.0, 70.0, 12.0, 4.0])  # cumulative 4 14 84 96 100
    assert weighted_percentile(x, w, 5) == 820.0 and weighted_percentile(x, w, 95) == 1000.0
    assert equity_metrics(x, w).federal_range_ratio == approx(180 / 820)


def test_duplicate_unit_is_double_weight_by_hand() -> None:
    a = equity_metrics([10.0, 20.0, 40.0], weights=[2, 1, 1]).as_dict()["metrics"]
    b = equity_metrics([10.0, 10.0, 20.0, 40.0]).as_dict()["metrics"]
    for key in a:
        assert a[key]["value"] == approx(b[key]["value"]), key


# ------------------------------------------------------------------ Theil decomposition


def test_theil_decomposition_by_hand() -> None:
    m = equity_metrics([10.0, 20.0, 40.0], weights=[2, 1, 1], groups=["a", "a", "b"])
    # group a: 3 pupils (share .75), mean 40/3, R = (40/3)/20 = 2/3; group b: share .25, mean 40, R = 2
    # between = .75 × (2/3) ln(2/3) + .25 × 2 ln 2 = .5 ln(4/3) ≈ 0.143841
    assert m.theil_between == approx(0.5 * math.log(4 / 3))
    # within a (mean 40/3): ratios .75 (2/3 of its pupils) and 1.5: T_a = .5 ln .75 + .5 ln 1.5 = .5 ln 1.125
    # within = .75 × (2/3) × T_a + .25 × 2 × 0 = .25 ln(9/8) ≈ 0.029446
    assert m.theil_within == approx(0.25 * math.log(9 / 8))
    assert m.theil_between + m.theil_within == approx(m.theil)  # .25 (ln 16/9 + ln 9/8) = ln 2 / 4
    a, b = m.groups
    assert (a.group, a.n, a.pupils, b.group, b.n) == ("a", 2, 3.0, "b", 1)
    assert a.mean == approx(40 / 3) and a.theil == approx(0.5 * math.log(1.125)) and b.theil == 0.0


# ------------------------------------------------------------------ wealth and need


def test_wealth_by_hand() -> None:
    m = equity_metrics([10.0, 20.0, 40.0], weights=[5, 1, 2], wealth=[1.0, 2.0, 4.0])
    # value = 10 × wealth: correlation 1; ln value = ln 10 + ln wealth: elasticity 1 (whatever the weights)
    assert m.wealth_correlation == approx(1.0)
    assert m.wealth_elasticity == approx(1.0)
    m = equity_metrics([10.0, 20.0, 40.0], wealth=[16.0, 4.0, 1.0])
    # ln value = ln 2 × (0, 1, 2) + ln 10, ln wealth = ln 2 × (4, 2, 0): slope -1/2
    assert m.wealth_elasticity == approx(-0.5)
    assert m.wealth_correlation is not None and m.wealth_correlation < 0


def test_need_slope_and_correlation_by_hand() -> None:
    m = equity_metrics([1.0, 2.0, 3.0], weights=[1, 1, 2], need=[1.0, 3.0, 2.0])
    # weighted means: value (1 + 2 + 6)/4 = 9/4, need (1 + 3 + 4)/4 = 2
    # deviations: value -5/4 -1/4 3/4; need -1 1 0 -> cov = (5/4 - 1/4 + 0)/4 = 1/4, var need = (1 + 1)/4 = 1/2
    assert m.need_slope == approx(0.5)  # (1/4) / (1/2): half a dollar more per unit of need
    # var value = (25/16 + 1/16 + 2 × 9/16) / 4 = 11/16; correlation = (1/4) / sqrt(11/16 × 1/2)
    assert m.need_correlation == approx(0.25 / math.sqrt(11 / 32))
    m = equity_metrics([10.0, 20.0, 40.0], need=[1.0, 4.0, 16.0])
    # ln value = ln 10 + ln 2 × (0, 1, 2), ln need = ln 2 × (0, 2, 4): elasticity 1/2
    assert m.need_elasticity == approx(0.5)


def test_need_quartiles_by_hand() -> None:
    m = equity_metrics([10.0, 20.0, 30.0, 40.0, 50.0], need=[1.0, 2.0, 3.0, 4.0, 5.0])
    # 5 pupils, a quartile is 1.25 pupils: lowest = unit 1 + a quarter of unit 2 = (10 + .25 × 20) / 1.25 = 12
    assert m.need_lowest_quartile_mean == approx(12.0)
    # highest = unit 5 + a quarter of unit 4 = (50 + .25 × 40) / 1.25 = 48
    assert m.need_highest_quartile_mean == approx(48.0)
    assert m.need_quartile_ratio == approx(4.0)  # progressive


def test_need_quartiles_weighted_by_hand() -> None:
    m = equity_metrics([10000.0, 12000.0, 15000.0, 9000.0], weights=[100, 200, 100, 50], need=[0.1, 0.3, 0.5, 0.2])
    # by need: 100 pupils at 10,000, 50 at 9,000, 200 at 12,000, 100 at 15,000; a quartile is 112.5 pupils
    # lowest: 100 × 10,000 + 12.5 × 9,000 = 1,112,500 -> / 112.5 = 9,888.89
    assert m.need_lowest_quartile_mean == approx(1_112_500 / 112.5)
    # highest: 100 × 15,000 + 12.5 × 12,000 = 1,650,000 -> / 112.5 = 14,666.67
    assert m.need_highest_quartile_mean == approx(1_650_000 / 112.5)
    assert m.need_quartile_ratio == approx(1_650_000 / 1_112_500)


def test_need_quartile_ties_share_the_boundary() -> None:
    # two units tie on the lowest need: the lowest quarter (1 pupil of 4) is half of each, whatever the row order
    m = equity_metrics([10.0, 30.0, 20.0, 40.0], need=[1.0, 1.0, 2.0, 2.0])
    assert m.need_lowest_quartile_mean == approx(20.0)  # (.5 × 10 + .5 × 30) / 1
    assert m.need_highest_quartile_mean == approx(30.0)  # (.5 × 20 + .5 × 40) / 1
    flipped = equity_metrics([30.0, 10.0, 40.0, 20.0], need=[1.0, 1.0, 2.0, 2.0])
    assert flipped.need_quartile_ratio == approx(m.need_quartile_ratio)


def test_undefined_relations_are_none_with_a_note() -> None:
    m = equity_metrics([1.0, 2.0, 3.0], need=[0.0, 0.5, 0.5], wealth=[2.0, 2.0, 2.0])
    assert m.wealth_correlation is None and m.wealth_elasticity is None
    assert m.need_elasticity is None and "zero or negative for 1 unit" in m.notes["need_elasticity"]
    assert m.need_slope is not None and m.need_quartile_ratio is not None
    d = m.as_dict()["metrics"]
    assert d["wealth_elasticity"]["value"] is None and "same for every unit" in d["wealth_elasticity"]["note"]
    m = equity_metrics([1.0, 2.0, 3.0], need=[4.0, 4.0, 4.0])
    assert m.need_quartile_ratio is None and m.need_slope is None and "need_quartile_ratio" in m.notes


def test_as_dict_shape_and_rounding() -> None:
    m = equity_metrics([1.0, 2.0, 4.0], weights=[1, 1, 1], need=[1.0, 2.0, 3.0])
    d = m.as_dict(significant_digits=3)
    assert list(d) == ["n", "pupils", "weighted", "metrics"]
    assert list(d["metrics"]) == [k for k, (needs, _, _) in DEFINITIONS.items() if needs in (None, "need")]
    assert d["metrics"]["mean"] == {"value": 2.33, "weighted": True, "definition": DEFINITIONS["mean"][2]}
    assert d["metrics"]["range"]["weighted"] is False
    assert m.as_dict()["metrics"]["mean"]["value"] == 7 / 3


# ------------------------------------------------------------------ invariances (Hypothesis)

sizes = st.integers(min_value=2, max_value=12)


@st.composite
def units(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(sizes)
    values = np.array(draw(st.lists(st.integers(1, 100_000), min_size=n, max_size=n)), dtype=float)
    weights = np.array(draw(st.lists(st.integers(1, 1_000), min_size=n, max_size=n)), dtype=float)
    need = np.array(draw(st.lists(st.integers(0, 50), min_size=n, max_size=n)), dtype=float)
    groups = np.array(draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)))
    return values, weights, need, groups


SCALE_FREE = ("coefficient_of_variation", "gini", "theil", "mcloone", "verstegen", "federal_range_ratio")


@given(units(), st.sampled_from([3.0, 0.25, 1024.0]))
def test_scale_invariance(data: tuple[np.ndarray, ...], factor: float) -> None:
    values, weights, _, _ = data
    a, b = equity_metrics(values, weights), equity_metrics(values * factor, weights)
    for key in SCALE_FREE:
        assert getattr(b, key) == pytest.approx(getattr(a, key), rel=1e-9, abs=1e-12), key


@given(units())
def test_bounds(data: tuple[np.ndarray, ...]) -> None:
    values, weights, _, _ = data
    for m in (equity_metrics(values, weights), equity_metrics(values)):
        assert 0.0 <= m.gini < 1.0
        assert m.theil >= 0.0 and m.coefficient_of_variation >= 0.0
        assert 0.0 < m.mcloone <= 1.0 <= m.verstegen
        assert m.minimum <= m.p5 <= m.median <= m.p95 <= m.maximum


@given(units(), st.data())
def test_duplicating_a_unit_equals_doubling_its_weight(data: tuple[np.ndarray, ...], pick: st.DataObject) -> None:
    values, weights, need, groups = data
    k = pick.draw(st.integers(0, len(values) - 1))
    doubled = weights.copy()
    doubled[k] *= 2
    a = equity_metrics(values, doubled, need=need, groups=groups)
    b = equity_metrics(
        np.append(values, values[k]), np.append(weights, weights[k]), need=np.append(need, need[k]),
        groups=np.append(groups, groups[k]),
    )  # fmt: skip
    assert b.n == a.n + 1
    da, db = a.as_dict()["metrics"], b.as_dict()["metrics"]
    for key in da:
        if da[key]["value"] is None:
            assert db[key]["value"] is None, key
        else:
            assert db[key]["value"] == pytest.approx(da[key]["value"], rel=1e-9, abs=1e-12), key


@given(units())
def test_theil_decomposition_is_exact(data: tuple[np.ndarray, ...]) -> None:
    values, weights, _, groups = data
    m = equity_metrics(values, weights, groups=groups)
    assert m.theil_between is not None and m.theil_within is not None
    assert m.theil_between + m.theil_within == pytest.approx(m.theil, rel=1e-12, abs=1e-15)
    assert sum(g.within_contribution for g in m.groups) == pytest.approx(m.theil_within, rel=1e-12, abs=1e-15)


@given(units(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(data: tuple[np.ndarray, ...], rnd: Any) -> None:
    values, weights, need, groups = data
    order = list(range(len(values)))
    rnd.shuffle(order)
    a = equity_metrics(values, weights, need=need, groups=groups).as_dict()
    b = equity_metrics(values[order], weights[order], need=need[order], groups=groups[order]).as_dict()
    for key in a["metrics"]:
        va, vb = a["metrics"][key]["value"], b["metrics"][key]["value"]
        assert (va is None and vb is None) or vb == pytest.approx(va, rel=1e-9, abs=1e-12), key


# ------------------------------------------------------------------ errors


def _codes(exc: pytest.ExceptionInfo[InputError]) -> list[tuple[str, int | None, str | None]]:
    return [(p.code, p.row, p.column) for p in exc.value.problems]


def test_bad_inputs_are_located_problems() -> None:
    with pytest.raises(InputError) as exc:
        equity_metrics([10.0, 0.0, float("nan"), 5.0], weights=[1, 2, 0, -1], wealth=[1.0, 2.0, 3.0, -4.0])
    assert _codes(exc) == [
        ("below_minimum", 2, "values"),
        ("missing_value", 3, "values"),
        ("below_minimum", 3, "weights"),
        ("below_minimum", 4, "weights"),
        ("below_minimum", 4, "wealth"),
    ]
    assert all(p.code in CODES for p in exc.value.problems)


def test_too_few_units_and_mismatched_lengths() -> None:
    with pytest.raises(InputError) as exc:
        equity_metrics([10.0])
    assert exc.value.code == "too_few_units"
    with pytest.raises(InputError) as exc:
        equity_metrics([1.0, 2.0, 3.0], weights=[1.0, 2.0], need=[1.0, 2.0, 3.0, 4.0], groups=["a"])
    assert [(p.code, p.column) for p in exc.value.problems] == [
        ("invalid_value", "weights"),
        ("invalid_value", "need"),
        ("invalid_value", "groups"),
    ]
    assert "weights has 2 entries but values has 3" in str(exc.value.problems[0])


def test_check_inputs_uses_the_users_rows_and_columns() -> None:
    problems = check_inputs(
        [1.0, -2.0], need=[1.0, float("inf")], groups=["a", ""], file="t.csv", rows=[5, 9],
        columns={"values": "ncep", "need": "frpl", "groups": "type"},
    )  # fmt: skip
    assert [(p.code, p.file, p.row, p.column) for p in problems] == [
        ("below_minimum", "t.csv", 9, "ncep"),
        ("invalid_value", "t.csv", 9, "frpl"),
        ("missing_value", "t.csv", 9, "type"),
    ]


def test_table_problems_are_collected_with_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,spend,pupils\nA,100,10\nB,abc,0\nC,,5\nD,-5,2\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        metrics_from_table(path, "spend", weight="pupils")
    assert [(p.code, p.row, p.column, p.value) for p in exc.value.problems] == [
        ("not_a_number", 3, "spend", "abc"),
        ("below_minimum", 3, "pupils", "0"),
        ("missing_value", 4, "spend", None),
        ("below_minimum", 5, "spend", "-5"),
    ]
    assert all(p.file == str(path) for p in exc.value.problems)
    with pytest.raises(InputError) as exc:
        metrics_from_table(path, "spnd")
    assert exc.value.code == "missing_column" and "did you mean 'spend'" in str(exc.value)


# ------------------------------------------------------------------ the command


def test_cli_prints_json(tmp_path: Path) -> None:
    path = tmp_path / "districts.csv"
    path.write_text(
        "id,spend,pupils,frpl,wealth,kind\nA,10000,100,0.1,500000,x\nB,12000,200,0.3,400000,x\n"
        "C,15000,100,0.5,300000,y\nD,9000,50,0.2,600000,y\n",
        encoding="utf-8",
    )
    args = ["review", "metrics", "--data", str(path), "--value", "spend", "--weight", "pupils"]
    result = runner.invoke(app, [*args, "--need", "frpl", "--wealth", "wealth", "--group", "kind"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc)[:10] == [
        "format", "fairshare_version", "data", "value", "weighted_by", "need", "wealth", "group",
        "significant_digits", "n",
    ]  # fmt: skip
    assert (doc["n"], doc["weighted_by"], doc["pupils"], doc["significant_digits"]) == (4, "pupils", 450.0, 6)
    metrics = doc["metrics"]
    assert metrics["mean"]["value"] == 11888.9  # 5,350,000 / 450 to 6 significant digits
    assert metrics["mcloone"]["value"] == 0.805556  # (50 × 9,000 + 100 × 10,000) / (12,000 × 150)
    assert metrics["verstegen"]["value"] == 1.25  # 15,000 / 12,000
    assert metrics["federal_range_ratio"]["value"] == 0.666667  # (15,000 - 9,000) / 9,000
    assert all({"value", "weighted", "definition"} <= set(v) for v in metrics.values())
    assert [g["group"] for g in doc["groups"]] == ["x", "y"]
    plain = json.loads(runner.invoke(app, ["review", "metrics", "--data", str(path), "--value", "spend"]).stdout)
    assert plain["weighted_by"] is None and plain["metrics"]["mean"]["weighted"] is False
    assert "need_slope" not in plain["metrics"] and "groups" not in plain


def test_cli_bad_table_exits_1_with_problems(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,spend\nA,100\n", encoding="utf-8")
    result = runner.invoke(app, ["review", "metrics", "--data", str(path), "--value", "spend"])
    assert result.exit_code == 1
    assert "too_few_units" in result.output and "Traceback" not in result.output


# ------------------------------------------------------------------ real data


@pytest.mark.skipif(not NCEP.is_file(), reason="real data sets live in ../shared/data (present in CI)")
def test_connecticut_districts_net_current_expenditure_per_pupil() -> None:
    m: EquityMetrics = metrics_from_table(NCEP, "ncep", weight="adm")
    assert m.n == 165 and m.weighted
    assert 15_000 < m.mean < 30_000
    assert 0.05 < m.coefficient_of_variation < 0.5
    assert 0.0 < m.gini < 0.3
    assert 0.0 < m.theil < 0.1
    assert 0.0 < m.federal_range_ratio < 2.0 and m.p5 < m.median < m.p95
    assert 0.5 < m.mcloone < 1.0 < m.verstegen < 2.0

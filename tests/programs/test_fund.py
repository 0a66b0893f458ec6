"""A fixed fund to the highest-need schools: eligibility modes, shares, minimum grant, exact cents, partners."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import FormulaError, InputError, RunError
from fairshare.programs.fund import FundEntity as FundEntityModel
from fairshare.programs.fund import FundResult, FundSpec, FundTable, allocate_fund, load_fund_spec, load_fund_table
from fairshare.programs.partners import check_selections, impact, load_menu

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partner-fund"
REF = {"title": "Test guidelines"}


def _spec(eligibility: dict[str, object], total: float = 1000, minimum: float | None = None, **kw: object) -> FundSpec:
    def cited(v: object) -> object:
        return {"value": v, "reference": REF} if isinstance(v, (int, float)) else v

    return FundSpec.model_validate(
        {
            "fund": "f",
            "label": "Test fund",
            "date": "2026-07-01",
            "entity": {"id": "id", "pupils": "pupils", "index": "index"},
            "total": cited(total),
            "eligibility": {k: cited(v) for k, v in eligibility.items()},
            "minimum_grant": None if minimum is None else cited(minimum),
            "line": {"id": "partners", "label": "Partners", "restriction": "vetted partners only"},
            **kw,
        }
    )


def _table(pupils: list[int], index: list[float], ids: list[str] | None = None) -> FundTable:
    ids = ids or [f"S{i}" for i in range(len(pupils))]
    arr = np.asarray(ids, dtype=object)
    return FundTable(arr, arr.copy(), np.asarray(pupils, float), np.asarray(index, float), "<memory>", "")


def test_top_n_per_pupil_exact_cents() -> None:
    # top 2 of 3 by index: 100 and 200 pupils share $1,000 → $333.33… and $666.66…: the cent goes by remainder
    r = allocate_fund(_spec({"rule": "top", "top": 2}), _table([100, 200, 300], [0.9, 0.8, 0.1]))
    assert r.rank.tolist() == [1, 2, 3]
    assert r.grant_cents.tolist() == [33333, 66667, 0]
    assert int(r.grant_cents.sum()) == 100000 and r.unallocated_cents == 0
    assert r.reasons[2] == "index 0.1, rank 3 of 3 — outside the top 2"


def test_minimum_grant_is_filled_first() -> None:
    # $1,000 to 3 schools of 10, 45, 45 pupils: 10 pupils would get $100 < $200 minimum; the others share $800
    r = allocate_fund(_spec({"rule": "top", "top": 3}, minimum=200), _table([10, 45, 45], [0.9, 0.8, 0.7]))
    assert r.grant_cents.tolist() == [20000, 40000, 40000]
    assert r.minimum_applied.tolist() == [True, False, False]
    with pytest.raises(RunError) as exc:
        allocate_fund(_spec({"rule": "top", "top": 3}, minimum=400), _table([10, 45, 45], [0.9, 0.8, 0.7]))
    assert exc.value.code == "fund_too_small" and "$1,200.00" in str(exc.value)


def test_threshold_and_share_by_index() -> None:
    spec = _spec({"rule": "threshold", "threshold": 0.5}, share="per_pupil_by_index")
    r = allocate_fund(spec, _table([100, 100, 100], [0.75, 0.25, 0.5]))
    # eligible: 0.75 and 0.5 (>= 0.5); shares ∝ pupils × index: 75 : 50
    assert r.eligible.tolist() == [True, False, True]
    assert r.grant_cents.tolist() == [60000, 0, 40000]
    assert "index >= the threshold 0.5" in r.reasons[2] and "index < the threshold" in r.reasons[1]


def test_until_the_money_runs_out() -> None:
    # $100 per pupil down the ranking: 4,000 + 5,000 fit $10,000, the next (3,000) does not
    table = _table([40, 50, 30, 10], [0.9, 0.8, 0.7, 0.6])
    stop = allocate_fund(_spec({"rule": "until_exhausted", "rate": 100}, total=10000), table)
    assert stop.grant_cents.tolist() == [400000, 500000, 0, 0] and stop.unallocated_cents == 100000
    assert stop.reasons[2].endswith("the fund ran out before this rank")
    part = allocate_fund(_spec({"rule": "until_exhausted", "rate": 100, "last": "partial"}, total=10000), table)
    assert part.grant_cents.tolist() == [400000, 500000, 100000, 0] and part.unallocated_cents == 0
    assert part.reasons[2].endswith("the fund ran out here: it gets what was left")
    assert part.reasons[1].endswith("reached before the fund ran out")


def test_ties_rank_by_id_and_row_order_does_not_matter() -> None:
    a = allocate_fund(_spec({"rule": "top", "top": 1}), _table([10, 10], [0.5, 0.5], ["B", "A"]))
    assert a.rank.tolist() == [2, 1] and a.grant_cents.tolist() == [0, 100000]
    pupils, index = [37, 81, 12, 55, 90], [0.3, 0.9, 0.9, 0.2, 0.6]
    ids = ["E", "D", "C", "B", "A"]
    one = allocate_fund(_spec({"rule": "top", "top": 3}, total=777.77), _table(pupils, index, ids))
    perm = [3, 0, 4, 1, 2]
    two = allocate_fund(
        _spec({"rule": "top", "top": 3}, total=777.77),
        _table([pupils[k] for k in perm], [index[k] for k in perm], [ids[k] for k in perm]),
    )
    assert dict(zip(one.table.ids, one.grant_cents.tolist(), strict=True)) == dict(
        zip(two.table.ids, two.grant_cents.tolist(), strict=True)
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2000), st.floats(0, 1)), min_size=1, max_size=40),
    st.integers(1, 40),
    st.integers(1, 10_000_000_00),
    st.sampled_from(["per_pupil", "per_pupil_by_index"]),
)
def test_the_fund_is_paid_exactly(rows: list[tuple[int, float]], top: int, total_cents: int, share: str) -> None:
    total = total_cents / 100
    k = min(top, len(rows))
    minimum = round(total / (2 * k), 2)
    spec = _spec({"rule": "top", "top": top}, total=total, minimum=minimum, share=share)
    r = allocate_fund(spec, _table([p for p, _ in rows], [x for _, x in rows]))
    assert int(r.grant_cents.sum()) == total_cents
    assert int(r.eligible.sum()) == k
    assert (r.grant_cents[r.eligible] >= round(minimum * 100) - 1).all()
    assert (r.grant_cents[~r.eligible] == 0).all()


def test_spec_errors_are_located(tmp_path: Path) -> None:
    text = (EXAMPLE / "fund.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "f.yaml"
    bad.write_text(text.replace("  rule: top\n", "  rule: top\n  tops: 3\n"), encoding="utf-8")
    with pytest.raises(FormulaError) as exc:
        load_fund_spec(bad)
    p = exc.value.problems[0]
    assert p.code == "unknown_key" and p.line is not None and "did you mean 'top'" in str(p.hint)
    bad.write_text(text.replace("  rule: top\n", "  rule: threshold\n"), encoding="utf-8")
    with pytest.raises(FormulaError) as exc:
        load_fund_spec(bad)
    assert "needs `threshold`" in str(exc.value)


def test_table_errors_are_located(tmp_path: Path) -> None:
    spec = load_fund_spec(EXAMPLE / "fund.yaml")
    bad = tmp_path / "s.csv"
    bad.write_text("school_id,school_name,enrollment,opportunity_index\nA,a,12.5,0.3\nB,b,10,high\nA,c,1,0.1\n")
    with pytest.raises(InputError) as exc:
        load_fund_table(bad, spec)
    found = {(p.code, p.row, p.column) for p in exc.value.problems}
    assert found == {
        ("not_an_integer", 2, "enrollment"),
        ("not_a_number", 3, "opportunity_index"),
        ("duplicate_entity", 4, "school_id"),
    }


def _example() -> FundResult:
    spec = load_fund_spec(EXAMPLE / "fund.yaml")
    return allocate_fund(spec, load_fund_table(EXAMPLE / "schools.csv", spec))


def test_selections_are_checked(tmp_path: Path) -> None:
    result = _example()
    menu = load_menu(EXAMPLE / "partners.csv")
    plans = check_selections(result, menu, EXAMPLE / "selections.csv")
    status = dict(zip(plans["school_id"], plans["status"], strict=True))
    assert status["S22"] == "approved" and status["S02"] == "approved"
    assert status["S09"] == "waiting for: Instructional superintendent"
    assert status["S15"] == "waiting for: Instructional superintendent"  # blank = not yet given
    assert status["S10"] == "no partners selected"
    bad = tmp_path / "sel.csv"
    bad.write_text(
        "school_id,partner_id,amount,site_council,superintendent\n"
        "S22,P99,1000,yes,yes\n"  # not on the menu
        "S22,P07,1000,yes,yes\n"  # on the menu, not vetted
        "S13,P01,1000,yes,yes\n"  # school outside the fund
        "S19,P01,150000,yes,yes\nS19,P02,60000,maybe,yes\n"  # $210,000 > $200,000; 'maybe' is not yes/no
    )
    with pytest.raises(InputError) as exc:
        check_selections(result, menu, bad)
    found = {(p.code, p.row) for p in exc.value.problems}
    assert found == {
        ("unknown_partner", 2),
        ("partner_not_vetted", 3),
        ("school_not_funded", 4),
        ("selection_over_budget", 6),
        ("not_boolean", 6),
    }


def test_impact_against_last_year() -> None:
    result = _example()
    schools, partners = impact(result, EXAMPLE / "prior_contracts.csv", load_menu(EXAMPLE / "partners.csv"))
    madison = schools.filter(pl.col("school_id") == "S13").row(0, named=True)
    assert (madison["before"], madison["now"], madison["status"]) == ("200000.00", "0.00", "ends")
    city_year = partners.filter(pl.col("partner_id") == "P01").row(0, named=True)
    # P01 had $410,000 at S22, S09 and S13; S13 leaves the fund
    assert (city_year["before"], city_year["at_risk"], city_year["schools_no_longer_funded"]) == (
        "410000.00",
        "140000.00",
        "S13",
    )


def test_cli_on_the_example(tmp_path: Path) -> None:
    args = ["fund", str(EXAMPLE / "fund.yaml"), "--data", str(EXAMPLE / "schools.csv"), "--out", str(tmp_path)]
    args += ["--prior", str(EXAMPLE / "prior_contracts.csv"), "--partners", str(EXAMPLE / "partners.csv")]
    args += ["--selections", str(EXAMPLE / "selections.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "$5,700,000.00 to 12 of 24 schools" in result.output and "Partner plans: 2 of 12 approved" in result.output
    fund = pl.read_csv(tmp_path / "fund.csv", infer_schema=False)
    assert sum(int(x.replace(".", "")) for x in fund["partner_services"]) == 5_700_000_00
    for name in ("impact_schools.csv", "impact_partners.csv", "plans.csv", "report.html", "manifest.json"):
        assert (tmp_path / name).is_file(), name
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Partner services (restricted)" in html and "City Year tutoring corps" in html
    bad = CliRunner().invoke(app, [*args[:6], "--selections", str(EXAMPLE / "selections.csv")])
    assert bad.exit_code == 1 and "--partners" in bad.output


def test_the_docs_spec_loads(tmp_path: Path) -> None:
    import re

    text = (EXAMPLE.parents[1] / "docs" / "funds.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    path = tmp_path / "spec.yaml"
    path.write_text(block, encoding="utf-8")
    spec = load_fund_spec(path)
    assert spec.eligibility.rule == "top" and spec.line.id == "partner_services"


def test_the_need_index_output_feeds_the_fund(tmp_path: Path) -> None:
    """`fairshare index` writes entity_id, name, score and (student level) students: a fund reads them as is."""
    need = EXAMPLE.parent / "need-index"
    ran = CliRunner().invoke(
        app,
        ["index", str(need / "spec.yaml"), "--data", str(need / "students.csv"), "--out", str(tmp_path / "i")],
    )
    assert ran.exit_code == 0, ran.output
    spec = _spec({"rule": "top", "top": 4}, total=100000).model_copy(
        update={"entity": FundEntityModel(id="entity_id", name="name", pupils="students", index="score")}
    )
    result = allocate_fund(spec, load_fund_table(tmp_path / "i" / "index.csv", spec))
    index = pl.read_csv(tmp_path / "i" / "index.csv", infer_schema=False)
    funded = [str(x) for x in result.table.ids[result.eligible]]
    assert funded == index.filter(pl.col("eligible") == "yes")["entity_id"].to_list()
    assert int(result.grant_cents.sum()) == 100000_00

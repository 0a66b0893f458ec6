"""Comparing two runs: per-entity differences, winners and losers, component totals."""

from __future__ import annotations

import json

import polars as pl

from fairshare.scenarios import compare_runs, write_comparison
from support import demo_run


def test_higher_el_weight_moves_money_to_el_schools(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = demo_run()
    b = demo_run(**{"weights.english_learner": 0.40})
    cmp = compare_runs(a, b, "base", "el40")
    s = cmp.summary()
    # the budget is fixed, so money moves: gains equal losses to the cent
    assert s["total_a"] == s["total_b"] == "190000000.00"
    assert float(s["gained"]) == -float(s["lost"])
    assert s["winners"] + s["losers"] + s["unchanged"] == 40
    assert s["winners"] > 0 and s["losers"] > 0
    comps = {r["component"]: r for r in cmp.components.iter_rows(named=True)}
    assert comps["english_learner_weight"]["change"] > 0
    assert sum(r["change"] for r in comps.values()) == 0
    # the schools with the most English learners per pupil gain, unless hold harmless pins them
    e = cmp.entities.with_columns(
        pl.Series("el_share", a.table.columns["english_learners"] / a.table.columns["enrollment"]),
        pl.Series("held", (a.column("transition") > 0) | (b.column("transition") > 0)),
    )
    top = e.filter(~pl.col("held")).sort("el_share", descending=True).head(5)
    assert (top["change"] > 0).all()
    pinned = e.filter(pl.col("held") & (a.column("transition") > 0) & (b.column("transition") > 0))
    assert (pinned["change"] == 0).all()
    files = write_comparison(cmp, tmp_path)
    assert [f.name for f in files] == ["comparison.csv", "components.csv", "summary.json"]
    csv = pl.read_csv(files[0], schema_overrides={"change": pl.String})
    assert csv.height == 40
    assert json.loads(files[2].read_text())["winners"] == s["winners"]


def test_entities_in_one_run_only_are_listed() -> None:
    a = demo_run(n=40)
    b = demo_run(n=41)
    cmp = compare_runs(a, b)
    s = cmp.summary()
    assert s["entities_compared"] == 40
    assert s["only_in_b"] == ["S041"] and s["only_in_a"] == []

"""fairshare trends on small synthetic tables: directions, missing vs unchanged, means, groups, names,
reference periods, claims, located errors, the CLI and determinism."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import FormulaError, InputError
from fairshare.trends import load_trends_spec_text, run_trends

INDICATORS = """unit,indicator,period,value,source
Alpha District,score,2019,50,a
Alpha District,score,2022,55,a
Beta District,score,2019,60,a
Beta District,score,2022,58,a
Gamma District,score,2019,40,a
Gamma District,score,2022,40,a
Delta District,score,2019,70,a
Delta District,score,2022,,a
Alpha District,absent,2019,20,a
Alpha District,absent,2022,15,a
Beta District,absent,2019,10,a
Beta District,absent,2022,12,a
Gamma District,absent,2019,30,a
Gamma District,absent,2022,21,a
Alpha District,score,2019,99,b
"""

LIST = """name,cohort
Alpha,1
Beta,1
Epsilon,1
Gamma,2
"""

WIDE = """category,fte_a,fte_b,pct
Teachers,100,110,10.0
Total,200,209,4.6
"""

SHARES = """year,part,whole,pct
2020,10,200,5.0
2021,30,200,15.2
"""

SPEC = """label: Synthetic trends
names:
  strip_suffixes: [" District"]
tables:
  ind:
    file: indicators.csv
    unit: unit
    indicator: indicator
    period: period
    value: value
    where: {source: a}
indicators:
  score: {label: Score, unit: points, direction: higher_is_better}
  absent: {label: Absence, unit: percent, direction: lower_is_better}
groups:
  cohort1:
    label: First cohort
    from_table: {file: list.csv, unit: name, where: {cohort: 1}}
  listed:
    label: Listed
    units: [Gamma District, Beta]
comparisons:
  score_all: {table: ind, indicator: score, from: "2019", to: "2022"}
  absent_all: {table: ind, indicator: absent, from: "2019", to: "2022"}
  score_c1: {table: ind, indicator: score, from: "2019", to: "2022", units: cohort1}
  absent_listed: {table: ind, indicator: absent, from: "2019", to: "2022", units: listed}
exceeded:
  above: {table: ind, indicator: absent, reference: "2019", period: "2022"}
changes:
  staff:
    label: Staff
    file: wide.csv
    row: category
    from: {column: fte_a, period: A}
    to: {column: fte_b, period: B}
    kind: percent
    reported: pct
shares:
  part_share: {label: Part share, file: shares.csv, period: year, part: part, whole: whole, reported: pct}
claims:
  - {text: 1 of 4 improved the score, comparison: score_all, count: 1, of: 4}
  - {text: 2 of 3 improved absence, comparison: absent_all, count: 2, of: 3}
  - {text: 3 of 3 improved absence, comparison: absent_all, count: 3, of: 3}
  - {text: 2 below their reference, exceeded: above, count: 2}
  - {text: staff rose 4.5 %, change: staff, row: Total, percent: 4.5}
  - {text: staff rose 4.6 %, change: staff, row: Total, percent: 4.6}
  - {text: share 15 % in 2021, share: part_share, period: "2021", percent: 15}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "indicators.csv").write_text(INDICATORS, encoding="utf-8")
    (d / "list.csv").write_text(LIST, encoding="utf-8")
    (d / "wide.csv").write_text(WIDE, encoding="utf-8")
    (d / "shares.csv").write_text(SHARES, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    return tmp_path


def _row(frame: pl.DataFrame, **eq: object) -> dict[str, object]:
    for k, v in eq.items():
        frame = frame.filter(pl.col(k) == v)
    assert frame.height == 1
    return frame.row(0, named=True)


def test_counts_means_directions(folder: Path) -> None:
    res = run_trends(folder / "spec.yaml", folder / "data")
    assert res.improvement.columns == [
        "indicator", "from_period", "to_period", "units", "improved", "declined", "unchanged", "missing",
        "mean_change", "mean_change_improved",
    ]  # fmt: skip
    rows = res.improvement.to_dicts()
    score = rows[0]
    # Alpha +5 improved, Beta -2 declined, Gamma 0 unchanged, Delta blank -> missing (never unchanged)
    assert (score["units"], score["improved"], score["declined"], score["unchanged"], score["missing"]) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert score["mean_change"] == pytest.approx((5 - 2 + 0) / 3)
    assert score["mean_change_improved"] == pytest.approx(5)
    absent = rows[1]
    # lower is better: Alpha -5 and Gamma -9 improved, Beta +2 declined; mean in the indicator's own sign
    assert (absent["improved"], absent["declined"], absent["unchanged"], absent["missing"]) == (2, 1, 0, 0)
    assert absent["mean_change"] == pytest.approx((-5 + 2 - 9) / 3)
    assert absent["mean_change_improved"] == pytest.approx(-7)
    u = _row(res.units, unit="Delta", indicator="score")
    assert u["status"] == "missing" and u["change"] is None and u["value_from"] == 70


def test_groups_and_name_normalisation(folder: Path) -> None:
    res = run_trends(folder / "spec.yaml", folder / "data")
    c1 = res.improvement.row(2, named=True)
    # cohort 1 = Alpha, Beta, Epsilon ("Alpha District" matches "Alpha"); Epsilon has no data -> missing
    assert (c1["units"], c1["improved"], c1["declined"], c1["missing"]) == (3, 1, 1, 1)
    listed = res.improvement.row(3, named=True)
    assert (listed["units"], listed["improved"], listed["declined"]) == (2, 1, 1)
    assert any("Epsilon" in n for n in res.notes)


def test_exceeded_changes_shares_claims(folder: Path) -> None:
    res = run_trends(folder / "spec.yaml", folder / "data")
    ex = res.exceeded.row(0, named=True)
    assert (ex["exceeded"], ex["not_exceeded"], ex["missing"]) == (2, 1, 0)
    assert ex["exceeded_units"] == "Alpha; Gamma"
    total = _row(res.changes["staff"], row="Total")
    assert total["change"] == pytest.approx(4.5) and total["agrees"] == "no"
    assert _row(res.changes["staff"], row="Teachers")["agrees"] == "yes"
    share = _row(res.shares["part_share"], period="2021")
    assert share["share_pct"] == pytest.approx(15.0) and share["agrees"] == "no"
    assert res.claims["status"].to_list() == [
        "supported", "supported", "not supported", "supported", "supported", "not supported", "supported",
    ]  # fmt: skip
    assert res.claims.row(2, named=True)["computed"] == "2 of 3"


def test_single_file_data(folder: Path) -> None:
    spec = folder / "one.yaml"
    spec.write_text(
        SPEC.split("groups:")[0] + "comparisons:\n  s: {table: ind, indicator: score, from: '2019', to: '2022'}\n",
        encoding="utf-8",
    )
    res = run_trends(spec, folder / "data" / "indicators.csv")
    assert res.improvement.row(0, named=True)["improved"] == 1


def test_bad_spec_is_located() -> None:
    text = (
        SPEC.replace("direction: lower_is_better", "direction: down")
        .replace("units: listed}", "units: lisst}")
        .replace("  score_all: {table: ind,", "  score_all: {tabel: ind,")
    )
    with pytest.raises(FormulaError) as exc:
        load_trends_spec_text(text, "spec.yaml")
    found = {(p.code, p.line) for p in exc.value.problems}
    lines = text.splitlines()
    assert ("invalid_value", next(i for i, s in enumerate(lines, 1) if "direction: down" in s)) in found
    assert ("unknown_key", next(i for i, s in enumerate(lines, 1) if "tabel" in s)) in found
    assert all(p.file == "spec.yaml" and p.line and p.col for p in exc.value.problems)
    with pytest.raises(FormulaError) as exc2:
        load_trends_spec_text(SPEC.replace("units: listed}", "units: lisst}"), "spec.yaml")
    (p,) = exc2.value.problems
    assert p.code == "unknown_id" and p.hint == "did you mean 'listed'?"
    assert p.line == next(i for i, s in enumerate(SPEC.splitlines(), 1) if "units: listed}" in s)


def test_bad_data_is_located(folder: Path) -> None:
    d = folder / "data"
    (d / "indicators.csv").write_text(
        INDICATORS.replace("Beta District,score,2022,58,a", "Beta District,score,2022,5 8,a").replace(",99,b", ",99,a"),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        run_trends(folder / "spec.yaml", d)
    found = {(p.code, p.row) for p in exc.value.problems}
    assert ("not_a_number", 5) in found
    assert ("duplicate_observation", 16) in found


def test_unknown_period_is_located_in_spec(folder: Path) -> None:
    (folder / "spec.yaml").write_text(
        SPEC.replace(
            'score_all: {table: ind, indicator: score, from: "2019"',
            'score_all: {table: ind, indicator: score, from: "2018"',
        )
    )
    with pytest.raises(InputError) as exc:
        run_trends(folder / "spec.yaml", folder / "data")
    (p,) = exc.value.problems
    assert p.code == "period_not_in_data" and p.line is not None and "2019" in (p.hint or "")


def test_cli_writes_everything_deterministically(folder: Path) -> None:
    runner = CliRunner()
    outs = []
    for name in ("a", "b"):
        out = folder / name
        r = runner.invoke(app, ["trends", str(folder / "spec.yaml"), "--data", str(folder / "data"), "--out", str(out)])
        assert r.exit_code == 0, r.output
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted([
        "improvement.csv", "units.csv", "exceeded.csv", "staff.csv", "part_share.csv", "claims.csv",
        "report.html", "trends.xlsx", "manifest.json",
    ])  # fmt: skip
    for n in names:
        assert (outs[0] / n).read_bytes() == (outs[1] / n).read_bytes(), n
    manifest = json.loads((outs[0] / "manifest.json").read_text())
    assert set(manifest["inputs"]) == {"indicators.csv", "list.csv", "wide.csv", "shares.csv"}
    html = (outs[0] / "report.html").read_text()
    assert "<svg" in html and "not supported" in html and "http" not in html.split("<svg")[0].lower()


def test_cli_bad_spec_exits_1(folder: Path) -> None:
    (folder / "spec.yaml").write_text(SPEC.replace("indicator: score, from", "indicator: scor, from", 1))
    r = CliRunner().invoke(
        app, ["trends", str(folder / "spec.yaml"), "--data", str(folder / "data"), "--out", str(folder / "o")]
    )
    assert r.exit_code == 1
    assert "unknown_id" in r.output

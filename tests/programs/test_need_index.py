"""The composite need index: normalisations, directions, missing policies, scaling, ranking,
decomposition, student aggregation, sensitivity, properties, CLI and located errors.

Hand-computed figures are worked in the comments next to each assertion.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import FormulaError, InputError
from fairshare.programs.need_index import IndexResult, build_index, normalise, run_index
from fairshare.programs.need_index_output import index_frame, write_index
from fairshare.programs.need_index_spec import IndexData, load_index_spec_text
from fairshare.programs.synthetic import synthetic_index_students

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "need-index"
REF = "{title: test policy, section: weights}"


def indicator(
    iid: str,
    *,
    direction: str = "more_is_more_need",
    normalise: str = "minmax",
    weight: float = 1.0,
    missing: str = "error",
    kind: str = "number",
) -> str:
    return (
        f"  {iid}:\n    column: {iid}\n    label: {iid} label\n    type: {kind}\n    direction: {direction}\n"
        f"    normalise: {normalise}\n    missing: {missing}\n    weight: {{value: {weight}, reference: {REF}}}\n"
    )


def spec_text(*indicators: str, level: str = "school", extra: str = "") -> str:
    head = f"index: test\nlabel: Test index\nlevel: {level}\nentity: {{id: school_id, name: school_name}}\n"
    return head + extra + "indicators:\n" + "".join(indicators)


def school_csv(path: Path, rows: dict[str, list[object]]) -> Path:
    n = len(rows["school_id"])
    rows = {"school_name": [f"School {s}" for s in rows["school_id"]], **rows} if "school_name" not in rows else rows
    pl.DataFrame({k: [None if v is None else str(v) for v in vals] for k, vals in rows.items()}).write_csv(path)
    assert n
    return path


def run(tmp_path: Path, spec: str, rows: dict[str, list[object]], name: str = "data.csv") -> IndexResult:
    (tmp_path / "spec.yaml").write_text(spec, encoding="utf-8")
    return run_index(tmp_path / "spec.yaml", school_csv(tmp_path / name, rows))


def by_id(result: IndexResult, values: np.ndarray) -> dict[str, float]:
    return {str(i): float(v) for i, v in zip(result.ids, values, strict=True)}


# ------------------------------------------------------------------ normalisation


def test_each_normalisation_against_hand_values() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, population sd sqrt(1.25) = 1.118034: (1 - 2.5) / 1.118034 = -1.341641
    z = normalise(x, "zscore", "more_is_more_need")
    np.testing.assert_allclose(z, [-1.341641, -0.447214, 0.447214, 1.341641], atol=1e-6)
    y = np.array([10.0, 20.0, 20.0, 40.0])
    # mid-rank percentile rank (below + half equal) / n: 10 -> 0.5/4; 20 -> (1 + 1)/4; 40 -> 3.5/4
    np.testing.assert_allclose(normalise(y, "percentile", "more_is_more_need"), [0.125, 0.5, 0.5, 0.875])
    # (x - 10) / 30
    np.testing.assert_allclose(normalise(y, "minmax", "more_is_more_need"), [0, 1 / 3, 1 / 3, 1])


def test_each_direction() -> None:
    y = np.array([10.0, 20.0, 20.0, 40.0])
    # less is more need: the column is negated, so the lowest value is the most need
    np.testing.assert_allclose(normalise(y, "minmax", "less_is_more_need"), [1, 2 / 3, 2 / 3, 0])
    np.testing.assert_allclose(normalise(y, "percentile", "less_is_more_need"), [0.875, 0.5, 0.5, 0.125])
    np.testing.assert_allclose(
        normalise(y, "zscore", "less_is_more_need"), -normalise(y, "zscore", "more_is_more_need"), atol=1e-15
    )


def test_constant_column_and_blanks() -> None:
    c = np.array([5.0, 5.0, 5.0])
    assert normalise(c, "zscore", "more_is_more_need").tolist() == [0, 0, 0]
    assert normalise(c, "minmax", "more_is_more_need").tolist() == [0.5, 0.5, 0.5]
    assert normalise(c, "percentile", "less_is_more_need").tolist() == [0.5, 0.5, 0.5]
    out = normalise(np.array([0.0, np.nan, 10.0]), "minmax", "more_is_more_need")
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == 1


# ------------------------------------------------------- school level, end to end


def test_school_level_scores_ranks_and_contributions(tmp_path: Path) -> None:
    spec = spec_text(indicator("x1", weight=3), indicator("x2", direction="less_is_more_need", weight=1))
    res = run(tmp_path, spec, {"school_id": ["C", "A", "B"], "x1": [40, 10, 20], "x2": [10, 5, 0]})
    # v1 = (x1 - 10)/30 = A 0, B 1/3, C 1; v2 = (10 - x2)/10 = A 0.5, B 1, C 0; weights 0.75, 0.25
    # r = A 0.125, B 0.5, C 0.75 -> onto [0.01, 0.99]: a = 0.98/0.625 = 1.568
    score = by_id(res, res.base.score)
    assert score["A"] == 0.01 and score["C"] == 0.99
    assert score["B"] == pytest.approx(0.01 + 1.568 * 0.375, abs=1e-12)  # 0.598
    assert by_id(res, res.base.rank) == {"A": 3, "B": 2, "C": 1}
    # offset: the average score (0.01 + 0.598 + 0.99) / 3; C's x1 contribution a * (0.75 - 0.75 * 4/9)
    assert res.base.offset == pytest.approx(1.598 / 3, abs=1e-12)
    c = int(np.flatnonzero(res.ids == "C")[0])
    np.testing.assert_allclose(res.base.contributions[c], [1.568 * (0.75 - 1 / 3), 1.568 * (0 - 0.125)], atol=1e-12)
    np.testing.assert_allclose(res.base.offset + res.base.contributions.sum(axis=1), res.base.score, atol=1e-12)


def test_scaling_to_the_stated_range(tmp_path: Path) -> None:
    spec = spec_text(indicator("x1"), extra="scale: {min: 1, max: 100}\n")
    res = run(tmp_path, spec, {"school_id": ["A", "B", "C", "D"], "x1": [3, 7, 5, 11]})
    # (x - 3) / 8 onto [1, 100]: 1, 50.5, 25.75, 100
    assert by_id(res, res.base.score) == pytest.approx({"A": 1, "B": 50.5, "C": 25.75, "D": 100})
    same = run(tmp_path, spec, {"school_id": ["A", "B"], "x1": [4, 4]})
    assert same.base.score.tolist() == [50.5, 50.5]  # no spread: the midpoint, stated in a note
    assert any("midpoint" in n for n in same.notes) and any("one value on every row" in n for n in same.notes)


def test_ties_rank_by_id_and_row_order_does_not_matter(tmp_path: Path) -> None:
    spec = spec_text(indicator("x1", normalise="zscore"), indicator("x2", normalise="percentile", weight=2))
    rows: dict[str, list[object]] = {
        "school_id": ["S4", "S2", "S9", "S1", "S7"],
        "x1": [1.5, 3.25, 1.5, 0.1, 2],
        "x2": [8, 2, 8, 4, 2],
    }
    res = run(tmp_path, spec, rows)
    # S4 and S9 carry the same values: the same score, S4 ranked first (id order)
    s = by_id(res, res.base.score)
    r = by_id(res, res.base.rank)
    assert s["S4"] == s["S9"] and r["S4"] + 1 == r["S9"]
    base = index_frame(res)
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(5)
        shuffled = {k: [v[i] for i in perm] for k, v in rows.items()}
        assert index_frame(run(tmp_path, spec, shuffled, f"p{seed}.csv")).equals(base)


# ------------------------------------------------------------------ missing values


def test_missing_error_names_file_row_and_column(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        run(tmp_path, spec_text(indicator("x1")), {"school_id": ["A", "B", "C"], "x1": [1, None, 3]})
    (p,) = info.value.problems
    assert (p.code, p.file, p.row, p.column) == ("missing_value", str(tmp_path / "data.csv"), 3, "x1")
    assert p.rule == "indicators.x1.missing: error" and "missing: mean" in (p.hint or "")


@pytest.mark.parametrize(
    ("policy", "filled"),
    [
        ("mean", (80 / 3 - 10) / 30),  # the mean of 10, 40, 30 is 26.667, on the min-max scale of the known values
        ("median", (30 - 10) / 30),  # the median of 10, 40, 30
    ],
)
def test_missing_mean_and_median(tmp_path: Path, policy: str, filled: float) -> None:
    spec = spec_text(indicator("x1", missing=policy))
    res = run(tmp_path, spec, {"school_id": ["A", "B", "C", "D"], "x1": [10, None, 40, 30]})
    # one indicator: the school figure is its normalised value
    assert by_id(res, res.base.raw)["B"] == pytest.approx(filled, abs=1e-12)
    assert by_id(res, res.filled_cells) == {"A": 0, "B": 1, "C": 0, "D": 0}
    assert res.stats["x1"]["filled"] == 1
    assert index_frame(res).filter(pl.col("entity_id") == "B")["raw_x1"].to_list() == [None]  # the blank stays blank


def test_missing_exclude_indicator_reweights_the_row(tmp_path: Path) -> None:
    spec = spec_text(indicator("x1", weight=1), indicator("x2", weight=3, missing="exclude_indicator"))
    res = run(tmp_path, spec, {"school_id": ["A", "B", "C"], "x1": [0, 5, 10], "x2": [0, None, 10]})
    # B: x2 left out, so its figure is v1 alone (weight 1/1): 0.5; A: 0; C: 0.25 * 1 + 0.75 * 1
    assert by_id(res, res.base.raw) == pytest.approx({"A": 0, "B": 0.5, "C": 1})
    np.testing.assert_allclose(res.base.offset + res.base.contributions.sum(axis=1), res.base.score, atol=1e-12)


def test_missing_policy_needs_known_values(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        run(tmp_path, spec_text(indicator("x1", missing="median")), {"school_id": ["A", "B"], "x1": [None, None]})
    assert [(p.code, p.column, p.row) for p in info.value.problems] == [("missing_value", "x1", None)]


# --------------------------------------------------------- student-level aggregation


def _students(tmp_path: Path, spec: str, rows: dict[str, list[object]]) -> IndexResult:
    return run(tmp_path, spec, rows, "students.csv")


def test_student_mean_against_a_hand_count(tmp_path: Path) -> None:
    spec = spec_text(indicator("poor", kind="boolean"), level="student", extra="aggregate: mean\n")
    rows: dict[str, list[object]] = {
        "school_id": ["S1", "S2", "S1", "S3", "S2", "S1"],
        "poor": ["Y", "N", "N", "yes", "no", "Y"],
    }
    res = _students(tmp_path, spec, rows)
    # S1: 2 of 3 poor -> 2/3; S2: 0 of 2; S3: 1 of 1. Onto the range: 0.01 + 0.98 * 2/3
    assert by_id(res, res.base.raw) == pytest.approx({"S1": 2 / 3, "S2": 0, "S3": 1})
    assert by_id(res, res.base.score) == pytest.approx({"S1": 0.01 + 0.98 * 2 / 3, "S2": 0.01, "S3": 0.99})
    assert by_id(res, res.students) == {"S1": 3, "S2": 2, "S3": 1}
    assert by_id(res, res.raw_values[:, 0]) == pytest.approx({"S1": 2 / 3, "S2": 0, "S3": 1})


def test_student_share_above_a_cut_against_a_hand_count(tmp_path: Path) -> None:
    spec = spec_text(
        indicator("x"), indicator("y", weight=0.5), level="student", extra="aggregate: {share_above: 0.6}\n"
    )
    rows: dict[str, list[object]] = {
        "school_id": ["S1", "S1", "S1", "S2", "S2", "S3"],
        "x": [0, 5, 10, 10, 10, 0],
        "y": [0, 5, 10, 10, 10, 0],
    }
    res = _students(tmp_path, spec, rows)
    # student composite = x/10 -> scores 0.01, 0.5, 0.99 | 0.99, 0.99 | 0.01: above 0.6 -> S1 1 of 3, S2 2 of 2, S3 0
    assert by_id(res, res.base.raw) == pytest.approx({"S1": 1 / 3, "S2": 1, "S3": 0})
    assert by_id(res, res.base.score) == pytest.approx({"S1": 0.01 + 0.98 / 3, "S2": 0.99, "S3": 0.01})
    # each counted student's share is split 2:1 between x and y (weights 1 and 0.5, same normalised value)
    np.testing.assert_allclose(res.base.offset + res.base.contributions.sum(axis=1), res.base.score, atol=1e-12)
    s2 = int(np.flatnonzero(res.ids == "S2")[0])
    assert res.base.contributions[s2, 0] == pytest.approx(2 * res.base.contributions[s2, 1])


def test_student_level_row_order_does_not_matter(tmp_path: Path) -> None:
    spec = (EXAMPLE / "spec.yaml").read_text(encoding="utf-8")
    frame = synthetic_index_students()
    base = index_frame(run(tmp_path, spec, {c: frame[c].to_list() for c in frame.columns}, "a.csv"))
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=7)
    again = index_frame(run(tmp_path, spec, {c: shuffled[c].to_list() for c in shuffled.columns}, "b.csv"))
    assert again.equals(base)


# ------------------------------------------------------------------- sensitivity


def test_sensitivity_swaps_two_schools(tmp_path: Path) -> None:
    spec = spec_text(indicator("x1", weight=1.0), indicator("x2", weight=1.05), extra="eligibility: {top: 1}\n")
    res = run(tmp_path, spec, {"school_id": ["A", "B", "C"], "x1": [10, 0, 0], "x2": [0, 10, 0]})
    # A = 1/2.05, B = 1.05/2.05: B first. x1 +10 % (1.1 > 1.05) or x2 -10 % (0.945 < 1) put A first
    assert by_id(res, res.base.rank) == {"A": 2, "B": 1, "C": 3}
    rows = {(s.indicator, round(s.change, 2)): s for s in res.sensitivity}
    for key in (("x1", 0.1), ("x2", -0.1)):
        s = rows[key]
        assert (s.entering, s.leaving, s.max_rank_shift, s.moved) == (["A"], ["B"], 1, 2)
        assert s.spearman == pytest.approx(0.5)  # d = (1, 1, 0): 1 - 6 * 2 / (3 * 8)
    for key in (("x1", -0.1), ("x2", 0.1)):
        assert (rows[key].spearman, rows[key].entering, rows[key].leaving) == (1.0, [], [])
    assert by_id(res, res.flips) == {"A": 2, "B": 2, "C": 0}
    # near the cut (default: 5 ranks either side) is everyone here; the cut is midway between ranks 1 and 2:
    # B 0.99 and A 0.01 + 0.98 * (1/2.05) / (1.05/2.05)
    assert res.near_cut.all() and res.cut_score == pytest.approx((0.99 + 0.01 + 0.98 / 1.05) / 2)


# -------------------------------------------------------------------- properties


@st.composite
def school_tables(draw: st.DrawFn) -> tuple[str, IndexData]:
    n = draw(st.integers(2, 12))
    k = draw(st.integers(1, 3))
    method = draw(st.sampled_from(["zscore", "percentile", "minmax"]))
    cells = st.floats(-1000, 1000, allow_nan=False, allow_subnormal=False).map(lambda v: round(v, 3))
    values = np.array(draw(st.lists(st.lists(cells, min_size=k, max_size=k), min_size=n, max_size=n)))
    weights = draw(st.lists(st.floats(0.1, 5).map(lambda v: round(v, 3)), min_size=k, max_size=k))
    directions = draw(st.lists(st.sampled_from(["more_is_more_need", "less_is_more_need"]), min_size=k, max_size=k))
    spec = spec_text(
        *(indicator(f"i{j}", normalise=method, weight=weights[j], direction=directions[j]) for j in range(k))
    )
    ids = np.array([f"S{i:02d}" for i in range(n)])
    return spec, IndexData("school", ids, values, {i: i for i in ids.tolist()}, "<memory>", "", n)


@given(school_tables())
def test_property_scores_in_range_and_decomposed(table: tuple[str, IndexData]) -> None:
    spec_yaml, data = table
    res = build_index(load_index_spec_text(spec_yaml), data)
    assert (res.base.score >= 0.01).all() and (res.base.score <= 0.99).all()
    assert sorted(res.base.rank.tolist()) == list(range(1, len(data.school) + 1))
    # exact up to float rounding, which the rescaling factor magnifies when schools are very close
    total = res.base.offset + res.base.contributions.sum(axis=1)
    np.testing.assert_allclose(total, res.base.score, atol=1e-12 * max(1.0, res.base.scale_factor) + 1e-12)
    np.testing.assert_allclose(total, res.base.score, atol=1e-6)


@given(school_tables(), st.integers(0, 11), st.floats(0.5, 500))
def test_property_more_need_never_lowers_a_school(table: tuple[str, IndexData], who: int, more: float) -> None:
    spec_yaml, data = table
    spec_yaml = spec_yaml.replace("zscore", "percentile").replace("minmax", "percentile")
    spec = load_index_spec_text(spec_yaml)
    i = who % len(data.school)
    before = build_index(spec, data)
    values = data.values.copy()
    sign = 1.0 if spec.indicators["i0"].direction == "more_is_more_need" else -1.0
    values[i, 0] += sign * round(more, 3)
    after = build_index(spec, IndexData("school", data.school, values, data.names, "<memory>", "", len(values)))
    assert after.base.score[i] >= before.base.score[i] - 1e-12
    assert after.base.rank[i] <= before.base.rank[i]


# ----------------------------------------------------------- the example and the CLI


def test_example_csv_is_what_the_generator_makes(tmp_path: Path) -> None:
    synthetic_index_students().write_csv(tmp_path / "students.csv")
    assert (tmp_path / "students.csv").read_bytes() == (EXAMPLE / "students.csv").read_bytes()
    assert synthetic_index_students().height <= 200


def test_cli_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["index", str(EXAMPLE / "spec.yaml"), "--data", str(EXAMPLE / "students.csv"), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "Opportunity index" in result.output and "Wrote 5 files" in result.output
    names = {"index.csv", "sensitivity.csv", "near_cut.csv", "report.html", "manifest.json"}
    assert {p.name for p in out.iterdir()} == names
    index = pl.read_csv(out / "index.csv")
    assert index.height == 10 and index["rank"].to_list() == list(range(1, 11))
    assert index.filter(pl.col("eligible") == "yes").height == 4
    contrib = [c for c in index.columns if c.startswith("contrib_")]
    assert len(contrib) == 8
    total = index.select(pl.col("offset") + pl.sum_horizontal(contrib) - pl.col("score")).to_series()
    assert total.abs().max() < 1e-5  # 6 decimals each
    sens = pl.read_csv(out / "sensitivity.csv")
    assert sens.height == 16 and set(sens["change"]) == {"-10%", "+10%"}
    near = pl.read_csv(out / "near_cut.csv")
    assert near["rank"].to_list() == [3, 4, 5, 6]  # within 2 ranks of the cut after rank 4
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"]["rows_read"] == 158 and len(manifest["spec"]["sha256"]) == 64
    assert set(manifest["outputs"]) == names - {"manifest.json"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "Sensitivity to the weights" in html and "http" not in html.split("<body>")[0]


def test_write_without_eligibility(tmp_path: Path) -> None:
    res = run(tmp_path, spec_text(indicator("x1")), {"school_id": ["A", "B", "C"], "x1": [1, 2, 3]})
    files = write_index(res, tmp_path / "out", tmp_path / "spec.yaml", tmp_path / "data.csv")
    assert [f.name for f in files] == ["index.csv", "sensitivity.csv", "report.html", "manifest.json"]
    assert pl.read_csv(files[0])["eligible"].null_count() == 3


# ----------------------------------------------------------------- located errors


BAD_SPECS = [
    # (what is wrong, the spec, expected code, line, col)
    ("unknown key", spec_text(indicator("x1").replace("    missing:", "    wieght: 2\n    missing:")), "unknown_key"),
    ("bad direction", spec_text(indicator("x1", direction="higher")), "invalid_value"),
    ("bad policy", spec_text(indicator("x1", missing="zero")), "invalid_value"),
    ("zero weight", spec_text(indicator("x1", weight=0)), "invalid_value"),
    ("student without aggregate", spec_text(indicator("x1"), level="student"), "invalid_value"),
    ("aggregate at school level", spec_text(indicator("x1"), extra="aggregate: mean\n"), "invalid_value"),
    ("bad aggregate", spec_text(indicator("x1"), level="student", extra="aggregate: median\n"), "invalid_value"),
    (
        "two eligibility rules",
        spec_text(indicator("x1"), extra="eligibility: {top: 2, threshold: 0.5}\n"),
        "invalid_value",
    ),
    (
        "cut outside range",
        spec_text(indicator("x1"), level="student", extra="aggregate: {share_above: 2}\n"),
        "invalid_value",
    ),
]


@pytest.mark.parametrize(("what", "text", "code"), BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_bad_spec_is_a_located_error(what: str, text: str, code: str) -> None:
    with pytest.raises(FormulaError) as info:
        load_index_spec_text(text, "spec.yaml")
    (p,) = info.value.problems
    assert p.code == code and p.file == "spec.yaml" and p.line is not None and p.col is not None, what


def test_bad_spec_locations() -> None:
    text = spec_text(indicator("x1").replace("    missing:", "    wieght: 2\n    missing:"))
    with pytest.raises(FormulaError) as info:
        load_index_spec_text(text, "spec.yaml")
    p = info.value.problems[0]
    assert (p.line, p.col) == (text.splitlines().index("    wieght: 2") + 1, 5) and p.hint == "did you mean 'weight'?"
    text = spec_text(indicator("x1", direction="higher"))
    with pytest.raises(FormulaError) as info:
        load_index_spec_text(text, "spec.yaml")
    assert str(info.value).startswith(f"spec.yaml:{text.splitlines().index('    direction: higher') + 1}:16:")


def test_cli_bad_spec_and_bad_data(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(spec_text(indicator("x1", normalise="rank")), encoding="utf-8")
    data = school_csv(tmp_path / "d.csv", {"school_id": ["A", "B"], "x1": ["1", "two"]})
    result = CliRunner().invoke(app, ["index", str(tmp_path / "spec.yaml"), "--data", str(data), "-o", str(tmp_path)])
    assert result.exit_code == 1 and "spec.yaml:11:16" in result.output and "Traceback" not in result.output
    (tmp_path / "spec.yaml").write_text(spec_text(indicator("x1")), encoding="utf-8")
    result = CliRunner().invoke(app, ["index", str(tmp_path / "spec.yaml"), "--data", str(data), "-o", str(tmp_path)])
    assert result.exit_code == 1 and "not_a_number" in result.output and "two" in result.output


def test_data_problems_are_all_collected(tmp_path: Path) -> None:
    spec = spec_text(indicator("x1"), indicator("x2", kind="boolean"))
    rows: dict[str, list[object]] = {"school_id": ["A", "A", "B"], "x1": [1, "n/a", 3], "x2": ["Y", "N", "maybe"]}
    with pytest.raises(InputError) as info:
        run(tmp_path, spec, rows)
    got = sorted((p.code, p.row, p.column) for p in info.value.problems)
    assert got == [("duplicate_entity", 3, "school_id"), ("not_a_number", 3, "x1"), ("not_boolean", 4, "x2")]
    with pytest.raises(InputError) as info:
        run(tmp_path, spec_text(indicator("x9")), {"school_id": ["A"], "x1": [1]})
    assert [(p.code, p.column) for p in info.value.problems] == [("missing_column", "x9")]


def test_student_rows_naming_a_school_two_ways(tmp_path: Path) -> None:
    spec = spec_text(indicator("x"), level="student", extra="aggregate: mean\nstudent_id: student_id\n")
    rows: dict[str, list[object]] = {
        "student_id": ["P1", "P2", "P2"],
        "school_id": ["S1", "S1", "S2"],
        "school_name": ["Hooker", "Hooker School", None],
        "x": [1, 2, 3],
    }
    with pytest.raises(InputError) as info:
        run(tmp_path, spec, rows)
    got = sorted((p.code, p.row, p.column) for p in info.value.problems)
    assert got == [("duplicate_student", 4, "student_id"), ("inconsistent_name", 3, "school_name")]


def test_top_larger_than_the_schools_is_located_in_the_spec(tmp_path: Path) -> None:
    spec = spec_text(indicator("x1"), extra="eligibility: {top: 5}\n")
    with pytest.raises(FormulaError) as info:
        run(tmp_path, spec, {"school_id": ["A", "B"], "x1": [1, 2]})
    (p,) = info.value.problems
    assert (p.code, p.line) == ("invalid_value", 5) and "2 schools" in p.message


def test_docs_spec_example_loads() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "need-index.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    spec = load_index_spec_text(block, "docs/need-index.md")
    assert spec.ids == ["low_income", "prior_score", "crime"] and spec.aggregate is not None
    assert (spec.scale.min, spec.scale.max, spec.sensitivity.step, spec.near_cut.ranks) == (0.01, 0.99, 0.1, 5)

"""fairshare review schools: PPE, central office, exclusions, ranks, groups, peers, flags, located errors, CLI."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import FairshareError, FormulaError, InputError, RunError
from fairshare.review import peers as peers_module
from fairshare.review.grades import parse_grade_spans
from fairshare.review.peers import flag_words, nearest
from fairshare.review.ppe import rank_within, wls_fit
from fairshare.review.schools import SCHOOL_COLUMNS, SchoolReview, run_school_review
from fairshare.review.schools_check import load_review_spec_text

REF = {"title": "Test guidance"}

# PPE by hand: spending ÷ pupils. C1 is a charter (excluded). % need = need ÷ pupils.
TABLE = """school_id,school_name,district,type,grades,pupils,spending,need,charter,score,central
A1,Adams,D1,Elementary,KG-05,400,4000000,200,no,60,300000
A2,Baker,D1,Elementary,KG-05,500,4500000,300,no,55,300000
A3,Clark,D1,Middle,06-08,600,6600000,360,no,50,300000
B1,Dover,D2,Elementary,PK-05,300,3300000,100,no,70,570000
B2,Eaton,D2,Middle,06-08,700,6300000,210,no,65,570000
B3,Fulton,D2,High,09-12,900,9900000,450,no,58,570000
C1,Grant,D3,Elementary,KG-05,350,3850000,280,yes,52,135000
C2,Hayes,D3,High,09-12,1000,12000000,800,no,45,135000
"""

BASE: dict[str, Any] = {
    "review": "test",
    "label": "Test review",
    "tables": {
        "schools": {
            "columns": {
                "school_id": {"type": "text"},
                "school_name": {"type": "text"},
                "district": {"type": "text"},
                "type": {"type": "text"},
                "grades": {"type": "text"},
                "pupils": {"type": "integer"},
                "spending": {"type": "number"},
                "need": {"type": "integer"},
                "charter": {"type": "yes_no"},
                "score": {"type": "number"},
                "central": {"type": "number"},
            }
        }
    },
    "unit": {"id": "school_id", "name": "school_name", "district": "district", "type": "type", "grade_span": "grades"},
    "spending": {
        "label": "Spending per pupil",
        "description": "all funds, as the district reports them",
        "enrollment": "pupils",
        "expenditure": "spending",
    },
    "high_needs": {"label": "High needs", "count": "need"},
    "outcome": {"label": "Score", "value": "score"},
    "missing": "error",
    "exclude": {"charters": {"label": "charter schools", "when": "charter"}},
    "groups": {
        "d1": {"label": "District 1", "when": "district == 'D1'"},
        "rest": {"label": "Other districts", "reference": True},
    },
    "focus": {"district": "D1", "unit": "A2"},
    "peers": {
        "k": {"value": 2, "reference": REF},
        "standardise": "z_score",
        "variables": {
            "high_needs": {"weight": {"value": 1, "reference": REF}},
            "enrollment": {"weight": {"value": 1, "reference": REF}, "scale": "log"},
        },
        "flags": {"below": {"value": 10, "reference": REF}, "above": {"value": 10, "reference": REF}},
    },
}


def _write(tmp_path: Path, spec: dict[str, Any], table: str = TABLE, name: str = "schools.csv") -> tuple[Path, Path]:
    spec_path, table_path = tmp_path / "review.yaml", tmp_path / name
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    table_path.write_text(table, encoding="utf-8")
    return spec_path, table_path


def _run(tmp_path: Path, spec: dict[str, Any] | None = None, table: str = TABLE, **kw: Any) -> SchoolReview:
    spec_path, table_path = _write(tmp_path, BASE if spec is None else spec, table)
    return run_school_review(spec_path, table_path, with_charts=kw.pop("with_charts", False), **kw)


def _spec(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


def _col(review: SchoolReview, column: str) -> dict[str, Any]:
    return dict(zip(review.schools["id"].to_list(), review.schools[column].to_list(), strict=True))


# ------------------------------------------------------------------ PPE


def test_ppe_is_spending_over_pupils(tmp_path: Path) -> None:
    r = _run(tmp_path)
    ppe = _col(r, "ppe")
    assert ppe == {
        "A1": 10000.0, "A2": 9000.0, "A3": 11000.0, "B1": 11000.0, "B2": 9000.0, "B3": 11000.0,
        "C1": None, "C2": 12000.0,
    }  # fmt: skip
    assert _col(r, "central_ppe")["A1"] == 0.0
    assert _col(r, "high_needs_pct")["A1"] == 50.0


def test_ppe_with_a_district_amount_over_district_enrollment(tmp_path: Path) -> None:
    # D1 300,000 ÷ 1,500 = 200; D2 570,000 ÷ 1,900 = 300; D3 135,000 ÷ (350 + 1,000) = 100, the excluded
    # charter's pupils counted: the central office serves every school of the district
    spending = BASE["spending"] | {"central_office": {"label": "central office", "amount": "central"}}
    r = _run(tmp_path, _spec(spending=spending))
    central, ppe = _col(r, "central_ppe"), _col(r, "ppe")
    assert [central[i] for i in ("A1", "B1", "C2")] == [200.0, 300.0, 100.0]
    assert [ppe[i] for i in ("A1", "B2", "C2")] == [10200.0, 9300.0, 12100.0]
    assert _col(r, "school_ppe")["C2"] == 12000.0
    assert "÷ the district's enrollment" in r.methods[1]


def test_central_office_per_pupil_and_a_district_enrollment_column(tmp_path: Path) -> None:
    per_pupil = BASE["spending"] | {"central_office": {"label": "central office", "per_pupil": "score"}}
    r = _run(tmp_path, _spec(spending=per_pupil))
    assert _col(r, "ppe")["A1"] == 10060.0  # 10,000 + the score column read as dollars per pupil
    given = BASE["spending"] | {"central_office": {"label": "co", "amount": "central", "enrollment": "dist_pupils"}}
    variables = {"dist_pupils": {"label": "district enrollment", "expr": "where(district == 'D2', 2000, 1000)"}}
    r = _run(tmp_path, _spec(spending=given, variables=variables))
    central = _col(r, "central_ppe")
    assert [central[i] for i in ("A1", "B1", "C2")] == [300.0, 285.0, 135.0]  # the amount ÷ the given enrollment


def test_per_pupil_given_directly(tmp_path: Path) -> None:
    spending = {"label": "PPE", "description": "as published", "enrollment": "pupils", "per_pupil": "score"}
    r = _run(tmp_path, _spec(spending=spending))
    assert _col(r, "ppe")["A1"] == 60.0


# ------------------------------------------------------------------ exclusions, ranks, groups


def test_exclusions_leave_the_pool(tmp_path: Path) -> None:
    r = _run(tmp_path)
    row = r.unit("C1")
    assert (row["status"], row["reason"], row["state_rank"], row["peers"]) == ("excluded", "charter schools", None, 0)
    assert r.schools.filter(pl.col("status") == "in pool").height == 7
    assert r.peers.filter(pl.col("peer_id") == "C1").height == 0


def test_an_exclusion_that_cannot_be_decided(tmp_path: Path) -> None:
    table = TABLE.replace(
        "A1,Adams,D1,Elementary,KG-05,400,4000000,200,no", "A1,Adams,D1,Elementary,KG-05,400,4000000,200,"
    )
    table = table.replace(
        "A2,Baker,D1,Elementary,KG-05,500,4500000,300,no", "A2,Baker,D1,Elementary,KG-05,500,4500000,300,"
    )
    with pytest.raises(InputError) as exc:
        _run(tmp_path, table=table)
    assert {(p.code, p.row, p.column) for p in exc.value.problems} == {
        ("missing_value", 2, "charter"),
        ("missing_value", 3, "charter"),
    }
    exclude = BASE["exclude"] | {"big": {"label": "schools of 500 pupils", "when": "pupils == five_hundred"}}
    parameters = {"five_hundred": {"label": "500", "value": 500, "unit": "pupils", "reference": REF}}
    r = _run(tmp_path, _spec(missing="leave_out", exclude=exclude, parameters=parameters), table)
    a1, a2 = r.unit("A1"), r.unit("A2")
    assert (a1["status"], a1["reason"]) == (
        "left out",
        "cannot tell whether it is one of the charter schools: charter is blank (row 2)",
    )
    assert (a2["status"], a2["reason"]) == ("excluded", "schools of 500 pupils")  # a later exclusion decides it


def test_ranks_and_percentiles_statewide_and_in_district(tmp_path: Path) -> None:
    r = _run(tmp_path)
    # pool PPEs: C2 12,000; A3, B1, B3 11,000 (share rank 2); A1 10,000; A2, B2 9,000 (share rank 6)
    assert _col(r, "state_rank") == {"A1": 5, "A2": 6, "A3": 2, "B1": 2, "B2": 6, "B3": 2, "C1": None, "C2": 1}
    pct = _col(r, "state_percentile")
    assert pct["C2"] == 100.0 and pct["A3"] == pytest.approx(600 / 7) and pct["A2"] == pytest.approx(200 / 7)
    assert [_col(r, "district_rank")[i] for i in ("A3", "A1", "A2")] == [1, 2, 3]
    assert _col(r, "district_percentile")["A1"] == pytest.approx(200 / 3)
    assert _col(r, "district_units")["C2"] == 1


def test_group_means_weighted_means_and_gap_by_hand(tmp_path: Path) -> None:
    g = {row["group"]: row for row in _run(tmp_path).groups.to_dicts()}
    assert g["d1"]["units"] == 3 and g["rest"]["units"] == 4
    assert g["d1"]["mean_ppe"] == pytest.approx(10000.0)  # (10,000 + 9,000 + 11,000) ÷ 3
    assert g["d1"]["weighted_mean_ppe"] == pytest.approx(15_100_000 / 1500)
    assert g["rest"]["mean_ppe"] == pytest.approx(10750.0)  # C1 (a charter) is not in the pool
    assert g["rest"]["weighted_mean_ppe"] == pytest.approx(31_500_000 / 2900)
    assert g["d1"]["gap_pct"] == pytest.approx((10000 - 10750) / 10750 * 100)
    assert g["d1"]["weighted_gap_pct"] == pytest.approx(
        (15_100_000 / 1500 - 31_500_000 / 2900) / (31_500_000 / 2900) * 100
    )
    assert g["rest"]["reference"] and g["rest"]["gap_pct"] == 0.0


def test_rank_within_ties_share_the_better_rank() -> None:
    rank, pct, count = rank_within(np.array([5.0, 7.0, 7.0, 1.0]), np.array([True, True, True, False]))
    assert rank.tolist() == [3, 1, 1, 0] and count.tolist() == [3, 3, 3, 0]
    assert pct[:3].tolist() == pytest.approx([100 / 3, 100.0, 100.0]) and np.isnan(pct[3])


def test_weighted_least_squares_by_hand() -> None:
    x, y, w = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0, 5.0]), np.array([1.0, 1.0, 2.0, 4.0])
    fit = wls_fit(x, y, w, "x")
    assert fit is not None
    slope, intercept = np.polyfit(x, y, 1, w=np.sqrt(w))  # numpy weights the residuals, so √w
    assert (fit.slope, fit.intercept) == (pytest.approx(slope), pytest.approx(intercept))
    assert wls_fit(np.ones(3), y[:3], w[:3], "x") is None


def test_quadrants_split_at_the_medians(tmp_path: Path) -> None:
    r = _run(tmp_path)
    # pool PPE median 11,000 and score median 58 (at a median counts as higher)
    assert r.medians == {"ppe": 11000.0, "outcome": 58.0}
    q = _col(r, "quadrant")
    assert q["B3"] == "higher spending, higher outcome"  # 11,000 and 58
    assert q["C2"] == "higher spending, lower outcome"
    assert q["A1"] == "lower spending, higher outcome" and q["A2"] == "lower spending, lower outcome"


# ------------------------------------------------------------------ peers


PEER_TABLE = """id,kind,need,ppe,pupils
P1,E,10,100,10
P2,E,12,100,10
P3,M,11,100,10
P4,E,8,100,10
P5,E,12,100,10
"""


def _peer_spec(type_rule: dict[str, Any] | None) -> dict[str, Any]:
    peers: dict[str, Any] = {
        "k": {"value": 2, "reference": REF},
        "standardise": "none",
        "variables": {"need": {"weight": {"value": 1, "reference": REF}}},
        "flags": {"below": {"value": 10, "reference": REF}, "above": {"value": 10, "reference": REF}},
    }
    if type_rule is not None:
        peers["type"] = type_rule
    return {
        "review": "peers",
        "label": "Peers",
        "tables": {
            "t": {
                "columns": {
                    "id": {"type": "text"},
                    "kind": {"type": "text"},
                    "need": {"type": "number"},
                    "ppe": {"type": "number"},
                    "pupils": {"type": "number"},
                }
            }
        },
        "unit": {"id": "id", "type": "kind"},
        "spending": {"label": "PPE", "description": "given", "enrollment": "pupils", "per_pupil": "ppe"},
        "missing": "error",
        "peers": peers,
    }


@pytest.mark.parametrize(
    ("type_rule", "expected"),
    [
        (None, ["P3", "P2"]),  # P3 at 1, then P2, P4, P5 all at 2: the tie goes by id
        ({"rule": "exact"}, ["P2", "P4"]),  # P3 is another type
        ({"rule": "penalty", "penalty": {"value": 5, "reference": REF}}, ["P2", "P4"]),  # P3 at 1 + 5
        ({"rule": "penalty", "penalty": {"value": 0.5, "reference": REF}}, ["P3", "P2"]),  # P3 at 1.5
    ],
)
def test_the_k_nearest_known_by_hand(tmp_path: Path, type_rule: dict[str, Any] | None, expected: list[str]) -> None:
    r = _run(tmp_path, _peer_spec(type_rule), PEER_TABLE)
    p1 = r.peers_of("P1")
    assert p1["peer_id"].to_list() == expected
    assert p1["rank"].to_list() == [1, 2]
    assert p1["distance"].to_list() == pytest.approx(sorted(p1["distance"].to_list()))


def test_blockwise_nearest_matches_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    n = 240
    z = np.round(rng.normal(size=(n, 3)), 1)  # rounded: many equal distances, so ties by index matter
    w = np.array([2.0, 1.0, 0.5])
    ready = rng.random(n) > 0.1
    types = rng.choice(np.array(["E", "M"], dtype=object), n)
    monkeypatch.setattr(peers_module, "BLOCK_PAIRS", 1000)  # about four query rows per block
    idx, dist = nearest(z, w, ready, 5, types=types, type_rule="exact")
    for i in np.flatnonzero(ready)[:60]:
        d = np.sqrt(((z - z[i]) ** 2 * w).sum(axis=1))
        ok = ready & (types == types[i]) & (np.arange(n) != i)
        order = sorted(np.flatnonzero(ok), key=lambda j: (d[j], j))[:5]
        assert idx[i].tolist() == order
        assert dist[i] == pytest.approx(d[order])
    assert (idx[~ready] == -1).all()


def test_peer_median_percentile_gap_and_flag(tmp_path: Path) -> None:
    r = _run(tmp_path)
    a2 = r.unit("A2")
    peers = r.peers_of("A2")
    assert a2["peers"] == 2 and a2["peer_median"] == pytest.approx(float(np.median(peers["peer_ppe"].to_numpy())))
    assert a2["gap_pct"] == pytest.approx((9000 - a2["peer_median"]) / a2["peer_median"] * 100)
    assert a2["peer_percentile"] == pytest.approx(100 * float((peers["peer_ppe"].to_numpy() <= 9000).mean()))
    assert a2["flag"] == "below"
    assert (
        a2["flag_text"]
        == f"spends {abs(a2['gap_pct']):.1f} % less than its peers' median — discuss the allocation strategy"
    )


def test_flags_and_thresholds() -> None:
    gaps = np.array([-10.0, -9.96, -9.94, 10.0, 9.96, 0.0, -4.0, np.nan])
    none = np.array(["", "", "", "", "", "", "", "no peers: no need"], dtype=object)
    flag, text = flag_words(gaps, 10.0, 10.0, none)
    assert flag.tolist() == ["below", "below", "near", "above", "above", "near", "near", "no_peers"]
    assert text[0] == "spends 10.0 % less than its peers' median — discuss the allocation strategy"
    assert text[3] == "spends 10.0 % more than its peers' median — discuss resource use and efficiency"
    assert text[5] == "spends the same as its peers' median (within 10 % / 10 %)"
    assert text[7] == "no peers: no need"
    flag, _ = flag_words(np.array([-6.0, 12.0, 16.0]), 5.0, 15.0, np.array(["", "", ""], dtype=object))
    assert flag.tolist() == ["below", "near", "above"]


def test_a_unit_without_a_peer_variable_has_no_peers(tmp_path: Path) -> None:
    table = TABLE.replace("B1,Dover,D2,Elementary,PK-05,300,3300000,100,", "B1,Dover,D2,Elementary,PK-05,300,3300000,,")
    r = _run(tmp_path, _spec(missing="leave_out"), table)
    b1 = r.unit("B1")
    assert (b1["status"], b1["peers"], b1["flag"]) == ("in pool", 0, "no_peers")
    assert b1["flag_text"] == "no peers: no high_needs: need is blank (row 5)"
    assert b1["ppe"] == 11000.0  # still ranked and grouped
    assert r.peers.filter(pl.col("peer_id") == "B1").height == 0


# ------------------------------------------------------------------ determinism


def test_row_order_does_not_change_any_result(tmp_path: Path) -> None:
    lines = TABLE.strip().splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _run(tmp_path / "a", with_charts=True)
    b = _run(tmp_path / "b", table=shuffled, with_charts=True)
    assert a.schools.drop("row").equals(b.schools.drop("row"))
    assert a.peers.equals(b.peers) and a.groups.equals(b.groups)
    assert a.charts == b.charts and set(a.charts) == {
        "array",
        "ppe_vs_high_needs",
        "ppe_vs_outcome",
        "quadrants",
        "peers",
    }
    assert a.schools["id"].to_list() == sorted(a.schools["id"].to_list())


def test_grade_spans() -> None:
    low, high, bad = parse_grade_spans(np.array(["'EE-05", "KG-12", "PK 09-12", "03-AE", "'UG", "", "13-14", "Pre-K"]))
    assert low[:4].tolist() == [-2.0, 0.0, -1.0, 3.0] and high[:4].tolist() == [5.0, 12.0, 12.0, 13.0]
    assert np.isnan(low[4:6]).all() and bad.tolist() == [False] * 6 + [True, True]


# ------------------------------------------------------------------ located errors


def _problems(exc: pytest.ExceptionInfo[FairshareError]) -> list[tuple[str, int | None, int | None]]:
    return [(p.code, p.line, p.row) for p in exc.value.problems]


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_bad_spec_every_problem_located() -> None:
    spec = _spec()
    spec["unit"] = spec["unit"] | {"nmae": "school_name"}
    spec["exclude"] = {
        "charters": {"label": "charters", "when": "chartr"},
        "small": {"label": "s", "when": "pupils < 100"},
    }
    text = yaml.safe_dump(spec, sort_keys=False)
    with pytest.raises(FormulaError) as exc:
        load_review_spec_text(text, "review.yaml")
    assert [p.code for p in exc.value.problems] == ["unknown_key"]  # the shape is checked first
    assert exc.value.problems[0].line == _line(text, "nmae:") and exc.value.problems[0].hint == "did you mean 'name'?"
    spec["unit"].pop("nmae")
    text = yaml.safe_dump(spec, sort_keys=False)
    with pytest.raises(FormulaError) as exc:
        load_review_spec_text(text, "review.yaml")
    got = {(p.code, p.line) for p in exc.value.problems}
    assert got == {("unknown_id", _line(text, "chartr")), ("invalid_value", _line(text, "pupils < 100"))}
    assert str(exc.value.problems[0]).startswith(f"review.yaml:{_line(text, 'chartr')}:")


@pytest.mark.parametrize(
    ("change", "code", "needle"),
    [
        ({"peers": BASE["peers"] | {"k": {"value": 2}}}, "missing_key", "k:"),
        (
            {
                "groups": {
                    "a": {"label": "A", "when": "charter", "reference": True},
                    "b": {"label": "B", "reference": True},
                }
            },
            "invalid_value",
            "groups:",
        ),
        (
            {"groups": {"a": {"label": "A"}, "b": {"label": "B", "when": "charter", "reference": True}}},
            "invalid_value",
            "  a:",
        ),
        (
            {"variables": {"x": {"label": "x", "expr": "y + 1"}, "y": {"label": "y", "expr": "x * 2"}}},
            "cycle",
            "expr: y + 1",
        ),
        ({"spending": BASE["spending"] | {"per_pupil": "score"}}, "invalid_value", "label: Spending per pupil"),
        (
            {"peers": BASE["peers"] | {"variables": {"grade": {"weight": {"value": 1, "reference": REF}}}}},
            "unknown_id",
            "grade:",
        ),
    ],
)
def test_bad_spec_codes(change: dict[str, Any], code: str, needle: str) -> None:
    text = yaml.safe_dump(_spec(**change), sort_keys=False)
    with pytest.raises(FormulaError) as exc:
        load_review_spec_text(text, "review.yaml")
    assert (exc.value.problems[0].code, exc.value.problems[0].line) == (code, _line(text, needle))


def test_bad_cells_are_located(tmp_path: Path) -> None:
    table = TABLE.replace("A2,Baker,D1,Elementary,KG-05,500,", "A2,Baker,D1,Elementary,KG-05,5oo,")
    table = table.replace("B2,Eaton", "A1,Eaton")
    with pytest.raises(InputError) as exc:
        _run(tmp_path, table=table)
    got = {(p.code, p.row, p.column) for p in exc.value.problems}
    assert got == {("not_a_number", 3, "pupils"), ("duplicate_entity", 6, "school_id")}


def test_missing_value_is_an_error_or_a_stated_reason(tmp_path: Path) -> None:
    table = TABLE.replace("B2,Eaton,D2,Middle,06-08,700,6300000,", "B2,Eaton,D2,Middle,06-08,700,,")
    with pytest.raises(InputError) as exc:
        _run(tmp_path, table=table)
    p = exc.value.problems[0]
    assert (p.code, p.row, p.column, p.file) == ("missing_value", 6, "spending", str(tmp_path / "schools.csv"))
    r = _run(tmp_path, _spec(missing="leave_out"), table)
    b2 = r.unit("B2")
    assert (b2["status"], b2["reason"], b2["ppe"]) == ("left out", "no spending: spending is blank (row 6)", None)
    assert "Left out: no spending (1)." in r.notes


def test_data_rule_breaks_are_located(tmp_path: Path) -> None:
    table = TABLE.replace("KG-05,500", "K5-Z,500").replace("06-08,700,6300000,210", "06-08,700,6300000,800")
    spending = BASE["spending"] | {"central_office": {"label": "co", "amount": "central"}}
    table = table.replace("09-12,900,9900000,450,no,58,570000", "09-12,900,9900000,450,no,58,570001")
    with pytest.raises(InputError) as exc:
        _run(tmp_path, _spec(spending=spending), table)
    got = {(p.code, p.row, p.column) for p in exc.value.problems}
    assert got == {
        ("not_allowed", 3, "grades"),
        ("exceeds_total", 6, "need"),
        ("district_amount_varies", 7, "central"),
    }


def test_unknown_focus_and_empty_pool(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        _run(tmp_path, _spec(focus={"unit": "A22"}))
    assert (exc.value.code, exc.value.problems[0].hint) == ("unknown_entity", "did you mean 'A2'?")
    everything = {"all": {"label": "every school", "when": "pupils >= 0"}}
    with pytest.raises(RunError) as run_exc:
        _run(tmp_path, _spec(exclude=everything, focus=None))
    assert run_exc.value.code == "empty_pool"


def test_tables_are_named_on_the_command_line(tmp_path: Path) -> None:
    spec = _spec()
    spec["tables"]["extra"] = {"join": {"key": "code", "to": "district"}, "columns": {"code": {"type": "text"}}}
    spec_path, table_path = _write(tmp_path, spec)
    with pytest.raises(InputError) as exc:
        run_school_review(spec_path, [str(table_path), "extar=x.csv"])
    assert {(p.code, p.hint) for p in exc.value.problems} == {
        ("missing_table", "did you mean 'extra'?"),
        ("missing_table", None),
    }


def test_a_join_brings_missing_never_zero(tmp_path: Path) -> None:
    spec = _spec(missing="leave_out")
    spec["tables"]["extra"] = {
        "join": {"key": "code", "to": "district"},
        "columns": {"code": {"type": "text"}, "bonus": {"type": "number"}},
    }
    spec["spending"] = spec["spending"] | {"central_office": {"label": "bonus", "per_pupil": "bonus"}}
    spec["groups"] = {"listed": {"label": "listed", "when": "extra"}, "rest": {"label": "rest", "reference": True}}
    (tmp_path / "extra.csv").write_text("code,bonus\nD1,5\nD2,7\n", encoding="utf-8")
    spec_path, table_path = _write(tmp_path, spec)
    r = run_school_review(spec_path, [str(table_path), f"extra={tmp_path / 'extra.csv'}"], with_charts=False)
    assert _col(r, "ppe")["A1"] == 10005.0 and _col(r, "group")["B1"] == "listed"
    assert _col(r, "reason")["C2"] == "no central-office amount: table extra has no row for key 'D3'"


# ------------------------------------------------------------------ command line


def test_cli_writes_every_output(tmp_path: Path) -> None:
    spec_path, table_path = _write(tmp_path, BASE)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["review", "schools", str(spec_path), "--data", str(table_path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Baker spends 14.3 % less than its peers' median — discuss the allocation strategy" in res.output
    names = {"schools.csv", "peers.csv", "groups.csv", "report.html", "manifest.json"}
    assert {p.name for p in out.iterdir()} == names
    assert tuple(pl.read_csv(out / "schools.csv", infer_schema=False).columns) == SCHOOL_COLUMNS
    assert pl.read_csv(out / "peers.csv").height == 14  # 7 schools × 2 peers
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 5 and "District D1: its schools" in html
    assert re.search(r"(src|href)=\"https?:", html) is None  # self-contained: nothing fetched
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["sha256"] and manifest["spec"]["sha256"]
    assert manifest["parameters"]["peers.k"]["value"] == 2
    assert set(manifest["outputs"]) == names - {"manifest.json"}


def test_cli_reports_a_bad_spec_without_a_traceback(tmp_path: Path) -> None:
    spec = _spec()
    spec["missing"] = "skip"
    spec_path, table_path = _write(tmp_path, spec)
    res = CliRunner().invoke(
        app, ["review", "schools", str(spec_path), "-d", str(table_path), "-o", str(tmp_path / "o")]
    )
    assert res.exit_code == 1
    assert "invalid_value" in res.output and "Traceback" not in res.output


def test_the_docs_example_spec_loads() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "review.md").read_text(encoding="utf-8")
    block = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)[0]
    spec = load_review_spec_text(block, "docs/review.md")
    assert spec.primary == "schools" and list(spec.exclusions) == ["charters", "tiny"]
    assert spec.model.spending.central_office is not None and spec.model.peers is not None

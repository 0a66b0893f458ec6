"""Connecticut's proposed Opportunity Network on real 2024-25 data, against the 36 Alliance Districts.

Bottom 30 by Accountability Index or the 40 with the highest (FRPL + EL) share, among local and
regional boards with at least 1,000 students (FY2025 ADM); the 36 Alliance Districts of 2025-26 are
the previous list (with their monitoring categories) and leave only by a phased exit.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fairshare.programs.identify import Identification, run_identify, summary
from fairshare.programs.identify_outputs import write_identify

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
RULES = ROOT / "examples" / "ct-opportunity-network" / "opportunity-network.yaml"
TABLES = {
    "accountability": SHARED / "ct_ecs_fy2027" / "district_year_accountability.csv",
    "ecs": SHARED / "ct_ecs_fy2027" / "town_year_ecs_inputs_fy2027.csv",
    "ncep": SHARED / "ct_ecs_fy2027" / "district_year_ncep_fy2025.csv",
    "ai_history": SHARED / "ct_alliance_2026" / "indicators.csv",
}
MONITORING = SHARED / "ct_alliance_2026" / "monitoring_categories.csv"
ALLIANCE = SHARED / "ct_alliance_2026" / "identification.csv"

pytestmark = pytest.mark.skipif(
    not all(p.is_file() for p in [*TABLES.values(), MONITORING, ALLIANCE]),
    reason="real data sets live in ../shared/data (present in CI)",
)

ENTRANTS = {"Clinton", "Griswold", "Montville", "Plainville", "Plymouth", "Seymour", "Woodstock"}


@pytest.fixture(scope="module")
def result() -> Identification:
    return run_identify(RULES, TABLES, MONITORING)


def _town(name: str) -> str:
    return name.removesuffix(" School District")


def _alliance() -> set[str]:
    with ALLIANCE.open(newline="", encoding="utf-8") as fh:
        return {row["district"] for row in csv.DictReader(fh)}


def _rows(result: Identification) -> dict[str, int]:
    return {_town(str(n)): j for j, n in enumerate(result.names)}


def test_the_previous_list_is_the_36_alliance_districts(result: Identification) -> None:
    assert result.previous is not None
    listed = {_town(str(n)) for n, x in zip(result.names, result.previous.identified, strict=True) if x}
    assert listed == _alliance() and len(listed) == 36


def test_counts(result: Identification) -> None:
    s = summary(result)
    assert (s["year"], s["entities"], s["in_universe"]) == (2025, 199, 114)
    assert (s["identified"], s["entered"], s["stayed"], s["transition"], s["left"]) == (43, 7, 35, 1, 0)
    # 30 by the index, 40 by need (no ties at either cut), 28 by both: 42 meet the rule
    assert int(result.leaves["low_performance"].passed.sum()) == 30
    assert int(result.leaves["high_need"].passed.sum()) == 40
    assert int((result.leaves["low_performance"].passed & result.leaves["high_need"].passed).sum()) == 28


def test_overlap_with_the_alliance_districts(result: Identification) -> None:
    ident = {_town(str(n)) for n, x in zip(result.names, result.identified, strict=True) if x}
    alliance = _alliance()
    assert alliance <= ident  # 35 meet the rule; Thompson stays in transition
    assert ident - alliance == ENTRANTS
    meeting = {_town(str(n)) for n, x in zip(result.names, result.meets, strict=True) if x}
    assert alliance - meeting == {"Thompson"}


def test_named_districts_and_their_reasons(result: Identification) -> None:
    at = _rows(result)
    assert result.reasons[at["Bridgeport"]] == (
        "stays: meets the rule — accountability index 59.03, rank 5 of 114 — within the bottom 30; "
        "high-need share (FRPL + EL) 120.4 %, rank 1 of 104 — within the top 40"
    )
    assert result.reasons[at["Thompson"]] == (
        "in transition: identified before, has not met the rule for 1 of the 2 consecutive years after which it "
        "leaves — outside the universe: not at least 1,000 students (average daily membership (FY2025) 826.8, "
        "min_students 1,000)"
    )
    assert result.reasons[at["Plainville"]].startswith("enters: meets the rule, not identified before — ")
    assert result.reasons[at["Plainville"]].endswith("rank 40 of 104 — within the top 40")
    assert result.reasons[at["Woodstock"]].endswith("rank 80 of 104 — outside the top 40")
    assert "rank 25 of 114 — within the bottom 30" in result.reasons[at["Woodstock"]]
    assert result.reasons[at["Regional School District 11"]] == (
        "not identified — outside the universe: not at least 1,000 students (average daily membership (FY2025) "
        "204.1, min_students 1,000)"
    )
    assert result.reasons[at["Achievement First Bridgeport Academy District"]] == (
        "not identified — outside the universe: not a local or regional board of education (board type other)"
    )
    assert (
        "high-need share (FRPL + EL): no value (no row in table ecs)"
        in result.reasons[at["Regional School District 20"]]
    )


def test_tiers_and_monitoring_workload(result: Identification) -> None:
    s = summary(result)["tiers"]
    assert [(t["tier"], t["entities"], t["total_meetings"]) for t in s["proposed"]] == [
        ("intensive", 14, 42.0),
        ("desk", 29, 0.0),
    ]
    current = {t["tier"]: (t["entities"], t["total_meetings"]) for t in s["current"]}
    # CSDE: 6 + 4 + 9 + 17 districts, 91 monitoring meetings a year; the 7 entrants add 14 as streamlined
    assert current == {
        "comprehensive": (6, 18.0),
        "enhanced": (4, 12.0),
        "standard": (9, 27.0),
        "streamlined": (17, 34.0),
        "entrant": (7, 14.0),
    }
    assert sum(v[1] for k, v in current.items() if k != "entrant") == 91
    at = _rows(result)
    intensive = {t for t, j in at.items() if result.tiers["proposed"][j] == "intensive"}
    assert intensive == {
        "Ansonia", "Bridgeport", "Hartford", "Manchester", "Middletown", "New Britain", "New Haven",
        "New London", "Norwich", "Plainfield", "Stamford", "Waterbury", "Winchester", "Windham",
    }  # fmt: skip


def test_grant_reconciles(result: Identification, tmp_path: Path) -> None:
    g = result.grant
    assert g is not None
    assert (g.total_cents, g.admin_cents, int(g.incentive_cents.sum())) == (3_710_000_000, 371_000_000, 742_000_000)
    assert int(g.entity_cents.sum()) + g.admin_cents == g.total_cents
    at = _rows(result)
    top = sorted((int(g.incentive_rank[j]), t) for t, j in at.items() if g.incentive_rank[j])
    assert [t for _, t in top[:3]] == ["Norwich", "Manchester", "Thompson"]
    assert len(top) == 10 and all(g.incentive_cents[at[t]] == 74_200_000 for _, t in top)
    files = write_identify(result, tmp_path, RULES, TABLES, MONITORING)
    assert {f.name for f in files} == {
        "identification.csv", "changes.csv", "tiers.csv", "grant.csv", "report.html", "manifest.json",
    }  # fmt: skip
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["identified"] == 43
    with (tmp_path / "changes.csv").open(encoding="utf-8") as fh:
        changes = [r for r in csv.DictReader(fh) if r["change"] != "stayed"]
    assert [(_town(r["name"]), r["change"]) for r in changes] == [(t, "entered") for t in sorted(ENTRANTS)] + [
        ("Thompson", "transition")
    ]

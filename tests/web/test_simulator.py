"""The scenario simulator: previews equal the command line's engine to the cent, overrides checked and
named, scenarios saved, shared, compared and exported (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from fairshare.demo import DEMO_DATE, generate
from fairshare.errors import RunError
from fairshare.io import aggregate_students, write_table
from fairshare.pipeline import allocate
from fairshare.programs import DEMO_FORMULA
from fairshare.rules import Run
from fairshare.web import simulator as sim
from fairshare.web.simulator_registry import EXAMPLES, SHARED_DATA, ParamRange, param_range, synthetic_state
from web_helpers import demo, sign_in

AID = EXAMPLES / "aid-transition"
PREVIEW = "/api/scenarios/preview"


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the one JSON error shape with ``status`` and ``code``; the first problem."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message", "problems"}
    assert body["error"]["status"] == status and body["error"]["code"] == code, body
    return dict(body["error"]["problems"][0]) if body["error"]["problems"] else {}


def cli_run(model_id: str, tmp_path: Path) -> Run:
    """The same model run the way `fairshare allocate` runs it, from files."""
    if model_id == "demo-district":
        schools, students = generate(tmp_path / "data")
        table = tmp_path / "data" / "school_table.csv"
        write_table(aggregate_students(students, schools).frame, table)
        return allocate(DEMO_FORMULA, table, DEMO_DATE)
    if model_id == "aid-transition":
        return allocate(AID / "foundation.yaml", AID / "towns.csv", dt.date(2026, 7, 1))
    if model_id == "synthetic-state":
        path = tmp_path / "state.csv"
        synthetic_state().write_csv(path)
        return allocate(AID / "foundation.yaml", path, dt.date(2026, 7, 1))
    if model_id == "ct-ecs-fy2027":
        data = SHARED_DATA / "ct_ecs_fy2027" / "town_year_ecs_inputs_fy2027.csv"
        return allocate(EXAMPLES / "ct-ecs-fy2027" / "ecs.yaml", data, dt.date(2026, 7, 1))
    data = SHARED_DATA / "nc_2023_24" / "traditional_lea_2023_24.csv"
    return allocate(EXAMPLES / "nc-2023-24" / "default.yaml", data, dt.date(2023, 7, 1))


MODELS = ["demo-district", "aid-transition", "synthetic-state"] + [
    pytest.param(m, marks=pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="real data sets live in ../shared/data"))
    for m in ("ct-ecs-fy2027", "nc-2023-24")
]


# ----------------------------------------------------------------------------- the service


@pytest.mark.parametrize("model_id", MODELS)
def test_preview_without_overrides_equals_the_cli_engine(model_id: str, tmp_path: Path) -> None:
    run = cli_run(model_id, tmp_path)
    out = sim.preview(model_id, {})
    assert [e.id for e in out.entities] == run.table.ids.astype(str).tolist()
    assert [e.total_cents for e in out.entities] == run.total_cents.tolist()
    assert [e.lines for e in out.entities] == run.cents.tolist()
    assert [c.amount_cents for c in out.summary.components] == run.cents.sum(axis=0).tolist()
    assert out.summary.total_cents == int(run.total_cents.sum()) == sum(e.total_cents for e in out.entities)
    prior = run.prior_total_cents
    assert prior is not None
    assert [e.current_cents for e in out.entities] == [None if p < 0 else p for p in prior.tolist()]
    assert out.summary.solved == run.solved and out.summary.budget_cents == run.budget_cents
    assert out.overrides == {}


def test_demo_model_is_the_demo_district_with_new_schools_never_zero() -> None:
    out = sim.preview("demo-district", {})
    assert out.summary.entities == 40 and out.summary.total_cents == out.summary.budget_cents == 19_000_000_000
    new = [e for e in out.entities if e.current_cents is None]
    assert new and all(e.change_cents is None and e.change_pct is None for e in new)
    w = out.winners_losers
    assert w.new == len(new) == out.summary.new_entities
    assert w.winners + w.losers + w.unchanged + w.new == 40
    assert out.summary.current_cents == sum(e.current_cents or 0 for e in out.entities)


def test_an_override_moves_totals_as_hand_arithmetic_says() -> None:
    """Ashford: need students 1,000 + 0.3 × 400 = 1,120; aid ratio 1 - 200,000 / 400,000 = 0.5; target
    1,120 × 0.5 × $11,525 = $6,454,000, below last year's $7,000,000, so the stop-loss holds the grant at
    $7,000,000 × (1 - stop loss): $6,860,000 at 2 %, $6,650,000 at 5 %. Chester (aid ratio at its 0.1
    minimum, target $356,122.50 rounded) likewise goes from $490,000 to $475,000; Brookline gains and
    is not touched by the stop-loss."""
    before = {e.id: e for e in sim.preview("aid-transition", {}).entities}
    after_out = sim.preview("aid-transition", {"stop_loss": 0.05})
    after = {e.id: e for e in after_out.entities}
    assert (before["T1"].total_cents, after["T1"].total_cents) == (686_000_000, 665_000_000)
    assert (before["T3"].total_cents, after["T3"].total_cents) == (49_000_000, 47_500_000)
    assert before["T2"].total_cents == after["T2"].total_cents
    assert after_out.summary.total_cents - after_out.summary.baseline_total_cents == -22_500_000
    fully = {c.id: c for c in after_out.summary.components}
    assert fully["fully_funded"].amount_cents == fully["fully_funded"].baseline_cents  # the target does not move
    assert fully["transition"].amount_cents - fully["transition"].baseline_cents == -22_500_000
    assert after["T1"].change_cents == 665_000_000 - 700_000_000 and after_out.overrides == {"stop_loss": 0.05}


def test_the_state_model_has_hundreds_of_towns_and_equity_metrics() -> None:
    out = sim.preview("synthetic-state", {"low_income_weight": 0.5})
    assert out.summary.entities >= 300
    model, current = out.equity.model, out.equity.current
    assert current is not None and model.n + model.excluded == out.summary.entities
    for key in ("gini", "coefficient_of_variation", "mcloone", "federal_range_ratio", "wealth_elasticity"):
        assert model.metrics[key].value is not None and current.metrics[key].value is not None
    assert "need_correlation" in model.metrics
    gains = out.winners_losers.biggest_gains
    assert [g.change_cents for g in gains] == sorted((g.change_cents for g in gains), reverse=True)


def test_every_parameter_runs_at_both_ends_of_its_range() -> None:
    """The unit rule's ranges are usable: at each end the formula runs, except where the policy itself
    makes the budget unreachable (the demo's hold harmless with no loss allowed), which is said."""
    unreachable = []
    for m in sim.models():
        for pid, rule in m.adjustable.items():
            if not isinstance(rule, ParamRange):
                continue
            for value in (rule.min, rule.max):
                try:
                    sim.run_for(m, {pid: value})
                except RunError as exc:
                    assert exc.code == "budget_unreachable", (m.spec.id, pid, value, exc)
                    unreachable.append((m.spec.id, pid, value))
    assert unreachable == [("demo-district", "staffing.max_loss", 0.0)]


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (5300, "usd_per_pupil", (0, 10600, 10)),
        (11525, "usd_per_pupil", (0, 23050, 1)),
        (190_000_000, "usd", (0, 380_000_000, 1_000_000)),
        (0.25, "share_of_base", (0, 1, 0.001)),
        (1.12, "share_of_base", (0, 2.24, 0.01)),
        (0.08, "share", (0, 1, 0.0001)),
        (15, "count", (0, 30, 1)),
        (450, "pupils_per_fte", (225, 900, 1)),
        (5, "rank", (1, 10, 1)),
        (2, "tier", (1, 3, 1)),
        (0, "share_of_base", (0, 1, 0.01)),
    ],
)
def test_the_range_rule(value: float, unit: str, expected: tuple[float, float, float]) -> None:
    rng = param_range(value, unit, tier_max=3)
    assert rng is not None and (rng.min, rng.max, rng.step) == pytest.approx(expected)
    assert rng.min <= value <= rng.max
    assert abs(value / rng.step - round(value / rng.step)) < 1e-6  # the value in force is on the slider's grid
    assert param_range(2027, "year") is None


def test_models_load_once_under_concurrent_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = sim._load

    def counting(spec: Any) -> sim.Model:
        calls.append(spec.id)
        return real(spec)

    monkeypatch.setattr(sim, "_LOADED", {})
    monkeypatch.setattr(sim, "_LOADING", {})
    monkeypatch.setattr(sim, "_load", counting)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(sim.preview("aid-transition", {}).summary.total_cents))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["aid-transition"] and len(set(results)) == 1 and len(results) == 8


def _overrides(model_id: str, prefixes: tuple[str, ...]) -> st.SearchStrategy[dict[str, float]]:
    """Any subset of the model's adjustable parameters (those under ``prefixes``), each anywhere in its range."""
    m = sim.model(model_id)
    ranges = {p: r for p, r in m.adjustable.items() if isinstance(r, ParamRange) and p.startswith(prefixes)}
    return st.fixed_dictionaries(
        {}, optional={p: st.floats(r.min, r.max, allow_nan=False, allow_infinity=False) for p, r in ranges.items()}
    )


@settings(max_examples=60, deadline=None, database=None)
@given(
    case=st.one_of(
        st.tuples(st.just("synthetic-state"), _overrides("synthetic-state", ("",))),
        st.tuples(st.just("demo-district"), _overrides("demo-district", ("weights.", "grade_weights."))),
    )
)
def test_any_in_range_override_gives_integer_cents_that_add_up(case: tuple[str, dict[str, float]]) -> None:
    model_id, overrides = case
    out = sim.preview(model_id, overrides)
    totals = [e.total_cents for e in out.entities]
    assert all(isinstance(t, int) for t in totals)
    assert sum(totals) == out.summary.total_cents == sum(c.amount_cents for c in out.summary.components)
    assert all(sum(e.lines) == e.total_cents for e in out.entities)
    for e in out.entities:
        assert e.change_cents == (None if e.current_cents is None else e.total_cents - e.current_cents)
    w = out.winners_losers
    assert w.gained_cents + w.lost_cents == out.summary.difference_cents
    if out.summary.budget_cents is not None:
        assert out.summary.total_cents == out.summary.budget_cents


# ----------------------------------------------------------------------------- the API


def test_models_list_their_parameters_with_ranges_and_citations(client: TestClient) -> None:
    sign_in(client, demo("principal"))
    models = {m["id"]: m for m in client.get("/api/scenarios/models").json()}
    assert {"demo-district", "aid-transition", "synthetic-state"} <= set(models)
    assert models["demo-district"]["n_entities"] == 40 and models["synthetic-state"]["n_entities"] >= 300
    params = {p["id"]: p for p in models["demo-district"]["parameters"]}
    el = params["weights.english_learner"]
    assert el["adjustable"] and el["min"] <= el["value"] == 0.25 <= el["max"] and el["unit"] == "share_of_base"
    assert "Board Policy 3110" in el["reference"]["cite"] and el["effective"] == "2025-07-01"
    base = params["base.per_pupil"]
    assert not base["adjustable"] and "solved" in base["fixed_reason"]
    assert "salaries.teacher" not in params  # read by no line (it prices trades only)
    assert client.get("/api/scenarios/models/aid-transition").json()["n_entities"] == 3
    assert problem(client.get("/api/scenarios/models/nope"), 404, "not_found") == {}


def test_preview_through_the_api(client: TestClient) -> None:
    headers = sign_in(client, demo("state"))
    r = client.post(PREVIEW, json={"model": "aid-transition", "overrides": {"stop_loss": 0.05}}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["overrides"] == {"stop_loss": 0.05} and body["entities"][0]["total_cents"] == 665_000_000
    assert body["summary"]["total_cents"] == sum(e["total_cents"] for e in body["entities"])
    assert body["elapsed_ms"] < 1000


def test_out_of_range_unknown_and_fixed_parameters_are_422_naming_them(client: TestClient) -> None:
    headers = sign_in(client, demo("budget"))

    def post(model: str, overrides: dict[str, Any]) -> Any:
        return client.post(PREVIEW, json={"model": model, "overrides": overrides}, headers=headers)

    p = problem(post("aid-transition", {"foundation": 1e9}), 422, "above_maximum")
    assert p["column"] == "foundation" and p["value"] == 1e9 and p["rule"] == "0 <= foundation <= 23050"
    assert "foundation = 1e+09 is outside its range 0 to 23050" in p["message"]
    p = problem(post("aid-transition", {"stop_loss": -0.1}), 422, "below_minimum")
    assert p["column"] == "stop_loss" and "0 to 1" in p["message"]
    p = problem(post("aid-transition", {"fundation": 12000}), 422, "unknown_id")
    assert p["column"] == "fundation" and p["hint"] == "did you mean 'foundation'?"
    p = problem(post("demo-district", {"base.per_pupil": 6000}), 422, "invalid_value")
    assert p["column"] == "base.per_pupil" and "solved" in p["message"]
    p = problem(post("no-such-model", {}), 422, "unknown_id")
    assert p["column"] == "model"
    # every problem is reported, not only the first
    r = post("aid-transition", {"foundation": -1, "nope": 1, "stop_loss": 2})
    problem(r, 422, "below_minimum")
    assert [q["column"] for q in r.json()["error"]["problems"]] == ["foundation", "nope", "stop_loss"]
    r = client.post(
        PREVIEW,
        content='{"model": "aid-transition", "overrides": {"foundation": NaN}}',
        headers={**headers, "content-type": "application/json"},
    )
    problem(r, 422, "invalid_value")
    # in-range values the budget cannot meet: a conflict, with the engine's located problem (no server path)
    p = problem(post("demo-district", {"staffing.max_loss": 0}), 409, "budget_unreachable")
    assert p["file"] == "fairshare/programs/formulas/district-sbb.yaml" and p["line"] > 0


def test_save_share_list_and_audit(client: TestClient) -> None:
    headers = sign_in(client, demo("budget"))
    body = {"name": "EL weight 0.35", "model": "demo-district", "overrides": {"weights.english_learner": 0.35}}
    r = client.post("/api/scenarios", json=body, headers=headers)
    assert r.status_code == 201, r.text
    saved = r.json()
    slug = saved["slug"]
    assert len(slug) >= 20 and saved["url"] == f"/simulator/s/{slug}" and not saved["formula_changed"]
    assert [s["slug"] for s in client.get("/api/scenarios").json()] == [slug]
    audit = client.get("/api/audit").json()[0]
    assert (audit["action"], audit["entity_type"], audit["entity_id"]) == ("save_scenario", "scenario", slug)
    assert audit["after"]["overrides"] == {"weights.english_learner": 0.35}
    # another role opens the share link
    sign_in(client, demo("principal"))
    got = client.get(f"/api/scenarios/{slug}").json()
    assert got["scenario"]["name"] == "EL weight 0.35" and got["scenario"]["created_by"].startswith("Dana Budget")
    assert got["result"] == {
        **sim.preview("demo-district", body["overrides"]).model_dump(),
        "engine_ms": got["result"]["engine_ms"],
        "elapsed_ms": got["result"]["elapsed_ms"],
    }
    assert client.get("/api/scenarios").json() == []  # the principal saved none
    page = client.get(f"/simulator/s/{slug}")
    assert page.status_code == 200 and "EL weight 0.35" in page.text and '"weights.english_learner": 0.35' in page.text
    # a partner viewer does not use the simulator
    sign_in(client, demo("partner"))
    problem(client.get(f"/api/scenarios/{slug}"), 403, "forbidden")
    assert client.get(f"/simulator/s/{slug}").status_code == 403
    problem(client.get("/api/scenarios/unknownslug"), 403, "forbidden")
    sign_in(client, demo("council"))
    problem(client.get("/api/scenarios/unknownslug"), 404, "not_found")


def test_saving_needs_the_csrf_token_a_name_and_a_valid_scenario(client: TestClient) -> None:
    headers = sign_in(client, demo("superintendent"))
    body = {"name": "no token", "model": "aid-transition", "overrides": {}}
    problem(client.post("/api/scenarios", json=body), 403, "csrf")
    problem(client.post("/api/scenarios", json=body, headers={"X-CSRF-Token": "forged"}), 403, "csrf")
    problem(client.post(PREVIEW, json={"model": "aid-transition"}), 403, "csrf")
    problem(client.post("/api/scenarios", json={**body, "name": "a\x00b"}, headers=headers), 422, "invalid_value")
    problem(client.post("/api/scenarios", json={**body, "name": "   "}, headers=headers), 422, "invalid_value")
    bad = {**body, "overrides": {"stop_loss": 3}}
    problem(client.post("/api/scenarios", json=bad, headers=headers), 422, "above_maximum")
    assert client.get("/api/scenarios").json() == []
    client.post("/api/logout", headers=headers)
    problem(client.post("/api/scenarios", json=body, headers=headers), 401, "not_signed_in")


def test_only_the_author_renames_or_deletes_a_scenario(client: TestClient) -> None:
    headers = sign_in(client, demo("budget"))
    slug = _save(client, headers, "draft idea", "demo-district", {"weights.english_learner": 0.4})
    r = client.patch(f"/api/scenarios/{slug}", json={"name": "  EL weight 0.4  "}, headers=headers)
    assert r.status_code == 200 and r.json()["name"] == "EL weight 0.4" and r.json()["url"] == f"/simulator/s/{slug}"
    problem(client.patch(f"/api/scenarios/{slug}", json={"name": " "}, headers=headers), 422, "invalid_value")
    problem(client.patch(f"/api/scenarios/{slug}", json={"name": "x"}), 403, "csrf")
    entry = client.get("/api/audit").json()[0]
    assert (entry["action"], entry["before"], entry["after"]) == (
        "rename_scenario",
        {"name": "draft idea"},
        {"name": "EL weight 0.4"},
    )
    # another simulator user may open the link but not change it; a partner viewer may do neither
    other = sign_in(client, demo("state"))
    assert client.get(f"/api/scenarios/{slug}").status_code == 200
    problem(client.patch(f"/api/scenarios/{slug}", json={"name": "mine now"}, headers=other), 403, "forbidden")
    problem(client.delete(f"/api/scenarios/{slug}", headers=other), 403, "forbidden")
    problem(client.delete("/api/scenarios/nosuchslug", headers=other), 404, "not_found")
    partner = sign_in(client, demo("partner"))
    problem(client.delete(f"/api/scenarios/{slug}", headers=partner), 403, "forbidden")
    # the author deletes it: the link answers 404, the audit log keeps what it was
    headers = sign_in(client, demo("budget"))
    assert client.delete(f"/api/scenarios/{slug}", headers=headers).status_code == 204
    problem(client.get(f"/api/scenarios/{slug}"), 404, "not_found")
    assert client.get("/api/scenarios").json() == []
    entry = client.get("/api/audit").json()[0]
    assert (entry["action"], entry["entity_id"], entry["after"]) == ("delete_scenario", slug, None)
    assert entry["before"] == {
        "name": "EL weight 0.4",
        "model": "demo-district",
        "overrides": {"weights.english_learner": 0.4},
    }
    problem(client.delete(f"/api/scenarios/{slug}", headers=headers), 404, "not_found")


def _save(client: TestClient, headers: dict[str, str], name: str, model: str, overrides: dict[str, float]) -> str:
    r = client.post("/api/scenarios", json={"name": name, "model": model, "overrides": overrides}, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["slug"])


def test_compare_saved_scenarios(client: TestClient) -> None:
    headers = sign_in(client, demo("state"))
    a = _save(client, headers, "as enacted", "synthetic-state", {})
    b = _save(client, headers, "higher foundation", "synthetic-state", {"foundation": 12500})
    c = _save(client, headers, "both", "synthetic-state", {"foundation": 12500, "phase_in_share": 0.5})
    other = _save(client, headers, "a district", "aid-transition", {})
    r = client.get("/api/scenarios/compare", params=[("s", a), ("s", b), ("s", c)])
    assert r.status_code == 200, r.text
    cmp = r.json()
    runs = [
        sim.preview("synthetic-state", o)
        for o in ({}, {"foundation": 12500}, {"foundation": 12500, "phase_in_share": 0.5})
    ]
    assert cmp["totals"] == [x.summary.total_cents for x in runs]
    assert cmp["total_deltas"] == [t - cmp["totals"][0] for t in cmp["totals"]]
    for k, e in enumerate(cmp["entities"][:50]):
        assert e["totals"] == [x.entities[k].total_cents for x in runs]
        assert e["deltas"] == [t - e["totals"][0] for t in e["totals"]]
    assert [p["id"] for p in cmp["parameters"]] == ["foundation", "phase_in_share"]
    assert cmp["parameters"][0]["values"] == [11525, 12500, 12500]
    assert cmp["gain"][0] == cmp["lose"][0] == 0 and cmp["gain"][1] + cmp["lose"][1] + cmp["same"][1] >= 300
    for comp in cmp["components"]:
        assert comp["deltas"][0] == 0
    assert sum(comp["amounts"][2] for comp in cmp["components"]) == cmp["totals"][2]
    page = client.get("/simulator/compare", params=[("s", a), ("s", c)])
    assert page.status_code == 200 and "higher foundation" not in page.text and "both" in page.text
    problem(client.get("/api/scenarios/compare", params=[("s", a), ("s", other)]), 422, "invalid_value")
    problem(client.get("/api/scenarios/compare", params=[("s", a), ("s", "missing")]), 404, "not_found")
    problem(client.get("/api/scenarios/compare", params=[("s", a)]), 422, "invalid_value")


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def test_exports_match_the_preview(client: TestClient) -> None:
    headers = sign_in(client, demo("budget"))
    overrides = {"weights.poverty_tier3": 0.3, "supplements.magnet_per_pupil": 650}
    slug = _save(client, headers, "poverty", "demo-district", overrides)
    out = sim.preview("demo-district", overrides)
    r = client.get(f"/api/scenarios/{slug}/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="demo-district-{slug}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["entity_id"] for row in rows] == [e.id for e in out.entities]
    assert [_cents(row["total"]) for row in rows] == [e.total_cents for e in out.entities]
    ids = [c.id for c in out.summary.components]
    assert [[_cents(row[c]) for c in ids] for row in rows] == [e.lines for e in out.entities]
    r = client.get(f"/api/scenarios/{slug}/export.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].endswith("spreadsheetml.sheet")
    assert r.headers["content-disposition"].endswith(f'{slug}.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)["Budgets"]
    table = list(sheet.iter_rows(values_only=True))
    col = table[0].index("Total")
    assert [round(float(row[col]) * 100) for row in table[1:]] == [e.total_cents for e in out.entities]
    problem(client.get("/api/scenarios/nope/export.csv"), 404, "not_found")


def test_simulator_pages(client: TestClient) -> None:
    r = client.get("/simulator", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    headers = sign_in(client, demo("principal2"))
    page = client.get("/simulator").text
    assert '<script src="/static/simulator.js"></script>' in page and '<meta name="csrf-token"' in page
    assert page.count('type="range"') == len([p for p in sim.model("demo-district").info.parameters if p.adjustable])
    assert 'for="p-weights-english_learner"' in page and 'id="p-weights-english_learner"' in page
    assert "Board Policy 3110" in page and "solved" in page
    state = client.get("/simulator", params={"model": "synthetic-state"}).text
    assert 'value="synthetic-state" selected' in state and "Synthetic: every figure is made up." in state
    assert client.get("/simulator", params={"model": "nope"}).status_code == 422
    assert client.get("/simulator/s/nothing-here").status_code == 404
    assert client.get("/simulator/compare").status_code == 422
    # names are text, never markup
    slug = _save(client, headers, "<script>alert(1)</script>", "aid-transition", {})
    shared = client.get(f"/simulator/s/{slug}").text
    assert "<script>alert(1)</script>" not in shared and "&lt;script&gt;alert(1)&lt;/script&gt;" in shared
    sign_in(client, demo("partner"))
    assert client.get("/simulator").status_code == 403


def test_the_openapi_schema_documents_the_simulator(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in (
        "/api/scenarios/models",
        "/api/scenarios/preview",
        "/api/scenarios",
        "/api/scenarios/compare",
        "/api/scenarios/{slug}",
        "/api/scenarios/{slug}/export.csv",
        "/api/scenarios/{slug}/export.xlsx",
    ):
        assert path in spec["paths"], path
    assert "text/csv" in spec["paths"]["/api/scenarios/{slug}/export.csv"]["get"]["responses"]["200"]["content"]
    schemas = spec["components"]["schemas"]
    assert {"PreviewIn", "PreviewOut", "ScenarioIn", "ScenarioOut", "CompareOut", "ModelOut"} <= set(schemas)
    assert not any(p.startswith("/simulator") for p in spec["paths"])


def test_current_funding_column_is_read_as_dollars() -> None:
    m = sim.model("synthetic-state")
    dollars = np.asarray(m.table.columns["aid_last_year"])
    assert (m.current == np.round(dollars * 100)).all()

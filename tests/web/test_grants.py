"""Grant plans and draw-downs (flow 4), on SQLite and PostgreSQL: the plan's life between the district
and the state, tolerances, backup, carry-forward, optimistic locking, the audit trail and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fairshare.web.auth import hash_password
from fairshare.web.models import AuditEntry, District, Drawdown, GrantLine, GrantPlan, School, User
from fairshare.web.seed import DEMO_PASSWORD
from web_helpers import demo, sign_in

OTHER = "other-budget@other.fairshare.test"


def error(r: Any, status: int, code: str) -> dict[str, Any]:
    """The one JSON error shape, with this status and code."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message", "problems"}
    assert body["error"]["status"] == status and body["error"]["code"] == code and body["error"]["message"]
    return dict(body["error"])


def as_(c: TestClient, who: str) -> dict[str, str]:
    return sign_in(c, OTHER if who == "other" else demo(who))


def demo_plan(c: TestClient) -> dict[str, Any]:
    """The demo district's plan, as its budget officer sees it (signs the client in as them)."""
    as_(c, "budget")
    plans = c.get("/api/grants/plans").json()
    assert len(plans) >= 1
    first = min(plans, key=lambda p: p["fiscal_year"])
    return dict(c.get(f"/api/grants/plans/{first['id']}").json())


def edit_body(plan: dict[str, Any], **change: Any) -> dict[str, Any]:
    keys = ("id", "school_id", "object_code", "role", "fte", "amount_cents")
    body = {
        "version": plan["version"],
        "award_cents": plan["award_cents"],
        "strategies": plan["strategies"],
        "goals": plan["goals"],
        "lines": [{k: ln[k] for k in keys} for ln in plan["lines"]],
    }
    return body | change


def approve_demo(c: TestClient) -> dict[str, Any]:
    """Submit the demo plan and have the state approve it; the client ends signed in as the budget officer."""
    plan = demo_plan(c)
    h = as_(c, "budget")
    r = c.post(f"/api/grants/plans/{plan['id']}/submit", json={"version": plan["version"]}, headers=h)
    assert r.status_code == 200, r.text
    h = as_(c, "state")
    r = c.post(f"/api/grants/plans/{plan['id']}/approve", json={"version": r.json()["version"]}, headers=h)
    assert r.status_code == 200, r.text
    as_(c, "budget")
    return dict(r.json())


def line(plan: dict[str, Any], object_code: str) -> dict[str, Any]:
    return dict(next(ln for ln in plan["lines"] if ln["object_code"] == object_code))


def draw(c: TestClient, h: dict[str, str], line_id: int, cents: int, backup: str = "Invoice 17", **kw: Any) -> Any:
    return c.post(
        f"/api/grants/lines/{line_id}/drawdowns", json={"amount_cents": cents, "backup": backup} | kw, headers=h
    )


def db(c: TestClient) -> Any:
    return c.app.state.db  # type: ignore[attr-defined]


def test_the_demo_district_starts_with_one_draft_plan(client: TestClient) -> None:
    as_(client, "state")
    seeded = client.get("/api/grants/plans").json()
    assert [(p["district_id"], p["status"]) for p in seeded] == [("DEMO", "draft")]
    plan = demo_plan(client)
    assert plan["status"] == "draft" and plan["fiscal_year"] == 2027 and plan["fiscal_year_start"] == "2026-07-01"
    assert plan["label"] == "FY 2027 (2026-27)" and plan["award_cents"] == 15_000_000
    assert len(plan["strategies"]) == 2 and len(plan["goals"]) == 2 and len(plan["lines"]) == 6
    assert plan["totals"] == {
        "award_cents": 15_000_000,
        "budgeted_cents": 14_480_000,
        "unbudgeted_cents": 520_000,
        "carried_cents": 0,
        "drawn_cents": 0,
        "available_cents": 15_000_000,
    }
    assert plan["actions"] == ["edit", "submit"]
    assert [p["id"] for p in client.get("/api/grants/plans").json()] == [seeded[0]["id"]] == [plan["id"]]


def test_district_submits_state_requests_changes_district_resubmits_state_approves(client: TestClient) -> None:
    plan = demo_plan(client)
    h = as_(client, "budget")
    new_line = {
        "school_id": "S002",
        "object_code": "610",
        "role": "Mathematics manipulatives",
        "fte": 0,
        "amount_cents": 500_000,
    }
    body = edit_body(plan)
    body["lines"].append(new_line)
    r = client.put(f"/api/grants/plans/{plan['id']}", json=body, headers=h)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["version"] == 2 and plan["totals"]["budgeted_cents"] == 14_980_000
    assert line(plan, "610")["tolerance_pct"] == 110
    r = client.post(f"/api/grants/plans/{plan['id']}/submit", json={"version": 2}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["actions"] == []
    error(client.put(f"/api/grants/plans/{plan['id']}", json=edit_body(r.json()), headers=h), 409, "grant_status")

    h = as_(client, "state")
    plan = client.get(f"/api/grants/plans/{plan['id']}").json()
    assert plan["actions"] == ["request_changes", "approve"]
    url = f"/api/grants/plans/{plan['id']}"
    error(
        client.post(f"{url}/request-changes", json={"version": 3, "comment": "  "}, headers=h), 422, "comment_required"
    )
    comment = "Goal 2 needs a baseline from last spring's assessment."
    r = client.post(f"{url}/request-changes", json={"version": 3, "comment": comment}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "changes_requested" and r.json()["comment"] == comment

    h = as_(client, "budget")
    plan = client.get(url).json()
    assert plan["actions"] == ["edit", "submit"] and plan["comment"] == comment
    plan["goals"][1]["baseline"] = 29.5
    r = client.put(url, json=edit_body(plan), headers=h)
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["goals"][1]["baseline"] == 29.5
    r = client.post(f"{url}/submit", json={"version": r.json()["version"]}, headers=h)
    assert r.json()["status"] == "submitted"

    h = as_(client, "state")
    r = client.post(f"{url}/approve", json={"version": r.json()["version"], "comment": "Approved."}, headers=h)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["status"] == "approved" and plan["approved_at"] and plan["actions"] == []
    assert {ln["object_code"]: ln["tolerance_pct"] for ln in plan["lines"]} == {
        "110": 100,
        "200": 100,
        "320": 105,
        "610": 110,
    }
    error(client.post(f"{url}/approve", json={"version": plan["version"]}, headers=h), 409, "grant_status")
    as_(client, "budget")
    assert client.get(url).json()["actions"] == ["draw", "carry_forward"]


def test_no_draw_down_before_approval(client: TestClient) -> None:
    plan = demo_plan(client)
    h = as_(client, "budget")
    lid = plan["lines"][0]["id"]
    e = error(draw(client, h, lid, 100), 409, "drawdown_before_approval")
    assert "draft" in e["message"]
    client.post(f"/api/grants/plans/{plan['id']}/submit", json={"version": plan["version"]}, headers=h)
    error(draw(client, h, lid, 100), 409, "drawdown_before_approval")
    with db(client).session() as s:
        assert s.scalar(select(func.count()).select_from(Drawdown)) == 0
        assert s.scalar(select(func.sum(GrantLine.drawn_cents))) == 0


def test_draw_downs_fit_the_line_times_its_tolerance_to_the_cent(client: TestClient) -> None:
    plan = approve_demo(client)
    h = as_(client, "budget")
    supplies, salaries, services = line(plan, "610"), line(plan, "110"), line(plan, "320")
    # supplies: 110 % of $8,000.00 = $8,800.00
    r = draw(client, h, supplies["id"], 880_000)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["line"]["drawn_cents"] == 880_000 and got["line"]["available_cents"] == 0
    assert got["line"]["school_name"] and got["drawdown"]["backup"] == "Invoice 17"
    e = error(draw(client, h, supplies["id"], 1), 409, "drawdown_exceeds_line")
    assert "$8,800.00 (110% of $8,000.00)" in e["message"] and e["problems"][0]["rule"]
    # salaries: 100 %
    assert draw(client, h, salaries["id"], 6_200_001).status_code == 409
    assert draw(client, h, salaries["id"], 6_200_000).status_code == 201
    # purchased services: 105 % of $12,000.00 = $12,600.00
    assert draw(client, h, services["id"], 1_260_001).status_code == 409
    assert draw(client, h, services["id"], 1_260_000).status_code == 201
    balances = client.get(f"/api/grants/plans/{plan['id']}/balances").json()
    by_code = {ln["object_code"]: ln for ln in balances["lines"] if ln["school_id"] in ("S001", None)}
    assert by_code["610"]["drawn_cents"] == 880_000 and by_code["320"]["ceiling_cents"] == 1_260_000
    assert balances["totals"]["drawn_cents"] == 880_000 + 6_200_000 + 1_260_000
    assert balances["totals"]["available_cents"] == 15_000_000 - balances["totals"]["drawn_cents"]
    assert all(ln["available_cents"] >= 0 for ln in balances["lines"])


def test_all_draws_stay_within_the_award(client: TestClient) -> None:
    as_(client, "budget")
    h = as_(client, "budget")
    r = client.post("/api/grants/plans", json={"fiscal_year": 2031, "award_cents": 1_000_000}, headers=h)
    assert r.status_code == 201, r.text
    plan = r.json()
    body = edit_body(
        plan,
        strategies=[{"title": "Books"}],
        goals=[{"indicator": "Pupils reading daily", "baseline": 40, "target": 60, "year": 2031}],
        lines=[
            {"school_id": "S001", "object_code": "110", "role": "Tutor", "fte": 0.1, "amount_cents": 500_000},
            {"school_id": "S001", "object_code": "610", "role": "Books", "amount_cents": 500_000},
        ],
    )
    plan = client.put(f"/api/grants/plans/{plan['id']}", json=body, headers=h).json()
    client.post(f"/api/grants/plans/{plan['id']}/submit", json={"version": plan["version"]}, headers=h)
    hs = as_(client, "state")
    plan = client.post(f"/api/grants/plans/{plan['id']}/approve", json={"version": 3}, headers=hs).json()
    h = as_(client, "budget")
    assert draw(client, h, line(plan, "110")["id"], 500_000).status_code == 201
    assert draw(client, h, line(plan, "610")["id"], 500_000).status_code == 201
    # the supplies line could take $500.00 more (110 %), but the award is spent
    e = error(draw(client, h, line(plan, "610")["id"], 1), 409, "drawdown_exceeds_award")
    assert "$0.00 is left" in e["message"]


def test_backup_is_required_and_items_must_add_up(client: TestClient) -> None:
    plan = approve_demo(client)
    h = as_(client, "budget")
    lid = line(plan, "610")["id"]
    error(draw(client, h, lid, 10_000, backup="   "), 422, "drawdown_backup")
    items = [
        {"description": "Readers, grade 1", "amount_cents": 6_000},
        {"description": "Readers, grade 2", "amount_cents": 3_999},
    ]
    e = error(draw(client, h, lid, 10_000, backup="Invoice 4411", items=items), 422, "drawdown_backup")
    assert "$99.99" in e["message"] and "$0.01" in e["message"]
    items[1]["amount_cents"] = 4_000
    r = draw(client, h, lid, 10_000, backup="Invoice 4411", items=items)
    assert r.status_code == 201 and r.json()["drawdown"]["items"] == items
    listed = client.get(f"/api/grants/lines/{lid}/drawdowns").json()
    assert [(d["amount_cents"], d["backup"], d["items"]) for d in listed] == [(10_000, "Invoice 4411", items)]
    error(draw(client, h, lid, 10_000, backup="x", extra=1), 422, "invalid_value")  # unknown keys are refused


def test_stale_version_is_refused_and_nothing_is_overwritten(client: TestClient) -> None:
    plan = demo_plan(client)
    h = as_(client, "budget")
    url = f"/api/grants/plans/{plan['id']}"
    first = edit_body(plan, award_cents=15_100_000)
    second = edit_body(plan, award_cents=14_900_000)  # loaded at the same version
    assert client.put(url, json=first, headers=h).status_code == 200
    e = error(client.put(url, json=second, headers=h), 409, "stale_version")
    assert "version 2" in e["message"] and "yours is 1" in e["message"]
    error(client.post(f"{url}/submit", json={"version": 1}, headers=h), 409, "stale_version")
    assert client.get(url).json()["award_cents"] == 15_100_000


def test_edits_are_checked_and_every_problem_is_reported(client: TestClient) -> None:
    plan = demo_plan(client)
    h = as_(client, "budget")
    body = edit_body(plan)
    body["lines"][0]["school_id"] = "S999"
    body["lines"][1]["object_code"] = "950"
    body["lines"][2]["id"] = 99_999
    body["goals"][0]["year"] = 2040
    e = error(client.put(f"/api/grants/plans/{plan['id']}", json=body, headers=h), 422, "not_allowed")
    got = {(p["code"], p["column"]) for p in e["problems"]}
    assert got == {
        ("not_allowed", "lines.0.school_id"),
        ("not_allowed", "lines.1.object_code"),
        ("unknown_entity", "lines.2.id"),
        ("above_maximum", "goals.0.year"),
    }
    bad = edit_body(plan, award_cents=-1)
    bad["lines"][0]["amount_cents"] = 1.5
    e = error(client.put(f"/api/grants/plans/{plan['id']}", json=bad, headers=h), 422, "invalid_value")
    assert len(e["problems"]) == 2
    assert client.get(f"/api/grants/plans/{plan['id']}").json()["version"] == plan["version"]


def test_submit_needs_a_complete_plan_within_the_award(client: TestClient) -> None:
    h = as_(client, "budget")
    plan = client.post("/api/grants/plans", json={"fiscal_year": 2030, "award_cents": 0}, headers=h).json()
    error(
        client.post("/api/grants/plans", json={"fiscal_year": 2030, "award_cents": 5}, headers=h), 409, "grant_exists"
    )
    e = error(
        client.post(f"/api/grants/plans/{plan['id']}/submit", json={"version": 1}, headers=h), 409, "grant_incomplete"
    )
    assert {p["column"] for p in e["problems"]} == {"award_cents", "strategies", "goals", "lines"}
    body = edit_body(
        plan,
        award_cents=100_000,
        strategies=[{"title": "Tutoring"}],
        goals=[{"indicator": "Attendance", "unit": "percent", "baseline": 91, "target": 94, "year": 2031}],
        lines=[{"object_code": "110", "role": "Tutors", "fte": 0.5, "amount_cents": 100_001}],
    )
    plan = client.put(f"/api/grants/plans/{plan['id']}", json=body, headers=h).json()  # a draft may be over
    e = error(
        client.post(f"/api/grants/plans/{plan['id']}/submit", json={"version": 2}, headers=h), 409, "grant_over_award"
    )
    assert "$0.01 more than the award of $1,000.00" in e["message"]


def test_carry_forward_moves_unspent_own_money_once_and_carried_money_expires(client: TestClient) -> None:
    plan = approve_demo(client)
    h = as_(client, "budget")
    salaries, supplies = line(plan, "110"), line(plan, "610")  # both S001
    assert draw(client, h, salaries["id"], 6_000_000).status_code == 201  # $2,000.00 unspent
    assert draw(client, h, supplies["id"], 880_000).status_code == 201  # over its amount: nothing unspent
    url = f"/api/grants/plans/{plan['id']}"
    version = client.get(url).json()["version"]
    r = client.post(f"{url}/carry-forward", json={"version": version}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    unspent = {"110": 200_000, "200": 1_860_000, "320": 1_200_000}  # S001 salaries, benefits, PD
    unspent_s002 = 3_400_000 + 1_020_000
    assert out["carried_cents"] == sum(unspent.values()) + unspent_s002
    assert len(out["lines"]) == 5  # not the supplies line
    closed = client.get(url).json()
    assert closed["status"] == "closed" and closed["actions"] == []
    error(client.post(f"{url}/carry-forward", json={"version": closed["version"]}, headers=h), 409, "grant_status")
    error(draw(client, h, salaries["id"], 1), 409, "grant_status")

    nxt = client.get(f"/api/grants/plans/{out['to_plan_id']}").json()
    assert nxt["fiscal_year"] == 2028 and nxt["status"] == "draft" and nxt["award_cents"] == 0
    carried = {(ln["school_id"], ln["object_code"]): ln["carried_cents"] for ln in nxt["lines"]}
    assert carried[("S001", "110")] == 200_000 and sum(carried.values()) == out["carried_cents"]
    assert all(ln["amount_cents"] == 0 for ln in nxt["lines"])
    # a carried line may not be removed
    body = edit_body(nxt, lines=edit_body(nxt)["lines"][1:])
    error(client.put(f"/api/grants/plans/{nxt['id']}", json=body, headers=h), 422, "grant_line_carried")
    # the next year: its own award and lines; the salaries line gets $10,000.00 of its own
    body = edit_body(
        nxt,
        award_cents=2_000_000,
        strategies=[{"title": "Keep the interventionist"}],
        goals=[{"indicator": "Reading", "baseline": 50, "target": 55, "year": 2028}],
    )
    for ln in body["lines"]:
        if (ln["school_id"], ln["object_code"]) == ("S001", "110"):
            ln["amount_cents"] = 1_000_000
    nxt = client.put(f"/api/grants/plans/{nxt['id']}", json=body, headers=h).json()
    error(draw(client, h, line(nxt, "110")["id"], 1), 409, "drawdown_before_approval")  # carried money waits too
    client.post(f"/api/grants/plans/{nxt['id']}/submit", json={"version": nxt["version"]}, headers=h)
    hs = as_(client, "state")
    nxt = client.post(f"/api/grants/plans/{nxt['id']}/approve", json={"version": nxt["version"] + 1}, headers=hs).json()
    h = as_(client, "budget")
    sal = next(ln for ln in nxt["lines"] if (ln["school_id"], ln["object_code"]) == ("S001", "110"))
    assert sal["ceiling_cents"] == 1_000_000 + 200_000
    # $500.00 drawn: carried money first, so $1,500.00 of the carried $2,000.00 expires unused
    assert draw(client, h, sal["id"], 50_000).status_code == 201
    r = client.post(f"/api/grants/plans/{nxt['id']}/carry-forward", json={"version": nxt["version"]}, headers=h)
    out2 = r.json()
    moved = {x["from_line_id"]: x["amount_cents"] for x in out2["lines"]}
    assert moved == {sal["id"]: 1_000_000}  # only its own amount; no line's carried money moves again
    fy29 = client.get(f"/api/grants/plans/{out2['to_plan_id']}").json()
    assert fy29["fiscal_year"] == 2029 and fy29["totals"]["carried_cents"] == 1_000_000


def test_carry_forward_into_an_existing_plan_adds_to_its_line_and_bumps_its_version(client: TestClient) -> None:
    plan = approve_demo(client)
    h = as_(client, "budget")
    nxt = client.post("/api/grants/plans", json={"fiscal_year": 2028, "award_cents": 100_000}, headers=h).json()
    body = edit_body(
        nxt,
        lines=[
            {
                "school_id": "S001",
                "object_code": "610",
                "role": "Levelled readers and intervention materials",
                "amount_cents": 50_000,
            }
        ],
    )
    nxt = client.put(f"/api/grants/plans/{nxt['id']}", json=body, headers=h).json()
    version = client.get(f"/api/grants/plans/{plan['id']}").json()["version"]
    out = client.post(f"/api/grants/plans/{plan['id']}/carry-forward", json={"version": version}, headers=h).json()
    assert out["to_plan_id"] == nxt["id"]
    after = client.get(f"/api/grants/plans/{nxt['id']}").json()
    assert after["version"] == nxt["version"] + 1
    supplies = line(after, "610")
    assert supplies["id"] == nxt["lines"][0]["id"] and supplies["carried_cents"] == 800_000
    assert supplies["amount_cents"] == 50_000 and len(after["lines"]) == 6
    error(client.put(f"/api/grants/plans/{nxt['id']}", json=edit_body(nxt), headers=h), 409, "stale_version")
    with db(client).session() as s:
        audit = {r.action: r for r in s.scalars(select(AuditEntry).where(AuditEntry.action.like("grant_carry%")))}
    closed = audit["grant_carry_forward"]
    assert closed.before["status"] == "approved" and closed.after["status"] == "closed"
    assert len(closed.after["lines"]) == 6 and closed.after["carry_forward"]["carried_cents"] == out["carried_cents"]
    carried_in = audit["grant_carry_in"]
    assert carried_in.entity_id == str(nxt["id"]) and carried_in.before["lines"][0]["carried_cents"] == 0
    assert carried_in.after["lines"][0]["carried_cents"] == 800_000


def test_every_change_is_audited_with_before_and_after(client: TestClient) -> None:
    plan = approve_demo(client)
    h = as_(client, "budget")
    lid = line(plan, "610")["id"]
    assert draw(client, h, lid, 12_345).status_code == 201
    with db(client).session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("grant_%")).order_by(AuditEntry.id)).all()
        got = [(r.action, r.actor) for r in rows]
        entries = {r.action: r for r in rows}
    assert got == [
        ("grant_seed_demo", "system"),
        ("grant_submit", demo("budget")),
        ("grant_approve", demo("state")),
        ("grant_drawdown", demo("budget")),
    ]
    assert (
        entries["grant_submit"].before["status"] == "draft" and entries["grant_submit"].after["status"] == "submitted"
    )
    assert entries["grant_approve"].after["lines"][5]["tolerance_pct"] == 110
    d = entries["grant_drawdown"]
    assert d.entity_id == str(lid) and d.before["drawn_cents"] == 0 and d.after["drawn_cents"] == 12_345
    assert d.after["available_cents"] == 880_000 - 12_345


# who may do what ----------------------------------------------------------------------------------

WHO = ["budget", "state", "superintendent", "principal", "council", "partner", "other"]
NONE = {"principal": 403, "council": 403, "partner": 403}
READ = {"budget": 200, "state": 200, "superintendent": 200, "other": 404} | NONE
#: action -> expected status per role ("other" is another district's budget officer)
MATRIX: dict[str, dict[str, int]] = {
    "list": READ | {"other": 200},
    "tolerances": READ | {"other": 200},
    "page_list": READ | {"other": 200},
    "get": READ,
    "balances": READ,
    "drawdowns": READ,
    "page_plan": READ,
    "create": {"budget": 201, "state": 403, "superintendent": 403, "other": 201} | NONE,
    "edit": {"budget": 200, "state": 403, "superintendent": 403, "other": 404} | NONE,
    "submit": {"budget": 200, "state": 403, "superintendent": 403, "other": 404} | NONE,
    "request_changes": {"budget": 403, "state": 200, "superintendent": 403, "other": 404} | NONE,
    "approve": {"budget": 403, "state": 200, "superintendent": 403, "other": 404} | NONE,
    "draw": {"budget": 201, "state": 403, "superintendent": 403, "other": 404} | NONE,
    "carry_forward": {"budget": 200, "state": 403, "superintendent": 403, "other": 404} | NONE,
}


def _other_district(c: TestClient) -> None:
    with db(c).session() as s:
        s.add(District(id="OTHER", name="Other district (synthetic)"))
        s.flush()
        s.add(School(id="X001", district_id="OTHER", name="Other school"))
        s.add(
            User(
                email=OTHER,
                name="Olu Other",
                password_hash=hash_password(DEMO_PASSWORD),
                role="district_budget_officer",
                district_id="OTHER",
            )
        )


def _plans(c: TestClient) -> dict[str, int]:
    """A approved (FY 2027), B and D submitted (FY 2028, 2030), C a draft (FY 2029)."""
    a = approve_demo(c)
    h = as_(c, "budget")
    ids = {"A": a["id"], "line": a["lines"][0]["id"]}
    for name, fy in (("B", 2028), ("C", 2029), ("D", 2030)):
        p = c.post("/api/grants/plans", json={"fiscal_year": fy, "award_cents": 1_000}, headers=h).json()
        body = edit_body(
            p,
            strategies=[{"title": "S"}],
            goals=[{"indicator": "G", "baseline": 1, "target": 2, "year": fy}],
            lines=[{"object_code": "610", "amount_cents": 1_000}],
        )
        p = c.put(f"/api/grants/plans/{p['id']}", json=body, headers=h).json()
        if name != "C":
            assert c.post(f"/api/grants/plans/{p['id']}/submit", json={"version": 2}, headers=h).status_code == 200
        ids[name] = p["id"]
    return ids


def _version(c: TestClient, plan_id: int) -> int:
    with db(c).session() as s:
        plan = s.get(GrantPlan, plan_id)
        assert plan is not None
        return plan.version


def _call(c: TestClient, h: dict[str, str], action: str, ids: dict[str, int]) -> Any:
    p = "/api/grants/plans"
    review = {"comment": "Please add a baseline."}
    calls: dict[str, Any] = {
        "list": lambda: c.get(p),
        "tolerances": lambda: c.get("/api/grants/tolerances"),
        "page_list": lambda: c.get("/grants", follow_redirects=False),
        "get": lambda: c.get(f"{p}/{ids['A']}"),
        "balances": lambda: c.get(f"{p}/{ids['A']}/balances"),
        "drawdowns": lambda: c.get(f"/api/grants/lines/{ids['line']}/drawdowns"),
        "page_plan": lambda: c.get(f"/grants/{ids['A']}", follow_redirects=False),
        "create": lambda: c.post(p, json={"fiscal_year": 2035, "award_cents": 100}, headers=h),
        "edit": lambda: c.put(
            f"{p}/{ids['C']}",
            json={
                "version": _version(c, ids["C"]),
                "award_cents": 2_000,
                "strategies": [{"title": "S"}],
                "goals": [{"indicator": "G", "baseline": 1, "target": 2, "year": 2029}],
                "lines": [{"object_code": "610", "amount_cents": 2_000}],
            },
            headers=h,
        ),
        "submit": lambda: c.post(f"{p}/{ids['C']}/submit", json={"version": _version(c, ids["C"])}, headers=h),
        "request_changes": lambda: c.post(
            f"{p}/{ids['B']}/request-changes", json={"version": _version(c, ids["B"])} | review, headers=h
        ),
        "approve": lambda: c.post(f"{p}/{ids['D']}/approve", json={"version": _version(c, ids["D"])}, headers=h),
        "draw": lambda: draw(c, h, ids["line"], 100),
        "carry_forward": lambda: c.post(
            f"{p}/{ids['A']}/carry-forward", json={"version": _version(c, ids["A"])}, headers=h
        ),
    }
    return calls[action]()


@pytest.mark.parametrize("who", WHO)
def test_who_may_do_what(client: TestClient, who: str) -> None:
    _other_district(client)
    ids = _plans(client)
    h = as_(client, who)
    got: dict[str, int] = {}
    for action in MATRIX:
        r = _call(client, h, action, ids)
        got[action] = r.status_code
        if r.status_code >= 400 and not action.startswith("page"):
            error(r, r.status_code, {403: "forbidden", 404: "not_found"}.get(r.status_code, "?"))
    assert got == {action: expected[who] for action, expected in MATRIX.items()}
    if who == "other":
        assert [p["district_id"] for p in client.get("/api/grants/plans").json()] == ["OTHER"]


def test_pages_signed_out_and_for_roles_without_grants(client: TestClient) -> None:
    r = client.get("/grants", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    as_(client, "principal")
    r = client.get("/grants")
    assert r.status_code == 403 and "may not see grant plans" in r.text
    plan = demo_plan(client)
    page = client.get(f"/grants/{plan['id']}").text
    assert "FY 2027 (2026-27) grant plan" in page and "Reading interventionist" in page and "$62,000.00" in page
    assert 'id="editor"' in page and 'id="drawdown"' not in page and 'src="/static/grants.js"' in page
    assert "Grant plans" in client.get("/grants").text
    assert client.get("/grants/999999").status_code == 404

"""The principal budget builder (issue 8, flow 2) through the API and pages, on SQLite and PostgreSQL:
who may do what, the engine's trade rules, the balanced budget, optimistic locking, the audit log, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from fairshare.programs import starter_budget
from fairshare.web import workflow
from fairshare.web.demo_engine import demo_engine
from fairshare.web.models import SchoolBudget
from plan_helpers import WHO, act, add_account, audit_entries, error

API = "/api/budgets"
TRADE = {"role": "assistant_principal", "fte": -1.0, "note": "share an AP with the feeder school"}


def _submitted(c: TestClient, trades: list[dict[str, Any]] | None = None) -> int:
    """S001's budget, submitted by its principal; its version."""
    h = act(c, "principal")
    version = c.get(f"{API}/S001").json()["version"]
    if trades:
        r = c.put(f"{API}/S001/trades", json={"version": version, "trades": trades}, headers=h)
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    r = c.post(f"{API}/S001/submit", json={"version": version}, headers=h)
    assert r.status_code == 200, r.text
    return int(r.json()["version"])


# ------------------------------------------------------------------------------------------ who may do what

#: action -> demo account -> the status it gets on S001's budget (principal2 is the principal of S002)
MATRIX: dict[str, dict[str, int]] = {
    "view": {"principal": 200, "principal2": 404, "council": 403, "superintendent": 200, "budget": 200,
             "state": 200, "partner": 403},
    "edit": {"principal": 200, "principal2": 404, "council": 403, "superintendent": 403, "budget": 403,
             "state": 403, "partner": 403},
    "submit": {"principal": 200, "principal2": 404, "council": 403, "superintendent": 403, "budget": 403,
               "state": 403, "partner": 403},
    "approve": {"principal": 403, "principal2": 403, "council": 403, "superintendent": 403, "budget": 200,
                "state": 403, "partner": 403},
    "return": {"principal": 403, "principal2": 403, "council": 403, "superintendent": 403, "budget": 200,
               "state": 403, "partner": 403},
    "overview": {"principal": 200, "principal2": 200, "council": 403, "superintendent": 200, "budget": 200,
                 "state": 200, "partner": 403},
}  # fmt: skip
CASES = [(action, who, status) for action, by in MATRIX.items() for who, status in by.items()]


def test_the_matrix_covers_every_role_and_action() -> None:
    assert all(set(by) == set(WHO) for by in MATRIX.values())


@pytest.mark.parametrize(("action", "who", "status"), CASES, ids=[f"{a}-{w}" for a, w, _ in CASES])
def test_role_action_matrix(client: TestClient, action: str, who: str, status: int) -> None:
    version = _submitted(client) if action in ("approve", "return") else 1
    h = act(client, who)
    if action == "view":
        r = client.get(f"{API}/S001")
    elif action == "overview":
        r = client.get(API)
    elif action == "edit":
        r = client.put(f"{API}/S001/trades", json={"version": 1, "trades": [TRADE]}, headers=h)
    else:
        r = client.post(f"{API}/S001/{action}", json={"version": version, "comment": "see me"}, headers=h)
    if status != 200:
        error(r, status, {403: "forbidden", 404: "not_found"}[status])
        if action != "view":
            act(client, "budget")  # nothing changed
            assert client.get(f"{API}/S001").json()["version"] == version
        return
    assert r.status_code == 200, r.text
    body = r.json()
    if action == "overview":
        ids = [x["school_id"] for x in body["schools"]]
        expect = {"principal": ["S001"], "principal2": ["S002"]}.get(who)
        assert ids == expect if expect else len(ids) == 40 and ids[0] == "S001"
    else:
        assert body["school_id"] == "S001"
        after = {"view": "draft", "edit": "draft", "submit": "submitted", "approve": "approved", "return": "returned"}
        assert body["status"] == after[action]


def test_a_budget_officer_of_another_district_cannot_find_the_school(client: TestClient) -> None:
    version = _submitted(client)
    h = add_account(client, "officer@other.test", "district_budget_officer", "OTHER", None)
    error(client.get(f"{API}/S001"), 404, "not_found")
    error(client.post(f"{API}/S001/approve", json={"version": version}, headers=h), 404, "not_found")
    assert client.get(API).json()["schools"] == []


def test_an_unknown_school_is_not_found_for_everyone(client: TestClient) -> None:
    act(client, "state")
    error(client.get(f"{API}/S999"), 404, "not_found")


# ------------------------------------------------------------------------------------------ the engine's budget


def test_the_starter_budget_is_the_engines_with_positions_dollars_and_the_letter(client: TestClient) -> None:
    act(client, "principal")
    b = client.get(f"{API}/S001").json()
    engine = demo_engine()
    i = engine.school_index("S001")
    assert i is not None
    starter = starter_budget(engine.run, i)
    assert b["total_cents"] == starter.total_cents == int(engine.run.total_cents[i])
    assert b["discretionary_before_cents"] == starter.discretionary_cents == b["discretionary_after_cents"]
    assert b["positions_before_cents"] == starter.positions_cents
    have = {p["role"]: (p["fte_before"], p["cents_before"]) for p in b["positions"] if p["fte_before"]}
    assert have == {p.role: (p.fte, p.cents) for p in starter.positions}
    teacher = next(p for p in b["positions"] if p["role"] == "teacher")  # none yet, but one may be added
    assert teacher["fte_before"] == 0 and not teacher["locked"] and teacher["unit_cost_cents"] > 0
    assert (b["status"], b["version"], b["actions"]) == ("draft", 1, ["edit", "submit"])
    page = client.get("/budgets/S001").text
    # the letter is the engine's document, embedded escaped in a sandboxed frame (it can run nothing)
    assert '<iframe class="letter" id="letter"' in page and 'sandbox=""' in page
    assert 'srcdoc="&lt;!doctype html&gt;' in page.lower() and starter.name in page
    letter = client.get("/budgets/S001/letter")
    assert letter.status_code == 200 and letter.text.lower().startswith("<!doctype html>")
    assert letter.headers["content-security-policy"].startswith("sandbox; default-src 'none'")


@pytest.mark.parametrize(
    ("trades", "code"),
    [
        ([{"role": "principal", "fte": -1.0}], "locked_role"),
        ([{"role": "family_support", "fte": 0.5}], "locked_role"),
        ([{"role": "teacher", "fte": 50.0}], "overspend"),
        ([{"role": "counselor", "fte": -5.0}], "insufficient_fte"),
        ([{"role": "janitor", "fte": 1.0}], "unknown_role"),
    ],
)
def test_trades_that_break_the_rules_are_refused_with_the_engines_code(
    client: TestClient, trades: list[dict[str, Any]], code: str
) -> None:
    h = act(client, "principal")
    err = error(client.put(f"{API}/S001/trades", json={"version": 1, "trades": trades}, headers=h), 422, code)
    assert err["problems"][0]["code"] == code
    b = client.get(f"{API}/S001").json()
    assert (b["version"], b["trades"], b["status"]) == (1, [], "draft")
    assert audit_entries(client, "school_budget") == []


def test_every_broken_rule_is_reported(client: TestClient) -> None:
    h = act(client, "principal")
    trades = [{"role": "principal", "fte": -1.0}, {"role": "counselor", "fte": -9.0}]
    err = error(client.put(f"{API}/S001/trades", json={"version": 1, "trades": trades}, headers=h), 422)
    assert [p["code"] for p in err["problems"]] == ["locked_role", "insufficient_fte"]


@pytest.mark.parametrize("fte", ["1e400", "NaN", "101"])
def test_fte_must_be_a_finite_number_in_range(client: TestClient, fte: str) -> None:
    h = act(client, "principal") | {"content-type": "application/json"}
    body = '{"version": 1, "trades": [{"role": "teacher", "fte": FTE}]}'.replace("FTE", fte)
    error(client.put(f"{API}/S001/trades", content=body, headers=h), 422, "invalid_value")


UNLOCKED = ("assistant_principal", "teacher", "counselor")


def test_trades_keep_the_budget_balanced(client: TestClient) -> None:
    """Property: whatever the trades, the school's total is unchanged, positions + discretionary = total in
    integer cents, and a refused trade changes nothing."""
    h = act(client, "principal")
    start = client.get(f"{API}/S001").json()
    state = {"version": 1, "accepted": 0, "refused": 0}

    @given(
        st.lists(
            st.tuples(st.sampled_from(UNLOCKED), st.integers(-25, 25).map(lambda k: k / 10)), min_size=1, max_size=4
        )
    )
    @settings(max_examples=30)
    def check(changes: list[tuple[str, float]]) -> None:
        trades = [{"role": role, "fte": fte} for role, fte in changes]
        r = client.put(f"{API}/S001/trades", json={"version": state["version"], "trades": trades}, headers=h)
        if r.status_code == 422:
            assert r.json()["error"]["code"] in ("insufficient_fte", "overspend")
            assert client.get(f"{API}/S001").json()["version"] == state["version"]
            state["refused"] += 1
            return
        assert r.status_code == 200, r.text
        b = r.json()
        state["version"] = b["version"]
        state["accepted"] += 1
        assert b["total_cents"] == start["total_cents"]
        assert b["positions_after_cents"] + b["discretionary_after_cents"] == b["total_cents"]
        assert b["discretionary_after_cents"] == start["discretionary_before_cents"] - b["net_cost_cents"]
        assert sum(p["cents_after"] for p in b["positions"]) == b["positions_after_cents"]
        assert sum(p["cents_after"] - p["cents_before"] for p in b["positions"]) == b["net_cost_cents"]
        assert all(isinstance(b[k], int) for k in b if k.endswith("_cents"))
        assert b["discretionary_after_cents"] >= 0
        for p in b["positions"]:
            assert p["fte_after"] == pytest.approx(p["fte_before"] + p["fte_change"]) and p["fte_after"] >= 0

    check()
    assert state["accepted"] >= 10 and state["refused"] >= 1, state


# ------------------------------------------------------------------------------------------ the review


def test_submit_return_with_a_comment_resubmit_and_approve(client: TestClient) -> None:
    h = act(client, "principal")
    r = client.put(f"{API}/S001/trades", json={"version": 1, "trades": [TRADE]}, headers=h)
    b = r.json()
    assert b["status"] == "draft" and b["version"] == 2 and b["net_cost_cents"] < 0
    assert client.post(f"{API}/S001/submit", json={"version": 2}, headers=h).json()["status"] == "submitted"
    error(client.put(f"{API}/S001/trades", json={"version": 3, "trades": []}, headers=h), 409, "plan_status")

    h = act(client, "budget")
    assert client.get(f"{API}/S001").json()["actions"] == ["approve", "return"]
    err = error(client.post(f"{API}/S001/return", json={"version": 3, "comment": "  "}, headers=h), 422)
    assert err["code"] == "comment_required" and err["problems"][0]["column"] == "comment"
    r = client.post(f"{API}/S001/return", json={"version": 3, "comment": "Keep the assistant principal."}, headers=h)
    assert (r.json()["status"], r.json()["comment"]) == ("returned", "Keep the assistant principal.")

    h = act(client, "principal")
    b = client.get(f"{API}/S001").json()
    assert b["status"] == "returned" and b["comment"] == "Keep the assistant principal."
    assert b["actions"] == ["edit", "submit"]
    b = client.put(f"{API}/S001/trades", json={"version": 4, "trades": []}, headers=h).json()
    assert b["status"] == "draft" and b["net_cost_cents"] == 0  # returned -> draft on the next edit
    assert client.post(f"{API}/S001/submit", json={"version": 5}, headers=h).json()["status"] == "submitted"

    h = act(client, "budget")
    b = client.post(f"{API}/S001/approve", json={"version": 6}, headers=h).json()
    assert b["status"] == "approved" and b["actions"] == []
    assert [x["action"] for x in b["history"]] == [
        "budget_trades", "budget_submit", "budget_return", "budget_trades", "budget_submit", "budget_approve",
    ]  # fmt: skip
    overview = client.get(API).json()
    assert overview["counts"] == {"draft": 39, "submitted": 0, "approved": 1, "returned": 0}
    assert overview["schools"][0]["status"] == "approved"
    for who in ("superintendent", "state"):
        act(client, who)
        assert client.get(f"{API}/S001").json()["status"] == "approved"
    h = act(client, "principal")
    error(client.put(f"{API}/S001/trades", json={"version": 7, "trades": []}, headers=h), 409, "plan_status")


def test_a_returned_budget_may_be_resubmitted_unchanged(client: TestClient) -> None:
    version = _submitted(client, [TRADE])
    h = act(client, "budget")
    version = client.post(f"{API}/S001/return", json={"version": version, "comment": "why?"}, headers=h).json()[
        "version"
    ]
    h = act(client, "principal")
    assert client.post(f"{API}/S001/submit", json={"version": version}, headers=h).json()["status"] == "submitted"


def test_steps_from_the_wrong_status_are_conflicts(client: TestClient) -> None:
    h = act(client, "budget")
    err = error(client.post(f"{API}/S001/approve", json={"version": 1}, headers=h), 409, "plan_status")
    assert "draft" in err["message"]
    version = _submitted(client)
    h = act(client, "principal")
    error(client.post(f"{API}/S001/submit", json={"version": version}, headers=h), 409, "plan_status")


def test_a_stale_version_is_refused_and_changes_nothing(client: TestClient) -> None:
    h = act(client, "principal")
    assert client.put(f"{API}/S001/trades", json={"version": 1, "trades": [TRADE]}, headers=h).status_code == 200
    err = error(client.put(f"{API}/S001/trades", json={"version": 1, "trades": []}, headers=h), 409, "stale_version")
    assert "version 2" in err["message"]
    assert client.get(f"{API}/S001").json()["trades"] == [TRADE]
    version = _submitted(client)
    h = act(client, "budget")
    error(client.post(f"{API}/S001/approve", json={"version": version - 1}, headers=h), 409, "stale_version")
    assert client.get(f"{API}/S001").json()["status"] == "submitted"


def test_every_change_is_audited_with_before_and_after(client: TestClient) -> None:
    version = _submitted(client, [TRADE])
    h = act(client, "budget")
    client.post(f"{API}/S001/return", json={"version": version, "comment": "Keep the AP."}, headers=h)
    entries = audit_entries(client, "school_budget")
    assert [(e["actor"], e["action"], e["entity_id"]) for e in entries] == [
        ("principal@demo.fairshare.test", "budget_trades", "S001/2026"),
        ("principal@demo.fairshare.test", "budget_submit", "S001/2026"),
        ("budget@demo.fairshare.test", "budget_return", "S001/2026"),
    ]
    first, _, last = entries
    assert first["before"] == {"status": "draft", "trades": [], "comment": "", "version": 1}
    assert first["after"] == {"status": "draft", "trades": [TRADE], "comment": "", "version": 2}
    assert last["before"]["status"] == "submitted" and last["after"] == {
        "status": "returned",
        "trades": [TRADE],
        "comment": "Keep the AP.",
        "version": 4,
    }
    shown = [e for e in client.get("/api/audit").json() if e["entity_type"] == "school_budget"]
    assert [(e["action"], e["before"], e["after"]) for e in reversed(shown)] == [
        (e["action"], e["before"], e["after"]) for e in entries
    ]


def test_changes_need_the_csrf_token(client: TestClient) -> None:
    act(client, "principal")
    body = {"version": 1, "trades": [TRADE]}
    error(client.put(f"{API}/S001/trades", json=body), 403, "csrf")
    error(client.put(f"{API}/S001/trades", json=body, headers={"X-CSRF-Token": "forged"}), 403, "csrf")
    error(client.post(f"{API}/S001/submit", json={"version": 1}), 403, "csrf")
    assert client.get(f"{API}/S001").json()["version"] == 1


def test_requests_need_a_session(client: TestClient) -> None:
    error(client.get(API), 401, "not_signed_in")
    error(client.get(f"{API}/S001"), 401, "not_signed_in")


def test_the_first_change_uses_a_row_another_request_created_meanwhile(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first edits at once: the loser's insert conflicts, it changes the winner's row, and its version
    (made on the never-edited budget) is refused as stale."""
    h = act(client, "principal")
    assert client.put(f"{API}/S001/trades", json={"version": 1, "trades": [TRADE]}, headers=h).status_code == 200
    real = workflow.find
    calls = {"n": 0}

    def first_misses(s: Session, model: Any, school_id: str, fy: int, *, lock: bool = False) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 and lock else real(s, model, school_id, fy, lock=lock)

    monkeypatch.setattr(workflow, "find", first_misses)
    error(client.put(f"{API}/S001/trades", json={"version": 1, "trades": []}, headers=h), 409, "stale_version")
    monkeypatch.undo()
    with client.app.state.db.session() as s:  # type: ignore[attr-defined]
        rows = s.query(SchoolBudget).filter_by(school_id="S001").all()
        assert len(rows) == 1 and rows[0].trades == [TRADE]


# ------------------------------------------------------------------------------------------ pages


def test_pages_follow_the_same_rules(client: TestClient) -> None:
    assert client.get("/budgets", follow_redirects=False).status_code == 303  # signed out: the sign-in page
    act(client, "principal")
    r = client.get("/budgets", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/budgets/S001"
    page = client.get("/budgets/S001").text
    assert 'id="save-trades"' in page and 'id="submit-budget"' in page and "/static/budgets.js" in page
    r = client.get("/budgets/S002")
    assert r.status_code == 404 and "Not found" in r.text and "Annie" not in r.text
    act(client, "council")
    assert client.get("/budgets").status_code == 403
    act(client, "budget")
    page = client.get("/budgets").text
    assert page.count('<tr data-school="S') == 40
    page = client.get("/budgets/S001").text
    assert 'id="save-trades"' not in page and 'id="approve-budget"' not in page  # a draft: nothing to review


def test_pages_escape_what_people_type(client: TestClient) -> None:
    version = _submitted(client)
    h = act(client, "budget")
    comment = '<script>alert("x")</script>'
    client.post(f"{API}/S001/return", json={"version": version, "comment": comment}, headers=h)
    act(client, "principal")
    page = client.get("/budgets/S001").text
    assert comment not in page and "&lt;script&gt;alert(" in page

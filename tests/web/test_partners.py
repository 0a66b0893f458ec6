"""Restricted fund and partner selection (issue 8, flow 3) through the API and pages, on SQLite and
PostgreSQL: who may do what, the engine's allocation and selection rules, the approvals in turn, the
contracts by partner, optimistic locking, the audit log, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fairshare.web.demo_engine import demo_engine
from plan_helpers import WHO, act, add_account, audit_entries, error

API = "/api/partner-plans"
PICK = [{"partner_id": "P01", "amount_cents": 5_000_000}, {"partner_id": "P04", "amount_cents": 2_500_050}]


def _version(c: TestClient, school: str = "S001") -> int:
    return int(c.get(f"{API}/{school}").json()["version"])


def _to(c: TestClient, status: str, selections: list[dict[str, Any]] | None = None) -> int:
    """S001's plan brought to ``status`` (selected, submitted, council_approved, approved); its version."""
    h = act(c, "principal")
    r = c.put(f"{API}/S001/selections", json={"version": _version(c), "selections": selections or PICK}, headers=h)
    assert r.status_code == 200, r.text
    steps = [("principal", "submit"), ("council", "approve"), ("superintendent", "approve")]
    order = ["selected", "submitted", "council_approved", "approved"]
    for who, step in steps[: order.index(status)]:
        h = act(c, who)
        r = c.post(f"{API}/S001/{step}", json={"version": _version(c)}, headers=h)
        assert r.status_code == 200, r.text
    return _version(c)


# ------------------------------------------------------------------------------------------ who may do what

#: action -> demo account -> the status it gets on S001's plan (principal2 is the principal of S002)
MATRIX: dict[str, dict[str, int]] = {
    "view": {"principal": 200, "principal2": 404, "council": 200, "superintendent": 200, "budget": 200,
             "state": 200, "partner": 403},
    "edit": {"principal": 200, "principal2": 404, "council": 403, "superintendent": 403, "budget": 403,
             "state": 403, "partner": 403},
    "submit": {"principal": 200, "principal2": 404, "council": 403, "superintendent": 403, "budget": 403,
               "state": 403, "partner": 403},
    "council_approve": {"principal": 403, "principal2": 403, "council": 200, "superintendent": 409, "budget": 403,
                        "state": 403, "partner": 403},
    "final_approve": {"principal": 403, "principal2": 403, "council": 409, "superintendent": 200, "budget": 403,
                      "state": 403, "partner": 403},
    "council_return": {"principal": 403, "principal2": 403, "council": 200, "superintendent": 409, "budget": 403,
                       "state": 403, "partner": 403},
    "final_return": {"principal": 403, "principal2": 403, "council": 409, "superintendent": 200, "budget": 403,
                     "state": 403, "partner": 403},
    "contracts": {"principal": 403, "principal2": 403, "council": 403, "superintendent": 200, "budget": 200,
                  "state": 200, "partner": 200},
    "overview": {"principal": 200, "principal2": 200, "council": 200, "superintendent": 200, "budget": 200,
                 "state": 200, "partner": 403},
}  # fmt: skip
CASES = [(action, who, status) for action, by in MATRIX.items() for who, status in by.items()]
#: the status S001's plan is brought to before the action, and the status the action leaves it in
SETUP = {
    "view": ("draft", "draft"),
    "edit": ("draft", "draft"),
    "submit": ("selected", "submitted"),
    "council_approve": ("submitted", "council_approved"),
    "final_approve": ("council_approved", "approved"),
    "council_return": ("submitted", "returned"),
    "final_return": ("council_approved", "returned"),
    "contracts": ("approved", "approved"),
    "overview": ("draft", "draft"),
}
CODES = {403: "forbidden", 404: "not_found", 409: "plan_status"}


def test_the_matrix_covers_every_role_and_action() -> None:
    assert all(set(by) == set(WHO) for by in MATRIX.values()) and set(SETUP) == set(MATRIX)


@pytest.mark.parametrize(("action", "who", "status"), CASES, ids=[f"{a}-{w}" for a, w, _ in CASES])
def test_role_action_matrix(client: TestClient, action: str, who: str, status: int) -> None:
    before, after = SETUP[action]
    version = _to(client, before) if before != "draft" else 1
    h = act(client, who)
    if action == "view":
        r = client.get(f"{API}/S001")
    elif action == "overview":
        r = client.get(API)
    elif action == "contracts":
        r = client.get("/api/partner-contracts")
    elif action == "edit":
        r = client.put(f"{API}/S001/selections", json={"version": version, "selections": PICK}, headers=h)
    else:
        step = action.rsplit("_", 1)[-1]
        r = client.post(f"{API}/S001/{step}", json={"version": version, "comment": "see me"}, headers=h)
    if status != 200:
        error(r, status, CODES[status])
        act(client, "state")
        assert client.get(f"{API}/S001").json()["version"] == version  # nothing changed
        return
    assert r.status_code == 200, r.text
    body = r.json()
    if action == "overview":
        ids = [x["school_id"] for x in body["schools"]]
        expect = {"principal": ["S001"], "council": ["S001"], "principal2": ["S002"]}.get(who)
        assert ids == expect if expect else len(ids) == 28
    elif action == "contracts":
        assert [p["partner_id"] for p in body["partners"]] == ["P01", "P04"]
    else:
        assert body["school_id"] == "S001" and body["status"] == after


def test_a_site_council_or_superintendent_elsewhere_cannot_find_the_school(client: TestClient) -> None:
    version = _to(client, "submitted")
    h = add_account(client, "council2@demo.test", "site_council", "DEMO", "S002")
    error(client.get(f"{API}/S001"), 404, "not_found")
    error(client.post(f"{API}/S001/approve", json={"version": version}, headers=h), 404, "not_found")
    h = add_account(client, "super@other.test", "superintendent", "OTHER", None)
    error(client.get(f"{API}/S001"), 404, "not_found")
    assert client.get(API).json()["schools"] == []


# ------------------------------------------------------------------------------------------ the engine's fund


def test_allocations_are_the_engines_fund_and_s001_is_funded(client: TestClient) -> None:
    engine = demo_engine()
    act(client, "budget")
    plans = client.get(API).json()
    funded = engine.funded()
    assert [x["school_id"] for x in plans["schools"]] == list(funded) and "S001" in funded
    assert {x["school_id"]: x["allocation_cents"] for x in plans["schools"]} == funded
    assert plans["allocation_cents"] == sum(funded.values()) == 400_000_000  # the fund, shared to the cent
    p = client.get(f"{API}/S001").json()
    assert p["allocation_cents"] == funded["S001"] == p["remaining_cents"] and p["selected_cents"] == 0
    assert "threshold" in p["reason"] and p["status"] == "draft"
    assert [m["partner_id"] for m in p["menu"] if not m["vetted"]] == ["P07"]
    err = error(client.get(f"{API}/S004"), 404, "school_not_funded")  # high-need share below the cut
    assert "threshold" in err["message"]


def test_a_principal_of_a_school_the_fund_does_not_pay_has_no_plan(client: TestClient) -> None:
    add_account(client, "principal4@demo.test", "principal", "DEMO", "S004")
    error(client.get(f"{API}/S004"), 404, "school_not_funded")
    assert client.get(API).json()["schools"] == []


@pytest.mark.parametrize(
    ("selections", "codes"),
    [
        ([{"partner_id": "P99", "amount_cents": 100}], [("unknown_partner", 1)]),
        ([{"partner_id": "P01", "amount_cents": 100}, {"partner_id": "P07", "amount_cents": 100}],
         [("partner_not_vetted", 2)]),
        ([{"partner_id": "P01", "amount_cents": 12_104_412}], [("selection_over_budget", 1)]),
        ([{"partner_id": "P99", "amount_cents": 5}, {"partner_id": "P01", "amount_cents": 12_104_411}],
         [("unknown_partner", 1), ("selection_over_budget", 2)]),
        ([{"partner_id": "P01", "amount_cents": 100}, {"partner_id": "P01", "amount_cents": 100}],
         [("invalid_value", 2)]),
    ],
)  # fmt: skip
def test_selections_that_break_the_rules_are_refused_with_the_engines_codes(
    client: TestClient, selections: list[dict[str, Any]], codes: list[tuple[str, int]]
) -> None:
    assert demo_engine().allocation_cents("S001") == 12_104_411
    h = act(client, "principal")
    r = client.put(f"{API}/S001/selections", json={"version": 1, "selections": selections}, headers=h)
    err = error(r, 422, codes[0][0])
    assert [(p["code"], p["row"]) for p in err["problems"]] == codes
    assert all("file" not in p for p in err["problems"])  # no server path in the answer
    assert client.get(f"{API}/S001").json()["version"] == 1
    assert audit_entries(client, "partner_plan") == []


@pytest.mark.parametrize("amount", ["0", "-5", "1.5", "true", '"100"', "1e13"])
def test_amounts_are_positive_whole_cents(client: TestClient, amount: str) -> None:
    h = act(client, "principal") | {"content-type": "application/json"}
    body = '{"version": 1, "selections": [{"partner_id": "P01", "amount_cents": AMOUNT}]}'.replace("AMOUNT", amount)
    error(client.put(f"{API}/S001/selections", content=body, headers=h), 422, "invalid_value")


def test_the_whole_allocation_may_be_selected_and_an_empty_plan_is_not_submitted(client: TestClient) -> None:
    h = act(client, "principal")
    error(client.post(f"{API}/S001/submit", json={"version": 1}, headers=h), 422, "missing_value")
    whole = [{"partner_id": "P03", "amount_cents": 12_104_411}]
    p = client.put(f"{API}/S001/selections", json={"version": 1, "selections": whole}, headers=h).json()
    assert (p["selected_cents"], p["remaining_cents"]) == (12_104_411, 0)
    assert p["selections"] == [
        {"partner_id": "P03", "partner_name": "Northside Family Health", "amount_cents": 12_104_411}
    ]


# ------------------------------------------------------------------------------------------ approvals in turn


def test_principal_council_superintendent_in_turn_with_returns_and_the_contracts(client: TestClient) -> None:
    act(client, "partner")
    assert client.get("/api/partner-contracts").json()["partners"] == []
    version = _to(client, "submitted")
    h = act(client, "council")
    p = client.get(f"{API}/S001").json()
    assert p["actions"] == ["approve", "return"] and [a["done"] for a in p["approvals"]] == [True, False, False]
    error(client.post(f"{API}/S001/return", json={"version": version}, headers=h), 422, "comment_required")
    p = client.post(f"{API}/S001/return", json={"version": version, "comment": "Add tutoring."}, headers=h).json()
    assert (p["status"], p["comment"]) == ("returned", "Add tutoring.")

    h = act(client, "principal")
    more = [*PICK, {"partner_id": "P06", "amount_cents": 1_000_000}]
    p = client.put(f"{API}/S001/selections", json={"version": p["version"], "selections": more}, headers=h).json()
    assert p["status"] == "draft" and p["selected_cents"] == 8_500_050
    p = client.post(f"{API}/S001/submit", json={"version": p["version"]}, headers=h).json()
    h = act(client, "council")
    p = client.post(f"{API}/S001/approve", json={"version": p["version"]}, headers=h).json()
    assert p["status"] == "council_approved"
    h = act(client, "superintendent")
    assert client.get(f"{API}/S001").json()["actions"] == ["approve", "return"]
    p = client.post(f"{API}/S001/approve", json={"version": p["version"], "comment": "Good plan."}, headers=h).json()
    assert p["status"] == "approved" and all(a["done"] for a in p["approvals"]) and p["actions"] == []
    assert [x["action"] for x in p["history"]] == [
        "partner_selections", "partner_submit", "partner_return", "partner_selections", "partner_submit",
        "partner_council_approve", "partner_approve",
    ]  # fmt: skip

    # S002 picks P01 too: the contracts add up by partner
    h = act(client, "principal2")
    s2 = [{"partner_id": "P01", "amount_cents": 3_000_000}]
    p = client.put(f"{API}/S002/selections", json={"version": 1, "selections": s2}, headers=h).json()
    client.post(f"{API}/S002/submit", json={"version": p["version"]}, headers=h)
    h = add_account(client, "council2@demo.test", "site_council", "DEMO", "S002")
    client.post(f"{API}/S002/approve", json={"version": 3}, headers=h)
    h = act(client, "superintendent")
    assert client.post(f"{API}/S002/approve", json={"version": 4}, headers=h).json()["status"] == "approved"

    for who in ("partner", "superintendent", "budget", "state"):
        act(client, who)
        c = client.get("/api/partner-contracts").json()
        by = {x["partner_id"]: x for x in c["partners"]}
        assert list(by) == ["P01", "P04", "P06"] and c["total_cents"] == 11_500_050
        assert by["P01"]["total_cents"] == 8_000_000
        assert [(s["school_id"], s["amount_cents"]) for s in by["P01"]["schools"]] == [
            ("S001", 5_000_000),
            ("S002", 3_000_000),
        ]
    act(client, "budget")
    assert client.get(API).json()["counts"] == {
        "draft": 26, "submitted": 0, "council_approved": 0, "approved": 2, "returned": 0,
    }  # fmt: skip


def test_only_approved_plans_are_contracts(client: TestClient) -> None:
    _to(client, "council_approved")
    act(client, "partner")
    assert client.get("/api/partner-contracts").json() == {
        "fiscal_year": 2026,
        "fund": "High-need partnership fund (synthetic)",
        "total_cents": 0,
        "partners": [],
    }


def test_a_stale_version_is_refused_and_changes_nothing(client: TestClient) -> None:
    version = _to(client, "submitted")
    h = act(client, "council")
    error(client.post(f"{API}/S001/approve", json={"version": version - 1}, headers=h), 409, "stale_version")
    h = act(client, "principal")
    error(client.put(f"{API}/S001/selections", json={"version": 1, "selections": []}, headers=h), 409, "stale_version")
    p = client.get(f"{API}/S001").json()
    assert (p["status"], p["version"], p["selected_cents"]) == ("submitted", version, 7_500_050)


def test_every_change_is_audited_with_before_and_after(client: TestClient) -> None:
    _to(client, "council_approved")
    entries = audit_entries(client, "partner_plan")
    assert [(e["actor"], e["action"], e["entity_id"]) for e in entries] == [
        ("principal@demo.fairshare.test", "partner_selections", "S001/2026"),
        ("principal@demo.fairshare.test", "partner_submit", "S001/2026"),
        ("council@demo.fairshare.test", "partner_council_approve", "S001/2026"),
    ]
    allocation = demo_engine().allocation_cents("S001")
    assert entries[0]["before"] == {
        "status": "draft", "allocation_cents": allocation, "selections": [], "comment": "", "version": 1,
    }  # fmt: skip
    assert entries[0]["after"] == {
        "status": "draft", "allocation_cents": allocation, "selections": PICK, "comment": "", "version": 2,
    }  # fmt: skip
    assert (entries[2]["before"]["status"], entries[2]["after"]["status"]) == ("submitted", "council_approved")


def test_changes_need_the_csrf_token(client: TestClient) -> None:
    act(client, "principal")
    error(client.put(f"{API}/S001/selections", json={"version": 1, "selections": PICK}), 403, "csrf")
    headers = {"X-CSRF-Token": "forged"}
    error(client.post(f"{API}/S001/submit", json={"version": 1}, headers=headers), 403, "csrf")
    assert client.get(f"{API}/S001").json()["version"] == 1


# ------------------------------------------------------------------------------------------ pages


def test_pages_follow_the_same_rules(client: TestClient) -> None:
    act(client, "principal")
    r = client.get("/partners", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/partners/S001"
    page = client.get("/partners/S001").text
    assert 'id="save-selections"' in page and "Summit Test Prep" not in page  # the menu offers vetted partners
    assert client.get("/partners/S002").status_code == 404
    act(client, "partner")
    r = client.get("/partners", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/partners/contracts"
    assert "No plan has every approval yet" in client.get("/partners/contracts").text
    assert client.get("/partners/S001").status_code == 403
    act(client, "council")
    assert client.get("/partners/contracts").status_code == 403
    act(client, "superintendent")
    assert client.get("/partners").text.count('<tr data-school="S') == 28

"""Accounts, sessions, CSRF, the error shape and the append-only audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from fairshare.web.auth import COOKIE
from web_helpers import demo, sign_in


def test_sign_in_sets_a_secure_http_only_cookie_and_returns_the_csrf_token(client: TestClient) -> None:
    r = client.post("/api/login", json={"email": demo("principal"), "password": "fairshare-demo"})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    me = client.get("/api/me").json()
    assert me["user"]["role"] == "principal" and me["user"]["school_id"] == "S001"
    assert me["csrf_token"] == r.json()["csrf_token"]


def test_wrong_password_and_unknown_account_look_the_same(client: TestClient) -> None:
    a = client.post("/api/login", json={"email": demo("principal"), "password": "nope"})
    b = client.post("/api/login", json={"email": "nobody@example.test", "password": "nope"})
    assert a.status_code == b.status_code == 401
    assert (
        a.json()
        == b.json()
        == {
            "error": {
                "status": 401,
                "code": "bad_credentials",
                "message": "the email or the password is wrong",
                "problems": [],
            }
        }
    )


def test_requests_need_a_session_and_unsafe_ones_the_csrf_token(client: TestClient) -> None:
    assert client.get("/api/me").json()["error"]["code"] == "not_signed_in"
    headers = sign_in(client, demo("budget"))
    r = client.post("/api/logout")  # no token
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    r = client.post("/api/logout", headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert client.post("/api/logout", headers=headers).status_code == 204
    assert client.get("/api/me").status_code == 401  # the session ended on the server


def test_json_bodies_only(client: TestClient) -> None:
    r = client.post(
        "/api/login", content="email=a&password=b", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code in (415, 422)
    assert "error" in r.json()


def test_audit_log_records_and_is_append_only(client: TestClient) -> None:
    headers = sign_in(client, demo("budget"))
    entries = client.get("/api/audit").json()
    assert entries[0]["action"] == "sign_in" and entries[0]["actor"] == demo("budget")
    assert client.post("/api/logout", headers=headers).status_code == 204
    db = client.app.state.db  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log"))
    with db.engine.connect() as c:
        actions = [r[0] for r in c.execute(text("SELECT action FROM audit_log ORDER BY id"))]
    assert actions[-2:] == ["sign_in", "sign_out"] and actions[0] == "seed_demo"


def test_audit_is_not_for_principals(client: TestClient) -> None:
    sign_in(client, demo("principal"))
    r = client.get("/api/audit")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_home_page_signed_out_and_in(client: TestClient) -> None:
    assert "Sign in" in client.get("/").text
    sign_in(client, demo("principal"))
    page = client.get("/").text
    assert "principal@demo.fairshare.test" in page and "S001" in page and "S002" not in page
    assert '<meta name="csrf-token"' in page

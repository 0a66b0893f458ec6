"""Helpers of the plan flows' tests (school budgets, partner plans): the error shape, acting as a demo
account, extra accounts in another school or district, and the audit log."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from fairshare.web.auth import hash_password
from fairshare.web.models import AuditEntry, District, School, User
from fairshare.web.seed import DEMO_PASSWORD
from web_helpers import demo, sign_in

#: every demo account's short name (web_helpers.demo)
WHO = ("principal", "principal2", "council", "superintendent", "budget", "state", "partner")


def error(r: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the API's one error shape with ``status`` (and ``code``); its ``error`` object."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"status", "code", "message", "problems"}, err
    assert err["status"] == status and isinstance(err["message"], str) and err["message"]
    assert isinstance(err["problems"], list)
    if code is not None:
        assert err["code"] == code, err
    return dict(err)


def act(c: TestClient, who: str) -> dict[str, str]:
    """Sign ``c`` in as a demo account (the client has one cookie jar); the CSRF headers."""
    return sign_in(c, demo(who))


def add_account(c: TestClient, email: str, role: str, district: str | None, school: str | None) -> dict[str, str]:
    """A further account (e.g. in another district), signed in on ``c``."""
    db = c.app.state.db  # type: ignore[attr-defined]
    with db.session() as s:
        if district is not None and s.get(District, district) is None:
            s.add(District(id=district, name=f"{district} district (test)"))
            s.flush()
        if school is not None and s.get(School, school) is None:
            s.add(School(id=school, district_id=district or "DEMO", name=f"{school} school (test)"))
        s.add(
            User(
                email=email,
                name=email,
                password_hash=hash_password(DEMO_PASSWORD),
                role=role,
                district_id=district,
                school_id=school,
            )
        )
    return sign_in(c, email)


def audit_entries(c: TestClient, entity_type: str) -> list[dict[str, Any]]:
    """The audit log's entries for one kind of entity, oldest first."""
    db = c.app.state.db  # type: ignore[attr-defined]
    with db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id))
        return [
            {"actor": r.actor, "action": r.action, "entity_id": r.entity_id, "before": r.before, "after": r.after}
            for r in rows
        ]

"""How the workbench uses transactions: every endpoint commits in its own thread, reads are read-only,
and a failed request leaves nothing behind, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from fairshare.web.app import create_app
from fairshare.web.db import Database
from fairshare.web.deps import is_transactional, transactional
from fairshare.web.models import AuditEntry
from fairshare.web.problems import ApiError
from fairshare.web.settings import Settings
from web_helpers import demo, sign_in


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every endpoint of the app, through included routers (FastAPI keeps those as their own routes)."""
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def test_every_endpoint_commits_in_its_own_thread(client: TestClient) -> None:
    routes = list(_api_routes(client.app.routes))  # type: ignore[attr-defined]
    names = {r.name for r in routes}
    assert {"home", "login", "me", "request_drawdown", "put_trades", "save_scenario", "grants_page"} <= names
    assert len(routes) > 40
    assert [r.name for r in routes if not is_transactional(r.endpoint)] == []


def _audit_count(db: Database) -> int:
    with db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _add_entry(s: DbSession) -> None:
    s.add(AuditEntry(actor="test", action="probe", entity_type="test", entity_id="1"))


def test_transactional_commits_on_return_and_rolls_back_on_raise(client: TestClient) -> None:
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    before = _audit_count(db)

    @transactional
    def ok(s: DbSession) -> str:
        _add_entry(s)
        return "done"

    @transactional
    def refused(s: DbSession) -> str:
        _add_entry(s)
        s.flush()
        raise ApiError(422, "nope", "refused after writing")

    s = db.new_session(write=True)
    assert ok(s=s) == "done" and not s.in_transaction()  # committed before the teardown would run
    assert _audit_count(db) == before + 1
    with pytest.raises(ApiError):
        refused(s=s)
    assert not s.in_transaction() and _audit_count(db) == before + 1
    s.close()


def test_a_read_only_transaction_refuses_to_write(client: TestClient) -> None:
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    s = db.new_session(write=False)
    _add_entry(s)
    with pytest.raises(Exception, match=r"(?i)read.only|readonly"):
        s.flush()
    s.close()
    with db.session() as w:  # the same pool's connections write again afterwards
        _add_entry(w)
    with db.session(write=False) as r:
        assert r.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "probe")) == 1


def test_reads_and_sign_ins_work_while_another_transaction_writes(client: TestClient) -> None:
    """A writer holding the write lock does not stop a GET or a sign-in's account lookup (SQLite WAL,
    read-only transactions; PostgreSQL's MVCC)."""
    headers = sign_in(client, demo("budget"))
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    with db.session() as w:
        _add_entry(w)
        w.flush()  # the write lock is held until this block ends
        assert client.get("/api/grants/plans").status_code == 200
        assert client.get("/api/me", headers=headers).status_code == 200
        other = TestClient(client.app, base_url="https://testserver")
        assert other.post("/api/login", json={"email": demo("state"), "password": "wrong"}).status_code == 401


def test_a_write_that_waits_too_long_is_503_database_busy(tmp_path: Path) -> None:
    """SQLite writers queue for the one writer connection; one that waits longer than ``write_wait``
    gets the one error shape with 503 and Retry-After, and nothing is half done."""
    app = create_app(Settings(data_dir=tmp_path, demo=True, write_wait=0.3))
    with TestClient(app, base_url="https://testserver") as c:
        headers = sign_in(c, demo("budget"))
        db: Database = app.state.db
        before = _audit_count(db)
        body = {"name": "while busy", "model": "demo-district", "overrides": {}}
        with db.session() as w:  # another writer holds the turn
            _add_entry(w)
            w.flush()
            r = c.post("/api/scenarios", json=body, headers=headers)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json()["error"]["code"] == "database_busy"
        assert _audit_count(db) == before + 1  # the held transaction's entry only
        assert c.get("/api/scenarios").json() == []
        assert c.post("/api/scenarios", json=body, headers=headers).status_code == 201  # its turn came
    app.state.db.dispose()

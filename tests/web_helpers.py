"""Helpers shared by the workbench tests (tests/web, tests/browser): demo accounts, sign-in, databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from fairshare.web.seed import DEMO_PASSWORD
from fairshare.web.settings import normalise_url

PG_URL = os.environ.get("FAIRSHARE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="no PostgreSQL"))]


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema and a URL whose connections use it; dropped afterwards."""
    schema = f"fs_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def sign_in(c: TestClient, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """Sign ``c`` in; the headers a state-changing request needs (the CSRF token)."""
    r = c.post("/api/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def demo(role: str) -> str:
    """The demo account's email for a short role name: state, budget, superintendent, principal,
    principal2, council, partner."""
    return {
        "state": "state@demo.fairshare.test",
        "budget": "budget@demo.fairshare.test",
        "superintendent": "superintendent@demo.fairshare.test",
        "principal": "principal@demo.fairshare.test",
        "principal2": "principal2@demo.fairshare.test",
        "council": "council@demo.fairshare.test",
        "partner": "partner@demo.fairshare.test",
    }[role]

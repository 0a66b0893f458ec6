"""Workbench fixtures: an app on a fresh database, SQLite always and PostgreSQL where
``FAIRSHARE_TEST_DATABASE_URL`` is set (each test gets its own PostgreSQL schema, dropped after)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fairshare.web.app import create_app
from fairshare.web.settings import Settings
from web_helpers import BACKENDS, fresh_schema


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh demo database on each backend."""
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path, demo=True, secure_cookies=True)
    else:
        with fresh_schema() as url:
            yield Settings(data_dir=tmp_path, database_url=url, demo=True, secure_cookies=True)


@pytest.fixture
def client(backend: Settings) -> Iterator[TestClient]:
    app = create_app(backend)
    with TestClient(app, base_url="https://testserver") as c:
        yield c
    app.state.db.dispose()

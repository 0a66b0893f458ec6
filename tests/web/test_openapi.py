"""The API is described by its OpenAPI schema and fuzzed against it with schemathesis.

Every operation is called with generated inputs, signed in as a district budget officer (with the
CSRF token) and signed out: no response is a server error, every response matches the schema (the one
JSON error shape for errors), and the schema itself is valid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from fairshare.web.app import create_app
from fairshare.web.auth import COOKIE
from fairshare.web.settings import Settings
from web_helpers import demo, sign_in


@pytest.fixture(scope="module")
def app_and_headers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    app = create_app(Settings(data_dir=Path(tmp_path_factory.mktemp("openapi")), demo=True))
    with TestClient(app, base_url="https://testserver") as c:
        headers = sign_in(c, demo("budget"))
        headers["Cookie"] = f"{COOKIE}={c.cookies.get(COOKIE)}"
    yield app, headers
    app.state.db.dispose()


@pytest.fixture(scope="module")
def api_schema(app_and_headers: tuple[Any, dict[str, str]]) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", app_and_headers[0])


def _fuzz(schema: Any, examples: int, check: Any) -> list[str]:
    """Run ``check(case)`` on generated cases of every operation; the operations run."""
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            check(case)

        run()
        ran.append(f"{operation.method.upper()} {operation.path}")
    return ran


def test_schema_is_valid_and_documents_the_error_shape(app_and_headers: tuple[Any, dict[str, str]]) -> None:
    with TestClient(app_and_headers[0], base_url="https://testserver") as c:
        spec = c.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "ErrorBody" in spec["components"]["schemas"]
    assert all(op.startswith("/api/") for op in spec["paths"])


#: operations whose request bodies carry content the schema cannot judge: an uploaded file is checked by
#: the formula's input contract, so a schema-valid upload may rightly be refused with 422
CONTENT_CHECKED = {("POST", "/api/datasets")}


def test_api_fuzz_signed_in(api_schema: Any, app_and_headers: tuple[Any, dict[str, str]]) -> None:
    def check(case: schemathesis.Case) -> None:
        if case.path == "/api/logout":
            return  # would end the shared session for the other examples
        skip = [positive_data_acceptance] if (case.method.upper(), case.path) in CONTENT_CHECKED else []
        case.call_and_validate(headers=app_and_headers[1], excluded_checks=skip)

    ran = _fuzz(api_schema, 25, check)
    assert "GET /api/me" in ran


def test_api_fuzz_signed_out(api_schema: Any) -> None:
    def check(case: schemathesis.Case) -> None:
        response = case.call()
        assert response.status_code < 500, response.text
        if case.path != "/api/login":
            assert response.status_code in (401, 403, 404, 405, 415, 422), response.text

    assert _fuzz(api_schema, 10, check)

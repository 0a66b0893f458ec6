"""Draw-downs sent at the same moment can never together exceed a line, nor the plan's award.

The workbench runs in uvicorn on a loopback socket bound before its thread starts (no sleeping), on a
fresh database: SQLite, and PostgreSQL when ``FAIRSHARE_TEST_DATABASE_URL`` is set (a fresh schema).
N threads, each with its own HTTP client and session (signed in beforehand, connection open), wait on
a barrier and then all request a draw-down at once; the amounts are chosen so that exactly k fit.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from sqlalchemy import func, select

from fairshare.web.app import create_app
from fairshare.web.db import Database
from fairshare.web.models import Drawdown, GrantLine
from fairshare.web.seed import DEMO_PASSWORD
from fairshare.web.settings import Settings
from web_helpers import BACKENDS, demo, fresh_schema

N = 20


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """The workbench served by uvicorn at http://127.0.0.1:<port>, and its database."""
    if request.param == "sqlite":
        yield from _serve(Settings(data_dir=tmp_path, demo=True, secure_cookies=False))
    else:
        with fresh_schema() as url:
            yield from _serve(Settings(data_dir=tmp_path, database_url=url, demo=True, secure_cookies=False))


def _serve(settings: Settings) -> Iterator[tuple[str, Database]]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app.state.db
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
        app.state.db.dispose()


def _client(base: str, role: str) -> tuple[httpx2.Client, dict[str, str]]:
    c = httpx2.Client(base_url=base, timeout=60)
    r = c.post("/api/login", json={"email": demo(role), "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def _approved_plan(base: str, award: int, lines: list[dict[str, Any]]) -> list[int]:
    c, h = _client(base, "budget")
    try:
        plan = c.post("/api/grants/plans", json={"fiscal_year": 2031, "award_cents": award}, headers=h).json()
        body = {
            "version": plan["version"],
            "award_cents": award,
            "strategies": [{"title": "Tutoring"}],
            "goals": [{"indicator": "Pupils tutored", "baseline": 0, "target": 120, "year": 2031}],
            "lines": lines,
        }
        plan = c.put(f"/api/grants/plans/{plan['id']}", json=body, headers=h).json()
        r = c.post(f"/api/grants/plans/{plan['id']}/submit", json={"version": plan["version"]}, headers=h)
        assert r.status_code == 200, r.text
    finally:
        c.close()
    s, hs = _client(base, "state")
    try:
        r = s.post(f"/api/grants/plans/{plan['id']}/approve", json={"version": r.json()["version"]}, headers=hs)
        assert r.status_code == 200, r.text
    finally:
        s.close()
    return [ln["id"] for ln in r.json()["lines"]]


def _fire(base: str, requests: list[tuple[int, int]]) -> list[tuple[int, dict[str, Any]]]:
    """Send every (line, cents) request at once, each from its own client, signed in beforehand."""
    barrier = threading.Barrier(len(requests))
    results: list[tuple[int, dict[str, Any]]] = [(0, {})] * len(requests)

    def worker(i: int) -> None:
        line_id, cents = requests[i]
        c = httpx2.Client(base_url=base, timeout=60)
        try:
            r = c.post("/api/login", json={"email": demo("budget"), "password": DEMO_PASSWORD})
            h = {"X-CSRF-Token": r.json()["csrf_token"]}
            body = {"amount_cents": cents, "backup": f"Tutor invoice {i}"}
            barrier.wait(timeout=120)  # everyone signed in, connection open: go
            r = c.post(f"/api/grants/lines/{line_id}/drawdowns", json=body, headers=h)
            results[i] = (r.status_code, r.json())
        except BaseException:
            barrier.abort()  # the others stop waiting; the missing result fails the test
            raise
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _drawn(db: Database, line_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Each line's drawn_cents, and the sum of its draw-down rows."""
    with db.session() as s:
        drawn = {i: s.get(GrantLine, i).drawn_cents for i in line_ids}  # type: ignore[union-attr]
        rows = {
            i: s.scalar(select(func.coalesce(func.sum(Drawdown.amount_cents), 0)).where(Drawdown.line_id == i))
            for i in line_ids
        }
    return drawn, rows  # type: ignore[return-value]


def test_simultaneous_draw_downs_never_exceed_the_line(live: tuple[str, Database]) -> None:
    base, db = live
    # a salaries line of $1,000.00 (tolerance 100 %); 20 requests of $150.00: exactly 6 fit
    (line_id,) = _approved_plan(base, 1_000_000, [{"object_code": "110", "role": "Tutors", "amount_cents": 100_000}])
    results = _fire(base, [(line_id, 15_000)] * N)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 6, 409: N - 6}, results
    assert {body["error"]["code"] for status, body in results if status == 409} == {"drawdown_exceeds_line"}
    accepted = sum(body["drawdown"]["amount_cents"] for status, body in results if status == 201)
    drawn, rows = _drawn(db, [line_id])
    assert drawn[line_id] == accepted == rows[line_id] == 90_000


def test_simultaneous_draw_downs_on_two_lines_never_exceed_the_award(live: tuple[str, Database]) -> None:
    base, db = live
    # two supplies lines of $500.00 (110 %: $550.00 each) under an award of $1,000.00; 20 requests of
    # $110.00, ten per line: each line alone would take 5, but the award takes only 9 in all
    lines = [
        {"object_code": "610", "role": "Books", "amount_cents": 50_000},
        {"object_code": "610", "role": "Software", "amount_cents": 50_000},
    ]
    a, b = _approved_plan(base, 100_000, lines)
    results = _fire(base, [(a if i % 2 else b, 11_000) for i in range(N)])
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 9, 409: N - 9}, results
    codes = {body["error"]["code"] for status, body in results if status == 409}
    assert codes <= {"drawdown_exceeds_line", "drawdown_exceeds_award"} and "drawdown_exceeds_award" in codes
    drawn, rows = _drawn(db, [a, b])
    assert drawn == rows and sum(drawn.values()) == 99_000 and max(drawn.values()) <= 55_000

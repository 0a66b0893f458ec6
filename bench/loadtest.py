"""Load test of the workbench: 50 signed-in users at once on the grant draw-down flow (and simulator
previews when the simulator is there), for a fixed number of requests. ``make loadtest``.

The workbench is served by uvicorn in a child process (one process, as ``fairshare serve`` runs it) on a
loopback socket this process binds and listens on before starting it, so the first requests simply
wait in the socket's queue. The database is a fresh embedded SQLite file by default; with
``FAIRSHARE_DATABASE_URL`` set, a fresh schema in that PostgreSQL database (dropped afterwards). The
demo district is seeded; its budget officer submits the demo grant plan and the state approves it.

Each user (asyncio + its own ``httpx2.AsyncClient`` and session) loops: list the plans, get the plan's
balances, request a small draw-down ($1.00–$5.00 on a random line; budget officers only, 9 users in
10) and, when ``routes_scenarios`` is registered with ``POST /api/scenarios/preview``, a simulator
preview. The run stops after ``--requests`` requests (default 4,000); it prints p50/p95/max latency and
error counts per kind of request, and checks that the line balances equal the sum of the accepted
draw-downs. A run still going after ``--max-seconds`` (default 600) stops, prints what it has and
exits 1: a safety stop, not the measure.

The users first sign in all at once (a morning rush; Argon2 is deliberately slow, about 0.3 s of one
core each): their latencies are reported on their own line, before the clock of the run starts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import create_engine, text

from fairshare.web.routes import FLOWS
from fairshare.web.seed import DEMO_PASSWORD
from fairshare.web.settings import normalise_url

BUDGET, STATE = "budget@demo.fairshare.test", "state@demo.fairshare.test"
PREVIEW = "/api/scenarios/preview"
SERVER = textwrap.dedent(
    """
    import socket, sys
    from pathlib import Path
    import uvicorn
    from fairshare.web.app import create_app
    from fairshare.web.settings import Settings
    fd, data_dir, url = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    app = create_app(Settings(data_dir=data_dir, database_url=url, demo=True, secure_cookies=False))
    sock = socket.socket(fileno=fd)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    """
)


@contextmanager
def database(base_url: str) -> Iterator[tuple[str, str]]:
    """The database URL the server uses ("" for SQLite in its data directory) and a label."""
    if not base_url:
        yield "", "SQLite (embedded, fresh file)"
        return
    schema = f"loadtest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(base_url))
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}", f"PostgreSQL (fresh schema {schema})"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def served(data_dir: Path, url: str) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    cmd = [sys.executable, "-c", SERVER, str(sock.fileno()), str(data_dir), url]
    proc = subprocess.Popen(cmd, pass_fds=[sock.fileno()])
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        proc.terminate()  # uvicorn waits for open connections to close: do not wait long
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sock.close()


async def sign_in(base: str, email: str, took: list[float] | None = None) -> tuple[httpx2.AsyncClient, dict[str, str]]:
    c = httpx2.AsyncClient(base_url=base, timeout=120)
    t = time.perf_counter()
    r = await c.post("/api/login", json={"email": email, "password": DEMO_PASSWORD})
    r.raise_for_status()
    if took is not None:
        took.append((time.perf_counter() - t) * 1000)
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


async def approve_demo_plan(base: str) -> tuple[int, list[int]]:
    c, h = await sign_in(base, BUDGET)
    plan = (await c.get("/api/grants/plans")).json()[0]
    r = await c.post(f"/api/grants/plans/{plan['id']}/submit", json={"version": plan["version"]}, headers=h)
    r.raise_for_status()
    await c.aclose()
    s, hs = await sign_in(base, STATE)
    r = await s.post(f"/api/grants/plans/{plan['id']}/approve", json={"version": r.json()["version"]}, headers=hs)
    r.raise_for_status()
    await s.aclose()
    return plan["id"], [ln["id"] for ln in r.json()["lines"]]


class Run:
    def __init__(self, requests: int):
        self.left = requests
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.drawn: dict[int, int] = defaultdict(int)

    async def call(self, kind: str, c: httpx2.AsyncClient, method: str, path: str, **kw: Any) -> Any | None:
        if self.left <= 0:
            return None
        self.left -= 1
        t = time.perf_counter()
        try:
            r = await c.request(method, path, **kw)
            status = r.status_code
        except httpx2.HTTPError:
            status = 0  # transport error
        self.latency[kind].append((time.perf_counter() - t) * 1000)
        if not 200 <= status < 300:
            self.errors[kind][status] += 1
            return None
        return r.json()


async def user(run: Run, c: httpx2.AsyncClient, h: dict[str, str], plan_id: int, lines: list[int], draws: bool,
               model: str | None, seed: int) -> None:  # fmt: skip
    rng = random.Random(seed)
    while run.left > 0:
        await run.call("list plans", c, "GET", "/api/grants/plans")
        await run.call("get balances", c, "GET", f"/api/grants/plans/{plan_id}/balances")
        if draws:
            line, cents = rng.choice(lines), rng.randint(100, 500)
            body = {"amount_cents": cents, "backup": f"load test {seed}"}
            if await run.call("draw-down", c, "POST", f"/api/grants/lines/{line}/drawdowns", json=body, headers=h):
                run.drawn[line] += cents
        if model is not None:
            await run.call("preview", c, "POST", PREVIEW, json={"model": model, "overrides": {}}, headers=h)


async def main_async(base: str, users: int, requests: int, max_seconds: float) -> tuple[Run, float, str | None, bool]:
    """The run, its seconds, the previewed model and whether it finished within ``max_seconds``."""
    plan_id, lines = await approve_demo_plan(base)
    run = Run(requests)
    took = run.latency["sign-in (all at once)"]
    signed = await asyncio.gather(*(sign_in(base, STATE if i % 10 == 0 else BUDGET, took) for i in range(users)))
    try:
        model = await preview_model(*signed[0])
        start = time.perf_counter()
        loops = [user(run, c, h, plan_id, lines, i % 10 != 0, model, i) for i, (c, h) in enumerate(signed)]
        try:
            await asyncio.wait_for(asyncio.gather(*loops), timeout=max_seconds)
            finished = True
        except TimeoutError:
            finished = False  # requests still in flight are cancelled here, not necessarily on the server
        elapsed = time.perf_counter() - start
        if finished:
            balances = (await signed[0][0].get(f"/api/grants/plans/{plan_id}/balances")).json()
    finally:
        for c, _ in signed:
            await c.aclose()
    if finished:
        drawn = {ln["id"]: ln["drawn_cents"] for ln in balances["lines"]}
        if drawn != {i: run.drawn.get(i, 0) for i in drawn} or min(x["available_cents"] for x in balances["lines"]) < 0:
            raise SystemExit(f"balances do not match the accepted draw-downs: {drawn} vs {dict(run.drawn)}")
    return run, elapsed, model, finished


async def preview_model(c: httpx2.AsyncClient, h: dict[str, str]) -> str | None:
    """The simulator model to preview, when the simulator is there (its first preview, which builds the
    model, is made here, before the clock starts)."""
    if "routes_scenarios" not in FLOWS or PREVIEW not in (await c.get("/api/openapi.json")).json()["paths"]:
        return None
    models = [m["id"] for m in (await c.get("/api/scenarios/models")).json()]
    model = "demo-district" if "demo-district" in models else (models[0] if models else None)
    if model is not None:
        (await c.post(PREVIEW, json={"model": model, "overrides": {}}, headers=h)).raise_for_status()
    return model


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1] if len(xs) > 1 else xs[0]


def report(run: Run, elapsed: float, users: int, label: str, model: str | None, finished: bool) -> None:
    total = sum(len(v) for k, v in run.latency.items() if not k.startswith("sign-in"))
    print(f"workbench load test: {users} users, {total} requests in {elapsed:.1f} s ({total / elapsed:.0f} req/s)")
    if not finished:
        print(f"DID NOT FINISH: stopped after {elapsed:.0f} s (--max-seconds) with {run.left} requests still to send")
    print(f"database: {label}; simulator previews: {model or 'no (routes_scenarios has no preview endpoint)'}")
    print(f"{'kind':<22}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  errors")
    for kind, xs in run.latency.items():
        errs = ", ".join(f"{n}× {code or 'transport'}" for code, n in sorted(run.errors[kind].items())) or "0"
        print(f"{kind:<22}{len(xs):>9}{pct(xs, 50):>9.1f}{pct(xs, 95):>9.1f}{max(xs):>9.1f}  {errs}")
    accepted = len(run.latency.get("draw-down", [])) - sum(run.errors["draw-down"].values())
    check = "line balances match them" if finished else "balances not checked (requests were cut off)"
    print(f"draw-downs accepted: {accepted}, {sum(run.drawn.values())} cents in all; {check}")


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the server is stopped on the way out


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--max-seconds", type=float, default=600, help="a safety stop, not the measure (default 600)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(os.environ.get("FAIRSHARE_DATABASE_URL", "")) as (url, label):
        with served(Path(tmp), url) as base:
            run, elapsed, model, finished = asyncio.run(main_async(base, args.users, args.requests, args.max_seconds))
        report(run, elapsed, args.users, label, model, finished)
    if not finished:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

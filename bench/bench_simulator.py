"""Benchmark: the scenario simulator's preview latency on each model, the 320-town synthetic state first.

    python bench/bench_simulator.py                 # what `make bench` runs
    python bench/bench_simulator.py --models synthetic-state --repeats 500

For each model: load it once (formula, plan, entity table, baseline run: the first use, timed
apart), then time ``repeats`` previews, each with fresh overrides drawn (seeded) anywhere in the
parameters' ranges so nothing is reused from the run before:

* engine: ``plan.with_params(overrides)`` + ``evaluate`` only;
* service: :func:`fairshare.web.simulator.preview` (engine + summary by component, winners and
  losers, equity metrics, the response models);
* HTTP: ``POST /api/scenarios/preview`` through the app (FastAPI, a signed-in session on a scratch
  SQLite database, JSON both ways) with Starlette's test client, in process.

It prints p50 and p95 (and the largest) in milliseconds and exits 1 if the HTTP p95 of any model is
above the target (250 ms; the page asks for "well under a second").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from fairshare.rules import evaluate
from fairshare.web import simulator as sim
from fairshare.web.app import create_app
from fairshare.web.seed import DEMO_PASSWORD
from fairshare.web.settings import Settings
from fairshare.web.simulator_registry import ParamRange

TARGET_P95_MS = 250.0
SEED = 2026


def draws(m: sim.Model, n: int, rng: np.random.Generator, budgeted: bool) -> list[dict[str, float]]:
    """``n`` override sets: two to four parameters each, uniform in their ranges, on the slider's grid.
    For a formula fitted to a budget only weights move (other extremes can make the budget unreachable)."""
    movable = [(pid, r) for pid, r in m.adjustable.items() if isinstance(r, ParamRange)]
    if budgeted:
        movable = [(pid, r) for pid, r in movable if m.plan.params[pid].unit == "share_of_base"]
    out = []
    for _ in range(n):
        picked = rng.choice(len(movable), size=min(len(movable), int(rng.integers(2, 5))), replace=False)
        sets = {}
        for k in picked:
            pid, r = movable[int(k)]
            steps = round((r.max - r.min) / r.step)
            sets[pid] = float(f"{r.min + r.step * int(rng.integers(0, steps + 1)):.12g}")
        out.append(sets)
    return out


def timed(fn: Callable[[dict[str, float]], Any], cases: list[dict[str, float]]) -> list[float]:
    times = []
    for case in cases:
        t0 = time.perf_counter()
        fn(case)
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def pct(times: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(times), p))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--models", nargs="*", help="model ids (default: every available model)")
    ap.add_argument("--repeats", type=int, default=300)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(SEED)
    ids = args.models or ["synthetic-state", *[x for x in sim.model_ids() if x != "synthetic-state"]]
    rows = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="fairshare-bench-") as tmp:
        app = create_app(Settings(data_dir=Path(tmp), demo=True))
        with TestClient(app, base_url="https://testserver") as client:
            r = client.post("/api/login", json={"email": "state@demo.fairshare.test", "password": DEMO_PASSWORD})
            headers = {"X-CSRF-Token": r.json()["csrf_token"]}
            for mid in ids:
                t0 = time.perf_counter()
                m = sim.model(mid)
                load_s = time.perf_counter() - t0
                cases = draws(m, args.repeats, rng, m.plan.scale is not None)
                engine = timed(lambda o, m=m: evaluate(m.plan.with_params(o), m.table), cases)  # type: ignore[misc]
                service = timed(lambda o, mid=mid: sim.preview(mid, o), cases)  # type: ignore[misc]

                def http(o: dict[str, float], mid: str = mid) -> None:
                    resp = client.post("/api/scenarios/preview", json={"model": mid, "overrides": o}, headers=headers)
                    if resp.status_code != 200:
                        raise SystemExit(f"{mid}: {resp.status_code} {resp.text[:300]}")

                web = timed(http, cases)
                p95 = pct(web, 95)
                failed |= p95 > TARGET_P95_MS
                rows.append((mid, m.table.n, load_s, engine, service, web))
            app.state.db.dispose()
    print(f"\nScenario simulator preview latency, ms ({args.repeats} previews per model, seed {SEED})\n")
    head = ["model", "entities", "load s", "engine p50", "p95", "service p50", "p95", "HTTP p50", "p95", "max"]
    table = [head]
    for mid, n, load_s, engine, service, web in rows:
        table.append(
            [mid, f"{n:,}", f"{load_s:.2f}"]
            + [f"{v:.1f}" for v in (pct(engine, 50), pct(engine, 95), pct(service, 50), pct(service, 95))]
            + [f"{pct(web, 50):.1f}", f"{pct(web, 95):.1f}", f"{max(web):.1f}"]
        )
    widths = [max(len(r[k]) for r in table) for k in range(len(head))]
    for r in table:
        print("  ".join(v.rjust(w) if k else v.ljust(w) for k, (v, w) in enumerate(zip(r, widths, strict=True))))
    print(f"\nmedian HTTP preview over all models: {statistics.median([t for *_, w in rows for t in w]):.1f} ms")
    print(f"target: HTTP p95 under {TARGET_P95_MS:.0f} ms for every model: {'FAILED' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run a compiled plan over an entity table (the *execute* step).

Everything is column arithmetic: the environment computes each parameter,
input, variable and component once per entity table (lazily, cached). A
``scale_to_budget`` component solves its parameter by bracketing and
regula falsi (exact in one step when the total is linear in the parameter,
as it is unless a limit binds), re-evaluating only what depends on it.
Cents are then fixed by the rules in :mod:`fairshare.rules.money`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fairshare.errors import Problem, RunError
from fairshare.io.table import EntityTable
from fairshare.rules.kinds import Computed, Kind
from fairshare.rules.money import largest_remainder, to_cents
from fairshare.rules.plan import Plan

__all__ = ["Env", "Run", "evaluate"]


class Env(Mapping[str, Any]):
    """Lazy, cached values of every id for one table and one set of parameter values."""

    def __init__(self, plan: Plan, table: EntityTable, params: dict[str, float]):
        self.plan = plan
        self.table = table
        self.n = table.n
        self.params = params
        self.cache: dict[str, Any] = {}
        self.computed: dict[str, Computed] = {}
        self._components = {c.id: c for c in plan.components if c.is_line}
        self._busy: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        hit = self.cache.get(name)
        if hit is not None:
            return hit
        if name in self.params:
            value: Any = self.params[name]
        elif name in self.table.columns:
            value = self.table.columns[name]
        elif name in self.plan.variables:
            value = self._guarded(name, lambda: self.plan.variables[name].expr(self))
        elif name in self._components:
            comp = self._components[name]
            done = self._guarded(name, lambda: comp.compute(self, self.n))
            self.computed[name] = done
            value = done.amount
        else:
            raise KeyError(name)
        self.cache[name] = value
        return value

    def _guarded(self, name: str, fn: Any) -> Any:
        if name in self._busy:  # pragma: no cover - the compiler rejects cycles
            raise RuntimeError(f"cycle through {name}")
        self._busy.add(name)
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return fn()
        finally:
            self._busy.discard(name)

    def set_param(self, pid: str, value: float, dependents: frozenset[str]) -> None:
        self.params[pid] = value
        self.cache.pop(pid, None)
        for name in dependents:
            self.cache.pop(name, None)
            self.computed.pop(name, None)

    def at(self, name: str, i: int) -> Any:
        v = self[name]
        a = np.asarray(v)
        return a.item() if a.ndim == 0 else a[i].item() if hasattr(a[i], "item") else a[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self.cache)

    def __len__(self) -> int:
        return len(self.cache)


@dataclass
class Run:
    """The result of one evaluation: amounts in float dollars and in exact integer cents."""

    plan: Plan
    table: EntityTable
    env: Env
    lines: tuple[Kind, ...]
    amounts: np.ndarray  # n × k float64 dollars
    cents: np.ndarray  # n × k int64
    solved: dict[str, float] = field(default_factory=dict)
    budget_cents: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def line_ids(self) -> list[str]:
        return [c.id for c in self.lines]

    @property
    def total_cents(self) -> np.ndarray:
        return np.asarray(self.cents.sum(axis=1), dtype=np.int64)

    @property
    def pupils(self) -> np.ndarray:
        return np.asarray(np.broadcast_to(np.asarray(self.plan.pupils(self.env), dtype=float), (self.table.n,)))

    @property
    def per_pupil_cents(self) -> np.ndarray:
        """Total ÷ pupils, rounded to cents; -1 where there are no pupils."""
        p = self.pupils
        with np.errstate(divide="ignore", invalid="ignore"):
            pp = np.where(p > 0, self.total_cents / np.where(p > 0, p, 1.0), np.nan)
        out = to_cents(np.nan_to_num(pp / 100.0, nan=-0.01))
        return out

    def column(self, cid: str) -> np.ndarray:
        return self.cents[:, self.line_ids.index(cid)]

    def aux(self, cid: str, key: str) -> np.ndarray | None:
        comp = self.env.computed.get(cid)
        return None if comp is None else comp.aux.get(key)


def evaluate(plan: Plan, table: EntityTable) -> Run:
    """Evaluate every line for every entity; solve the budget if the formula asks; fix cents."""
    params = {pid: p.value for pid, p in plan.params.items()}
    env = Env(plan, table, params)
    lines = plan.lines
    solved: dict[str, float] = {}
    budget_cents: int | None = None
    if plan.scale is not None:
        pid, budget = _solve(plan, env)
        solved[pid] = env.params[pid]
        budget_cents = int(to_cents(budget))
    n, k = table.n, len(lines)
    amounts = np.zeros((n, k))
    for j, comp in enumerate(lines):
        amounts[:, j] = np.broadcast_to(env[comp.id], (n,))
    bad = ~np.isfinite(amounts)
    if bad.any():
        problems = []
        for j, comp in enumerate(lines):
            rows = np.flatnonzero(bad[:, j])
            for i in rows[:20]:
                problems.append(Problem("not_finite", f"component {comp.id} is {amounts[i, j]} for entity {table.ids[i]}",
                                        file=plan.formula.source, row=None if table.rows is None else int(table.rows[i]),
                                        column=comp.id, hint="guard divisions, e.g. where(enrollment > 0, x / enrollment, 0)"))
        raise RunError(problems)
    run = Run(plan, table, env, lines, amounts, np.zeros((n, k), dtype=np.int64), solved, budget_cents)
    _fix_cents(run)
    return run


def _scalar(value: Any, what: str, plan: Plan) -> float:
    a = np.asarray(value, dtype=float)
    if a.ndim and not np.all(a == a.flat[0]):
        raise RunError(Problem("invalid_value", f"{what} must be one number for the whole table",
                               file=plan.formula.source))
    return float(a.flat[0]) if a.ndim else float(a)


def _solve(plan: Plan, env: Env) -> tuple[str, float]:
    scale = plan.scale
    assert scale is not None
    pid: str = scale.options["solve"]
    budget = _scalar(scale.exprs["budget"](env), f"the budget of {scale.id}", plan)
    deps = plan.solve_dependents
    where = plan.formula.where("components", scale.id)

    def total(p: float) -> float:
        env.set_param(pid, p, deps)
        return float(sum(np.sum(np.broadcast_to(env[c], (env.n,))) for c in scale.of))

    tol = max(1e-7 * abs(budget), 1e-6)
    f0 = total(0.0)
    if f0 > budget + tol:
        raise RunError(Problem("budget_unreachable",
                               f"with {pid} at 0 the lines already total ${f0:,.2f}, more than the budget ${budget:,.2f}",
                               hint="raise the appropriation or reduce the fixed lines", **where))
    hi = abs(plan.params[pid].value) or 1.0
    fhi = total(hi)
    for _ in range(64):
        if fhi >= budget:
            break
        if fhi <= f0 and hi > 1e6:
            break
        hi *= 2.0
        fhi = total(hi)
    if fhi < budget - tol:
        raise RunError(Problem("budget_unreachable",
                               f"the lines cannot reach the budget ${budget:,.2f} by changing {pid} "
                               f"(at {pid} = {hi:,.2f} they total ${fhi:,.2f})",
                               hint=f"check that the lines depend on {pid}", **where))
    lo, flo = 0.0, f0
    side = 0
    p, fp = hi, fhi
    for _ in range(200):
        if abs(fp - budget) <= tol:
            break
        p = hi if fhi == flo else lo + (budget - flo) * (hi - lo) / (fhi - flo)
        fp = total(p)
        if fp < budget:
            lo, flo = p, fp
            if side == -1:
                fhi = budget + (fhi - budget) / 2
            side = -1
        else:
            hi, fhi = p, fp
            if side == 1:
                flo = budget + (flo - budget) / 2
            side = 1
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            break
    if env.params[pid] != p:
        total(p)
    return pid, budget


def _entity_keys(run: Run) -> np.ndarray:
    return run.table.ids


def _fix_cents(run: Run) -> None:
    plan, env, lines = run.plan, run.env, run.lines
    ids = run.table.ids
    index = {c.id: j for j, c in enumerate(lines)}
    cents = run.cents
    for j, comp in enumerate(lines):
        if comp.is_pot:
            aux = env.computed[comp.id].aux
            total_c = int(to_cents(aux["pot_total"][0])) if run.table.n else 0
            if aux["driver_sum"].size and aux["driver_sum"][0] > 0:
                cents[:, j] = largest_remainder(run.amounts[:, j] * 100.0, total_c, [ids])
            elif total_c:
                run.notes.append(f"{comp.id}: no entity is eligible, so ${total_c / 100:,.2f} is not distributed")
        elif not comp.is_limit:
            cents[:, j] = to_cents(run.amounts[:, j])
    bound = np.zeros(run.table.n, dtype=bool)
    for j, comp in enumerate(lines):
        if not comp.is_limit:
            continue
        aux = env.computed[comp.id].aux
        sub = cents[:, [index[c] for c in comp.of]].sum(axis=1)
        binding = aux["binding"]
        target = to_cents(aux["target"])
        adj = np.where(binding, target - sub, 0)
        cents[:, j] = np.minimum(adj, 0) if comp.kind == "cap" else np.maximum(adj, 0)
        bound |= binding
    if plan.scale is not None and run.budget_cents is not None:
        _fit_budget(run, index, bound)


def _fit_budget(run: Run, index: dict[str, int], bound: np.ndarray) -> None:
    plan, cents = run.plan, run.cents
    scale = plan.scale
    assert scale is not None and run.budget_cents is not None
    of_cols = [index[c] for c in scale.of]
    free_cols = [index[c.id] for c in run.lines
                 if c.id in plan.solve_dependents and c.id in scale.of and not c.is_limit and not c.is_pot]
    free_rows = np.flatnonzero(~bound)
    mask = np.zeros(cents.shape, dtype=bool)
    if free_cols and free_rows.size:
        mask[np.ix_(free_rows, free_cols)] = True
    fixed_sum = int(cents[:, of_cols].sum()) - int(cents[mask].sum())
    target = run.budget_cents - fixed_sum
    exact = run.amounts[mask] * 100.0
    s = float(exact.sum())
    if target < 0 or (s <= 0 and target != 0):
        raise RunError(Problem("rounding_failed",
                               f"cannot fit the budget to the cent: {target} cents left for {int(mask.sum())} amounts",
                               **plan.formula.where("components", scale.id)))
    if s > 0:
        exact = exact * (target / s)
    rows, cols = np.nonzero(mask)
    try:
        cents[mask] = largest_remainder(exact, target, [run.table.ids[rows], cols])
    except ValueError as exc:  # pragma: no cover - guarded above
        raise RunError(Problem("rounding_failed", str(exc), **plan.formula.where("components", scale.id))) from None

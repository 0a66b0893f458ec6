"""Run a compiled plan over an entity table (the *execute* step).

Everything is column arithmetic: the environment computes each parameter,
input, variable and component once per entity table (lazily, cached). A
``scale_to_budget`` component solves its parameter by bracketing and
regula falsi (exact in one step when the total is linear in the parameter,
as it is unless a limit binds), re-evaluating only what depends on it.
Cents are then fixed by :mod:`fairshare.rules.cents`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from fairshare.errors import Problem, RunError
from fairshare.io.table import EntityTable
from fairshare.rules.cents import fix_cents
from fairshare.rules.kinds import Computed, Kind
from fairshare.rules.money import to_cents
from fairshare.rules.plan import Plan
from fairshare.rules.schema import ENTITY_TOTAL
from fairshare.rules.solve import solve_increasing

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
        #: ids whose values move while a scale_to_budget parameter is solved
        self.moving: frozenset[str] = frozenset()
        if plan.scale is not None:
            self.moving = plan.solve_dependents | {plan.scale.options["solve"]}
        self._static: dict[str, Any] = {}
        #: whole-column values of expressions read by explanations, so n letters cost O(n), not O(n²)
        self.explained: dict[int, Any] = {}

    def memo(self, key: str, names: frozenset[str] | set[str], fn: Any) -> Any:
        """Compute ``fn()`` once per run when none of ``names`` moves with the solved parameter."""
        if names & self.moving:
            return fn()
        hit = self._static.get(key)
        if hit is None:
            hit = self._static[key] = fn()
        return hit

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
    """The result of one evaluation: each line in float dollars and in exact integer cents.

    Lines are kept as contiguous columns; ``amounts`` and ``cents`` give them as
    n × k matrices (built on first use).
    """

    plan: Plan
    table: EntityTable
    env: Env
    lines: tuple[Kind, ...]
    amount_columns: list[np.ndarray]  # k arrays of n float64 dollars
    cent_columns: list[np.ndarray]  # k arrays of n int64 cents
    solved: dict[str, float] = field(default_factory=dict)
    budget_cents: int | None = None
    notes: list[str] = field(default_factory=list)
    #: one int64 cents column per set-aside of the plan, in its order
    set_aside_cents: list[np.ndarray] = field(default_factory=list)

    @cached_property
    def amounts(self) -> np.ndarray:
        return _stack(self.amount_columns, self.table.n, np.float64)

    @cached_property
    def cents(self) -> np.ndarray:
        return _stack(self.cent_columns, self.table.n, np.int64)

    @property
    def line_ids(self) -> list[str]:
        return [c.id for c in self.lines]

    @cached_property
    def total_cents(self) -> np.ndarray:
        total = np.zeros(self.table.n, dtype=np.int64)
        for col in self.cent_columns:
            total += col
        return total

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

    @cached_property
    def prior_total_cents(self) -> np.ndarray | None:
        """Last year's totals in cents (-1 where blank: never read as zero); None without a prior column."""
        col = self.plan.formula.entity.prior_total
        if col is None or col not in self.table.columns:
            return None
        prior = np.asarray(self.table.columns[col], dtype=float)
        return np.where(np.isnan(prior), -1, to_cents(np.nan_to_num(prior)))

    def column(self, cid: str) -> np.ndarray:
        return self.cent_columns[self.line_ids.index(cid)]

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
    n = table.n
    columns = [np.asarray(np.broadcast_to(env[comp.id], (n,)), dtype=np.float64) for comp in lines]
    if not all(np.isfinite(c.sum()) for c in columns):
        amounts = _stack(columns, n, np.float64)
        bad = ~np.isfinite(amounts)
        problems = []
        for j, comp in enumerate(lines):
            rows = np.flatnonzero(bad[:, j])
            for i in rows[:20]:
                problems.append(
                    Problem(
                        "not_finite",
                        f"component {comp.id} is {amounts[i, j]} for entity {table.ids[i]}",
                        file=plan.formula.source,
                        row=None if table.rows is None else int(table.rows[i]),
                        column=comp.id,
                        hint="guard divisions, e.g. where(enrollment > 0, x / enrollment, 0)",
                    )
                )
        raise RunError(problems)
    run = Run(plan, table, env, lines, columns, [], solved, budget_cents)
    fit = None
    if plan.scale is not None and budget_cents is not None:
        fit = (plan.scale.of, budget_cents, plan.formula.where("components", plan.scale.id))
    run.cent_columns = fix_cents(columns, lines, env.computed, table.ids, fit=fit, notes=run.notes)
    if plan.set_asides:
        run.set_aside_cents = _set_asides(plan, env, run.total_cents)
    return run


def _set_asides(plan: Plan, env: Env, total_cents: np.ndarray) -> list[np.ndarray]:
    """Each set-aside in cents (half away from zero), within [0, total]; the carved ones together too.

    ``entity_total`` and earlier set-asides are read as whole cents, so an amount such as
    "the increase over the base year" is exact to the cent.
    """
    n = env.n
    env.cache[ENTITY_TOTAL] = total_cents / 100.0
    out: list[np.ndarray] = []
    carved = np.zeros(n, dtype=np.int64)
    problems: list[Problem] = []
    for sa in plan.set_asides:
        where = plan.formula.where("set_asides", sa.id, "amount")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            value = np.asarray(np.broadcast_to(np.asarray(sa.amount(env), dtype=np.float64), (n,)))
        bad = np.flatnonzero(~np.isfinite(value))
        for i in bad[:20]:
            problems.append(
                Problem(
                    "not_finite",
                    f"set-aside {sa.id} is {value[i]} for entity {env.table.ids[i]}{_data_row(env.table, i)}",
                    hint="a blank input makes the amount unknown; supply it or exclude the entity",
                    **where,
                )
            )
        cents = to_cents(np.where(np.isfinite(value), value, 0.0))
        if sa.carved:
            carved = carved + cents
        over = (cents < 0) | (cents > total_cents)
        if sa.carved:
            over |= carved > total_cents
        for i in np.flatnonzero(over & np.isfinite(value))[:20]:
            problems.append(
                Problem(
                    "set_aside_out_of_range",
                    f"set-aside {sa.id} is ${cents[i] / 100:,.2f} for entity {env.table.ids[i]}"
                    f"{_data_row(env.table, i)}, whose total is ${total_cents[i] / 100:,.2f}"
                    + (f" (set-asides so far: ${carved[i] / 100:,.2f})" if sa.carved and carved[i] != cents[i] else ""),
                    value=float(cents[i] / 100),
                    rule="0 <= set-aside, and the set-asides together <= the total they are carved from",
                    hint="bound it, e.g. clip(entity_total - base_year, 0, entity_total)",
                    **where,
                )
            )
        env.cache[sa.id] = cents / 100.0
        out.append(cents)
    if problems:
        raise RunError(problems)
    return out


def _stack(columns: list[np.ndarray], n: int, dtype: Any) -> np.ndarray:
    out = np.zeros((n, len(columns)), dtype=dtype, order="F")
    for j, c in enumerate(columns):
        out[:, j] = c
    return out


def _scalar(value: Any, what: str, plan: Plan) -> float:
    a = np.asarray(value, dtype=float)
    if a.ndim and not np.all(a == a.flat[0]):
        raise RunError(
            Problem("invalid_value", f"{what} must be one number for the whole table", file=plan.formula.source)
        )
    return float(a.flat[0]) if a.ndim else float(a)


def _solve(plan: Plan, env: Env) -> tuple[str, float]:
    scale = plan.scale
    assert scale is not None
    pid: str = scale.options["solve"]
    budget = _scalar(scale.exprs["budget"](env), f"the budget of {scale.id}", plan)
    deps = plan.solve_dependents
    where = plan.formula.where("components", scale.id)

    static = [c for c in scale.of if c not in deps]
    moving = [c for c in scale.of if c in deps]
    static_total = float(sum(np.sum(np.broadcast_to(env[c], (env.n,))) for c in static))

    def total(p: float) -> float:
        env.set_param(pid, p, deps)
        return static_total + float(sum(np.sum(np.broadcast_to(env[c], (env.n,))) for c in moving))

    sol = solve_increasing(total, budget, plan.params[pid].value)
    if not sol.converged:
        tol = max(1e-11 * abs(budget), 1e-4)
        at_zero = total(0.0)
        if at_zero > budget + tol:
            raise RunError(
                Problem(
                    "budget_unreachable",
                    f"with {pid} at 0 the lines already total ${at_zero:,.2f}, more than the budget ${budget:,.2f}",
                    hint="raise the appropriation or reduce the fixed lines",
                    **where,
                )
            )
        if not sol.bracketed:
            raise RunError(
                Problem(
                    "budget_unreachable",
                    f"the lines cannot reach the budget ${budget:,.2f} by changing {pid} "
                    f"(at {pid} = {sol.below:,.2f} they total ${sol.total_below:,.2f})",
                    hint=f"check that the lines depend on {pid}",
                    **where,
                )
            )
    # stated to 12 significant digits (the solver is good to ~1e-11): the last bits of a float
    # sum depend on row order, and a solved value must not
    p = float(f"{sol.value:.12g}")
    if env.params[pid] != p:
        total(p)
    return pid, budget


def _data_row(table: EntityTable, i: int) -> str:
    return "" if table.rows is None else f" ({table.source} row {int(table.rows[i])})"

"""A school's starter budget as positions plus discretionary dollars, and principals' trades.

Positions come from the formula's ``positions`` lines (role, FTE, cost per FTE =
average salary × (1 + benefits rate)); everything else is discretionary. A trade
adds or gives up FTE of a role at that role's cost per FTE; the budget stays
balanced because the net cost comes out of (or goes back to) discretionary
dollars. Locked roles cannot be traded, FTE cannot go below zero, and trades that
cost more than the discretionary dollars are refused with the amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field, ValidationError

from fairshare.errors import Problem, TradeError
from fairshare.rules._yaml import load_yaml_file, nearest_mark
from fairshare.rules.evaluate import Run
from fairshare.rules.money import to_cents
from fairshare.rules.schema import StrictModel

__all__ = [
    "PositionLine",
    "StarterBudget",
    "TradeRequest",
    "TradeResult",
    "apply_trades",
    "load_trade_requests",
    "starter_budget",
    "unit_cost_cents",
]


@dataclass(frozen=True)
class PositionLine:
    role: str
    label: str
    fte: float
    unit_cost_cents: int
    cents: int
    locked: bool


@dataclass(frozen=True)
class StarterBudget:
    entity_id: str
    name: str
    total_cents: int
    positions: tuple[PositionLine, ...]

    @property
    def positions_cents(self) -> int:
        return sum(p.cents for p in self.positions)

    @property
    def discretionary_cents(self) -> int:
        return self.total_cents - self.positions_cents

    def fte(self, role: str) -> float:
        return sum(p.fte for p in self.positions if p.role == role)


def unit_cost_cents(run: Run, role: str, i: int) -> int:
    """Cost per FTE of ``role`` for entity ``i``: average salary × (1 + benefits rate), in cents."""
    r = run.plan.roles[role]
    with np.errstate(all="ignore"):
        salary = np.asarray(r.salary(run.env), dtype=float)
        ben = np.asarray(r.benefits_rate(run.env), dtype=float) if r.benefits_rate is not None else np.zeros(1)
    s = float(salary if salary.ndim == 0 else salary[i])
    b = float(ben if ben.ndim == 0 else ben[i]) if ben.size else 0.0
    return int(to_cents(s * (1.0 + b)))


def starter_budget(run: Run, i: int) -> StarterBudget:
    """Group the entity's positions lines by role (a role may come from several lines)."""
    roles: dict[str, list[float]] = {}
    cents: dict[str, int] = {}
    for j, comp in enumerate(run.lines):
        role = comp.options.get("role")
        if role is None:
            continue
        fte = float(np.asarray(run.env.computed[comp.id].aux["fte"])[i])
        roles.setdefault(role, []).append(fte)
        cents[role] = cents.get(role, 0) + int(run.cents[i, j])
    lines = tuple(
        PositionLine(
            role,
            run.plan.roles[role].label,
            round(sum(f), 6),
            unit_cost_cents(run, role, i),
            cents[role],
            run.plan.roles[role].locked,
        )
        for role, f in roles.items()
        if sum(f) > 0
    )
    return StarterBudget(str(run.table.ids[i]), str(run.table.names[i]), int(run.total_cents[i]), lines)


class Trade(StrictModel):
    role: str
    fte: float = Field(description="FTE to add (positive) or give up (negative)")
    note: str | None = None


class TradeRequest(StrictModel):
    entity: str
    trades: list[Trade] = Field(min_length=1)
    requested_by: str | None = None


class _RequestFile(StrictModel):
    requests: list[TradeRequest] = Field(min_length=1)


def load_trade_requests(path: str | Path) -> list[TradeRequest]:
    """Read a YAML file of trade requests; schema errors name file:line:col."""
    p = Path(path)
    data, marks = load_yaml_file(p)
    try:
        return _RequestFile.model_validate(data).requests
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line, col = nearest_mark(marks, tuple(err["loc"]))
            code = {"extra_forbidden": "unknown_key", "missing": "missing_key"}.get(err["type"], "invalid_value")
            problems.append(
                Problem(code, f"{'.'.join(map(str, err['loc']))}: {err['msg']}", file=str(p), line=line, col=col)
            )
        raise TradeError(problems) from None


@dataclass(frozen=True)
class TradeLine:
    role: str
    label: str
    fte_before: float
    fte_change: float
    fte_after: float
    unit_cost_cents: int
    cost_cents: int


@dataclass(frozen=True)
class TradeResult:
    before: StarterBudget
    lines: tuple[TradeLine, ...]

    @property
    def net_cost_cents(self) -> int:
        return sum(t.cost_cents for t in self.lines)

    @property
    def discretionary_after_cents(self) -> int:
        return self.before.discretionary_cents - self.net_cost_cents

    @property
    def total_cents(self) -> int:
        """Unchanged by construction: positions + discretionary = the starter total."""
        return self.before.total_cents


def apply_trades(run: Run, request: TradeRequest, source: str | None = None) -> TradeResult:
    """Check and price a principal's trades; raise TradeError listing every broken rule."""
    i = run.table.index_of(request.entity)
    if i is None:
        raise TradeError(
            Problem(
                "unknown_entity",
                f"entity {request.entity!r} is not in the table",
                file=source,
                value=request.entity,
                hint="use an id from the entity_id column of budgets.csv",
            )
        )
    before = starter_budget(run, i)
    problems: list[Problem] = []
    change: dict[str, float] = {}
    for t in request.trades:
        change[t.role] = change.get(t.role, 0.0) + t.fte
    lines: list[TradeLine] = []
    for role, delta in change.items():
        if role not in run.plan.roles:
            problems.append(
                Problem(
                    "unknown_role",
                    f"{request.entity}: role {role!r} is not defined by the formula",
                    file=source,
                    value=role,
                    hint=f"roles: {', '.join(run.plan.roles)}",
                )
            )
            continue
        r = run.plan.roles[role]
        have = before.fte(role)
        if r.locked and delta != 0:
            problems.append(
                Problem(
                    "locked_role",
                    f"{request.entity}: {r.label} is locked by the formula and cannot be traded",
                    file=source,
                    value=role,
                    rule="locked roles keep the FTE the formula gives",
                )
            )
            continue
        if have + delta < -1e-9:
            problems.append(
                Problem(
                    "insufficient_fte",
                    f"{request.entity}: gives up {-delta:g} FTE {r.label} but has {have:g} FTE",
                    file=source,
                    value=delta,
                )
            )
            continue
        unit = unit_cost_cents(run, role, i)
        cost = int(to_cents(delta * unit / 100.0))
        lines.append(TradeLine(role, r.label, have, delta, round(have + delta, 6), unit, cost))
    result = TradeResult(before, tuple(lines))
    if not problems and result.discretionary_after_cents < 0:
        over = -result.discretionary_after_cents
        problems.append(
            Problem(
                "overspend",
                f"{request.entity}: the trades cost ${result.net_cost_cents / 100:,.2f} net but only "
                f"${before.discretionary_cents / 100:,.2f} is discretionary; overspent by ${over / 100:,.2f}",
                file=source,
                value=f"{over / 100:.2f}",
                rule="positions + discretionary dollars = starter budget",
                hint="give up more FTE or add fewer",
            )
        )
    if problems:
        raise TradeError(problems)
    return result

"""The principal budget builder (issue 8, flow 2): a school's starter budget as positions and dollars,
the principal's trades, and the district budget office's review.

The starter budget, the trades' rules and prices and the letter are the engine's
(:func:`fairshare.programs.starter_budget`, :func:`fairshare.programs.apply_trades`,
:func:`fairshare.report.letters.render_letter`) on the demo district's run (:mod:`demo_engine`);
nothing here prices a position. A trade that breaks a rule (``locked_role``, ``insufficient_fte``,
``overspend``, ``unknown_role``) is the engine's ``TradeError``, answered as 422 with its problems.

Statuses: ``draft`` → ``submitted`` → ``approved`` | ``returned``; a returned budget is a draft again
on its next edit. The principal of the school edits and submits a draft or returned budget; the
district budget officer of the school's district approves or returns (with a comment) a submitted one;
the superintendent and the state reviewer read. The school's total never changes: trades move
money between positions and discretionary dollars.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairshare.programs import StarterBudget, TradeRequest, TradeResult, apply_trades, starter_budget
from fairshare.programs.positions import unit_cost_cents
from fairshare.report.letters import render_letter, role_cost
from fairshare.rules.trace import trace_entity
from fairshare.web import workflow as wf
from fairshare.web.auth import can_see_school, require_role, school_guard
from fairshare.web.demo_engine import DemoEngine, demo_engine, engine_call
from fairshare.web.models import District, School, SchoolBudget, User
from fairshare.web.problems import ApiError

__all__ = [
    "READERS",
    "STATUSES",
    "BudgetOut",
    "OverviewOut",
    "TradesIn",
    "approve",
    "budget_view",
    "edit_trades",
    "letter_html",
    "overview",
    "return_budget",
    "submit",
]

STATUSES = ("draft", "submitted", "approved", "returned")
READERS = ("principal", "district_budget_officer", "superintendent", "state_reviewer")
ENTITY = SchoolBudget.__tablename__
WHAT = "budget"
MAX_FTE = 100.0
_LETTERS: dict[tuple[str, str], str] = {}
_LETTERS_LOCK = threading.Lock()


class TradeIn(BaseModel):
    role: str = Field(min_length=1, max_length=80, description="a role id of the formula, e.g. teacher")
    fte: float = Field(ge=-MAX_FTE, le=MAX_FTE, description="FTE to add (positive) or give up (negative)")
    note: str | None = Field(default=None, max_length=200)

    @field_validator("fte")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("fte must be a finite number")
        return v


class TradesIn(BaseModel):
    """The school's whole list of trades (it replaces the list before)."""

    version: int = Field(ge=1)
    trades: list[TradeIn] = Field(max_length=50)


class PositionOut(BaseModel):
    role: str
    label: str
    locked: bool
    unit_cost_cents: int
    fte_before: float
    fte_change: float
    fte_after: float
    cents_before: int
    cents_after: int


class BudgetOut(BaseModel):
    school_id: str
    school_name: str
    district_id: str
    fiscal_year: int
    status: str
    version: int
    comment: str
    updated_at: str | None
    total_cents: int = Field(description="the school's starter total; trades never change it")
    positions_before_cents: int
    positions_after_cents: int
    discretionary_before_cents: int
    discretionary_after_cents: int
    net_cost_cents: int = Field(description="what the trades cost (negative: what they free up)")
    positions: list[PositionOut]
    trades: list[TradeIn]
    #: what the signed-in user may do now: edit, submit, approve, return
    actions: list[str]
    history: list[wf.HistoryOut]


class SummaryOut(BaseModel):
    school_id: str
    school_name: str
    status: str
    version: int
    updated_at: str | None
    trades: int
    total_cents: int | None
    discretionary_before_cents: int | None
    discretionary_after_cents: int | None


class OverviewOut(BaseModel):
    fiscal_year: int
    counts: dict[str, int]
    schools: list[SummaryOut]


# ----------------------------------------------------------------------------- engine


def _index(engine: DemoEngine, school_id: str) -> int:
    i = engine.school_index(school_id)
    if i is None:
        raise ApiError(404, "not_found", f"school {school_id!r} has no starter budget in this year's run")
    return i


def _price(
    engine: DemoEngine, school_id: str, trades: list[dict[str, Any]]
) -> tuple[StarterBudget, TradeResult | None]:
    """The starter budget and the engine's pricing of the trades (TradeError when a rule is broken)."""
    i = _index(engine, school_id)
    starter = engine_call(starter_budget, engine.run, i)
    if not trades:
        return starter, None
    request = TradeRequest.model_validate({"entity": school_id, "trades": trades})
    return starter, engine_call(apply_trades, engine.run, request)


def _positions(
    engine: DemoEngine, school_id: str, starter: StarterBudget, res: TradeResult | None
) -> list[PositionOut]:
    """Every role of the formula the school has, or could add (unlocked), before and after the trades."""
    i = _index(engine, school_id)
    traded = {t.role: t for t in res.lines} if res else {}
    out = []
    for role, spec in engine.run.plan.roles.items():
        have = [p for p in starter.positions if p.role == role]
        fte = sum(p.fte for p in have)
        cents = sum(p.cents for p in have)
        t = traded.get(role)
        if not have and t is None and spec.locked:
            continue
        unit = t.unit_cost_cents if t else engine_call(unit_cost_cents, engine.run, role, i)
        out.append(
            PositionOut(
                role=role,
                label=spec.label,
                locked=spec.locked,
                unit_cost_cents=unit,
                fte_before=round(fte, 6),
                fte_change=t.fte_change if t else 0.0,
                fte_after=t.fte_after if t else round(fte, 6),
                cents_before=cents,
                cents_after=cents + (t.cost_cents if t else 0),
            )
        )
    return out


def letter_html(s: Session, school_id: str) -> str:
    """The school's budget letter (the engine's HTML document), rendered once per school."""
    engine = demo_engine()
    i = _index(engine, school_id)
    school = wf.school_or_404(s, school_id)
    district = s.get(District, school.district_id)
    name = district.name if district else school.district_id
    with _LETTERS_LOCK:
        hit = _LETTERS.get((school_id, name))
    if hit is None:

        def render() -> str:
            run = engine.run
            return render_letter(
                trace_entity(run, i),
                district=name,
                teacher_cost=role_cost(run, "teacher", i),
                entity_kind=run.plan.formula.entity.kind,
            )

        hit = engine_call(render)
        with _LETTERS_LOCK:
            _LETTERS[(school_id, name)] = hit
    return hit


# ----------------------------------------------------------------------------- reading


def _guard(s: Session, user: User, school_id: str, *roles: str) -> School:
    """403 for a role that may not do this at all; 404 for a school out of the user's reach."""
    require_role(user, *roles)
    school_guard(s, user)(school_id)
    return wf.school_or_404(s, school_id)


def _actions(s: Session, user: User, school: School, status: str) -> list[str]:
    if user.role == "principal" and user.school_id == school.id and status in ("draft", "returned"):
        return ["edit", "submit"]
    if user.role == "district_budget_officer" and can_see_school(s, user, school.id) and status == "submitted":
        return ["approve", "return"]
    return []


def budget_view(s: Session, user: User, school_id: str) -> BudgetOut:
    school = _guard(s, user, school_id, *READERS)
    engine = demo_engine()
    row = wf.find(s, SchoolBudget, school_id, engine.fiscal_year)
    trades: list[dict[str, Any]] = list(row.trades) if row else []
    starter, res = _price(engine, school_id, trades)
    status = row.status if row else "draft"
    net = res.net_cost_cents if res else 0
    return BudgetOut(
        school_id=school.id,
        school_name=school.name,
        district_id=school.district_id,
        fiscal_year=engine.fiscal_year,
        status=status,
        version=row.version if row else 1,
        comment=row.comment if row else "",
        updated_at=row.updated_at.isoformat(timespec="seconds") if row else None,
        total_cents=starter.total_cents,
        positions_before_cents=starter.positions_cents,
        positions_after_cents=starter.positions_cents + net,
        discretionary_before_cents=starter.discretionary_cents,
        discretionary_after_cents=starter.discretionary_cents - net,
        net_cost_cents=net,
        positions=_positions(engine, school_id, starter, res),
        trades=[TradeIn.model_validate(t) for t in trades],
        actions=_actions(s, user, school, status),
        history=wf.history(s, ENTITY, wf.entity_key(school_id, engine.fiscal_year)),
    )


def overview(s: Session, user: User) -> OverviewOut:
    """Every school the user can see, with its budget's status (a school never edited is a draft)."""
    require_role(user, *READERS)
    engine = demo_engine()
    schools = [x for x in s.scalars(select(School).order_by(School.id)) if can_see_school(s, user, x.id)]
    rows = {
        r.school_id: r for r in s.scalars(select(SchoolBudget).where(SchoolBudget.fiscal_year == engine.fiscal_year))
    }
    counts = dict.fromkeys(STATUSES, 0)
    out = []
    for school in schools:
        row = rows.get(school.id)
        status = row.status if row else "draft"
        counts[status] = counts.get(status, 0) + 1
        total = before = after = None
        if engine.school_index(school.id) is not None:
            starter, res = _price(engine, school.id, list(row.trades) if row else [])
            total, before = starter.total_cents, starter.discretionary_cents
            after = res.discretionary_after_cents if res else before
        out.append(
            SummaryOut(
                school_id=school.id,
                school_name=school.name,
                status=status,
                version=row.version if row else 1,
                updated_at=row.updated_at.isoformat(timespec="seconds") if row else None,
                trades=len(row.trades) if row else 0,
                total_cents=total,
                discretionary_before_cents=before,
                discretionary_after_cents=after,
            )
        )
    return OverviewOut(fiscal_year=engine.fiscal_year, counts=counts, schools=out)


# ----------------------------------------------------------------------------- changing


def _snapshot(row: SchoolBudget) -> dict[str, Any]:
    return {"status": row.status, "trades": list(row.trades), "comment": row.comment, "version": row.version}


def _change(
    s: Session, user: User, school_id: str, version: int, action: str, apply: Callable[[SchoolBudget], None]
) -> BudgetOut:
    fy = demo_engine().fiscal_year
    wf.change(
        s,
        user,
        SchoolBudget,
        school_id,
        fy,
        new=lambda: SchoolBudget(school_id=school_id, fiscal_year=fy, status="draft", trades=[], comment="", version=1),
        snapshot=_snapshot,
        version=version,
        what=WHAT,
        action=action,
        apply=apply,
    )
    return budget_view(s, user, school_id)


def edit_trades(s: Session, user: User, school_id: str, body: TradesIn) -> BudgetOut:
    """The principal replaces the trades of a draft or returned budget (a returned one becomes a draft)."""
    _guard(s, user, school_id, "principal")
    trades = [t.model_dump(exclude_none=True) for t in body.trades]

    def apply(row: SchoolBudget) -> None:
        wf.check_status(row, ("draft", "returned"), "edit", WHAT)
        _price(demo_engine(), school_id, trades)  # the engine's rules: locked roles, FTE held, no overspending
        row.trades = trades
        row.status = "draft"

    return _change(s, user, school_id, body.version, "budget_trades", apply)


def submit(s: Session, user: User, school_id: str, body: wf.Step) -> BudgetOut:
    """The principal sends a draft (or a returned budget, unchanged) to the district budget office."""
    _guard(s, user, school_id, "principal")

    def apply(row: SchoolBudget) -> None:
        wf.check_status(row, ("draft", "returned"), "submit", WHAT)
        _price(demo_engine(), school_id, list(row.trades))
        row.status = "submitted"

    return _change(s, user, school_id, body.version, "budget_submit", apply)


def approve(s: Session, user: User, school_id: str, body: wf.Step) -> BudgetOut:
    """The district budget officer approves a submitted budget (a comment is optional)."""
    _guard(s, user, school_id, "district_budget_officer")

    def apply(row: SchoolBudget) -> None:
        wf.check_status(row, ("submitted",), "approve", WHAT)
        row.status = "approved"
        row.comment = body.comment.strip()

    return _change(s, user, school_id, body.version, "budget_approve", apply)


def return_budget(s: Session, user: User, school_id: str, body: wf.Step) -> BudgetOut:
    """The district budget officer returns a submitted budget to the principal, saying why."""
    _guard(s, user, school_id, "district_budget_officer")

    def apply(row: SchoolBudget) -> None:
        wf.check_status(row, ("submitted",), "return", WHAT)
        row.comment = wf.require_comment(body.comment, "return a budget")
        row.status = "returned"

    return _change(s, user, school_id, body.version, "budget_return", apply)

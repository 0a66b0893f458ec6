"""What the grants API and pages show: plans with running balances per line, draw-downs, audit snapshots.

A line's balances: ``amount`` (approved budget), ``tolerance_pct`` (fixed at approval), ``carried``
(money carried in from the year before), ``ceiling = amount × tolerance ÷ 100 + carried``, ``drawn`` and
``available = ceiling − drawn``. The plan's: ``award``, ``budgeted`` (Σ amounts), ``carried``, ``drawn``
and ``available = award + carried − drawn``. All integer cents.

A draw-down's backup is kept in ``drawdown.backup`` as JSON text ``{"text": …, "items": [{"description",
"amount_cents"}, …]}`` (the table has no column for items).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairshare.web.grants_rules import (
    EDITABLE,
    BackupItem,
    GoalIn,
    StrategyIn,
    band_for,
    ceiling_cents,
    fiscal_year_start,
    plan_label,
)
from fairshare.web.models import District, Drawdown, GrantLine, GrantPlan, School, User

__all__ = [
    "Balances",
    "CarriedLine",
    "CarryOut",
    "DrawdownOut",
    "DrawdownResult",
    "LineOut",
    "PlanOut",
    "PlanSummary",
    "Totals",
    "actions",
    "balances",
    "drawdown_out",
    "line_out",
    "plan_out",
    "plan_summary",
    "snapshot",
]

#: how many of a plan's latest draw-downs the plan view lists (all: GET /api/grants/lines/{id}/drawdowns)
RECENT = 100


def iso(d: dt.datetime) -> str:
    """ISO 8601 with the offset (SQLite gives back naive UTC datetimes)."""
    return (d if d.tzinfo else d.replace(tzinfo=dt.UTC)).isoformat()


class LineOut(BaseModel):
    id: int
    school_id: str | None
    school_name: str | None
    object_code: str
    object_label: str
    role: str
    fte: float
    amount_cents: int
    tolerance_pct: int
    carried_cents: int
    ceiling_cents: int
    drawn_cents: int
    available_cents: int


class Totals(BaseModel):
    award_cents: int
    budgeted_cents: int
    #: award − budgeted (negative when the lines are over the award)
    unbudgeted_cents: int
    carried_cents: int
    drawn_cents: int
    #: award + carried − drawn
    available_cents: int


class DrawdownOut(BaseModel):
    id: int
    line_id: int
    amount_cents: int
    backup: str
    items: list[BackupItem]
    created_by: str
    created_at: str


class PlanSummary(BaseModel):
    id: int
    district_id: str
    district_name: str
    fiscal_year: int
    fiscal_year_start: dt.date
    label: str
    status: str
    version: int
    award_cents: int
    updated_at: str


class PlanOut(PlanSummary):
    comment: str
    approved_at: str | None
    strategies: list[StrategyIn]
    goals: list[GoalIn]
    lines: list[LineOut]
    totals: Totals
    drawdowns: list[DrawdownOut]
    drawdown_count: int
    #: what the signed-in user may do now: edit, submit, request_changes, approve, draw, carry_forward
    actions: list[str]


class Balances(BaseModel):
    plan_id: int
    status: str
    version: int
    lines: list[LineOut]
    totals: Totals


class DrawdownResult(BaseModel):
    drawdown: DrawdownOut
    line: LineOut
    #: what the whole plan can still draw (award + carried − drawn)
    plan_available_cents: int

    @classmethod
    def of(cls, row: Drawdown, user: User, line: LineOut, plan_available: int) -> DrawdownResult:
        return cls(drawdown=drawdown_out(row, user.email), line=line, plan_available_cents=plan_available)


class CarriedLine(BaseModel):
    from_line_id: int
    to_line_id: int
    amount_cents: int


class CarryOut(BaseModel):
    from_plan_id: int
    #: the next fiscal year's plan (None when nothing was left to carry)
    to_plan_id: int | None
    carried_cents: int
    lines: list[CarriedLine]


def line_out(ln: GrantLine, school_name: str | None) -> LineOut:
    band = band_for(ln.object_code)
    ceiling = ceiling_cents(ln.amount_cents, ln.tolerance_pct, ln.carried_cents)
    return LineOut(
        id=ln.id,
        school_id=ln.school_id,
        school_name=school_name,
        object_code=ln.object_code,
        object_label=band.label if band else "",
        role=ln.role,
        fte=ln.fte,
        amount_cents=ln.amount_cents,
        tolerance_pct=ln.tolerance_pct,
        carried_cents=ln.carried_cents,
        ceiling_cents=ceiling,
        drawn_cents=ln.drawn_cents,
        available_cents=ceiling - ln.drawn_cents,
    )


def drawdown_out(row: Drawdown, email: str) -> DrawdownOut:
    try:
        doc = json.loads(row.backup)
        text, items = str(doc["text"]), [BackupItem.model_validate(x) for x in doc["items"]]
    except (ValueError, KeyError, TypeError):
        text, items = row.backup, []  # plain text written by something else
    return DrawdownOut(
        id=row.id,
        line_id=row.line_id,
        amount_cents=row.amount_cents,
        backup=text,
        items=items,
        created_by=email,
        created_at=iso(row.created_at),
    )


def _totals(plan: GrantPlan, lines: list[LineOut]) -> Totals:
    budgeted = sum(x.amount_cents for x in lines)
    carried = sum(x.carried_cents for x in lines)
    drawn = sum(x.drawn_cents for x in lines)
    return Totals(
        award_cents=plan.award_cents,
        budgeted_cents=budgeted,
        unbudgeted_cents=plan.award_cents - budgeted,
        carried_cents=carried,
        drawn_cents=drawn,
        available_cents=plan.award_cents + carried - drawn,
    )


def actions(user: User, plan: GrantPlan) -> list[str]:
    acts: list[str] = []
    if user.role == "district_budget_officer" and user.district_id == plan.district_id:
        if plan.status in EDITABLE:
            acts += ["edit", "submit"]
        elif plan.status == "approved":
            acts += ["draw", "carry_forward"]
    if user.role == "state_reviewer" and plan.status == "submitted":
        acts += ["request_changes", "approve"]
    return acts


def plan_summary(plan: GrantPlan, district_name: str) -> PlanSummary:
    return PlanSummary(
        id=plan.id,
        district_id=plan.district_id,
        district_name=district_name,
        fiscal_year=plan.fiscal_year,
        fiscal_year_start=fiscal_year_start(plan.fiscal_year),
        label=plan_label(plan.fiscal_year),
        status=plan.status,
        version=plan.version,
        award_cents=plan.award_cents,
        updated_at=iso(plan.updated_at),
    )


def _line_outs(s: Session, plan: GrantPlan) -> list[LineOut]:
    names = {k: v for k, v in s.execute(select(School.id, School.name).where(School.district_id == plan.district_id))}
    rows = s.scalars(select(GrantLine).where(GrantLine.plan_id == plan.id).order_by(GrantLine.id))
    return [line_out(ln, names.get(ln.school_id) if ln.school_id else None) for ln in rows]


def balances(s: Session, plan: GrantPlan) -> Balances:
    lines = _line_outs(s, plan)
    return Balances(plan_id=plan.id, status=plan.status, version=plan.version, lines=lines, totals=_totals(plan, lines))


def plan_out(s: Session, user: User, plan: GrantPlan) -> PlanOut:
    lines = _line_outs(s, plan)
    district = s.get(District, plan.district_id)
    in_plan = select(GrantLine.id).where(GrantLine.plan_id == plan.id)
    recent = s.execute(
        select(Drawdown, User.email)
        .join(User, User.id == Drawdown.created_by)
        .where(Drawdown.line_id.in_(in_plan))
        .order_by(Drawdown.id.desc())
        .limit(RECENT)
    )
    count = s.scalar(select(func.count()).select_from(Drawdown).where(Drawdown.line_id.in_(in_plan))) or 0
    return PlanOut(
        **plan_summary(plan, district.name if district else plan.district_id).model_dump(),
        comment=plan.comment,
        approved_at=iso(plan.approved_at) if plan.approved_at else None,
        strategies=[StrategyIn.model_validate(x) for x in plan.strategies],
        goals=[GoalIn.model_validate(x) for x in plan.goals],
        lines=lines,
        totals=_totals(plan, lines),
        drawdowns=[drawdown_out(d, e) for d, e in recent],
        drawdown_count=count,
        actions=actions(user, plan),
    )


def snapshot(plan: GrantPlan, lines: list[GrantLine]) -> dict[str, Any]:
    """The plan and its lines as the audit log keeps them (before and after a change)."""
    return {
        "district_id": plan.district_id,
        "fiscal_year": plan.fiscal_year,
        "status": plan.status,
        "version": plan.version,
        "award_cents": plan.award_cents,
        "comment": plan.comment,
        "strategies": list(plan.strategies),
        "goals": list(plan.goals),
        "lines": [
            {
                "id": ln.id,
                "school_id": ln.school_id,
                "object_code": ln.object_code,
                "role": ln.role,
                "fte": ln.fte,
                "amount_cents": ln.amount_cents,
                "tolerance_pct": ln.tolerance_pct,
                "carried_cents": ln.carried_cents,
                "drawn_cents": ln.drawn_cents,
            }
            for ln in lines
        ],
    }

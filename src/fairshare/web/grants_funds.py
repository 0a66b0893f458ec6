"""Money out of an approved grant plan: draw-downs, and carrying unspent money into the next year.

**Draw-down** (district budget officer, approved plan only): one transaction locks the plan row, then the
line row, reads the balances, checks ``drawn + request ≤ amount × tolerance ÷ 100 + carried`` for the
line and ``Σ drawn + request ≤ award + Σ carried`` for the plan, then adds the request to
``drawn_cents`` and writes the ``drawdown`` row. Two requests at the same moment queue on the lock, so
they can never together exceed the line.

**Carry-forward** (district budget officer, approved plan of fiscal year Y, once): each line's unspent own
money (:func:`fairshare.web.grants_rules.carry_amounts`) is added to ``carried_cents`` of the line of the
Y+1 plan with the same school, object code and role (a new line with no amount of its own if there is
none; a new draft Y+1 plan with no award if there is none). The Y plan becomes ``closed``: no more
draw-downs. Money carried into Y+1 is spent first there and is never carried again.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairshare.report.html import money
from fairshare.web.audit import record
from fairshare.web.db import locked
from fairshare.web.grants import (
    check_status,
    new_plan,
    plan_for,
    plan_lines,
    plan_to_change,
    require_grants,
    require_officer,
    touch,
)
from fairshare.web.grants_rules import DrawdownIn, VersionIn, band_for, carry_amounts, ceiling_cents, plan_label
from fairshare.web.grants_views import CarriedLine, CarryOut, DrawdownResult, line_out, snapshot
from fairshare.web.models import District, Drawdown, GrantLine, GrantPlan, School, User, utcnow
from fairshare.web.problems import ApiError

__all__ = ["carry_forward", "request_drawdown"]


def _backup_text(body: DrawdownIn) -> str:
    """The backup as stored: JSON text ``{"text", "items"}`` (422 ``drawdown_backup`` when it is wrong)."""
    if not body.backup.strip():
        raise ApiError(422, "drawdown_backup", "say what the draw-down pays for (the backup detail is empty)")
    if body.items:
        total = sum(x.amount_cents for x in body.items)
        if total != body.amount_cents:
            raise ApiError(
                422,
                "drawdown_backup",
                f"the backup items add up to {money(total)}, not the {money(body.amount_cents)} requested "
                f"(a difference of {money(total - body.amount_cents)})",
            )
    doc = {"text": body.backup.strip(), "items": [x.model_dump() for x in body.items]}
    return json.dumps(doc, ensure_ascii=False)


def _refuse(code: str, message: str, amount: int, rule: str, room: int) -> ApiError:
    hint = f"request at most {money(room)}" if room > 0 else "nothing more can be drawn here"
    problem = {"code": code, "message": message, "column": "amount_cents", "value": str(amount), "rule": rule}
    return ApiError(409, code, message, [problem | {"hint": hint}])


def request_drawdown(s: Session, user: User, line_id: int, body: DrawdownIn) -> DrawdownResult:
    """Draw ``body.amount_cents`` on a line of an approved plan, if it fits the line and the award."""
    require_grants(user)
    plan_id = s.scalar(select(GrantLine.plan_id).where(GrantLine.id == line_id))  # a line never changes plan
    if plan_id is None:
        raise ApiError(404, "not_found", f"no grant line {line_id} you can see")
    plan = plan_for(s, user, plan_id, lock=True)
    require_officer(user, plan)
    line = locked(s, GrantLine, line_id)
    assert line is not None  # lines are deleted only under their plan's lock
    if plan.status == "closed":
        check_status(plan, ("approved",), "draw on it: its unspent money was carried forward")
    if plan.status != "approved":
        raise ApiError(
            409,
            "drawdown_before_approval",
            f"the {plan_label(plan.fiscal_year)} plan is {plan.status.replace('_', ' ')}, not approved: "
            "nothing can be drawn before the state approves it",
        )
    backup = _backup_text(body)
    amount = body.amount_cents
    ceiling = ceiling_cents(line.amount_cents, line.tolerance_pct, line.carried_cents)
    room = ceiling - line.drawn_cents
    if amount > room:
        carried = f" + {money(line.carried_cents)} carried" if line.carried_cents else ""
        raise _refuse(
            "drawdown_exceeds_line",
            f"{money(amount)} does not fit line {line.id} ({line.object_code} {line.role}): its ceiling is "
            f"{money(ceiling)} ({line.tolerance_pct}% of {money(line.amount_cents)}{carried}), "
            f"{money(line.drawn_cents)} is drawn, {money(max(room, 0))} is left",
            amount,
            "drawn + request ≤ amount × tolerance ÷ 100 + carried",
            room,
        )
    drawn, carried_total = s.execute(
        select(
            func.coalesce(func.sum(GrantLine.drawn_cents), 0), func.coalesce(func.sum(GrantLine.carried_cents), 0)
        ).where(GrantLine.plan_id == plan.id)
    ).one()
    award_room = plan.award_cents + int(carried_total) - int(drawn)
    if amount > award_room:
        raise _refuse(
            "drawdown_exceeds_award",
            f"{money(amount)} would take the plan's draws past its award of {money(plan.award_cents)} plus "
            f"{money(int(carried_total))} carried; {money(max(award_room, 0))} is left",
            amount,
            "Σ drawn + request ≤ award + Σ carried",
            award_room,
        )
    school = s.get(School, line.school_id) if line.school_id else None
    before = line_out(line, None).model_dump()
    line.drawn_cents += amount
    row = Drawdown(line_id=line.id, amount_cents=amount, backup=backup, created_by=user.id, created_at=utcnow())
    s.add(row)
    s.flush()
    after = line_out(line, None).model_dump() | {"drawdown": {"id": row.id, "amount_cents": amount}}
    record(s, user, "grant_drawdown", "grant_line", line.id, before, after)
    return DrawdownResult.of(row, user, line_out(line, school.name if school else None), award_room - amount)


def _next_plan(s: Session, plan: GrantPlan) -> tuple[GrantPlan, bool]:
    """The Y+1 plan of the district, locked; or a new draft with no award (and True)."""
    nxt_id = s.scalar(
        select(GrantPlan.id).where(
            GrantPlan.district_id == plan.district_id, GrantPlan.fiscal_year == plan.fiscal_year + 1
        )
    )
    nxt = locked(s, GrantPlan, nxt_id) if nxt_id is not None else None
    if nxt is not None:
        return nxt, False
    return new_plan(s, plan.district_id, plan.fiscal_year + 1, 0), True


def carry_forward(s: Session, user: User, plan_id: int, body: VersionIn) -> CarryOut:
    """Close an approved plan and carry its lines' unspent own money into the next year's plan (once)."""
    require_grants(user)
    if user.role == "district_budget_officer" and user.district_id:
        locked(s, District, user.district_id)  # the next year's plan may be created here
    plan, lines = plan_to_change(s, user, plan_id, body.version, ("approved",), "carry it forward")
    amounts = carry_amounts(plan.award_cents, [(ln.amount_cents, ln.drawn_cents, ln.carried_cents) for ln in lines])
    moves = [(ln, cents) for ln, cents in zip(lines, amounts, strict=True) if cents > 0]
    before = snapshot(plan, lines)
    out = CarryOut(from_plan_id=plan.id, to_plan_id=None, carried_cents=sum(amounts), lines=[])
    if moves:
        nxt, created = _next_plan(s, plan)
        check_status(nxt, ("draft", "changes_requested", "submitted", "approved"), "receive carried money")
        targets = plan_lines(s, nxt.id)
        nxt_before = None if created else snapshot(nxt, targets)
        for ln, cents in moves:
            key = (ln.school_id, ln.object_code, ln.role)
            target = next((t for t in targets if (t.school_id, t.object_code, t.role) == key), None)
            if target is None:
                band = band_for(ln.object_code)
                target = GrantLine(
                    plan_id=nxt.id,
                    school_id=ln.school_id,
                    object_code=ln.object_code,
                    role=ln.role,
                    fte=0.0,
                    amount_cents=0,
                    tolerance_pct=band.pct if band else ln.tolerance_pct,
                    drawn_cents=0,
                    carried_cents=0,
                )
                s.add(target)
                targets.append(target)
            target.carried_cents += cents
            s.flush()
            out.lines.append(CarriedLine(from_line_id=ln.id, to_line_id=target.id, amount_cents=cents))
        if not created:
            touch(nxt)  # a reviewer or editor holding the old version must reload
        out.to_plan_id = nxt.id
        record(s, user, "grant_carry_in", "grant_plan", nxt.id, nxt_before, snapshot(nxt, targets))
    plan.status = "closed"
    touch(plan)
    after = snapshot(plan, lines) | {"carry_forward": out.model_dump()}
    record(s, user, "grant_carry_forward", "grant_plan", plan.id, before, after)
    return out

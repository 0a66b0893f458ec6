"""Grant plans between a district and the state: who may see and do what, and the plan's life
(create, edit, submit, request changes, approve). Money movements are in :mod:`fairshare.web.grants_funds`.

Every function runs in the caller's transaction (one per request) and records its change in the audit
log with before and after. Who may do what is decided here, on the server, for every call:

* a **district budget officer** creates, edits and submits their district's plans, draws down and
  carries unspent money forward; a **superintendent** sees their district's plans (read only);
* a **state reviewer** sees every district's plans, requests changes (with a comment) or approves;
* principals, site councils and partner viewers may not use grants at all: 403 ``forbidden``;
* a plan of another district is 404 ``not_found`` (its existence is not revealed).

**Locking.** Each writer of a plan or of its lines locks the plan row first (:func:`locked`: ``SELECT …
FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the write lock), then the line,
and reads the balances it decides on under those locks. Plan edits and reviews also carry the
``version`` they were made on (optimistic locking): a stale one is refused with 409 ``stale_version``.

States: ``draft`` → ``submitted`` → ``approved`` | ``changes_requested`` (an edit makes it a draft again);
``approved`` → ``closed`` when its unspent money is carried into the next fiscal year's plan.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairshare.errors import InputError, ProblemList
from fairshare.report.html import money
from fairshare.web.audit import record
from fairshare.web.db import locked
from fairshare.web.grants_rules import (
    EDITABLE,
    PlanEdit,
    PlanNew,
    ReviewIn,
    VersionIn,
    band_for,
    plan_label,
)
from fairshare.web.grants_views import snapshot
from fairshare.web.models import District, GrantLine, GrantPlan, School, User, utcnow
from fairshare.web.problems import ApiError, problem_dict

__all__ = [
    "GRANT_ROLES",
    "approve",
    "check_status",
    "check_version",
    "create_plan",
    "list_plans",
    "new_plan",
    "plan_for",
    "plan_lines",
    "plan_to_change",
    "request_changes",
    "require_grants",
    "require_officer",
    "seed_demo_grant",
    "submit",
    "touch",
    "update_plan",
]

#: the roles that may see grant plans at all
GRANT_ROLES = ("state_reviewer", "district_budget_officer", "superintendent")


def require_grants(user: User) -> None:
    if user.role not in GRANT_ROLES:
        raise ApiError(403, "forbidden", f"a {user.role.replace('_', ' ')} may not see grant plans")


def _visible(user: User, plan: GrantPlan) -> bool:
    return user.role == "state_reviewer" or user.district_id == plan.district_id


def plan_for(s: Session, user: User, plan_id: int, *, lock: bool = False) -> GrantPlan:
    """The plan ``plan_id`` if ``user`` may see it (locked when asked), else 403 or 404."""
    require_grants(user)
    plan = locked(s, GrantPlan, plan_id) if lock else s.get(GrantPlan, plan_id)
    if plan is None or not _visible(user, plan):
        raise ApiError(404, "not_found", f"no grant plan {plan_id} you can see")
    return plan


def require_officer(user: User, plan: GrantPlan) -> None:
    if user.role != "district_budget_officer" or user.district_id != plan.district_id:
        raise ApiError(403, "forbidden", "only the district's budget officer may do this")


def _require_state(user: User) -> None:
    if user.role != "state_reviewer":
        raise ApiError(403, "forbidden", "only a state reviewer may review a grant plan")


def check_version(plan: GrantPlan, version: int) -> None:
    if plan.version != version:
        raise ApiError(
            409,
            "stale_version",
            f"the plan changed since you loaded it (it is at version {plan.version}, yours is {version}): "
            "reload it, then make your change again",
        )


def check_status(plan: GrantPlan, allowed: tuple[str, ...], action: str) -> None:
    if plan.status not in allowed:
        state = plan.status.replace("_", " ")
        raise ApiError(409, "grant_status", f"the {plan_label(plan.fiscal_year)} plan is {state}: cannot {action}")


def plan_lines(s: Session, plan_id: int) -> list[GrantLine]:
    return list(s.scalars(select(GrantLine).where(GrantLine.plan_id == plan_id).order_by(GrantLine.id)))


def plan_to_change(
    s: Session, user: User, plan_id: int, version: int, allowed: tuple[str, ...], action: str, by: str = "district"
) -> tuple[GrantPlan, list[GrantLine]]:
    """The plan a step changes, locked, and its lines: the step is the district budget officer's (``by``
    "district") or a state reviewer's ("state"), the version must be the current one and the status one
    of ``allowed`` (403, 409 ``stale_version``, 409 ``grant_status``)."""
    plan = plan_for(s, user, plan_id, lock=True)
    if by == "state":
        _require_state(user)
    else:
        require_officer(user, plan)
    check_version(plan, version)
    check_status(plan, allowed, action)
    return plan, plan_lines(s, plan.id)


def touch(plan: GrantPlan) -> None:
    plan.version += 1
    plan.updated_at = utcnow()


def list_plans(s: Session, user: User) -> list[GrantPlan]:
    require_grants(user)
    q = select(GrantPlan).order_by(GrantPlan.district_id, GrantPlan.fiscal_year.desc())
    if user.role != "state_reviewer":
        q = q.where(GrantPlan.district_id == user.district_id)
    return list(s.scalars(q))


def new_plan(s: Session, district_id: str, fiscal_year: int, award_cents: int) -> GrantPlan:
    """An empty draft plan, added and flushed (the caller audits it)."""
    plan = GrantPlan(
        district_id=district_id,
        fiscal_year=fiscal_year,
        award_cents=award_cents,
        status="draft",
        strategies=[],
        goals=[],
        comment="",
        version=1,
        updated_at=utcnow(),
    )
    s.add(plan)
    s.flush()
    return plan


def create_plan(s: Session, user: User, body: PlanNew) -> GrantPlan:
    """A new draft plan of the officer's district for a fiscal year (one per district and year)."""
    require_grants(user)
    if user.role != "district_budget_officer" or user.district_id is None:
        raise ApiError(403, "forbidden", "only a district budget officer may start a grant plan")
    locked(s, District, user.district_id)  # serialises plan creation per district
    found = s.scalar(
        select(GrantPlan.id).where(GrantPlan.district_id == user.district_id, GrantPlan.fiscal_year == body.fiscal_year)
    )
    if found is not None:
        raise ApiError(409, "grant_exists", f"the {plan_label(body.fiscal_year)} plan already exists (plan {found})")
    plan = new_plan(s, user.district_id, body.fiscal_year, body.award_cents)
    record(s, user, "grant_create", "grant_plan", plan.id, None, snapshot(plan, []))
    return plan


def _edit_problems(s: Session, plan: GrantPlan, lines: list[GrantLine], edit: PlanEdit) -> ProblemList:
    problems = ProblemList()
    schools = set(s.scalars(select(School.id).where(School.district_id == plan.district_id)))
    existing = {ln.id: ln for ln in lines}
    seen: set[int] = set()
    for i, ln in enumerate(edit.lines):
        col = f"lines.{i}"
        if ln.school_id is not None and ln.school_id not in schools:
            problems.add(
                "not_allowed",
                f"{ln.school_id!r} is not a school of district {plan.district_id}",
                column=f"{col}.school_id",
                value=ln.school_id,
                hint="choose one of the district's schools",
            )
        if band_for(ln.object_code) is None:
            problems.add(
                "not_allowed",
                f"object code {ln.object_code} is not in the state's tolerance table",
                column=f"{col}.object_code",
                value=ln.object_code,
                hint="use an object code from 100 to 899",
            )
        if ln.id is None:
            continue
        if ln.id in seen:
            problems.add("duplicate_entity", f"line {ln.id} is given twice", column=f"{col}.id", value=ln.id)
        seen.add(ln.id)
        old = existing.get(ln.id)
        if old is None:
            problems.add(
                "unknown_entity",
                f"the plan has no line {ln.id}",
                column=f"{col}.id",
                value=ln.id,
                hint="leave out the id to add a new line",
            )
        elif old.carried_cents and (old.school_id, old.object_code) != (ln.school_id, ln.object_code):
            problems.add(
                "grant_line_carried",
                f"line {ln.id} holds {money(old.carried_cents)} carried forward: "
                "its school and object code cannot change",
                column=f"{col}.object_code",
            )
    for old in lines:
        if old.carried_cents and old.id not in seen:
            problems.add(
                "grant_line_carried",
                f"line {old.id} holds {money(old.carried_cents)} carried forward: it cannot be removed",
                column="lines",
                value=old.id,
                hint="set its own amount to 0 instead",
            )
    for i, goal in enumerate(edit.goals):
        if not plan.fiscal_year <= goal.year <= plan.fiscal_year + 5:
            code = "below_minimum" if goal.year < plan.fiscal_year else "above_maximum"
            problems.add(
                code,
                f"a goal's year must be from FY {plan.fiscal_year} to FY {plan.fiscal_year + 5}",
                column=f"goals.{i}.year",
                value=goal.year,
            )
    return problems


def update_plan(s: Session, user: User, plan_id: int, edit: PlanEdit) -> GrantPlan:
    """Replace the plan's award, strategies, goals and lines (a draft or a plan sent back)."""
    plan, lines = plan_to_change(s, user, plan_id, edit.version, EDITABLE, "edit it")
    problems = _edit_problems(s, plan, lines, edit)
    problems.raise_if_any(InputError)
    before = snapshot(plan, lines)
    existing = {ln.id: ln for ln in lines}
    keep = {ln.id for ln in edit.lines if ln.id is not None}
    for old in lines:
        if old.id not in keep:
            s.delete(old)
    for ln in edit.lines:
        band = band_for(ln.object_code)
        assert band is not None  # checked above
        row = existing[ln.id] if ln.id is not None else GrantLine(plan_id=plan.id, drawn_cents=0, carried_cents=0)
        row.school_id, row.object_code, row.role = ln.school_id, ln.object_code, ln.role
        row.fte, row.amount_cents, row.tolerance_pct = ln.fte, ln.amount_cents, band.pct
        if ln.id is None:
            s.add(row)
    plan.award_cents = edit.award_cents
    plan.strategies = [x.model_dump() for x in edit.strategies]
    plan.goals = [x.model_dump() for x in edit.goals]
    if plan.status == "changes_requested":
        plan.status = "draft"
    touch(plan)
    s.flush()
    record(s, user, "grant_edit", "grant_plan", plan.id, before, snapshot(plan, plan_lines(s, plan.id)))
    return plan


def _require_complete(plan: GrantPlan, lines: list[GrantLine]) -> None:
    """409 when the plan is not ready to be submitted or approved (every missing part is a problem)."""
    problems = _completeness(plan, lines).problems
    if problems:
        raise ApiError(409, problems[0].code, problems[0].message, [problem_dict(p) for p in problems])


def _completeness(plan: GrantPlan, lines: list[GrantLine]) -> ProblemList:
    problems = ProblemList()
    if plan.award_cents <= 0:
        problems.add("grant_incomplete", "the plan has no award", column="award_cents", value=plan.award_cents)
    for part, items in (("strategies", plan.strategies), ("goals", plan.goals), ("lines", lines)):
        if not items:
            problems.add("grant_incomplete", f"the plan has no {part.replace('lines', 'budget lines')}", column=part)
    for i, ln in enumerate(lines):
        if band_for(ln.object_code) is None:  # the table changed since the line was saved
            problems.add(
                "not_allowed",
                f"object code {ln.object_code} is not in the state's tolerance table",
                column=f"lines.{i}.object_code",
                value=ln.object_code,
            )
    budgeted = sum(ln.amount_cents for ln in lines)
    if budgeted > plan.award_cents:
        problems.add(
            "grant_over_award",
            f"the budget lines add up to {money(budgeted)}, "
            f"{money(budgeted - plan.award_cents)} more than the award of {money(plan.award_cents)}",
            column="lines",
            value=budgeted,
            hint="reduce the lines until they fit the award",
        )
    return problems


def submit(s: Session, user: User, plan_id: int, body: VersionIn) -> GrantPlan:
    plan, lines = plan_to_change(s, user, plan_id, body.version, EDITABLE, "submit it")
    _require_complete(plan, lines)
    before = snapshot(plan, lines)
    plan.status = "submitted"
    touch(plan)
    record(s, user, "grant_submit", "grant_plan", plan.id, before, snapshot(plan, lines))
    return plan


def request_changes(s: Session, user: User, plan_id: int, body: ReviewIn) -> GrantPlan:
    plan, lines = plan_to_change(s, user, plan_id, body.version, ("submitted",), "request changes", by="state")
    if not body.comment.strip():
        raise ApiError(422, "comment_required", "say what the district must change (the comment is empty)")
    before = snapshot(plan, lines)
    plan.status, plan.comment = "changes_requested", body.comment.strip()
    touch(plan)
    record(s, user, "grant_request_changes", "grant_plan", plan.id, before, snapshot(plan, lines))
    return plan


def approve(s: Session, user: User, plan_id: int, body: ReviewIn) -> GrantPlan:
    """Approve a submitted plan: each line's tolerance is fixed from the state's table."""
    plan, lines = plan_to_change(s, user, plan_id, body.version, ("submitted",), "approve it", by="state")
    _require_complete(plan, lines)
    before = snapshot(plan, lines)
    for ln in lines:
        band = band_for(ln.object_code)
        assert band is not None  # _require_complete refuses codes outside the table
        ln.tolerance_pct = band.pct
    plan.status, plan.comment, plan.approved_at = "approved", body.comment.strip(), utcnow()
    touch(plan)
    record(s, user, "grant_approve", "grant_plan", plan.id, before, snapshot(plan, lines))
    return plan


def seed_demo_grant(s: Session, district_id: str = "DEMO", fiscal_year: int = 2027) -> GrantPlan | None:
    """The demo district's draft school improvement grant plan (SYNTHETIC), unless it has a plan already."""
    count = select(func.count()).select_from(GrantPlan).where(GrantPlan.district_id == district_id)
    if s.scalar(count):
        return None  # the usual case, without taking the district's lock
    if locked(s, District, district_id) is None or s.scalar(count):
        return None
    from fairshare.web.grants_demo import demo_plan

    plan, lines = demo_plan(district_id, fiscal_year)
    s.add(plan)
    s.flush()
    for ln in lines:
        ln.plan_id = plan.id
        s.add(ln)
    s.flush()
    record(s, None, "grant_seed_demo", "grant_plan", plan.id, None, snapshot(plan, lines))
    return plan

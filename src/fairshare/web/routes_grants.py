"""Grant plans and draw-downs (flow 4): the API under ``/api/grants`` and the pages under ``/grants``.

The service (:mod:`fairshare.web.grants`) decides who may do what; these routes only translate. Roles
without access (principal, site council, partner viewer) get 403 ``forbidden``; another district's
plan is 404 ``not_found``. The demo district starts with a draft plan (:func:`fairshare.web.seed.seed_demo`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairshare.web import auth, grants, grants_funds
from fairshare.web.deps import CurrentActor, Db, Router
from fairshare.web.grants_rules import TOLERANCES, DrawdownIn, PlanEdit, PlanNew, ReviewIn, VersionIn
from fairshare.web.grants_views import (
    Balances,
    CarryOut,
    DrawdownOut,
    DrawdownResult,
    PlanOut,
    PlanSummary,
    balances,
    drawdown_out,
    plan_out,
    plan_summary,
)
from fairshare.web.models import District, Drawdown, GrantLine, School, User
from fairshare.web.problems import ApiError, error_responses
from fairshare.web.templating import templates as shared_templates

__all__ = ["NAV", "pages", "router"]

NAV = ("Grant plans", "/grants", grants.GRANT_ROLES)
router = Router(prefix="/grants", tags=["grants"])
pages = Router(include_in_schema=False)
templates = shared_templates()

ERRORS = error_responses(
    (403, "forbidden (role, CSRF token)"),
    (404, "no such plan or line that you can see"),
    (409, "stale version, wrong status, or a draw-down that does not fit"),
)
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LineId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class BandOut(BaseModel):
    first: int
    last: int
    tolerance_pct: int
    label: str


def _summaries(s: Session, user: User) -> list[PlanSummary]:
    names = {k: v for k, v in s.execute(select(District.id, District.name))}
    return [plan_summary(p, names.get(p.district_id, p.district_id)) for p in grants.list_plans(s, user)]


@router.get("/tolerances", response_model=list[BandOut], responses=ERRORS)
def tolerances(actor: CurrentActor) -> list[BandOut]:
    """The state's tolerance table: how far a draw-down may take a line, by object code range."""
    grants.require_grants(actor.user)
    return [BandOut(first=b.first, last=b.last, tolerance_pct=b.pct, label=b.label) for b in TOLERANCES]


@router.get("/plans", response_model=list[PlanSummary], responses=ERRORS)
def list_plans(actor: CurrentActor, s: Db) -> list[PlanSummary]:
    """The plans the user may see: their district's, or every district's for a state reviewer."""
    return _summaries(s, actor.user)


@router.post("/plans", status_code=201, response_model=PlanOut, responses=ERRORS)
def create_plan(body: PlanNew, actor: CurrentActor, s: Db) -> PlanOut:
    """Start a draft plan for a fiscal year (district budget officer; one per district and year)."""
    return plan_out(s, actor.user, grants.create_plan(s, actor.user, body))


@router.get("/plans/{plan_id}", response_model=PlanOut, responses=ERRORS)
def get_plan(plan_id: PlanId, actor: CurrentActor, s: Db) -> PlanOut:
    """A plan with its strategies, goals, lines and running balances, latest draw-downs and allowed actions."""
    return plan_out(s, actor.user, grants.plan_for(s, actor.user, plan_id))


@router.put("/plans/{plan_id}", response_model=PlanOut, responses=ERRORS)
def update_plan(plan_id: PlanId, body: PlanEdit, actor: CurrentActor, s: Db) -> PlanOut:
    """Replace a draft's award, strategies, goals and lines (send the version you loaded)."""
    return plan_out(s, actor.user, grants.update_plan(s, actor.user, plan_id, body))


@router.post("/plans/{plan_id}/submit", response_model=PlanOut, responses=ERRORS)
def submit(plan_id: PlanId, body: VersionIn, actor: CurrentActor, s: Db) -> PlanOut:
    """Submit the plan to the state (complete, and its lines within the award)."""
    return plan_out(s, actor.user, grants.submit(s, actor.user, plan_id, body))


@router.post("/plans/{plan_id}/request-changes", response_model=PlanOut, responses=ERRORS)
def request_changes(plan_id: PlanId, body: ReviewIn, actor: CurrentActor, s: Db) -> PlanOut:
    """Send a submitted plan back to the district with a comment (state reviewer)."""
    return plan_out(s, actor.user, grants.request_changes(s, actor.user, plan_id, body))


@router.post("/plans/{plan_id}/approve", response_model=PlanOut, responses=ERRORS)
def approve(plan_id: PlanId, body: ReviewIn, actor: CurrentActor, s: Db) -> PlanOut:
    """Approve a submitted plan (state reviewer); each line's tolerance is fixed from the table."""
    return plan_out(s, actor.user, grants.approve(s, actor.user, plan_id, body))


@router.post("/plans/{plan_id}/carry-forward", response_model=CarryOut, responses=ERRORS)
def carry_forward(plan_id: PlanId, body: VersionIn, actor: CurrentActor, s: Db) -> CarryOut:
    """Close an approved plan and carry each line's unspent own money into next year's plan (once)."""
    return grants_funds.carry_forward(s, actor.user, plan_id, body)


@router.get("/plans/{plan_id}/balances", response_model=Balances, responses=ERRORS)
def get_balances(plan_id: PlanId, actor: CurrentActor, s: Db) -> Balances:
    """Running balances per line (amount, tolerance, carried, ceiling, drawn, available) and the plan's totals."""
    return balances(s, grants.plan_for(s, actor.user, plan_id))


def _line_plan(s: Session, user: User, line_id: int) -> int:
    plan_id = s.scalar(select(GrantLine.plan_id).where(GrantLine.id == line_id))
    if plan_id is None:
        raise ApiError(404, "not_found", f"no grant line {line_id} you can see")
    grants.plan_for(s, user, plan_id)
    return plan_id


@router.get("/lines/{line_id}/drawdowns", response_model=list[DrawdownOut], responses=ERRORS)
def list_drawdowns(line_id: LineId, actor: CurrentActor, s: Db) -> list[DrawdownOut]:
    """Every draw-down of a line, newest first."""
    _line_plan(s, actor.user, line_id)
    rows = s.execute(
        select(Drawdown, User.email)
        .join(User, User.id == Drawdown.created_by)
        .where(Drawdown.line_id == line_id)
        .order_by(Drawdown.id.desc())
    )
    return [drawdown_out(d, e) for d, e in rows]


@router.post("/lines/{line_id}/drawdowns", status_code=201, response_model=DrawdownResult, responses=ERRORS)
def request_drawdown(line_id: LineId, body: DrawdownIn, actor: CurrentActor, s: Db) -> DrawdownResult:
    """Draw money on a line of an approved plan, with its backup; refused (409) when it does not fit."""
    return grants_funds.request_drawdown(s, actor.user, line_id, body)


# pages --------------------------------------------------------------------------------------------


def _page(request: Request, name: str, user: User, csrf: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": user, "csrf": csrf, **ctx}, status_code=status)


def _refused(request: Request, user: User, csrf: str, e: ApiError) -> HTMLResponse:
    title = "Not allowed" if e.status == 403 else "Not found"
    return _page(request, "grants_refused.html.j2", user, csrf, e.status, title=title, message=e.message)


@pages.get("/grants", response_model=None)
def grants_page(request: Request, s: Db) -> HTMLResponse | RedirectResponse:
    found = auth.user_for(s, request.cookies.get(auth.COOKIE))
    if found is None:
        return RedirectResponse("/", status_code=303)
    user, session = found
    try:
        plans = _summaries(s, user)
    except ApiError as e:
        return _refused(request, user, session.csrf_token, e)
    return _page(
        request,
        "grants_list.html.j2",
        user,
        session.csrf_token,
        title="Grant plans",
        plans=plans,
        can_create=user.role == "district_budget_officer",
    )


@pages.get("/grants/{plan_id}", response_model=None)
def plan_page(request: Request, plan_id: PlanId, s: Db) -> HTMLResponse | RedirectResponse:
    found = auth.user_for(s, request.cookies.get(auth.COOKIE))
    if found is None:
        return RedirectResponse("/", status_code=303)
    user, session = found
    try:
        plan = plan_out(s, user, grants.plan_for(s, user, plan_id))
    except ApiError as e:
        return _refused(request, user, session.csrf_token, e)
    schools = [
        {"id": i, "name": n}
        for i, n in s.execute(
            select(School.id, School.name).where(School.district_id == plan.district_id).order_by(School.id)
        )
    ]
    bands = [{"first": b.first, "last": b.last, "pct": b.pct, "label": b.label} for b in TOLERANCES]
    data = {"plan": plan.model_dump(mode="json"), "schools": schools, "bands": bands}
    return _page(
        request,
        "grant_plan.html.j2",
        user,
        session.csrf_token,
        title=f"{plan.label} grant plan",
        plan=plan,
        data=data,
        bands=TOLERANCES,
    )

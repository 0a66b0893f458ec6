"""Restricted fund and partner selection: the API (``/api/partner-plans``, ``/api/partner-contracts``)
and pages (``/partners``); the rules are in :mod:`fairshare.web.partner_plans`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from fairshare.web import partner_plans as pp
from fairshare.web.deps import CurrentActor, Db, Router
from fairshare.web.models import User
from fairshare.web.plan_routes import CHANGE_ERRORS, ERRORS, SchoolId, page
from fairshare.web.workflow import Step

__all__ = ["NAV", "pages", "router"]

NAV = ("Partner selection", "/partners", (*pp.READERS, "partner_viewer"))

router = Router(tags=["partners"])
pages = Router(include_in_schema=False)


@router.get("/partner-contracts", response_model=pp.ContractsOut, responses=ERRORS)
def get_contracts(actor: CurrentActor, s: Db) -> pp.ContractsOut:
    """The approved plans' partner contracts, by partner (partner viewers, the district, the state)."""
    return pp.contracts(s, actor.user)


@router.get("/partner-plans", response_model=pp.PlansOut, responses=ERRORS)
def list_plans(actor: CurrentActor, s: Db) -> pp.PlansOut:
    """Every funded school's partner plan the user can see: allocation, selection and status."""
    return pp.overview(s, actor.user)


@router.get("/partner-plans/{school_id}", response_model=pp.PlanOut, responses=ERRORS)
def get_plan(school_id: SchoolId, actor: CurrentActor, s: Db) -> pp.PlanOut:
    """A funded school's restricted allocation, its partner selection, approvals and history."""
    return pp.plan_view(s, actor.user, school_id)


@router.put("/partner-plans/{school_id}/selections", response_model=pp.PlanOut, responses=CHANGE_ERRORS)
def put_selections(school_id: SchoolId, body: pp.SelectionsIn, actor: CurrentActor, s: Db) -> pp.PlanOut:
    """The principal replaces the selection (422 with the engine's codes when a rule is broken)."""
    return pp.edit_selections(s, actor.user, school_id, body)


@router.post("/partner-plans/{school_id}/submit", response_model=pp.PlanOut, responses=CHANGE_ERRORS)
def post_submit(school_id: SchoolId, body: Step, actor: CurrentActor, s: Db) -> pp.PlanOut:
    """The principal submits the plan to the school site council."""
    return pp.submit(s, actor.user, school_id, body)


@router.post("/partner-plans/{school_id}/approve", response_model=pp.PlanOut, responses=CHANGE_ERRORS)
def post_approve(school_id: SchoolId, body: Step, actor: CurrentActor, s: Db) -> pp.PlanOut:
    """The site council (a submitted plan), then the superintendent (a council-approved plan), approve."""
    return pp.approve(s, actor.user, school_id, body)


@router.post("/partner-plans/{school_id}/return", response_model=pp.PlanOut, responses=CHANGE_ERRORS)
def post_return(school_id: SchoolId, body: Step, actor: CurrentActor, s: Db) -> pp.PlanOut:
    """The site council or the superintendent returns the plan to the principal with a comment."""
    return pp.return_plan(s, actor.user, school_id, body)


# ----------------------------------------------------------------------------- pages


@pages.get("/partners", response_model=None)
def partners_page(request: Request, s: Db) -> Response:
    def build(user: User) -> dict[str, Any] | Response:
        if user.role == "partner_viewer":
            return RedirectResponse("/partners/contracts", status_code=303)
        view = pp.overview(s, user)
        if user.role in ("principal", "site_council") and user.school_id:
            return RedirectResponse(f"/partners/{user.school_id}", status_code=303)
        return {"view": view}

    return page(request, s, "partners.html.j2", "Partner plans", build)


@pages.get("/partners/contracts", response_model=None)
def contracts_page(request: Request, s: Db) -> Response:
    def build(user: User) -> dict[str, Any]:
        return {"view": pp.contracts(s, user)}

    return page(request, s, "partner_contracts.html.j2", "Contracts by partner", build)


@pages.get("/partners/{school_id}", response_model=None)
def plan_page(school_id: SchoolId, request: Request, s: Db) -> Response:
    def build(user: User) -> dict[str, Any]:
        view = pp.plan_view(s, user, school_id)
        return {"p": view, "title": f"Partner plan, {view.school_name}"}

    return page(request, s, "partner_plan.html.j2", "Partner plan", build)

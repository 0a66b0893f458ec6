"""The principal budget builder's API (``/api/budgets``) and pages (``/budgets``); the rules are in
:mod:`fairshare.web.budgets`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from fairshare.web import budgets
from fairshare.web.deps import CurrentActor, Db, Router
from fairshare.web.models import User
from fairshare.web.plan_routes import CHANGE_ERRORS, ERRORS, SchoolId, letter_response, page
from fairshare.web.workflow import Step

__all__ = ["NAV", "pages", "router"]

NAV = ("School budgets", "/budgets", budgets.READERS)

router = Router(prefix="/budgets", tags=["budgets"])
pages = Router(include_in_schema=False)


@router.get("", response_model=budgets.OverviewOut, responses=ERRORS)
def list_budgets(actor: CurrentActor, s: Db) -> budgets.OverviewOut:
    """Every school's budget the user can see, with its status (the district's overview)."""
    return budgets.overview(s, actor.user)


@router.get("/{school_id}", response_model=budgets.BudgetOut, responses=ERRORS)
def get_budget(school_id: SchoolId, actor: CurrentActor, s: Db) -> budgets.BudgetOut:
    """A school's starter budget as positions and dollars, its trades, status and history."""
    return budgets.budget_view(s, actor.user, school_id)


@router.put("/{school_id}/trades", response_model=budgets.BudgetOut, responses=CHANGE_ERRORS)
def put_trades(school_id: SchoolId, body: budgets.TradesIn, actor: CurrentActor, s: Db) -> budgets.BudgetOut:
    """The principal replaces the school's trades (422 with the engine's codes when a rule is broken)."""
    return budgets.edit_trades(s, actor.user, school_id, body)


@router.post("/{school_id}/submit", response_model=budgets.BudgetOut, responses=CHANGE_ERRORS)
def post_submit(school_id: SchoolId, body: Step, actor: CurrentActor, s: Db) -> budgets.BudgetOut:
    """The principal submits the budget to the district budget office."""
    return budgets.submit(s, actor.user, school_id, body)


@router.post("/{school_id}/approve", response_model=budgets.BudgetOut, responses=CHANGE_ERRORS)
def post_approve(school_id: SchoolId, body: Step, actor: CurrentActor, s: Db) -> budgets.BudgetOut:
    """The district budget officer approves a submitted budget."""
    return budgets.approve(s, actor.user, school_id, body)


@router.post("/{school_id}/return", response_model=budgets.BudgetOut, responses=CHANGE_ERRORS)
def post_return(school_id: SchoolId, body: Step, actor: CurrentActor, s: Db) -> budgets.BudgetOut:
    """The district budget officer returns a submitted budget with a comment."""
    return budgets.return_budget(s, actor.user, school_id, body)


# ----------------------------------------------------------------------------- pages


@pages.get("/budgets", response_model=None)
def budgets_page(request: Request, s: Db) -> Response:
    def build(user: User) -> dict[str, Any] | Response:
        view = budgets.overview(s, user)
        if user.role == "principal" and user.school_id:
            return RedirectResponse(f"/budgets/{user.school_id}", status_code=303)
        return {"view": view}

    return page(request, s, "budgets.html.j2", "School budgets", build)


@pages.get("/budgets/{school_id}", response_model=None)
def budget_page(school_id: SchoolId, request: Request, s: Db) -> Response:
    def build(user: User) -> dict[str, Any]:
        view = budgets.budget_view(s, user, school_id)
        return {
            "b": view,
            "letter": budgets.letter_html(s, school_id),
            "notes": {t.role: t.note for t in view.trades if t.note},
            "title": f"Budget, {view.school_name}",
        }

    return page(request, s, "budget.html.j2", "School budget", build)


@pages.get("/budgets/{school_id}/letter", response_model=None)
def letter_page(school_id: SchoolId, request: Request, s: Db) -> Response:
    """The letter alone (to print): served sandboxed, like the page's frame."""

    def build(user: User) -> Response:
        budgets.budget_view(s, user, school_id)  # the same access rules as the budget
        return letter_response(budgets.letter_html(s, school_id))

    return page(request, s, "budget.html.j2", "Budget letter", build)

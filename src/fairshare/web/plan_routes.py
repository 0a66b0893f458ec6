"""What the routes of the plan flows (budgets, partner plans) share: the school id path parameter, the
error responses in the OpenAPI schema, and server-rendered pages: the signed-in user or the sign-in
page, templates that always escape, money and FTE as text, refusals as pages.

A page decides who may see what with the same service calls as the API (403 for a role that may not,
404 for a school out of reach), and its script changes things only through the API.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session as DbSession

from fairshare.report.html import fiscal_year_label
from fairshare.web.auth import COOKIE, user_for
from fairshare.web.models import User
from fairshare.web.problems import ApiError, error_responses
from fairshare.web.templating import templates

__all__ = ["CHANGE_ERRORS", "ERRORS", "TEMPLATES", "SchoolId", "fy_label", "letter_response", "page", "status_text"]

HERE = Path(__file__).parent
SchoolId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
ERRORS = error_responses()
CHANGE_ERRORS = error_responses((409, "stale_version or plan_status"))


def fy_label(fiscal_year: int) -> str:
    """'FY 2026 (2025-26)' for the fiscal year named by the year it ends in (July to June)."""
    return fiscal_year_label(f"{fiscal_year - 1}-07-01")


def status_text(status: str) -> str:
    return status.replace("_", " ")


TEMPLATES = templates()
TEMPLATES.env.filters.update(status=status_text, fy=fy_label)


def page(
    request: Request, s: DbSession, template: str, title: str, build: Callable[[User], dict[str, Any] | Response]
) -> Response:
    """Render ``template`` with what ``build(user)`` gives (or return its response); signed out: the
    sign-in page; a refusal (:class:`ApiError`): a page saying so, with the API's status."""
    found = user_for(s, request.cookies.get(COOKIE))
    if found is None:
        return RedirectResponse("/", status_code=303)
    user, session = found
    base = {"user": user, "csrf": session.csrf_token, "title": title}
    try:
        ctx = build(user)
    except ApiError as exc:
        return TEMPLATES.TemplateResponse(
            request,
            "plan_refused.html.j2",
            {**base, "title": "Not available", "status": exc.status, "message": exc.message},
            status_code=exc.status,
        )
    if isinstance(ctx, Response):
        return ctx
    return TEMPLATES.TemplateResponse(request, template, {**base, **ctx})


def letter_response(html: str) -> HTMLResponse:
    """A document the project renders, served so that it can run nothing and load nothing."""
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            "X-Content-Type-Options": "nosniff",
        },
    )

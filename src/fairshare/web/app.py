"""The workbench application: ``create_app(settings)`` builds the FastAPI app over one database.

On start the schema is migrated to the latest revision and, with ``settings.demo`` and an empty
database, the demo district is seeded (:mod:`fairshare.web.seed`). Every API route lives under
``/api`` and is described by the OpenAPI schema at ``/api/openapi.json``; pages are server-rendered
(Jinja2) and call the same API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sqlalchemy import select

from fairshare import __version__
from fairshare.web import auth
from fairshare.web.audit import record
from fairshare.web.db import Database
from fairshare.web.deps import CurrentActor, Db, ReadDb, Router, require_json
from fairshare.web.models import AuditEntry, School, User
from fairshare.web.problems import error_responses, install_handlers
from fairshare.web.settings import Settings
from fairshare.web.templating import templates

__all__ = ["create_app"]

HERE = Path(__file__).parent
ERRORS = error_responses()


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    district_id: str | None
    school_id: str | None


class MeOut(BaseModel):
    user: UserOut
    csrf_token: str


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def user_out(u: User) -> UserOut:
    return UserOut(id=u.id, email=u.email, name=u.name, role=u.role, district_id=u.district_id, school_id=u.school_id)


def _auth_routes(api: Router) -> None:
    @api.post("/login", response_model=MeOut, responses=ERRORS)
    def login(body: LoginIn, request: Request, response: Response, r: ReadDb, s: Db) -> MeOut:
        """Sign in with email and password; sets the session cookie and returns the CSRF token."""
        require_json(request)
        st: Settings = request.app.state.settings
        user, token, row = auth.sign_in(r, s, body.email, body.password, st.session_lifetime)
        auth.set_cookie(response, token, st.secure_cookies, st.session_lifetime)
        record(s, user, "sign_in", "user", user.id, None, None)
        return MeOut(user=user_out(user), csrf_token=row.csrf_token)

    @api.post("/logout", status_code=204, responses=ERRORS)
    def logout(request: Request, actor: CurrentActor, s: Db) -> Response:
        """Sign out: the session ends on the server and the cookie is cleared."""
        auth.sign_out(s, request.cookies.get(auth.COOKIE))
        record(s, actor.user, "sign_out", "user", actor.user.id, None, None)
        response = Response(status_code=204)
        response.delete_cookie(auth.COOKIE, path="/")
        return response

    @api.get("/me", response_model=MeOut, responses=ERRORS)
    def me(actor: CurrentActor) -> MeOut:
        """The signed-in user and the session's CSRF token (send it as X-CSRF-Token)."""
        return MeOut(user=user_out(actor.user), csrf_token=actor.session.csrf_token)

    @api.get("/audit", response_model=list[AuditOut], responses=ERRORS)
    def audit(actor: CurrentActor, s: Db, limit: int = 100) -> list[AuditOut]:
        """The latest audit entries (state reviewers and district budget officers)."""
        auth.require_role(actor.user, "state_reviewer", "district_budget_officer")
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000))))
        return [
            AuditOut(
                id=r.id,
                at=r.at.isoformat(),
                actor=r.actor,
                action=r.action,
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                before=r.before,
                after=r.after,
            )
            for r in rows
        ]


def create_app(settings: Settings) -> FastAPI:
    db = Database(settings.url, settings.write_wait)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        db.dispose()

    db.migrate()
    if settings.demo:
        from fairshare.web.seed import seed_demo

        seed_demo(db)
    app = FastAPI(
        title="fairshare workbench",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    install_handlers(app)
    api = Router(prefix="/api")
    _auth_routes(api)
    from fairshare.web.routes import flows, register

    register(app, api)
    app.include_router(api)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    pages = Router(include_in_schema=False)

    @pages.get("/", response_model=None)
    def home(request: Request, s: Db) -> HTMLResponse | RedirectResponse:
        found = auth.user_for(s, request.cookies.get(auth.COOKIE))
        if found is None:
            return templates().TemplateResponse(
                request, "login.html.j2", {"title": "Sign in", "user": None, "csrf": None}
            )
        user, session = found
        schools = s.scalars(select(School).order_by(School.id)).all() if user.role != "partner_viewer" else []
        visible = [x for x in schools if auth.can_see_school(s, user, x.id)]
        nav = [m.NAV for m in flows() if user.role in m.NAV[2]]
        return templates().TemplateResponse(
            request,
            "home.html.j2",
            {"title": "Workbench", "user": user, "csrf": session.csrf_token, "schools": visible, "nav": nav},
        )

    app.include_router(pages)
    return app

"""Request dependencies: the database session of a request and the signed-in actor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session as DbSession

from fairshare.web.auth import COOKIE, UNSAFE, check_csrf, user_for
from fairshare.web.db import Database
from fairshare.web.models import Session, User
from fairshare.web.problems import ApiError
from fairshare.web.settings import Settings

__all__ = ["Actor", "CurrentActor", "Db", "database", "settings"]


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


def db_session(db: Annotated[Database, Depends(database)]) -> Iterator[DbSession]:
    """One transaction per request: committed when the endpoint returns, rolled back if it raises."""
    with db.session() as s:
        yield s


Db = Annotated[DbSession, Depends(db_session, scope="function")]


@dataclass(frozen=True)
class Actor:
    user: User
    session: Session


def require_json(request: Request) -> None:
    if request.method in UNSAFE and request.headers.get("content-length", "0") not in ("", "0"):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError(415, "unsupported_media_type", "send the request body as application/json")


def current_actor(request: Request, s: Db) -> Actor:
    """The signed-in user (401 without a valid session); state-changing requests need the CSRF token."""
    require_json(request)
    found = user_for(s, request.cookies.get(COOKIE))
    if found is None:
        raise ApiError(401, "not_signed_in", "sign in first")
    user, session = found
    check_csrf(request, session)
    return Actor(user, session)


CurrentActor = Annotated[Actor, Depends(current_actor)]

"""Request dependencies and routing: the database session of a request, the signed-in actor, and the
router every workbench endpoint is declared on.

**Transactions.** A request gets one session (:data:`Db`): read-only for GET and HEAD, a write
transaction for the others (:class:`fairshare.web.db.Database`); :data:`ReadDb` is read-only whatever
the method (the signed-in user's lookup, previews). Every endpoint declared on a
:class:`Router` commits its session as its last step, or rolls it back if it raises, *in the thread
that ran it*. Committing later, in the dependency's teardown, would need another worker thread: when
every thread is waiting for a lock held by a request that has finished its work, that request could
never commit (the load test found this). The teardown only closes the session.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session as DbSession

from fairshare.web.auth import COOKIE, UNSAFE, check_csrf, user_for
from fairshare.web.db import Database
from fairshare.web.models import Session, User
from fairshare.web.problems import ApiError
from fairshare.web.settings import Settings

__all__ = ["Actor", "CurrentActor", "Db", "ReadDb", "Router", "database", "settings", "transactional"]

_TX = "__fairshare_transactional__"


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


def db_session(request: Request, db: Annotated[Database, Depends(database)]) -> Iterator[DbSession]:
    """The request's session: read-only for GET and HEAD; the endpoint commits it (:func:`transactional`)."""
    s = db.new_session(write=request.method in UNSAFE)
    try:
        yield s
    finally:
        s.close()  # rolls back whatever was not committed


def read_session(db: Annotated[Database, Depends(database)]) -> Iterator[DbSession]:
    """A read-only session for a request that changes nothing whatever its method (a preview)."""
    s = db.new_session(write=False)
    try:
        yield s
    finally:
        s.close()


Db = Annotated[DbSession, Depends(db_session, scope="function")]
ReadDb = Annotated[DbSession, Depends(read_session, scope="function")]


def transactional(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` committing the database sessions it was given when it returns, rolling them back
    when it raises, in its own thread (see the module's note)."""
    if getattr(endpoint, _TX, False) or inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [v for v in kwargs.values() if isinstance(v, DbSession)]
        try:
            result = endpoint(*args, **kwargs)
        except BaseException:
            for s in sessions:
                s.rollback()
            raise
        for s in sessions:
            s.commit()
        return result

    setattr(run, _TX, True)
    return run


def is_transactional(endpoint: Callable[..., Any]) -> bool:
    return bool(getattr(endpoint, _TX, False))


class Router(APIRouter):
    """An ``APIRouter`` whose endpoints are :func:`transactional`."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().add_api_route(path, transactional(endpoint), *args, **kwargs)


@dataclass(frozen=True)
class Actor:
    user: User
    session: Session


def require_json(request: Request) -> None:
    if request.method in UNSAFE and request.headers.get("content-length", "0") not in ("", "0"):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError(415, "unsupported_media_type", "send the request body as application/json")


def current_actor(request: Request, s: ReadDb) -> Actor:
    """The signed-in user (401 without a valid session); state-changing requests need the CSRF token.
    The lookup is read-only and its transaction ends here: it never waits for the write lock, and holds
    nothing while the endpoint waits for its thread."""
    require_json(request)
    try:
        found = user_for(s, request.cookies.get(COOKIE))
    finally:
        s.commit()
    if found is None:
        raise ApiError(401, "not_signed_in", "sign in first")
    user, session = found
    check_csrf(request, session)
    return Actor(user, session)


CurrentActor = Annotated[Actor, Depends(current_actor)]

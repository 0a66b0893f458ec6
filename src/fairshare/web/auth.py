"""Accounts, sessions, CSRF and who may see what.

* Passwords are hashed with Argon2id (argon2-cffi). A session is a random 256-bit token in an
  ``HttpOnly``, ``SameSite=Lax`` (and ``Secure``) cookie; the database keeps only its SHA-256, with an
  expiry. Signing out deletes the row.
* **CSRF**: every request that changes something (POST, PUT, PATCH, DELETE) must carry the session's
  CSRF token in the ``X-CSRF-Token`` header (double check with the cookie-bound session); and the API
  accepts only JSON bodies, which a cross-site form cannot send. The token is given by ``GET /api/me``
  and in the pages' ``<meta name="csrf-token">``.
* **Scope**: :func:`can_see_school` and :func:`can_see_district` decide on the server, for every
  request, what a user's role and school or district let them reach. A principal reaches only their
  school; a site council member only their school's partner plan; a district budget officer and a
  superintendent their district; a state reviewer every district; a partner viewer the contracts only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from fairshare.web.models import School, Session, User, utcnow
from fairshare.web.problems import ApiError

__all__ = [
    "COOKIE",
    "UNSAFE",
    "can_see_district",
    "can_see_school",
    "check_csrf",
    "hash_password",
    "require_role",
    "sign_in",
    "sign_out",
    "user_for",
]

COOKIE = "fairshare_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(
    read: DbSession, write: DbSession, email: str, password: str, lifetime: dt.timedelta
) -> tuple[User, str, Session]:
    """Check the password; a new session (its cookie token and the row). Wrong email or password: 401.

    The account is looked up in the read-only session ``read``; the new session row is added to
    ``write``, whose transaction begins only then: no write lock is held while the deliberately slow
    password check (Argon2, about 0.3 s) runs. The caller commits."""
    user = read.scalars(select(User).where(User.email == email.strip().lower())).first()
    ok = False
    if user is not None:
        try:
            ok = _HASHER.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _HASHER.hash(password)  # the same work whether or not the account exists
    if not ok or user is None:
        raise ApiError(401, "bad_credentials", "the email or the password is wrong")
    token = secrets.token_urlsafe(32)
    row = Session(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + lifetime,
    )
    write.add(row)
    return user, token, row


def sign_out(s: DbSession, token: str | None) -> None:
    if token:
        s.execute(delete(Session).where(Session.token_hash == _digest(token)))


def user_for(s: DbSession, token: str | None) -> tuple[User, Session] | None:
    """The signed-in user and session of a cookie token, or None (no cookie, unknown or expired)."""
    if not token:
        return None
    row = s.get(Session, _digest(token))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    if expires <= utcnow():
        return None
    user = s.get(User, row.user_id)
    return (user, row) if user is not None else None


def set_cookie(response: Response, token: str, secure: bool, lifetime: dt.timedelta) -> None:
    response.set_cookie(
        COOKIE, token, max_age=int(lifetime.total_seconds()), httponly=True, secure=secure, samesite="lax", path="/"
    )


def check_csrf(request: Request, session: Session) -> None:
    """Refuse a state-changing request without the session's CSRF token (403)."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise ApiError(403, "csrf", "the request has no valid CSRF token (X-CSRF-Token header)")


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise ApiError(403, "forbidden", f"a {user.role.replace('_', ' ')} may not do this")


def can_see_district(user: User, district_id: str) -> bool:
    if user.role == "state_reviewer":
        return True
    return user.district_id == district_id and user.role in ("district_budget_officer", "superintendent")


def can_see_school(s: DbSession, user: User, school_id: str) -> bool:
    if user.role in ("principal", "site_council"):
        return user.school_id == school_id
    school = s.get(School, school_id)
    return school is not None and can_see_district(user, school.district_id)


def school_guard(s: DbSession, user: User) -> Callable[[str], None]:
    """A check that raises 404 for a school the user may not reach (no hint that it exists)."""

    def check(school_id: str) -> None:
        if not can_see_school(s, user, school_id):
            raise ApiError(404, "not_found", f"no school {school_id!r} you can see")

    return check

"""What the reviewed plans of a school share (school budgets, partner plans): one row per school and
fiscal year, created on its first change; optimistic locking; status steps; comments; history.

* A plan that was never changed has no row: it reads as a ``draft`` at version 1. The first change
  inserts the row (in a savepoint: if another request inserted it first, that row is used and the
  version check refuses the stale change) and changes it in the same transaction.
* Every change names the ``version`` it was made on; another version is refused with 409 ``stale_version``.
  The row is locked for the change (``SELECT … FOR UPDATE`` on PostgreSQL, SQLite's write lock).
* A step from a status that does not allow it is refused with 409 ``plan_status``; a return without a
  comment with 422 ``comment_required``.
* Every change is audited (before and after) in the change's transaction; the history shown on a
  plan's page is read back from the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairshare.web.audit import record
from fairshare.web.models import AuditEntry, PartnerPlan, School, SchoolBudget, User, utcnow
from fairshare.web.problems import ApiError

__all__ = [
    "COMMENT_MAX",
    "HistoryOut",
    "Step",
    "change",
    "check_status",
    "check_version",
    "entity_key",
    "find",
    "history",
    "require_comment",
    "school_or_404",
]

M = TypeVar("M", SchoolBudget, PartnerPlan)
COMMENT_MAX = 2000


class Step(BaseModel):
    """A status step: the version it is made on and an optional comment."""

    version: int = Field(ge=1, description="the version the change is made on (optimistic locking)")
    comment: str = Field(default="", max_length=COMMENT_MAX)


class HistoryOut(BaseModel):
    at: str
    actor: str
    action: str
    status: str | None
    comment: str


def entity_key(school_id: str, fiscal_year: int) -> str:
    """The audit log's entity id of a school's plan for a year: ``S001/2026``."""
    return f"{school_id}/{fiscal_year}"


def school_or_404(s: Session, school_id: str) -> School:
    school = s.get(School, school_id)
    if school is None:
        raise ApiError(404, "not_found", f"no school {school_id!r} you can see")
    return school


def find(s: Session, model: type[M], school_id: str, fiscal_year: int, *, lock: bool = False) -> M | None:
    stmt = select(model).where(model.school_id == school_id, model.fiscal_year == fiscal_year)
    if lock and s.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return s.scalars(stmt).first()


def _row_for_change(s: Session, model: type[M], school_id: str, fiscal_year: int, new: Callable[[], M]) -> M:
    row = find(s, model, school_id, fiscal_year, lock=True)
    if row is not None:
        return row
    try:
        with s.begin_nested():
            row = new()
            s.add(row)
    except IntegrityError:  # another request created it meanwhile: change that row (its version decides)
        row = find(s, model, school_id, fiscal_year, lock=True)
        if row is None:  # pragma: no cover - the conflicting row cannot vanish
            raise
    return row


def check_version(row: SchoolBudget | PartnerPlan, sent: int, what: str) -> None:
    if sent != row.version:
        raise ApiError(
            409,
            "stale_version",
            f"the {what} changed since you loaded it (it is at version {row.version}, the change was made on "
            f"version {sent}); reload it and make the change again",
        )


def check_status(row: SchoolBudget | PartnerPlan, allowed: Iterable[str], doing: str, what: str) -> None:
    ok = tuple(allowed)
    if row.status not in ok:
        raise ApiError(
            409,
            "plan_status",
            f"cannot {doing} a {what} that is {row.status.replace('_', ' ')} (only when {' or '.join(ok)})",
        )


def require_comment(comment: str, doing: str) -> str:
    text = comment.strip()
    if not text:
        raise ApiError(
            422,
            "comment_required",
            f"say why: a comment is required to {doing}",
            [{"code": "comment_required", "message": f"a comment is required to {doing}", "column": "comment"}],
        )
    return text


def change(
    s: Session,
    user: User,
    model: type[M],
    school_id: str,
    fiscal_year: int,
    *,
    new: Callable[[], M],
    snapshot: Callable[[M], dict[str, Any]],
    version: int,
    what: str,
    action: str,
    apply: Callable[[M], None],
) -> M:
    """Lock (or create) the row, check the version, ``apply`` the change, bump the version, audit."""
    row = _row_for_change(s, model, school_id, fiscal_year, new)
    check_version(row, version, what)
    before = snapshot(row)
    apply(row)
    row.version = row.version + 1
    row.updated_at = utcnow()
    s.flush()
    record(s, user, action, model.__tablename__, entity_key(school_id, fiscal_year), before, snapshot(row))
    return row


def history(s: Session, entity_type: str, key: str) -> list[HistoryOut]:
    """The plan's changes from the audit log, oldest first."""
    rows = s.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == key)
        .order_by(AuditEntry.id)
    )
    out = []
    for r in rows:
        after = r.after or {}
        out.append(
            HistoryOut(
                at=r.at.isoformat(timespec="seconds"),
                actor=r.actor,
                action=r.action,
                status=after.get("status"),
                comment=str(after.get("comment") or "") if r.action.endswith(("return", "approve")) else "",
            )
        )
    return out

"""The workbench's tables (SQLAlchemy 2 ORM). Alembic migrations in ``web/migrations`` create them.

Money is integer cents (``BIGINT``). Rows that people edit in turn carry a ``version`` (optimistic
locking: a stale edit is refused, never silently overwritten). ``audit_log`` is append-only: the
migration adds triggers that refuse UPDATE and DELETE on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ROLES",
    "AuditEntry",
    "Base",
    "Dataset",
    "District",
    "Drawdown",
    "GrantLine",
    "GrantPlan",
    "PartnerPlan",
    "Scenario",
    "School",
    "SchoolBudget",
    "Session",
    "User",
    "utcnow",
]

#: every role of the workbench (see docs/workbench.md for what each may do)
ROLES = (
    "state_reviewer",
    "district_budget_officer",
    "principal",
    "site_council",
    "superintendent",
    "partner_viewer",
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class District(Base):
    __tablename__ = "district"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class School(Base):
    __tablename__ = "school"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    district_id: Mapped[str | None] = mapped_column(ForeignKey("district.id"), nullable=True)
    school_id: Mapped[str | None] = mapped_column(ForeignKey("school.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Session(Base):
    __tablename__ = "app_session"
    #: SHA-256 of the cookie's token: a stolen database does not yield live cookies
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(80))
    entity_id: Mapped[str] = mapped_column(String(120))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Scenario(Base):
    __tablename__ = "scenario"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: the share link's key (random, unguessable)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(80), doc="the simulator model: formula and data set")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Dataset(Base):
    """A data set a user uploaded for a simulator model, checked against the formula's input contract."""

    __tablename__ = "dataset"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    model: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SchoolBudget(Base):
    """A school's budget for a year: the starter budget's proposed trades and their review."""

    __tablename__ = "school_budget"
    __table_args__ = (UniqueConstraint("school_id", "fiscal_year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("school.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    #: draft -> submitted -> approved | returned (-> draft again)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    trades: Mapped[list[Any]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PartnerPlan(Base):
    """A school's choice of vetted partners for its restricted allocation, and its approvals."""

    __tablename__ = "partner_plan"
    __table_args__ = (UniqueConstraint("school_id", "fiscal_year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("school.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    allocation_cents: Mapped[int] = mapped_column(BigInteger)
    #: draft -> submitted -> council_approved -> approved | returned
    status: Mapped[str] = mapped_column(String(20), default="draft")
    selections: Mapped[list[Any]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GrantPlan(Base):
    """A district's plan for a state grant: strategies, goals and budget lines, reviewed by the state."""

    __tablename__ = "grant_plan"
    __table_args__ = (UniqueConstraint("district_id", "fiscal_year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("district.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    award_cents: Mapped[int] = mapped_column(BigInteger)
    #: draft -> submitted -> approved | changes_requested (-> draft again)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    strategies: Mapped[list[Any]] = mapped_column(JSON, default=list)
    goals: Mapped[list[Any]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GrantLine(Base):
    __tablename__ = "grant_line"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("grant_plan.id"), index=True)
    school_id: Mapped[str | None] = mapped_column(ForeignKey("school.id"), nullable=True)
    object_code: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(80), default="")
    fte: Mapped[float] = mapped_column(Float, default=0.0)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    #: a draw-down may take the line up to this percent of its amount (e.g. 110)
    tolerance_pct: Mapped[int] = mapped_column(Integer, default=100)
    drawn_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    #: unspent money carried forward from the year before (one year only)
    carried_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class Drawdown(Base):
    __tablename__ = "drawdown"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("grant_line.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    backup: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

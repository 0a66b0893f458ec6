"""Restricted fund and partner selection (issue 8, flow 3): a funded school picks vetted partners with
amounts from its restricted partnership allocation; its site council, then the instructional
superintendent, approve; the district and the partners see the resulting contracts by partner.

The allocation is the engine's (:func:`fairshare.programs.fund.allocate_fund` on the demo fund, see
:mod:`demo_engine`), and so are the rules of a selection (:func:`fairshare.programs.partners.check_selections`:
``unknown_partner``, ``partner_not_vetted``, ``selection_over_budget``): the selection is written as the
one-school selections table the engine reads, in a temporary directory, and the engine's problems are
answered as 422 with their row numbered as the selection's place in the list (1 = first).

Statuses: ``draft`` → ``submitted`` (principal) → ``council_approved`` (site council of the school) →
``approved`` (superintendent of the district); the council or the superintendent may instead return it
(``returned``, a comment is required), and it is a draft again on the principal's next edit.
"""

from __future__ import annotations

import csv
import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairshare.errors import InputError, Problem
from fairshare.programs.partners import check_selections
from fairshare.web import workflow as wf
from fairshare.web.auth import can_see_school, require_role, school_guard
from fairshare.web.demo_engine import DemoEngine, demo_engine, engine_call
from fairshare.web.models import PartnerPlan, School, User
from fairshare.web.problems import ApiError

__all__ = [
    "CONTRACT_READERS",
    "READERS",
    "STATUSES",
    "ContractsOut",
    "PlanOut",
    "PlansOut",
    "SelectionsIn",
    "approve",
    "contracts",
    "edit_selections",
    "overview",
    "plan_view",
    "return_plan",
    "submit",
]

STATUSES = ("draft", "submitted", "council_approved", "approved", "returned")
READERS = ("principal", "site_council", "superintendent", "district_budget_officer", "state_reviewer")
CONTRACT_READERS = ("partner_viewer", "superintendent", "district_budget_officer", "state_reviewer")
ENTITY = PartnerPlan.__tablename__
WHAT = "partner plan"
#: who approves in turn, and the status each approval moves a plan from and to
STEPS = {"site_council": ("submitted", "council_approved"), "superintendent": ("council_approved", "approved")}


class SelectionIn(BaseModel):
    partner_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    amount_cents: int = Field(gt=0, le=10**12, description="a positive whole number of cents")

    @field_validator("amount_cents", mode="before")
    @classmethod
    def _a_number(cls, v: object) -> object:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError("amount_cents must be a whole number of cents (a JSON number)")
        return v


class SelectionsIn(BaseModel):
    """The school's whole selection (it replaces the selection before)."""

    version: int = Field(ge=1)
    selections: list[SelectionIn] = Field(max_length=50)


class SelectionOut(BaseModel):
    partner_id: str
    partner_name: str
    amount_cents: int


class MenuItemOut(BaseModel):
    partner_id: str
    partner_name: str
    vetted: bool


class ApprovalOut(BaseModel):
    step: str
    label: str
    done: bool


class PlanOut(BaseModel):
    school_id: str
    school_name: str
    district_id: str
    fiscal_year: int
    fund: str
    line: str
    restriction: str
    reason: str = Field(description="why the school is funded: its index and rank")
    allocation_cents: int
    selected_cents: int
    remaining_cents: int
    status: str
    version: int
    comment: str
    updated_at: str | None
    selections: list[SelectionOut]
    approvals: list[ApprovalOut]
    menu: list[MenuItemOut]
    actions: list[str]
    history: list[wf.HistoryOut]


class PlanSummaryOut(BaseModel):
    school_id: str
    school_name: str
    allocation_cents: int
    selected_cents: int
    partners: list[str]
    status: str
    version: int
    updated_at: str | None


class PlansOut(BaseModel):
    fiscal_year: int
    fund: str
    counts: dict[str, int]
    allocation_cents: int
    schools: list[PlanSummaryOut]


class ContractOut(BaseModel):
    school_id: str
    school_name: str
    amount_cents: int


class PartnerContractsOut(BaseModel):
    partner_id: str
    partner_name: str
    total_cents: int
    schools: list[ContractOut]


class ContractsOut(BaseModel):
    fiscal_year: int
    fund: str
    total_cents: int
    partners: list[PartnerContractsOut]


# ----------------------------------------------------------------------------- engine


def _allocation(engine: DemoEngine, school_id: str) -> int:
    cents = engine.allocation_cents(school_id)
    if cents <= 0:
        raise ApiError(
            404,
            "school_not_funded",
            f"school {school_id!r} has no restricted partnership allocation this year "
            f"({engine.fund_reason(school_id)})",
        )
    return cents


def _check(engine: DemoEngine, school_id: str, selections: list[dict[str, Any]]) -> None:
    """The engine's rules for the school's selection; its problems numbered by place in the list."""
    seen: dict[str, int] = {}
    for k, sel in enumerate(selections, start=1):
        if sel["partner_id"] in seen:
            raise InputError(
                Problem(
                    "invalid_value",
                    f"partner {sel['partner_id']!r} is selected twice (selections {seen[sel['partner_id']]} and {k})",
                    row=k,
                    column="partner_id",
                    value=sel["partner_id"],
                    hint="give one amount per partner",
                )
            )
        seen[sel["partner_id"]] = k
    if not selections:
        return
    approvals = list(engine.fund.spec.approvals)
    with tempfile.TemporaryDirectory(prefix="fairshare-web-") as tmp:
        path = Path(tmp) / "selections.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["school_id", "partner_id", "amount", *approvals])
            for sel in selections:
                c = int(sel["amount_cents"])
                w.writerow([school_id, sel["partner_id"], f"{c // 100}.{c % 100:02d}", *([""] * len(approvals))])
        try:
            engine_call(check_selections, engine.fund, engine.menu, path)
        except InputError as exc:  # the table's row 2 is the first selection
            raise InputError(
                [dataclasses.replace(p, file=None, row=None if p.row is None else p.row - 1) for p in exc.problems]
            ) from None


def _selections_out(engine: DemoEngine, selections: list[dict[str, Any]]) -> list[SelectionOut]:
    return [
        SelectionOut(
            partner_id=x["partner_id"],
            partner_name=engine.menu.name_of(x["partner_id"]),
            amount_cents=int(x["amount_cents"]),
        )
        for x in selections
    ]


# ----------------------------------------------------------------------------- reading


def _guard(s: Session, user: User, school_id: str, *roles: str) -> School:
    """403 for a role that may not do this at all; 404 for a school out of reach or not funded."""
    require_role(user, *roles)
    school_guard(s, user)(school_id)
    school = wf.school_or_404(s, school_id)
    _allocation(demo_engine(), school_id)
    return school


def _actions(s: Session, user: User, school: School, status: str) -> list[str]:
    own = user.school_id == school.id
    if user.role == "principal" and own and status in ("draft", "returned"):
        return ["edit", "submit"]
    if user.role in STEPS and can_see_school(s, user, school.id) and status == STEPS[user.role][0]:
        return ["approve", "return"]
    return []


def plan_view(s: Session, user: User, school_id: str) -> PlanOut:
    school = _guard(s, user, school_id, *READERS)
    engine = demo_engine()
    row = wf.find(s, PartnerPlan, school_id, engine.fiscal_year)
    selections: list[dict[str, Any]] = list(row.selections) if row else []
    allocation = row.allocation_cents if row else _allocation(engine, school_id)
    selected = sum(int(x["amount_cents"]) for x in selections)
    status = row.status if row else "draft"
    spec = engine.fund.spec
    done = {
        "principal": status in ("submitted", "council_approved", "approved"),
        "site_council": status in ("council_approved", "approved"),
        "superintendent": status == "approved",
    }
    labels = {"principal": "Principal submits", **{k: a.label for k, a in spec.approvals.items()}}
    return PlanOut(
        school_id=school.id,
        school_name=school.name,
        district_id=school.district_id,
        fiscal_year=engine.fiscal_year,
        fund=spec.label,
        line=spec.line.label,
        restriction=spec.line.restriction,
        reason=engine.fund_reason(school_id),
        allocation_cents=allocation,
        selected_cents=selected,
        remaining_cents=allocation - selected,
        status=status,
        version=row.version if row else 1,
        comment=row.comment if row else "",
        updated_at=row.updated_at.isoformat(timespec="seconds") if row else None,
        selections=_selections_out(engine, selections),
        approvals=[ApprovalOut(step=k, label=labels.get(k, k), done=v) for k, v in done.items()],
        menu=[
            MenuItemOut(partner_id=str(pid), partner_name=str(name), vetted=bool(v))
            for pid, name, v in zip(engine.menu.ids, engine.menu.names, engine.menu.vetted, strict=True)
        ],
        actions=_actions(s, user, school, status),
        history=wf.history(s, ENTITY, wf.entity_key(school_id, engine.fiscal_year)),
    )


def _rows(s: Session, fiscal_year: int) -> dict[str, PartnerPlan]:
    return {r.school_id: r for r in s.scalars(select(PartnerPlan).where(PartnerPlan.fiscal_year == fiscal_year))}


def overview(s: Session, user: User) -> PlansOut:
    """Every funded school the user can see, with its allocation, selection and status."""
    require_role(user, *READERS)
    engine = demo_engine()
    rows = _rows(s, engine.fiscal_year)
    counts = dict.fromkeys(STATUSES, 0)
    out = []
    for school_id, cents in engine.funded().items():
        school = s.get(School, school_id)
        if school is None or not can_see_school(s, user, school_id):
            continue
        row = rows.get(school_id)
        sel = list(row.selections) if row else []
        status = row.status if row else "draft"
        counts[status] += 1
        out.append(
            PlanSummaryOut(
                school_id=school_id,
                school_name=school.name,
                allocation_cents=row.allocation_cents if row else cents,
                selected_cents=sum(int(x["amount_cents"]) for x in sel),
                partners=[x.partner_name for x in _selections_out(engine, sel)],
                status=status,
                version=row.version if row else 1,
                updated_at=row.updated_at.isoformat(timespec="seconds") if row else None,
            )
        )
    total = sum(x.allocation_cents for x in out)
    return PlansOut(
        fiscal_year=engine.fiscal_year, fund=engine.fund.spec.label, counts=counts, allocation_cents=total, schools=out
    )


def contracts(s: Session, user: User) -> ContractsOut:
    """The approved plans' selections by partner: what each partner is contracted for, at which schools."""
    require_role(user, *CONTRACT_READERS)
    engine = demo_engine()
    by_partner: dict[str, list[ContractOut]] = {}
    for school_id, row in sorted(_rows(s, engine.fiscal_year).items()):
        if row.status != "approved":
            continue
        if user.role != "partner_viewer" and not can_see_school(s, user, school_id):
            continue
        school = s.get(School, school_id)
        name = school.name if school else school_id
        for x in row.selections:
            contract = ContractOut(school_id=school_id, school_name=name, amount_cents=int(x["amount_cents"]))
            by_partner.setdefault(x["partner_id"], []).append(contract)
    partners = [
        PartnerContractsOut(
            partner_id=pid,
            partner_name=engine.menu.name_of(pid),
            total_cents=sum(c.amount_cents for c in rows),
            schools=rows,
        )
        for pid, rows in sorted(by_partner.items())
    ]
    return ContractsOut(
        fiscal_year=engine.fiscal_year,
        fund=engine.fund.spec.label,
        total_cents=sum(p.total_cents for p in partners),
        partners=partners,
    )


# ----------------------------------------------------------------------------- changing


def _snapshot(row: PartnerPlan) -> dict[str, Any]:
    return {
        "status": row.status,
        "allocation_cents": row.allocation_cents,
        "selections": list(row.selections),
        "comment": row.comment,
        "version": row.version,
    }


def _change(
    s: Session, user: User, school_id: str, version: int, action: str, apply: Callable[[PartnerPlan], None]
) -> PlanOut:
    engine = demo_engine()
    fy = engine.fiscal_year

    def new() -> PartnerPlan:
        return PartnerPlan(
            school_id=school_id,
            fiscal_year=fy,
            allocation_cents=_allocation(engine, school_id),
            status="draft",
            selections=[],
            comment="",
            version=1,
        )

    wf.change(
        s,
        user,
        PartnerPlan,
        school_id,
        fy,
        new=new,
        snapshot=_snapshot,
        version=version,
        what=WHAT,
        action=action,
        apply=apply,
    )
    return plan_view(s, user, school_id)


def edit_selections(s: Session, user: User, school_id: str, body: SelectionsIn) -> PlanOut:
    """The principal replaces the selection of a draft or returned plan (a returned one becomes a draft)."""
    _guard(s, user, school_id, "principal")
    selections = [x.model_dump() for x in body.selections]

    def apply(row: PartnerPlan) -> None:
        wf.check_status(row, ("draft", "returned"), "edit", WHAT)
        _check(demo_engine(), school_id, selections)
        row.selections = selections
        row.status = "draft"

    return _change(s, user, school_id, body.version, "partner_selections", apply)


def submit(s: Session, user: User, school_id: str, body: wf.Step) -> PlanOut:
    """The principal sends the plan to the school site council."""
    _guard(s, user, school_id, "principal")

    def apply(row: PartnerPlan) -> None:
        wf.check_status(row, ("draft", "returned"), "submit", WHAT)
        if not row.selections:
            raise ApiError(
                422,
                "missing_value",
                "select at least one partner before submitting the plan",
                [{"code": "missing_value", "message": "the plan selects no partner", "column": "selections"}],
            )
        _check(demo_engine(), school_id, list(row.selections))
        row.status = "submitted"

    return _change(s, user, school_id, body.version, "partner_submit", apply)


def approve(s: Session, user: User, school_id: str, body: wf.Step) -> PlanOut:
    """The site council approves a submitted plan; then the superintendent approves it (the last step)."""
    _guard(s, user, school_id, *STEPS)
    start, end = STEPS[user.role]

    def apply(row: PartnerPlan) -> None:
        wf.check_status(row, (start,), "approve", WHAT)
        row.status = end
        row.comment = body.comment.strip()

    action = "partner_council_approve" if user.role == "site_council" else "partner_approve"
    return _change(s, user, school_id, body.version, action, apply)


def return_plan(s: Session, user: User, school_id: str, body: wf.Step) -> PlanOut:
    """The site council (a submitted plan) or the superintendent (a council-approved one) returns it."""
    _guard(s, user, school_id, *STEPS)
    start, _end = STEPS[user.role]

    def apply(row: PartnerPlan) -> None:
        wf.check_status(row, (start,), "return", WHAT)
        row.comment = wf.require_comment(body.comment, "return a partner plan")
        row.status = "returned"

    return _change(s, user, school_id, body.version, "partner_return", apply)

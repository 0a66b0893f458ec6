"""Properties of grant money, on SQLite and PostgreSQL through the service and its transactions.

* Any sequence of draw-down requests leaves every line's available balance ≥ 0, its drawn amount equal
  to the sum of the accepted requests (and of its draw-down rows), and the plan within its award; a
  request is accepted exactly when it fits (a model of the rule decides, request by request).
* Carry-forward never gives a line more than its unspent own money, nor the next year more than the
  award has left.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fairshare.web import grants, grants_funds
from fairshare.web.db import Database
from fairshare.web.grants_rules import (
    DrawdownIn,
    GoalIn,
    LineIn,
    PlanEdit,
    PlanNew,
    ReviewIn,
    StrategyIn,
    VersionIn,
    band_for,
    carry_amounts,
    ceiling_cents,
    unspent_own_cents,
)
from fairshare.web.models import Drawdown, GrantLine, GrantPlan, User
from fairshare.web.problems import ApiError
from fairshare.web.seed import seed_demo
from fairshare.web.settings import normalise_url
from web_helpers import BACKENDS, demo, fresh_schema

FY = 2050


@pytest.fixture(scope="module", params=BACKENDS)
def service_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("grants") / "grants.db"
        db = Database(f"sqlite:///{path}")
        db.migrate()
        seed_demo(db)
        yield db
        db.dispose()
    else:
        with fresh_schema() as url:
            db = Database(normalise_url(url))
            db.migrate()
            seed_demo(db)
            yield db
            db.dispose()


def _user(s: Session, role: str) -> User:
    return s.scalars(select(User).where(User.email == demo(role))).one()


def _approved_plan(db: Database, lines: list[tuple[str, int]], award: int) -> list[int]:
    with db.session() as s:
        officer, state = _user(s, "budget"), _user(s, "state")
        plan_id = grants.create_plan(s, officer, PlanNew(fiscal_year=FY, award_cents=award)).id
        edit = PlanEdit(
            version=1,
            award_cents=award,
            strategies=[StrategyIn(title="strategy")],
            goals=[GoalIn(indicator="goal", baseline=0, target=1, year=FY)],
            lines=[LineIn(object_code=code, amount_cents=cents) for code, cents in lines],
        )
        grants.update_plan(s, officer, plan_id, edit)
        grants.submit(s, officer, plan_id, VersionIn(version=2))
        grants.approve(s, state, plan_id, ReviewIn(version=3))
        return list(s.scalars(select(GrantLine.id).where(GrantLine.plan_id == plan_id).order_by(GrantLine.id)))


def _remove_plan(db: Database) -> None:
    with db.session() as s:
        plan_ids = select(GrantPlan.id).where(GrantPlan.fiscal_year == FY)
        line_ids = select(GrantLine.id).where(GrantLine.plan_id.in_(plan_ids))
        s.execute(delete(Drawdown).where(Drawdown.line_id.in_(line_ids)))
        s.execute(delete(GrantLine).where(GrantLine.plan_id.in_(plan_ids)))
        s.execute(delete(GrantPlan).where(GrantPlan.fiscal_year == FY))


@given(
    lines=st.lists(st.tuples(st.sampled_from(["110", "320", "610"]), st.integers(0, 50_000)), min_size=1, max_size=4),
    extra=st.integers(1, 20_000),
    requests=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 60_000)), max_size=20),
)
def test_any_sequence_of_draw_downs_keeps_balances_exact(
    service_db: Database, lines: list[tuple[str, int]], extra: int, requests: list[tuple[int, int]]
) -> None:
    award = sum(cents for _, cents in lines) + extra
    try:
        line_ids = _approved_plan(service_db, lines, award)
        pct = {"110": 100, "320": 105, "610": 110}
        assert all(band_for(code).pct == pct[code] for code in pct)  # type: ignore[union-attr]
        ceilings = {lid: cents * pct[code] // 100 for lid, (code, cents) in zip(line_ids, lines, strict=True)}
        accepted = dict.fromkeys(line_ids, 0)
        for index, cents in requests:
            lid = line_ids[index % len(line_ids)]
            fits = accepted[lid] + cents <= ceilings[lid] and sum(accepted.values()) + cents <= award
            try:
                with service_db.session() as s:
                    body = DrawdownIn(amount_cents=cents, backup="invoice")
                    grants_funds.request_drawdown(s, _user(s, "budget"), lid, body)
                ok = True
            except ApiError as e:
                assert e.status == 409 and e.code in ("drawdown_exceeds_line", "drawdown_exceeds_award")
                ok = False
            assert ok == fits, (lid, cents, accepted)
            if ok:
                accepted[lid] += cents
        with service_db.session() as s:
            for lid in line_ids:
                ln = s.get(GrantLine, lid)
                assert ln is not None
                rows = s.scalar(
                    select(func.coalesce(func.sum(Drawdown.amount_cents), 0)).where(Drawdown.line_id == lid)
                )
                assert ln.drawn_cents == accepted[lid] == rows
                assert ceiling_cents(ln.amount_cents, ln.tolerance_pct, ln.carried_cents) - ln.drawn_cents >= 0
            assert sum(accepted.values()) <= award
    finally:
        _remove_plan(service_db)


@st.composite
def _drawn_lines(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, int]]]:
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        amount, carried = draw(st.integers(0, 100_000)), draw(st.integers(0, 30_000))
        pct = draw(st.sampled_from([100, 105, 110]))
        drawn = draw(st.integers(0, ceiling_cents(amount, pct, carried)))
        lines.append((amount, drawn, carried))
    award = sum(a for a, _, _ in lines) + draw(st.integers(0, 50_000))
    return award, lines


@given(_drawn_lines())
def test_carry_forward_never_gives_more_than_is_left(case: tuple[int, list[tuple[int, int, int]]]) -> None:
    award, lines = case
    assume(sum(d for _, d, _ in lines) <= award + sum(c for _, _, c in lines))
    out = carry_amounts(award, lines)
    own_drawn = sum(max(0, d - c) for _, d, c in lines)
    assert all(0 <= x <= unspent_own_cents(a, d, c) for x, (a, d, c) in zip(out, lines, strict=True))
    assert sum(out) <= max(0, award - own_drawn)
    if all(d - c <= a for a, d, c in lines):  # no line used award money beyond its own amount
        assert out == [unspent_own_cents(a, d, c) for a, d, c in lines]

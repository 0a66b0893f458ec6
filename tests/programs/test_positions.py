"""Starter budgets as positions, and principals' trades that keep the budget balanced."""

from __future__ import annotations

import pytest

from fairshare.errors import TradeError
from fairshare.programs import apply_trades, load_trade_requests, starter_budget
from fairshare.programs.positions import Trade, TradeRequest
from support import demo_run

RUN = demo_run()
S001 = RUN.table.index_of("S001")
assert S001 is not None
# average salary × (1 + 0.32 benefits), in cents
TEACHER = 7_950_000 * 132 // 100
AP = 12_100_000 * 132 // 100


def test_starter_budget_splits_positions_and_discretionary() -> None:
    sb = starter_budget(RUN, S001)
    assert sb.total_cents == int(RUN.total_cents[S001])
    assert sb.positions_cents + sb.discretionary_cents == sb.total_cents
    roles = {p.role: p for p in sb.positions}
    assert roles["principal"].fte == 1.0 and roles["principal"].locked
    assert roles["principal"].cents == 148_000 * 132  # 1 FTE × $148,000 × 1.32 in cents
    assert roles["family_support"].locked
    assert not roles["assistant_principal"].locked


def test_trade_ap_for_teachers_is_balanced() -> None:
    sb = starter_budget(RUN, S001)
    req = TradeRequest(
        entity="S001", trades=[Trade(role="assistant_principal", fte=-1.0), Trade(role="teacher", fte=1.4)]
    )
    res = apply_trades(RUN, req)
    assert res.net_cost_cents == round(1.4 * TEACHER) - AP
    assert res.discretionary_after_cents == sb.discretionary_cents - res.net_cost_cents
    assert res.total_cents == sb.total_cents
    lines = {t.role: t for t in res.lines}
    assert lines["assistant_principal"].fte_after == sb.fte("assistant_principal") - 1.0
    assert lines["teacher"].fte_before == 0.0 and lines["teacher"].fte_after == 1.4


def test_locked_role_is_refused() -> None:
    req = TradeRequest(entity="S001", trades=[Trade(role="principal", fte=-1.0)])
    with pytest.raises(TradeError) as exc:
        apply_trades(RUN, req)
    assert exc.value.code == "locked_role"


def test_overspend_is_refused_with_the_amount() -> None:
    sb = starter_budget(RUN, S001)
    fte = sb.discretionary_cents // TEACHER + 1  # one teacher more than the money allows
    req = TradeRequest(entity="S001", trades=[Trade(role="teacher", fte=float(fte))])
    with pytest.raises(TradeError) as exc:
        apply_trades(RUN, req)
    p = exc.value.problems[0]
    assert p.code == "overspend"
    over = fte * TEACHER - sb.discretionary_cents
    assert p.value == f"{over / 100:.2f}"
    assert f"overspent by ${over / 100:,.2f}" in p.message


def test_every_broken_rule_is_reported() -> None:
    req = TradeRequest(
        entity="S001",
        trades=[
            Trade(role="principal", fte=1.0),
            Trade(role="janitor", fte=1.0),
            Trade(role="assistant_principal", fte=-9.0),
        ],
    )
    with pytest.raises(TradeError) as exc:
        apply_trades(RUN, req)
    assert sorted(p.code for p in exc.value.problems) == ["insufficient_fte", "locked_role", "unknown_role"]


def test_unknown_entity() -> None:
    with pytest.raises(TradeError) as exc:
        apply_trades(RUN, TradeRequest(entity="NOPE", trades=[Trade(role="teacher", fte=1)]))
    assert exc.value.code == "unknown_entity"


def test_request_file_errors_are_located(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "req.yaml"
    f.write_text("requests:\n  - entity: S001\n    trades:\n      - {role: teacher, ftee: 1}\n", encoding="utf-8")
    with pytest.raises(TradeError) as exc:
        load_trade_requests(f)
    codes = {p.code for p in exc.value.problems}
    assert "unknown_key" in codes
    assert all(p.line == 4 for p in exc.value.problems)

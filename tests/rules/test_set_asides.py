"""Set-asides: restricted parts of an entity's total, exact to the cent, never more than the total."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairshare.errors import FormulaError, RunError
from fairshare.io.table import EntityTable
from fairshare.rules import compile_formula, evaluate, load_formula_text
from fairshare.rules.plan import Plan

DATE = dt.date(2025, 7, 1)

FORMULA = """
formula: set-aside-test
label: A grant with a restricted part
entity: {kind: district, id: district_id, pupils: enrollment}
parameters:
  rate:
    label: Aid per pupil
    unit: usd_per_pupil
    values:
      2025-07-01: {value: 1000.005, reference: {title: Test act}}
inputs:
  district_id: {label: District, type: category, unit: id}
  enrollment: {label: Enrollment, type: integer, unit: pupils}
  base_year: {label: Base-year grant, type: number, unit: usd, required: false, default: null}
components:
  aid: {kind: per_pupil, label: Aid, count: enrollment, rate: rate}
set_asides:
SET_ASIDES
"""


def _plan(set_asides: str) -> Plan:
    return compile_formula(load_formula_text(FORMULA.replace("SET_ASIDES", set_asides), "f.yaml"), DATE)


def _table(enrollment: list[int], base: list[float]) -> EntityTable:
    ids = [f"D{i}" for i in range(len(enrollment))]
    return EntityTable.from_columns(ids, {"district_id": ids, "enrollment": enrollment, "base_year": base})


INCREASE = """
  increase:
    label: Increase over the base year
    amount: max(entity_total - base_year, 0)
  by_need:
    label: Proposal
    alternative_to: increase
    amount: entity_total * 0.25
"""


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50_000), st.floats(0, 60_000_000, allow_nan=False).map(lambda x: round(x, 2))),
        min_size=1,
        max_size=30,
    )
)
def test_set_aside_is_the_exact_increase_and_reconciles(rows: list[tuple[int, float]]) -> None:
    plan = _plan(INCREASE)
    run = evaluate(plan, _table([r[0] for r in rows], [r[1] for r in rows]))
    increase, by_need = run.set_aside_cents
    base_cents = np.asarray([round(r[1] * 100) for r in rows], dtype=np.int64)
    # the increase over the base year, to the cent, read on the entity's total in cents
    assert (increase == np.maximum(run.total_cents - base_cents, 0)).all()
    assert ((increase >= 0) & (increase <= run.total_cents)).all()
    assert ((by_need >= 0) & (by_need <= run.total_cents)).all()


def test_set_asides_read_earlier_ones_in_cents() -> None:
    plan = _plan(
        """
  first:
    label: A third
    amount: entity_total / 3
  second:
    label: Half of what the first leaves
    amount: (entity_total - first) / 2
"""
    )
    run = evaluate(plan, _table([1, 7], [0, 0]))
    first, second = run.set_aside_cents
    # 1,000.005 per pupil → $1,000.01 (half away); a third = 333.336… → 333.34; (1,000.01 − 333.34) / 2 = 333.335 → .34
    assert run.total_cents.tolist() == [100001, 700004]
    assert first.tolist() == [33334, 233335] and second.tolist() == [33334, 233335]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "set-aside too_much is $-1.00 for entity D0"),
        ("entity_total + 0.01", "set-aside too_much is $1,000.02 for entity D0"),
        ("entity_total * 0.6", "(set-asides so far: $1,100.02)"),
    ],
)
def test_out_of_range_is_an_error(amount: str, message: str) -> None:
    plan = _plan(
        f"""
  half:
    label: Half
    amount: entity_total / 2
  too_much:
    label: Too much
    amount: {amount}
"""
    )
    with pytest.raises(RunError) as exc:
        evaluate(plan, _table([1], [0]))
    p = exc.value.problems[0]
    assert p.code == "set_aside_out_of_range" and message in p.message, p.message
    assert (p.file, p.line) == ("f.yaml", 24)


def test_an_alternative_is_not_carved_out() -> None:
    # a proposal of 60 % beside a set-aside of 50 %: each within the total, the two are not added
    plan = _plan(
        """
  half:
    label: Half
    amount: entity_total / 2
  proposal:
    label: Sixty per cent instead
    alternative_to: half
    amount: entity_total * 0.6
"""
    )
    run = evaluate(plan, _table([1], [0]))
    assert [int(c[0]) for c in run.set_aside_cents] == [50001, 60001]


def test_unknown_base_is_an_error_not_a_zero() -> None:
    with pytest.raises(RunError) as exc:
        evaluate(_plan(INCREASE), _table([10, 10], [5000, float("nan")]))
    (p,) = exc.value.problems
    assert p.code == "not_finite" and "entity D1" in p.message


def test_entity_total_is_reserved() -> None:
    text = FORMULA.replace("SET_ASIDES", INCREASE).replace(
        "  base_year: {label", "  entity_total: {label: Clash, type: number, unit: usd}\n  base_year: {label"
    )
    with pytest.raises(FormulaError) as exc:
        compile_formula(load_formula_text(text, "f.yaml"), DATE)
    assert exc.value.code == "duplicate_id" and "'entity_total'" in str(exc.value)

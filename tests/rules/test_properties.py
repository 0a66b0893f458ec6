"""Properties that hold for any table a formula's input contract admits.

Tables are drawn from the contract itself: counts within their bounds, a subgroup never above
the count it is ``part_of``, booleans, allowed categories, blanks where a column may be blank.
Unbounded money columns are drawn in [0, 5,000,000] so that the demo formula's fixed lines stay
below its appropriation.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from fairshare.errors import RunError
from fairshare.io.table import EntityTable
from fairshare.programs import DEMO_FORMULA
from fairshare.rules import Plan, Run, compile_formula, evaluate, largest_remainder, load_formula, load_formula_text
from fairshare.rules.money import to_cents
from fairshare.rules.schema import Formula, InputColumn

RUN_DATE = dt.date(2025, 7, 1)
CASE_FORMULAS = Path(__file__).parent / "cases" / "formulas"
#: largest count drawn for a column with no upper bound
COUNT_MAX = 3000
MONEY_MAX = 5_000_000
MAX_ENTITIES = 25


@cache
def plan_of(path: str) -> Plan:
    return compile_formula(load_formula(path), RUN_DATE)


@cache
def plan_without_fit(path: str) -> Plan:
    """The formula with its scale_to_budget component removed."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    fits = [cid for cid, c in data["components"].items() if c["kind"] == "scale_to_budget"]
    if not fits:
        return plan_of(path)
    del data["components"][fits[0]]
    text = yaml.safe_dump(data, sort_keys=False)
    return compile_formula(load_formula_text(text, f"{path} without the fit"), RUN_DATE)


ALL_FORMULAS = [str(DEMO_FORMULA), *sorted(str(p) for p in CASE_FORMULAS.glob("*.yaml"))]
FIT_FORMULAS = [str(DEMO_FORMULA), str(CASE_FORMULAS / "budget.yaml")]


# ---------------------------------------------------------------- strategies


def _order(inputs: dict[str, InputColumn]) -> list[str]:
    """Columns with every `part_of` total before its subgroups."""
    done: list[str] = []

    def visit(col: str) -> None:
        if col in done:
            return
        parent = inputs[col].part_of
        if parent is not None:
            visit(parent)
        done.append(col)

    for col in inputs:
        visit(col)
    return done


def _value(spec: InputColumn, limit: float | None) -> st.SearchStrategy[Any]:
    lo, hi = spec.bounds()
    if spec.type == "boolean":
        s: st.SearchStrategy[Any] = st.booleans()
    elif spec.type == "category":
        s = st.sampled_from(spec.allowed) if spec.allowed else st.text("abcxyz", min_size=1, max_size=8)
    else:
        low = 0 if lo is None else lo
        high = (COUNT_MAX if spec.type == "integer" else MONEY_MAX) if hi is None else hi
        if limit is not None:
            high = min(high, limit)
        if spec.type == "integer":
            s = st.integers(int(np.ceil(low)), int(np.floor(high)))
        else:
            s = st.integers(int(low * 100), int(high * 100)).map(lambda c: c / 100)
    if spec.has_default and spec.default is None:
        s = st.none() | s
    return s


@st.composite
def tables(draw: st.DrawFn, formula: Formula, min_size: int = 1, max_size: int = MAX_ENTITIES) -> EntityTable:
    """Entities in the formula's contract; ids are not in row order, and some tables repeat rows
    (identical entities under different ids) so that ties in ranks, pots and the budget fit occur."""
    n = draw(st.integers(min_size, max_size))
    distinct = draw(st.sampled_from([n, max(1, n // 3)]), label="distinct rows")
    source = [k % distinct for k in range(n)]
    ent = formula.entity
    ids = [f"E{k:03d}" for k in draw(st.permutations(range(n)))]
    cols: dict[str, np.ndarray] = {}
    for col in _order(formula.inputs):
        spec = formula.inputs[col]
        if col == ent.id:
            cols[col] = np.array(ids, dtype=object)
            continue
        if col == ent.name:
            cols[col] = np.array([f"Entity {i}" for i in ids], dtype=object)
            continue
        parent = cols.get(spec.part_of) if spec.part_of else None
        drawn = [draw(_value(spec, None if parent is None else float(parent[i]))) for i in range(distinct)]
        values = [drawn[source[i]] for i in range(n)]
        if spec.type == "boolean":
            cols[col] = np.array(values, dtype=bool)
        elif spec.type == "category":
            cols[col] = np.array(values, dtype=object)
        else:
            cols[col] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return EntityTable.from_columns(ids, cols, names=[f"Entity {i}" for i in ids])


def _fit_total(path: str, table: EntityTable, value: float) -> int:
    """Total cents with the formula's solved parameter at ``value`` (no fit)."""
    plan = plan_without_fit(path)
    solve = plan_of(path).scale.options["solve"]  # type: ignore[union-attr]
    return int(evaluate(plan.with_params({solve: value}), table).total_cents.sum())


def run(path: str, table: EntityTable, plan: Plan | None = None) -> Run:
    """Evaluate; a budget that cannot be reached must really be out of reach (then the example is skipped)."""
    plan = plan or plan_of(path)
    try:
        return evaluate(plan, table)
    except RunError as exc:
        assert exc.code == "budget_unreachable", str(exc)
        assert plan.scale is not None
        budget = int(to_cents(plan.params[plan.scale.exprs["budget"].source].value))
        assert _fit_total(path, table, 0.0) > budget or _fit_total(path, table, 1e12) < budget, str(exc)
        assume(False)
        raise


def _by_id(result: Run) -> dict[str, list[int]]:
    return {str(i): row.tolist() for i, row in zip(result.table.ids, result.cents, strict=True)}


# ------------------------------------------------------------------ properties


def _reconciled(result: Run) -> None:
    plan = result.plan
    np.testing.assert_array_equal(result.total_cents, result.cents.sum(axis=1))
    for j, comp in enumerate(result.lines):
        col = result.cents[:, j]
        if comp.is_pot:
            driver_sum = result.aux(comp.id, "driver_sum")
            if driver_sum is not None and driver_sum.size and driver_sum[0] > 0:
                assert int(col.sum()) == int(to_cents(float(result.aux(comp.id, "pot_total")[0])))
        elif comp.is_limit:
            binding = result.aux(comp.id, "binding")
            sub = result.cents[:, [result.line_ids.index(c) for c in comp.of]].sum(axis=1)
            target = to_cents(result.aux(comp.id, "target"))
            np.testing.assert_array_equal((sub + col)[binding], target[binding])
        else:
            # lines are apportioned within their row: never more than a cent from exact
            assert np.all(np.abs(col - result.amounts[:, j] * 100.0) < 1.0 + 1e-6), comp.id
    if plan.scale is None:
        # an entity's total is its exact total rounded, unless a pot's exact shares add a cent
        exact = result.amounts.sum(axis=1)
        pots = [j for j, c in enumerate(result.lines) if c.is_pot]
        slack = len(pots)
        assert np.all(np.abs(result.total_cents - to_cents(exact)) <= slack)
        if not pots:
            np.testing.assert_array_equal(result.total_cents, to_cents(exact))
    if plan.scale is not None:
        of = [result.line_ids.index(c) for c in plan.scale.of]
        assert int(result.cents[:, of].sum()) == result.budget_cents


@pytest.mark.parametrize("path", ALL_FORMULAS, ids=lambda p: Path(p).stem)
@given(data=st.data())
def test_totals_reconcile_to_the_cent(path: str, data: st.DataObject) -> None:
    plan = plan_of(path)
    _reconciled(run(path, data.draw(tables(plan.formula))))


def _budget_param(plan: Plan) -> str:
    assert plan.scale is not None
    return plan.scale.exprs["budget"].source


@pytest.mark.parametrize("path", FIT_FORMULAS, ids=lambda p: Path(p).stem)
@given(data=st.data())
def test_scale_to_budget_hits_any_budget_above_the_fixed_cost(path: str, data: st.DataObject) -> None:
    plan = plan_of(path)
    table = data.draw(tables(plan.formula))
    fixed = _fit_total(path, table, 0.0)  # every line with the solved parameter at zero
    extra = data.draw(st.integers(1_00, 500_000_000_00), label="cents above the fixed cost")
    budget = (fixed + extra) / 100
    assume(_fit_total(path, table, 1e12) > fixed + extra)  # the lines depend on the solved parameter
    result = run(path, table, plan.with_params({_budget_param(plan): budget}))
    assert result.budget_cents == fixed + extra
    assert int(result.total_cents.sum()) == fixed + extra
    _reconciled(result)


def _weights(path: str) -> list[str]:
    return sorted(pid for pid, p in plan_without_fit(path).params.items() if p.unit == "share_of_base")


@pytest.mark.parametrize("path", [p for p in ALL_FORMULAS if _weights(p)], ids=lambda p: Path(p).stem)
@given(data=st.data())
def test_raising_a_weight_never_lowers_an_amount(path: str, data: st.DataObject) -> None:
    """Without a budget fit, a higher weight never lowers an eligible entity's line, nor its total."""
    plan = plan_without_fit(path)
    weight = data.draw(st.sampled_from(_weights(path)), label="weight")
    table = data.draw(tables(plan.formula))
    rise = data.draw(st.integers(1, 100), label="rise in hundredths") / 100
    before = evaluate(plan, table)
    after = evaluate(plan.with_params({weight: plan.params[weight].value + rise}), table)
    reading = [j for j, comp in enumerate(before.lines) if weight in comp.names()]
    assert reading, f"no line reads {weight}"
    for j in reading:
        eligible = before.aux(before.line_ids[j], "eligible")
        assert np.all(after.cents[eligible, j] >= before.cents[eligible, j]), before.line_ids[j]
    assert np.all(after.total_cents >= before.total_cents)


@pytest.mark.parametrize("path", ALL_FORMULAS, ids=lambda p: Path(p).stem)
@given(data=st.data())
def test_permuting_rows_permutes_outputs(path: str, data: st.DataObject) -> None:
    plan = plan_of(path)
    table = data.draw(tables(plan.formula, min_size=2))
    order = np.array(data.draw(st.permutations(range(table.n)), label="row order"))
    assume(not np.array_equal(order, np.arange(table.n)))
    first = run(path, table)
    second = run(path, table.take(order))
    assert _by_id(second) == _by_id(first)
    assert second.solved.keys() == first.solved.keys()


# ----------------------------------------------------------- largest remainder


@given(
    exact=st.lists(st.floats(0, 1e9, allow_nan=False, allow_infinity=False), min_size=1, max_size=60),
    data=st.data(),
)
def test_largest_remainder_sums_to_the_total_within_a_cent(exact: list[float], data: st.DataObject) -> None:
    a = np.array(exact)
    floors = int(np.floor(a).sum())
    total = data.draw(st.integers(floors, floors + len(a) - 1 if len(a) > 1 else floors), label="total cents")
    ids = np.array([f"K{k:03d}" for k in range(len(a))], dtype=object)
    out = largest_remainder(a, total, lambda t: (ids[t],))
    assert out.dtype == np.int64
    assert int(out.sum()) == total
    assert np.all(np.abs(out - a) < 1.0 + 1e-6)
    # Hamilton: a share given the extra cent never has a smaller remainder than one that was not
    rem = a - np.floor(a)
    up = out > np.floor(a)
    if up.any() and (~up).any():
        assert rem[up].min() >= rem[~up].max() - 1e-6


def test_largest_remainder_breaks_ties_by_key_not_position() -> None:
    exact = np.array([100.5, 100.5, 100.5])
    keys = np.array(["C", "A", "B"], dtype=object)
    assert largest_remainder(exact, 302, lambda t: (keys[t],)).tolist() == [100, 101, 101]
    assert largest_remainder(exact, 301, lambda t: (keys[t],)).tolist() == [100, 101, 100]

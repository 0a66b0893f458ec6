"""One conformance suite every component kind passes, then each kind's edge cases in exact cents.

The suite (empty table, dtype and shape, cents reconcile, trace complete, ``when``) runs over a
tiny formula per kind and form; ``test_suite_covers_every_kind`` keeps it in step with
``COMPONENT_KINDS``. Expected amounts below are worked by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from fairshare.errors import FormulaError, RunError
from fairshare.io.table import EntityTable
from fairshare.programs import DEMO_FORMULA, synthetic_schools
from fairshare.rules import (
    COMPONENT_KINDS,
    Run,
    compile_formula,
    evaluate,
    load_formula,
    load_formula_text,
    to_cents,
    trace_entity,
)
from fairshare.rules.plan import Plan

RUN_DATE = dt.date(2025, 7, 1)

PARAMS = {
    # id: (unit, value)
    "base": ("usd_per_pupil", 100),
    "el_weight": ("share_of_base", 0.25),
    "chronic_low_at": ("share", 0.10),
    "chronic_high_at": ("share", 0.40),
    "chronic_low_weight": ("share_of_base", 0.10),
    "chronic_high_weight": ("share_of_base", 0.30),
    "tier1_weight": ("share_of_base", 0.10),
    "tier2_at": ("share", 0.50),
    "tier2_weight": ("share_of_base", 0.15),
    "tier3_at": ("share", 0.75),
    "tier3_weight": ("share_of_base", 0.20),
    "operations": ("usd", 1500),
    "salary": ("usd_per_fte", 50000),
    "benefits": ("share", 0.30),
    "per_counselor": ("pupils_per_fte", 250),
    "magnet_rate": ("usd_per_pupil", 40),
    "magnet_amount": ("usd", 2500),
    "pot_total": ("usd", 1000),
    "cap": ("usd", 20000),
    "floor": ("usd", 15000),
    "max_loss": ("share", 0.05),
    "budget": ("usd", 200000),
}


def formula_text(components: str, params: dict[str, tuple[str, float]] | None = None, name: str = "t") -> str:
    """A complete small formula around ``components`` (YAML lines indented by two spaces)."""
    lines = [
        f"formula: conformance-{name}",
        f"label: Conformance formula {name}",
        "entity: {kind: school, id: school_id, name: school_name, pupils: enrollment, prior_total: prior}",
        "parameters:",
    ]
    for pid, (unit, value) in (params or PARAMS).items():
        lines.append(
            f"  {pid}: {{label: {pid} label, unit: {unit}, values: {{2025-07-01: {{value: {value}, "
            f"reference: {{title: Conformance policy, section: '§ {pid}'}}}}}}}}"
        )
    lines += [
        "inputs:",
        "  school_id: {label: School id, type: category, unit: id}",
        "  school_name: {label: School name, type: category, unit: text}",
        "  enrollment: {label: Enrollment, type: integer, unit: pupils}",
        "  english_learners: {label: English learners, type: integer, unit: pupils, part_of: enrollment}",
        "  low_income: {label: Low-income pupils, type: integer, unit: pupils, part_of: enrollment}",
        "  chronically_absent: {label: Chronically absent, type: integer, unit: pupils, part_of: enrollment}",
        "  magnet: {label: Magnet, type: boolean, unit: flag, required: false, default: false}",
        "  prior: {label: Last year's total, type: number, unit: usd, required: false, default: null}",
        "roles:",
        "  counselor: {label: Counselor, salary: salary, benefits_rate: benefits}",
        "components:",
        components.strip("\n"),
    ]
    return "\n".join(lines) + "\n"


def compile_text(components: str, params: dict[str, tuple[str, float]] | None = None) -> Plan:
    return compile_formula(load_formula_text(formula_text(components, params)), RUN_DATE)


DEFAULT_ROW: dict[str, Any] = {
    "enrollment": 100,
    "english_learners": 0,
    "low_income": 0,
    "chronically_absent": 0,
    "magnet": False,
    "prior": float("nan"),
}


def table(rows: list[dict[str, Any]]) -> EntityTable:
    ids = [str(r.get("id", f"S{k + 1}")) for k, r in enumerate(rows)]
    full = [{**DEFAULT_ROW, **{k: v for k, v in r.items() if k != "id"}} for r in rows]
    cols: dict[str, Any] = {
        c: np.array([r[c] for r in full], dtype=float if c != "magnet" else bool) for c in DEFAULT_ROW
    }
    if not rows:
        cols = {c: np.zeros(0, dtype=float if c != "magnet" else bool) for c in DEFAULT_ROW}
    cols["school_id"] = np.array(ids, dtype=object)
    cols["school_name"] = np.array([f"School {i}" for i in ids], dtype=object)
    return EntityTable.from_columns(ids, cols, names=[f"School {i}" for i in ids])


def run(components: str, rows: list[dict[str, Any]], **values: float) -> Run:
    params = {pid: (unit, values.get(pid, v)) for pid, (unit, v) in PARAMS.items()}
    return evaluate(compile_text(components, params), table(rows))


def dollars(run: Run, cid: str) -> list[str]:
    return [f"{c / 100:.2f}" for c in run.column(cid).tolist()]


# ------------------------------------------------------------ the suite's forms

BASE_LINE = "  base_allocation: {kind: per_pupil, label: Base allocation, count: enrollment, rate: base}\n"

#: (form id, components YAML); the component under test is always `subject`
FORMS: list[tuple[str, str]] = [
    ("per_pupil", "  subject: {kind: per_pupil, label: Base, count: enrollment, rate: base}"),
    (
        "per_pupil-bands",
        """
  subject:
    kind: per_pupil
    label: By band
    bands:
      - {label: Learners, count: english_learners, rate: base * 1.1}
      - {label: Others, count: enrollment - english_learners, rate: base}
""",
    ),
    ("weight-flat", "  subject: {kind: weight, label: EL, count: english_learners, base: base, weight: el_weight}"),
    (
        "weight-escalating",
        """
  subject:
    kind: weight
    label: Chronic absence
    count: chronically_absent
    base: base
    weight:
      escalating:
        by: chronically_absent / enrollment
        low: {at: chronic_low_at, weight: chronic_low_weight}
        high: {at: chronic_high_at, weight: chronic_high_weight}
""",
    ),
    (
        "weight-tiers",
        """
  subject:
    kind: weight
    label: Poverty
    count: low_income
    base: base
    weight:
      tiers:
        by: low_income / enrollment
        steps:
          - {at: 0, weight: tier1_weight}
          - {at: tier2_at, weight: tier2_weight}
          - {at: tier3_at, weight: tier3_weight}
""",
    ),
    ("fixed", "  subject: {kind: fixed, label: Operations, amount: operations}"),
    ("positions-fte", "  subject: {kind: positions, label: Counselor, role: counselor, fte: 1}"),
    (
        "positions-ratio",
        "  subject: {kind: positions, label: Counselors, role: counselor, "
        "ratio: {count: enrollment, per: per_counselor, rounding: nearest, step: 0.5, min: 0.5}}",
    ),
    ("supplement-amount", "  subject: {kind: supplement, label: Magnet, when: magnet, amount: magnet_amount}"),
    (
        "supplement-rate",
        "  subject: {kind: supplement, label: Magnet, when: magnet, count: enrollment, rate: magnet_rate}",
    ),
    ("pot", "  subject: {kind: pot, label: Pot, total: pot_total, driver: enrollment}"),
    ("cap", BASE_LINE + "  subject: {kind: cap, label: Cap, max: cap}"),
    ("floor", BASE_LINE + "  subject: {kind: floor, label: Floor, min: floor}"),
    (
        "hold_harmless",
        BASE_LINE + "  subject: {kind: hold_harmless, label: Hold harmless, prior: prior, max_loss: max_loss}",
    ),
    (
        "scale_to_budget",
        BASE_LINE + "  ops: {kind: fixed, label: Operations, amount: operations}\n"
        "  subject: {kind: scale_to_budget, label: Fit, solve: base, budget: budget}",
    ),
]
FORM_IDS = [f for f, _ in FORMS]

ROWS: list[dict[str, Any]] = [
    {
        "enrollment": 120,
        "english_learners": 10,
        "low_income": 60,
        "chronically_absent": 5,
        "magnet": True,
        "prior": 15000,
    },
    {"enrollment": 480, "english_learners": 200, "low_income": 400, "chronically_absent": 100, "prior": 50000},
    {"enrollment": 35, "english_learners": 0, "low_income": 10, "chronically_absent": 12},
    {
        "enrollment": 900,
        "english_learners": 90,
        "low_income": 450,
        "chronically_absent": 90,
        "magnet": True,
        "prior": 120000,
    },
    {"enrollment": 250, "english_learners": 50, "low_income": 100, "chronically_absent": 25, "prior": 26000},
    {
        "enrollment": 60,
        "english_learners": 30,
        "low_income": 59,
        "chronically_absent": 30,
        "magnet": True,
        "prior": 9000,
    },
]


def test_suite_covers_every_kind() -> None:
    assert {f.split("-")[0] for f in FORM_IDS} == set(COMPONENT_KINDS)


def _plan(form: str, when: str | None = None) -> Plan:
    text = dict(FORMS)[form]
    if when is not None:
        text = text.replace("  subject: {", f"  subject: {{when: {when}, ", 1)
        text = text.replace("  subject:\n", f"  subject:\n    when: {when}\n", 1)
    return compile_text(text)


@pytest.mark.parametrize("form", FORM_IDS)
def test_empty_table(form: str) -> None:
    plan = _plan(form)
    k = len(plan.lines)
    if form == "scale_to_budget":
        # no entity can take any of a positive budget: a located run error, not a crash
        with pytest.raises(RunError) as info:
            evaluate(plan, table([]))
        assert info.value.code == "budget_unreachable"
        return
    result = evaluate(plan, table([]))
    assert result.amounts.shape == (0, k) and result.amounts.dtype == np.float64
    assert result.cents.shape == (0, k) and result.cents.dtype == np.int64
    assert result.total_cents.shape == (0,) and result.total_cents.dtype == np.int64


@pytest.mark.parametrize("form", FORM_IDS)
def test_dtype_and_shape(form: str) -> None:
    plan = _plan(form)
    result = evaluate(plan, table(ROWS))
    assert result.line_ids == [c.id for c in plan.lines]
    assert result.amounts.shape == (len(ROWS), len(plan.lines)) and result.amounts.dtype == np.float64
    assert result.cents.shape == (len(ROWS), len(plan.lines)) and result.cents.dtype == np.int64
    assert result.total_cents.dtype == np.int64
    assert np.isfinite(result.amounts).all()


def _check_reconciled(result: Run) -> None:
    plan = result.plan
    np.testing.assert_array_equal(result.total_cents, result.cents.sum(axis=1))
    bound = np.zeros(result.table.n, dtype=bool)
    for comp in result.lines:
        if comp.is_limit:
            bound |= result.aux(comp.id, "binding")
    fitted = set(plan.solve_dependents) if plan.scale is not None else set()
    for j, comp in enumerate(result.lines):
        col = result.cents[:, j]
        exact = result.amounts[:, j] * 100.0
        if comp.is_pot:
            total = result.aux(comp.id, "pot_total")
            assert int(col.sum()) == int(to_cents(float(total[0]))), f"{comp.id}: the pot is not paid out exactly"
            assert np.all(np.abs(col - exact) < 1.0), f"{comp.id}: a pot share moved by a cent or more"
        elif comp.is_limit:
            binding = result.aux(comp.id, "binding")
            sub = result.cents[:, [result.line_ids.index(c) for c in comp.of]].sum(axis=1)
            target = to_cents(result.aux(comp.id, "target"))
            np.testing.assert_array_equal((sub + col)[binding], target[binding], err_msg=f"{comp.id} misses its target")
            assert np.all(col[~binding] == 0), f"{comp.id} adjusts entities it does not bind"
        elif comp.id in fitted:
            free = ~bound
            assert np.all(np.abs(col[free] - exact[free]) < 1.0 + 1e-6), f"{comp.id}: a fitted share moved by a cent"
        else:
            np.testing.assert_array_equal(col, to_cents(result.amounts[:, j]), err_msg=f"{comp.id} is not rounded")
    if plan.scale is not None:
        assert result.budget_cents is not None
        assert int(result.cents[:, [result.line_ids.index(c) for c in plan.scale.of]].sum()) == result.budget_cents
        assert result.budget_cents == int(to_cents(plan.params[plan.scale.exprs["budget"].source].value))


@pytest.mark.parametrize("form", FORM_IDS)
def test_cents_reconcile(form: str) -> None:
    _check_reconciled(evaluate(_plan(form), table(ROWS)))


@pytest.mark.parametrize("form", FORM_IDS)
def test_trace_is_complete(form: str) -> None:
    result = evaluate(_plan(form), table(ROWS))
    plan = result.plan
    for i in range(result.table.n):
        trace = trace_entity(result, i)
        assert trace.entity_id == f"S{i + 1}"
        assert [line.component for line in trace.lines] == result.line_ids
        assert trace.total_cents == int(result.total_cents[i]) == sum(line.amount_cents for line in trace.lines)
        for j, (comp, line) in enumerate(zip(result.lines, trace.lines, strict=True)):
            assert line.amount_cents == int(result.cents[i, j])
            assert line.kind == comp.kind
            assert line.symbolic.strip() and line.numeric.strip(), line
            read = comp.names() - set(comp.of)
            assert {p.id for p in line.params} == read & set(plan.params), line
            assert {r.id for r in line.inputs} == read & set(plan.inputs), line
            for p in line.params:
                assert p.reference.get("title"), f"{comp.id} reads {p.id} without a reference"
                assert p.citation.startswith(p.reference["title"])
                assert p.effective == "2025-07-01"
        if plan.scale is not None:
            assert [p.id for p in trace.solved] == [plan.scale.options["solve"]]


#: supplements carry their own `when` (it is their condition); scale_to_budget is tested below
WHEN_FORMS = [f for f in FORM_IDS if f != "scale_to_budget" and not f.startswith("supplement")]


@pytest.mark.parametrize("form", WHEN_FORMS)
def test_when_limits_any_kind_to_the_entities_it_holds_for(form: str) -> None:
    plain = evaluate(_plan(form), table(ROWS))
    limited = evaluate(_plan(form, when="magnet"), table(ROWS))
    holds = np.array([bool(r.get("magnet", False)) for r in ROWS])
    j = plain.line_ids.index("subject")
    subject = limited.cents[:, j]
    assert np.all(subject[~holds] == 0), "the line is paid where its condition does not hold"
    if form == "pot":  # the pot is shared among fewer entities, and still paid out in full
        assert int(subject.sum()) == int(plain.cents[:, j].sum()) == 100_000
    else:
        np.testing.assert_array_equal(subject[holds], plain.cents[holds, j])
    _check_reconciled(limited)
    for i in np.flatnonzero(~holds):
        line = trace_entity(limited, int(i)).lines[j]
        assert line.amount_cents == 0 and line.condition == "magnet"
        assert line.eligible is False


def test_scale_to_budget_when_is_not_silently_ignored() -> None:
    """A `when` on scale_to_budget loads and compiles; then it must change something (or be refused)."""
    try:
        limited = _plan("scale_to_budget", when="magnet")
    except FormulaError as exc:
        assert exc.code in ("unknown_key", "invalid_value")
        return
    plain = evaluate(_plan("scale_to_budget"), table(ROWS))
    result = evaluate(limited, table(ROWS))
    assert not np.array_equal(result.cents, plain.cents), "`when` on scale_to_budget is accepted and ignored"


# ------------------------------------------------------------- kinds, exact cents


def test_per_pupil_and_bands() -> None:
    r = run(FORMS[0][1], [{"enrollment": 120}, {"enrollment": 0}], base=100.5)
    assert dollars(r, "subject") == ["12060.00", "0.00"]  # 120 × 100.50
    r = run(dict(FORMS)["per_pupil-bands"], [{"enrollment": 100, "english_learners": 30}])
    assert dollars(r, "subject") == ["10300.00"]  # 30 × 110 + 70 × 100


def test_flat_weight() -> None:
    r = run(dict(FORMS)["weight-flat"], [{"enrollment": 200, "english_learners": 40}], base=5300)
    assert dollars(r, "subject") == ["53000.00"]  # 40 × 0.25 × 5300


def test_escalating_weight_interpolates_between_its_points() -> None:
    # weight 0.10 at a rate of 0.10, rising linearly to 0.30 at 0.40; flat outside; base $1,000
    rows = [{"enrollment": 100, "chronically_absent": c} for c in (5, 10, 20, 25, 40, 60)]
    r = run(dict(FORMS)["weight-escalating"], rows, base=1000)
    assert dollars(r, "subject") == [
        "500.00",  # rate 0.05, below: 5 × 0.10 × 1000
        "1000.00",  # rate 0.10, at the low point: 10 × 0.10 × 1000
        "3333.33",  # rate 0.20: weight 0.10 + 0.20 × (0.10 / 0.30) = 0.1666…; 20 × 0.1666… × 1000
        "5000.00",  # rate 0.25, halfway: 25 × 0.20 × 1000
        "12000.00",  # rate 0.40, at the high point: 40 × 0.30 × 1000
        "18000.00",  # rate 0.60, above: 60 × 0.30 × 1000
    ]
    np.testing.assert_allclose(r.aux("subject", "weight"), [0.1, 0.1, 0.1 + 0.2 / 3, 0.2, 0.3, 0.3])


def test_tiers_start_exactly_at_their_threshold() -> None:
    # tiers: 0.10 from 0, 0.15 from a share of 0.50, 0.20 from 0.75; base $1,000
    rows = [{"enrollment": 100, "low_income": n} for n in (0, 49, 50, 74, 75, 100)]
    r = run(dict(FORMS)["weight-tiers"], rows, base=1000)
    assert r.aux("subject", "weight").tolist() == [0.10, 0.10, 0.15, 0.15, 0.20, 0.20]
    assert dollars(r, "subject") == ["0.00", "4900.00", "7500.00", "11100.00", "15000.00", "20000.00"]


def test_tiers_threshold_that_is_not_a_binary_fraction() -> None:
    # 35 of 100 is exactly the 0.35 threshold: the upper tier applies
    r = run(
        dict(FORMS)["weight-tiers"],
        [{"enrollment": 100, "low_income": 35}, {"enrollment": 20, "low_income": 7}],
        base=1000,
        tier2_at=0.35,
    )
    assert r.aux("subject", "weight").tolist() == [0.15, 0.15]


def test_fixed_positions() -> None:
    r = run(dict(FORMS)["positions-fte"], [{}], salary=148000, benefits=0.32)
    assert dollars(r, "subject") == ["195360.00"]  # 1 × 148000 × 1.32


def _ratio(rounding: str, step: float = 1.0, extra: str = "") -> str:
    return (
        "  subject: {kind: positions, label: Staff, role: counselor, "
        f"ratio: {{count: enrollment, per: per_counselor, rounding: {rounding}, step: {step}{extra}}}}}"
    )


@pytest.mark.parametrize(
    ("rounding", "step", "enrollments", "fte"),
    [
        # 1000 / 450 = 2.22; 1125 / 450 = 2.5 exactly; 1350 / 450 = 3
        ("up", 1.0, [1000, 1125, 1350], [3, 3, 3]),
        ("down", 1.0, [1000, 1125, 1350], [2, 2, 3]),
        ("nearest", 1.0, [1000, 1125, 1350], [2, 3, 3]),
        ("none", 1.0, [1000, 1125, 1350], [1000 / 450, 2.5, 3]),
        # step 0.5: 1000 / 450 = 2.22 → 4.44 halves; 1125 / 450 = 2.5 is on a step; 1237.5 would be 2.75
        ("up", 0.5, [1000, 1125, 1240], [2.5, 2.5, 3.0]),
        ("down", 0.5, [1000, 1125, 1240], [2.0, 2.5, 2.5]),
        ("nearest", 0.5, [1000, 1125, 1240], [2.0, 2.5, 3.0]),
    ],
)
def test_ratio_rounding(rounding: str, step: float, enrollments: list[int], fte: list[float]) -> None:
    r = run(
        _ratio(rounding, step), [{"enrollment": e} for e in enrollments], per_counselor=450, salary=100000, benefits=0
    )
    np.testing.assert_allclose(r.aux("subject", "fte"), fte, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(r.column("subject"), to_cents(np.asarray(fte) * 100000))


def test_ratio_nearest_rounds_a_half_step_up() -> None:
    # 0.75 FTE on a 0.5 step is half way: up to 1.0; with a 0.1 step, 0.25 → 0.3, 0.35 → 0.4, 0.15 → 0.2
    r = run(_ratio("nearest", 0.5), [{"enrollment": 75}], per_counselor=100)
    assert r.aux("subject", "fte").tolist() == [1.0]
    r = run(
        _ratio("nearest", 0.1), [{"enrollment": e} for e in (25, 35, 15)], per_counselor=100, salary=100000, benefits=0
    )
    np.testing.assert_allclose(r.aux("subject", "fte"), [0.3, 0.4, 0.2], rtol=0, atol=1e-12)
    assert dollars(r, "subject") == ["30000.00", "40000.00", "20000.00"]


def test_ratio_min_and_max() -> None:
    # 50 / 250 = 0.2 → nearest 0.5-step is 0, raised to the minimum 0.5; 2000 / 250 = 8 → held to the maximum 3
    r = run(
        _ratio("nearest", 0.5, ", min: 0.5, max: 3"),
        [{"enrollment": e} for e in (50, 500, 2000)],
        salary=60000,
        benefits=0.25,
    )
    assert r.aux("subject", "fte").tolist() == [0.5, 2.0, 3.0]
    assert dollars(r, "subject") == ["37500.00", "150000.00", "225000.00"]  # FTE × 60000 × 1.25


def test_supplement_condition() -> None:
    rows = [{"enrollment": 200, "magnet": True}, {"enrollment": 300, "magnet": False}]
    r = run(dict(FORMS)["supplement-rate"], rows, magnet_rate=500)
    assert dollars(r, "subject") == ["100000.00", "0.00"]  # 200 × 500; not a magnet
    r = run(dict(FORMS)["supplement-amount"], rows)
    assert dollars(r, "subject") == ["2500.00", "0.00"]
    assert trace_entity(r, 1).lines[0].eligible is False


def test_pot_shares_by_driver_and_breaks_ties_by_id_not_row_order() -> None:
    # $1,000 over three equal drivers: 333.333… each; the spare cent goes to the smallest id, S1
    rows = [{"id": "S3"}, {"id": "S1"}, {"id": "S2"}]
    r = run(dict(FORMS)["pot"], rows)
    assert dollars(r, "subject") == ["333.33", "333.34", "333.33"]
    # $100 over drivers 1 and 2: 33.333… and 66.666…; the larger remainder gets the cent
    r = run(dict(FORMS)["pot"], [{"enrollment": 1}, {"enrollment": 2}], pot_total=100)
    assert dollars(r, "subject") == ["33.33", "66.67"]


def test_pot_with_nobody_eligible_pays_nothing_and_says_so() -> None:
    r = run("  subject: {kind: pot, label: Pot, when: magnet, total: pot_total, driver: enrollment}", [{}, {}])
    assert dollars(r, "subject") == ["0.00", "0.00"]
    assert any("not distributed" in note for note in r.notes)


def test_cap_binding_and_not_binding() -> None:
    r = run(dict(FORMS)["cap"], [{"enrollment": 240}, {"enrollment": 150}], base=100, cap=20000)
    assert dollars(r, "subject") == ["-4000.00", "0.00"]  # 24000 capped at 20000; 15000 is under
    assert r.total_cents.tolist() == [2_000_000, 1_500_000]


def test_floor_binding_and_not_binding() -> None:
    r = run(dict(FORMS)["floor"], [{"enrollment": 120}, {"enrollment": 160}], base=100, floor=15000)
    assert dollars(r, "subject") == ["3000.00", "0.00"]  # 12000 raised to 15000; 16000 is above
    assert r.total_cents.tolist() == [1_500_000, 1_600_000]


def test_hold_harmless() -> None:
    # protected amount = prior × (1 − 0.05)
    rows = [
        {"enrollment": 100, "prior": 20000},  # 10000 < 19000: topped up by 9000
        {"enrollment": 200, "prior": 20000},  # 20000 ≥ 19000: no adjustment
        {"enrollment": 1, "prior": float("nan")},  # no prior: no protection however low
        {"enrollment": 190, "prior": 20000},  # 19000 = 19000 exactly: no adjustment
    ]
    r = run(dict(FORMS)["hold_harmless"], rows)
    assert dollars(r, "subject") == ["9000.00", "0.00", "0.00", "0.00"]
    assert r.total_cents.tolist() == [1_900_000, 2_000_000, 10_000, 1_900_000]
    line = trace_entity(r, 2).lines[1]
    assert line.eligible is False and "no prior-year amount" in line.numeric


def test_scale_to_budget_hits_the_budget_to_the_cent() -> None:
    # 600 pupils; $1,500 × 3 fixed; base = (100000 − 4500) / 600 = 159.1666…
    # 100 × 159.1666… = 15916.666…, 200 × = 31833.333…, 300 × = 47750.00: the spare cent goes to the
    # largest remainder (S1, .666…), so 15916.67 + 31833.33 + 47750.00 = 95500.00
    rows = [{"enrollment": 100}, {"enrollment": 200}, {"enrollment": 300}]
    r = run(dict(FORMS)["scale_to_budget"], rows, budget=100000)
    assert r.solved["base"] == pytest.approx(95500 / 600, rel=1e-11)  # solved values: 12 significant digits
    assert dollars(r, "base_allocation") == ["15916.67", "31833.33", "47750.00"]
    assert int(r.total_cents.sum()) == r.budget_cents == 10_000_000


def test_a_capped_total_never_exceeds_the_cap_in_cents() -> None:
    # two lines of 3 × 33.335 = 100.005 each round to 100.01; the cap is 200.01; in dollars the lines
    # come to 200.01 (not over the cap), but the entity's cents would total 200.02 without an adjustment
    lines = (
        "  a: {kind: per_pupil, label: A, count: enrollment, rate: base}\n"
        "  b: {kind: per_pupil, label: B, count: enrollment, rate: base}\n"
        "  c: {kind: cap, label: Cap, max: cap}"
    )
    r = run(lines, [{"enrollment": 3}], base=33.335, cap=200.01)
    assert int(r.total_cents[0]) <= 20001, dollars(r, "a") + dollars(r, "b") + dollars(r, "c")


def test_a_floored_total_never_falls_below_the_floor_in_cents() -> None:
    # three lines of $100.004 round to $100.00 each; the floor is $300.01; in dollars the lines come to
    # 300.012 (not under the floor), but the entity's cents would total 300.00 without an adjustment
    lines = (
        "  a: {kind: per_pupil, label: A, count: enrollment, rate: base}\n"
        "  b: {kind: per_pupil, label: B, count: enrollment, rate: base}\n"
        "  c: {kind: per_pupil, label: C, count: enrollment, rate: base}\n"
        "  d: {kind: floor, label: Floor, min: floor}"
    )
    r = run(lines, [{"enrollment": 1}], base=100.004, floor=300.01)
    assert int(r.total_cents[0]) >= 30001, dollars(r, "a") + dollars(r, "d")


def test_empty_table_with_an_aggregate_in_a_line() -> None:
    """mean() and total() over no entities: the line is an empty column, with no warning."""
    line = "  subject: {kind: per_pupil, label: Share, count: enrollment, rate: base * enrollment / mean(enrollment)}"
    result = run(line, [])
    assert result.cents.shape == (0, 1)


def test_demo_formula_trace_is_complete() -> None:
    """Every line of every school in the shipped demo: arithmetic shown, every parameter cited,
    the solved base flagged as solved, variables traced back to the inputs they read."""
    plan = compile_formula(load_formula(DEMO_FORMULA), RUN_DATE)
    df = synthetic_schools(40, 2026)
    schools = EntityTable.from_columns(
        df["school_id"].to_list(), {c: df[c].to_numpy() for c in df.columns}, names=df["school_name"].to_list()
    )
    result = evaluate(plan, schools)
    for i in range(schools.n):
        trace = trace_entity(result, i)
        assert trace.total_cents == sum(line.amount_cents for line in trace.lines) == int(result.total_cents[i])
        for line in trace.lines:
            assert line.symbolic.strip() and line.numeric.strip(), line
            for p in line.params:
                assert p.reference.get("title") and p.effective <= "2025-07-01", p
                assert p.solved == (p.id == "base.per_pupil")
            for r in line.inputs:
                if r.source == "variable":
                    assert r.expr and set(plan.variables[r.id].expr.names) <= {x.id for x in line.inputs}

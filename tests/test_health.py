"""Model health of every shipped formula: it compiles on its dates, every value is cited, every
unit is known, and no parameter or variable is dead weight."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fairshare.programs import FORMULAS
from fairshare.rules import UNITS, Formula, Plan, compile_formula, load_formula

ROOT = Path(__file__).resolve().parents[1]


def _is_formula(path: Path) -> bool:
    """Funding formulas (a top-level `formula:` key); examples also ship index, fund and identification specs."""
    return any(line.startswith("formula:") for line in path.read_text(encoding="utf-8").splitlines())


SHIPPED = [p for p in sorted(FORMULAS.glob("*.yaml")) + sorted((ROOT / "examples").glob("**/*.yaml")) if _is_formula(p)]
IDS = [str(p.relative_to(ROOT)) for p in SHIPPED]


def test_there_are_shipped_formulas() -> None:
    assert FORMULAS / "district-sbb.yaml" in SHIPPED


def _dates(formula: Formula) -> list[dt.date]:
    """Every date a value takes effect from the first date on which every parameter has one."""
    complete_from = max(min(p.values) for p in formula.parameters.values())
    return sorted({d for p in formula.parameters.values() for d in p.values if d >= complete_from})


def _plans(formula: Formula) -> list[Plan]:
    return [compile_formula(formula, d) for d in _dates(formula)]


@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_compiles_on_every_date_its_values_take_effect(path: Path) -> None:
    formula = load_formula(path)
    dates = _dates(formula)
    assert dates, "no date on which every parameter has a value"
    for d in dates:
        plan = compile_formula(formula, d)
        for pid, p in plan.params.items():
            # the value in force is the latest one dated on or before the run date
            assert p.effective == max(x for x in formula.parameters[pid].values if x <= d)
            assert p.value == formula.parameters[pid].values[p.effective].value


@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_every_value_is_cited(path: Path) -> None:
    formula = load_formula(path)
    uncited = [
        f"{pid} @ {d}"
        for pid, p in formula.parameters.items()
        for d, v in p.values.items()
        if not v.reference.title.strip()
    ]
    assert uncited == []
    unlabelled = [pid for pid, p in formula.parameters.items() if not p.label.strip()]
    assert unlabelled == []


@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_every_unit_is_known(path: Path) -> None:
    formula = load_formula(path)
    units = {f"parameters.{k}": p.unit for k, p in formula.parameters.items()}
    units |= {f"inputs.{k}": c.unit for k, c in formula.inputs.items()}
    units |= {f"variables.{k}": v.unit for k, v in formula.variables.items()}
    assert {k: u for k, u in units.items() if u not in UNITS} == {}


def _reads(plan: Plan) -> set[str]:
    """Every id read by an expression of the plan (variables, components, roles, the entity, set-asides)."""
    exprs = [v.expr for v in plan.variables.values()]
    for comp in plan.components:
        exprs += comp.all_exprs()
    for role in plan.roles.values():
        exprs += [x for x in (role.salary, role.benefits_rate) if x is not None]
    exprs += [x for x in (plan.pupils, plan.need_share) if x is not None]
    exprs += [sa.amount for sa in plan.set_asides]
    return set().union(*(e.names for e in exprs))


@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_no_parameter_or_variable_is_unused(path: Path) -> None:
    formula = load_formula(path)
    plan = _plans(formula)[-1]
    reads = _reads(plan)
    assert sorted(set(plan.params) - reads) == [], "parameters no expression reads"
    assert sorted(set(plan.variables) - reads) == [], "variables no expression reads"

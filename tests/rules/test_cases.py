"""Policy cases in YAML (``tests/rules/cases/*.yaml``), one test per case.

A case names a formula (a path from the repository root, or the formula inline), a run date,
a few entities' input rows and the expected amounts in exact dollars-and-cents strings::

    name: what the case shows             # optional; needed when a file holds a list of cases
    formula: tests/rules/cases/formulas/foundation.yaml
    date: 2025-07-01
    entities:
      - {district_id: A, enrollment: 100, ...}
    expect:
      A: {starter: "660000.00", total: "747000.00"}
    tolerance_cents: 0                    # optional; above 0 it needs a `why`
    why: ...
    source: where the figures were published   # optional

Input rows go through the formula's input contract (as a file's rows would), so defaults and
validation apply. Tolerance is zero cents unless a case states one and why. A failing case prints
the trace of every component that differs.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fairshare.io.contract import validate_frame
from fairshare.io.read import RawTable
from fairshare.rules import Run, compile_formula, dollars_text, evaluate, load_formula, load_formula_text, trace_entity
from fairshare.rules.plan import Plan
from fairshare.rules.schema import Formula
from fairshare.rules.trace import LineTrace

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "cases"
AMOUNT = re.compile(r"^-?\d+\.\d\d$")


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    description: str | None = None
    source: str | None = None
    formula: str | dict[str, Any]
    date: dt.date
    entities: list[dict[str, Any]] = Field(min_length=1)
    expect: dict[str, dict[str, str]] = Field(min_length=1)
    tolerance_cents: int = Field(default=0, ge=0)
    why: str | None = None

    @field_validator("expect", mode="before")
    @classmethod
    def _amounts_are_exact_text(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out: dict[str, Any] = {}
        for entity, lines in v.items():
            if isinstance(lines, dict):
                for cid, amount in lines.items():
                    if not isinstance(amount, str) or not AMOUNT.match(amount):
                        raise ValueError(
                            f"expect.{entity}.{cid}: write the amount as quoted dollars and cents, "
                            f'e.g. "113100.00" (got {amount!r})'
                        )
            out[str(entity)] = lines
        return out

    @model_validator(mode="after")
    def _tolerance_needs_a_reason(self) -> Case:
        if self.tolerance_cents and not (self.why and self.why.strip()):
            raise ValueError("a tolerance above zero cents needs a `why`")
        return self


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data if isinstance(data, list) else [data]
    cases = [Case.model_validate(item) for item in items]
    if len(cases) > 1 and any(c.name is None for c in cases):
        raise ValueError(f"{path}: a file with several cases must name each one")
    return cases


@cache
def _formula_file(rel: str) -> Formula:
    return load_formula(ROOT / rel)


def case_formula(case: Case) -> Formula:
    if isinstance(case.formula, str):
        return _formula_file(case.formula)
    return load_formula_text(yaml.safe_dump(case.formula, sort_keys=False), "<inline formula>")


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def case_table(case: Case, formula: Formula, where: str) -> Any:
    """The entities as a file's rows (text cells), validated by the formula's input contract."""
    columns: list[str] = list(dict.fromkeys(k for row in case.entities for k in row))
    frame = pl.DataFrame(
        {c: [_cell(row.get(c)) for row in case.entities] for c in columns}, schema={c: pl.String for c in columns}
    )
    raw = RawTable(frame=frame, path=where, rows=np.arange(1, len(case.entities) + 1), sha256="")
    return validate_frame(raw, formula)


def run_case(case: Case, where: str) -> tuple[Run, list[tuple[str, str, int, int]]]:
    """Evaluate the case; return the run and every (entity, component, expected, got) outside tolerance."""
    formula = case_formula(case)
    plan: Plan = compile_formula(formula, case.date)
    result = evaluate(plan, case_table(case, formula, where))
    misses: list[tuple[str, str, int, int]] = []
    for entity, lines in case.expect.items():
        i = result.table.index_of(entity)
        assert i is not None, f"expect names {entity!r}, which is not among the case's entities"
        for cid, text in lines.items():
            if cid == "total":
                got = int(result.total_cents[i])
            else:
                assert cid in result.line_ids, f"expect names {cid!r}, which is not a line of {plan.id}"
                got = int(result.column(cid)[i])
            want = _cents(text)
            if abs(got - want) > case.tolerance_cents:
                misses.append((entity, cid, want, got))
    return result, misses


def _cents(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, frac = text.lstrip("-").split(".")
    return sign * (int(whole) * 100 + int(frac))


def render_line(line: LineTrace) -> str:
    out = [
        f"  {line.component} ({line.kind}, {line.label}): {line.amount}",
        f"    {line.symbolic}",
        f"    = {line.numeric}",
    ]
    if line.condition:
        out.append(f"    when {line.condition}: {'holds' if line.eligible else 'does not hold'}")
    out += [f"    note: {n}" for n in line.notes]
    out += [f"    {p.id} = {p.value:g} ({p.unit}, from {p.effective}; {p.citation})" for p in line.params]
    out += [f"    {r.id} = {r.value!r} ({r.source}{', default' if r.default_used else ''})" for r in line.inputs]
    return "\n".join(out)


def failure_report(result: Run, misses: list[tuple[str, str, int, int]]) -> str:
    out: list[str] = []
    for entity, cid, want, got in misses:
        i = result.table.index_of(entity)
        assert i is not None
        trace = trace_entity(result, i)
        out.append(f"{entity} {cid}: expected {dollars_text(want)}, got {dollars_text(got)}")
        lines = trace.lines if cid == "total" else [ln for ln in trace.lines if ln.component == cid]
        out += [render_line(ln) for ln in lines]
    return "\n".join(out)


def _collect() -> list[Any]:
    """One param per case; a file that is not a valid case becomes one failing param naming the file."""
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        try:
            cases = load_cases(path)
        except (ValueError, yaml.YAMLError) as exc:
            params.append(pytest.param(path, f"{path.name} is not a valid case file: {exc}", id=path.stem))
            continue
        for k, case in enumerate(cases):
            label = path.stem if len(cases) == 1 else f"{path.stem}[{case.name or k}]"
            params.append(pytest.param(path, case, id=label))
    return params


@pytest.mark.parametrize(("path", "case"), _collect())
def test_case(path: Path, case: Case | str) -> None:
    if isinstance(case, str):
        pytest.fail(case, pytrace=False)
    result, misses = run_case(case, str(path.relative_to(ROOT)))
    if misses:
        pytest.fail(f"{path.name}: {case.name or ''}\n{failure_report(result, misses)}", pytrace=False)


# ------------------------------------------------------------ the runner itself


def test_there_are_cases_for_every_dedicated_formula() -> None:
    used = {c.formula for p in CASES.glob("*.yaml") for c in load_cases(p) if isinstance(c.formula, str)}
    shipped = {str(p.relative_to(ROOT)) for p in (CASES / "formulas").glob("*.yaml")}
    assert shipped <= used
    assert "src/fairshare/programs/formulas/district-sbb.yaml" in used


def _case(**changes: Any) -> Case:
    base = load_cases(CASES / "budget-fit.yaml")[0]
    return base.model_copy(update=changes)


def test_a_wrong_expectation_fails_and_prints_the_trace() -> None:
    case = _case(expect={"B": {"base_allocation": "2455696.21", "school": "100000.00"}})
    result, misses = run_case(case, "budget-fit.yaml")
    assert misses == [("B", "base_allocation", 245569621, 245569620)]
    report = failure_report(result, misses)
    assert "B base_allocation: expected 2455696.21, got 2455696.20" in report
    assert "base_allocation (per_pupil, Base allocation): 2455696.20" in report
    assert "Test budget book (synthetic)" in report  # the parameter's citation
    assert "enrollment = 500.0 (input)" in report


def test_tolerance_admits_only_what_it_states() -> None:
    wrong = {"B": {"base_allocation": "2455696.21"}}
    assert run_case(_case(expect=wrong, tolerance_cents=1, why="test"), "t")[1] == []
    assert run_case(_case(expect={"B": {"base_allocation": "2455696.22"}}, tolerance_cents=1, why="t"), "t")[1] != []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tolerance_cents": 2}, "needs a `why`"),
        ({"expect": {"A": {"school": 100000.0}}}, "quoted dollars and cents"),
        ({"expect": {"A": {"school": "100000"}}}, "quoted dollars and cents"),
        ({"entity": []}, "Extra inputs are not permitted"),
    ],
)
def test_malformed_cases_are_refused(changes: dict[str, Any], message: str) -> None:
    data = {**load_cases(CASES / "budget-fit.yaml")[0].model_dump(exclude_none=True), **changes}
    with pytest.raises(ValueError, match=re.escape(message)):
        Case.model_validate(data)


def test_inline_formula() -> None:
    formula = yaml.safe_load((CASES / "formulas" / "budget.yaml").read_text(encoding="utf-8"))
    del formula["components"]["fit"]
    del formula["parameters"]["appropriation"]
    case = _case(
        formula=formula,
        expect={"A": {"base_allocation": "4000000.00", "english_learners_weight": "400000.00", "total": "4500000.00"}},
    )  # 1000 × 4000; 200 × 0.5 × 4000
    assert run_case(case, "inline")[1] == []


def test_case_rows_go_through_the_input_contract() -> None:
    """A blank optional cell takes the contract default, and the trace says so."""
    case = load_cases(CASES / "staffing.yaml")[0]
    result, misses = run_case(case, "staffing.yaml")
    assert misses == []
    line = next(ln for ln in trace_entity(result, 0).lines if ln.component == "rural_supplement")
    assert [(r.id, r.value, r.default_used) for r in line.inputs] == [("rural", False, True)]

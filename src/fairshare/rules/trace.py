"""The trace: why each entity gets each amount, as data.

For one entity and each line: the inputs and variables read (with values and
whether a contract default was used), the parameters read (value, effective
date, reference; solved values flagged), the arithmetic in symbols and in
numbers, notes, and the amount in cents. Reads are found from the compiled
expressions themselves, not declared by authors. Renderers (terminal, JSON,
HTML letters) are separate functions over this data.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from fairshare import __version__
from fairshare.rules.evaluate import Run
from fairshare.rules.kinds import CompiledExpr, Kind
from fairshare.rules.money import ROUNDING_RULE, dollars_text, share_pct, to_cents
from fairshare.rules.units import format_value

__all__ = ["TRACE_FORMAT", "EntityTrace", "InputRead", "LineTrace", "ParamRead", "trace_entity"]

TRACE_FORMAT = "fairshare.trace/1"


@dataclass(frozen=True)
class ParamRead:
    id: str
    label: str
    unit: str
    value: float
    effective: str
    reference: dict[str, Any]
    citation: str
    solved: bool = False
    planned: float | None = None


@dataclass(frozen=True)
class InputRead:
    id: str
    label: str
    unit: str
    value: Any
    source: str  # "input" | "variable"
    expr: str | None = None
    default_used: bool = False


@dataclass(frozen=True)
class LineTrace:
    component: str
    label: str
    kind: str
    amount_cents: int
    eligible: bool
    condition: str | None
    symbolic: str
    numeric: str
    notes: tuple[str, ...]
    policy: str
    params: tuple[ParamRead, ...]
    inputs: tuple[InputRead, ...]
    role: str | None = None
    role_label: str | None = None
    fte: float | None = None
    unit_cost: float | None = None
    locked: bool | None = None

    @property
    def amount(self) -> str:
        return dollars_text(self.amount_cents)


@dataclass(frozen=True)
class SetAsideTrace:
    """A restricted part of the entity's total: how much, its share, the rule that sizes it."""

    id: str
    label: str
    amount_cents: int
    share_pct: str
    rule: str
    paid_to: str | None
    alternative_to: str | None
    citation: str | None

    @property
    def amount(self) -> str:
        return dollars_text(self.amount_cents)


@dataclass(frozen=True)
class EntityTrace:
    entity_id: str
    name: str
    formula: str
    formula_label: str
    formula_hash: str
    date: str
    lines: tuple[LineTrace, ...]
    total_cents: int
    pupils: float
    per_pupil_cents: int | None
    prior_total_cents: int | None
    solved: tuple[ParamRead, ...]
    rounding: str = ROUNDING_RULE
    set_asides: tuple[SetAsideTrace, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["format"] = TRACE_FORMAT
        d["package_version"] = __version__
        return d


class _Explainer:
    """Implements the kinds' Explain protocol over a finished run."""

    def __init__(self, run: Run, comp: Kind):
        self.run = run
        self.env = run.env
        self.comp = comp
        self.plan = run.plan

    def value(self, ce: CompiledExpr, i: int) -> Any:
        cache = self.env.explained
        v = cache.get(id(ce))
        if v is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = cache[id(ce)] = np.asarray(ce(self.env))
        return v.item() if v.ndim == 0 else v[i].item() if hasattr(v[i], "item") else v[i]

    def unit_of(self, ce: CompiledExpr) -> str | None:
        text = ce.expr.text()
        if text in self.plan.params:
            return self.plan.params[text].unit
        if text in self.plan.inputs:
            return self.plan.inputs[text].unit
        if text in self.plan.variables:
            return self.plan.variables[text].unit
        return None

    def show(self, ce: CompiledExpr, i: int, unit: str | None = None) -> str:
        v = self.value(ce, i)
        u = self.unit_of(ce) or unit
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, str):
            return v
        return format_value(float(v), u or "ratio")

    def label_of(self, name: str) -> str | None:
        for table in (self.plan.params, self.plan.variables):
            if name in table:
                return str(table[name].label)
        if name in self.plan.inputs:
            return self.plan.inputs[name].label
        return None

    def name(self, ce: CompiledExpr) -> str:
        text = ce.expr.text()
        label = self.label_of(text)
        if label is not None:
            return label
        # a compound expression: ids become their labels, operators their symbols
        for name in sorted(ce.names, key=len, reverse=True):
            lab = self.label_of(name)
            if lab is not None:
                text = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w.])", f"[{lab}]", text)
        return text.replace(" * ", " × ").replace(" / ", " ÷ ")

    def money(self, dollars: float) -> str:
        return f"${dollars:,.2f}"

    def aux(self, key: str, i: int) -> Any:
        arr = self.env.computed[self.comp.id].aux[key]
        return np.asarray(arr)[i].item()

    def of_cents(self, i: int) -> int:
        """The exact cents of the lines a limit applies to."""
        return sum(int(self.run.column(c)[i]) for c in self.comp.of)

    def line_cents(self, i: int) -> int:
        return int(self.run.column(self.comp.id)[i])


def _reads(run: Run, names: set[str], i: int) -> tuple[list[ParamRead], list[InputRead]]:
    plan, env, table = run.plan, run.env, run.table
    params: dict[str, ParamRead] = {}
    inputs: dict[str, InputRead] = {}
    seen: set[str] = set()
    todo = sorted(names)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if name in plan.params:
            p = plan.params[name]
            solved = name in run.solved
            params[name] = ParamRead(
                p.id,
                p.label,
                p.unit,
                float(env.params[name]),
                p.effective.isoformat(),
                p.reference.model_dump(exclude_none=True),
                p.reference.cite(),
                solved,
                p.value if solved else None,
            )
        elif name in plan.variables:
            v = plan.variables[name]
            inputs[name] = InputRead(name, v.label, v.unit, env.at(name, i), "variable", v.expr.expr.text())
            todo.extend(sorted(v.expr.names))
        elif name in plan.inputs:
            col = plan.inputs[name]
            mask = table.defaults_used.get(name)
            value = env.at(name, i)
            if isinstance(value, float) and np.isnan(value):
                value = None
            inputs[name] = InputRead(
                name, col.label, col.unit, value, "input", None, bool(mask[i]) if mask is not None else False
            )
    return list(params.values()), list(inputs.values())


def trace_entity(run: Run, i: int) -> EntityTrace:
    """Explain every line of entity ``i`` (row index in the run's table)."""
    plan, env, table = run.plan, run.env, run.table
    lines: list[LineTrace] = []
    for j, comp in enumerate(run.lines):
        ex = _Explainer(run, comp)
        names = set(comp.names()) - {c for c in comp.of}
        params, inputs = _reads(run, names, i)
        aux = env.computed[comp.id].aux
        eligible = bool(np.asarray(aux["eligible"])[i]) if "eligible" in aux else True
        cents = int(run.cents[i, j])
        condition = comp.when.expr.text() if comp.when is not None else None
        if eligible or comp.is_limit:
            line = comp.explain(ex, i)
            symbolic, numeric, notes = line.symbolic, line.numeric, list(line.notes)
        elif comp.is_pot and bool(np.asarray(aux["when"])[i]):
            driver = comp.exprs["driver"]
            symbolic, numeric, notes = (
                "not eligible",
                f"{ex.name(driver)} is {ex.show(driver, i)}, so there is no share",
                [],
            )
        else:
            symbolic, numeric, notes = "not eligible", f"the condition {condition} does not hold", []
        exact = int(to_cents(run.amounts[i, j]))
        if cents != exact:
            notes.append(
                f"Rounded to ${cents / 100:,.2f} (exact share ${run.amounts[i, j]:,.4f}) "
                "so the fixed total adds up to the cent."
            )
        for p in params:
            if p.solved:
                notes.append(
                    f"{p.label} is solved so the total equals the budget: ${p.value:,.4f} "
                    f"(planning value ${p.planned:,.2f})."
                )
        for r in inputs:
            if r.default_used:
                notes.append(f"{r.label} was blank or absent; the contract default {r.value!r} was used.")
        policy = (
            comp.policy or "; ".join(dict.fromkeys(p.citation for p in params if not p.solved)) or plan.formula.label
        )
        role = comp.options.get("role")
        fte = unit_cost = None
        locked = None
        if role is not None:
            fte = float(np.asarray(aux["fte"])[i])
            unit_cost = float(np.asarray(aux["unit_cost"])[i])
            locked = plan.roles[role].locked
        lines.append(
            LineTrace(
                comp.id,
                comp.label,
                comp.kind,
                cents,
                eligible,
                condition,
                symbolic,
                numeric,
                tuple(notes),
                policy,
                tuple(params),
                tuple(inputs),
                role,
                plan.roles[role].label if role else None,
                fte,
                unit_cost,
                locked,
            )
        )
    total = int(run.total_cents[i])
    pupils = float(run.pupils[i])
    pp = int(run.per_pupil_cents[i])
    prior = run.prior_total_cents
    prior_cents = None if prior is None or prior[i] < 0 else int(prior[i])
    solved = tuple(
        ParamRead(
            pid,
            plan.params[pid].label,
            plan.params[pid].unit,
            v,
            plan.params[pid].effective.isoformat(),
            plan.params[pid].reference.model_dump(exclude_none=True),
            plan.params[pid].reference.cite(),
            True,
            plan.params[pid].value,
        )
        for pid, v in run.solved.items()
    )
    return EntityTrace(
        str(table.ids[i]),
        str(table.names[i]),
        plan.id,
        plan.formula.label,
        plan.hash,
        plan.date.isoformat(),
        tuple(lines),
        total,
        pupils,
        pp if pp >= 0 else None,
        prior_cents,
        solved,
        set_asides=tuple(
            SetAsideTrace(
                sa.id,
                sa.label,
                int(cents[i]),
                share_pct(int(cents[i]), total),
                sa.amount.source,
                sa.paid_to,
                sa.alternative_to,
                None if sa.reference is None else sa.reference.cite(),
            )
            for sa, cents in zip(plan.set_asides, run.set_aside_cents, strict=True)
        ),
    )

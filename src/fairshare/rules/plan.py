"""Compile a formula for a run date into a frozen plan (the *compile* step).

The plan holds the parameter values in force on the date (with their references),
every expression parsed and checked (unknown ids, cycles), the components as kind
objects in declaration order, and a hash that goes into every run manifest. The
evaluator never sees YAML.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from fairshare.errors import FormulaError, Problem
from fairshare.rules import schema as s
from fairshare.rules.expr import ExprSyntaxError, parse_expr
from fairshare.rules.kinds import KINDS, CompiledExpr, Kind

__all__ = ["Plan", "ResolvedParam", "RoleDef", "SetAsideDef", "VariableDef", "compile_formula"]


@dataclass(frozen=True)
class ResolvedParam:
    id: str
    label: str
    unit: str
    value: float
    effective: dt.date
    reference: s.Reference
    description: str | None = None
    dates: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class VariableDef:
    id: str
    label: str
    unit: str
    expr: CompiledExpr


@dataclass(frozen=True)
class RoleDef:
    id: str
    label: str
    locked: bool
    salary: CompiledExpr
    benefits_rate: CompiledExpr | None


@dataclass(frozen=True)
class SetAsideDef:
    """A restricted part of each entity's total (see :class:`fairshare.rules.schema.SetAside`)."""

    id: str
    label: str
    amount: CompiledExpr
    paid_to: str | None = None
    #: the set-aside this one is a proposed alternative to (shown beside it, not carved out)
    alternative_to: str | None = None
    reference: s.Reference | None = None

    @property
    def carved(self) -> bool:
        return self.alternative_to is None


@dataclass(frozen=True)
class Plan:
    formula: s.Formula
    date: dt.date
    params: dict[str, ResolvedParam]
    variables: dict[str, VariableDef]
    components: tuple[Kind, ...]
    roles: dict[str, RoleDef]
    pupils: CompiledExpr
    need_share: CompiledExpr | None
    hash: str
    #: the scale_to_budget component, if any
    scale: Kind | None = None
    #: ids (variables and components) whose value depends on the solved parameter
    solve_dependents: frozenset[str] = field(default_factory=frozenset)
    #: restricted grants carved out of each entity's total, in declaration order
    set_asides: tuple[SetAsideDef, ...] = ()

    @property
    def id(self) -> str:
        return self.formula.formula

    @property
    def inputs(self) -> dict[str, s.InputColumn]:
        return self.formula.inputs

    @property
    def lines(self) -> tuple[Kind, ...]:
        """Components that produce an amount (output columns), in declaration order."""
        return tuple(c for c in self.components if c.is_line)

    def with_params(self, overrides: dict[str, float]) -> Plan:
        """The same plan with some parameter values replaced (scenarios, solved values)."""
        params = dict(self.params)
        for pid, value in overrides.items():
            if pid not in params:
                near = difflib.get_close_matches(pid, params, n=1)
                raise FormulaError(
                    Problem(
                        "unknown_id",
                        f"no parameter {pid!r} to override",
                        file=self.formula.source,
                        hint=f"did you mean {near[0]!r}?" if near else "list parameters with `fairshare validate`",
                    )
                )
            params[pid] = ResolvedParam(**{**params[pid].__dict__, "value": float(value)})
        return Plan(**{**self.__dict__, "params": params})


class _Compiler:
    def __init__(self, formula: s.Formula, date: dt.date):
        self.f = formula
        self.date = date
        self.problems: list[Problem] = []

    def add(
        self, code: str, message: str, path: tuple[str | int, ...], hint: str | None = None, at_key: bool = False
    ) -> None:
        where = self.f.key_where(*path) if at_key else self.f.where(*path)
        self.problems.append(Problem(code, message, hint=hint, **where))

    def expr(self, source: Any, path: tuple[str | int, ...]) -> CompiledExpr | None:
        try:
            e = parse_expr(source)
        except ExprSyntaxError as exc:
            where = self.f.expr_where(path, exc.offset) if isinstance(source, str) else self.f.where(*path)
            self.problems.append(Problem(exc.code, f"{'.'.join(map(str, path))}: {exc.message}", **where))
            return None
        return CompiledExpr(str(source), e, e.compile(), frozenset(e.names()), path)

    def params(self) -> dict[str, ResolvedParam]:
        out: dict[str, ResolvedParam] = {}
        for pid, p in self.f.parameters.items():
            dates = sorted(p.values)
            in_force = [d for d in dates if d <= self.date]
            if not in_force:
                self.add(
                    "not_in_force",
                    f"parameter {pid} has no value in force on {self.date.isoformat()} "
                    f"(values from: {', '.join(d.isoformat() for d in dates)})",
                    ("parameters", *pid.split("."), "values"),
                    hint="run with a later --date or add a value dated on or before the run date",
                )
                continue
            d = in_force[-1]
            dv = p.values[d]
            out[pid] = ResolvedParam(
                pid, p.label, p.unit, float(dv.value), d, dv.reference, p.description, tuple(dates)
            )
        return out


def _component_exprs(comp: Any, cid: str, c: _Compiler) -> tuple[dict[str, CompiledExpr], dict[str, Any]]:
    exprs: dict[str, CompiledExpr] = {}
    options: dict[str, Any] = {}
    base = ("components", cid)

    def put(key: str, value: Any, path: tuple[str | int, ...]) -> None:
        if value is None:
            return
        ce = c.expr(value, base + path)
        if ce is not None:
            exprs[key] = ce

    if isinstance(comp, s.PerPupil):
        if comp.bands is not None:
            options["band_labels"] = [b.label for b in comp.bands]
            for k, b in enumerate(comp.bands):
                put(f"bands.{k}.count", b.count, ("bands", k, "count"))
                put(f"bands.{k}.rate", b.rate, ("bands", k, "rate"))
        else:
            put("count", comp.count, ("count",))
            put("rate", comp.rate, ("rate",))
    elif isinstance(comp, s.Weight):
        put("count", comp.count, ("count",))
        put("base", comp.base, ("base",))
        w = comp.weight
        if isinstance(w, s.EscalatingWeight):
            options["form"] = "escalating"
            e = w.escalating
            put("by", e.by, ("weight", "escalating", "by"))
            for end in ("low", "high"):
                pt = getattr(e, end)
                put(f"{end}.at", pt.at, ("weight", "escalating", end, "at"))
                put(f"{end}.weight", pt.weight, ("weight", "escalating", end, "weight"))
        elif isinstance(w, s.TieredWeight):
            options["form"] = "tiers"
            options["steps"] = len(w.tiers.steps)
            put("by", w.tiers.by, ("weight", "tiers", "by"))
            for k, pt in enumerate(w.tiers.steps):
                put(f"steps.{k}.at", pt.at, ("weight", "tiers", "steps", k, "at"))
                put(f"steps.{k}.weight", pt.weight, ("weight", "tiers", "steps", k, "weight"))
        else:
            options["form"] = "flat"
            put("weight", w, ("weight",))
    elif isinstance(comp, s.Positions):
        options["role"] = comp.role
        put("fte", comp.fte, ("fte",))
        if comp.ratio is not None:
            options["rounding"] = comp.ratio.rounding
            options["step"] = comp.ratio.step
            for key in ("count", "per", "min", "max"):
                put(f"ratio.{key}", getattr(comp.ratio, key), ("ratio", key))
    else:
        for key in ("amount", "count", "rate", "total", "driver", "max", "min", "prior", "max_loss", "budget"):
            if key in type(comp).model_fields:
                put(key, getattr(comp, key), (key,))
    return exprs, options


def compile_formula(formula: s.Formula, date: dt.date) -> Plan:
    """Resolve, parse and check everything; raise FormulaError listing every problem."""
    c = _Compiler(formula, date)
    params = c.params()
    known_params = set(formula.parameters)

    variables: dict[str, VariableDef] = {}
    for vid, v in formula.variables.items():
        ce = c.expr(v.expr, ("variables", vid, "expr"))
        if ce is not None:
            variables[vid] = VariableDef(vid, v.label, v.unit, ce)

    roles: dict[str, RoleDef] = {}
    for rid, r in formula.roles.items():
        sal = c.expr(r.salary, ("roles", rid, "salary"))
        ben = c.expr(r.benefits_rate, ("roles", rid, "benefits_rate")) if r.benefits_rate is not None else None
        if sal is not None:
            roles[rid] = RoleDef(rid, r.label, r.locked, sal, ben)

    # ids are one namespace
    owners: dict[str, str] = {}
    for group, ids in (
        ("parameter", known_params),
        ("input", set(formula.inputs)),
        ("variable", set(formula.variables)),
        ("component", set(formula.components)),
        ("set-aside", set(formula.set_asides)),
    ):
        for i in sorted(ids):
            if i in owners:
                section = {"input": "inputs", "set-aside": "set_asides"}.get(group, group + "s")
                path: tuple[str | int, ...] = (section, i)
                c.add(
                    "duplicate_id",
                    f"{i!r} is both {_a(owners[i])} and {_a(group)}",
                    path,
                    hint="ids are one namespace; rename one of them",
                    at_key=True,
                )
            owners[i] = group

    comps: list[Kind] = []
    line_ids: list[str] = []
    scale: Kind | None = None
    for cid, comp in formula.components.items():
        exprs, options = _component_exprs(comp, cid, c)
        if isinstance(comp, s.Positions):
            role = roles.get(comp.role)
            if role is None:
                near = difflib.get_close_matches(comp.role, formula.roles, n=1)
                c.add(
                    "unknown_id",
                    f"component {cid}: role {comp.role!r} is not defined under roles",
                    ("components", cid, "role"),
                    hint=f"did you mean {near[0]!r}?" if near else "add it under `roles:`",
                )
            else:
                exprs["salary"] = role.salary
                if role.benefits_rate is not None:
                    exprs["benefits_rate"] = role.benefits_rate
        when = c.expr(comp.when, ("components", cid, "when")) if comp.when is not None else None
        of: tuple[str, ...] = ()
        if isinstance(comp, (s.Cap, s.Floor, s.HoldHarmless, s.ScaleToBudget)):
            if comp.of is not None:
                for k, ref in enumerate(comp.of):
                    if ref not in formula.components or ref == cid:
                        near = difflib.get_close_matches(ref, [x for x in formula.components if x != cid], n=1)
                        c.add(
                            "unknown_id",
                            f"component {cid}: `of` names {ref!r}, which is not another component",
                            ("components", cid, "of", k),
                            hint=f"did you mean {near[0]!r}?" if near else None,
                        )
                    elif isinstance(formula.components[ref], s.ScaleToBudget):
                        c.add(
                            "invalid_value",
                            f"component {cid}: `of` cannot name a scale_to_budget component",
                            ("components", cid, "of", k),
                        )
                    elif not isinstance(comp, s.ScaleToBudget) and ref not in line_ids:
                        c.add(
                            "invalid_value",
                            f"component {cid}: a limit applies to lines above it, and {ref!r} comes later",
                            ("components", cid, "of", k),
                            hint="move the limit below the lines it limits",
                        )
                of = tuple(comp.of)
            else:
                of = tuple(line_ids) if not isinstance(comp, s.ScaleToBudget) else ()
        kind = KINDS[comp.kind](cid, comp.label, comp.policy, when, exprs, options, of)
        if isinstance(comp, s.ScaleToBudget):
            if scale is not None:
                c.add("invalid_value", "a formula may have one scale_to_budget component", ("components", cid, "kind"))
            if comp.solve not in known_params:
                near = difflib.get_close_matches(comp.solve, known_params, n=1)
                c.add(
                    "unknown_id",
                    f"component {cid}: solve names {comp.solve!r}, which is not a parameter",
                    ("components", cid, "solve"),
                    hint=f"did you mean {near[0]!r}?" if near else None,
                )
            kind.options["solve"] = comp.solve
            scale = kind
        else:
            line_ids.append(cid)
        comps.append(kind)
    if scale is not None and not scale.of:
        scale.of = tuple(line_ids)

    entity = formula.entity
    pupils = c.expr(entity.pupils, ("entity", "pupils"))
    need = c.expr(entity.need_share, ("entity", "need_share")) if entity.need_share else None
    named = ((entity.id, "id"), (entity.name, "name"), (entity.prior_total, "prior_total"), (entity.year, "year"))
    for col, key in named:
        if col is not None and col not in formula.inputs:
            near = difflib.get_close_matches(col, formula.inputs, n=1)
            c.add(
                "unknown_id",
                f"entity.{key} names {col!r}, which is not an input column",
                ("entity", key),
                hint=f"did you mean {near[0]!r}?" if near else "declare it under `inputs:`",
            )
    if entity.year is not None and entity.year in formula.inputs and formula.inputs[entity.year].type != "integer":
        c.add(
            "invalid_value",
            f"entity.year names {entity.year!r}, which must be an integer input (a fiscal year such as 2027)",
            ("entity", "year"),
        )
    for iid, spec in formula.inputs.items():
        if spec.part_of is not None and spec.part_of not in formula.inputs:
            c.add(
                "unknown_id",
                f"inputs.{iid}.part_of names {spec.part_of!r}, which is not an input column",
                ("inputs", iid, "part_of"),
            )

    # every name must resolve; components may read components (their dollar amounts)
    readable = known_params | set(formula.inputs) | set(variables) | set(line_ids)
    all_exprs: list[CompiledExpr] = [v.expr for v in variables.values()]
    for kind in comps:
        all_exprs.extend(kind.all_exprs())
    all_exprs.extend(x for x in (pupils, need) if x is not None)
    for role_def in roles.values():
        all_exprs.extend(x for x in (role_def.salary, role_def.benefits_rate) if x is not None)
    for ce in all_exprs:
        for name in sorted(ce.names - readable):
            near = difflib.get_close_matches(name, readable, n=1)
            c.add(
                "unknown_id",
                f"{'.'.join(map(str, ce.path))}: {name!r} is not a parameter, input, variable or component",
                ce.path,
                hint=f"did you mean {near[0]!r}?" if near else None,
            )

    set_asides = _set_asides(formula, c, readable)

    deps: dict[str, set[str]] = {vid: set(v.expr.names) for vid, v in variables.items()}
    for kind in comps:
        if kind.is_line:
            deps[kind.id] = kind.names()
    _check_cycles(deps, formula, c)
    if c.problems:
        raise FormulaError(c.problems)

    dependents: frozenset[str] = frozenset()
    if scale is not None:
        dependents = _dependents_of(scale.options["solve"], deps)
    digest = hashlib.sha256(
        json.dumps({"text": formula.text, "date": date.isoformat()}, sort_keys=True).encode()
    ).hexdigest()
    assert pupils is not None
    return Plan(
        formula, date, params, variables, tuple(comps), roles, pupils, need, digest, scale, dependents, set_asides
    )


def _set_asides(formula: s.Formula, c: _Compiler, readable: set[str]) -> tuple[SetAsideDef, ...]:
    """Compile set-asides in order: each reads what components read, ``entity_total`` and earlier set-asides."""
    out: list[SetAsideDef] = []
    names = readable | {s.ENTITY_TOTAL}
    taken = readable | set(formula.roles) | set(formula.components)
    if s.ENTITY_TOTAL in taken:
        c.add(
            "duplicate_id",
            f"{s.ENTITY_TOTAL!r} is the entity's total in set-aside amounts; rename the id that uses it",
            ("set_asides",),
            at_key=True,
        )
    for sid, sa in formula.set_asides.items():
        path: tuple[str | int, ...] = ("set_asides", sid)
        if not sid.isidentifier() or sid == s.ENTITY_TOTAL:
            c.add("invalid_value", f"set-aside id {sid!r} must be a plain identifier", path, at_key=True)
            continue
        if sa.alternative_to is not None:
            target = formula.set_asides.get(sa.alternative_to)
            if target is None or sa.alternative_to == sid or target.alternative_to is not None:
                near = difflib.get_close_matches(sa.alternative_to, [x for x in formula.set_asides if x != sid], n=1)
                c.add(
                    "unknown_id",
                    f"set-aside {sid}: alternative_to names {sa.alternative_to!r}, "
                    "which is not another set-aside carved out of the total",
                    (*path, "alternative_to"),
                    hint=f"did you mean {near[0]!r}?" if near else None,
                )
        ce = c.expr(sa.amount, (*path, "amount"))
        if ce is None:
            continue
        for name in sorted(ce.names - names):
            later = name in formula.set_asides
            near = difflib.get_close_matches(name, names, n=1)
            c.add(
                "unknown_id",
                f"set_asides.{sid}.amount: {name!r} "
                + ("is a later set-aside; a set-aside reads only those above it" if later else "is not known here"),
                (*path, "amount"),
                hint=None if later else (f"did you mean {near[0]!r}?" if near else None),
            )
        out.append(SetAsideDef(sid, sa.label, ce, sa.paid_to, sa.alternative_to, sa.reference))
        names = names | {sid}
    return tuple(out)


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _check_cycles(deps: dict[str, set[str]], formula: s.Formula, c: _Compiler) -> None:
    state: dict[str, int] = {}
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(deps.get(node, ())):
            if nxt not in deps:
                continue
            if state.get(nxt) == 1:
                cyc = [*stack[stack.index(nxt) :], nxt]
                key = frozenset(cyc)
                if key not in reported:
                    reported.add(key)
                    section = "variables" if nxt in formula.variables else "components"
                    c.add(
                        "cycle",
                        f"circular definition: {' -> '.join(cyc)}",
                        (section, nxt),
                        hint="one of these must be computed without the others",
                        at_key=True,
                    )
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in deps:
        if node not in state:
            visit(node)


def _dependents_of(param: str, deps: dict[str, set[str]]) -> frozenset[str]:
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node, names in deps.items():
            if node not in out and (param in names or names & out):
                out.add(node)
                changed = True
    return frozenset(out)

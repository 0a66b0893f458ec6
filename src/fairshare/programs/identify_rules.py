"""Load and check an identification rule file (``fairshare identify``): located errors, names resolved.

A rule file declares the tables it reads (typed columns, joins, filters), derived variables,
cited parameters, the universe, the identification rule (a tree of ``bottom``/``top`` rank tests,
``when`` conditions and ``any_of``/``all_of``/``not``), look-back, carry-over and exit, tier schemes
with their monitoring workload and an optional consolidated grant. Every number a rule uses is a
parameter with a reference; a numeric literal in a condition is refused. Every problem names
``file:line:col``; validation collects them all before raising.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from fairshare.errors import FormulaError, Problem
from fairshare.programs.identify_schema import (
    _FORMS,
    STATUS_NAMES,
    AllOf,
    AnyOf,
    Cond,
    IdentifyRules,
    Node,
    Not,
    Path_,
    Rank,
    RulesModel,
    _AllModel,
    _AnyModel,
    _NotModel,
    _RankModel,
    _WhenModel,
    fields_at,
    leaves,
)
from fairshare.rules._yaml import Marks, load_yaml_file, load_yaml_text
from fairshare.rules.expr import Expr
from fairshare.rules.schema import CitedParameter, validation_problems
from fairshare.rules.speccheck import SpecChecker

__all__ = [
    "AllOf",
    "AnyOf",
    "Cond",
    "IdentifyRules",
    "Node",
    "Not",
    "Rank",
    "leaves",
    "load_rules",
    "load_rules_text",
]


def _validation(exc: ValidationError, prefix: Path_, model: type[BaseModel], file: str, marks: Marks) -> list[Problem]:
    """Pydantic errors as located problems; an unknown key's hint lists the keys allowed where it is."""
    out = []
    for err, p in zip(exc.errors(), validation_problems(exc, prefix, model, file, marks), strict=True):
        if p.code == "unknown_key":
            key = str(err["loc"][-1])
            allowed = fields_at(model, tuple(err["loc"][:-1]))
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"allowed keys: {', '.join(sorted(allowed))}"
            p = dataclasses.replace(p, hint=hint)
        out.append(p)
    return out


class _Checker(SpecChecker):
    def __init__(self, file: str, text: str, marks: Marks) -> None:
        super().__init__(file, text, marks, noun="rule")
        self.leaf_ids: dict[str, Path_] = {}

    def param(self, pid: Any, path: Path_, params: dict[str, CitedParameter], whole: bool = False) -> None:
        if not isinstance(pid, str):
            self.add(
                "invalid_value",
                f"{'.'.join(map(str, path))} must name a cited parameter, not the number {pid!r}",
                path,
                hint="declare it under `parameters` (label, value, unit, reference) and use its id here",
            )
            return
        if pid not in params:
            self.unknown(pid, sorted(params), "a parameter", path)
            return
        v = params[pid].value
        if whole and (v < 1 or v % 1):
            self.add("invalid_value", f"parameter {pid} must be a whole number of at least 1 here (it is {v:g})", path)

    def node(self, data: Any, path: Path_, names: set[str], params: dict[str, CitedParameter]) -> Node | None:
        if not isinstance(data, dict):
            self.add("invalid_value", "a rule must be a mapping (bottom, top, when, any_of, all_of or not)", path)
            return None
        forms = [k for k in _FORMS if k in data]
        if len(forms) != 1:
            self.add(
                "missing_key" if not forms else "invalid_value",
                "a rule needs exactly one of bottom, top, when, any_of, all_of, not"
                + (f" (found {', '.join(forms)})" if forms else ""),
                path,
                key=True,
            )
            return None
        form = forms[0]
        model = _FORMS[form]
        try:
            m = model.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(_validation(exc, path, model, self.file, self.marks))
            return None
        if isinstance(m, (_RankModel, _WhenModel)):
            if m.id in self.leaf_ids:
                self.add("duplicate_id", f"rule id {m.id!r} is used twice", (*path, "id"))
            elif not m.id.isidentifier():
                self.add("invalid_value", f"rule id {m.id!r} must be a plain identifier", (*path, "id"))
            self.leaf_ids[m.id] = path
        if isinstance(m, _RankModel):
            self.param(getattr(m, form), (*path, form), params, whole=True)
            if m.by not in names:
                self.unknown(m.by, sorted(names), "a column or variable", (*path, "by"))
            return Rank(m.id, m.label or m.id, form, str(getattr(m, form)), m.by, m.missing, path)  # type: ignore[arg-type]
        if isinstance(m, _WhenModel):
            e = self.expr(m.when, (*path, "when"), names | set(params), "a column, variable or parameter", False)
            return None if e is None else Cond(m.id, m.label or m.id, e, m.when, m.missing, path)
        if isinstance(m, _NotModel):
            child = self.node(m.not_, (*path, "not"), names, params)
            return None if child is None else Not(m.id, m.label, child)
        assert isinstance(m, (_AnyModel, _AllModel))
        items = m.any_of if isinstance(m, _AnyModel) else m.all_of
        kids = [self.node(c, (*path, form, i), names, params) for i, c in enumerate(items)]
        if any(k is None for k in kids):
            return None
        cls = AnyOf if form == "any_of" else AllOf
        return cls(m.id, m.label, tuple(k for k in kids if k is not None))


def _check_tables(m: RulesModel, c: _Checker) -> None:
    tables = m.tables
    if m.entity.table not in tables:
        c.unknown(m.entity.table, sorted(tables), "a declared table", ("entity", "table"))
        return
    primary = tables[m.entity.table]
    for key in ("id", "year"):
        col = getattr(m.entity, key)
        if col is not None and col not in primary.columns:
            c.unknown(col, sorted(primary.columns), f"a column of the primary table {m.entity.table}", ("entity", key))
    seen: dict[str, str] = {}
    for tid, t in tables.items():
        for col in t.columns:
            if col in seen:
                c.add(
                    "duplicate_id",
                    f"column {col!r} is declared by tables {seen[col]} and {tid}",
                    ("tables", tid, "columns", col),
                    key=True,
                )
            elif not col.isidentifier():
                c.add(
                    "invalid_value",
                    f"column id {col!r} must be a plain identifier (map a header with `column:`)",
                    ("tables", tid, "columns", col),
                    key=True,
                )
            seen[col] = tid
        if t.year is not None and t.year not in t.columns:
            c.unknown(t.year, sorted(t.columns), f"a column of table {tid}", ("tables", tid, "year"))
        if tid == m.entity.table:
            if t.join is not None:
                c.add(
                    "invalid_value",
                    "the primary table (entity.table) is not joined to anything",
                    ("tables", tid, "join"),
                    key=True,
                )
            if t.year is not None and t.year != m.entity.year:
                c.add("invalid_value", "the primary table's year is entity.year", ("tables", tid, "year"))
        elif t.join is None:
            c.add(
                "missing_key",
                f"table {tid} needs `join` (key and to) to be matched to the entities",
                ("tables", tid),
                key=True,
            )
        elif t.join.key not in t.columns:
            c.unknown(t.join.key, sorted(t.columns), f"a column of table {tid}", ("tables", tid, "join", "key"))
        if t.year is not None and m.entity.year is None:
            c.add(
                "invalid_value",
                f"table {tid} has a year but the primary table has none (entity.year)",
                ("tables", tid, "year"),
            )
    for vid in m.variables:
        if vid in seen or vid in m.parameters:
            c.add("duplicate_id", f"variable {vid!r} has the id of a column or parameter", ("variables", vid), key=True)
    for pid in m.parameters:
        if pid in seen:
            c.add("duplicate_id", f"parameter {pid!r} has the id of a column", ("parameters", pid), key=True)


def _primary_only(m: RulesModel, variables: dict[str, Expr]) -> set[str]:
    """Columns of the primary table and variables computed only from them (and parameters)."""
    ok = set(m.tables[m.entity.table].columns) if m.entity.table in m.tables else set()
    for vid, e in variables.items():
        if e.names() <= ok | set(m.parameters):
            ok.add(vid)
    return ok


def _build(data: Any, file: str, text: str, marks: Marks) -> IdentifyRules:
    if not isinstance(data, dict):
        raise FormulaError(Problem("invalid_value", "a rule file must be a YAML mapping", file=file, line=1, col=1))
    try:
        m = RulesModel.model_validate(data)
    except ValidationError as exc:
        raise FormulaError(_validation(exc, (), RulesModel, file, marks)) from None
    c = _Checker(file, text, marks)
    _check_tables(m, c)
    columns = {col for t in m.tables.values() for col in t.columns}
    params = m.parameters
    filters: dict[str, Expr] = {}
    for tid, t in m.tables.items():
        if t.filter is not None:
            e = c.expr(t.filter, ("tables", tid, "filter"), set(t.columns), f"a column of table {tid}", True)
            if e is not None:
                filters[tid] = e
    variables: dict[str, Expr] = {}
    for vid, v in m.variables.items():
        known = columns | set(variables) | set(params)
        e = c.expr(v.expr, ("variables", vid, "expr"), known, "a column, parameter or variable declared above", True)
        if e is not None:
            variables[vid] = e
    names = columns | set(m.variables)
    for tid, t in m.tables.items():
        if t.join is not None and m.entity.table in m.tables and t.join.to not in _primary_only(m, variables):
            c.add(
                "unknown_id",
                f"join.to {t.join.to!r} is not a column of the primary table {m.entity.table} "
                "(or a variable computed from it)",
                ("tables", tid, "join", "to"),
            )
    if m.entity.name is not None and m.entity.name not in names:
        c.unknown(m.entity.name, sorted(names), "a column or variable", ("entity", "name"))
    universe: dict[str, Expr] = {}
    for uid, u in m.universe.items():
        e = c.expr(u.when, ("universe", uid, "when"), names | set(params), "a column, variable or parameter", False)
        if e is not None:
            universe[uid] = e
    rule = c.node(m.rule, ("rule",), names, params)
    rule_ids = set(c.leaf_ids)
    if m.lookback is not None:
        c.param(m.lookback.years, ("lookback", "years"), params, whole=True)
        if m.entity.year is None:
            c.add(
                "invalid_value",
                "look-back needs data by year: name the year column in entity.year",
                ("lookback",),
                key=True,
            )
    _check_previous(m, c, names)
    status = (
        rule_ids
        | set(STATUS_NAMES)
        | ({"previous_tier"} if m.previous and m.previous.list and m.previous.list.tier else set())
    )
    tier_rules: dict[str, dict[str, Node | None]] = {}
    for sid, scheme in m.tiers.items():
        tier_rules[sid] = {}
        ids = list(scheme.levels)
        for lid, level in scheme.levels.items():
            path = ("tiers", sid, "levels", lid)
            c.param(level.meetings, (*path, "meetings"), params)
            if level.when is None:
                if lid != ids[-1]:
                    c.add(
                        "invalid_value",
                        f"tier {lid} has no `when`: only the last tier may catch the rest",
                        path,
                        key=True,
                    )
                tier_rules[sid][lid] = None
                continue
            if isinstance(level.when, str):
                level_when: Any = {"id": f"{sid}_{lid}", "when": level.when}
                e = c.expr(
                    level.when,
                    (*path, "when"),
                    names | set(params) | status,
                    "a column, variable, parameter or rule id",
                    False,
                )
                node: Node | None = (
                    None if e is None else Cond(f"{sid}_{lid}", level.label, e, level.when, "error", (*path, "when"))
                )
                del level_when
            else:
                node = c.node(level.when, (*path, "when"), names | status, params)
            tier_rules[sid][lid] = node
    _check_grant(m, c, names)
    if c.problems:
        raise FormulaError(c.problems)
    assert rule is not None
    return IdentifyRules(m, rule, tier_rules, universe, variables, filters, file, text, marks)


def _check_previous(m: RulesModel, c: _Checker, names: set[str]) -> None:
    p = m.previous
    if p is None:
        if m.exit is not None:
            c.add("invalid_value", "`exit` needs `previous` (who was identified before)", ("exit",), key=True)
        return
    if (p.column is None) == (p.list is None):
        c.add(
            "invalid_value",
            "previous takes exactly one of `column` (a yes/no column) or `list` (--previous file)",
            ("previous",),
            key=True,
        )
    if p.column is not None:
        spec = {col: t.columns[col] for t in m.tables.values() for col in t.columns}.get(p.column)
        if spec is None:
            c.unknown(p.column, sorted(names), "a column", ("previous", "column"))
        elif spec.type != "yes_no":
            c.add("invalid_value", f"previous.column {p.column!r} must be a yes_no column", ("previous", "column"))
    if p.list is not None and p.list.match is not None and p.list.match not in names:
        c.unknown(p.list.match, sorted(names), "a column or variable", ("previous", "list", "match"))
    if m.exit is None:
        c.add(
            "missing_key",
            "previous needs `exit` (immediate, never or phased): what happens to those no longer meeting the rule",
            ("previous",),
            key=True,
        )
    elif m.exit.rule == "phased":
        if m.exit.after_years is None:
            c.add("missing_key", "a phased exit needs `after_years` (a parameter)", ("exit",), key=True)
        else:
            c.param(m.exit.after_years, ("exit", "after_years"), m.parameters, whole=True)
    elif m.exit.after_years is not None:
        c.add("invalid_value", f"after_years is only for a phased exit, not {m.exit.rule!r}", ("exit", "after_years"))


def _check_grant(m: RulesModel, c: _Checker, names: set[str]) -> None:
    g = m.grant
    if g is None:
        return
    params = m.parameters
    for key in ("total", "administration"):
        c.param(getattr(g, key), ("grant", key), params)
    admin = params.get(g.administration)
    if admin is not None and not 0 <= admin.value <= 0.10:
        c.add(
            "invalid_value",
            f"the administration share must be between 0 and 0.10 (10 %); {g.administration} is {admin.value:g}",
            ("parameters", g.administration, "value"),
        )
    total = params.get(g.total)
    if total is not None and total.value < 0:
        c.add(
            "invalid_value",
            f"the grant total must not be negative ({g.total} is {total.value:g})",
            ("parameters", g.total, "value"),
        )
    if g.base.by not in names:
        c.unknown(g.base.by, sorted(names), "a column or variable", ("grant", "base", "by"))
    inc = g.incentive
    if inc is None:
        return
    c.param(inc.share, ("grant", "incentive", "share"), params)
    share = params.get(inc.share)
    if share is not None and not 0 <= share.value <= 1:
        c.add(
            "invalid_value",
            f"the incentive share must be between 0 and 1; {inc.share} is {share.value:g}",
            ("parameters", inc.share, "value"),
        )
    if share is not None and admin is not None and admin.value + share.value > 1:
        c.add(
            "invalid_value",
            "administration and incentive shares add up to more than the whole grant",
            ("grant", "incentive", "share"),
        )
    if inc.by not in names:
        c.unknown(inc.by, sorted(names), "a column or variable", ("grant", "incentive", "by"))
    if inc.rule == "top":
        if inc.count is None:
            c.add(
                "missing_key", "an incentive to the top K needs `count` (a parameter)", ("grant", "incentive"), key=True
            )
        else:
            c.param(inc.count, ("grant", "incentive", "count"), params, whole=True)
    elif inc.count is not None:
        c.add("invalid_value", "`count` is only for the `top` incentive rule", ("grant", "incentive", "count"))


def load_rules(path: str | Path) -> IdentifyRules:
    """Load and check a rule file. Raises FormulaError with every problem found, each at file:line:col."""
    p = Path(path)
    data, marks = load_yaml_file(p)
    return _build(data, str(p), p.read_text(encoding="utf-8"), marks)


def load_rules_text(text: str, file: str = "<string>") -> IdentifyRules:
    data, marks = load_yaml_text(text, file)
    return _build(data, file, text, marks)

"""Load and check a school spending review spec: located errors, names resolved, cycles refused.

Pydantic checks the shape (unknown keys, types, one of two keys); this module checks what needs the
whole file: ids unique across tables, columns, variables and parameters; every name an expression or a
role uses is declared; joins; no cycle through variables and join keys; numbers in conditions only as
cited parameters; groups, focus and peers consistent with the roles. Every problem is collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairshare.errors import FormulaError
from fairshare.review.schools_spec import GRADE_VARIABLES, PEER_BUILTINS, ReviewModel, ReviewSpec
from fairshare.rules._yaml import Marks, load_yaml_file, load_yaml_text
from fairshare.rules.expr import Expr
from fairshare.rules.schema import validate_spec
from fairshare.rules.speccheck import SpecChecker

__all__ = ["load_review_spec", "load_review_spec_text"]

Path_ = tuple[str | int, ...]


def load_review_spec(path: str | Path) -> ReviewSpec:
    p = Path(path)
    data, marks = load_yaml_file(p)
    return _build(data, marks, str(p), p.read_text(encoding="utf-8"))


def load_review_spec_text(text: str, file: str = "<string>") -> ReviewSpec:
    data, marks = load_yaml_text(text, file)
    return _build(data, marks, file, text)


def _build(data: Any, marks: Marks, file: str, text: str) -> ReviewSpec:
    model = validate_spec(ReviewModel, data, file, marks, "a review spec")
    c = _Checker(file, text, marks)
    spec = c.check(model)
    if c.problems:
        raise FormulaError(c.problems)
    assert spec is not None
    return spec


class _Checker(SpecChecker):
    def name(self, name: str | None, path: Path_, known: set[str], what: str) -> None:
        if name is not None and name not in known:
            self.unknown(name, sorted(known), what, path)

    def check(self, m: ReviewModel) -> ReviewSpec | None:
        seen: dict[str, Path_] = {}
        for kind, ids in (
            ("table", [(t, ("tables", t)) for t in m.tables]),
            ("column", [(c, ("tables", t, "columns", c)) for t, s in m.tables.items() for c in s.columns]),
            ("variable", [(v, ("variables", v)) for v in m.variables]),
            ("parameter", [(p, ("parameters", p)) for p in m.parameters]),
        ):
            for i, path in ids:
                if i in seen:
                    self.add("duplicate_id", f"{kind} id {i!r} is already used (ids are one namespace)", path, key=True)
                seen.setdefault(i, path)
        primary = next(iter(m.tables))
        if m.tables[primary].join is not None:
            self.add(
                "invalid_value",
                f"the first table ({primary}) is the units' table: it has no `join`",
                ("tables", primary, "join"),
            )
        columns = {c for s in m.tables.values() for c in s.columns}
        primary_cols = set(m.tables[primary].columns)
        params = set(m.parameters)
        values = columns | set(m.variables) | set(m.tables) - {primary}
        variables: dict[str, Expr] = {}
        for vid, var in m.variables.items():
            e = self.expr(
                var.expr,
                ("variables", vid, "expr"),
                values | params - {vid},
                "a column, table, variable or parameter",
                True,
            )
            if e is not None:
                variables[vid] = e
        joins: dict[str, Expr] = {}
        for tid, t in list(m.tables.items())[1:]:
            if t.join is None:
                self.add(
                    "missing_key",
                    f"table {tid} needs `join` (key and to): only the first table has none",
                    ("tables", tid),
                    key=True,
                )
                continue
            if t.join.key not in t.columns:
                self.unknown(t.join.key, sorted(t.columns), f"a column of table {tid}", ("tables", tid, "join", "key"))
            e = self.expr(
                t.join.to,
                ("tables", tid, "join", "to"),
                primary_cols | set(m.variables),
                "a column of the first table or a variable",
                True,
            )
            if e is not None:
                joins[tid] = e
        self._cycles(variables, joins, m)
        r = m.unit
        if r.id in values and r.id not in primary_cols:
            self.add("invalid_value", f"unit.id must be a column of the first table ({primary})", ("unit", "id"))
        for role in ("id", "name", "district", "district_name", "type", "grade_span"):
            self.name(getattr(r, role), ("unit", role), values, "a column or variable")
        s = m.spending
        for role in ("enrollment", "expenditure", "per_pupil"):
            self.name(getattr(s, role), ("spending", role), values, "a column or variable")
        if s.central_office is not None:
            for role in ("amount", "enrollment", "per_pupil"):
                self.name(
                    getattr(s.central_office, role),
                    ("spending", "central_office", role),
                    values,
                    "a column or variable",
                )
            if s.central_office.amount is not None and r.district is None:
                self.add(
                    "missing_key", "a district-level central-office amount needs unit.district", ("unit",), key=True
                )
        if m.high_needs is not None:
            for role in ("count", "percent", "share"):
                self.name(getattr(m.high_needs, role), ("high_needs", role), values, "a column or variable")
        if m.outcome is not None:
            self.name(m.outcome.value, ("outcome", "value"), values, "a column or variable")
        conditions = values | params
        exclusions = {
            x: e
            for x, ex in m.exclude.items()
            if (
                e := self.expr(
                    ex.when, ("exclude", x, "when"), conditions, "a column, table, variable or parameter", False
                )
            )
            is not None
        }
        groups = self._groups(m, conditions)
        self._focus_and_peers(m, values)
        row_filters = {
            tid: e
            for tid, t in m.tables.items()
            if t.rows is not None
            and (e := self.expr(t.rows, ("tables", tid, "rows"), set(t.columns), f"a column of table {tid}", True))
            is not None
        }
        return ReviewSpec(m, variables, exclusions, groups, joins, self.file, self.text, self.marks, row_filters)

    def _cycles(self, variables: dict[str, Expr], joins: dict[str, Expr], m: ReviewModel) -> None:
        """Variables and join keys that depend on themselves (directly or through a joined table)."""
        primary = next(iter(m.tables))
        owner = {c: t for t, s in m.tables.items() for c in s.columns if t != primary}
        owner |= {t: t for t in m.tables if t != primary}

        def edges(node: str) -> list[str]:
            e = joins.get(node[5:]) if node.startswith("join:") else variables.get(node)
            if e is None:
                return []
            return sorted(
                n if n in variables else f"join:{owner[n]}" for n in e.names() if n in variables or n in owner
            )

        done: set[str] = set()

        def cyclic(node: str, stack: set[str]) -> bool:
            if node in stack:
                return True
            if node in done:
                return False
            stack.add(node)
            found = any(cyclic(n, stack) for n in edges(node))
            stack.discard(node)
            done.add(node)
            return found

        for vid in variables:
            if cyclic(vid, set()):
                self.add(
                    "cycle",
                    f"variable {vid} depends on itself (through variables or a joined table's key)",
                    ("variables", vid, "expr"),
                )
                return

    def _groups(self, m: ReviewModel, conditions: set[str]) -> dict[str, Expr | None]:
        groups: dict[str, Expr | None] = {}
        items = list(m.groups.items())
        for i, (gid, g) in enumerate(items):
            if g.when is None:
                if i != len(items) - 1:
                    self.add(
                        "invalid_value",
                        f"group {gid} has no `when`, so it takes every unit left: it must come last",
                        ("groups", gid),
                        key=True,
                    )
                groups[gid] = None
            else:
                e = self.expr(
                    g.when, ("groups", gid, "when"), conditions, "a column, table, variable or parameter", False
                )
                groups[gid] = e
        refs = [gid for gid, g in items if g.reference]
        if items and len(refs) != 1:
            self.add(
                "invalid_value",
                f"exactly one group is the reference (reference: true); found {len(refs)}",
                ("groups",),
                key=True,
                hint="mark the group the others are compared with",
            )
        return groups

    def _focus_and_peers(self, m: ReviewModel, values: set[str]) -> None:
        if m.focus is not None and m.focus.district is not None and m.unit.district is None:
            self.add("missing_key", "a focus district needs unit.district", ("focus", "district"), key=True)
        p = m.peers
        if p is None:
            return
        if p.k.value < 1 or p.k.value % 1:
            self.add(
                "invalid_value",
                f"peers.k must be a whole number of at least 1 (it is {p.k.value:g})",
                ("peers", "k", "value"),
            )
        for v, pv in p.variables.items():
            path = ("peers", "variables", v)
            if v not in PEER_BUILTINS and v not in values:
                self.unknown(
                    v,
                    sorted(set(PEER_BUILTINS) | values),
                    "a peer variable (high_needs, enrollment, grade_span, grade_low, grade_high, a column, a variable)",
                    path,
                    key=True,
                )
            if v == "high_needs" and m.high_needs is None:
                self.add("missing_key", "the peer variable high_needs needs the `high_needs` section", path, key=True)
            if v in GRADE_VARIABLES and m.unit.grade_span is None:
                self.add("missing_key", f"the peer variable {v} needs unit.grade_span", path, key=True)
            if pv.weight.value < 0:
                self.add("invalid_value", f"the weight of {v} must not be negative", (*path, "weight", "value"))
        if p.type is not None and m.unit.type is None:
            self.add("missing_key", "peers.type needs unit.type", ("peers", "type"), key=True)
        if p.type is not None and p.type.penalty is not None and p.type.penalty.value < 0:
            self.add("invalid_value", "peers.type.penalty must not be negative", ("peers", "type", "penalty", "value"))
        for side in ("below", "above"):
            if getattr(p.flags, side).value < 0:
                self.add(
                    "invalid_value",
                    f"peers.flags.{side} is a percent and must not be negative",
                    ("peers", "flags", side, "value"),
                )

"""Formulas as cited data: load (declare), compile (plan) and evaluate (run) them.

from fairshare.rules import load_formula, compile_formula, evaluate, trace_entity
plan = compile_formula(load_formula("formula.yaml"), datetime.date(2025, 7, 1))
run = evaluate(plan, table)          # table: fairshare.io.EntityTable
trace_entity(run, 0)                 # why entity 0 gets each amount
"""

from fairshare.rules.evaluate import Run, evaluate
from fairshare.rules.expr import FUNCTIONS, parse_expr
from fairshare.rules.money import ROUNDING_RULE, dollars_text, largest_remainder, to_cents
from fairshare.rules.plan import Plan, ResolvedParam, compile_formula
from fairshare.rules.schema import COMPONENT_KINDS, Formula, load_formula, load_formula_text
from fairshare.rules.trace import EntityTrace, LineTrace, trace_entity
from fairshare.rules.units import UNITS

__all__ = [
    "COMPONENT_KINDS",
    "FUNCTIONS",
    "ROUNDING_RULE",
    "UNITS",
    "EntityTrace",
    "Formula",
    "LineTrace",
    "Plan",
    "ResolvedParam",
    "Run",
    "compile_formula",
    "dollars_text",
    "evaluate",
    "largest_remainder",
    "load_formula",
    "load_formula_text",
    "parse_expr",
    "to_cents",
    "trace_entity",
]

"""The district's resource allocation methodology, in words, from its formula (for the review packet).

A reviewer needs to see how dollars reach a school: which lines the formula has, what each counts
and at what rate, and where each figure comes from. This reads a compiled plan and says it: one
paragraph on the formula, and a table of its lines (kind, what it computes) and of the parameter
values in force with their sources.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fairshare.review.packet import PacketTable
from fairshare.rules import compile_formula, load_formula
from fairshare.rules.kinds import CompiledExpr
from fairshare.rules.units import format_value

__all__ = ["methodology_from_formula"]

_KINDS = {
    "per_pupil": "an amount per pupil",
    "weight": "a weight on the base amount for pupils with a need",
    "fixed": "a fixed amount",
    "positions": "positions at average salaries",
    "supplement": "a supplement for schools meeting a condition",
    "pot": "a fixed total shared in proportion to a driver",
    "cap": "a cap on the lines above",
    "floor": "a floor under the lines above",
    "hold_harmless": "protection against a loss from last year",
    "scale_to_budget": "a fit to the money available",
}


def _expr_text(source: str) -> str:
    return " ".join(source.split())


def _what(exprs: dict[str, CompiledExpr], options: dict[str, Any]) -> str:
    """What a line computes, in the formula's own names: ``count × rate`` and the like."""
    src = {k: _expr_text(ce.source) for k, ce in exprs.items()}
    if "band_labels" in options:
        return "; ".join(
            f"{label}: {src[f'bands.{k}.count']} × {src[f'bands.{k}.rate']}"
            for k, label in enumerate(options["band_labels"])
        )
    if {"count", "rate"} <= src.keys():
        return f"{src['count']} × {src['rate']}"
    if {"count", "base", "weight"} <= src.keys():
        return f"{src['count']} × {src['base']} × {src['weight']}"
    return ", ".join(f"{k} = {v}" for k, v in src.items() if k not in ("salary", "benefits_rate"))


def methodology_from_formula(path: str | Path, date: dt.date) -> tuple[tuple[str, ...], PacketTable, PacketTable]:
    """(paragraphs, lines table, parameters table) describing the formula in force on ``date``."""
    plan = compile_formula(load_formula(path), date)
    f = plan.formula
    lines = list(plan.components)
    paragraph = (
        f"The district allocates with “{f.label}” (formula {f.formula}, in force on {date.isoformat()}): "
        f"{len(plan.lines)} budget line{'s' if len(plan.lines) != 1 else ''}"
        + (", fitted to the money available" if plan.scale is not None else "")
        + ". Each line below says what it computes; every figure it uses is listed with its source."
    )
    paragraphs: tuple[str, ...] = (paragraph,) + ((f.description.strip(),) if f.description else ())
    rows = []
    for comp in lines:
        what = _what(comp.exprs, comp.options)
        condition = f" when {_expr_text(comp.when.source)}" if comp.when is not None else ""
        rows.append((comp.label, _KINDS.get(comp.kind, comp.kind), what + condition))
    line_table = PacketTable("The formula's lines", ("Line", "Kind", "Computed as"), tuple(rows))
    params = tuple(
        (p.label, format_value(p.value, p.unit), p.reference.cite())
        for p in sorted(plan.params.values(), key=lambda p: p.id)
    )
    param_table = PacketTable("Figures in force and their sources", ("Figure", "Value", "Source"), params, numeric=(1,))
    return paragraphs, line_table, param_table

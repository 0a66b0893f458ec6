"""Every entity's identification and tier in words, from the results of its tests.

A rank test reads "accountability index 59.03, rank 4 of 114 — within the bottom 30"; a condition
names its expression, whether it holds and the values it read; an entity outside the universe gets
the first universe entry it fails with the values read; a missing value says where it is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fairshare.programs.identify_schema import Cond, IdentifyRules, Rank, leaves
from fairshare.rules.units import format_value

if TYPE_CHECKING:
    from fairshare.programs.identify import Identification, LeafResult

__all__ = ["label_of", "leaf_reason", "reasons", "unit_of", "value_text"]


def label_of(rules: IdentifyRules, name: str) -> str:
    m = rules.model
    for t in m.tables.values():
        if name in t.columns:
            return t.columns[name].label or name.replace("_", " ")
    if name in m.variables:
        return m.variables[name].label
    if name in m.parameters:
        return name
    return name.replace("_", " ")


def unit_of(rules: IdentifyRules, name: str) -> str:
    m = rules.model
    for t in m.tables.values():
        if name in t.columns:
            return t.columns[name].unit or ""
    if name in m.variables:
        return m.variables[name].unit or ""
    if name in m.parameters:
        return m.parameters[name].unit
    return ""


def value_text(rules: IdentifyRules, name: str, v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, int, np.floating, np.integer)):
        return "no value" if np.isnan(float(v)) else format_value(float(v), unit_of(rules, name))
    return str(v)


def _status_value(result: Identification, name: str, j: int) -> str | None:
    """The value of a name only tier rules read (a rule's result, the previous list, transition)."""
    if name in result.leaves:
        return "met" if result.leaves[name].passed[j] else "not met"
    if name == "previous_tier" and result.previous is not None and result.previous.tier is not None:
        return str(result.previous.tier[j]) or "none"
    if name == "previously_identified":
        return "yes" if result.previous is not None and result.previous.identified[j] else "no"
    if name == "transition":
        return "yes" if result.status[j] == "transition" else "no"
    return None


def _values(result: Identification, names: set[str], j: int) -> str:
    rules, frame = result.rules, result.frame
    row = int(result.rows[j])
    parts = []
    for name in sorted(names):
        status = _status_value(result, name, j)
        if status is not None:
            parts.append(f"{name.replace('_', ' ')} {status}")
        elif name in rules.params:
            parts.append(f"{name} {value_text(rules, name, rules.params[name].value)}")
        elif name in frame.values:
            v = frame.values[name][row]
            shown = "no value" if frame.missing[name][row] else value_text(rules, name, v)
            parts.append(f"{label_of(rules, name)} {shown}")
    return ", ".join(parts)


def leaf_reason(result: Identification, lr: LeafResult, j: int, among: str) -> str:
    rules, frame = result.rules, result.frame
    row = int(result.rows[j])
    leaf = lr.leaf
    if isinstance(leaf, Rank):
        label = label_of(rules, leaf.by)
        if lr.missing[j]:
            roots = sorted(frame.roots.get(leaf.by, {leaf.by}))
            bad = next((n for n in roots if n in frame.missing and frame.missing[n][row]), leaf.by)
            why = frame.locate(bad, row)["why"]
            return f"{label}: no value ({why}) — not ranked, counts as not met"
        assert lr.rank is not None and lr.ties is not None
        if lr.rank[j] == 0:
            return ""
        tie = f" (tied with {lr.ties[j]} other{'s' if lr.ties[j] > 1 else ''})" if lr.ties[j] else ""
        side = "within" if lr.passed[j] else "outside"
        return (
            f"{label} {value_text(rules, leaf.by, lr.value[j])}, rank {lr.rank[j]}{tie} of {lr.ranked}{among}"
            f" — {side} the {leaf.direction} {lr.count}"
        )
    assert isinstance(leaf, Cond)
    names = leaf.expr.names()
    head = f"{leaf.label}: " if leaf.label else ""
    if lr.missing[j]:
        bad = next(n for n in sorted(names) if n in frame.missing and frame.missing[n][row])
        why = frame.locate(bad, row)["why"]
        return f"{head}{leaf.text} — {label_of(rules, bad)} has no value ({why}), counts as not met"
    shown = _values(result, names, j)
    holds = "holds" if lr.passed[j] else "does not hold"
    return f"{head}{leaf.text} — {holds}" + (f" ({shown})" if shown else "")


def _history(result: Identification, j: int) -> str:
    m = result.rules.model
    if m.lookback is None:
        return ""
    k = int(result.rules.params[m.lookback.years].value)
    if k <= 1:
        return ""
    years = result.years[-k:]
    got = result.history[j, -k:]
    each = ", ".join(f"{y}: {'yes' if q else 'no'}" for y, q in zip(years, got, strict=True))
    return f"met the rule in {int(got.sum())} of the last {k} years ({each}; {m.lookback.require} required)"


def _status_text(result: Identification, j: int) -> str:
    m = result.rules.model
    s = result.status[j]
    if s == "identified":
        return "identified"
    if s == "not identified":
        return "not identified"
    if s == "entered":
        return "enters: meets the rule, not identified before"
    if s == "stayed":
        return "stays: meets the rule" if result.meets[j] else "stays: identified before and kept (no exit)"
    after = int(result.rules.params[m.exit.after_years].value) if m.exit and m.exit.after_years else 0
    if s == "transition":
        return (
            f"in transition: identified before, has not met the rule for {result.years_failing[j]} of the "
            f"{after} consecutive year{'s' if after != 1 else ''} after which it leaves"
        )
    if m.exit and m.exit.rule == "phased":
        return (
            f"leaves: identified before, has not met the rule for {after} consecutive year{'s' if after != 1 else ''}"
        )
    return "leaves: identified before, no longer meets the rule"


def reasons(result: Identification) -> None:
    """Fill ``result.reasons`` (identification) and ``result.tier_reasons`` (each tier scheme)."""
    rules = result.rules
    rule_leaves = leaves(rules.rule)
    out: list[str] = []
    for j in range(len(result.ids)):
        parts: list[str] = []
        if not result.in_universe[j]:
            uid = str(result.failed_entry[j])
            entry = rules.model.universe[uid]
            shown = _values(result, rules.universe[uid].names(), j)
            parts.append(f"outside the universe: not {entry.label}" + (f" ({shown})" if shown else ""))
        else:
            parts += [t for t in (leaf_reason(result, result.leaves[lf.id], j, "") for lf in rule_leaves) if t]
        hist = _history(result, j)
        if hist:
            parts.append(hist)
        out.append(f"{_status_text(result, j)} — " + "; ".join(parts) if parts else _status_text(result, j))
    result.reasons = out
    n_ident = int(result.identified.sum())
    for sid, levels in rules.tier_rules.items():
        texts = []
        for j in range(len(result.ids)):
            lid = result.tiers[sid][j]
            if not lid:
                texts.append("")
                continue
            node = levels[lid]
            level = rules.model.tiers[sid].levels[lid]
            if node is None:
                texts.append(f"{level.label}: every other identified {rules.model.entity.kind}")
                continue
            res = result.tier_leaves[sid]
            among = f" identified {rules.model.entity.kind}s" if n_ident else ""
            bits = [leaf_reason(result, res[lf.id], j, among) for lf in leaves(node) if lf.id in res]
            texts.append(f"{level.label}: " + "; ".join(b for b in bits if b))
        result.tier_reasons[sid] = texts

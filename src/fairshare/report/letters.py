"""Budget letters: one plain-language HTML letter per entity, rendered from its trace.

The letter says what the school gets, then how each line was built (numbers,
words, policy, the trace's notes), what it is not eligible for and why, its
positions and discretionary dollars, and the change from last year. Everything
shown comes from the :class:`~fairshare.rules.trace.EntityTrace`; the letter
computes nothing but sums and differences of its integer cents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fairshare.programs.positions import unit_cost_cents
from fairshare.report.html import (
    environment,
    fiscal_year_label,
    fte_text,
    letter_file_names,
    money,
    number_text,
    percent_text,
    plural,
    signed_money,
)
from fairshare.rules.evaluate import Run
from fairshare.rules.money import to_cents
from fairshare.rules.trace import EntityTrace, InputRead, LineTrace, trace_entity
from fairshare.rules.units import format_value

__all__ = ["render_letter", "role_cost", "write_letters"]

#: kinds that adjust a subtotal; an eligible one is worth showing even at $0.00 ("no adjustment")
LIMIT_KINDS = frozenset({"cap", "floor", "hold_harmless"})
_RANK = re.compile(r"^rank\(\s*([\w.]+)\s*(?:,\s*descending\s*=\s*(true|false)\s*)?\)\s*(<=|<)\s*([\w.]+)$")


@dataclass(frozen=True)
class _Row:
    label: str
    amount: str
    calc: tuple[str, ...]
    symbolic: str
    policy: str
    notes: tuple[str, ...]
    refs: tuple[int, ...]


@dataclass(frozen=True)
class _Absent:
    label: str
    status: str
    reason: str


@dataclass(frozen=True)
class _Position:
    label: str
    fte: float
    unit_cost_cents: int
    cents: int
    locked: bool


def _shown(line: LineTrace) -> bool:
    """A line earns a row when it has money, or is an eligible limit (its "no adjustment" is news)."""
    return line.amount_cents != 0 or (line.eligible and line.kind in LIMIT_KINDS)


def _value_text(read: InputRead) -> str:
    v = read.value
    if v is None:
        return "blank"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        return format_value(float(v), read.unit)
    return str(v)


def _condition_phrase(line: LineTrace, kind: str) -> str:
    """Plain words for a `when` condition, with this entity's values, e.g. 'only the 15 schools with ...'."""
    cond = (line.condition or "").strip()
    inputs = {r.id: r for r in line.inputs}
    params = {p.id: p for p in line.params}
    m = _RANK.match(cond)
    if m:
        by, desc, op, limit = m.groups()
        n: float | None = None
        if limit in params:
            n = params[limit].value
        elif re.fullmatch(r"\d+(\.\d+)?", limit):
            n = float(limit)
        if n is not None and by in inputs:
            n = n - 1 if op == "<" else n
            which = "highest" if desc == "true" else "lowest"
            here = _value_text(inputs[by])
            return f"only the {number_text(n)} {plural(kind)} with the {which} {inputs[by].label} (here {here})"
    if cond in inputs and inputs[cond].unit == "flag":
        return f"only where {inputs[cond].label} is yes (here {_value_text(inputs[cond])})"
    values = [
        f"{r.label} is {_value_text(r)}"
        for r in line.inputs
        if re.search(rf"(?<![\w.]){re.escape(r.id)}(?![\w.])", cond)
    ]
    return "only where the condition holds" + (f" (here {'; '.join(values)})" if values else "")


def _absent(line: LineTrace, kind: str, common: list[str]) -> _Absent:
    if not line.eligible and line.condition is not None:
        return _Absent(line.label, "not eligible", f"{_condition_phrase(line, kind)}; {line.numeric}")
    if not line.eligible:
        return _Absent(line.label, "not eligible", line.numeric)
    own = [n for n in dict.fromkeys(line.notes) if n not in common]
    return _Absent(line.label, money(line.amount_cents), " ".join([line.numeric + ".", *own]))


def _rows(lines: list[LineTrace]) -> tuple[list[_Row], list[str]]:
    """Rows with their own notes; notes shared by several rows are numbered once instead."""
    seen: dict[str, int] = {}
    for line in lines:
        for note in dict.fromkeys(line.notes):
            seen[note] = seen.get(note, 0) + 1
    common = [note for note, k in seen.items() if k > 1]
    number = {note: k + 1 for k, note in enumerate(common)}
    rows = [
        _Row(
            line.label,
            money(line.amount_cents),
            tuple(line.numeric.split("; ")),
            line.symbolic,
            line.policy,
            tuple(n for n in dict.fromkeys(line.notes) if n not in number),
            tuple(number[n] for n in dict.fromkeys(line.notes) if n in number),
        )
        for line in lines
    ]
    return rows, common


def _positions(lines: tuple[LineTrace, ...]) -> list[_Position]:
    """Positions grouped by role (a role may come from several lines), in formula order."""
    by_role: dict[str, list[LineTrace]] = {}
    for line in lines:
        if line.role is not None and line.fte is not None and line.fte > 0:
            by_role.setdefault(line.role, []).append(line)
    out = []
    for group in by_role.values():
        first = group[0]
        out.append(
            _Position(
                first.role_label or first.label,
                round(sum(x.fte or 0.0 for x in group), 6),
                int(to_cents(first.unit_cost or 0.0)),
                sum(x.amount_cents for x in group),
                bool(first.locked),
            )
        )
    return out


def render_letter(
    trace: EntityTrace, *, district: str | None = None, teacher_cost: float | None = None, entity_kind: str = "school"
) -> str:
    """The budget letter for one entity, as a complete HTML document.

    ``teacher_cost``: a classroom teacher's cost per FTE in dollars (salary × (1 + benefits
    rate)); when given, discretionary dollars are also shown in teacher equivalents.
    """
    shown = [line for line in trace.lines if _shown(line)]
    rows, common = _rows(shown)
    absent = [_absent(line, entity_kind, common) for line in trace.lines if not _shown(line)]
    positions = _positions(trace.lines)
    positions_cents = sum(p.cents for p in positions)
    discretionary = trace.total_cents - positions_cents
    teacher_cents = int(to_cents(teacher_cost)) if teacher_cost else 0
    teachers = f"{discretionary / teacher_cents:,.1f}" if teacher_cents > 0 and discretionary > 0 else None
    change = None
    if trace.prior_total_cents is not None:
        delta = trace.total_cents - trace.prior_total_cents
        pct = percent_text(delta / trace.prior_total_cents, signed=True) if trace.prior_total_cents > 0 else None
        change = {
            "prior": money(trace.prior_total_cents),
            "delta": signed_money(delta),
            "percent": pct,
            "direction": "gain" if delta > 0 else "loss" if delta < 0 else "same",
        }
    context = {
        "t": trace,
        "district": district,
        "kind": entity_kind,
        "fy": fiscal_year_label(trace.date),
        "total": money(trace.total_cents),
        "pupils": number_text(trace.pupils),
        "per_pupil": None if trace.per_pupil_cents is None else money(trace.per_pupil_cents),
        "rows": rows,
        "common": common,
        "absent": absent,
        "positions": positions,
        "positions_fte": fte_text(sum(p.fte for p in positions)),
        "positions_total": money(positions_cents),
        "discretionary": money(discretionary),
        "teachers": teachers,
        "teacher_cost": money(teacher_cents) if teacher_cents else None,
        "change": change,
        "hash12": trace.formula_hash[:12],
        "carved": any(sa.alternative_to is None for sa in trace.set_asides),
        "unrestricted": money(
            trace.total_cents - sum(sa.amount_cents for sa in trace.set_asides if sa.alternative_to is None)
        ),
    }
    return environment().get_template("letter.html.j2").render(context)


def role_cost(run: Run, role: str, i: int) -> float | None:
    """Cost per FTE of ``role`` for entity ``i`` in dollars (salary × (1 + benefits rate)), or None."""
    return unit_cost_cents(run, role, i) / 100 if role in run.plan.roles else None


def write_letters(run: Run, out_dir: Path, *, district: str | None = None) -> list[Path]:
    """Write ``out_dir/letters/<entity_id>.html`` for every entity (ids made safe as file names)."""
    folder = Path(out_dir) / "letters"
    folder.mkdir(parents=True, exist_ok=True)
    kind = run.plan.formula.entity.kind
    paths = []
    for i, stem in enumerate(letter_file_names(list(run.table.ids))):
        html = render_letter(
            trace_entity(run, i), district=district, teacher_cost=role_cost(run, "teacher", i), entity_kind=kind
        )
        path = folder / f"{stem}.html"
        path.write_text(html, encoding="utf-8", newline="\n")
        paths.append(path)
    return paths

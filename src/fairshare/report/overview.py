"""The district overview report: headline figures, totals by component, equity and change charts, every entity.

All money comes from the run's integer cents. Entities with no prior-year
amount are listed as "new/no prior", never counted as a change from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fairshare.report.charts import change_bars, need_scatter
from fairshare.report.html import (
    environment,
    fiscal_year_label,
    letter_file_names,
    money,
    number_text,
    percent_text,
    plural,
    signed_money,
)
from fairshare.report.outputs import set_aside_summary
from fairshare.report.summary import comparison_charts, component_summary
from fairshare.rules.evaluate import Run
from fairshare.rules.money import ROUNDING_RULE, to_cents
from fairshare.rules.units import format_value

__all__ = ["render_report", "write_report"]

#: most bars in the change chart; beyond this the largest changes are shown
MAX_BARS = 40
#: rows in each of the largest-gains and largest-losses tables
TOP_CHANGES = 10


@dataclass(frozen=True)
class _Entity:
    id: str
    name: str
    href: str
    pupils: str
    total_cents: int
    per_pupil: str
    prior_cents: int | None
    delta_cents: int | None
    change: float | None

    @property
    def total(self) -> str:
        return money(self.total_cents)

    @property
    def prior(self) -> str:
        return "—" if self.prior_cents is None else money(self.prior_cents)

    @property
    def delta(self) -> str:
        return "new/no prior" if self.delta_cents is None else signed_money(self.delta_cents)

    @property
    def percent(self) -> str:
        return "" if self.change is None else percent_text(self.change, signed=True)

    @property
    def direction(self) -> str:
        d = self.delta_cents or 0
        return "gain" if d > 0 else "loss" if d < 0 else ""


def _entities(run: Run, prior: np.ndarray | None) -> list[_Entity]:
    stems = letter_file_names(list(run.table.ids))
    totals, pp, pupils = run.total_cents, run.per_pupil_cents, run.pupils
    out = []
    for i in range(run.table.n):
        p = None if prior is None or prior[i] < 0 else int(prior[i])
        delta = None if p is None else int(totals[i]) - p
        change = None if p is None or p <= 0 or delta is None else delta / p
        out.append(
            _Entity(
                str(run.table.ids[i]),
                str(run.table.names[i]),
                f"letters/{stems[i]}.html",
                number_text(float(pupils[i])),
                int(totals[i]),
                "—" if pp[i] < 0 else money(int(pp[i])),
                p,
                delta,
                change,
            )
        )
    return sorted(out, key=lambda e: e.id)


def _components(run: Run) -> tuple[list[dict[str, str]], int]:
    grand = int(run.total_cents.sum())
    rows = []
    for j, comp in enumerate(run.lines):
        col = run.cents[:, j]
        amount = int(col.sum())
        rows.append(
            {
                "id": comp.id,
                "label": comp.label,
                "kind": comp.kind,
                "amount": money(amount),
                "share": percent_text(amount / grand) if grand else "—",
                "receiving": f"{int(np.count_nonzero(col)):,}",
            }
        )
    return rows, grand


def _need_chart(run: Run) -> dict[str, Any] | None:
    plan = run.plan
    if plan.need_share is None:
        return None
    with np.errstate(all="ignore"):
        need = np.broadcast_to(np.asarray(plan.need_share(run.env), dtype=float), (run.table.n,))
    pp = run.per_pupil_cents
    keep = np.flatnonzero((pp >= 0) & np.isfinite(need))
    points = [{"need": float(need[i]), "per_pupil": int(pp[i]) / 100} for i in keep]
    caption = ""
    x, y = need[keep], pp[keep] / 100.0
    if len(keep) >= 2 and float(np.ptp(x)) > 0:
        slope = float(np.polyfit(x, y, 1)[0]) * 0.10
        more = "more" if slope >= 0 else "less"
        caption = (
            f"Fitted straight line (least squares): about ${abs(slope):,.0f} {more} per pupil for every "
            "10 percentage points more high-need pupils."
        )
    left_out = run.table.n - len(keep)
    if left_out:
        caption += (
            f" {left_out:,} {plural(plan.formula.entity.kind) if left_out > 1 else plan.formula.entity.kind} "
            "with no pupils or no high-need share not shown."
        )
    return {"svg": need_scatter(points, plan.formula.entity.kind), "caption": caption.strip(), "points": len(points)}


def _changes(entities: list[_Entity], against: str) -> dict[str, Any]:
    known = [e for e in entities if e.delta_cents is not None]
    new = [e for e in entities if e.delta_cents is None]
    gains = sorted((e for e in known if (e.delta_cents or 0) > 0), key=lambda e: (-(e.delta_cents or 0), e.id))
    losses = sorted((e for e in known if (e.delta_cents or 0) < 0), key=lambda e: (e.delta_cents or 0, e.id))
    same = [e for e in known if e.delta_cents == 0]
    with_pct = [e for e in known if e.change is not None]
    shown = sorted(with_pct, key=lambda e: (-abs(e.change or 0.0), e.id))[:MAX_BARS]
    shown.sort(key=lambda e: (-(e.change or 0.0), e.id))
    bars = [
        {"label": f"{e.id} {e.name}", "change": e.change, "direction": "gain" if (e.change or 0) >= 0 else "loss"}
        for e in shown
    ]
    return {
        "summary": [
            {"label": "Gaining", "count": len(gains), "amount": signed_money(sum(e.delta_cents or 0 for e in gains))},
            {"label": "Losing", "count": len(losses), "amount": signed_money(sum(e.delta_cents or 0 for e in losses))},
            {"label": "Unchanged", "count": len(same), "amount": money(0)},
        ],
        "net": signed_money(sum(e.delta_cents or 0 for e in known)),
        "gains": gains[:TOP_CHANGES],
        "losses": losses[:TOP_CHANGES],
        "new": new,
        "new_total": money(sum(e.total_cents for e in new)),
        "svg": change_bars(bars, against) if bars else None,
        "bars": len(bars),
        "with_pct": len(with_pct),
    }


def render_report(run: Run, *, district: str | None = None) -> str:
    """The district overview of a run, as one self-contained HTML document."""
    plan = run.plan
    pupils = float(np.sum(run.pupils))
    components, grand = _components(run)
    summary = component_summary(run)
    prior = run.prior_total_cents
    entities = _entities(run, prior)
    solved = [
        {
            "label": plan.params[pid].label,
            "id": pid,
            "value": format_value(v, plan.params[pid].unit),
            "planned": format_value(plan.params[pid].value, plan.params[pid].unit),
        }
        for pid, v in run.solved.items()
    ]
    kind = plan.formula.entity.kind
    context = {
        "district": district,
        "formula": plan.formula,
        "kind": kind,
        "kinds": plural(kind),
        "fy": fiscal_year_label(plan.date),
        "date": plan.date.isoformat(),
        "hash12": plan.hash[:12],
        "n": f"{run.table.n:,}",
        "pupils": number_text(pupils),
        "total": money(grand),
        "per_pupil": money(int(to_cents(grand / 100.0 / pupils))) if pupils > 0 else None,
        "budget": None if run.budget_cents is None else money(run.budget_cents),
        "solved": solved,
        "notes": run.notes,
        "components": components,
        "summary": summary,
        "comparison": comparison_charts(run),
        "need": _need_chart(run),
        "has_prior": prior is not None,
        "changes": _changes(entities, summary["current_label"].lower()) if prior is not None else None,
        "entities": entities,
        "rounding": ROUNDING_RULE,
        "set_asides": _set_asides(run),
    }
    return environment().get_template("report.html.j2").render(context)


def _set_asides(run: Run) -> list[dict[str, Any]]:
    summary = set_aside_summary(run)
    out = []
    for sa, cents in zip(run.plan.set_asides, run.set_aside_cents, strict=True):
        low, high = summary[sa.id + "_min_pct"], summary[sa.id + "_max_pct"]
        out.append(
            {
                "sa": sa,
                "amount": money(int(cents.sum())),
                "pct": summary[sa.id + "_pct"],
                "recipients": summary[sa.id + "_recipients"],
                "range": f"{low} % to {high} %" if low != "" else "",
            }
        )
    return out


def write_report(run: Run, path: Path, *, district: str | None = None) -> Path:
    """Write the overview to ``path`` (its letters are linked as ``letters/<entity_id>.html`` beside it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(run, district=district), encoding="utf-8", newline="\n")
    return path

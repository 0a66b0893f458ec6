"""The state (or district) summary by component, and model-against-current comparisons.

For each line: its base and weight when they are one number for every entity (else
their range), the eligible count (the pupils or FTE the line counts, summed over the
entities that receive it), and the model funding; the total row sets the model against
current funding (the formula's prior-total column) with the difference. Every line,
rural included, is in the total.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from markupsafe import Markup

from fairshare.report.charts import current_vs_model, per_pupil_vs_need
from fairshare.report.html import money, number_text, signed_money
from fairshare.rules.evaluate import Run
from fairshare.rules.kinds import Kind

__all__ = ["comparison_charts", "component_summary"]


def _values(run: Run, key: str, comp: Kind, where: np.ndarray) -> np.ndarray | None:
    ce = comp.exprs.get(key)
    if ce is None:
        return None
    with np.errstate(all="ignore"):
        v = np.broadcast_to(np.asarray(ce(run.env), dtype=float), (run.table.n,))
    picked: np.ndarray = v[where]
    return picked


def _total(values: np.ndarray | None) -> float:
    return 0.0 if values is None else float(np.sum(values))


def _span(values: np.ndarray | None, fmt: Any) -> str:
    if values is None or not values.size:
        return "—"
    lo, hi = float(np.min(values)), float(np.max(values))
    return fmt(lo) if np.isclose(lo, hi, rtol=0, atol=1e-12) else f"{fmt(lo)} to {fmt(hi)}"


def _dollars(x: float) -> str:
    return f"${x:,.2f}" if x != round(x) else f"${x:,.0f}"


def _share(x: float) -> str:
    return f"{x * 100:.4g} %"


def _line(run: Run, j: int, comp: Kind) -> dict[str, str]:
    col = run.cent_columns[j]
    gets = col != 0
    aux = run.env.computed[comp.id].aux
    base = weight = "—"
    eligible: float | None = None
    if comp.kind == "weight":
        base = _span(_values(run, "base", comp, gets), _dollars)
        weight = _span(np.asarray(aux["weight"])[gets], _share)
        eligible = _total(_values(run, "count", comp, gets))
    elif comp.kind == "per_pupil":
        labels = comp.options.get("band_labels") or [""]
        keys = [f"bands.{k}" for k in range(len(labels))] if labels != [""] else [""]
        counts = [_values(run, f"{k}.count" if k else "count", comp, gets) for k in keys]
        rates = [_values(run, f"{k}.rate" if k else "rate", comp, gets) for k in keys]
        eligible = float(sum(np.sum(c) for c in counts if c is not None))
        both = np.concatenate([r for r in rates if r is not None]) if rates else None
        base = _span(both, _dollars)
    elif comp.kind == "supplement" and "count" in comp.exprs:
        base = _span(_values(run, "rate", comp, gets), _dollars)
        eligible = _total(_values(run, "count", comp, gets))
    elif comp.kind == "positions":
        base = _span(np.asarray(aux["unit_cost"])[gets], _dollars)
        eligible = float(np.sum(np.asarray(aux["fte"])[gets]))
    elif comp.kind == "pot":
        eligible = float(np.sum(np.asarray(aux["driver"])[gets]))
    return {
        "id": comp.id,
        "label": comp.label,
        "base": base,
        "weight": weight,
        "eligible": "—" if eligible is None else number_text(eligible),
        "unit": "FTE" if comp.kind == "positions" else "",
        "amount": money(int(col.sum())),
    }


def component_summary(run: Run) -> dict[str, Any]:
    """Rows per line plus the model total, and current funding with the difference when the formula has it."""
    rows = [_line(run, j, comp) for j, comp in enumerate(run.lines)]
    model = int(run.total_cents.sum())
    out: dict[str, Any] = {"rows": rows, "model": money(model), "current": None, "difference": None}
    prior = run.prior_total_cents
    if prior is not None:
        known = prior >= 0
        current = int(prior[known].sum())
        compared = int(run.total_cents[known].sum())
        out.update(
            current=money(current),
            difference=signed_money(compared - current),
            current_label=_prior_label(run),
            missing=int((~known).sum()),
        )
    return out


def _prior_label(run: Run) -> str:
    col = run.plan.formula.entity.prior_total
    return run.plan.inputs[col].label if col is not None and col in run.plan.inputs else "Prior total"


def comparison_charts(run: Run) -> dict[str, Markup | str] | None:
    """Current against model per pupil (sized by pupils, coloured by need) and both against need."""
    prior = run.prior_total_cents
    if prior is None:
        return None
    pupils = run.pupils
    with np.errstate(all="ignore"):
        need = (
            np.broadcast_to(np.asarray(run.plan.need_share(run.env), dtype=float), (run.table.n,))
            if run.plan.need_share is not None
            else np.full(run.table.n, np.nan)
        )
        keep = np.flatnonzero((prior >= 0) & (pupils > 0))
        current_pp = prior[keep] / 100.0 / pupils[keep]
        model_pp = run.total_cents[keep] / 100.0 / pupils[keep]
    kind = run.plan.formula.entity.kind
    label = _prior_label(run)
    points = [
        {
            "name": str(run.table.names[i]),
            "current": round(float(c), 2),
            "model": round(float(m), 2),
            "pupils": float(pupils[i]),
            "need": None if not np.isfinite(need[i]) else float(need[i]),
        }
        for i, c, m in zip(keep, current_pp, model_pp, strict=True)
    ]
    out: dict[str, Markup | str] = {"scatter": current_vs_model(points, kind, label), "label": label}
    if run.plan.need_share is not None:
        series = [
            {"need": p["need"], "per_pupil": p[key], "series": name}
            for p in points
            if p["need"] is not None
            for key, name in (("current", label), ("model", "Model"))
        ]
        out["need"] = per_pupil_vs_need(series, kind, [label, "Model"])
    return out

"""The views of a school spending review: Altair charts rendered offline to SVG (deterministic bytes).

* ``array``: the focus district's units (every unit of the pool without a focus district) arrayed by
  type (rows), PPE (across), enrollment (dot area) and % high needs (colour).
* ``ppe_vs_high_needs`` and ``ppe_vs_outcome``: PPE against % high needs (and against the outcome) for
  the pool, the focus district's units in colour and the focus unit marked, with the enrollment-weighted
  least-squares line. A pool of more than 2,000 units is drawn as shaded bins (how many units fall in
  each cell; the lowest and highest 1 % on each axis are left off the shading) so the chart stays
  readable and small; the focus district's units stay dots.
* ``quadrants``: outcome against PPE with the two medians drawn, splitting the pool into four quadrants.
* ``peers``: the focus unit and its peers, PPE as bars, with the peers' median.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np

from fairshare.report.charts import GAIN, LOSS, to_svg
from fairshare.review.ppe import Fit

__all__ = ["BIN_ABOVE", "ViewData", "charts"]

#: a pool larger than this is drawn as shaded bins instead of dots
BIN_ABOVE = 2000
_GREY = "#9aa5b1"
_FOCUS = "#c0392b"
_WIDTH, _HEIGHT = 640, 360


@dataclass(frozen=True)
class ViewData:
    """What the charts read: per-unit arrays (in unit order) and labels."""

    kind: str
    ppe_label: str
    names: np.ndarray
    types: np.ndarray | None
    ppe: np.ndarray
    enrollment: np.ndarray
    high_needs: np.ndarray | None
    outcome: np.ndarray | None
    pool: np.ndarray
    #: the focus district's units (all False without a focus district)
    district: np.ndarray
    focus_unit: int | None
    district_label: str | None
    high_needs_label: str
    outcome_label: str
    fits: dict[str, Fit]
    medians: tuple[float, float] | None
    peers: list[tuple[str, float]] | None
    peer_median: float | None
    #: each unit's group label ('' in none) and the groups' order, or None without groups
    group_labels: np.ndarray | None = None
    group_order: list[str] = field(default_factory=list)


def _f(x: float) -> float | None:
    """A value for the chart's data: rounded to 6 decimals, None (JSON null) where missing."""
    return round(float(x), 6) if np.isfinite(x) else None


def _axis(title: str, money: bool) -> alt.Axis:
    return alt.Axis(title=title, format="$,.0f") if money else alt.Axis(title=title)


def _background(
    x: np.ndarray,
    y: np.ndarray,
    fields: tuple[str, str],
    axes: tuple[alt.Axis, alt.Axis],
    n_label: str,
    groups: tuple[np.ndarray, list[str]] | None = None,
) -> Any:
    """The pool: grey dots (coloured by group when ``groups`` gives each unit's group label and the
    labels' order), or shaded bins over more than BIN_ABOVE units."""
    xf, yf = fields
    if len(x) <= BIN_ABOVE:
        pts: list[dict[str, Any]] = [{xf: _f(a), yf: _f(b)} for a, b in zip(x, y, strict=True)]
        enc: dict[str, Any] = {
            "x": alt.X(f"{xf}:Q", axis=axes[0], scale=alt.Scale(zero=False)),
            "y": alt.Y(f"{yf}:Q", axis=axes[1], scale=alt.Scale(zero=False)),
        }
        if groups is None:
            return alt.Chart(alt.InlineData(values=pts)).mark_circle(size=18, opacity=0.45, color=_GREY).encode(**enc)
        for p, g in zip(pts, groups[0], strict=True):
            p["group"] = str(g) or "(no group)"
        palette = [LOSS, GAIN, "#2a9d8f", "#8e6c8a", "#e9c46a", _GREY]
        domain = [*groups[1], "(no group)"]
        enc["color"] = alt.Color("group:N", title=None, scale=alt.Scale(domain=domain, range=palette[: len(domain)]))
        return alt.Chart(alt.InlineData(values=pts)).mark_circle(size=36, opacity=0.75).encode(**enc)
    lo_x, hi_x = np.quantile(x, [0.01, 0.99])  # the extreme 1 % at each end of each axis are left off the bins
    lo_y, hi_y = np.quantile(y, [0.01, 0.99])
    ex = np.linspace(lo_x, hi_x if hi_x > lo_x else lo_x + 1, 41)
    ey = np.linspace(lo_y, hi_y if hi_y > lo_y else lo_y + 1, 31)
    counts, _, _ = np.histogram2d(x, y, bins=[ex, ey])
    cells = [
        {"x1": _f(ex[i]), "x2": _f(ex[i + 1]), "y1": _f(ey[j]), "y2": _f(ey[j + 1]), n_label: int(counts[i, j])}
        for i in range(40)
        for j in range(30)
        if counts[i, j] > 0
    ]
    return (
        alt.Chart(alt.InlineData(values=cells))
        .mark_rect()
        .encode(
            x=alt.X("x1:Q", axis=axes[0], scale=alt.Scale(zero=False)),
            x2="x2:Q",
            y=alt.Y("y1:Q", axis=axes[1], scale=alt.Scale(zero=False)),
            y2="y2:Q",
            color=alt.Color(f"{n_label}:Q", scale=alt.Scale(scheme="greys"), legend=alt.Legend(title=n_label)),
        )
    )


def _groups(v: ViewData, ok: np.ndarray) -> tuple[np.ndarray, list[str]] | None:
    """Group labels of the ``ok`` units, to colour the pool by, without a focus district (whose units are coloured)."""
    if v.group_labels is None or v.district_label is not None:
        return None
    return v.group_labels[ok], v.group_order


def _label(base: Any, right_half: bool) -> Any:
    """The focus unit's name beside its mark, on the side with room."""
    align, dx = ("right", -12) if right_half else ("left", 12)
    return base.mark_text(align=align, dx=dx, dy=-10, fontSize=12, fontWeight="bold", color=_FOCUS).encode(
        text="name:N"
    )


def _scatter(v: ViewData, x: np.ndarray, xt: str, fit: Fit | None) -> str:
    """PPE (y) against ``x`` for the pool, the focus district in colour, the focus unit marked, the WLS line."""
    ok = v.pool & np.isfinite(x) & np.isfinite(v.ppe)
    axes = (_axis(xt, False), _axis(f"{v.ppe_label} (US dollars)", True))
    layers: list[Any] = [_background(x[ok], v.ppe[ok], ("x", "ppe"), axes, f"{v.kind} units", _groups(v, ok))]
    mine = ok & v.district if v.district_label else np.zeros(len(ok), dtype=bool)
    if mine.any():
        pts = [{"x": _f(x[i]), "ppe": _f(v.ppe[i]), "name": str(v.names[i])} for i in np.flatnonzero(mine)]
        layers.append(
            alt.Chart(alt.InlineData(values=pts))
            .mark_circle(size=60, opacity=0.9, color=GAIN, stroke="white", strokeWidth=0.6)
            .encode(x="x:Q", y="ppe:Q")
        )
    if fit is not None:
        lo, hi = float(np.min(x[ok])), float(np.max(x[ok]))
        line = [{"x": _f(a), "ppe": _f(fit.intercept + fit.slope * a)} for a in (lo, hi)]
        layers.append(
            alt.Chart(alt.InlineData(values=line)).mark_line(color=LOSS, strokeWidth=2).encode(x="x:Q", y="ppe:Q")
        )
    f = v.focus_unit
    if f is not None and ok[f]:
        pt = [{"x": _f(x[f]), "ppe": _f(v.ppe[f]), "name": str(v.names[f])}]
        base = alt.Chart(alt.InlineData(values=pt)).encode(x="x:Q", y="ppe:Q")
        layers.append(base.mark_point(size=220, shape="diamond", filled=True, color=_FOCUS, stroke="white"))
        layers.append(_label(base, x[f] > (np.min(x[ok]) + np.max(x[ok])) / 2))
    chart = alt.layer(*layers).properties(width=_WIDTH, height=_HEIGHT)
    what = f"{v.ppe_label} against {xt.lower()}, one point per {v.kind} of the pool"
    if v.district_label:
        what += f", {v.district_label}'s in blue"
    if fit is not None:
        what += ", with the enrollment-weighted least-squares line"
    return str(to_svg(chart, what))


def _array(v: ViewData) -> str:
    mine = v.district if v.district_label else np.ones(len(v.pool), dtype=bool)
    rows = np.flatnonzero(v.pool & mine & np.isfinite(v.ppe))
    pts: list[dict[str, Any]] = []
    for i in rows:
        p: dict[str, Any] = {
            "type": str(v.types[i]) if v.types is not None and v.types[i] else "(all)",
            "ppe": _f(v.ppe[i]),
            "enrollment": _f(v.enrollment[i]),
            "name": str(v.names[i]),
        }
        if v.high_needs is not None:
            p["high_needs"] = _f(v.high_needs[i])
        pts.append(p)
    enc: dict[str, Any] = {
        "x": alt.X("ppe:Q", axis=_axis(f"{v.ppe_label} (US dollars)", True), scale=alt.Scale(zero=False)),
        "y": alt.Y("type:N", title=None, sort="ascending"),
        "size": alt.Size("enrollment:Q", title="Enrollment", scale=alt.Scale(range=[20, 600])),
    }
    if v.high_needs is not None:
        enc["color"] = alt.Color(
            "high_needs:Q", title=f"{v.high_needs_label} (%)", scale=alt.Scale(scheme="viridis", reverse=True)
        )
    n_types = len({p["type"] for p in pts}) or 1
    chart = (
        alt.Chart(alt.InlineData(values=pts))
        .mark_circle(opacity=0.8, stroke="white", strokeWidth=0.5)
        .encode(**enc)
        .properties(width=_WIDTH, height=max(80, 46 * n_types))
    )
    whose = f"{v.district_label}'s {v.kind} units" if v.district_label else f"every {v.kind} of the pool"
    return str(to_svg(chart, f"{v.ppe_label} of {whose} by type, size and {v.high_needs_label.lower()}"))


def _quadrants(v: ViewData) -> str:
    assert v.outcome is not None and v.medians is not None
    ok = v.pool & np.isfinite(v.outcome) & np.isfinite(v.ppe)
    yt = v.outcome_label
    axes = (_axis(f"{v.ppe_label} (US dollars)", True), _axis(yt, False))
    layers = [_background(v.ppe[ok], v.outcome[ok], ("ppe", "outcome"), axes, f"{v.kind} units", _groups(v, ok))]
    mine = ok & v.district if v.district_label else np.zeros(len(ok), dtype=bool)
    if mine.any():
        pts = [{"ppe": _f(v.ppe[i]), "outcome": _f(v.outcome[i])} for i in np.flatnonzero(mine)]
        layers.append(
            alt.Chart(alt.InlineData(values=pts))
            .mark_circle(size=60, opacity=0.9, color=GAIN, stroke="white", strokeWidth=0.6)
            .encode(x="ppe:Q", y="outcome:Q")
        )
    pm, om = v.medians
    layers.append(
        alt.Chart(alt.InlineData(values=[{"ppe": _f(pm)}])).mark_rule(color=LOSS, strokeDash=[4, 4]).encode(x="ppe:Q")
    )
    layers.append(
        alt.Chart(alt.InlineData(values=[{"outcome": _f(om)}]))
        .mark_rule(color=LOSS, strokeDash=[4, 4])
        .encode(y="outcome:Q")
    )
    f = v.focus_unit
    if f is not None and ok[f]:
        pt = [{"ppe": _f(v.ppe[f]), "outcome": _f(v.outcome[f]), "name": str(v.names[f])}]
        base = alt.Chart(alt.InlineData(values=pt)).encode(x="ppe:Q", y="outcome:Q")
        layers.append(base.mark_point(size=220, shape="diamond", filled=True, color=_FOCUS, stroke="white"))
        layers.append(_label(base, v.ppe[f] > (np.min(v.ppe[ok]) + np.max(v.ppe[ok])) / 2))
    chart = alt.layer(*layers).properties(width=_WIDTH, height=_HEIGHT)
    return str(to_svg(chart, f"{yt} against {v.ppe_label.lower()}, split at the two medians into four quadrants"))


def _peers(v: ViewData) -> str:
    assert v.peers is not None and v.focus_unit is not None and v.peer_median is not None
    focus = str(v.names[v.focus_unit])
    rows = [{"name": focus, "ppe": _f(v.ppe[v.focus_unit]), "who": "focus"}]
    rows += [{"name": name, "ppe": _f(p), "who": "peer"} for name, p in v.peers]
    bars = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_bar(height=14)
        .encode(
            y=alt.Y("name:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("ppe:Q", title=f"{v.ppe_label} (US dollars)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("who:N", scale=alt.Scale(domain=["focus", "peer"], range=[_FOCUS, _GREY]), legend=None),
        )
    )
    rule = (
        alt.Chart(alt.InlineData(values=[{"ppe": _f(v.peer_median)}]))
        .mark_rule(color=LOSS, strokeDash=[4, 4], strokeWidth=2)
        .encode(x="ppe:Q")
    )
    chart = alt.layer(bars, rule).properties(width=520, height=22 * len(rows))
    return str(to_svg(chart, f"{v.ppe_label} of {focus} and its peers, with the peers' median"))


def charts(v: ViewData) -> dict[str, str]:
    """Every view the data allow, by name, as inline SVG."""
    out = {"array": _array(v)}
    if v.high_needs is not None:
        out["ppe_vs_high_needs"] = _scatter(v, v.high_needs, f"{v.high_needs_label} (%)", v.fits.get("high_needs"))
    if v.outcome is not None and np.isfinite(v.outcome[v.pool]).any():
        out["ppe_vs_outcome"] = _scatter(v, v.outcome, v.outcome_label, v.fits.get("outcome"))
        if v.medians is not None:
            out["quadrants"] = _quadrants(v)
    if v.peers:
        out["peers"] = _peers(v)
    return out

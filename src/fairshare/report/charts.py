"""Static charts for the HTML report: Altair specs rendered offline to inline SVG.

Charts are built from plain lists of dicts (inline data, no pandas) and
rendered by vl-convert with every external data URL refused, so a report needs
no network and no JavaScript. The same data gives the same SVG bytes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import altair as alt
import vl_convert as vlc
from markupsafe import Markup, escape

__all__ = ["GAIN", "LOSS", "change_bars", "current_vs_model", "need_scatter", "per_pupil_vs_need", "to_svg"]

GAIN = "#1f6fb2"
LOSS = "#b35806"
_FONT = "Helvetica, Arial, sans-serif"


def _stable_ids(svg: str, spec: str) -> str:
    """Vega numbers gradients with a counter that lives as long as the process; renumber them
    per chart, prefixed by the spec's hash, so the bytes never depend on what was drawn before
    and two charts on one page never share an id."""
    prefix = "c" + hashlib.sha256(spec.encode()).hexdigest()[:8]
    found: dict[str, str] = {}
    for name in re.findall(r'id="(gradient_\d+)"', svg):
        found.setdefault(name, f"{prefix}-g{len(found)}")
    for name, new in found.items():
        svg = re.sub(rf"\b{name}\b", new, svg)
    return svg


def to_svg(chart: alt.TopLevelMixin, description: str) -> Markup:
    """Render a chart to an inline ``<svg>`` element, labelled for screen readers."""
    chart = (
        chart.configure(font=_FONT)
        .configure_view(stroke=None)
        .configure_axis(
            labelFontSize=11,
            titleFontSize=12,
            titleFontWeight="normal",
            gridColor="#e6e9ed",
        )
    )
    spec = chart.to_json()
    svg = _stable_ids(vlc.vegalite_to_svg(spec, allowed_base_urls=[]).strip(), spec)
    if svg.startswith("<svg "):
        svg = f'<svg role="img" aria-label="{escape(description)}" ' + svg[len("<svg ") :]
    # produced by vl-convert from our own spec; the text inside it is escaped by Vega
    return Markup(svg)


def need_scatter(points: list[dict[str, Any]], entity_kind: str) -> Markup:
    """Per-pupil amount (``per_pupil``, dollars) against high-need share (``need``, 0-1), with a fitted line."""
    base = alt.Chart(alt.InlineData(values=points)).encode(
        x=alt.X(
            "need:Q",
            title="Share of high-need pupils (%)",
            axis=alt.Axis(format=".0%", tickCount=8),
            scale=alt.Scale(zero=False, nice=True),
        ),
        y=alt.Y(
            "per_pupil:Q",
            title="Budget per pupil (US dollars)",
            axis=alt.Axis(format="$,.0f"),
            scale=alt.Scale(zero=False, nice=True),
        ),
    )
    dots = base.mark_circle(size=48, opacity=0.75, color=GAIN, stroke="white", strokeWidth=0.5)
    trend = base.transform_regression("need", "per_pupil").mark_line(color=LOSS, strokeWidth=2)
    chart = alt.layer(dots, trend).properties(width=640, height=340)
    return to_svg(
        chart,
        f"Budget per pupil against share of high-need pupils, one point per {entity_kind}, with a fitted straight line",
    )


def change_bars(rows: list[dict[str, Any]], against: str = "last year") -> Markup:
    """Horizontal bars of the change against last year (``change``, a share), one per ``label``, in the given order."""
    height = max(60, 16 * len(rows))
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_bar(height=11)
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("change:Q", title=f"Change against {against} (%)", axis=alt.Axis(format="+.0%")),
            color=alt.Color("direction:N", scale=alt.Scale(domain=["gain", "loss"], range=[GAIN, LOSS]), legend=None),
        )
        .properties(width=420, height=height)
    )
    return to_svg(chart, "Change in each budget against last year, in percent")


def current_vs_model(points: list[dict[str, Any]], entity_kind: str, current_label: str) -> Markup:
    """Model per pupil (y) against current per pupil (x): one point per entity, sized by pupils,
    coloured by the high-need share, with the 45° line where nothing changes."""
    values = [p["current"] for p in points] + [p["model"] for p in points]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    data = alt.InlineData(values=points)
    scale = alt.Scale(domain=[lo, hi], nice=True, zero=False)
    dots = (
        alt.Chart(data)
        .mark_circle(opacity=0.7, stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "current:Q", title=f"{current_label} per pupil (US dollars)", axis=alt.Axis(format="$,.0f"), scale=scale
            ),
            y=alt.Y(
                "model:Q", title="Model funding per pupil (US dollars)", axis=alt.Axis(format="$,.0f"), scale=scale
            ),
            size=alt.Size(
                "pupils:Q", title="Pupils", scale=alt.Scale(range=[15, 700]), legend=alt.Legend(format=",.0f")
            ),
            color=alt.Color(
                "need:Q",
                title="High-need share",
                scale=alt.Scale(scheme="viridis", reverse=True),
                legend=alt.Legend(format=".0%"),
            ),
        )
    )
    line = (
        alt.Chart(alt.InlineData(values=[{"x": lo, "y": lo}, {"x": hi, "y": hi}]))
        .mark_line(color="#5a6675", strokeDash=[4, 4])
        .encode(x=alt.X("x:Q", scale=scale), y=alt.Y("y:Q", scale=scale))
    )
    chart = alt.layer(line, dots).properties(width=560, height=420)
    return to_svg(
        chart,
        f"Model against {current_label.lower()} per pupil, one point per {entity_kind}, "
        "sized by pupils and coloured by high-need share, with the line of no change",
    )


def per_pupil_vs_need(rows: list[dict[str, Any]], entity_kind: str, series: list[str]) -> Markup:
    """Per pupil against the high-need share, current and model as two series, each with a fitted line."""
    base = alt.Chart(alt.InlineData(values=rows)).encode(
        x=alt.X(
            "need:Q",
            title="Share of high-need pupils (%)",
            axis=alt.Axis(format=".0%"),
            scale=alt.Scale(zero=False, nice=True),
        ),
        y=alt.Y(
            "per_pupil:Q",
            title="Funding per pupil (US dollars)",
            axis=alt.Axis(format="$,.0f"),
            scale=alt.Scale(zero=False, nice=True),
        ),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=series, range=[LOSS, GAIN])),
    )
    dots = base.mark_circle(size=30, opacity=0.6)
    trend = base.transform_regression("need", "per_pupil", groupby=["series"]).mark_line(strokeWidth=2)
    chart = alt.layer(dots, trend).properties(width=640, height=340)
    return to_svg(
        chart,
        f"Funding per pupil against share of high-need pupils, one point per {entity_kind} "
        "for current and for model funding, each with a fitted straight line",
    )

"""Static charts for the HTML report: Altair specs rendered offline to inline SVG.

Charts are built from plain lists of dicts (inline data, no pandas) and
rendered by vl-convert with every external data URL refused, so a report needs
no network and no JavaScript. The same data gives the same SVG bytes.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import vl_convert as vlc
from markupsafe import Markup, escape

__all__ = ["GAIN", "LOSS", "change_bars", "need_scatter", "to_svg"]

GAIN = "#1f6fb2"
LOSS = "#b35806"
_FONT = "Helvetica, Arial, sans-serif"


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
    svg = vlc.vegalite_to_svg(chart.to_json(), allowed_base_urls=[])
    svg = svg.strip()
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


def change_bars(rows: list[dict[str, Any]]) -> Markup:
    """Horizontal bars of the change against last year (``change``, a share), one per ``label``, in the given order."""
    height = max(60, 16 * len(rows))
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_bar(height=11)
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("change:Q", title="Change against last year (%)", axis=alt.Axis(format="+.0%")),
            color=alt.Color("direction:N", scale=alt.Scale(domain=["gain", "loss"], range=[GAIN, LOSS]), legend=None),
        )
        .properties(width=420, height=height)
    )
    return to_svg(chart, "Change in each budget against last year, in percent")

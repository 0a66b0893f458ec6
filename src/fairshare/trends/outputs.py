"""Outputs of ``fairshare trends``: improvement.csv, units.csv, exceeded.csv, one CSV per change and share,
claims.csv, report.html (tables, the claims check, dot-pair charts rendered offline), trends.xlsx and manifest.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
from markupsafe import Markup

from fairshare import __version__
from fairshare.report.charts import GAIN, LOSS, to_svg
from fairshare.report.html import environment
from fairshare.report.outputs import display_path, sha256_file
from fairshare.report.xlsx import new_workbook
from fairshare.trends.compute import TrendsResult

__all__ = ["summary", "write_trends"]

_STATUS_COLOURS = {"improved": GAIN, "declined": LOSS, "unchanged": "#8c959f", "missing": "#d0d7de"}

_TEMPLATE = """{% extends "base.html.j2" %}
{% block title %}{{ m.label }}{% endblock %}
{% block body %}
<header class="doc">
  <div class="kicker">Trends report</div>
  <h1>{{ m.label }}</h1>
  {% if m.description %}<p class="lead">{{ m.description }}</p>{% endif %}
  {% if m.source %}<p class="small">Source: {{ m.source.cite() }}</p>{% endif %}
</header>
<p class="small">"Improved" means strictly better in the indicator's direction; a unit without a value in
either period is counted as missing, never as unchanged. Mean change is to − from over units with both
values, in the indicator's own units and sign.</p>
{% for g in groups %}
<h2>{{ g.title }}</h2>
<table>
<thead><tr><th>Indicator</th><th>From</th><th>To</th><th class="num">Units</th><th class="num">Improved</th>
<th class="num">Declined</th><th class="num">Unchanged</th><th class="num">Missing</th>
<th class="num">Mean change</th><th class="num">Mean change of improvers</th></tr></thead>
<tbody>
{% for r in g.rows %}
<tr><td>{{ r.label }} <span class="small">({{ r.direction }})</span></td>
<td>{{ r.from_period }}</td><td>{{ r.to_period }}</td>
<td class="num">{{ r.units }}</td><td class="num gain">{{ r.improved }}</td><td class="num loss">{{ r.declined }}</td>
<td class="num">{{ r.unchanged }}</td><td class="num">{{ r.missing }}</td><td class="num">{{ r.mean_change }}</td>
<td class="num">{{ r.mean_change_improved }}</td></tr>
{% endfor %}
</tbody></table>
{% endfor %}
{% if exceeded %}
<h2>Above a reference period</h2>
<table><thead><tr><th>Indicator</th><th>Reference</th><th>Period</th><th class="num">Units</th>
<th class="num">Better than reference</th><th class="num">Missing</th><th>Which</th></tr></thead><tbody>
{% for r in exceeded %}
<tr><td>{{ r.label }}</td><td>{{ r.reference_period }}</td><td>{{ r.period }}</td><td class="num">{{ r.units }}</td>
<td class="num gain">{{ r.exceeded }}</td><td class="num">{{ r.missing }}</td>
<td class="small">{{ r.exceeded_units }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
{% if claims %}
<h2>Claims check</h2>
<p>Each published statement recomputed from the data. {{ unsupported }} of {{ claims|length }} not supported.</p>
<table><thead><tr><th>Statement</th><th class="num">Claimed</th><th class="num">Computed</th>
<th>Status</th><th>Note</th></tr></thead><tbody>
{% for c in claims %}
<tr{% if c.status != "supported" %} style="background:#fdecea"{% endif %}>
<td>{{ c.text }}</td><td class="num">{{ c.claimed }}</td>
<td class="num">{{ c.computed }}</td>
<td>{% if c.status == "supported" %}supported{% else %}<strong class="loss">not supported</strong>{% endif %}</td>
<td class="small">{{ c.note }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
{% for t in tables %}
<h2>{{ t.title }}</h2>
<table><thead><tr>{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for r in t.rows %}<tr>{% for v in r %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table>
{% endfor %}
<h2>Each unit, from and to</h2>
<p class="small">One row per unit: the hollow dot is the first period, the filled dot the second; blue improved,
orange declined, grey unchanged. Units missing a value are left out of the chart.</p>
{% for c in charts %}
<figure class="chart">{{ c.svg }}<figcaption>{{ c.caption }}</figcaption></figure>
{% endfor %}
{% if notes %}<h2>Notes</h2><ul class="plain">{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
<footer class="doc"><dl><dt>Spec</dt><dd>{{ spec_path }}</dd><dt>fairshare</dt><dd>{{ version }}</dd></dl></footer>
{% endblock %}
"""


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:+.2f}" if x != 0 else "0.00"
    return str(x)


def _frames(result: TrendsResult) -> dict[str, pl.DataFrame]:
    frames = {"improvement": result.improvement, "units": result.units}
    if result.spec.model.exceeded:
        frames["exceeded"] = result.exceeded
    frames.update(result.changes)
    frames.update(result.shares)
    frames["claims"] = result.claims
    return frames


def summary(result: TrendsResult) -> dict[str, Any]:
    c = result.claims
    return {
        "comparisons": len(result.spec.model.comparisons),
        "claims": c.height,
        "claims_supported": c.filter(pl.col("status") == "supported").height,
    }


def _chart(rows: list[dict[str, Any]], title: str) -> Markup:
    pts = [r for r in rows if r["status"] != "missing"]
    order = [r["unit"] for r in sorted(pts, key=lambda r: (r["value_to"], r["unit"]), reverse=True)]
    long = [
        {"unit": r["unit"], "value": r[k], "period": p, "status": r["status"]}
        for r in pts
        for k, p in (("value_from", "from"), ("value_to", "to"))
    ]
    enc_y = alt.Y("unit:N", sort=order, title=None, axis=alt.Axis(labelLimit=180))
    colour = alt.Color(
        "status:N",
        scale=alt.Scale(domain=list(_STATUS_COLOURS), range=list(_STATUS_COLOURS.values())),
        legend=alt.Legend(title=None, orient="top"),
    )
    base = alt.Chart(alt.InlineData(values=long))
    line = base.mark_line(strokeWidth=1.5).encode(
        y=enc_y, x=alt.X("value:Q", scale=alt.Scale(zero=False), title=title), color=colour, detail="unit:N"
    )
    dots = base.mark_point(size=36, filled=True).encode(
        y=enc_y,
        x="value:Q",
        color=colour,
        shape=alt.Shape("period:N", scale=alt.Scale(domain=["from", "to"], range=["circle", "circle"]), legend=None),
        fillOpacity=alt.FillOpacity("period:N", scale=alt.Scale(domain=["from", "to"], range=[0.0, 1.0]), legend=None),
    )
    chart = alt.layer(line, dots).properties(width=420, height=max(60, 13 * len(order)))
    return to_svg(chart, f"{title}: each unit's value in the first and second period")


def _html(result: TrendsResult, spec_path: Path) -> str:
    m = result.spec.model
    by_units: dict[str, list[dict[str, Any]]] = {}
    for c, r in zip(m.comparisons.values(), result.improvement.iter_rows(named=True), strict=True):
        ind = m.indicators[c.indicator]
        by_units.setdefault(c.units, []).append(
            {
                **r,
                "label": c.label or ind.label,
                "direction": ind.direction.replace("_", " "),
                "mean_change": _fmt(r["mean_change"]),
                "mean_change_improved": _fmt(r["mean_change_improved"]),
            }
        )
    groups = [
        {"title": "All units" if gid == "all" else m.groups[gid].label, "rows": rows} for gid, rows in by_units.items()
    ]
    exceeded = [
        {**r, "label": m.exceeded[r["id"]].label or m.indicators[r["indicator"]].label}
        for r in result.exceeded.iter_rows(named=True)
    ]
    tables = []
    for oid, label in [(k, v.label) for k, v in m.changes.items()] + [(k, v.label) for k, v in m.shares.items()]:
        frame = result.changes[oid] if oid in result.changes else result.shares[oid]
        rows = [
            [
                _fmt(v) if k in ("change", "share_pct") else ("" if v is None else v)
                for k, v in zip(frame.columns, r, strict=True)
            ]
            for r in frame.iter_rows()
        ]
        tables.append({"title": label, "columns": frame.columns, "rows": rows})
    charts = []
    for cid, c in m.comparisons.items():
        ind = m.indicators[c.indicator]
        title = f"{c.label or ind.label}, {c.from_} to {c.to} ({ind.unit})"
        charts.append({"svg": _chart(result.by_comparison[cid], title), "caption": title})
    claims = result.claims.to_dicts()
    return (
        environment()
        .from_string(_TEMPLATE)
        .render(
            m=m,
            groups=groups,
            exceeded=exceeded,
            claims=claims,
            unsupported=sum(c["status"] != "supported" for c in claims),
            tables=tables,
            charts=charts,
            notes=result.notes,
            spec_path=display_path(spec_path),
            version=__version__,
        )
    )


def _xlsx(frames: dict[str, pl.DataFrame], path: Path, label: str) -> None:
    wb = new_workbook(path)
    wb.set_properties({"title": label, "author": "fairshare", "created": dt.datetime(2000, 1, 1)})
    bold = wb.add_format({"bold": True, "bottom": 1})
    for name, frame in frames.items():
        ws = wb.add_worksheet(name[:31])
        for j, col in enumerate(frame.columns):
            ws.write_string(0, j, col, bold)
            ws.set_column(j, j, max(10, min(60, len(col) + 2)))
        for i, row in enumerate(frame.iter_rows(), start=1):
            for j, v in enumerate(row):
                if v is None:
                    ws.write_blank(i, j, None)
                elif isinstance(v, (int, float)):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
        ws.freeze_panes(1, 0)
    wb.close()


def write_trends(result: TrendsResult, out_dir: Path, spec_path: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = _frames(result)
    paths: list[Path] = []
    for name, frame in frames.items():
        paths.append(out_dir / f"{name}.csv")
        frame.write_csv(paths[-1])
    paths.append(out_dir / "report.html")
    paths[-1].write_text(_html(result, spec_path), encoding="utf-8")
    paths.append(out_dir / "trends.xlsx")
    _xlsx(frames, paths[-1], result.spec.model.label)
    manifest: dict[str, Any] = {
        "format": "fairshare.trends-manifest/1",
        "package_version": __version__,
        "spec": {"path": display_path(spec_path), "sha256": sha256_file(spec_path)},
        "inputs": {p.name: sha256_file(p) for p in result.inputs},
        "summary": summary(result),
        "notes": result.notes,
        "outputs": {p.name: sha256_file(p) for p in paths},
    }
    paths.append(out_dir / "manifest.json")
    paths[-1].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return paths

"""The outputs of ``fairshare ledger benchmark``: comparison.csv, peers.csv, units.csv, report.html,
benchmark.xlsx and manifest.json.

The CSVs cover every unit (numbers rounded to 4 decimals; the frames keep full precision). The report
covers the targets only: for each, its peers with the peer variables, each measure against the peers
(value, median, p25–p75, gap, percentile) and one strip chart of the measures rendered offline to SVG.
The workbook has the sheets Comparison, Peers, Units and About (the spec's label, reference, quantities
and the peer rule in words); it is byte-identical for identical input. The manifest holds the SHA-256 of
the inputs and of every output, the spec's own hash, the cited numbers and the package version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import altair as alt
import polars as pl
from markupsafe import Markup

from fairshare import __version__
from fairshare.ledger.benchmark_spec import BenchmarkModel
from fairshare.report.charts import LOSS, to_svg
from fairshare.report.html import environment, plural
from fairshare.report.outputs import display_path, sha256_file
from fairshare.report.xlsx import new_workbook

if TYPE_CHECKING:
    from fairshare.ledger.benchmark import Benchmark

__all__ = ["OUTPUTS", "number", "rule_text", "spec_sha256", "summary", "write_benchmark"]

#: the files :func:`write_benchmark` writes, in order
OUTPUTS = ("comparison.csv", "peers.csv", "units.csv", "report.html", "benchmark.xlsx", "manifest.json")
_PEER_GREY = "#8c959f"


def number(x: float | None, digits: int = 1, signed: bool = False) -> str:
    """A figure for display: thousands separated, ``digits`` decimals; '—' when blank."""
    if x is None:
        return "—"
    v = round(float(x), digits) + 0.0
    text = f"{v:+,.{digits}f}" if signed and v != 0 else f"{v:,.{digits}f}"
    return text


def rule_text(spec: BenchmarkModel, eligible: int | None = None) -> str:
    """The peer rule in words."""
    r, kind = spec.peers, spec.units.kind
    k = int(r.k.value)
    terms = []
    for v, pv in r.variables.items():
        label = spec.quantities[v].label if v in spec.quantities else v
        terms.append(f"{'the log of ' if pv.scale == 'log' else ''}{label} (weight {pv.weight.value:g})")
    text = f"Each {kind}'s peers are the {k} {plural(kind) if k != 1 else kind} nearest to it by a weighted distance, "
    text += "√(Σ weight × difference²), over " + "; ".join(terms) + ". "
    if r.standardise == "z_score":
        over = (
            f"the {eligible:,} {plural(kind)} that have them all" if eligible is not None else "the units with them all"
        )
        text += f"Each variable is first turned into z-scores (mean 0, standard deviation 1) over {over}. "
    else:
        text += "The variables are compared in their own units (not standardised). "
    if r.match:
        text += f"Only {plural(kind)} with the same {' and '.join(r.match)} can be peers. "
    text += (
        f"A {kind} missing a peer variable or a match value has no peers and is no one's peer; "
        "equal distances are broken by id."
    )
    return text


def spec_sha256(spec: BenchmarkModel) -> str:
    """A hash of the spec's content (for specs built in code as well as loaded from a file)."""
    text = json.dumps(spec.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def summary(result: Benchmark) -> dict[str, Any]:
    """Headline counts (the CLI and the manifest show them)."""
    u = result.units
    return {
        "units": u.height,
        "eligible_for_peers": result.eligible,
        "with_peers": u.filter(pl.col("peers") > 0).height,
        "targets": list(result.targets),
    }


# ------------------------------------------------------------------ CSV


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).round(4) for c, t in frame.schema.items() if t == pl.Float64)


# ------------------------------------------------------------------ report


def _strips(result: Benchmark, unit: str, name: str) -> Markup | None:
    """One strip per measure: the peers' values (grey), their median (dashed) and the unit (diamond)."""
    spec = result.spec
    mine = result.peers.filter(pl.col("unit") == unit)["peer"].to_list()
    if not mine:
        return None
    values = result.units.filter(pl.col("id").is_in(mine)).select("id", "name", *spec.measures)
    me = result.units.filter(pl.col("id") == unit).row(0, named=True)
    row = {r["measure"]: r for r in result.comparison.filter(pl.col("unit") == unit).iter_rows(named=True)}
    strips = []
    for mid in spec.measures:
        q = spec.quantities[mid]
        dots = [
            {"name": r["name"] or r["id"], "value": r[mid]} for r in values.iter_rows(named=True) if r[mid] is not None
        ]
        if not dots:
            continue
        axis = alt.X("value:Q", title=f"{q.label} ({q.unit})", scale=alt.Scale(zero=False, nice=True))
        layers: list[Any] = [
            alt.Chart(alt.InlineData(values=dots))
            .mark_circle(size=70, opacity=0.75, color=_PEER_GREY)
            .encode(x=axis, tooltip=["name:N", "value:Q"])
        ]
        median = row[mid]["peer_median"]
        if median is not None:
            layers.append(
                alt.Chart(alt.InlineData(values=[{"value": median}]))
                .mark_rule(color="#1b1f24", strokeDash=[4, 3])
                .encode(x="value:Q")
            )
        if me[mid] is not None:
            layers.append(
                alt.Chart(alt.InlineData(values=[{"name": name, "value": me[mid]}]))
                .mark_point(shape="diamond", filled=True, size=170, color=LOSS, opacity=1)
                .encode(x="value:Q", tooltip=["name:N", "value:Q"])
            )
        strips.append(alt.layer(*layers).properties(width=560, height=34))
    if not strips:
        return None
    chart = alt.vconcat(*strips, spacing=14)
    return to_svg(
        chart,
        f"{name} against its peers on each measure: the peers' values as grey dots, "
        f"their median as a dashed line and {name} as an orange diamond",
    )


def _target(result: Benchmark, unit: str) -> dict[str, Any]:
    spec = result.spec
    kind = spec.units.kind
    me = result.units.filter(pl.col("id") == unit).row(0, named=True)
    name = me["name"] or unit
    variables = list(spec.peers.variables)
    heads = [f"{spec.quantities[v].label} ({spec.quantities[v].unit})" for v in variables]

    def cells(r: dict[str, Any]) -> list[str]:
        return [number(r[v], spec.quantities[v].digits) for v in variables]

    peers = [
        {"rank": r["rank"], "name": r["peer_name"] or r["peer"], "id": r["peer"], "distance": f"{r['distance']:.3f}",
         "cells": cells(r)}
        for r in result.peers.filter(pl.col("unit") == unit).iter_rows(named=True)
    ]  # fmt: skip
    rows = []
    for r in result.comparison.filter(pl.col("unit") == unit).iter_rows(named=True):
        d = spec.quantities[r["measure"]].digits
        spread = "—" if r["peer_p25"] is None else f"{number(r['peer_p25'], d)} – {number(r['peer_p75'], d)}"
        rows.append(
            {
                "label": r["label"],
                "unit": r["unit_of_measure"],
                "value": number(r["value"], d),
                "median": number(r["peer_median"], d),
                "spread": spread,
                "gap": "—" if r["gap_pct"] is None else f"{number(r['gap_pct'], 1, signed=True)} %",
                "gap_sign": 0 if r["gap_pct"] is None else (r["gap_pct"] > 0) - (r["gap_pct"] < 0),
                "percentile": "—" if r["percentile"] is None else f"{r['percentile']:.0f}",
                "peers": r["peers"],
                "pool": number(r["pool_median"], d),
                "note": r["note"] or "",
            }
        )
    return {
        "id": unit,
        "name": name,
        "kind": kind,
        "own": cells(me),
        "heads": heads,
        "peers": peers,
        "rows": rows,
        "reason": me["note"] if not peers else "",
        "chart": _strips(result, unit, name),
    }


def render_html(result: Benchmark) -> str:
    spec = result.spec
    quantities = [
        {"id": qid, "label": q.label, "unit": q.unit, "formula": q.formula(), "description": q.description or ""}
        for qid, q in spec.quantities.items()
    ]
    cited = [
        {"path": k, "value": f"{c.value:g}", "cite": c.reference.cite(), "note": c.reference.note or ""}
        for k, c in spec.cited().items()
    ]
    return (
        environment()
        .get_template("benchmark.html.j2")
        .render(
            m=spec,
            kinds=plural(spec.units.kind),
            summary=summary(result),
            rule=rule_text(spec, result.eligible),
            quantities=quantities,
            targets=[_target(result, t) for t in result.targets],
            cited=cited,
            source=result.source,
            version=__version__,
        )
    )


# ------------------------------------------------------------------ workbook


def _decimals(d: int) -> str:
    return "#,##0" + ("." + "0" * d if d else "")


def _sheet(wb: Any, name: str, frame: pl.DataFrame, digits: Mapping[str, int], row_digits: list[int] | None) -> None:
    """``digits``: decimals per column; ``row_digits``: per row for the columns named in ``digits`` as -1."""
    bold = wb.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "bottom"})
    fmts: dict[int, Any] = {}

    def fmt(d: int) -> Any:
        if d not in fmts:
            fmts[d] = wb.add_format({"num_format": _decimals(d)})
        return fmts[d]

    ws = wb.add_worksheet(name)
    for j, col in enumerate(frame.columns):
        ws.write_string(0, j, col, bold)
        ws.set_column(j, j, 40 if col in ("name", "peer_name", "label", "note") else max(10, min(24, len(col) + 2)))
    for i, row in enumerate(frame.iter_rows(), start=1):
        for j, (col, v) in enumerate(zip(frame.columns, row, strict=True)):
            if v is None:
                ws.write_blank(i, j, None)
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                ws.write_string(i, j, str(v))
            else:
                d = digits.get(col)
                if d == -1 and row_digits is not None:
                    d = row_digits[i - 1]
                ws.write_number(i, j, v, fmt(d) if d is not None else None)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(frame.height, 1), len(frame.columns) - 1)


def _about(wb: Any, result: Benchmark) -> None:
    spec = result.spec
    ws = wb.add_worksheet("About")
    bold = wb.add_format({"bold": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    title = wb.add_format({"bold": True, "font_size": 14})
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 100)
    ws.write_string(0, 0, spec.label, title)
    ref = spec.reference
    rows: list[tuple[str, str]] = [
        ("Benchmark id", spec.benchmark),
        ("Description", spec.description or ""),
        ("Data", ref.cite() + (f" — {ref.note}" if ref.note else "")),
        ("Link", ref.link or ""),
        ("Table", result.source),
        (f"{plural(spec.units.kind).capitalize()}", f"{result.units.height:,}"),
        ("Peer rule", rule_text(spec, result.eligible)),
    ]
    for k, c in spec.cited().items():
        rows.append(
            (
                f"Cited: {k}",
                f"{c.value:g} — {c.reference.cite()}" + (f" ({c.reference.note})" if c.reference.note else ""),
            )
        )
    rows += [(f"Quantity: {qid}", f"{q.label} ({q.unit}) = {q.formula()}") for qid, q in spec.quantities.items()]
    rows += [
        ("Measures", ", ".join(spec.measures)),
        ("Targets", ", ".join(result.targets)),
        ("fairshare", __version__),
    ]
    for i, (k, v) in enumerate(rows, start=2):
        ws.write_string(i, 0, k, bold)
        ws.write_string(i, 1, v, wrap)


def _workbook(result: Benchmark, path: Path) -> None:
    spec = result.spec
    wb = new_workbook(path)
    wb.set_properties({"title": spec.label, "author": "fairshare", "created": dt.datetime(2000, 1, 1)})
    per_row = [spec.quantities[m].digits for m in result.comparison["measure"].to_list()]
    money = {c: -1 for c in ("value", "peer_median", "peer_p25", "peer_p75", "pool_median")}
    _sheet(wb, "Comparison", result.comparison, money | {"percentile": 1, "gap_pct": 1}, per_row)
    qd = {q: spec.quantities[q].digits for q in spec.quantities}
    _sheet(wb, "Peers", result.peers, {"distance": 4} | {v: qd[v] for v in spec.peers.variables}, None)
    _sheet(wb, "Units", result.units, qd, None)
    _about(wb, result)
    wb.close()


# ------------------------------------------------------------------ all of it


def write_benchmark(result: Benchmark, out_dir: Path, inputs: Mapping[str, Path] | None = None) -> list[Path]:
    """Write :data:`OUTPUTS` into ``out_dir``; ``inputs`` (role -> file, e.g. ``{"spec": …, "table": …}``)
    are hashed into the manifest. Returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in OUTPUTS]
    _rounded(result.comparison).write_csv(paths[0])
    _rounded(result.peers).write_csv(paths[1])
    _rounded(result.units).write_csv(paths[2])
    paths[3].write_text(render_html(result), encoding="utf-8")
    _workbook(result, paths[4])
    spec = result.spec
    manifest: dict[str, Any] = {
        "format": "fairshare.ledger-benchmark-manifest/1",
        "package_version": __version__,
        "benchmark": spec.benchmark,
        "spec_sha256": spec_sha256(spec),
        "inputs": [
            {"role": role, "path": display_path(Path(p)), "sha256": sha256_file(Path(p))}
            for role, p in (inputs or {}).items()
        ],
        "table": result.source,
        "parameters": {
            k: {"value": c.value, "reference": c.reference.model_dump(exclude_none=True)}
            for k, c in spec.cited().items()
        },
        "settings": {
            "k": int(spec.peers.k.value),
            "standardise": spec.peers.standardise,
            "scales": {v: pv.scale for v, pv in spec.peers.variables.items()},
            "match": spec.peers.match,
            "scaling": {v: {"centre": c, "scale": s} for v, (c, s) in result.scaling.items()},
        },
        "summary": summary(result),
        "outputs": {p.name: sha256_file(p) for p in paths[:-1]},
    }
    paths[-1].write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths

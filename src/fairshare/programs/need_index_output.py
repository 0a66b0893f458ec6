"""The need index's files: ``index.csv``, ``sensitivity.csv``, ``near_cut.csv``, ``report.html``, ``manifest.json``.

Scores, offsets and contributions are written to 6 decimals (each row: offset + its contributions =
its score, to within that rounding); ranks are whole numbers, 1 = highest need.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import polars as pl
from markupsafe import Markup

from fairshare import __version__
from fairshare.programs.need_index import DIGITS, IndexResult
from fairshare.report.charts import GAIN, to_svg
from fairshare.report.html import environment, percent_text
from fairshare.report.outputs import display_path, sha256_file

__all__ = ["DIGITS", "describe_eligibility", "index_frame", "write_index"]

#: the width (rem) of the report's bar for the largest contribution; the others to the same scale
_BAR_REM = 3.0
_DIRECTION = {"more_is_more_need": "more is more need", "less_is_more_need": "less is more need"}
_NORMALISE = {
    "zscore": "z-score",
    "percentile": "percentile rank",
    "minmax": "min-max",
}
_MISSING = {
    "error": "blank is an error",
    "mean": "blank: mean of known values",
    "median": "blank: median of known values",
    "exclude_indicator": "blank: indicator left out, other weights rescaled",
}


def _yes_no(flags: np.ndarray | None, n: int) -> list[str | None]:
    return [None] * n if flags is None else ["yes" if f else "no" for f in flags.tolist()]


def describe_eligibility(result: IndexResult) -> str:
    e = result.spec.eligibility
    if e is None:
        return "no eligibility rule"
    if e.top is not None:
        return f"the top {e.top} schools by rank"
    return f"schools scoring at least {e.threshold:g}"


def index_frame(result: IndexResult) -> pl.DataFrame:
    """``index.csv``: one row per school, in rank order."""
    o = result.order
    b = result.base
    spec = result.spec
    cols: dict[str, Any] = {
        "entity_id": result.ids[o].astype(str),
        "name": result.names[o].astype(str),
        "score": np.round(b.score[o], DIGITS),
        "rank": b.rank[o],
        "eligible": pl.Series(_yes_no(None if b.eligible is None else b.eligible[o], len(o)), dtype=pl.String),
        "offset": np.round(np.full(len(o), b.offset), DIGITS),
    }
    for k, iid in enumerate(spec.indicators):
        cols[f"contrib_{iid}"] = np.round(b.contributions[o, k], DIGITS) + 0.0
    for k, iid in enumerate(spec.indicators):
        cols[f"raw_{iid}"] = pl.Series(np.round(result.raw_values[o, k], DIGITS), nan_to_null=True)
    if result.students is not None:
        cols["students"] = result.students[o]
    cols["filled_cells"] = result.filled_cells[o]
    return pl.DataFrame(cols)


def _sensitivity_frame(result: IndexResult) -> pl.DataFrame:
    has = result.base.eligible is not None
    rows = [
        {
            "indicator": s.indicator,
            "change": f"{s.change * 100:+g}%",
            "weight": s.weight,
            "new_weight": round(s.new_weight, 12),
            "spearman": round(s.spearman, DIGITS),
            "max_rank_shift": s.max_rank_shift,
            "schools_moved": s.moved,
            "entering": len(s.entering) if has else None,
            "leaving": len(s.leaving) if has else None,
            "entering_ids": ";".join(s.entering) if has else None,
            "leaving_ids": ";".join(s.leaving) if has else None,
        }
        for s in result.sensitivity
    ]
    schema = {"entering": pl.Int64, "leaving": pl.Int64, "entering_ids": pl.String, "leaving_ids": pl.String}
    return pl.DataFrame(rows, schema_overrides=schema)


def _near_cut_frame(result: IndexResult) -> pl.DataFrame:
    o = result.order
    o = o[result.near_cut[o]]
    b = result.base
    cut = result.cut_score if result.cut_score is not None else np.nan
    return pl.DataFrame(
        {
            "entity_id": result.ids[o].astype(str),
            "name": result.names[o].astype(str),
            "rank": b.rank[o],
            "score": np.round(b.score[o], DIGITS),
            "eligible": pl.Series(_yes_no(None if b.eligible is None else b.eligible[o], len(o)), dtype=pl.String),
            "score_minus_cut": np.round(b.score[o] - cut, DIGITS) + 0.0,
            "sensitivity_flips": result.flips[o],
        }
    )


def _near_rule(result: IndexResult) -> str:
    n = result.spec.near_cut
    return f"within {n.ranks} ranks of the cut" if n.ranks is not None else f"within {n.score:g} points of the cut"


def _chart(result: IndexResult) -> Markup:
    o = result.order
    b = result.base
    eligible = b.eligible if b.eligible is not None else np.zeros(len(o), dtype=bool)
    rows = [
        {
            "school": f"{int(b.rank[i])}. {result.names[i]}",
            "score": float(b.score[i]),
            "group": "eligible" if eligible[i] else "not eligible",
        }
        for i in o.tolist()
    ]
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_bar(height=11)
        .encode(
            y=alt.Y("school:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X(
                "score:Q",
                title="Need index score",
                scale=alt.Scale(domain=[result.spec.scale.min, result.spec.scale.max]),
            ),
            color=alt.Color(
                "group:N",
                title=None,
                scale=alt.Scale(domain=["eligible", "not eligible"], range=[GAIN, "#9aa5b1"]),
            ),
        )
        .properties(width=420, height=max(60, 16 * len(rows)))
    )
    return to_svg(chart, "Need index score of each school, from rank 1 down, eligible schools highlighted")


def _context(result: IndexResult, spec_path: Path, data_path: Path) -> dict[str, Any]:
    spec = result.spec
    b = result.base
    weights = np.array([ind.weight.value for ind in spec.indicators.values()])
    shares = weights / weights.sum()
    biggest = float(np.abs(b.contributions).max()) or 1.0
    indicators = [
        {
            "id": iid,
            "label": ind.label,
            "column": ind.column,
            "direction": _DIRECTION[ind.direction],
            "normalise": _NORMALISE[ind.normalise],
            "missing": _MISSING[ind.missing],
            "weight": f"{ind.weight.value:g}",
            "share": percent_text(float(shares[k])),
            "cite": ind.weight.reference.cite(),
            "link": ind.weight.reference.link,
            "filled": result.stats[iid]["filled"],
        }
        for k, (iid, ind) in enumerate(spec.indicators.items())
    ]
    schools = []
    for i in result.order.tolist():
        contribs = [
            {
                "text": f"{c:+.3f}".replace("-", "−"),
                "width": f"{abs(c) / biggest * _BAR_REM:.2f}",
                "up": c >= 0,
            }
            for c in b.contributions[i].tolist()
        ]
        top = int(np.argmax(b.contributions[i]))
        schools.append(
            {
                "rank": int(b.rank[i]),
                "id": str(result.ids[i]),
                "name": str(result.names[i]),
                "score": f"{b.score[i]:.3f}",
                "eligible": None if b.eligible is None else bool(b.eligible[i]),
                "near": bool(result.near_cut[i]),
                "contribs": contribs,
                "top": indicators[top]["label"] if b.contributions[i, top] > 0 else None,
            }
        )
    sensitivity = [
        {
            "label": spec.indicators[s.indicator].label,
            "id": s.indicator,
            "change": f"{s.change * 100:+g} %".replace("-", "−"),
            "weight": f"{s.weight:g} → {s.new_weight:.4g}",
            "spearman": f"{s.spearman:.4f}",
            "shift": s.max_rank_shift,
            "moved": s.moved,
            "entering": ", ".join(s.entering),
            "leaving": ", ".join(s.leaving),
        }
        for s in result.sensitivity
    ]
    near = [s for s in schools if s["near"]]
    return {
        "spec": spec,
        "level": spec.level,
        "aggregate": spec.aggregate.text if spec.aggregate is not None else None,
        "n": len(result.ids),
        "rows_read": result.data.rows_read,
        "eligible_count": None if b.eligible is None else int(b.eligible.sum()),
        "eligibility": describe_eligibility(result),
        "cut": None if result.cut_score is None else f"{result.cut_score:.3f}",
        "near_rule": _near_rule(result),
        "offset": f"{b.offset:.3f}",
        "step": percent_text(spec.sensitivity.step, 0),
        "indicators": indicators,
        "schools": schools,
        "sensitivity": sensitivity,
        "near": near,
        "notes": result.notes,
        "chart": _chart(result),
        "spec_path": display_path(spec_path),
        "spec_sha": sha256_file(spec_path),
        "data_path": data_path.as_posix(),
        "data_sha": result.data.sha256,
        "version": __version__,
    }


def write_index(result: IndexResult, out_dir: Path, spec_path: Path, data_path: Path) -> list[Path]:
    """Write every output file; return their paths, the manifest last."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "index.csv", out_dir / "sensitivity.csv"]
    index_frame(result).write_csv(paths[0])
    _sensitivity_frame(result).write_csv(paths[1])
    if result.base.eligible is not None:
        paths.append(out_dir / "near_cut.csv")
        _near_cut_frame(result).write_csv(paths[-1])
    html = environment().get_template("need_index.html.j2").render(**_context(result, spec_path, data_path))
    paths.append(out_dir / "report.html")
    paths[-1].write_text(html, encoding="utf-8")
    spec = result.spec
    weights = np.array([ind.weight.value for ind in spec.indicators.values()])
    manifest = {
        "format": "fairshare.index-manifest/1",
        "package_version": __version__,
        "index": spec.index,
        "spec": {"path": display_path(spec_path), "sha256": sha256_file(spec_path)},
        "input": {"path": result.data.source, "sha256": result.data.sha256, "rows_read": result.data.rows_read},
        "level": spec.level,
        "aggregate": spec.aggregate.text if spec.aggregate is not None else None,
        "schools": len(result.ids),
        "scale": {"min": spec.scale.min, "max": spec.scale.max},
        "offset": round(result.base.offset, 12),
        "scale_factor": round(result.base.scale_factor, 12),
        "indicators": {
            iid: {
                "column": ind.column,
                "direction": ind.direction,
                "normalise": ind.normalise,
                "missing": ind.missing,
                "weight": ind.weight.value,
                "weight_share": round(float(weights[k] / weights.sum()), 12),
                "reference": ind.weight.reference.cite(),
                "statistics": {key: v if isinstance(v, int) else round(v, 12) for key, v in result.stats[iid].items()},
            }
            for k, (iid, ind) in enumerate(spec.indicators.items())
        },
        "eligibility": describe_eligibility(result),
        "eligible": None if result.base.eligible is None else int(result.base.eligible.sum()),
        "cut_score": None if result.cut_score is None else round(result.cut_score, 12),
        "near_cut": _near_rule(result),
        "sensitivity_step": spec.sensitivity.step,
        "notes": result.notes,
        "outputs": {p.name: sha256_file(p) for p in paths},
    }
    paths.append(out_dir / "manifest.json")
    paths[-1].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return paths

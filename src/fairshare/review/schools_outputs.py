"""The outputs of ``fairshare review schools``: schools.csv, peers.csv, groups.csv, report.html, manifest.json.

The CSVs carry the review's frames with money rounded to cents, percents to 0.01 and distances to
0.0001 (the frames keep full precision). The report is one self-contained HTML file: the focus
district's units first, the views, the group comparison, the focus unit's peers, the methods and the
sources of every number. The manifest holds the spec's and each input's SHA-256, the package version,
every cited parameter, the methods and each output's SHA-256.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from fairshare import __version__
from fairshare.report.html import environment, number_text, plural
from fairshare.report.outputs import display_path, sha256_file
from fairshare.review.schools import SchoolReview
from fairshare.review.views import BIN_ABOVE

__all__ = ["captions", "percent_points", "render_html", "summary", "whole_dollars", "write_school_review"]


def captions(review: SchoolReview) -> dict[str, str]:
    """The caption of each view, in words that match what the chart shows."""
    m = review.spec.model
    kind = m.unit.kind
    many = review.schools.filter(pl.col("status") == "in pool").height > BIN_ABOVE
    if many:
        pool = f"shaded cells count the {plural(kind)} of the pool in each cell (the lowest and highest 1 % left off)"
    elif m.groups and review.focus_district is None:
        pool = f"each dot is a {kind} of the pool, coloured by group"
    else:
        pool = f"each grey dot is a {kind} of the pool"
    marks = pool
    if review.focus_district is not None:
        marks += f"; blue: the focus district's {plural(kind)}"
    if review.focus_unit is not None:
        marks += f"; red diamond: the focus {kind}"
    line = "; orange line: enrollment-weighted least squares"
    hn = m.high_needs.label if m.high_needs else ""
    out = m.outcome.label if m.outcome else ""
    whose = f"the focus district's {plural(kind)}" if review.focus_district else f"every {kind} of the pool"
    return {
        "array": f"{m.spending.label} of {whose}: across, the figure; rows, the type; dot area, the enrollment; "
        f"colour, {hn or 'high needs'} (%).",
        "ppe_vs_high_needs": f"{m.spending.label} against {hn} (%): {marks}{line}.",
        "ppe_vs_outcome": f"{m.spending.label} against {out}: {marks}{line}.",
        "quadrants": f"{out} against {m.spending.label.lower()}: {marks}; the dashed lines are the two medians, "
        "which split the pool into four quadrants.",
        "peers": f"The focus {kind} (red) and its peers; the dashed line is the peers' median.",
    }


_MONEY = ("school_ppe", "central_ppe", "ppe", "peer_median", "peer_ppe", "mean_ppe", "weighted_mean_ppe")
_PERCENT = ("high_needs_pct", "state_percentile", "district_percentile", "peer_percentile", "gap_pct")


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = [pl.col(c).round(2) for c in frame.columns if c in _MONEY or c in _PERCENT or c == "weighted_gap_pct"]
    exprs += [pl.col(c).round(4) for c in ("distance", "outcome", "enrollment") if c in frame.columns]
    return frame.with_columns(exprs)


def _round(v: Any) -> Any:
    return round(v, 2) if isinstance(v, float) else v


def summary(review: SchoolReview) -> dict[str, Any]:
    """Headline counts and figures of a review (the CLI and the manifest show them)."""
    s = review.schools
    pool = s.filter(pl.col("status") == "in pool")
    out: dict[str, Any] = {
        "units": s.height,
        "in_pool": pool.height,
        "excluded": s.filter(pl.col("status") == "excluded").height,
        "left_out": s.filter(pl.col("status") == "left out").height,
        "flags": {f: pool.filter(pl.col("flag") == f).height for f in ("below", "near", "above", "no_peers")},
        "groups": [
            {k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}
            for row in review.groups.to_dicts()
        ],
        "fits": {k: {"intercept": f.intercept, "slope": f.slope, "r2": f.r2, "n": f.n} for k, f in review.fits.items()},
        "medians": review.medians,
    }
    if review.focus_district is not None:
        out["focus_district"] = review.focus_district
    if review.focus_unit is not None:
        out["focus_unit"] = review.focus_unit
    return out


def write_school_review(review: SchoolReview, out_dir: Path, spec_path: Path | None = None) -> list[Path]:
    """Write the five outputs into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "schools.csv", out_dir / "peers.csv", out_dir / "groups.csv", out_dir / "report.html"]
    _rounded(review.schools).write_csv(paths[0])
    _rounded(review.peers).write_csv(paths[1])
    _rounded(review.groups).write_csv(paths[2])
    paths[3].write_text(render_html(review), encoding="utf-8")
    spec = review.spec
    manifest: dict[str, Any] = {
        "format": "fairshare.review-schools-manifest/1",
        "package_version": __version__,
        "review": spec.model.review,
        "spec": {"path": display_path(spec_path) if spec_path else spec.source, "sha256": _sha(spec_path, spec.text)},
        "inputs": [{"table": s.table, "path": s.path, "sha256": s.sha256} for s in review.sources],
        "parameters": {
            k: {"value": c.value, "reference": c.reference.model_dump(exclude_none=True)}
            for k, c in spec.cited().items()
        },
        "settings": {
            "missing": spec.model.missing,
            "peers": None
            if spec.model.peers is None
            else {
                "standardise": spec.model.peers.standardise,
                "scales": {v: pv.scale for v, pv in spec.model.peers.variables.items()},
                "type": None if spec.model.peers.type is None else spec.model.peers.type.rule,
                "same_district": spec.model.peers.same_district,
                "scaling": {v: {"centre": c, "scale": sd} for v, (c, sd) in review.scaling.items()},
            },
        },
        "methods": review.methods,
        "notes": review.notes,
        "summary": summary(review),
        "outputs": {p.name: sha256_file(p) for p in paths},
    }
    paths.append(out_dir / "manifest.json")
    paths[-1].write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


def _sha(path: Path | None, text: str) -> str:
    if path is not None:
        return sha256_file(path)
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def whole_dollars(x: float | None) -> str:
    return "—" if x is None else f"${x:,.0f}"


def percent_points(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x:+.1f} %" if signed else f"{x:.1f} %"


def _unit_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "type": r["type"],
        "grades": r["grade_span"].lstrip("'"),
        "enrollment": "—" if r["enrollment"] is None else number_text(r["enrollment"]),
        "high_needs": percent_points(r["high_needs_pct"]),
        "ppe": whole_dollars(r["ppe"]),
        "state": "" if r["state_rank"] is None else f"{r['state_rank']:,} of {r['state_units']:,}",
        "state_pct": "" if r["state_percentile"] is None else f"{r['state_percentile']:.0f}",
        "district": "" if r["district_rank"] is None else f"{r['district_rank']} of {r['district_units']}",
        "peer_median": whole_dollars(r["peer_median"]),
        "gap": percent_points(r["gap_pct"], signed=True),
        "flag": r["flag"],
        "flag_text": r["flag_text"],
        "status": r["status"],
        "reason": r["reason"],
        "focus": r["focus"],
        "outcome": "—" if r["outcome"] is None else f"{r['outcome']:g}",
    }


#: the largest pool the report lists unit by unit when no focus district is given
LIST_ALL_UP_TO = 300


def render_html(review: SchoolReview) -> str:
    spec = review.spec
    m = spec.model
    kind = m.unit.kind
    s = review.schools
    focus_rows = [_unit_row(r) for r in review.district_units().iter_rows(named=True)]
    listed = review.focus_district is not None or s.filter(pl.col("status") == "in pool").height <= LIST_ALL_UP_TO
    focus = review.unit(review.focus_unit) if review.focus_unit else None
    peers = []
    if focus is not None:
        info = s.select("id", "enrollment", "high_needs_pct", "type", "outcome")
        joined = review.peers_of(review.focus_unit or "").join(info, left_on="peer_id", right_on="id", how="left")
        peers = [
            {
                "rank": r["rank"],
                "name": r["peer_name"],
                "id": r["peer_id"],
                "district": r["peer_district"],
                "type": r["peer_type"],
                "enrollment": number_text(r["enrollment"]) if r["enrollment"] is not None else "—",
                "high_needs": percent_points(r["high_needs_pct"]),
                "outcome": "—" if r["outcome"] is None else f"{r['outcome']:g}",
                "distance": f"{r['distance']:.3f}",
                "ppe": whole_dollars(r["peer_ppe"]),
            }
            for r in joined.iter_rows(named=True)
        ]
    district_label = None
    if review.focus_district is not None:
        names = [x for x in s.filter(pl.col("in_focus_district"))["district_name"].to_list() if x]
        district_label = names[0] if names else f"District {review.focus_district}"
    groups = [
        {
            "label": g["label"],
            "reference": g["reference"],
            "units": g["units"],
            "enrollment": "—" if g["enrollment"] is None else number_text(g["enrollment"]),
            "mean": whole_dollars(g["mean_ppe"]),
            "weighted": whole_dollars(g["weighted_mean_ppe"]),
            "gap": "" if g["reference"] else percent_points(g["gap_pct"], signed=True),
            "weighted_gap": "" if g["reference"] else percent_points(g["weighted_gap_pct"], signed=True),
        }
        for g in review.groups.iter_rows(named=True)
    ]
    words = captions(review)
    views = [{"svg": svg, "caption": words[name]} for name, svg in review.charts.items()]
    cited = [
        {"path": k, "value": f"{c.value:g}", "cite": c.reference.cite(), "link": c.reference.link}
        for k, c in spec.cited().items()
    ]
    return (
        environment()
        .get_template("review_schools.html.j2")
        .render(
            m=m,
            kinds=plural(kind),
            kind=kind,
            summary=summary(review),
            district_label=district_label,
            rows=focus_rows if listed else [],
            listed=listed,
            focus=None if focus is None else _unit_row(focus),
            peers=peers,
            groups=groups,
            views=views,
            methods=review.methods,
            notes=review.notes,
            cited=cited,
            sources=review.sources,
            outcome=m.outcome is not None,
            version=__version__,
        )
    )

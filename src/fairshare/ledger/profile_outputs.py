"""The files of ``fairshare ledger profile``: CSV tables, ``profile.xlsx``, ``report.html``, ``manifest.json``.

Money is written from integer cents as exact decimal text (``1234.50``); per-pupil amounts are whole
cents rounded half to even; shares and changes are percentages to one decimal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import polars as pl
from markupsafe import Markup

from fairshare import __version__
from fairshare.ledger.profile import KEYS, Profile
from fairshare.report.charts import GAIN, LOSS, to_svg
from fairshare.report.html import environment, money, number_text
from fairshare.report.outputs import cents_text, display_path, sha256_file
from fairshare.report.xlsx import _Formats, new_workbook

__all__ = ["CATEGORY_LABELS", "write_profile"]

CATEGORY_LABELS = {
    "instruction": "Instruction",
    "instructional_support": "Instructional support",
    "pupil_support": "Pupil support",
    "school_leadership": "School leadership",
    "central_leadership": "Central leadership",
    "operations": "Operations",
    "transportation": "Transportation",
    "food": "Food",
    "debt_capital": "Debt and capital",
    "other": "Other (community, enterprise)",
    "not_spending": "Not spending",
    "unmapped": "Unmapped",
    "operating_total": "Operating total",
}
#: one colour per operating category (colour-blind-safe Tableau 10 order)
_PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
]
ROUNDING = (
    "Amounts are exact sums of the ledger's cents. Per pupil = cents ÷ students, rounded half to even to a "
    "whole cent. Shares and changes are percentages rounded to 0.1."
)


def _dollars(frame: pl.DataFrame) -> pl.DataFrame:
    """Every ``*_cents`` column as exact dollars text under the name without ``_cents``."""
    cents = [c for c in frame.columns if c.endswith("_cents")]
    return frame.with_columns(cents_text(pl.col(c)).alias(c.removesuffix("_cents")) for c in cents).drop(cents)


def _district_frame(p: Profile) -> pl.DataFrame:
    op = list(p.spec.operating)
    cols = [
        *KEYS,
        "students",
        "operating_cents",
        "per_pupil_cents",
        *(f"{c}_pp_cents" for c in op),
        *(f"{c}_cents" for c in op),
        "outside_cents",
        "not_spending_cents",
        "unmapped_cents",
        "school_cents",
        "central_cents",
        "unclassified_cents",
        "school_share_pct",
        "central_share_pct",
        "unclassified_share_pct",
    ]
    return _dollars(p.districts.select(cols))


def _xlsx(p: Profile, path: Path, frames: dict[str, pl.DataFrame]) -> None:
    wb = new_workbook(path)
    f = _Formats(wb)
    about = wb.add_worksheet("About")
    about.set_column(0, 0, 28)
    about.set_column(1, 1, 100)
    about.write(0, 0, p.spec.label, f.title)
    lines = [
        ("Profile", p.spec.profile),
        ("Description", p.spec.description or ""),
        ("Operating spending", ", ".join(CATEGORY_LABELS[c] for c in p.spec.operating)),
        ("Enrollment", p.spec.enrollment.reference.cite()),
        ("Enrollment by year", "yes" if p.enrollment_by_year else "no: one count for every year"),
        ("Locations", p.spec.locations.reference.cite() if p.spec.locations else "not given"),
        ("Crosswalk", str(_crosswalk(p))),
        ("Rounding", ROUNDING),
    ]
    for i, (k, v) in enumerate(lines, start=2):
        about.write(i, 0, k, f.bold)
        about.write(i, 1, v, f.wrap)
    for name, frame in frames.items():
        ws = wb.add_worksheet(name)
        ws.freeze_panes(1, 0)
        for j, col in enumerate(frame.columns):
            ws.write(0, j, col, f.header)
            ws.set_column(j, j, 30 if col in ("district", "name", "peer_name", "label") else 14)
            money_col = col.endswith("_cents")
            for i, v in enumerate(frame.get_column(col).to_list(), start=1):
                if v is None or (isinstance(v, float) and v != v):
                    continue
                if money_col:
                    ws.write_number(i, j, v / 100, f.money)
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()


def _crosswalk(p: Profile) -> object:
    cw = p.ledger_manifest.get("crosswalk", {})
    return cw.get("version", "?") if isinstance(cw, dict) else "?"


def _stacked(p: Profile, year: int) -> Markup:
    rows = p.categories.filter(pl.col("fiscal_year") == year)
    order = (
        p.districts.filter(pl.col("fiscal_year") == year).sort("per_pupil_cents", descending=True)["district"].to_list()
    )
    values = [
        {"district": r["district"], "category": CATEGORY_LABELS[r["category"]], "per_pupil": r["per_pupil_cents"] / 100}
        for r in rows.iter_rows(named=True)
    ]
    labels = [CATEGORY_LABELS[c] for c in p.spec.operating]
    chart = (
        alt.Chart(alt.InlineData(values=values))
        .mark_bar(height=14)
        .encode(
            y=alt.Y("district:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X(
                "sum(per_pupil):Q", title="Operating spending per pupil (US dollars)", axis=alt.Axis(format="$,.0f")
            ),
            color=alt.Color(
                "category:N",
                scale=alt.Scale(domain=labels, range=_PALETTE[: len(labels)]),
                legend=alt.Legend(title=None, orient="bottom", columns=4),
            ),
            order=alt.Order("category_order:Q"),
        )
        .transform_calculate(category_order=f"indexof({json.dumps(labels)}, datum.category)")
        .properties(width=560, height=max(80, 22 * len(order)))
    )
    return to_svg(chart, f"Operating spending per pupil by category, FY{year}, one bar per district")


def _site_bars(p: Profile, year: int) -> Markup:
    d = p.districts.filter((pl.col("fiscal_year") == year) & pl.col("school_share_pct").is_not_null())
    d = d.sort("school_share_pct", descending=True)
    parts = [("School sites", "school_share_pct", GAIN), ("Central office", "central_share_pct", LOSS)]
    values = [
        {"district": r["district"], "part": label, "share": r[col] / 100}
        for r in d.iter_rows(named=True)
        for label, col, _ in parts
    ]
    chart = (
        alt.Chart(alt.InlineData(values=values))
        .mark_bar(height=14)
        .encode(
            y=alt.Y("district:N", sort=d["district"].to_list(), title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("sum(share):Q", title="Share of classified operating spending (%)", axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "part:N",
                scale=alt.Scale(domain=[x[0] for x in parts], range=[x[2] for x in parts]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            order=alt.Order("part_order:Q"),
        )
        .transform_calculate(part_order=f"indexof({json.dumps([x[0] for x in parts])}, datum.part)")
        .properties(width=560, height=max(80, 22 * d.height))
    )
    return to_svg(chart, f"Operating spending charged to school sites and to the central office, FY{year}")


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None or x != x:
        return "—"
    x = x + 0.0  # never "-0.0"
    return f"{x:+.1f} %" if signed else f"{x:.1f} %"


def _whole(cents: int) -> str:
    """Whole dollars for a wide table (half to even); the files keep the cents."""
    d = round(cents / 100)
    return f"-${-d:,}" if d < 0 else f"${d:,}"


def _html(p: Profile, comparison: dict[str, Any] | None) -> str:
    years = sorted(p.districts["fiscal_year"].unique().to_list())
    last = years[-1]
    op = list(p.spec.operating)
    change = {(r["district"], r["to_year"], r["category"]): r for r in p.change.iter_rows(named=True)}
    rows = []
    for r in p.districts.sort("district", "fiscal_year").iter_rows(named=True):
        total = change.get((r["district"], r["fiscal_year"], "operating_total"))
        rows.append(
            {
                "district": r["district"],
                "year": r["fiscal_year"],
                "students": number_text(r["students"]),
                "per_pupil": money(r["per_pupil_cents"]),
                "change": _pct(total["change_pct"], signed=True) if total else "—",
                "cells": [_whole(r[f"{c}_pp_cents"]) for c in op],
                "school": _pct(r["school_share_pct"]),
                "central": _pct(r["central_share_pct"]),
                "unclassified": _pct(r["unclassified_share_pct"]),
                "unmapped": money(r["unmapped_cents"]),
                "outside": money(r["outside_cents"]),
            }
        )
    changes = [
        {
            "district": r["district"],
            "category": CATEGORY_LABELS[r["category"]],
            "years": f"{r['from_year']}→{r['to_year']}",
            "from": money(r["from_per_pupil_cents"]),
            "to": money(r["to_per_pupil_cents"]),
            "change": money(r["change_cents"]),
            "pct": _pct(r["change_pct"], signed=True),
        }
        for r in p.change.sort("district", "category").iter_rows(named=True)
        if r["category"] == "operating_total" or abs(r["change_pct"] or 0) >= 10
    ]
    schools = [
        {
            "district": r["district"],
            "year": r["fiscal_year"],
            "location": r["location"],
            "name": r["name"],
            "total": money(r["operating_cents"]),
            "share": _pct(r["share_pct"]),
            "per_pupil": money(r["per_pupil_cents"]) if r["per_pupil_cents"] is not None else "—",
        }
        for r in (p.schools.filter(pl.col("fiscal_year") == last).iter_rows(named=True) if p.schools.height else [])
    ]
    totals = p.districts.filter(pl.col("fiscal_year") == last)
    return (
        environment()
        .get_template("ledger_profile.html.j2")
        .render(
            spec=p.spec,
            years=years,
            last=last,
            labels=[CATEGORY_LABELS[c] for c in op],
            outside=[CATEGORY_LABELS[c] for c in ("debt_capital", "other") if c not in op],
            rows=rows,
            changes=changes,
            schools=schools,
            stacked=_stacked(p, last),
            site=_site_bars(p, last),
            districts=totals.height,
            operating=money(int(totals["operating_cents"].sum())),
            median=money(round(float(np.median(totals["per_pupil_cents"].to_numpy()))) if totals.height else 0),
            crosswalk=_crosswalk(p),
            by_year=p.enrollment_by_year,
            rounding=ROUNDING,
            comparison=comparison,
        )
    )


def write_profile(
    p: Profile,
    out_dir: Path,
    inputs: Sequence[tuple[str, Path]],
    extra: dict[str, pl.DataFrame] | None = None,
    comparison: dict[str, Any] | None = None,
) -> list[Path]:
    """Write every file; ``extra`` adds CSV tables (the peer comparison) by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frames: dict[str, pl.DataFrame] = {
        "districts": p.districts,
        "categories": p.categories,
        "change": p.change,
    }
    if p.schools.height:
        frames["schools"] = p.schools
    frames.update(extra or {})
    paths: list[Path] = []
    for name, frame in frames.items():
        path = out_dir / f"{name}.csv"
        (_district_frame(p) if name == "districts" else _dollars(frame)).write_csv(path)
        paths.append(path)
    _xlsx(p, out_dir / "profile.xlsx", {k.capitalize(): v for k, v in frames.items()})
    paths.append(out_dir / "profile.xlsx")
    (out_dir / "report.html").write_text(_html(p, comparison), encoding="utf-8")
    paths.append(out_dir / "report.html")
    manifest = {
        "format": "fairshare.ledger-profile-manifest/1",
        "package_version": __version__,
        "profile": p.spec.profile,
        "operating": list(p.spec.operating),
        "enrollment_by_year": p.enrollment_by_year,
        "rounding": ROUNDING,
        "ledger": {"crosswalk": p.ledger_manifest.get("crosswalk"), "outputs": p.ledger_manifest.get("outputs")},
        "inputs": {role: {"path": display_path(path), "sha256": sha256_file(path)} for role, path in inputs},
        "outputs": {q.name: sha256_file(q) for q in paths},
    }
    paths.append(out_dir / "manifest.json")
    paths[-1].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return paths

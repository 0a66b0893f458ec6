"""The outputs of ``fairshare fund``: fund.csv, impact and plan tables, report.html, manifest.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare import __version__
from fairshare.programs.fund import FUND_ROUNDING, FundResult, fund_summary
from fairshare.report.html import environment, money, number_text
from fairshare.report.outputs import cents_text, display_path, sha256_file
from fairshare.rules.money import to_cents

__all__ = ["write_fund"]


def fund_frame(result: FundResult) -> pl.DataFrame:
    """One row per school, by rank: id, name, rank, index, pupils, eligible, grant, per pupil, minimum, reason."""
    t = result.table
    pupils = t.pupils
    # per pupil: the grant ÷ pupils, rounded to the cent half away from zero (0 where a school has no pupils)
    pp = to_cents(np.where(pupils > 0, result.grant_cents / 100.0 / np.where(pupils > 0, pupils, 1), 0.0))
    frame = pl.DataFrame(
        {
            "school_id": t.ids.astype(str),
            "name": t.names.astype(str),
            "rank": result.rank,
            "index": t.index,
            "pupils": pupils.astype(np.int64),
            "eligible": result.eligible,
            "grant": result.grant_cents,
            "per_pupil": pp,
            "minimum_applied": result.minimum_applied,
            "reason": result.reasons,
        }
    ).sort("rank")
    line = result.spec.line.id
    return frame.with_columns(cents_text(pl.col("grant")).alias(line), cents_text(pl.col("per_pupil"))).select(
        "school_id", "name", "rank", "index", "pupils", "eligible", line, "per_pupil", "minimum_applied", "reason"
    )


def write_fund(
    result: FundResult,
    out_dir: Path,
    spec_path: Path,
    *,
    impact: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    plans: pl.DataFrame | None = None,
    inputs: list[Path] | None = None,
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "fund.csv"]
    frame = fund_frame(result)
    frame.write_csv(paths[0])
    if impact is not None:
        paths += [out_dir / "impact_schools.csv", out_dir / "impact_partners.csv"]
        impact[0].write_csv(paths[-2])
        impact[1].write_csv(paths[-1])
    if plans is not None:
        paths.append(out_dir / "plans.csv")
        plans.write_csv(paths[-1])
    paths.append(out_dir / "report.html")
    paths[-1].write_text(_html(result, frame, impact, plans), encoding="utf-8")
    summary = fund_summary(result)
    manifest: dict[str, Any] = {
        "format": "fairshare.fund-manifest/1",
        "package_version": __version__,
        "spec": {"path": display_path(spec_path), "sha256": sha256_file(spec_path)},
        "inputs": [{"path": str(p), "sha256": sha256_file(p)} for p in (inputs or [])],
        "summary": summary,
        "parameters": {k: c.value for k, c in result.spec.cited().items()},
        "rounding_rule": FUND_ROUNDING,
        "outputs": {p.name: sha256_file(p) for p in paths},
    }
    paths.append(out_dir / "manifest.json")
    paths[-1].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return paths


def _html(
    result: FundResult,
    frame: pl.DataFrame,
    impact: tuple[pl.DataFrame, pl.DataFrame] | None,
    plans: pl.DataFrame | None,
) -> str:
    spec = result.spec
    e = spec.eligibility
    rule = {
        "top": f"the top {int(e.top.value) if e.top else 0} schools by the index",
        "threshold": f"schools with an index of at least {e.threshold.value if e.threshold else 0:g}",
        "until_exhausted": f"down the ranking at ${e.rate.value if e.rate else 0:,.2f} per pupil "
        "until the fund runs out"
        + (" (the first school not covered gets what is left)" if e.last == "partial" else ""),
    }[e.rule]
    share = "per pupil" if spec.share == "per_pupil" else "per pupil, scaled by the index"
    line = spec.line.id
    rows = [
        {
            "rank": r["rank"],
            "id": r["school_id"],
            "name": r["name"],
            "index": f"{r['index']:.4g}",
            "pupils": number_text(r["pupils"]),
            "grant": money(int(r[line].replace(".", ""))),
            "minimum": r["minimum_applied"],
            "eligible": r["eligible"],
            "reason": r["reason"],
        }
        for r in frame.iter_rows(named=True)
    ]
    summary = fund_summary(result)
    return (
        environment()
        .get_template("fund.html.j2")
        .render(
            spec=spec,
            total=money(result.total_cents),
            paid=money(int(result.grant_cents.sum())),
            unallocated=money(result.unallocated_cents),
            per_pupil=None if summary["per_pupil"] is None else money(int(summary["per_pupil"].replace(".", ""))),
            summary=summary,
            rule=rule,
            share=share,
            cited=list(spec.cited().items()),
            rounding=FUND_ROUNDING,
            rows=rows,
            impact=None if impact is None else {"schools": impact[0].to_dicts(), "partners": impact[1].to_dicts()},
            plans=None if plans is None else plans.to_dicts(),
        )
    )

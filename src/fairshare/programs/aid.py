"""Multi-year state aid: run a formula year after year, each year's prior amount being last year's result.

Fiscal year ``Y`` (FY Y) runs on its first day, ``(Y-1)-07-01``, so each year picks the
parameter values in force then (a phase-in share that changes by year is just a dated
parameter). The inputs are held as given; the formula's ``entity.prior_total`` column is
replaced, from the second year on, by the previous year's totals — so hold harmless,
stop-loss, caps and phase-in compound exactly as they would in the real years.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from fairshare import __version__
from fairshare.errors import FormulaError, Problem
from fairshare.io import EntityTable, load_entities, select_year
from fairshare.report.outputs import (
    cents_text,
    display_path,
    set_aside_frame,
    set_aside_manifest,
    set_aside_summary,
    set_aside_text,
    sha256_file,
)
from fairshare.rules import Run, compile_formula, evaluate, load_formula
from fairshare.rules.money import ROUNDING_RULE, dollars_text

__all__ = ["YearRun", "parse_years", "run_years", "set_aside_summary", "write_years"]


@dataclass(frozen=True)
class YearRun:
    fiscal_year: int
    run: Run


def parse_years(text: str) -> list[int]:
    """``2027..2030``, a single year, or several of these joined by commas -> the fiscal years, ascending."""
    years: set[int] = set()
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d{4})\s*(?:\.\.\s*(\d{4})\s*)?", part)
        if not m or (m.group(2) and int(m.group(2)) < int(m.group(1))):
            raise FormulaError(
                Problem(
                    "invalid_value",
                    f"--years {text!r} is not FIRST..LAST (fiscal years), or several joined by commas",
                    value=text,
                    hint="e.g. --years 2027..2030 or --years 2013..2017,2026",
                )
            )
        first = int(m.group(1))
        years.update(range(first, int(m.group(2) or first) + 1))
    return sorted(years)


def run_years(formula_path: str | Path, data_path: str | Path, years: Sequence[int]) -> list[YearRun]:
    """Evaluate the fiscal ``years`` in order; a year that follows a year of the run takes its result as prior.

    With ``entity.year`` the table has one row per entity and year and each year runs on its
    own rows; the prior of an entity absent the year before (or after a gap in ``years``)
    stays as its row gives it.
    """
    formula = load_formula(formula_path)
    prior_col = formula.entity.prior_total
    if prior_col is None and formula.entity.year is None:
        raise FormulaError(
            Problem(
                "missing_key",
                "a multi-year run needs entity.prior_total (the column that holds last year's amount) "
                "or entity.year (a table with one row per entity and year)",
                **formula.key_where("entity"),
            )
        )
    full = load_entities(data_path, formula)
    runs: list[YearRun] = []
    for year in sorted(years):
        plan = compile_formula(formula, dt.date(year - 1, 7, 1))
        table = select_year(full, formula, year)
        if runs and prior_col is not None and runs[-1].fiscal_year == year - 1:
            table = _carry_prior(table, runs[-1].run, prior_col)
        runs.append(YearRun(year, evaluate(plan, table)))
    return runs


def _carry_prior(table: EntityTable, before: Run, prior_col: str) -> EntityTable:
    """``table`` with ``prior_col`` set to each entity's total in ``before`` (matched by id)."""
    if before.table.n == table.n and np.array_equal(before.table.ids, table.ids):
        found = np.ones(table.n, dtype=bool)
        previous = before.total_cents / 100.0
    else:
        order = np.argsort(before.table.ids.astype(str), kind="stable")
        sorted_ids = before.table.ids.astype(str)[order]
        ids = table.ids.astype(str)
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, max(len(sorted_ids) - 1, 0))
        found = sorted_ids[pos] == ids if len(sorted_ids) else np.zeros(table.n, dtype=bool)
        previous = np.where(found, before.total_cents[order][pos] / 100.0, table.columns[prior_col])
    used = table.defaults_used.get(prior_col, np.zeros(table.n, dtype=bool))
    return dataclasses.replace(
        table,
        columns={**table.columns, prior_col: np.asarray(previous, dtype=np.float64)},
        defaults_used={**table.defaults_used, prior_col: used & ~found},
    )


def write_years(runs: list[YearRun], out_dir: Path, formula_path: Path) -> list[Path]:
    """``by_year.csv`` (entity × year: lines, total, prior, change), ``summary.csv`` (per year), ``manifest.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = []
    summary = []
    for yr in runs:
        run = yr.run
        prior = run.prior_total_cents
        data: dict[str, object] = {
            "entity_id": run.table.ids.astype(str),
            "name": run.table.names.astype(str),
            "fiscal_year": np.full(run.table.n, yr.fiscal_year),
        }
        for j, cid in enumerate(run.line_ids):
            data[cid] = run.cent_columns[j]
        data["total"] = run.total_cents
        known = prior if prior is not None else np.full(run.table.n, -1)
        data["prior"] = np.where(known >= 0, known, 0)
        data["_has_prior"] = known >= 0
        frame = pl.DataFrame(data)
        if run.plan.set_asides:
            frame = pl.concat([frame, set_aside_frame(run)], how="horizontal")
        frames.append(frame)
        delta = run.total_cents - known
        has = known >= 0
        summary.append(
            {
                "fiscal_year": yr.fiscal_year,
                "run_date": run.plan.date.isoformat(),
                "entities": run.table.n,
                "total": dollars_text(int(run.total_cents.sum())),
                "prior_total": dollars_text(int(known[has].sum())),
                "change": dollars_text(int(delta[has].sum())),
                "gaining": int((delta[has] > 0).sum()),
                "losing": int((delta[has] < 0).sum()),
                "unchanged": int((delta[has] == 0).sum()),
                **set_aside_summary(run),
            }
        )
    lines = runs[0].run.line_ids if runs else []
    long = pl.concat(frames) if frames else pl.DataFrame()
    money = [*lines, "total"]
    by_year = long.select(
        "entity_id",
        "name",
        "fiscal_year",
        *[cents_text(pl.col(c)).alias(c) for c in money],
        pl.when(pl.col("_has_prior")).then(cents_text(pl.col("prior"))).alias("prior"),
        pl.when(pl.col("_has_prior")).then(cents_text(pl.col("total") - pl.col("prior"))).alias("change"),
        *(set_aside_text(runs[0].run) if runs else []),
    )
    paths = [out_dir / "by_year.csv", out_dir / "summary.csv"]
    by_year.write_csv(paths[0])
    pl.DataFrame(summary).write_csv(paths[1])
    manifest = {
        "format": "fairshare.aid-manifest/1",
        "package_version": __version__,
        "formula": {"path": display_path(formula_path), "sha256": sha256_file(formula_path)},
        "years": [
            {
                "fiscal_year": yr.fiscal_year,
                "run_date": yr.run.plan.date.isoformat(),
                "plan_hash": yr.run.plan.hash,
                "total": dollars_text(int(yr.run.total_cents.sum())),
            }
            for yr in runs
        ],
        "input": {"path": runs[0].run.table.source, "sha256": runs[0].run.table.sha256} if runs else None,
        "set_asides": set_aside_manifest(runs[0].run) if runs and runs[0].run.plan.set_asides else None,
        "rounding_rule": ROUNDING_RULE,
        "outputs": {p.name: sha256_file(p) for p in paths},
    }
    manifest_path = out_dir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return [*paths, manifest_path]

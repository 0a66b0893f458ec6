"""``fairshare ledger import``: extracts through their mappings and the crosswalk, to files.

``transactions.csv`` (the imported rows with the NCES dimensions, the category and the rules that set
them), ``excluded.csv`` (every excluded row with its reason), ``coverage.csv`` (rows and dollars mapped
and unmapped by source function × object, the coder's to-do list), ``summary.csv`` (per district and
fiscal year: rows and dollars imported and excluded, dollars by category) and ``manifest.json``.
Money is written from integer cents as exact decimal text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from fairshare import __version__
from fairshare.errors import InputError, Problem
from fairshare.ledger.crosswalk import CATEGORIES, apply_crosswalk, coverage, load_crosswalk
from fairshare.ledger.importer import SourceImport, import_ledger
from fairshare.ledger.mapping import load_mapping
from fairshare.report.outputs import cents_text, display_path, sha256_file

__all__ = ["LedgerRun", "run_ledger_import", "write_ledger_import"]


@dataclass(frozen=True)
class LedgerRun:
    sources: list[SourceImport]
    mapped: pl.DataFrame
    excluded: pl.DataFrame
    coverage: pl.DataFrame
    crosswalk_file: str
    crosswalk_version: str


def run_ledger_import(pairs: Sequence[tuple[Path, Path]], crosswalk: Path) -> LedgerRun:
    """Import each (mapping, extract) pair and crosswalk every imported row; every problem, then one error."""
    cw = load_crosswalk(crosswalk)
    problems: list[Problem] = []
    sources = [import_ledger(load_mapping(m), data, problems) for m, data in pairs]
    if problems:
        raise InputError(problems)
    rows = pl.concat([s.imported for s in sources], how="vertical_relaxed") if sources else pl.DataFrame()
    mapped = apply_crosswalk(rows, cw, problems)
    if problems:
        raise InputError(problems)
    excluded = pl.concat([s.excluded for s in sources], how="vertical_relaxed")
    return LedgerRun(sources, mapped, excluded, coverage(mapped), cw.file, str(cw.crosswalk.version))


def _money(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    return frame.with_columns(cents_text(pl.col(c)).alias(c.removesuffix("_cents")) for c in columns).drop(
        [c for c in columns if c.endswith("_cents")]
    )


def _summary(run: LedgerRun) -> pl.DataFrame:
    keys = ["district", "fiscal_year"]
    by_cat = (
        run.mapped.with_columns(pl.col("category").fill_null("unmapped"))
        .group_by(keys)
        .agg(
            rows_imported=pl.len(),
            imported_cents=pl.col("amount_cents").sum(),
            **{
                f"{c}_cents": pl.col("amount_cents").filter(pl.col("category") == c).sum()
                for c in (*CATEGORIES, "unmapped")
            },
        )
    )
    excl = run.excluded.group_by(keys).agg(rows_excluded=pl.len(), excluded_cents=pl.col("amount_cents").sum())
    out = by_cat.join(excl, on=keys, how="full", coalesce=True).fill_null(0).sort(keys)
    cents = [c for c in out.columns if c.endswith("_cents")]
    return _money(out, cents)


def write_ledger_import(
    run: LedgerRun, out_dir: Path, inputs: Sequence[tuple[Path, Path]], crosswalk: Path
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / n for n in ("transactions.csv", "excluded.csv", "coverage.csv", "summary.csv")]
    _money(run.mapped, ["amount_cents"]).write_csv(paths[0])
    _money(run.excluded, ["amount_cents"]).write_csv(paths[1])
    _money(run.coverage, ["gross_cents", "mapped_cents", "unmapped_cents", "net_cents"]).write_csv(paths[2])
    _summary(run).write_csv(paths[3])
    manifest = {
        "format": "fairshare.ledger-manifest/1",
        "package_version": __version__,
        "crosswalk": {
            "path": display_path(crosswalk),
            "sha256": sha256_file(crosswalk),
            "version": run.crosswalk_version,
        },
        "sources": [
            {
                "mapping": display_path(m),
                "data": s.file,
                "sha256": s.sha256,
                "rows_read": s.rows_read,
                "rows_imported": s.imported.height,
                "rows_excluded": s.excluded.height,
                "rows_rejected": s.rejected,
                "rows_from_fallback": s.fallback_rows,
            }
            for (m, _d), s in zip(inputs, run.sources, strict=True)
        ],
        "outputs": {p.name: sha256_file(p) for p in paths},
    }
    paths.append(out_dir / "manifest.json")
    paths[-1].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return paths

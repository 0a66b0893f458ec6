"""Machine-readable outputs of a run: budgets.csv, allocations.csv, manifest.json.

Dollar columns are written from integer cents as exact decimal text (never via
float), so ``budgets.csv`` sums to the same cents as the run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare import __version__
from fairshare.rules.evaluate import Run
from fairshare.rules.money import ROUNDING_RULE, dollars_text

__all__ = [
    "MANIFEST_FORMAT",
    "cents_text",
    "display_path",
    "manifest",
    "sha256_file",
    "write_allocations_csv",
    "write_budgets_csv",
    "write_manifest",
]

MANIFEST_FORMAT = "fairshare.manifest/1"


def cents_text(expr: pl.Expr) -> pl.Expr:
    """Integer cents -> exact 'dollars.cc' text, vectorised."""
    a = expr.abs()
    body = (a // 100).cast(pl.String) + "." + (a % 100).cast(pl.String).str.zfill(2)
    return pl.when(expr < 0).then("-" + body).otherwise(body)


def _cents_frame(run: Run) -> pl.DataFrame:
    data: dict[str, Any] = {
        "entity_id": run.table.ids.astype(str),
        "name": run.table.names.astype(str),
    }
    for j, cid in enumerate(run.line_ids):
        data[cid] = run.cents[:, j]
    data["total"] = run.total_cents
    return pl.DataFrame(data)


def write_budgets_csv(run: Run, path: Path) -> None:
    """One row per entity: entity_id, name, one column per component, total, per_pupil (blank if no pupils)."""
    frame = _cents_frame(run).with_columns(pl.Series("per_pupil", run.per_pupil_cents))
    money_cols = [*run.line_ids, "total"]
    out = frame.select(
        "entity_id",
        "name",
        *[cents_text(pl.col(c)).alias(c) for c in money_cols],
        pl.when(pl.col("per_pupil") >= 0).then(cents_text(pl.col("per_pupil"))).otherwise(None).alias("per_pupil"),
    )
    out.write_csv(path)


def write_allocations_csv(run: Run, path: Path) -> None:
    """Long form: entity_id, component, amount (every entity × every line, zeros included)."""
    frame = _cents_frame(run).drop("name", "total")
    long = frame.unpivot(index="entity_id", on=run.line_ids, variable_name="component", value_name="cents")
    # entity-major order, components in formula order
    order = {cid: k for k, cid in enumerate(run.line_ids)}
    long = long.with_columns(
        pl.int_range(pl.len()).alias("_pos"),
        pl.col("component").replace_strict(order, return_dtype=pl.Int64).alias("_k"),
    )
    n = run.table.n
    long = long.with_columns((pl.col("_pos") % max(n, 1)).alias("_i")).sort("_i", "_k")
    long.select("entity_id", "component", cents_text(pl.col("cents")).alias("amount")).write_csv(path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def display_path(path: Path) -> str:
    """A path as a reader can use it: package files as ``fairshare/...``, others as given."""
    package = Path(__file__).resolve().parents[1]
    try:
        return "fairshare/" + path.resolve().relative_to(package).as_posix()
    except ValueError:
        return path.as_posix()


def manifest(run: Run, formula_path: Path | None, outputs: list[Path], out_dir: Path) -> dict[str, Any]:
    plan, table = run.plan, run.table
    by_component = {cid: dollars_text(int(run.cents[:, j].sum())) for j, cid in enumerate(run.line_ids)}
    return {
        "format": MANIFEST_FORMAT,
        "package": "fairshare",
        "package_version": __version__,
        "run_date": plan.date.isoformat(),
        "formula": {
            "id": plan.id,
            "label": plan.formula.label,
            "path": None if formula_path is None else display_path(formula_path),
            "sha256": None if formula_path is None else sha256_file(formula_path),
            "plan_hash": plan.hash,
        },
        "inputs": [
            {
                "path": table.source,
                "sha256": table.sha256,
                "rows_read": table.rows_read,
                "rows_used": table.n,
                "unused_columns": list(table.unused_columns),
            }
        ],
        "entities": table.n,
        "pupils": float(np.sum(run.pupils)),
        "components": run.line_ids,
        "totals": {"total": dollars_text(int(run.total_cents.sum())), "by_component": by_component},
        "budget": None if run.budget_cents is None else dollars_text(run.budget_cents),
        "solved": {pid: round(v, 10) for pid, v in run.solved.items()},
        "parameters": {
            pid: {"value": p.value, "effective": p.effective.isoformat()} for pid, p in sorted(plan.params.items())
        },
        "rounding_rule": ROUNDING_RULE,
        "notes": run.notes,
        "outputs": {str(p.relative_to(out_dir)): sha256_file(p) for p in sorted(outputs)},
    }


def write_manifest(run: Run, formula_path: Path | None, outputs: list[Path], out_dir: Path) -> Path:
    path = out_dir / "manifest.json"
    path.write_text(
        json.dumps(manifest(run, formula_path, outputs, out_dir), indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return path

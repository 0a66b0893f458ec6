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
from fairshare.rules.money import ROUNDING_RULE, dollars_text, share_pct

__all__ = [
    "MANIFEST_FORMAT",
    "cents_text",
    "display_path",
    "manifest",
    "pct_text",
    "set_aside_frame",
    "set_aside_manifest",
    "set_aside_summary",
    "set_aside_text",
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


def pct_text(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """``part`` as a percent of ``whole`` (both non-negative integer cents) to 2 decimals, half up, exactly.

    Integer arithmetic throughout, so the text never depends on float rounding; blank where ``whole`` is 0.
    """
    q = (part * 20000 + whole) // (2 * whole)
    return pl.when(whole > 0).then((q // 100).cast(pl.String) + "." + (q % 100).cast(pl.String).str.zfill(2))


def set_aside_frame(run: Run) -> pl.DataFrame:
    """Per entity, each set-aside and its share of the total (``<id>``, ``<id>_pct``) and, when any is
    carved out, ``after_set_asides`` (the total less them); integer cents, zero columns without set-asides."""
    data: dict[str, Any] = {}
    carved = np.zeros(run.table.n, dtype=np.int64)
    for sa, cents in zip(run.plan.set_asides, run.set_aside_cents, strict=True):
        data[sa.id] = cents
        if sa.carved:
            carved = carved + cents
    if any(sa.carved for sa in run.plan.set_asides):
        data["after_set_asides"] = run.total_cents - carved
    return pl.DataFrame(data)


def set_aside_summary(run: Run) -> dict[str, str | int]:
    """Per set-aside: its statewide total, that total as a % of all entities' totals, how many entities
    receive one and the lowest and highest share of an entity's total among them (percent, 2 decimals)."""
    out: dict[str, str | int] = {}
    total = int(run.total_cents.sum())
    for sa, cents in zip(run.plan.set_asides, run.set_aside_cents, strict=True):
        got = np.flatnonzero(cents > 0)
        out[sa.id] = dollars_text(int(cents.sum()))
        out[sa.id + "_pct"] = share_pct(int(cents.sum()), total)
        out[sa.id + "_recipients"] = len(got)
        out[sa.id + "_min_pct"] = out[sa.id + "_max_pct"] = ""
        if len(got):
            ratio = cents[got] / run.total_cents[got]
            low, high = got[int(np.argmin(ratio))], got[int(np.argmax(ratio))]
            out[sa.id + "_min_pct"] = share_pct(int(cents[low]), int(run.total_cents[low]))
            out[sa.id + "_max_pct"] = share_pct(int(cents[high]), int(run.total_cents[high]))
    return out


def set_aside_text(run: Run, total: str = "total") -> list[pl.Expr]:
    """The text columns of :func:`set_aside_frame` given a frame that holds it and ``total`` (cents)."""
    out: list[pl.Expr] = []
    for sa in run.plan.set_asides:
        out += [cents_text(pl.col(sa.id)).alias(sa.id), pct_text(pl.col(sa.id), pl.col(total)).alias(sa.id + "_pct")]
    if any(sa.carved for sa in run.plan.set_asides):
        out.append(cents_text(pl.col("after_set_asides")).alias("after_set_asides"))
    return out


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
    """One row per entity: entity_id, name, one column per component, total, per_pupil (blank if no pupils),
    then any set-asides (see :func:`set_aside_frame`)."""
    frame = _cents_frame(run).with_columns(pl.Series("per_pupil", run.per_pupil_cents))
    if run.plan.set_asides:
        frame = pl.concat([frame, set_aside_frame(run)], how="horizontal")
    money_cols = [*run.line_ids, "total"]
    out = frame.select(
        "entity_id",
        "name",
        *[cents_text(pl.col(c)).alias(c) for c in money_cols],
        pl.when(pl.col("per_pupil") >= 0).then(cents_text(pl.col("per_pupil"))).otherwise(None).alias("per_pupil"),
        *set_aside_text(run),
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
        **({"set_asides": set_aside_manifest(run)} if run.plan.set_asides else {}),
        "budget": None if run.budget_cents is None else dollars_text(run.budget_cents),
        "solved": {pid: round(v, 10) for pid, v in run.solved.items()},
        "parameters": {
            pid: {"value": p.value, "effective": p.effective.isoformat()} for pid, p in sorted(plan.params.items())
        },
        "rounding_rule": ROUNDING_RULE,
        "notes": run.notes,
        "outputs": {str(p.relative_to(out_dir)): sha256_file(p) for p in sorted(outputs)},
    }


def set_aside_manifest(run: Run) -> dict[str, Any]:
    return {
        sa.id: {
            "label": sa.label,
            "paid_to": sa.paid_to,
            "alternative_to": sa.alternative_to,
            "total": dollars_text(int(cents.sum())),
        }
        for sa, cents in zip(run.plan.set_asides, run.set_aside_cents, strict=True)
    }


def write_manifest(run: Run, formula_path: Path | None, outputs: list[Path], out_dir: Path) -> Path:
    path = out_dir / "manifest.json"
    path.write_text(
        json.dumps(manifest(run, formula_path, outputs, out_dir), indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return path

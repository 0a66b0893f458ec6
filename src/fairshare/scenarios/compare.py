"""Compare two runs over the same entities: per-entity differences, winners and losers, lines.

A comparison joins the runs on entity id; an entity present in only one run is
listed, never dropped. Components are compared by id; a component that exists
in one formula only counts as zero in the other and is flagged in the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare.report.outputs import cents_text
from fairshare.rules.evaluate import Run
from fairshare.rules.money import dollars_text

__all__ = ["Comparison", "compare_runs", "write_comparison"]


@dataclass(frozen=True)
class Comparison:
    entities: pl.DataFrame  # one row per entity id (outer join), cents columns
    components: pl.DataFrame  # one row per component id
    label_a: str
    label_b: str

    def summary(self) -> dict[str, Any]:
        both = self.entities.filter(pl.col("in_a") & pl.col("in_b"))
        change = both["change"].to_numpy()
        gains, losses = change[change > 0], change[change < 0]
        row_max = both.sort(["change", "entity_id"], descending=[True, False]).head(1)
        row_min = both.sort(["change", "entity_id"], descending=[False, False]).head(1)
        return {
            "a": self.label_a,
            "b": self.label_b,
            "entities_compared": both.height,
            "only_in_a": self.entities.filter(~pl.col("in_b"))["entity_id"].to_list(),
            "only_in_b": self.entities.filter(~pl.col("in_a"))["entity_id"].to_list(),
            "winners": len(gains),
            "losers": len(losses),
            "unchanged": int(both.height - len(gains) - len(losses)),
            "total_a": dollars_text(int(both["total_a"].sum())),
            "total_b": dollars_text(int(both["total_b"].sum())),
            "gained": dollars_text(int(gains.sum())),
            "lost": dollars_text(int(losses.sum())),
            "largest_gain": None
            if not len(gains)
            else {"entity_id": row_max["entity_id"][0], "change": dollars_text(int(row_max["change"][0]))},
            "largest_loss": None
            if not len(losses)
            else {"entity_id": row_min["entity_id"][0], "change": dollars_text(int(row_min["change"][0]))},
        }


def _frame(run: Run, suffix: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "entity_id": run.table.ids.astype(str),
            f"name_{suffix}": run.table.names.astype(str),
            f"pupils_{suffix}": run.pupils.astype(float),
            f"total_{suffix}": run.total_cents,
            f"per_pupil_{suffix}": run.per_pupil_cents,
        }
    ).with_columns(  # -1 marks "no pupils": make it missing, never a number
        pl.when(pl.col(f"per_pupil_{suffix}") >= 0).then(pl.col(f"per_pupil_{suffix}")).alias(f"per_pupil_{suffix}")
    )


def compare_runs(a: Run, b: Run, label_a: str = "A", label_b: str = "B") -> Comparison:
    fa = _frame(a, "a").with_columns(pl.lit(True).alias("in_a"))
    fb = _frame(b, "b").with_columns(pl.lit(True).alias("in_b"))
    joined = fa.join(fb, on="entity_id", how="full", coalesce=True, maintain_order="left_right")
    joined = (
        joined.with_columns(
            pl.col("in_a").fill_null(False),
            pl.col("in_b").fill_null(False),
            pl.coalesce("name_a", "name_b").alias("name"),
        )
        .with_columns(
            pl.when(pl.col("in_a") & pl.col("in_b")).then(pl.col("total_b") - pl.col("total_a")).alias("change"),
            (pl.col("per_pupil_b") - pl.col("per_pupil_a")).alias("per_pupil_change"),
        )
        .with_columns(
            pl.when(pl.col("total_a") != 0).then(pl.col("change") / pl.col("total_a") * 100).alias("change_pct"),
        )
    )
    ids = sorted(
        set(a.line_ids) | set(b.line_ids),
        key=lambda c: a.line_ids.index(c) if c in a.line_ids else len(a.line_ids) + b.line_ids.index(c),
    )
    rows = []
    for cid in ids:
        ta = int(a.column(cid).sum()) if cid in a.line_ids else 0
        tb = int(b.column(cid).sum()) if cid in b.line_ids else 0
        rows.append(
            {
                "component": cid,
                "in_a": cid in a.line_ids,
                "in_b": cid in b.line_ids,
                "total_a": ta,
                "total_b": tb,
                "change": tb - ta,
            }
        )
    comps = pl.DataFrame(
        rows,
        schema={
            "component": pl.String,
            "in_a": pl.Boolean,
            "in_b": pl.Boolean,
            "total_a": pl.Int64,
            "total_b": pl.Int64,
            "change": pl.Int64,
        },
    )
    return Comparison(joined, comps, label_a, label_b)


def write_comparison(cmp: Comparison, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    e = cmp.entities
    money = ["total_a", "total_b", "change", "per_pupil_a", "per_pupil_b", "per_pupil_change"]
    ent = e.select(
        "entity_id",
        "name",
        "in_a",
        "in_b",
        *[cents_text(pl.col(c)).alias(c) for c in money],
        pl.col("change_pct").round(2),
    )
    paths = [out_dir / "comparison.csv", out_dir / "components.csv", out_dir / "summary.json"]
    ent.write_csv(paths[0])
    cmp.components.select(
        "component", "in_a", "in_b", *[cents_text(pl.col(c)).alias(c) for c in ("total_a", "total_b", "change")]
    ).write_csv(paths[1])
    summary = cmp.summary()
    summary["change_quartiles_pct"] = _quartiles(e)
    paths[2].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return paths


def _quartiles(e: pl.DataFrame) -> list[float] | None:
    pct = e["change_pct"].drop_nulls().to_numpy()
    if not len(pct):
        return None
    return [round(float(x), 2) for x in np.percentile(pct, [0, 25, 50, 75, 100])]

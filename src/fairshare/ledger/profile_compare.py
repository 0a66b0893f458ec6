"""Each profiled district against its comparable districts, through the benchmark engine.

The profile's ``compare:`` section becomes a :class:`BenchmarkModel` built in code: one unit per district
in the compared fiscal year (by default the ledger's latest), the peer variables (``students`` or
enrollment attributes) and match columns as stated, and as measures operating spending per pupil, per
pupil by operating category and the share charged to school sites. The engine picks the k nearest
districts and gives each measure the peers' median, quartiles, the gap and the percentile.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from fairshare.ledger.benchmark import Benchmark, run_benchmark
from fairshare.ledger.benchmark_outputs import rule_text
from fairshare.ledger.benchmark_spec import BenchmarkModel, PeerRule, PeerVar, Quantity, UnitColumns
from fairshare.ledger.profile import Profile
from fairshare.ledger.profile_outputs import CATEGORY_LABELS

__all__ = ["compare_profile", "comparison_section"]


def _qid(column: str) -> str:
    """A quantity id for a table column (letters, digits, underscores)."""
    q = re.sub(r"\W", "_", column)
    return q if re.match(r"^[A-Za-z_]", q) else f"v_{q}"


def compare_profile(p: Profile) -> Benchmark | None:
    c = p.spec.compare
    if c is None:
        return None
    year = c.fiscal_year or int(p.districts["fiscal_year"].max())  # type: ignore[arg-type]
    attrs = list(p.spec.enrollment.attributes)
    d = (
        p.districts.filter(pl.col("fiscal_year") == year)
        .join(p.attributes.select("district", "fiscal_year", *attrs), on=["district", "fiscal_year"], how="left")
        .with_columns(per_pupil=pl.col("per_pupil_cents") / 100)
        .with_columns(pl.col(f"{k}_pp_cents").truediv(100).alias(f"{k}_pp") for k in p.spec.operating)
    )
    quantities: dict[str, Quantity] = {
        "per_pupil": Quantity(
            label="Operating spending per pupil", unit="dollars per pupil", column="per_pupil", digits=0
        ),
    }
    for k in p.spec.operating:
        quantities[f"{k}_pp"] = Quantity(
            label=f"{CATEGORY_LABELS[k]} per pupil", unit="dollars per pupil", column=f"{k}_pp", digits=0
        )
    measures = list(quantities)
    if p.spec.locations is not None:
        quantities["school_share_pct"] = Quantity(
            label="Share charged to school sites", unit="% of operating spending", column="school_share_pct"
        )
        measures.append("school_share_pct")
    quantities["students"] = Quantity(label="Pupils", unit="students", column="students", digits=0)
    for a in attrs:
        quantities.setdefault(_qid(a), Quantity(label=a, unit="as in the enrollment table", column=a, digits=2))
    spec = BenchmarkModel(
        benchmark=p.spec.profile,
        label=f"{p.spec.label}: comparable districts",
        description=c.note,
        reference=p.spec.enrollment.reference,
        units=UnitColumns(id="district", name="district"),
        quantities=quantities,
        measures=measures,
        peers=PeerRule(
            k=c.k,
            variables={
                ("students" if v == "students" else _qid(v)): PeerVar(weight=w.weight, scale=w.scale)
                for v, w in c.variables.items()
            },
            match=list(c.match),
        ),
        targets=sorted(d["district"].to_list()),
    )
    return run_benchmark(spec, d, f"the profile's districts, FY{year}")


def _money(x: float | None) -> str:
    if x is None or x != x:
        return "—"
    return f"${round(x):,}"


def comparison_section(result: Benchmark, year: int) -> dict[str, Any]:
    """What the report shows: the rule in words, and per district its peers and each measure."""
    peers = result.peers
    targets = []
    for unit in result.targets:
        mine = peers.filter(pl.col("unit") == unit).sort("rank")
        rows = []
        for r in result.comparison.filter(pl.col("unit") == unit).iter_rows(named=True):
            pct = r["measure"] == "school_share_pct"
            fmt = (lambda x: "—" if x is None else f"{x:.1f} %") if pct else _money
            rows.append(
                {
                    "label": r["label"],
                    "value": fmt(r["value"]),
                    "median": fmt(r["peer_median"]),
                    "range": f"{fmt(r['peer_p25'])} – {fmt(r['peer_p75'])}" if r["peers"] else "—",
                    "gap": "—" if r["gap_pct"] is None else f"{r['gap_pct'] + 0.0:+.1f} %",
                }
            )
        targets.append(
            {
                "name": unit,
                "peers": [f"{x['peer_name']} (distance {x['distance']:.2f})" for x in mine.iter_rows(named=True)]
                or ["none"],
                "measures": rows,
            }
        )
    return {"year": year, "rule": rule_text(result.spec, result.eligible), "targets": targets}

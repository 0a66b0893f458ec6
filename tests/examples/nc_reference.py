"""An independent, row-by-row reading of the NC simulator's arithmetic (the issue's definitions).

It shares nothing with the engine but the input file, so agreement to the cent means the
fairshare formulas compute what the simulator computes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

TIER_DEFAULT = {
    "sld": 1,
    "sli": 1,
    "ohi": 1,
    "aut": 2,
    "id": 2,
    "dd": 2,
    "md": 2,
    "ed": 3,
    "hi": 3,
    "oi": 3,
    "vi": 3,
    "db": 3,
    "tbi": 3,
}


@dataclass(frozen=True)
class Setting:
    base: float
    poverty: float
    conc_poverty: float
    conc_range: tuple[float, float]
    sped: tuple[float, float, float]
    el: float
    el_addon: float
    el_escalating: tuple[float, float] | None  # (lo, hi) for escalating; None = tiered
    el_threshold: float  # tiered add-on threshold
    rural: float
    rural_range: tuple[float, float]
    gifted: float


# the table (weights in % of B)
SETTINGS = {
    "initial": Setting(8000, 0.25, 0.05, (0.40, 0.80), (0.20, 0.50, 1.00), 0.15, 0.03, None, 0.09, 0.05, (1, 10), 0.02),
    "default": Setting(8000, 0.25, 0.05, (0.20, 0.60), (0.20, 0.50, 1.00), 0.15, 0.03, None, 0.09, 0.05, (1, 15), 0.02),
    "higher-poverty": Setting(
        8000, 0.35, 0.07, (0.40, 0.80), (0.20, 0.50, 1.00), 0.15, 0.03, None, 0.09, 0.05, (1, 15), 0.02
    ),
    "higher-base": Setting(
        9000, 0.25, 0.05, (0.20, 0.60), (0.20, 0.50, 1.00), 0.15, 0.03, None, 0.09, 0.05, (1, 15), 0.02
    ),
    "higher-sped-el": Setting(
        8000, 0.25, 0.05, (0.20, 0.60), (0.25, 0.75, 1.15), 0.20, 0.05, (0.05, 0.15), 0.09, 0.05, (1, 15), 0.02
    ),
}


def ramp(x: float, lo: float, hi: float) -> float:
    if x <= lo:
        return 0.0
    if x >= hi:
        return 1.0
    return (x - lo) / (hi - lo)


def lea_totals(path: Path, s: Setting) -> dict[str, tuple[dict[str, float], float]]:
    """dist_id -> (lines in dollars, current_total)."""
    out = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            f = {k: float(v) for k, v in row.items() if k not in ("dist_id", "district", "charter_status") and v != ""}
            b, adm = s.base, f["adm"]
            tiers = [sum(f[f"swd_{c}"] for c, t in TIER_DEFAULT.items() if t == k) for k in (1, 2, 3)]
            el_pct = f["el_adm"] / adm
            if s.el_escalating is None:
                addon = s.el_addon if el_pct >= s.el_threshold else 0.0
            else:
                addon = s.el_addon * ramp(el_pct, *s.el_escalating)
            if "sq_mi" in f:
                dens = adm / f["sq_mi"]
                lo, hi = s.rural_range
                adj = 0.0 if dens > hi else 1.0 if dens <= lo else (hi - dens) / (hi - lo)
                rural = adm * b * s.rural * adj
            else:
                rural = 0.0
            lines = {
                "base": b * adm,
                "poverty": f["ed_adm"] * b * (s.poverty + s.conc_poverty * ramp(f["ed_pct"], *s.conc_range)),
                "sped": sum(n * b * w for n, w in zip(tiers, s.sped, strict=True)),
                "el": f["el_adm"] * b * (s.el + addon),
                "rural": rural,
                "gifted": f["aig_enroll"] * s.gifted * b,
            }
            out[row["dist_id"]] = (lines, f["current_total"])
    return out


def cents(dollars: float) -> int:
    return int(Decimal(repr(dollars)).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP))

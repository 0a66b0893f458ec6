"""Per-pupil expenditure (PPE) by unit and what is computed from it, vectorised over whole columns.

* **PPE** = the unit's spending ÷ its enrollment (or its per-pupil figure as given), plus central-office
  spending per pupil when the spec allocates it: a district-level amount ÷ the district's enrollment,
  the same for every unit of the district.
* **Rank and percentile**: rank 1 = the highest PPE; equal PPEs share the better (smaller) rank; the
  percentile is the share of units with a PPE at or below the unit's (100 for the highest) — in the
  state pool and within the unit's district.
* **Groups**: per group the number of units, their enrollment, the mean PPE (each unit counts once),
  the enrollment-weighted mean (Σ PPE × enrollment ÷ Σ enrollment) and each one's gap in percent
  against the reference group: (group − reference) ÷ reference × 100.
* **Fitted line**: enrollment-weighted least squares of PPE on a variable (each unit weighs its
  enrollment); the weighted R² says how much of PPE's weighted variance the line accounts for.
* **Quadrants**: PPE and the outcome split at their medians over the units with an outcome (each unit
  counts once); a value at the median counts as "higher".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "QUADRANTS",
    "Fit",
    "GroupRow",
    "Quadrants",
    "central_per_pupil",
    "district_total",
    "group_rows",
    "quadrants",
    "rank_within",
    "wls_fit",
]

QUADRANTS = (
    "higher spending, higher outcome",
    "higher spending, lower outcome",
    "lower spending, higher outcome",
    "lower spending, lower outcome",
)


def district_total(values: np.ndarray, district: np.ndarray) -> np.ndarray:
    """Σ of ``values`` over each row's district, on every row; NaN where any row of the district is NaN."""
    codes, inverse = np.unique(district.astype(str), return_inverse=True)
    k = len(codes)
    total = np.bincount(inverse, weights=np.nan_to_num(values), minlength=k)
    holes = np.bincount(inverse, weights=np.isnan(values).astype(float), minlength=k) > 0
    return np.where(holes, np.nan, total)[inverse]


def central_per_pupil(amount: np.ndarray, district_enrollment: np.ndarray) -> np.ndarray:
    """A district-level amount ÷ the district's enrollment; NaN where either is missing or the enrollment is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            district_enrollment > 0, amount / np.where(district_enrollment > 0, district_enrollment, 1), np.nan
        )


def rank_within(
    values: np.ndarray, keep: np.ndarray, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank (1 = highest, ties share the better rank), percentile (% at or below, itself included) and the
    number of units compared, among the ``keep`` units (of the same group when ``groups`` is given);
    rank and count 0 and percentile NaN elsewhere."""
    n = len(values)
    rank = np.zeros(n, dtype=np.int64)
    pct = np.full(n, np.nan)
    count = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return rank, pct, count
    if groups is None:
        g = np.zeros(len(idx), dtype=np.int64)
    else:
        g = np.unique(groups[idx].astype(str), return_inverse=True)[1]
    v = values[idx]
    sizes = np.bincount(g)
    start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    order = np.lexsort((v, g))  # by group, then ascending value
    sg, sv = g[order], v[order]
    new_run = np.r_[True, (sg[1:] != sg[:-1]) | (sv[1:] != sv[:-1])]
    run_id = np.cumsum(new_run) - 1
    run_end = np.r_[np.flatnonzero(new_run)[1:], len(order)] - 1  # last position of each run of equal values
    at_or_below = np.empty(len(idx), dtype=np.int64)
    at_or_below[order] = run_end[run_id] - start[sg] + 1
    total = sizes[g]
    rank[idx] = total - at_or_below + 1  # 1 + the number of units strictly above
    pct[idx] = at_or_below * 100.0 / total
    count[idx] = total
    return rank, pct, count


@dataclass(frozen=True)
class GroupRow:
    group: str
    label: str
    reference: bool
    units: int
    enrollment: float
    mean: float
    weighted_mean: float
    gap_pct: float
    weighted_gap_pct: float


def group_rows(
    ppe: np.ndarray,
    enrollment: np.ndarray,
    group: np.ndarray,
    labels: dict[str, str],
    reference: str,
) -> list[GroupRow]:
    """One row per declared group (in the spec's order), over the units whose ``group`` is that id."""
    stats: dict[str, tuple[int, float, float, float]] = {}
    for gid in labels:
        m = group == gid
        units = int(m.sum())
        enr = float(enrollment[m].sum())
        mean = float(ppe[m].mean()) if units else np.nan
        wmean = float((ppe[m] * enrollment[m]).sum() / enr) if enr > 0 else np.nan
        stats[gid] = (units, enr, mean, wmean)
    ref = stats.get(reference, (0, 0.0, np.nan, np.nan))

    def gap(x: float, r: float) -> float:
        return (x - r) / r * 100.0 if np.isfinite(x) and np.isfinite(r) and r != 0 else np.nan

    return [
        GroupRow(gid, labels[gid], gid == reference, u, e, m, w, gap(m, ref[2]), gap(w, ref[3]))
        for gid, (u, e, m, w) in stats.items()
    ]


@dataclass(frozen=True)
class Fit:
    """PPE = intercept + slope × x, by enrollment-weighted least squares over ``n`` units."""

    x: str
    intercept: float
    slope: float
    r2: float
    n: int


def wls_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, name: str) -> Fit | None:
    """Weighted least squares of ``y`` on ``x`` with weights ``w`` (rows with a NaN are left out);
    None with fewer than two distinct x values."""
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    x, y, w = x[ok], y[ok], w[ok]
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    sw = w.sum()
    mx, my = (w * x).sum() / sw, (w * y).sum() / sw
    sxx = (w * (x - mx) ** 2).sum()
    sxy = (w * (x - mx) * (y - my)).sum()
    syy = (w * (y - my) ** 2).sum()
    slope = sxy / sxx
    r2 = float(sxy * sxy / (sxx * syy)) if syy > 0 else 1.0
    return Fit(name, float(my - slope * mx), float(slope), r2, len(x))


@dataclass(frozen=True)
class Quadrants:
    label: np.ndarray  # object: one of QUADRANTS, '' without an outcome
    ppe_median: float
    outcome_median: float
    n: int


def quadrants(ppe: np.ndarray, outcome: np.ndarray, keep: np.ndarray) -> Quadrants:
    """Each kept unit with an outcome in a quadrant of spending × outcome, split at the medians."""
    ok = keep & np.isfinite(outcome) & np.isfinite(ppe)
    label = np.full(len(ppe), "", dtype=object)
    if not ok.any():
        return Quadrants(label, np.nan, np.nan, 0)
    pm, om = float(np.median(ppe[ok])), float(np.median(outcome[ok]))
    hi_p, hi_o = ppe >= pm, outcome >= om
    code = np.where(hi_p, 0, 2) + np.where(hi_o, 0, 1)
    label[ok] = np.array(QUADRANTS, dtype=object)[code[ok]]
    return Quadrants(label, pm, om, int(ok.sum()))

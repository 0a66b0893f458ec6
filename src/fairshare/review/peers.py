"""Similar units statewide: the k nearest by a weighted, standardised distance, and how a unit's PPE compares.

* **Variables**: each peer variable is taken as is, or as its natural log (``scale: log``, e.g. enrollment,
  so that 200 and 400 pupils are as far apart as 1,000 and 2,000), then standardised over the units that
  can have peers: z = (x − mean) ÷ standard deviation (population SD; a variable with SD 0 adds nothing),
  or left unscaled (``standardise: none``).
* **Distance** between units i and j: √(Σ weight × (z_i − z_j)²) over the variables. With a type rule,
  ``exact`` makes units of another type ineligible; ``penalty`` adds the penalty to the distance when
  the types differ. Without ``same_district`` a unit's own district's units are ineligible.
* **The k nearest**: smallest distance first; equal distances by unit id. A unit never is its own peer;
  a unit with fewer than k eligible units has only those.
* **Against the peers**: the peers' median PPE; the unit's PPE percentile among its peers (% of its peers
  spending at or below it); the gap (PPE − median) ÷ median × 100, rounded to 0.1 before it is compared
  with the thresholds so the words and the flag agree: at or beyond ``below`` under the median → "spends
  X % less than its peers' median — discuss the allocation strategy"; at or beyond ``above`` over it →
  "spends X % more than its peers' median — discuss resource use and efficiency".

Distances are computed block by block (about four million pairs at a time) with NumPy — with an exact type
match, type by type — so 9,000 units take a second or two and little memory; units are in id order, so the
order of the input never changes a result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PeerResult", "flag_words", "nearest", "peer_stats", "standardise"]

#: pairs of units per block of the distance computation
BLOCK_PAIRS = 4_000_000


def standardise(
    values: dict[str, np.ndarray], log: dict[str, bool], ready: np.ndarray, method: str
) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """The units × variables matrix (log first where asked, then z-scores over ``ready`` units) and each
    variable's centre and scale."""
    cols: list[np.ndarray] = []
    stats: dict[str, tuple[float, float]] = {}
    for name, x in values.items():
        x = np.asarray(x, dtype=float)
        if log[name]:
            with np.errstate(divide="ignore", invalid="ignore"):
                x = np.log(x)
        if method == "z_score" and ready.any():
            centre = float(x[ready].mean())
            sd = float(x[ready].std())
        else:
            centre, sd = 0.0, 1.0
        z = (x - centre) / sd if sd > 0 else np.zeros(len(x))
        cols.append(z)
        stats[name] = (centre, sd)
    return np.column_stack(cols) if cols else np.zeros((len(ready), 0)), stats


def nearest(
    z: np.ndarray,
    weights: np.ndarray,
    ready: np.ndarray,
    k: int,
    *,
    types: np.ndarray | None = None,
    type_rule: str | None = None,
    penalty: float = 0.0,
    district: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For every unit, its k nearest ``ready`` units (indexes, -1 where none) and their distances (NaN where
    none). Only ``ready`` units get peers. ``district`` given: a unit's own district is ineligible."""
    n = z.shape[0]
    idx = np.full((n, k), -1, dtype=np.int64)
    dist = np.full((n, k), np.nan)
    if k == 0:
        return idx, dist
    tcodes = None if types is None else np.unique(np.asarray(types, dtype=str), return_inverse=True)[1]
    dcodes = None if district is None else np.unique(np.asarray(district, dtype=str), return_inverse=True)[1]
    if tcodes is not None and type_rule == "exact":  # each type on its own: fewer pairs, same result
        for code in np.unique(tcodes[ready]):
            _among(np.flatnonzero(ready & (tcodes == code)), z, weights, k, None, 0.0, dcodes, idx, dist)
    else:
        _among(np.flatnonzero(ready), z, weights, k, tcodes, penalty, dcodes, idx, dist)
    return idx, dist


def _among(
    cand: np.ndarray,
    z: np.ndarray,
    weights: np.ndarray,
    k: int,
    tcodes: np.ndarray | None,
    penalty: float,
    dcodes: np.ndarray | None,
    idx: np.ndarray,
    dist: np.ndarray,
) -> None:
    """Fill ``idx`` and ``dist`` for the units ``cand`` (ascending), each against all of them."""
    m = len(cand)
    if m == 0:
        return
    zc = z[cand]
    block = max(1, BLOCK_PAIRS // m)
    kk = min(k, m)
    for s in range(0, m, block):
        q = cand[s : s + block]
        b = len(q)
        d2 = np.zeros((b, m))
        for v in range(z.shape[1]):
            diff = z[q, v][:, None] - zc[None, :, v]
            d2 += weights[v] * diff * diff
        d = np.sqrt(d2)
        if tcodes is not None:
            d += penalty * (tcodes[q][:, None] != tcodes[cand][None, :])
        if dcodes is not None:
            d[dcodes[q][:, None] == dcodes[cand][None, :]] = np.inf
        d[np.arange(b), np.arange(s, s + b)] = np.inf  # never its own peer
        kth = np.partition(d, kk - 1, axis=1)[:, kk - 1]
        rows, cols = np.nonzero((d <= kth[:, None]) & np.isfinite(d))
        order = np.lexsort((cols, d[rows, cols], rows))  # by row, then distance, then id order
        rows, cols = rows[order], cols[order]
        pos = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        keep = pos < kk
        idx[q[rows[keep]], pos[keep]] = cand[cols[keep]]
        dist[q[rows[keep]], pos[keep]] = d[rows[keep], cols[keep]]


@dataclass(frozen=True)
class PeerResult:
    """Each unit against its peers (NaN / 0 for a unit without peers)."""

    index: np.ndarray  # units × k, -1 where none
    distance: np.ndarray  # units × k
    count: np.ndarray
    median: np.ndarray  # the peers' median PPE
    percentile: np.ndarray  # % of peers spending at or below the unit
    gap_pct: np.ndarray  # (PPE − median) ÷ median × 100
    flag: np.ndarray  # 'below', 'above', 'near', or 'no_peers'
    flag_text: np.ndarray
    scaling: dict[str, tuple[float, float]]


def peer_stats(ppe: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: the number of peers, their median PPE, the unit's percentile among them and its gap in %."""
    n = len(ppe)
    has = idx >= 0
    count = has.sum(axis=1)
    values = np.where(has, ppe[np.maximum(idx, 0)], np.nan)
    median = np.full(n, np.nan)
    some = count > 0
    if some.any():
        median[some] = np.nanmedian(values[some], axis=1)
    pct = np.full(n, np.nan)
    at_or_below = (has & (values <= ppe[:, None])).sum(axis=1)
    pct[some] = at_or_below[some] * 100.0 / count[some]
    gap = np.full(n, np.nan)
    ok = some & (median > 0)
    gap[ok] = (ppe[ok] - median[ok]) / median[ok] * 100.0
    return count, median, pct, gap


def flag_words(gap: np.ndarray, below: float, above: float, no_peers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flag and its words for each unit; ``no_peers`` holds why a unit has none ('' when it has)."""
    n = len(gap)
    flag = np.full(n, "no_peers", dtype=object)
    text = np.array([str(x) for x in no_peers], dtype=object)
    for i in np.flatnonzero(np.isfinite(gap)):
        g = round(float(gap[i]), 1) + 0.0
        size = f"{abs(g):.1f} %"
        if g <= -below:
            flag[i], text[i] = "below", f"spends {size} less than its peers' median — discuss the allocation strategy"
        elif g >= above:
            flag[i], text[i] = (
                "above",
                f"spends {size} more than its peers' median — discuss resource use and efficiency",
            )
        else:
            where = "the same as" if g == 0 else f"{size} {'less' if g < 0 else 'more'} than"
            flag[i], text[i] = "near", f"spends {where} its peers' median (within {below:g} % / {above:g} %)"
    return flag, text

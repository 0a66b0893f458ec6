"""A composite need index (``fairshare index``): normalise, weight, rescale and rank schools.

The computation is NumPy over whole columns, with student rows aggregated to schools in DuckDB:

1. **Normalise** each indicator over the rows of the table (schools, or students), after its
   direction is applied so that a higher value always means more need (``less_is_more_need``
   negates the column). ``zscore``: (x - mean) / standard deviation (population, ddof 0);
   ``percentile``: the mid-rank percentile rank (values below + half the values equal) / n, in
   (0, 1); ``minmax``: (x - min) / (max - min), in [0, 1]. Statistics come from the known
   values only. A column with one value everywhere normalises to 0 (z-score) or 0.5.
2. **Fill blanks** by the indicator's stated policy: ``error`` (each blank is a located
   problem), ``mean`` / ``median`` (the raw mean or median of the known values, normalised on
   the same scale), ``exclude_indicator`` (the row's remaining weights are rescaled to sum to 1).
3. **Combine**: each row's composite is the weighted mean of its normalised values (weights
   divided by their sum). Student level: a school's figure is the mean of its students'
   composites, or the share of its students whose score (composites rescaled onto the range
   across all students) is strictly above the cut.
4. **Rescale** the schools' figures ``r`` onto ``[min, max]``: ``score = a * r + b`` with
   ``a = (max - min) / (r_max - r_min)``, ``b = min - a * r_min`` (all schools equal: every score
   is the range's midpoint; a spread below 1e-9 of the figures' size counts as none). **Rank**:
   1 = highest score; scores equal to the 6 decimals published rank by school id (a threshold
   is also judged on the published score).
5. **Decompose**: ``score = offset + sum_k contribution_k``. ``T_k`` is the school's mean of
   (effective weight x normalised value) of indicator k, so ``r = sum_k T_k``; the offset is the
   average score over the schools and ``contribution_k = a * (T_k - the schools' mean T_k)``: how
   far indicator k puts the school above (+) or below (-) the average school. For
   ``share_above`` each counted student's 1/n is attributed to the indicators in proportion to
   effective weight x (normalised value - the indicator's lowest normalised value).

Rows are put in a canonical order (school id, then the values) before anything is summed, and
DuckDB runs on one thread, so permuting the input rows gives identical results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from fairshare.errors import FormulaError, Problem
from fairshare.programs.need_index_spec import IndexData, IndexSpec, load_index_data, load_index_spec

__all__ = [
    "DIGITS",
    "SAME",
    "IndexResult",
    "Scored",
    "SensitivityRow",
    "build_index",
    "normalise",
    "run_index",
    "score_schools",
]


#: decimals of the published score: ranks, ties and a threshold are judged on it
DIGITS = 6
#: a spread of school figures below this (relative to their size) is float noise: no spread
SAME = 1e-9


@dataclass(frozen=True)
class Scored:
    """Schools scored under one set of weights (schools in id order)."""

    raw: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    #: schools x indicators, from the average school: score = offset + contributions.sum(axis=1)
    contributions: np.ndarray
    #: ``a`` of score = a * raw + b
    scale_factor: float
    #: the schools' average score
    offset: float
    eligible: np.ndarray | None


@dataclass(frozen=True)
class SensitivityRow:
    indicator: str
    change: float
    weight: float
    new_weight: float
    spearman: float
    max_rank_shift: int
    moved: int
    entering: list[str]
    leaving: list[str]


@dataclass(frozen=True)
class IndexResult:
    spec: IndexSpec
    data: IndexData
    #: school ids, sorted; every per-school array below follows this order
    ids: np.ndarray
    names: np.ndarray
    #: students per school (student level) or None
    students: np.ndarray | None
    #: schools x indicators: the raw value (student level: the mean over students with a value)
    raw_values: np.ndarray
    #: blanks filled or excluded by a missing policy, per school
    filled_cells: np.ndarray
    base: Scored
    sensitivity: list[SensitivityRow]
    #: per indicator: the statistics normalisation used and the cells filled
    stats: dict[str, dict[str, float | int]]
    #: the eligibility cut on the score scale (None without eligibility)
    cut_score: float | None
    near_cut: np.ndarray
    #: per school: in how many sensitivity cases its eligibility differs from the base
    flips: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def order(self) -> np.ndarray:
        """School positions from rank 1 down."""
        return np.argsort(self.base.rank, kind="stable")


# ------------------------------------------------------------ computation


def normalise(x: np.ndarray, method: str, direction: str, known: np.ndarray | None = None) -> np.ndarray:
    """``x`` normalised so that higher = more need; statistics from ``known`` (default: x's non-NaN values).

    NaN stays NaN. See the module docstring for each method."""
    sign = 1.0 if direction == "more_is_more_need" else -1.0
    y = sign * np.asarray(x, dtype=np.float64)
    base = np.asarray(x, dtype=np.float64) if known is None else np.asarray(known, dtype=np.float64)
    ref = sign * base[~np.isnan(base)]
    blank = np.isnan(y)
    lo, hi = float(ref.min()), float(ref.max())
    if method == "zscore":
        out = (y - ref.mean()) / ref.std() if hi > lo else np.zeros_like(y)
    elif method == "minmax":
        out = (y - lo) / (hi - lo) if hi > lo else np.full_like(y, 0.5)
    elif method == "percentile":
        s = np.sort(ref)
        below = np.searchsorted(s, np.where(blank, 0.0, y), "left")
        upto = np.searchsorted(s, np.where(blank, 0.0, y), "right")
        out = (below + 0.5 * (upto - below)) / len(s)
    else:  # pragma: no cover - the schema allows only the three
        raise ValueError(method)
    return np.where(blank, np.nan, out)


def _prepare(spec: IndexSpec, data: IndexData) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, float | int]]]:
    """Normalised values (NaN where a blank is excluded), the filled mask and each indicator's statistics."""
    n, k_count = data.values.shape
    out = np.empty((n, k_count))
    filled = np.zeros((n, k_count), dtype=bool)
    stats: dict[str, dict[str, float | int]] = {}
    for k, (iid, ind) in enumerate(spec.indicators.items()):
        x = data.values[:, k]
        blank = np.isnan(x)
        known = x[~blank]
        fill = {"mean": known.mean(), "median": np.median(known)}.get(ind.missing) if blank.any() else None
        y = np.where(blank, fill, x) if fill is not None else x
        out[:, k] = normalise(y, ind.normalise, ind.direction, known)
        filled[:, k] = blank
        stats[iid] = {
            "known": int(known.size),
            "filled": int(blank.sum()),
            "mean": float(known.mean()),
            "sd": float(known.std()),
            "median": float(np.median(known)),
            "min": float(known.min()),
            "max": float(known.max()),
        }
        if fill is not None:
            stats[iid]["fill_value"] = float(fill)
    return out, filled, stats


def _group_means(groups: np.ndarray, columns: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-group means of each column (NaN cells ignored) in DuckDB, on one thread; groups 0..n-1 in order."""
    frame = pl.DataFrame(
        {"g": groups.astype(np.int64), **{f"c{j}": columns[:, j] for j in range(columns.shape[1])}},
        nan_to_null=True,
    )
    avgs = ", ".join(f"AVG(c{j}) AS c{j}" for j in range(columns.shape[1]))
    con = duckdb.connect(config={"threads": 1})
    try:
        con.register("rows_", frame)
        got = con.sql(f"SELECT g, {avgs} FROM rows_ GROUP BY g ORDER BY g").fetchnumpy()
    finally:
        con.close()
    out = np.full((n_groups, columns.shape[1]), np.nan)
    g = np.asarray(got["g"], dtype=np.int64)
    for j in range(columns.shape[1]):
        out[g, j] = np.ma.filled(np.ma.asarray(got[f"c{j}"], dtype=np.float64), np.nan)
    return out


def _rescale(r: np.ndarray, lo: float, hi: float, magnitude: float) -> tuple[np.ndarray, float, float]:
    """``r`` onto [lo, hi] across its values: (scores, a, b) with score = a * r + b.

    A spread within float noise of the figures' ``magnitude`` (``SAME`` relative) counts as none:
    every score is then the midpoint."""
    r_min, r_max = float(r.min()), float(r.max())
    if r_max - r_min <= SAME * max(1.0, magnitude):
        return np.full_like(r, (lo + hi) / 2), 0.0, (lo + hi) / 2
    a = (hi - lo) / (r_max - r_min)
    b = lo - a * r_min
    score = np.clip(lo + (hi - lo) * ((r - r_min) / (r_max - r_min)), lo, hi)
    return np.where(r == r_max, hi, np.where(r == r_min, lo, score)), a, b


def score_schools(
    spec: IndexSpec, norm: np.ndarray, groups: np.ndarray, ids: np.ndarray, weights: np.ndarray
) -> Scored:
    """Combine normalised rows with ``weights``, aggregate to schools, rescale, rank, decompose."""
    known = ~np.isnan(norm)
    w = np.where(known, weights[None, :], 0.0)
    omega = w / w.sum(axis=1, keepdims=True)
    terms = np.where(known, omega * np.where(known, norm, 0.0), 0.0)
    lo, hi = spec.scale.min, spec.scale.max
    n = len(ids)
    cut = spec.aggregate.share_above if spec.aggregate is not None else None
    if spec.level == "school":
        per_school = np.empty_like(terms)
        per_school[groups] = terms  # one row per school: put it in school-id order
        r = per_school.sum(axis=1)
    elif cut is None:
        per_school = _group_means(groups, terms, n)
        r = per_school.sum(axis=1)
    else:
        student_score, _, _ = _rescale(terms.sum(axis=1), lo, hi, float(np.abs(terms).max()))
        above = student_score > cut
        shifted = np.where(known, omega * (np.where(known, norm, 0.0) - np.nanmin(norm, axis=0)), 0.0)
        total = shifted.sum(axis=1, keepdims=True)
        share = np.divide(shifted, total, out=omega.copy(), where=total > 0)
        means = _group_means(groups, np.column_stack([share * above[:, None], above.astype(np.float64)]), n)
        per_school, r = means[:, :-1], means[:, -1]
    score, a, b = _rescale(r, lo, hi, float(np.abs(per_school).max()))
    published = np.round(score, DIGITS)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((ids.astype(str), -published))] = np.arange(1, n + 1)
    average = per_school.mean(axis=0)  # the average school's T_k: contributions are measured from it
    offset = b + a * float(average.sum())
    return Scored(r, score, rank, a * (per_school - average), a, offset, _eligible(spec, published, rank))


def _eligible(spec: IndexSpec, published: np.ndarray, rank: np.ndarray) -> np.ndarray | None:
    e = spec.eligibility
    if e is None:
        return None
    if e.top is not None:
        return rank <= e.top
    assert e.threshold is not None
    return published >= e.threshold


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho of two rankings without ties (ranks 1..n)."""
    n = len(a)
    if n < 2:
        return 1.0
    d = (a - b).astype(np.float64)
    return float(1.0 - 6.0 * float((d * d).sum()) / (n * (n * n - 1.0)))


def build_index(spec: IndexSpec, data: IndexData) -> IndexResult:
    """Score, rank and decompose every school; move each weight by -step and +step."""
    ids, groups = np.unique(data.school, return_inverse=True)
    groups = groups.ravel()
    n = len(ids)
    if spec.eligibility is not None and spec.eligibility.top is not None and spec.eligibility.top > n:
        raise FormulaError(
            Problem(
                "invalid_value",
                f"eligibility.top is {spec.eligibility.top} but the data has {n} schools",
                **spec.where("eligibility", "top"),
                hint=f"choose at most {n} schools",
            )
        )
    norm, filled, stats = _prepare(spec, data)
    weights = np.array([ind.weight.value for ind in spec.indicators.values()])
    base = score_schools(spec, norm, groups, ids, weights)
    notes = [
        f"indicator {iid} has one value on every row: it adds the same to every school and changes no rank"
        for iid, s in stats.items()
        if s["min"] == s["max"]
    ]
    if n > 1 and float(base.raw.max()) == float(base.raw.min()):
        notes.append("every school has the same figure: each score is the midpoint of the range")
    rows: list[SensitivityRow] = []
    flips = np.zeros(n, dtype=np.int64)
    step = spec.sensitivity.step
    for k, iid in enumerate(spec.indicators):
        for change in (-step, step):
            w2 = weights.copy()
            w2[k] *= 1.0 + change
            alt = score_schools(spec, norm, groups, ids, w2)
            entering: list[str] = []
            leaving: list[str] = []
            if base.eligible is not None and alt.eligible is not None:
                entering = ids[alt.eligible & ~base.eligible].tolist()
                leaving = ids[base.eligible & ~alt.eligible].tolist()
                flips += alt.eligible != base.eligible
            shift = np.abs(alt.rank - base.rank)
            rows.append(
                SensitivityRow(
                    iid,
                    change,
                    float(weights[k]),
                    float(w2[k]),
                    _spearman(base.rank, alt.rank),
                    int(shift.max()),
                    int((shift > 0).sum()),
                    entering,
                    leaving,
                )
            )
    cut_score, near = _near_cut(spec, base)
    student = spec.level == "student"
    raw_values = _group_means(groups, data.values, n) if student else np.empty_like(data.values)
    if not student:
        raw_values[groups] = data.values
    return IndexResult(
        spec=spec,
        data=data,
        ids=ids,
        names=np.array([data.names[i] for i in ids.tolist()], dtype=object),
        students=np.bincount(groups, minlength=n) if student else None,
        raw_values=raw_values,
        filled_cells=np.bincount(groups, weights=filled.sum(axis=1), minlength=n).astype(np.int64),
        base=base,
        sensitivity=rows,
        stats=stats,
        cut_score=cut_score,
        near_cut=near,
        flips=flips,
        notes=notes,
    )


def _near_cut(spec: IndexSpec, base: Scored) -> tuple[float | None, np.ndarray]:
    """The cut on the score scale and the schools within the stated distance of it."""
    n = len(base.score)
    if base.eligible is None or spec.eligibility is None:
        return None, np.zeros(n, dtype=bool)
    count = int(base.eligible.sum())
    by_rank = np.sort(base.score)[::-1]
    if spec.eligibility.threshold is not None:
        cut = spec.eligibility.threshold
    else:
        cut = float(by_rank[count - 1] + by_rank[count]) / 2 if count < n else float(by_rank[-1])
    if spec.near_cut.ranks is not None:
        r = spec.near_cut.ranks
        return cut, (base.rank > count - r) & (base.rank <= count + r)
    assert spec.near_cut.score is not None
    return cut, np.abs(np.round(base.score, DIGITS) - cut) <= spec.near_cut.score + 1e-12


def run_index(spec_path: str | Path, data_path: str | Path) -> IndexResult:
    """Load the spec and the table, and build the index."""
    spec = load_index_spec(spec_path)
    return build_index(spec, load_index_data(data_path, spec))

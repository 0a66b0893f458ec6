"""The parts of the equity metrics that relate a value to something else: the Theil index split into
between-group and within-group inequality, and the value's relation to wealth (fiscal neutrality) and
to need (progressivity).

Every function takes validated arrays (see :func:`fairshare.review.metrics.check_inputs`): values
``x > 0``, pupil weights ``w > 0``, all finite and of one length. ``s = w / sum(w)`` is each unit's
share of the pupils; every mean, variance, covariance and regression here is weighted by it, so a unit
counts as many times as it has pupils. Nothing here prints or raises for a user's data: a figure that
is not defined for the data (e.g. a correlation with a column that does not vary) is ``None`` with a
note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "GroupTheil",
    "NeedRelation",
    "WealthRelation",
    "need_relation",
    "theil_by_group",
    "theil_terms",
    "wealth_relation",
]

FloatArray = npt.NDArray[np.float64]


def theil_terms(r: FloatArray) -> FloatArray:
    """``r ln r - r + 1`` for ratios ``r = x / mean``: each term is >= 0 and, weighted by pupil shares
    (which make ``sum(s r) = 1``), they add up to the Theil index ``sum(s r ln r)``.

    Written this way no term can come out below zero by rounding, so an equal distribution gives 0
    and never a tiny negative number."""
    return np.maximum(r * np.log(r) - (r - 1.0), 0.0)


@dataclass(frozen=True)
class GroupTheil:
    """One group's part of the Theil decomposition."""

    group: str
    #: units (schools or districts) in the group
    n: int
    #: the group's pupils (sum of weights; the number of units when unweighted)
    pupils: float
    #: the group's share of all pupils
    pupil_share: float
    #: pupil-weighted mean of the value in the group
    mean: float
    #: Theil index within the group, around the group's own mean
    theil: float
    #: the group's part of the within-group component: pupil_share * (mean / overall mean) * theil
    within_contribution: float


def theil_by_group(x: FloatArray, w: FloatArray, groups: npt.NDArray[np.str_]) -> tuple[float, float, list[GroupTheil]]:
    """Between-group and within-group Theil components (exact: total = between + within).

    With ``S_g`` a group's pupil share, ``R_g = mean_g / mean`` and ``T_g`` the Theil index of the
    group around its own mean: ``between = sum_g S_g R_g ln R_g`` and ``within = sum_g S_g R_g T_g``.
    Groups are listed in sorted order of their labels."""
    labels, inv = np.unique(groups, return_inverse=True)
    total = float(w.sum())
    mean = float((w * x).sum()) / total
    pupils = np.bincount(inv, weights=w)
    share = pupils / total
    group_mean = np.bincount(inv, weights=w * x) / pupils
    ratio = group_mean / mean
    between = float((share * theil_terms(ratio)).sum())
    within_group = np.bincount(inv, weights=w * theil_terms(x / group_mean[inv])) / pupils
    contribution = share * ratio * within_group
    counts = np.bincount(inv)
    rows = [
        GroupTheil(
            group=str(labels[k]),
            n=int(counts[k]),
            pupils=float(pupils[k]),
            pupil_share=float(share[k]),
            mean=float(group_mean[k]),
            theil=float(within_group[k]),
            within_contribution=float(contribution[k]),
        )
        for k in range(len(labels))
    ]
    return between, float(contribution.sum()), rows


# ------------------------------------------------------------------ regression helpers


def _mean(a: FloatArray, s: FloatArray) -> float:
    return float((s * a).sum())


def _cov(a: FloatArray, b: FloatArray, s: FloatArray) -> float:
    return float((s * (a - _mean(a, s)) * (b - _mean(b, s))).sum())


def _varies(a: FloatArray) -> bool:
    return bool(a.max() > a.min())


def _correlation(a: FloatArray, b: FloatArray, s: FloatArray) -> float | None:
    """Pupil-weighted Pearson correlation; None when either column is constant."""
    if not (_varies(a) and _varies(b)):
        return None
    r = _cov(a, b, s) / np.sqrt(_cov(a, a, s) * _cov(b, b, s))
    return float(np.clip(r, -1.0, 1.0))


def _slope(y: FloatArray, z: FloatArray, s: FloatArray) -> float | None:
    """Weighted least squares slope of ``y`` on ``z`` (weights ``s``); None when ``z`` is constant."""
    if not _varies(z):
        return None
    return _cov(y, z, s) / _cov(z, z, s)


# ------------------------------------------------------------------ wealth: fiscal neutrality


@dataclass(frozen=True)
class WealthRelation:
    """How the value moves with wealth (fiscal neutrality: ideally not at all)."""

    correlation: float | None
    elasticity: float | None
    notes: dict[str, str]


def wealth_relation(x: FloatArray, w: FloatArray, wealth: FloatArray) -> WealthRelation:
    """Pupil-weighted correlation of value and wealth, and the wealth elasticity: the slope of the
    pupil-weighted least squares regression of ln(value) on ln(wealth) (wealth > 0, checked before)."""
    s = w / w.sum()
    notes: dict[str, str] = {}
    if not _varies(wealth):
        notes["wealth_correlation"] = notes["wealth_elasticity"] = "not defined: wealth is the same for every unit"
    elif not _varies(x):
        notes["wealth_correlation"] = "not defined: the value is the same for every unit"
    return WealthRelation(
        correlation=_correlation(x, wealth, s),
        elasticity=_slope(np.log(x), np.log(wealth), s),
        notes=notes,
    )


# ------------------------------------------------------------------ need: progressivity


@dataclass(frozen=True)
class NeedRelation:
    """How the value moves with need (progressive: more for higher need)."""

    correlation: float | None
    elasticity: float | None
    slope: float | None
    lowest_quartile_mean: float | None
    highest_quartile_mean: float | None
    quartile_ratio: float | None
    notes: dict[str, str]


def need_quartile_means(x: FloatArray, w: FloatArray, need: FloatArray) -> tuple[float, float] | None:
    """Pupil-weighted mean value of the quarter of pupils with the lowest need and of the quarter with
    the highest; None when need does not vary.

    Units are ranked by need and their pupils stacked. The lowest-need quartile is exactly the first
    25% of the pupils: a unit straddling the 25% line counts with the part of its pupils below it.
    Units with equal need form one block, and when a line falls inside a block every unit of the block
    counts with the same fraction of its pupils, so the result does not depend on the order of ties
    (or of rows). The highest-need quartile is the last 25% of the pupils, in the same way."""
    if not _varies(need):
        return None
    _, block = np.unique(need, return_inverse=True)  # blocks in increasing need
    pupils = np.bincount(block, weights=w)
    spend = np.bincount(block, weights=w * x)
    total = float(pupils.sum())
    upto = np.cumsum(pupils)
    before = upto - pupils
    low_part = np.clip(0.25 * total - before, 0.0, pupils) / pupils
    high_part = np.clip(upto - 0.75 * total, 0.0, pupils) / pupils
    low = float((low_part * spend).sum() / (low_part * pupils).sum())
    high = float((high_part * spend).sum() / (high_part * pupils).sum())
    return low, high


def need_relation(x: FloatArray, w: FloatArray, need: FloatArray) -> NeedRelation:
    """Correlation, elasticity (log-log slope, needs need > 0 everywhere), slope of value on need
    (pupil-weighted least squares) and the highest- to lowest-need quartile ratio."""
    s = w / w.sum()
    notes: dict[str, str] = {}
    constant = "not defined: need is the same for every unit"
    if not _varies(need):
        for key in ("correlation", "elasticity", "slope", "lowest_quartile_mean", "highest_quartile_mean"):
            notes[f"need_{key}"] = constant
        notes["need_quartile_ratio"] = constant
    elif not _varies(x):
        notes["need_correlation"] = "not defined: the value is the same for every unit"
    elasticity: float | None = None
    if bool((need <= 0).any()):
        notes.setdefault(
            "need_elasticity",
            f"not defined: need is zero or negative for {int((need <= 0).sum())} unit(s), and the elasticity "
            "takes its logarithm",
        )
    else:
        elasticity = _slope(np.log(x), np.log(need), s)
    quartiles = need_quartile_means(x, w, need)
    return NeedRelation(
        correlation=_correlation(x, need, s),
        elasticity=elasticity,
        slope=_slope(x, need, s),
        lowest_quartile_mean=None if quartiles is None else quartiles[0],
        highest_quartile_mean=None if quartiles is None else quartiles[1],
        quartile_ratio=None if quartiles is None else quartiles[1] / quartiles[0],
        notes=notes,
    )

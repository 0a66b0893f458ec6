"""Equity metrics of a per-pupil figure across schools or districts (``fairshare review metrics``).

The horizontal-equity measures of Berne & Stiefel (*The Measurement of Equity in School Finance*,
1984) and Odden & Picus (*School Finance: A Policy Perspective*): range, restricted range, the federal
range ratio (34 CFR 222.162 and the appendix to its subpart K), coefficient of variation, McLoone and
Verstegen indexes, Gini and Theil indexes (Theil split between and within groups), and, given wealth
or need, fiscal neutrality and progressivity. docs/equity-metrics.md gives each definition.

Weighting: with ``weights`` (pupils) every figure except the minimum, maximum and range is
pupil-weighted — a unit counts as many times as it has pupils, so duplicating a unit is the same as
doubling its weight. Without weights every unit counts once. Percentiles are pupil-weighted inverted
CDF percentiles: P_p is the value of the unit that holds the p-th percentile pupil, i.e. the smallest
value whose cumulative pupil share reaches p% (the federal rule's "percentile of student population
is reached at LEA A"); no interpolation, so the median of four equal-weight units is the second lowest.
Standard deviations are population SDs (divide by the pupils, not pupils - 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fairshare.errors import InputError, Problem, ProblemList
from fairshare.review.metrics_decompose import GroupTheil, need_relation, theil_by_group, theil_terms, wealth_relation

__all__ = [
    "DEFINITIONS",
    "EquityMetrics",
    "check_inputs",
    "equity_metrics",
    "metrics_from_table",
    "weighted_percentile",
]

FloatArray = npt.NDArray[np.float64]

#: metric id -> (optional input it needs, whether it uses the pupil weights, short definition).
#: The order is the order of ``EquityMetrics.as_dict()["metrics"]`` (and of the CLI's JSON).
DEFINITIONS: dict[str, tuple[str | None, bool, str]] = {
    "mean": (None, True, "pupil-weighted mean: sum(w x) / sum(w)"),
    "median": (None, True, "P50: value of the unit holding the median pupil (pupil-weighted, no interpolation)"),
    "p5": (None, True, "P5: value of the unit holding the 5th-percentile pupil"),
    "p95": (None, True, "P95: value of the unit holding the 95th-percentile pupil"),
    "minimum": (None, False, "lowest value of any unit"),
    "maximum": (None, False, "highest value of any unit"),
    "range": (None, False, "maximum - minimum (every unit counts once)"),
    "restricted_range": (None, True, "P95 - P5 (pupil-weighted percentiles)"),
    "federal_range_ratio": (None, True, "(P95 - P5) / P5 (34 CFR 222.162); at most 0.25 meets the federal standard"),
    "coefficient_of_variation": (None, True, "pupil-weighted population standard deviation / pupil-weighted mean"),
    "mcloone": (None, True, "spending below the median / the same pupils at the median; 1 = equal below it"),
    "verstegen": (None, True, "spending above the median / the same pupils at the median; 1 = equal above it"),
    "gini": (None, True, "1 - twice the area under the pupil-weighted Lorenz curve; 0 = equal"),
    "theil": (None, True, "sum(w (x/m) ln(x/m)) / sum(w), m the pupil-weighted mean; 0 = equal"),
    "theil_between": ("groups", True, "Theil index of the group means: sum over groups of S_g R_g ln R_g"),
    "theil_within": ("groups", True, "sum over groups of S_g R_g T_g; theil = theil_between + theil_within"),
    "wealth_correlation": ("wealth", True, "pupil-weighted correlation of value and wealth; near 0 = neutral"),
    "wealth_elasticity": ("wealth", True, "pupil-weighted slope of ln(value) on ln(wealth): % per 1% of wealth"),
    "need_correlation": ("need", True, "pupil-weighted correlation of value and need; positive = progressive"),
    "need_elasticity": ("need", True, "pupil-weighted slope of ln(value) on ln(need): % per 1% of need"),
    "need_slope": ("need", True, "pupil-weighted slope of value on need: value per unit of need; > 0 = progressive"),
    "need_lowest_quartile_mean": ("need", True, "pupil-weighted mean value of the 25% of pupils with least need"),
    "need_highest_quartile_mean": ("need", True, "pupil-weighted mean value of the 25% of pupils with most need"),
    "need_quartile_ratio": ("need", True, "highest / lowest need quartile mean; > 1 = progressive, < 1 = regressive"),
}

#: the inputs that must be positive, and why
_POSITIVE = {
    "values": "equity ratios and logarithms need positive numbers",
    "weights": "a pupil weight must be positive (leave out a unit with no pupils)",
    "wealth": "the wealth elasticity takes its logarithm",
}


@dataclass(frozen=True)
class EquityMetrics:
    """Equity metrics of one value across units; ``None`` where not given or not defined (see ``notes``)."""

    n: int
    #: sum of the weights (the number of units when unweighted)
    pupils: float
    #: the optional inputs given: a subset of ("weights", "need", "wealth", "groups")
    inputs: tuple[str, ...]
    mean: float
    median: float
    p5: float
    p95: float
    minimum: float
    maximum: float
    range: float
    restricted_range: float
    federal_range_ratio: float
    coefficient_of_variation: float
    mcloone: float
    verstegen: float
    gini: float
    theil: float
    theil_between: float | None = None
    theil_within: float | None = None
    groups: tuple[GroupTheil, ...] = ()
    wealth_correlation: float | None = None
    wealth_elasticity: float | None = None
    need_correlation: float | None = None
    need_elasticity: float | None = None
    need_slope: float | None = None
    need_lowest_quartile_mean: float | None = None
    need_highest_quartile_mean: float | None = None
    need_quartile_ratio: float | None = None
    #: metric id -> why it is ``None`` although its input was given
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def weighted(self) -> bool:
        return "weights" in self.inputs

    def as_dict(self, significant_digits: int | None = None) -> dict[str, Any]:
        """Plain data in a stable order: ``n``, ``pupils``, ``weighted``, ``metrics`` (each with ``value``,
        ``weighted``, ``definition`` and, when ``None``, a ``note``) and, with groups, ``groups``.
        Floats are rounded to ``significant_digits`` when given, else full float64."""

        def num(v: float | None) -> float | None:
            return v if v is None or significant_digits is None else float(f"{v:.{significant_digits}g}")

        metrics: dict[str, Any] = {}
        for key, (needs, uses_weights, definition) in DEFINITIONS.items():
            if needs is not None and needs not in self.inputs:
                continue
            value = getattr(self, key)
            entry: dict[str, Any] = {
                "value": num(value),
                "weighted": uses_weights and self.weighted,
                "definition": definition,
            }
            if value is None:
                entry["note"] = self.notes.get(key, "not defined for these data")
            metrics[key] = entry
        out: dict[str, Any] = {"n": self.n, "pupils": num(self.pupils), "weighted": self.weighted, "metrics": metrics}
        if "groups" in self.inputs:
            out["groups"] = [
                {
                    "group": g.group,
                    "n": g.n,
                    "pupils": num(g.pupils),
                    "pupil_share": num(g.pupil_share),
                    "mean": num(g.mean),
                    "theil": num(g.theil),
                    "within_contribution": num(g.within_contribution),
                }
                for g in self.groups
            ]
        return out


# ------------------------------------------------------------------ checking


def _as_numbers(role: str, data: Any, problems: list[Problem], where: dict[str, Any]) -> FloatArray | None:
    try:
        a = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(Problem("invalid_value", f"{role} must be numbers", rule="numbers", **where))
        return None
    if a.ndim != 1:
        problems.append(Problem("invalid_value", f"{role} must be one-dimensional", rule="one value per unit", **where))
        return None
    return a


def check_inputs(
    values: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    need: npt.ArrayLike | None = None,
    wealth: npt.ArrayLike | None = None,
    groups: Sequence[str] | npt.NDArray[Any] | None = None,
    *,
    file: str | None = None,
    rows: Sequence[int] | npt.NDArray[np.int64] | None = None,
    columns: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Every problem of the inputs, each located: at least 2 units, one length, finite numbers, values,
    weights and wealth > 0, no blank group. ``row`` is the user's row number from ``rows`` (else the
    1-based position in the arrays) and ``column`` the name from ``columns`` (else the argument's name)."""
    names = dict(columns or {})
    problems: list[Problem] = []
    x = _as_numbers("values", values, problems, {"file": file, "column": names.get("values", "values")})
    if x is None:
        return problems
    n = len(x)
    row_of = np.arange(1, n + 1) if rows is None else np.asarray(rows)
    if n < 2:
        problems.append(
            Problem(
                "too_few_units",
                f"equity metrics compare units, and there {'is' if n == 1 else 'are'} {n}",
                file=file,
                rule="at least 2 units",
                hint="give a table with one row per school or district, at least two of them",
            )
        )
    given: dict[str, Any] = {"values": x, "weights": weights, "need": need, "wealth": wealth}
    for role, data in given.items():
        if data is None:
            continue
        column = names.get(role, role)
        a = x if role == "values" else _as_numbers(role, data, problems, {"file": file, "column": column})
        if a is None:
            continue
        if len(a) != n:
            problems.append(
                Problem("invalid_value", f"{role} has {len(a)} entries but values has {n}", file=file, column=column)
            )
            continue
        for i in np.flatnonzero(np.isnan(a)):
            problems.append(
                Problem("missing_value", f"{column} is blank", file=file, row=int(row_of[i]), column=column)
            )
        for i in np.flatnonzero(np.isinf(a)):
            problems.append(
                Problem(
                    "invalid_value",
                    f"{column} is not a finite number",
                    file=file,
                    row=int(row_of[i]),
                    column=column,
                    value=float(a[i]),
                )
            )
        if role in _POSITIVE:
            for i in np.flatnonzero(np.isfinite(a) & (a <= 0)):
                problems.append(
                    Problem(
                        "below_minimum",
                        f"{column} must be more than 0: {_POSITIVE[role]}",
                        file=file,
                        row=int(row_of[i]),
                        column=column,
                        value=float(a[i]),
                        rule="> 0",
                    )
                )
    if groups is not None:
        column = names.get("groups", "groups")
        g = np.asarray(groups, dtype=object)
        if g.ndim != 1 or len(g) != n:
            problems.append(Problem("invalid_value", f"groups has {g.size} entries but values has {n}", column=column))
        else:
            for i in np.flatnonzero([v is None or str(v).strip() == "" for v in g]):
                problems.append(
                    Problem("missing_value", f"{column} is blank", file=file, row=int(row_of[i]), column=column)
                )
    rank = {names.get(role, role): k for k, role in enumerate(("values", "weights", "need", "wealth", "groups"))}
    problems.sort(key=lambda p: (p.row is not None, p.row or 0, rank.get(p.column or "", len(rank))))
    return problems


# ------------------------------------------------------------------ computing


def _percentiles(xs: FloatArray, cum: FloatArray, percents: Sequence[float]) -> list[float]:
    """Inverted-CDF percentiles of sorted values ``xs`` with cumulative weights ``cum``."""
    at = np.searchsorted(cum * 100.0, np.asarray(percents, dtype=np.float64) * cum[-1], side="left")
    return [float(v) for v in xs[np.minimum(at, len(xs) - 1)]]


def weighted_percentile(values: npt.ArrayLike, weights: npt.ArrayLike, percent: float) -> float:
    """The value of the unit that holds the ``percent``-th percentile pupil: the smallest value whose
    cumulative share of the weights reaches ``percent`` % (inverted CDF, no interpolation)."""
    x = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    return _percentiles(x[order], np.cumsum(w[order]), [percent])[0]


def _beyond_median(x: FloatArray, w: FloatArray, median: float, below: bool) -> float:
    """McLoone (below) or Verstegen (above) index: 1.0 when no unit is strictly on that side."""
    side = x < median if below else x > median
    if not side.any():
        return 1.0
    return float((w[side] * x[side]).sum() / (median * w[side].sum()))


def equity_metrics(
    values: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    need: npt.ArrayLike | None = None,
    wealth: npt.ArrayLike | None = None,
    groups: Sequence[str] | npt.NDArray[Any] | None = None,
) -> EquityMetrics:
    """Equity metrics of ``values`` (one per unit; e.g. spending per pupil), pupil-weighted by ``weights``
    when given. ``need`` adds progressivity, ``wealth`` fiscal neutrality and ``groups`` the Theil
    decomposition. Raises :class:`InputError` listing every problem of the inputs (:func:`check_inputs`)."""
    problems = check_inputs(values, weights, need, wealth, groups)
    if problems:
        raise InputError(problems)
    x = np.asarray(values, dtype=np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    xs, cum = x[order], np.cumsum(w[order])
    total = float(cum[-1])
    low, high = float(xs[0]), float(xs[-1])
    # the mean of equal values is that value exactly, so every dispersion measure is exactly 0
    mean = low if low == high else float((w * x).sum() / total)
    p5, median, p95 = _percentiles(xs, cum, [5, 50, 95])
    sd = float(np.sqrt((w * (x - mean) ** 2).sum() / total))
    below = cum[:-1] / total
    # Gini = mean absolute difference between two pupils / (2 mean), summed over the gaps between sorted
    # values: each gap separates the share `below` of pupils from the share 1 - below
    gini = float((np.diff(xs) * below * ((total - cum[:-1]) / total)).sum() / mean)
    theil = float((w * theil_terms(x / mean)).sum() / total)
    inputs = tuple(
        k for k, v in (("weights", weights), ("need", need), ("wealth", wealth), ("groups", groups)) if v is not None
    )
    extra: dict[str, Any] = {}
    notes: dict[str, str] = {}
    if groups is not None:
        between, within, rows = theil_by_group(x, w, np.asarray(groups, dtype=object).astype(str))
        extra.update(theil_between=between, theil_within=within, groups=tuple(rows))
    if wealth is not None:
        wr = wealth_relation(x, w, np.asarray(wealth, dtype=np.float64))
        extra.update(wealth_correlation=wr.correlation, wealth_elasticity=wr.elasticity)
        notes.update(wr.notes)
    if need is not None:
        nr = need_relation(x, w, np.asarray(need, dtype=np.float64))
        extra.update(
            need_correlation=nr.correlation,
            need_elasticity=nr.elasticity,
            need_slope=nr.slope,
            need_lowest_quartile_mean=nr.lowest_quartile_mean,
            need_highest_quartile_mean=nr.highest_quartile_mean,
            need_quartile_ratio=nr.quartile_ratio,
        )
        notes.update(nr.notes)
    return EquityMetrics(
        n=len(x),
        pupils=total,
        inputs=inputs,
        mean=mean,
        median=median,
        p5=p5,
        p95=p95,
        minimum=low,
        maximum=high,
        range=high - low,
        restricted_range=p95 - p5,
        federal_range_ratio=(p95 - p5) / p5,
        coefficient_of_variation=sd / mean,
        mcloone=_beyond_median(x, w, median, below=True),
        verstegen=_beyond_median(x, w, median, below=False),
        gini=gini,
        theil=theil,
        notes=notes,
        **extra,
    )


# ------------------------------------------------------------------ from a table


def metrics_from_table(
    path: str | Path,
    value: str,
    *,
    weight: str | None = None,
    need: str | None = None,
    wealth: str | None = None,
    group: str | None = None,
) -> EquityMetrics:
    """Read a table (CSV, XLSX or Parquet; one row per unit) and compute the metrics of column ``value``.

    Every bad cell — blank, not a number, zero or negative where a positive number is needed — is a
    problem with its file, row and column; all of them are raised together as one :class:`InputError`."""
    from fairshare.io.columns import has_columns, number_column, text_column
    from fairshare.io.read import read_raw

    raw = read_raw(path)
    roles = {"values": value, "weights": weight, "need": need, "wealth": wealth, "groups": group}
    named = {role: col for role, col in roles.items() if col is not None}
    found = ProblemList()
    has_columns(raw, list(dict.fromkeys(named.values())), found, "named on the command line")
    found.raise_if_any(InputError)
    arrays: dict[str, Any] = {
        role: text_column(raw, col, found) if role == "groups" else number_column(raw, col, found)
        for role, col in named.items()
    }
    seen = {(p.row, p.column) for p in found.problems}
    more = check_inputs(**arrays, file=raw.path, rows=raw.rows, columns=named)
    for p in more:
        if p.row is None:
            found.problems.append(p)
        elif (p.row, p.column) not in seen and p.column is not None:  # the cell as the user wrote it
            cell = raw.frame.get_column(p.column)[int(np.searchsorted(raw.rows, p.row))]
            found.problems.append(replace(p, value=cell))
    if found:
        order = {col: k for k, col in enumerate(raw.columns)}
        found.problems.sort(key=lambda p: (p.row is not None, p.row or 0, order.get(p.column or "", -1)))
        raise InputError(found.problems)
    return equity_metrics(**arrays)

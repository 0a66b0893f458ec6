"""The demo formula (district-sbb.yaml) written the way it is often written by hand: a Python
function per school, run with ``pandas.DataFrame.apply(axis=1)``.

It is the benchmark's baseline, so it does the same work as the engine:

* every line is computed per row in Python from the same parameter values;
* what needs the whole table is done on columns, as a pandas user would: the two rank cut-offs
  (``Series.rank(method="min")``, the engine's competition ranking) and the pot's driver total;
* the base amount is solved so the schools' total equals the appropriation by the engine's
  method (secant steps from the planning value, kept inside a bracket); each step re-runs the
  row function for the lines that depend on the base, as the engine re-evaluates only those;
* cents follow the engine's stated rule: half away from zero, pots and the budget shared by
  largest remainder with ties broken by school id (then line order), hold harmless decided on
  the cents a school gets.

Only the formula's arithmetic is written here; no fairshare code is used to compute amounts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fairshare.rules.solve import solve_increasing

#: the demo formula's lines, in its order
LINES = [
    "starter",
    "middle_grades",
    "english_learner_weight",
    "disability",
    "chronic_absence",
    "poverty",
    "magnet_supplement",
    "operations",
    "principal",
    "family_support",
    "engagement_specialist",
    "assistant_principals",
    "counselors",
    "community_schools",
    "transition",
]
#: lines that move with the base amount (solved)
MOVING = LINES[:6]
STATIC = LINES[6:13]


def _rates(row: pd.Series) -> tuple[float, float, float]:
    e = row["enrollment"]
    d = max(e, 1.0)
    return (
        row["chronically_absent"] / d if e > 0 else 0.0,
        row["low_income"] / d if e > 0 else 0.0,
        row["high_need"] / d if e > 0 else 0.0,
    )


def _round_fte(raw: float, rounding: str, step: float) -> float:
    """The engine's rule: a multiple of ``step``, ignoring float noise below 1e-9 of a step."""
    q = float(np.round(raw / step, 9))
    if rounding == "down":
        q = math.floor(q)
    elif rounding == "nearest":
        q = math.floor(q + 0.5)
    return float(np.round(q * step, 9))


def _static(row: pd.Series, p: dict[str, float]) -> tuple[float, ...]:
    """The lines that do not depend on the base amount."""
    ben = 1.0 + p["salaries.benefits_rate"]
    magnet = row["enrollment"] * p["supplements.magnet_per_pupil"] if row["magnet"] else 0.0
    ap = _round_fte(row["enrollment"] / p["staffing.pupils_per_assistant_principal"], "down", 1.0)
    counselors = max(_round_fte(row["enrollment"] / p["staffing.pupils_per_counselor"], "nearest", 0.5), 0.5)
    engagement = 1.0 if row["engagement_rank"] <= p["thresholds.engagement_schools"] else 0.0
    return (
        magnet,
        p["supplements.school_operations"],
        1.0 * (p["salaries.principal"] * ben),
        1.0 * (p["salaries.family_support"] * ben),
        engagement * (p["salaries.engagement_specialist"] * ben),
        ap * (p["salaries.assistant_principal"] * ben),
        counselors * (p["salaries.counselor"] * ben),
    )


def _moving(row: pd.Series, p: dict[str, float], base: float) -> tuple[float, ...]:
    """The lines that depend on the base amount, then hold harmless on all lines above it."""
    k3 = row["grade_k"] + row["grade_01"] + row["grade_02"] + row["grade_03"]
    g45 = row["grade_04"] + row["grade_05"]
    g68 = row["grade_06"] + row["grade_07"] + row["grade_08"]
    g912 = row["grade_09"] + row["grade_10"] + row["grade_11"] + row["grade_12"]
    starter = 0.0
    for count, weight in ((k3, "k3"), (g45, "g45"), (g68, "g68"), (g912, "g912")):
        starter = starter + count * (base * p[f"grade_weights.{weight}"])
    lo_at, hi_at = p["thresholds.chronic_low"], p["thresholds.chronic_high"]
    lo_w, hi_w = p["weights.chronic_low"], p["weights.chronic_high"]
    width = hi_at - lo_at
    frac = (row["chronic_rate"] - lo_at) / width if width > 0 else float(row["chronic_rate"] >= hi_at)
    chronic_w = lo_w + (hi_w - lo_w) * min(max(frac, 0.0), 1.0)
    share = row["low_income_share"]
    poverty_w = 0.0
    for at, weight in (
        (0.0, "poverty_tier1"),
        (p["thresholds.poverty_tier2"], "poverty_tier2"),
        (p["thresholds.poverty_tier3"], "poverty_tier3"),
    ):
        if share >= at:
            poverty_w = p[f"weights.{weight}"]
    lines = (
        starter,
        g68 * p["weights.middle_grades"] * base,
        row["english_learners"] * p["weights.english_learner"] * base,
        row["students_with_disabilities"] * p["weights.disability"] * base,
        row["chronically_absent"] * chronic_w * base,
        row["low_income"] * poverty_w * base,
    )
    subtotal = row["static_total"] + row["community_schools"] + sum(lines)
    prior = row["prior_year_total"]
    target = prior * (1.0 - p["staffing.max_loss"]) if not math.isnan(prior) else 0.0
    hold = target - subtotal if not math.isnan(prior) and subtotal < target else 0.0
    return (*lines, hold)


def to_cents(dollars: np.ndarray) -> np.ndarray:
    """Half away from zero; a millionth of a cent absorbs binary noise (the engine's stated rule)."""
    x = np.floor(np.abs(np.asarray(dollars, dtype=np.float64) * 100.0) + 0.500001)
    return np.copysign(x, dollars).astype(np.int64)


def largest_remainder(exact: np.ndarray, total: int, *keys: np.ndarray) -> np.ndarray:
    """Hamilton: round down, the cents left go to the largest remainders; ties by ``keys`` in order."""
    floor = np.floor(exact + 1e-6)
    out = floor.astype(np.int64)
    short = total - int(out.sum())
    if short:
        order = np.lexsort((*reversed(keys), -(exact - floor)))
        out[order[:short]] += 1
    return out


def _solve(total: Callable[[float], float], start: float, budget: float) -> float:
    """The engine's numeric method (a scalar function, shared so both sides solve alike)."""
    return solve_increasing(total, budget, start).value


def evaluate_pandas(df: pd.DataFrame, params: dict[str, float], fit: bool = True) -> dict[str, Any]:
    """Every school's lines in cents (``cents``: DataFrame, one column per line), and the solved base."""
    p = params
    df = df.copy()
    df[["chronic_rate", "low_income_share", "high_need_share"]] = df.apply(_rates, axis=1, result_type="expand")
    df["engagement_rank"] = df["chronic_rate"].rank(method="min", ascending=False)
    community = df["high_need_share"].rank(method="min", ascending=False) <= p["thresholds.community_schools"]
    static = df.apply(_static, axis=1, args=(p,), result_type="expand")
    static.columns = STATIC
    df["static_total"] = static.sum(axis=1)
    driver = df["enrollment"].where(community, 0.0)
    fund = p["supplements.community_schools_fund"]
    df["community_schools"] = driver * (fund / driver.sum()) if driver.sum() > 0 else 0.0

    last: dict[float, pd.DataFrame] = {}

    def moving(base: float) -> pd.DataFrame:
        if base not in last:
            last.clear()
            out = df.apply(_moving, axis=1, args=(p, base), result_type="expand")
            out.columns = [*MOVING, "transition"]
            last[base] = out
        return last[base]

    base = p["base.per_pupil"]
    budget = p["budget.appropriation"]
    if fit:
        fixed = float(static.to_numpy().sum() + df["community_schools"].sum())
        base = _solve(lambda b: fixed + float(moving(b).to_numpy().sum()), abs(base) or 1.0, budget)
    lines = moving(base)
    amounts = pd.concat([lines[MOVING], static, df[["community_schools"]], lines[["transition"]]], axis=1)[LINES]

    # ties are broken by school id: its position in sorted order is the key
    ids = df["school_id"].to_numpy()
    id_rank = np.unique(ids.astype(str), return_inverse=True)[1]
    cents = pd.DataFrame({c: to_cents(amounts[c].to_numpy()) for c in LINES if c != "transition"})
    share = np.flatnonzero(driver.to_numpy() > 0)
    pot = np.zeros(len(df), dtype=np.int64)
    if share.size:
        exact = amounts["community_schools"].to_numpy()[share] * 100.0
        pot[share] = largest_remainder(exact, int(to_cents(np.array([fund]))[0]), id_rank[share])
    cents["community_schools"] = pot
    sub = cents.sum(axis=1).to_numpy()
    prior = df["prior_year_total"].to_numpy()
    has_prior = ~np.isnan(prior)
    target = to_cents(np.where(has_prior, prior * (1.0 - p["staffing.max_loss"]), 0.0))
    bound = has_prior & (sub < target)
    cents["transition"] = np.where(bound, target - sub, 0)
    cents = cents[LINES]
    if fit:
        free = np.flatnonzero(~bound)
        budget_cents = int(to_cents(np.array([budget]))[0])
        block = cents[MOVING].to_numpy()
        fixed_cents = int(cents.to_numpy().sum()) - int(block[free].sum())
        exact = (amounts[MOVING].to_numpy()[free] * 100.0).T.ravel()  # column blocks, as the engine
        target_cents = budget_cents - fixed_cents
        exact *= target_cents / exact.sum()
        m = len(free)
        col = np.repeat(np.arange(len(MOVING)), m)
        shares = largest_remainder(exact, target_cents, np.tile(id_rank[free], len(MOVING)), col)
        for k, line in enumerate(MOVING):
            values = cents[line].to_numpy().copy()
            values[free] = shares[k * m : (k + 1) * m]
            cents[line] = values
    return {"cents": cents, "base": base, "ids": ids}

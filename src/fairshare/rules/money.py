"""Money: integer cents, one stated rounding rule, largest-remainder shares.

Rounding rule (stated in every run manifest): each amount is computed in float64
dollars and rounded to whole cents half away from zero, on the decimal the float
prints as (so 1.005, stored as 1.00499999…, rounds to 1.01, as a reader expects). Where a total is fixed (a pot, a
budget), cents are allotted by the largest-remainder (Hamilton) method: every
share is rounded down, and the cents left over go one each to the largest
remainders, ties broken by entity id, then component order, so the shares add up
to the total exactly and do not depend on row order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["ROUNDING_RULE", "TieKey", "dollars_text", "largest_remainder", "to_cents"]

ROUNDING_RULE = (
    "Amounts are computed in float64 dollars. Each entity's total is its exact total rounded to whole "
    "cents half away from zero (or, when the formula fits a budget, its largest-remainder share of it); "
    "its lines are apportioned to that total by largest remainder, so none is more than a cent from exact. "
    "Pots are shared by largest remainder first. Ties go by entity id, then formula order."
)


def to_cents(dollars: np.ndarray | float) -> np.ndarray:
    """Whole cents, half away from zero on the decimal each float prints as.

    ``f = floor(|x| × 100)`` is the candidate; the cent goes up when ``|x|`` reaches the
    float nearest to ``(f + ½) / 100``. This equals rounding ``Decimal(repr(x))`` half up:
    1.005 (stored as 1.00499999…) gives 101 cents, while 305908386.85499996 — truly below
    the half cent, and printed so — gives …85. No tolerance that depends on magnitude.
    """
    d = np.asarray(dollars, dtype=np.float64)
    if d.ndim == 0:
        return to_cents(d.reshape(1)).reshape(())
    y = np.multiply(d, 100.0)
    np.abs(y, out=y)
    f = np.floor(y)
    y -= f  # the fraction of a cent
    up = y > 0.5
    # only a fraction within float noise of one half needs the exact test; the noise grows with size,
    # so the band is set by the largest amount (wider than needed for the rest, never narrower)
    y -= 0.5
    np.abs(y, out=y)
    band = 1e-6 + 1e-15 * (float(f.max()) if f.size else 0.0)
    near = np.flatnonzero(y < band)
    if near.size:
        a = np.abs(d.flat[near])
        up[near] = a >= (f.flat[near] + 0.5) / 100.0
    f += up
    np.copysign(f, d, out=f)
    out: np.ndarray = f.astype(np.int64)
    return out


TieKey = Callable[[int], tuple[Any, ...]]


def largest_remainder(exact_cents: np.ndarray, total_cents: int, tie_key: TieKey) -> np.ndarray:
    """Integer cents summing to ``total_cents`` from non-negative ``exact_cents`` (float).

    Hamilton's method: round every share down, give the cents left over one each to
    the largest remainders; ``tie_key(index)`` orders equal remainders (it is called
    only for remainders tied at the cut). Computed as "round half up, then move the few residual cents", which
    selects the same shares without sorting millions of remainders.
    Raises ValueError if the total cannot be reached by moving each share by under one cent.
    """
    exact = np.asarray(exact_cents, dtype=np.float64)
    base = np.floor(exact + 1e-6)
    # remainders are compared to a millionth of a cent, so float noise (e.g. from summing in
    # another row order) cannot decide a tie; exact ties go by ``tie_key``
    rem = np.round(exact - base, 6)
    short = int(total_cents - int(base.sum()))
    if short < 0 or short > len(exact):
        raise ValueError(f"cannot share {total_cents} cents over {len(exact)} amounts (short by {short})")
    up = rem >= 0.5
    out = base.astype(np.int64) + up
    residual = short - int(up.sum())
    if residual > 0:  # give more cents: the largest remainders among those rounded down
        pick = _extreme(rem, ~up, residual, largest=True, tie_key=tie_key)
        out[pick] += 1
    elif residual < 0:  # take cents back: the smallest remainders among those rounded up
        pick = _extreme(rem, up, -residual, largest=False, tie_key=tie_key)
        out[pick] -= 1
    return out


def _extreme(rem: np.ndarray, among: np.ndarray, count: int, *, largest: bool, tie_key: TieKey) -> np.ndarray:
    """Indexes of the ``count`` largest (or smallest) remainders among ``among``.

    Ties: Hamilton ranks by (-remainder, keys); the largest come first in that order and
    the smallest are taken from its end (so reversed key order)."""
    pool = np.flatnonzero(among)
    values = rem[pool]
    if count < len(pool):
        kth = len(pool) - count if largest else count - 1
        threshold = np.partition(values, kth)[kth]
        sure: np.ndarray = pool[values > threshold] if largest else pool[values < threshold]
        tied: np.ndarray = pool[values == threshold]
    else:
        return pool
    need = count - len(sure)
    if need <= 0:
        return sure
    order = sorted(tied.tolist(), key=tie_key, reverse=not largest)
    picked: np.ndarray = np.concatenate([sure, np.asarray(order[:need], dtype=np.int64)])
    return picked


def dollars_text(cents: int | np.integer) -> str:
    """Exact decimal text of integer cents, e.g. 12345 -> '123.45' (no float on the way)."""
    c = int(cents)
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}{c // 100}.{c % 100:02d}"


def share_pct(part: int, whole: int) -> str:
    """``part`` as a percent of ``whole`` (non-negative integer cents), 2 decimals, half up, in integers;
    ``""`` when ``whole`` is not positive. ``report.outputs.pct_text`` is the same rule on columns."""
    if whole <= 0:
        return ""
    q = (part * 20000 + whole) // (2 * whole)
    return f"{q // 100}.{q % 100:02d}"

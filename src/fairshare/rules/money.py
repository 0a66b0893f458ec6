"""Money: integer cents, one stated rounding rule, largest-remainder shares.

Rounding rule (stated in every run manifest): each amount is computed in float64
dollars and rounded to whole cents half away from zero, after first rounding
``dollars × 100`` to 6 decimals so that binary representation noise (1.005 stored
as 1.00499999…) cannot flip a half cent. Where a total is fixed (a pot, a
budget), cents are allotted by the largest-remainder (Hamilton) method: every
share is rounded down, and the cents left over go one each to the largest
remainders, ties broken by entity id, then component order, so the shares add up
to the total exactly and do not depend on row order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ROUNDING_RULE", "dollars_text", "largest_remainder", "to_cents"]

ROUNDING_RULE = (
    "Amounts are computed in float64 dollars and rounded to whole cents half away from zero; "
    "fixed totals (pots, the budget) are shared by largest remainder, ties broken by entity id."
)


def to_cents(dollars: np.ndarray | float) -> np.ndarray:
    x = np.round(np.asarray(dollars, dtype=np.float64) * 100.0, 6)
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)


def largest_remainder(exact_cents: np.ndarray, total_cents: int, tie_keys: list[np.ndarray]) -> np.ndarray:
    """Integer cents summing to ``total_cents`` from non-negative ``exact_cents`` (float).

    ``tie_keys``: arrays (same length) ordering equal remainders, most significant first.
    Raises ValueError if the total cannot be reached by moving each share by under one cent.
    """
    exact = np.round(np.asarray(exact_cents, dtype=np.float64), 6)
    base = np.floor(exact)
    short = int(total_cents - int(base.sum()))
    if short < 0 or short > len(exact):
        raise ValueError(f"cannot share {total_cents} cents over {len(exact)} amounts (short by {short})")
    out = base.astype(np.int64)
    if short:
        rem = exact - base
        # the short-th largest remainder; everything above it gets a cent, ties at it by key
        threshold = np.partition(rem, len(rem) - short)[len(rem) - short]
        above = np.flatnonzero(rem > threshold)
        out[above] += 1
        tied = np.flatnonzero(rem == threshold)
        need = short - len(above)
        if need:
            chosen = sorted(tied.tolist(), key=lambda t: tuple(k[t] for k in tie_keys))[:need]
            out[chosen] += 1
    return out


def dollars_text(cents: int | np.integer) -> str:
    """Exact decimal text of integer cents, e.g. 12345 -> '123.45' (no float on the way)."""
    c = int(cents)
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}{c // 100}.{c % 100:02d}"

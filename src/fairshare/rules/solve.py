"""Find the parameter value at which a non-decreasing total meets a target (scale-to-budget).

The total of a formula's lines is piecewise linear in a base amount (linear, unless a
limit such as hold harmless starts or stops binding). The method: secant steps from
the planning value and the local slope there — the root is usually near it — kept
inside a bracket once points on both sides are known, falling back to regula falsi
and bisection. On a linear piece the secant step is exact, so a budget fit typically
takes three to six evaluations of the total.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Solution", "solve_increasing"]


@dataclass(frozen=True)
class Solution:
    value: float  # the parameter found (the last one tried if not converged)
    total: float  # the total there
    converged: bool
    #: the largest value tried whose total was below the target, and that total (-inf if none)
    below: float
    total_below: float
    #: whether a value with a total at or above the target was found
    bracketed: bool


def solve_increasing(total: Callable[[float], float], target: float, start: float) -> Solution:
    """Solve ``total(p) == target`` for p > 0, ``total`` non-decreasing in p."""
    tol = max(1e-11 * abs(target), 1e-4)
    lo, flo, hi, fhi = 0.0, -math.inf, math.inf, math.inf
    p1 = abs(start) or 1.0
    prev = (p1, total(p1))
    cur = (p1 * 1.001, total(p1 * 1.001))
    for q, fq in (prev, cur):
        if fq < target:
            lo, flo = max(lo, q), fq
        else:
            hi, fhi = min(hi, q), fq
    p, fp = cur
    for _ in range(200):
        if abs(fp - target) <= tol or (math.isfinite(hi) and hi - lo <= 1e-13 * max(1.0, abs(hi))):
            break
        (q0, g0), (q1, g1) = prev, cur
        p = q1 + (target - g1) * (q1 - q0) / (g1 - g0) if g1 != g0 else math.nan
        if not lo < p < hi:  # the secant failed or left the bracket
            if math.isfinite(hi) and math.isfinite(flo):
                p = lo + (target - flo) * (hi - lo) / (fhi - flo)
            if not lo < p < hi:
                p = (lo + hi) / 2 if math.isfinite(hi) else 2 * max(lo, q1)
        if p <= 0 or p > 1e15:
            break
        fp = total(p)
        if fp < target:
            lo, flo = p, fp
        else:
            hi, fhi = p, fp
        prev, cur = cur, (p, fp)
    return Solution(p, fp, abs(fp - target) <= tol, lo, flo, math.isfinite(hi))

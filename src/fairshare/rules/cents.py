"""From float dollars to integer cents that reconcile at every level.

1. Pots: each pot's cents are shared by largest remainder so the pot is paid out exactly.
2. Entity totals: each entity's total is its exact total rounded to the cent (half away
   from zero) — what any independent calculation of the formula gives — except that a pot's
   shares are exact first, so an entity not held by a limit totals its pot cents plus its
   other lines' exact total, rounded. When
   the formula fits a budget, entities held by a limit keep their rounded total and the
   others share the rest of the budget by largest remainder (ties by entity id).
3. Lines: within each entity, the lines are apportioned by largest remainder so they add
   up to the entity's total exactly (pots keep the cents of step 1). In practice: every
   line is rounded half away from zero, and the few cents a row is off are moved to the
   lines whose rounding was closest to going the other way (ties: formula order).

Nothing here loops over entities in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fairshare.errors import Problem, RunError
from fairshare.rules.kinds import Computed, Kind
from fairshare.rules.money import largest_remainder, to_cents

__all__ = ["fix_cents"]


def _key_by(ids: np.ndarray) -> Any:
    def key(t: int) -> tuple[Any, ...]:
        return (ids[t],)

    return key


def fix_cents(
    amounts: list[np.ndarray],
    lines: tuple[Kind, ...],
    computed: dict[str, Computed],
    ids: np.ndarray,
    *,
    fit: tuple[tuple[str, ...], int, dict[str, Any]] | None = None,
    notes: list[str] | None = None,
) -> list[np.ndarray]:
    """Integer cents per line. ``fit``: (line ids the budget covers, budget in cents, error location)."""
    n = len(ids)
    cents = [to_cents(a) for a in amounts]
    pots = set()
    for j, comp in enumerate(lines):
        if not comp.is_pot:
            continue
        pots.add(j)
        aux = computed[comp.id].aux
        total_c = int(to_cents(aux["pot_total"][0])) if n else 0
        col = np.zeros(n, dtype=np.int64)
        if aux["driver_sum"].size and aux["driver_sum"][0] > 0:
            share = np.flatnonzero(aux["driver"] > 0)
            col[share] = largest_remainder(amounts[j][share] * 100.0, total_c, _key_by(ids[share]))
        elif total_c and notes is not None:
            notes.append(f"{comp.id}: no entity is eligible, so ${total_c / 100:,.2f} is not distributed")
        cents[j] = col
    index = {c.id: j for j, c in enumerate(lines)}
    all_cols = list(range(len(lines)))
    groups: list[tuple[list[int], tuple[tuple[str, ...], int, dict[str, Any]] | None]]
    if fit is None:
        groups = [(all_cols, None)]
    else:
        covered = [index[c] for c in fit[0]]
        rest = [j for j in all_cols if j not in covered]
        groups = [(covered, fit), *([(rest, None)] if rest else [])]
    bound = np.zeros(n, dtype=bool)
    for comp in lines:
        if comp.is_limit:
            bound |= np.asarray(computed[comp.id].aux["binding"], dtype=bool)
    for cols, budget in groups:
        movable = [j for j in cols if j not in pots]
        have = np.zeros(n, dtype=np.int64)
        for j in cols:
            have += cents[j]
        if budget is None:
            # a row held by a limit totals the limit's target; otherwise its pot cents (already
            # exact) plus the exact total of its other lines, rounded
            exact, others = np.zeros(n), np.zeros(n)
            pot_cents = np.zeros(n, dtype=np.int64)
            for j in cols:
                exact += amounts[j]
                if j in pots:
                    pot_cents += cents[j]
                else:
                    others += amounts[j]
            totals = np.where(bound, to_cents(exact), pot_cents + to_cents(others))
        else:
            exact = np.zeros(n)
            for j in cols:
                exact += amounts[j]
            totals = _fit_totals(exact, bound, ids, budget[1], budget[2])
        _apportion(cents, amounts, movable, totals - have, budget[2] if budget is not None else None)
    return cents


def _fit_totals(
    exact: np.ndarray, bound: np.ndarray, ids: np.ndarray, budget_cents: int, where: dict[str, Any]
) -> np.ndarray:
    """Entity totals that add up to the budget: limit-held entities rounded, the rest by largest remainder."""
    totals = to_cents(exact)
    free = np.flatnonzero(~bound)
    target = budget_cents - int(totals[bound].sum())
    share = exact[free] * 100.0
    s = float(share.sum())
    if target < 0 or (s <= 0 and target != 0):
        raise RunError(
            Problem(
                "rounding_failed",
                f"cannot fit the budget to the cent: {target} cents left for {free.size} entities",
                **where,
            )
        )
    if s > 0:
        share *= target / s
    try:
        totals[free] = largest_remainder(share, target, _key_by(ids[free]))
    except ValueError as exc:  # pragma: no cover - guarded above
        raise RunError(Problem("rounding_failed", str(exc), **where)) from None
    return totals


def _apportion(
    cents: list[np.ndarray],
    amounts: list[np.ndarray],
    cols: list[int],
    residual: np.ndarray,
    where: dict[str, Any] | None,
) -> None:
    """Move ``residual`` cents per row onto the lines in ``cols`` (largest remainder within the row)."""
    todo = np.flatnonzero(residual)
    if not todo.size:
        return
    if not cols:
        if where is not None:
            raise RunError(Problem("rounding_failed", "no line can take the cents the budget needs", **where))
        return
    # first pass, column by column (no n × k copies): each row's cent goes to the line whose rounding
    # was closest to going the other way; errors are compared to a millionth of a cent, so float noise
    # cannot decide a tie, and ties go to the earlier line
    step = np.sign(residual[todo])
    best = np.full(todo.size, -np.inf)
    pick = np.zeros(todo.size, dtype=np.int64)
    for k, j in enumerate(cols):
        score = np.round(amounts[j][todo] * 100.0 - cents[j][todo], 6) * step
        better = score > best
        best[better] = score[better]
        pick[better] = k
    for k, j in enumerate(cols):
        rows = pick == k
        cents[j][todo[rows]] += step[rows]
    left = residual[todo] - step
    more = np.flatnonzero(left)
    if more.size:  # rows off by two cents or more: few; repeat on a small stack
        rows = todo[more]
        block = np.stack([cents[j][rows] for j in cols])
        err = np.round(np.stack([amounts[j][rows] * 100.0 for j in cols]) - block, 6)
        r = left[more].copy()
        live = np.arange(rows.size)
        while live.size:
            sub = err[:, live]
            s = np.sign(r[live])
            choice = np.where(s > 0, np.argmax(sub, axis=0), np.argmin(sub, axis=0))
            block[choice, live] += s
            err[choice, live] -= s
            r[live] -= s
            live = live[r[live] != 0]
        for k, j in enumerate(cols):
            cents[j][rows] = block[k]

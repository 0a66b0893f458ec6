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
    rows_cents = np.stack([cents[j][todo] for j in cols])  # (m, t)
    # compared to a millionth of a cent, so noise cannot decide a tie (ties go to the earlier line)
    err = np.round(np.stack([amounts[j][todo] * 100.0 for j in cols]) - rows_cents, 6)
    r = residual[todo].copy()
    span = np.arange(todo.size)
    while True:
        up, down = r > 0, r < 0
        if not (up.any() or down.any()):
            break
        pick = np.where(up, np.argmax(err, axis=0), np.argmin(err, axis=0))
        step = np.sign(r)
        live = step != 0
        rows_cents[pick[live], span[live]] += step[live]
        err[pick[live], span[live]] -= step[live]
        r -= step
    for k, j in enumerate(cols):
        cents[j][todo] = rows_cents[k]

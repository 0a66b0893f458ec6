"""The consolidated grant of an identification run, in integer cents that add up to the total exactly.

Pooled funds (``total``) are split three ways: a share retained for administration (at most 10 %),
an incentive pool for the identified entities that improved most, and the base, shared among all
identified entities in proportion to a column (e.g. high-need students).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from fairshare.errors import InputError, Problem, ProblemList, RunError
from fairshare.rules.money import largest_remainder, to_cents

if TYPE_CHECKING:
    from fairshare.programs.identify import Identification

__all__ = ["GRANT_ROUNDING", "GrantResult", "grant_for", "split_grant"]

GRANT_ROUNDING = (
    "The total is rounded to whole cents half away from zero. Administration is total × its share, and "
    "administration + incentive pool is total × (both shares), each rounded to whole cents half away from zero "
    "(so the incentive pool is the difference and the three parts never exceed the total); the base pool is "
    "what remains. Within each pool, entities' shares are whole cents by largest remainder (Hamilton): every "
    "exact share rounded down, the cents left over one each to the largest remainders, ties by entity id. "
    "Every cent of the total is either retained for administration or paid to an entity."
)


@dataclass(frozen=True)
class GrantResult:
    total_cents: int
    admin_cents: int
    incentive_pool_cents: int
    base_pool_cents: int
    recipients: np.ndarray
    base_weight: np.ndarray
    base_cents: np.ndarray
    improvement: np.ndarray
    incentive_eligible: np.ndarray
    incentive_rank: np.ndarray
    incentive_cents: np.ndarray
    #: the incentive pool went to the base because nobody qualified for it
    folded: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def entity_cents(self) -> np.ndarray:
        out: np.ndarray = self.base_cents + self.incentive_cents
        return out


def split_grant(
    ids: np.ndarray,
    recipients: np.ndarray,
    base_weight: np.ndarray,
    improvement: np.ndarray,
    *,
    total: float,
    admin_share: float,
    incentive_share: float = 0.0,
    rule: Literal["top", "proportional"] = "proportional",
    count: int = 0,
    where: dict[str, Any] | None = None,
) -> GrantResult:
    """Split ``total`` dollars: admin, incentive (to ``recipients`` with improvement > 0; NaN = none), base.

    ``base_weight`` must be finite and non-negative for recipients with a positive sum.
    """
    where = where or {}
    n = len(ids)
    keys = np.asarray(ids).astype(str)
    total_cents = int(to_cents(total))
    admin = int(to_cents(total_cents * admin_share / 100.0))
    incentive_pool = int(to_cents(total_cents * (admin_share + incentive_share) / 100.0)) - admin
    base_pool = total_cents - admin - incentive_pool
    if not recipients.any():
        raise RunError(
            Problem(
                "no_recipients",
                "the grant has nobody to pay: no entity is identified",
                hint="check the rule and the universe",
                **where,
            )
        )
    w = np.where(recipients, base_weight, 0.0)
    if (recipients & ~(np.isfinite(w) & (w >= 0))).any():
        raise RunError(
            Problem("invalid_value", "a base weight of an identified entity is negative or not a number", **where)
        )
    eligible = recipients & np.isfinite(improvement) & (improvement > 0)
    rank = np.zeros(n, dtype=np.int64)
    incentive = np.zeros(n, dtype=np.int64)
    notes: list[str] = []
    imp = np.where(eligible, improvement, 0.0)
    if eligible.any():
        key = -imp
        pool = np.sort(key[eligible])
        rank[eligible] = np.searchsorted(pool, key[eligible], side="left") + 1
    winners = eligible & (rank <= count) if rule == "top" else eligible
    folded = False
    if incentive_pool > 0 and winners.any():
        weight = np.where(winners, 1.0, 0.0) if rule == "top" else imp
        exact = incentive_pool * weight / weight.sum()
        incentive = largest_remainder(exact, incentive_pool, lambda t: (keys[t],))
    elif incentive_pool > 0:
        folded = True
        base_pool += incentive_pool
        notes.append("no identified entity improved, so the incentive pool joins the base")
    if w.sum() <= 0:
        raise RunError(
            Problem("no_recipients", "the base is shared by a column that is zero for every identified entity", **where)
        )
    base = largest_remainder(base_pool * w / w.sum(), base_pool, lambda t: (keys[t],))
    return GrantResult(
        total_cents,
        admin,
        0 if folded else incentive_pool,
        base_pool,
        recipients.copy(),
        w,
        base,
        improvement,
        eligible,
        np.where(winners, rank, 0),
        incentive,
        folded,
        notes,
    )


def grant_for(result: Identification) -> GrantResult:
    rules, frame = result.rules, result.frame
    g = rules.model.grant
    assert g is not None
    rows = result.rows
    problems = ProblemList()
    recipients = result.identified.copy()
    base = np.asarray(frame.values[g.base.by][rows])
    if base.dtype.kind not in "fiub":
        raise RunError(
            Problem(
                "invalid_value", f"grant.base.by {g.base.by!r} is not a number", **rules.where("grant", "base", "by")
            )
        )
    base = base.astype(float)
    for j in np.flatnonzero(recipients & frame.missing[g.base.by][rows]):
        _missing(result, problems, g.base.by, int(j), "grant.base")
    improvement = np.full(len(rows), np.nan)
    inc = g.incentive
    if inc is not None:
        improvement = np.asarray(frame.values[inc.by][rows]).astype(float)
        miss = frame.missing[inc.by][rows]
        improvement = np.where(miss, np.nan, improvement)
        if inc.missing == "error":
            for j in np.flatnonzero(recipients & miss):
                _missing(result, problems, inc.by, int(j), "grant.incentive")
    if problems:
        raise InputError(problems.problems)
    p = rules.params
    out = split_grant(
        result.ids,
        recipients,
        base,
        improvement,
        total=p[g.total].value,
        admin_share=p[g.administration].value,
        incentive_share=p[inc.share].value if inc else 0.0,
        rule=inc.rule if inc else "proportional",
        count=int(p[inc.count].value) if inc and inc.count else 0,
        where=rules.where("grant"),
    )
    return out


def _missing(result: Identification, problems: ProblemList, name: str, j: int, what: str) -> None:
    row = int(result.rows[j])
    where = result.frame.locate(name, row)
    why = where.pop("why")
    problems.add(
        "missing_value",
        f"{result.names[j]} ({result.ids[j]}) is identified but {why}; {what} needs {name}",
        rule=what,
        hint="fill the value" + ("" if what == "grant.base" else ", or declare `missing: not_met` on the incentive"),
        **where,
    )

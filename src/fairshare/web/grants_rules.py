"""The rules of a grant plan and its draw-downs, in integer cents (no database here).

* **Tolerance table** (state level, :data:`TOLERANCES`): a draw-down may take a budget line up to
  ``tolerance_pct`` percent of its approved amount, by the line's three-digit object code (NCES
  Handbook object classes): salaries and benefits 100 %, purchased services 105 %, supplies 110 %,
  property and other objects 100 %. A line's percent is written to ``grant_line.tolerance_pct`` when
  its plan is approved and never changes afterwards. An object code outside the table is refused.
* **Ceiling** of a line: ``amount × tolerance_pct // 100 + carried`` (floor: never a cent more than the
  percent allows; carried money is not scaled). A draw-down fits when ``drawn + request ≤ ceiling``
  and, for the whole plan, ``Σ drawn + request ≤ award + Σ carried``.
* **Carry-forward**: a line's draws spend its carried money first (the older money expires first);
  what is left of the line's *own* amount, ``max(0, amount − max(0, drawn − carried))``, is what the
  next year may receive, in line order, as long as the award has money left (``award − Σ own money
  drawn``: see :func:`carry_amounts`). Carried money that is not spent is never carried again, and award
  money never put in a line is not carried.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from fairshare.report.html import fiscal_year_label

__all__ = [
    "EDITABLE",
    "MAX_CENTS",
    "TOLERANCES",
    "BackupItem",
    "Band",
    "DrawdownIn",
    "GoalIn",
    "LineIn",
    "PlanEdit",
    "PlanNew",
    "ReviewIn",
    "StrategyIn",
    "VersionIn",
    "band_for",
    "carry_amounts",
    "ceiling_cents",
    "fiscal_year_start",
    "plan_label",
    "unspent_own_cents",
]

#: the statuses in which the district may edit and submit a plan
EDITABLE = ("draft", "changes_requested")
#: the largest amount of money any field accepts ($100 billion), so sums stay exact everywhere (JS too)
MAX_CENTS = 10**13
_MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Band:
    """Object codes ``first``–``last`` (inclusive) may be drawn to ``pct`` percent of a line's amount."""

    first: int
    last: int
    pct: int
    label: str


#: the state's tolerance table, by object code range (the demo state's policy; SYNTHETIC)
TOLERANCES: tuple[Band, ...] = (
    Band(100, 199, 100, "salaries"),
    Band(200, 299, 100, "employee benefits"),
    Band(300, 399, 105, "purchased professional and technical services"),
    Band(400, 499, 105, "purchased property services"),
    Band(500, 599, 105, "other purchased services"),
    Band(600, 699, 110, "supplies and materials"),
    Band(700, 799, 100, "property and equipment"),
    Band(800, 899, 100, "other objects (dues and fees)"),
)


def band_for(object_code: str) -> Band | None:
    """The tolerance band of a three-digit object code, or None when the table has none."""
    if len(object_code) != 3 or not object_code.isdigit():
        return None
    n = int(object_code)
    return next((b for b in TOLERANCES if b.first <= n <= b.last), None)


def ceiling_cents(amount: int, tolerance_pct: int, carried: int) -> int:
    """The most a line may have drawn in all: its amount times its tolerance (floored) plus carried money."""
    return amount * tolerance_pct // 100 + carried


def unspent_own_cents(amount: int, drawn: int, carried: int) -> int:
    """What is left of a line's own amount, carried money being spent first (never negative)."""
    return max(0, amount - max(0, drawn - carried))


def carry_amounts(award: int, lines: list[tuple[int, int, int]]) -> list[int]:
    """What each line (``amount, drawn, carried``) carries into the next year: its unspent own money,
    in line order, while the award has money left (``award − Σ own money drawn``; a line drawn past its
    amount within its tolerance has used award money the other lines can no longer carry)."""
    own_drawn = sum(max(0, drawn - carried) for _, drawn, carried in lines)
    left = max(0, award - own_drawn)
    out = []
    for amount, drawn, carried in lines:
        take = min(unspent_own_cents(amount, drawn, carried), left)
        out.append(take)
        left -= take
    return out


def fiscal_year_start(fiscal_year: int) -> dt.date:
    """A fiscal year's first day: FY 2027 runs from 2026-07-01 to 2027-06-30."""
    return dt.date(fiscal_year - 1, 7, 1)


def plan_label(fiscal_year: int) -> str:
    """'FY 2027 (2026-27)'."""
    return fiscal_year_label(fiscal_year_start(fiscal_year))


#: text without NUL characters (PostgreSQL cannot store them), said in the schema
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]
Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]
Version = Annotated[int, Field(ge=1, le=_MAX_ID, description="the plan's version you loaded")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StrategyIn(_Strict):
    title: Text = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=4000)


class GoalIn(_Strict):
    """A measurable goal: an indicator moved from a baseline to a target by a fiscal year."""

    indicator: Text = Field(min_length=1, max_length=200)
    unit: Text = Field(default="", max_length=40, description="e.g. 'percent', 'students'")
    baseline: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    target: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    year: int = Field(ge=2000, le=2100, description="the fiscal year by which the target is met (FY number)")


class LineIn(_Strict):
    """A budget line; ``id`` names an existing line of the plan (absent: a new line)."""

    id: int | None = Field(default=None, ge=1, le=_MAX_ID)
    school_id: Text | None = Field(default=None, max_length=64, description="absent: district-wide")
    object_code: str = Field(pattern=r"^[0-9]{3}$", description="three-digit object code, e.g. '110', '610'")
    role: Text = Field(default="", max_length=80, description="position or purpose, e.g. 'Reading interventionist'")
    fte: float = Field(default=0.0, ge=0, le=1000, allow_inf_nan=False)
    amount_cents: Cents


class PlanNew(_Strict):
    fiscal_year: int = Field(ge=2000, le=2100, description="FY number: FY 2027 runs 2026-07-01 to 2027-06-30")
    award_cents: Cents


class PlanEdit(_Strict):
    """The whole editable plan (lines absent from ``lines`` are removed)."""

    version: Version
    award_cents: Cents
    strategies: list[StrategyIn] = Field(default_factory=list, max_length=50)
    goals: list[GoalIn] = Field(default_factory=list, max_length=50)
    lines: list[LineIn] = Field(default_factory=list, max_length=200)


class VersionIn(_Strict):
    version: Version


class ReviewIn(_Strict):
    version: Version
    comment: Text = Field(default="", max_length=4000)


class BackupItem(_Strict):
    description: Text = Field(min_length=1, max_length=200)
    amount_cents: int = Field(ge=1, le=MAX_CENTS)


class DrawdownIn(_Strict):
    amount_cents: int = Field(ge=1, le=MAX_CENTS)
    backup: Text = Field(max_length=4000, description="what the money paid for (invoice, payroll period …)")
    items: list[BackupItem] = Field(default_factory=list, max_length=100, description="optional; must sum exactly")

"""A fixed fund to the highest-need schools, into a restricted line (``fairshare fund``).

The spec (YAML) names the fund's total, who is eligible — the top N by a need index, an index
threshold, or down the ranking at a stated rate until the money runs out — how the money is
shared (per pupil, or per pupil scaled by the index), a minimum grant, the restricted line it
lands in and the approvals a school's plan of partners needs. Every number carries a reference.

Ranks: 1 = highest index; equal indexes rank by entity id. Cents: with top N or a threshold the
fund is shared exactly, by largest remainder (ties by entity id); down the ranking each grant is
rate × pupils (or the minimum) rounded half away from zero, and what is left is reported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from fairshare.errors import FormulaError, InputError, Problem, ProblemList, RunError
from fairshare.io.columns import has_columns, number_column, text_column
from fairshare.io.contract import check_duplicates
from fairshare.io.read import read_raw
from fairshare.rules._yaml import load_yaml_file, nearest_mark
from fairshare.rules.money import dollars_text, largest_remainder, to_cents
from fairshare.rules.schema import Cited, StrictModel, validation_problems

__all__ = ["FUND_ROUNDING", "FundResult", "FundSpec", "allocate_fund", "load_fund_spec", "load_fund_table"]

FUND_ROUNDING = (
    "Grants are computed in float64 dollars. With top N or an index threshold the fund is shared exactly by "
    "largest remainder (whole cents, ties by school id); down the ranking each grant is rounded to whole cents "
    "half away from zero and what is left of the fund is reported, not spread."
)


class FundEntity(StrictModel):
    id: str = Field(description="the column that identifies a school")
    name: str | None = None
    pupils: str = Field(description="the column with the pupil count the rate applies to")
    index: str = Field(description="the column with the need index (higher = more need)")


class Eligibility(StrictModel):
    rule: Literal["top", "threshold", "until_exhausted"]
    top: Cited | None = None
    threshold: Cited | None = None
    #: dollars per pupil, for ``until_exhausted``
    rate: Cited | None = None
    #: ``until_exhausted``: the first school the money does not cover gets nothing (stop) or what is left (partial)
    last: Literal["stop", "partial"] = "stop"

    @model_validator(mode="after")
    def _needs(self) -> Eligibility:
        need = {"top": "top", "threshold": "threshold", "until_exhausted": "rate"}[self.rule]
        if getattr(self, need) is None:
            raise ValueError(f"eligibility rule {self.rule!r} needs `{need}`")
        if self.rule == "top" and self.top is not None and (self.top.value < 1 or self.top.value % 1):
            raise ValueError("`top` must be a whole number of schools, at least 1")
        return self


class Line(StrictModel):
    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    label: str = Field(min_length=1)
    restriction: str = Field(min_length=1, description="what the line may pay for")


class Approval(StrictModel):
    label: str = Field(min_length=1)


class FundSpec(StrictModel):
    fund: str = Field(min_length=1)
    label: str = Field(min_length=1)
    description: str | None = None
    date: dt.date
    entity: FundEntity
    total: Cited
    eligibility: Eligibility
    share: Literal["per_pupil", "per_pupil_by_index"] = "per_pupil"
    minimum_grant: Cited | None = None
    line: Line
    approvals: dict[str, Approval] = Field(default_factory=dict)
    source: str = "<string>"

    def cited(self) -> dict[str, Cited]:
        """Every number of the spec by its path, for the manifest and the report."""
        e = self.eligibility
        items = {"total": self.total, "eligibility.top": e.top, "eligibility.threshold": e.threshold}
        items |= {"eligibility.rate": e.rate, "minimum_grant": self.minimum_grant}
        return {k: v for k, v in items.items() if v is not None}


def load_fund_spec(path: str | Path) -> FundSpec:
    p = Path(path)
    data, marks = load_yaml_file(p)
    if not isinstance(data, dict):
        raise FormulaError(Problem("invalid_value", "a fund spec must be a YAML mapping", file=str(p), line=1, col=1))
    try:
        spec = FundSpec.model_validate({**data, "source": str(p)})
    except ValidationError as exc:
        raise FormulaError(validation_problems(exc, (), FundSpec, str(p), marks)) from None
    if spec.minimum_grant is not None and spec.minimum_grant.value < 0:
        line, col = nearest_mark(marks, ("minimum_grant", "value"))
        raise FormulaError(
            Problem("invalid_value", "minimum_grant must not be negative", file=str(p), line=line, col=col)
        )
    return spec


@dataclass(frozen=True)
class FundTable:
    ids: np.ndarray
    names: np.ndarray
    pupils: np.ndarray
    index: np.ndarray
    source: str
    sha256: str


def load_fund_table(path: str | Path, spec: FundSpec) -> FundTable:
    """The schools: id, name, pupils (a whole number >= 0) and index (a number) — every problem located."""
    raw = read_raw(path)
    e = spec.entity
    problems = ProblemList()
    cols = [e.id, e.pupils, e.index] + ([e.name] if e.name else [])
    if not has_columns(raw, cols, problems, "named in the fund spec's entity"):
        raise InputError(problems.problems)
    ids = text_column(raw, e.id, problems)
    names = text_column(raw, e.name, problems, required=False) if e.name else ids.copy()
    pupils = number_column(raw, e.pupils, problems, minimum=0, integer=True)
    index = number_column(raw, e.index, problems)
    check_duplicates(problems, raw, e.id, "school")
    if problems:
        raise InputError(problems.problems)
    names = np.where(names == "", ids, names)
    return FundTable(ids, names, pupils, index, raw.path, raw.sha256)


@dataclass(frozen=True)
class FundResult:
    spec: FundSpec
    table: FundTable
    rank: np.ndarray  # 1 = highest need
    eligible: np.ndarray  # bool
    grant_cents: np.ndarray  # int64
    minimum_applied: np.ndarray  # bool
    reasons: list[str]
    unallocated_cents: int

    @property
    def total_cents(self) -> int:
        return int(to_cents(self.spec.total.value))


def _ranks(index: np.ndarray, ids: np.ndarray) -> np.ndarray:
    order = np.lexsort((ids.astype(str), -index))
    rank = np.empty(len(index), dtype=np.int64)
    rank[order] = np.arange(1, len(index) + 1)
    return rank


def _shares(total: float, weight: np.ndarray, minimum: float) -> tuple[np.ndarray, np.ndarray]:
    """``total`` in proportion to ``weight``, no share below ``minimum`` (those at the minimum are fixed and the
    rest share what remains in proportion, repeated until no share is below it)."""
    fixed = np.zeros(len(weight), dtype=bool)
    while True:
        free = ~fixed
        pool = total - minimum * int(fixed.sum())
        wsum = float(weight[free].sum())
        share = np.where(fixed, minimum, 0.0)
        if wsum > 0:
            share[free] = pool * weight[free] / wsum
        elif free.any():
            share[free] = pool / int(free.sum())
        low = free & (share < minimum)
        if not low.any():
            return share, fixed
        fixed |= low


def allocate_fund(spec: FundSpec, table: FundTable) -> FundResult:
    n = len(table.ids)
    total = spec.total.value
    total_cents = int(to_cents(total))
    minimum = spec.minimum_grant.value if spec.minimum_grant is not None else 0.0
    rank = _ranks(table.index, table.ids)
    e = spec.eligibility
    at_min = np.zeros(n, dtype=bool)
    reasons = [""] * n
    unallocated = 0
    partial: int | None = None
    if e.rule in ("top", "threshold"):
        if e.rule == "top":
            assert e.top is not None
            eligible = rank <= int(e.top.value)
        else:
            assert e.threshold is not None
            eligible = table.index >= e.threshold.value
        k = int(eligible.sum())
        if k and minimum * k > total + 1e-9:
            raise RunError(
                Problem(
                    "fund_too_small",
                    f"{k} eligible schools at the minimum grant of ${minimum:,.2f} need ${minimum * k:,.2f}, "
                    f"more than the fund's ${total:,.2f}",
                    file=spec.source,
                    hint="lower the minimum grant, make fewer schools eligible or raise the total",
                )
            )
        weight = table.pupils * (table.index if spec.share == "per_pupil_by_index" else 1.0)
        if spec.share == "per_pupil_by_index" and (table.index[eligible] < 0).any():
            raise RunError(
                Problem(
                    "invalid_value",
                    "shares scaled by the index need a non-negative index for every eligible school",
                    file=spec.source,
                    hint="rescale the index to a positive range (fairshare index does: 0.01-0.99)",
                )
            )
        where = np.flatnonzero(eligible)
        if k:
            share, fixed = _shares(total, weight[where], minimum)
            at_min[where] = fixed & (minimum > 0)
            cents = np.zeros(n, dtype=np.int64)
            ids = table.ids[where].astype(str)
            cents[where] = largest_remainder(share * 100.0, total_cents, lambda t: (ids[t],))
        else:
            cents = np.zeros(n, dtype=np.int64)
            unallocated = total_cents
    else:
        assert e.rate is not None
        rate = e.rate.value
        wanted = np.maximum(to_cents(rate * table.pupils), int(to_cents(minimum)))
        order = np.argsort(rank)
        running = np.cumsum(wanted[order])
        covered = running <= total_cents
        cents = np.zeros(n, dtype=np.int64)
        cents[order[covered]] = wanted[order[covered]]
        first_out = int(np.argmin(covered)) if not covered.all() else None
        left = total_cents - int(cents.sum())
        if first_out is not None and e.last == "partial" and left > 0:
            partial = int(order[first_out])
            cents[partial] = left
        eligible = cents > 0
        at_min = eligible & (wanted > to_cents(rate * table.pupils)) & (cents == wanted)
        unallocated = total_cents - int(cents.sum())
    for i in range(n):
        reasons[i] = _reason(spec, table, rank, bool(eligible[i]), i)
    if partial is not None:
        reasons[partial] = reasons[partial].replace(
            "reached before the fund ran out", "the fund ran out here: it gets what was left"
        )
    return FundResult(spec, table, rank, eligible, cents, at_min, reasons, unallocated)


def _reason(spec: FundSpec, table: FundTable, rank: np.ndarray, eligible: bool, i: int) -> str:
    e = spec.eligibility
    head = f"index {table.index[i]:.4g}, rank {int(rank[i])} of {len(rank)}"
    if e.rule == "top":
        assert e.top is not None
        top = int(e.top.value)
        return f"{head} — {'within' if eligible else 'outside'} the top {top}"
    if e.rule == "threshold":
        assert e.threshold is not None
        sign = ">=" if eligible else "<"
        return f"{head} — index {sign} the threshold {e.threshold.value:g}"
    if eligible:
        return f"{head} — reached before the fund ran out"
    return f"{head} — the fund ran out before this rank"


def fund_summary(result: FundResult) -> dict[str, Any]:
    s = result.spec
    got = result.eligible
    pupils = float(result.table.pupils[got].sum())
    paid = int(result.grant_cents.sum())
    return {
        "fund": s.fund,
        "label": s.label,
        "total": dollars_text(result.total_cents),
        "paid": dollars_text(paid),
        "unallocated": dollars_text(result.unallocated_cents),
        "schools": int(got.sum()),
        "of_schools": len(got),
        "pupils": pupils,
        "per_pupil": dollars_text(int(to_cents(paid / 100.0 / pupils))) if pupils > 0 else None,
        "at_minimum": int(result.minimum_applied.sum()),
    }

"""The spec of a trends report (``fairshare trends``): strict models, references checked, errors at file:line:col.

A spec declares long-format indicator tables (which columns hold unit, indicator, period and value, and
row filters), how unit names are normalised, each indicator's label, unit and direction, groups of units
(listed or read from a table), the comparisons (indicator, from period, to period, units), the reference
checks ("above its 2018-19 value in 2024-25"), changes read from wide tables (two period columns), shares
by period (a part of a whole) and the published claims to recompute. Loading collects every problem.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from fairshare.errors import FormulaError, Problem
from fairshare.rules._yaml import Marks, key_mark, load_yaml_file, load_yaml_text, nearest_mark
from fairshare.rules.schema import Reference, StrictModel, validate_spec

__all__ = ["RESERVED_OUTPUTS", "TrendsModel", "TrendsSpec", "load_trends_spec", "load_trends_spec_text"]

Path_ = tuple[str | int, ...]
Scalar = str | int | float
#: files the report always writes; a change or share id may not take one of these names
RESERVED_OUTPUTS = ("improvement", "units", "exceeded", "claims", "report", "trends", "manifest")


class _Aliased(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True)


class TableSpec(StrictModel):
    """A long-format table: one row per unit, indicator and period."""

    file: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    indicator: str = Field(min_length=1)
    period: str = Field(min_length=1)
    value: str = Field(min_length=1)
    label: str | None = None
    #: keep only rows whose column equals the value (or one of the values)
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


class Names(StrictModel):
    """How unit names are normalised before they are matched (in every table and group)."""

    strip_suffixes: list[str] = Field(default_factory=list)
    strip_prefixes: list[str] = Field(default_factory=list)
    #: characters removed from both ends (e.g. a table marker "*")
    strip_chars: str = ""

    def normalise(self, name: str) -> str:
        s = name.strip()
        if self.strip_chars:
            s = s.strip(self.strip_chars).strip()
        for suffix in self.strip_suffixes:
            if suffix and s.endswith(suffix):
                s = s[: -len(suffix)].strip()
        for prefix in self.strip_prefixes:
            if prefix and s.startswith(prefix):
                s = s[len(prefix) :].strip()
        return s


class Indicator(StrictModel):
    label: str = Field(min_length=1)
    unit: str = Field(min_length=1, description="free text: index points, percent ...")
    direction: Literal["higher_is_better", "lower_is_better"]
    description: str | None = None

    @property
    def sign(self) -> float:
        return 1.0 if self.direction == "higher_is_better" else -1.0


class FromTable(StrictModel):
    file: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


class Group(StrictModel):
    label: str = Field(min_length=1)
    units: list[str] | None = None
    from_table: FromTable | None = None

    @model_validator(mode="after")
    def _one(self) -> Group:
        if (self.units is None) == (self.from_table is None):
            raise ValueError("a group needs exactly one of `units` (a list of names) and `from_table`")
        return self


class Comparison(_Aliased):
    label: str | None = None
    table: str = Field(min_length=1)
    indicator: str = Field(min_length=1)
    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    #: "all" (every unit the table has for the indicator) or a group id
    units: str = "all"


class Exceeded(StrictModel):
    label: str | None = None
    table: str = Field(min_length=1)
    indicator: str = Field(min_length=1)
    reference: str = Field(min_length=1, description="the reference period")
    period: str = Field(min_length=1, description="the period compared with it")
    units: str = "all"


class PeriodColumn(StrictModel):
    column: str = Field(min_length=1)
    period: str = Field(min_length=1)


class Change(_Aliased):
    """A wide table with one column per period: each row's change, recomputed against a reported change."""

    label: str = Field(min_length=1)
    file: str = Field(min_length=1)
    row: str = Field(min_length=1, description="the column naming each row (a unit or a category)")
    by: str | None = Field(default=None, description="a column splitting the rows into series (e.g. measure)")
    from_: PeriodColumn = Field(alias="from")
    to: PeriodColumn
    kind: Literal["points", "percent"] = "points"
    reported: str | None = None
    #: group ids: one row per group (means over its members) instead of one row per unit
    groups: list[str] = Field(default_factory=list)
    #: rows reported individually beside the groups (e.g. the State row)
    keep: list[str] = Field(default_factory=list)


class Share(StrictModel):
    label: str = Field(min_length=1)
    file: str = Field(min_length=1)
    period: str = Field(min_length=1)
    part: str = Field(min_length=1)
    whole: str = Field(min_length=1)
    reported: str | None = None


class Claim(StrictModel):
    text: str = Field(min_length=1)
    comparison: str | None = None
    exceeded: str | None = None
    change: str | None = None
    share: str | None = None
    #: a change's row (and series), or a share's period
    row: str | None = None
    series: str | None = None
    period: str | None = None
    count: int | None = Field(default=None, ge=0)
    of: int | None = Field(default=None, ge=0)
    percent: float | None = None
    source: Reference | None = None

    @model_validator(mode="after")
    def _shape(self) -> Claim:
        kinds = [k for k in ("comparison", "exceeded", "change", "share") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a claim needs exactly one of `comparison`, `exceeded`, `change` and `share`")
        if kinds[0] in ("comparison", "exceeded"):
            if self.count is None or self.percent is not None:
                raise ValueError(f"a claim on a {kinds[0]} states `count` (and optionally `of`), not `percent`")
        else:
            if self.percent is None or self.count is not None or self.of is not None:
                raise ValueError(f"a claim on a {kinds[0]} states `percent`, not `count`")
            if kinds[0] == "change" and self.row is None:
                raise ValueError("a claim on a change names its `row`")
            if kinds[0] == "share" and self.period is None:
                raise ValueError("a claim on a share names its `period`")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("comparison", "exceeded", "change", "share") if getattr(self, k) is not None)


class TrendsModel(StrictModel):
    label: str = Field(min_length=1)
    description: str | None = None
    source: Reference | None = None
    names: Names = Field(default_factory=Names)
    tables: dict[str, TableSpec] = Field(min_length=1)
    indicators: dict[str, Indicator] = Field(min_length=1)
    groups: dict[str, Group] = Field(default_factory=dict)
    comparisons: dict[str, Comparison] = Field(min_length=1)
    exceeded: dict[str, Exceeded] = Field(default_factory=dict)
    changes: dict[str, Change] = Field(default_factory=dict)
    shares: dict[str, Share] = Field(default_factory=dict)
    claims: list[Claim] = Field(default_factory=list)


@dataclass(frozen=True)
class TrendsSpec:
    model: TrendsModel
    file: str
    marks: Marks

    def where(self, *path: str | int, key: bool = False) -> dict[str, Any]:
        line, col = key_mark(self.marks, path) if key else nearest_mark(self.marks, path)
        return {"file": self.file, "line": line, "col": col}


def load_trends_spec(path: str | Path) -> TrendsSpec:
    p = Path(path)
    data, marks = load_yaml_file(p)
    return _build(data, marks, str(p))


def load_trends_spec_text(text: str, file: str = "<string>") -> TrendsSpec:
    data, marks = load_yaml_text(text, file)
    return _build(data, marks, file)


def _build(data: Any, marks: Marks, file: str) -> TrendsSpec:
    model = validate_spec(TrendsModel, data, file, marks, "a trends spec")
    spec = TrendsSpec(model, file, marks)
    problems = _check(spec)
    if problems:
        raise FormulaError(problems)
    return spec


def _check(spec: TrendsSpec) -> list[Problem]:
    m = spec.model
    problems: list[Problem] = []

    def ref(name: str, known: dict[str, Any] | list[str], what: str, path: Path_, extra: tuple[str, ...] = ()) -> None:
        if name in known or name in extra:
            return
        names = [*extra, *known]
        near = difflib.get_close_matches(name, names, n=1)
        problems.append(
            Problem(
                "unknown_id",
                f"{name!r} is not {what}",
                hint=f"did you mean {near[0]!r}?" if near else (f"declared: {', '.join(names)}" if names else None),
                **spec.where(*path),
            )
        )

    for cid, c in m.comparisons.items():
        ref(c.table, m.tables, "a declared table", ("comparisons", cid, "table"))
        ref(c.indicator, m.indicators, "a declared indicator", ("comparisons", cid, "indicator"))
        ref(c.units, m.groups, "`all` or a declared group", ("comparisons", cid, "units"), ("all",))
    for eid, e in m.exceeded.items():
        ref(e.table, m.tables, "a declared table", ("exceeded", eid, "table"))
        ref(e.indicator, m.indicators, "a declared indicator", ("exceeded", eid, "indicator"))
        ref(e.units, m.groups, "`all` or a declared group", ("exceeded", eid, "units"), ("all",))
    for xid, x in m.changes.items():
        for i, g in enumerate(x.groups):
            ref(g, m.groups, "a declared group", ("changes", xid, "groups", i), ("all",))
    for section in ("changes", "shares"):
        for oid in getattr(m, section):
            if oid in RESERVED_OUTPUTS or oid in (m.changes if section == "shares" else {}):
                problems.append(
                    Problem(
                        "duplicate_id",
                        f"{section}.{oid} would write {oid}.csv, a name the report already uses",
                        hint=f"rename it; reserved: {', '.join(RESERVED_OUTPUTS)}",
                        **spec.where(section, oid, key=True),
                    )
                )
    for i, claim in enumerate(m.claims):
        target = getattr(claim, claim.kind)
        known: dict[str, dict[str, Any]] = {
            "comparison": m.comparisons,
            "exceeded": m.exceeded,
            "change": m.changes,
            "share": m.shares,
        }
        ref(target, known[claim.kind], f"a declared {claim.kind}", ("claims", i, claim.kind))
    return problems

"""The spec of a school spending review (``fairshare review schools``): strict models and their checks.

A spec declares the tables it reads (the first one has one row per unit; the others are joined to it
by a key), typed columns, derived variables (expressions), cited parameters, which column or variable
plays each role (unit id, name, district, type, grade span, enrollment, spending, high needs, outcome),
central-office spending, exclusions and groups (conditions), the focus district and unit, and the peer
settings. Every number it uses carries a reference; a numeric literal other than 0 and 1 in a condition
is refused. Every problem names ``file:line:col`` and loading collects them all before raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, model_validator

from fairshare.rules._yaml import Marks, nearest_mark
from fairshare.rules.expr import Expr
from fairshare.rules.schema import Cited, CitedParameter, Reference, SpecVariable, StrictModel

__all__ = ["GRADE_VARIABLES", "PEER_BUILTINS", "ReviewModel", "ReviewSpec"]

Path_ = tuple[str | int, ...]
#: peer variables the review computes itself (besides numeric columns and variables)
GRADE_VARIABLES = ("grade_span", "grade_low", "grade_high")
PEER_BUILTINS = ("high_needs", "enrollment", *GRADE_VARIABLES)


class ColumnSpec(StrictModel):
    type: Literal["number", "integer", "text", "yes_no"]
    #: the header in the file; defaults to the column's id
    column: str | None = None
    label: str | None = None


class Join(StrictModel):
    key: str = Field(description="this table's column holding the unit's key")
    to: str = Field(description="the first table's column (or a variable) it matches")


class TableSpec(StrictModel):
    label: str | None = None
    description: str | None = None
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    join: Join | None = None
    #: keep only the rows where this condition on the table's own columns holds (e.g. one school year)
    rows: str | None = None


class Roles(StrictModel):
    kind: str = Field(default="school", min_length=1, description="what a unit is called: school, campus, district")
    id: str
    name: str | None = None
    district: str | None = None
    district_name: str | None = None
    type: str | None = None
    grade_span: str | None = None


class CentralOffice(StrictModel):
    label: str = Field(min_length=1)
    #: a district-level amount (the same on every row of a district), divided by the district's enrollment
    amount: str | None = None
    #: the district's enrollment (the same on every row); default: the sum of its units' enrollment in the table
    enrollment: str | None = None
    #: or an amount per pupil already
    per_pupil: str | None = None

    @model_validator(mode="after")
    def _one(self) -> CentralOffice:
        if (self.amount is None) == (self.per_pupil is None):
            raise ValueError("central_office needs exactly one of `amount` (a district total) and `per_pupil`")
        if self.per_pupil is not None and self.enrollment is not None:
            raise ValueError("central_office.enrollment divides an `amount`; it cannot go with `per_pupil`")
        return self


class Spending(StrictModel):
    label: str = Field(min_length=1, description="what the per-pupil figure is called")
    description: str = Field(min_length=1, description="what the figure counts and what it leaves out")
    enrollment: str
    expenditure: str | None = None
    per_pupil: str | None = None
    central_office: CentralOffice | None = None

    @model_validator(mode="after")
    def _one(self) -> Spending:
        if (self.expenditure is None) == (self.per_pupil is None):
            raise ValueError("spending needs exactly one of `expenditure` (a total) and `per_pupil`")
        return self


class HighNeeds(StrictModel):
    label: str = Field(min_length=1)
    #: a count of high-need pupils (divided by the enrollment), a percent (0-100) or a share (0-1)
    count: str | None = None
    percent: str | None = None
    share: str | None = None

    @model_validator(mode="after")
    def _one(self) -> HighNeeds:
        if sum(x is not None for x in (self.count, self.percent, self.share)) != 1:
            raise ValueError("high_needs needs exactly one of `count`, `percent` and `share`")
        return self


class Outcome(StrictModel):
    label: str = Field(min_length=1)
    #: a numeric column or variable, or a text column read through `scale`
    value: str
    scale: dict[str, float] | None = None
    #: text values that mean "no outcome" (e.g. Not Rated) when `scale` is given
    not_scored: list[str] = Field(default_factory=list)
    reference: Reference | None = None

    @model_validator(mode="after")
    def _scale(self) -> Outcome:
        if self.not_scored and self.scale is None:
            raise ValueError("outcome.not_scored goes with `scale`")
        if self.scale is not None and self.reference is None:
            raise ValueError("an outcome `scale` turns text into numbers: give its `reference`")
        return self


class Exclusion(StrictModel):
    label: str = Field(min_length=1)
    when: str


class Group(StrictModel):
    label: str = Field(min_length=1)
    when: str | None = None
    reference: bool = False


class Focus(StrictModel):
    district: str | int | None = None
    unit: str | int | None = None


class PeerVariable(StrictModel):
    weight: Cited
    scale: Literal["linear", "log"] = "linear"


class TypeRule(StrictModel):
    rule: Literal["exact", "penalty"]
    penalty: Cited | None = None

    @model_validator(mode="after")
    def _penalty(self) -> TypeRule:
        if (self.rule == "penalty") != (self.penalty is not None):
            raise ValueError("`penalty` goes with rule: penalty, and only with it")
        return self


class Flags(StrictModel):
    below: Cited = Field(description="percent below the peers' median that flags a unit")
    above: Cited = Field(description="percent above the peers' median that flags a unit")


class Peers(StrictModel):
    k: Cited
    standardise: Literal["z_score", "none"]
    variables: dict[str, PeerVariable] = Field(min_length=1)
    type: TypeRule | None = None
    same_district: bool = True
    flags: Flags


class ReviewModel(StrictModel):
    review: str = Field(min_length=1)
    label: str = Field(min_length=1)
    description: str | None = None
    tables: dict[str, TableSpec] = Field(min_length=1)
    variables: dict[str, SpecVariable] = Field(default_factory=dict)
    parameters: dict[str, CitedParameter] = Field(default_factory=dict)
    unit: Roles
    spending: Spending
    high_needs: HighNeeds | None = None
    outcome: Outcome | None = None
    missing: Literal["error", "leave_out"]
    exclude: dict[str, Exclusion] = Field(default_factory=dict)
    groups: dict[str, Group] = Field(default_factory=dict)
    focus: Focus | None = None
    peers: Peers | None = None


@dataclass(frozen=True)
class ReviewSpec:
    """A loaded, checked spec: the models plus the parsed expressions the data step evaluates."""

    model: ReviewModel
    variables: dict[str, Expr]
    exclusions: dict[str, Expr]
    groups: dict[str, Expr | None]
    joins: dict[str, Expr]
    source: str
    text: str
    marks: Marks
    #: table id -> the condition its rows must meet (``rows:``)
    row_filters: dict[str, Expr] = field(default_factory=dict)

    @property
    def primary(self) -> str:
        return next(iter(self.model.tables))

    def column_table(self) -> dict[str, str]:
        """Column id -> the table declaring it."""
        return {c: t for t, spec in self.model.tables.items() for c in spec.columns}

    def column(self, cid: str) -> ColumnSpec:
        return self.model.tables[self.column_table()[cid]].columns[cid]

    def where(self, *path: str | int) -> dict[str, Any]:
        line, col = nearest_mark(self.marks, tuple(path))
        return {"file": self.source, "line": line, "col": col}

    def cited(self) -> dict[str, Cited | CitedParameter]:
        """Every cited number by its path, for the manifest and the report."""
        m = self.model
        out: dict[str, Cited | CitedParameter] = {f"parameters.{k}": p for k, p in m.parameters.items()}
        if m.peers is not None:
            p = m.peers
            out["peers.k"] = p.k
            out |= {f"peers.variables.{v}.weight": pv.weight for v, pv in p.variables.items()}
            if p.type is not None and p.type.penalty is not None:
                out["peers.type.penalty"] = p.type.penalty
            out["peers.flags.below"] = p.flags.below
            out["peers.flags.above"] = p.flags.above
        return out

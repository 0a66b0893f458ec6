"""The models of an identification rule file (``fairshare identify``): the declare step.

Pydantic models forbid unknown keys everywhere; the criterion tree (``bottom``/``top`` ranks,
``when`` conditions, ``any_of``/``all_of``/``not``) is validated node by node by
:mod:`fairshare.programs.identify_rules` into the frozen dataclasses below, which the evaluator reads.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from fairshare.rules._yaml import Marks, nearest_mark
from fairshare.rules.expr import Expr
from fairshare.rules.schema import CitedParameter, SpecVariable, StrictModel, check_unit

__all__ = [
    "STATUS_NAMES",
    "AllOf",
    "AnyOf",
    "Cond",
    "IdentifyRules",
    "Node",
    "Not",
    "Rank",
    "RulesModel",
    "fields_at",
    "leaves",
]

Missing = Literal["error", "not_met"]
Path_ = tuple[str | int, ...]
#: names a tier condition may read besides columns, variables and parameters
STATUS_NAMES = ("previously_identified", "transition")


class ColumnSpec(StrictModel):
    type: Literal["number", "integer", "text", "yes_no"]
    #: the header in the file; defaults to the column's id
    column: str | None = None
    label: str | None = None
    unit: str | None = None
    required: bool = True

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str | None) -> str | None:
        return None if v is None else check_unit(v)


class Join(StrictModel):
    key: str = Field(description="this table's column holding the entity's key")
    to: str = Field(description="the primary table's column (or a variable computed from it) it matches")


class TableSpec(StrictModel):
    label: str | None = None
    description: str | None = None
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    join: Join | None = None
    year: str | None = None
    filter: str | None = None


class EntitySpec(StrictModel):
    kind: str = Field(min_length=1)
    table: str
    id: str
    name: str | None = None
    year: str | None = None


class UniverseEntry(StrictModel):
    label: str = Field(min_length=1)
    when: str
    missing: Missing = "error"


class _RankModel(StrictModel):
    id: str
    label: str | None = None
    bottom: Any = None
    top: Any = None
    by: str
    missing: Missing = "error"


class _WhenModel(StrictModel):
    id: str
    label: str | None = None
    when: str
    missing: Missing = "error"


class _AnyModel(StrictModel):
    id: str | None = None
    label: str | None = None
    any_of: list[Any] = Field(min_length=1)


class _AllModel(StrictModel):
    id: str | None = None
    label: str | None = None
    all_of: list[Any] = Field(min_length=1)


class _NotModel(StrictModel):
    id: str | None = None
    label: str | None = None
    not_: Any = Field(alias="not")


_FORMS: dict[str, type[StrictModel]] = {
    "bottom": _RankModel,
    "top": _RankModel,
    "when": _WhenModel,
    "any_of": _AnyModel,
    "all_of": _AllModel,
    "not": _NotModel,
}


class Lookback(StrictModel):
    years: str
    require: Literal["any", "all"]


class PreviousList(StrictModel):
    id: str = Field(description="the list file's column naming each previously identified entity")
    match: str | None = Field(default=None, description="the entity column those names match (default: the id)")
    tier: str | None = Field(default=None, description="the list file's column with the entity's current tier")


class Previous(StrictModel):
    column: str | None = None
    list: PreviousList | None = None


class Exit(StrictModel):
    rule: Literal["immediate", "never", "phased"]
    after_years: str | None = None


class Level(StrictModel):
    label: str = Field(min_length=1)
    meetings: str
    attendees: str = Field(min_length=1)
    when: Any = None
    description: str | None = None


class Scheme(StrictModel):
    label: str = Field(min_length=1)
    description: str | None = None
    levels: dict[str, Level] = Field(min_length=1)


class Incentive(StrictModel):
    share: str
    by: str
    rule: Literal["top", "proportional"]
    count: str | None = None
    label: str = "incentive for improvement"
    missing: Missing = "error"


class Base(StrictModel):
    by: str
    label: str = Field(min_length=1)


class GrantSpec(StrictModel):
    label: str = Field(min_length=1)
    description: str | None = None
    total: str
    administration: str
    incentive: Incentive | None = None
    base: Base


class RulesModel(StrictModel):
    identify: str = Field(min_length=1)
    label: str = Field(min_length=1)
    description: str | None = None
    year: int | None = None
    entity: EntitySpec
    tables: dict[str, TableSpec] = Field(min_length=1)
    variables: dict[str, SpecVariable] = Field(default_factory=dict)
    parameters: dict[str, CitedParameter] = Field(default_factory=dict)
    universe: dict[str, UniverseEntry] = Field(default_factory=dict)
    rule: Any
    lookback: Lookback | None = None
    previous: Previous | None = None
    exit: Exit | None = None
    tiers: dict[str, Scheme] = Field(default_factory=dict)
    grant: GrantSpec | None = None


# ------------------------------------------------------------------ criterion tree


@dataclass(frozen=True)
class Rank:
    id: str
    label: str
    direction: Literal["bottom", "top"]
    count: str  # parameter id
    by: str
    missing: Missing
    path: Path_


@dataclass(frozen=True)
class Cond:
    id: str
    label: str
    expr: Expr
    text: str
    missing: Missing
    path: Path_


@dataclass(frozen=True)
class AnyOf:
    id: str | None
    label: str | None
    children: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    id: str | None
    label: str | None
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    id: str | None
    label: str | None
    child: Node


Node = Rank | Cond | AnyOf | AllOf | Not


def leaves(node: Node) -> list[Rank | Cond]:
    if isinstance(node, (Rank, Cond)):
        return [node]
    if isinstance(node, Not):
        return leaves(node.child)
    return [leaf for c in node.children for leaf in leaves(c)]


@dataclass(frozen=True)
class IdentifyRules:
    """A loaded, checked rule file: the models plus parsed expressions and criterion trees."""

    model: RulesModel
    rule: Node
    #: tier scheme id -> level id -> its condition (None: catches the rest)
    tier_rules: dict[str, dict[str, Node | None]]
    universe: dict[str, Expr]
    variables: dict[str, Expr]
    filters: dict[str, Expr]
    source: str
    text: str
    marks: Marks

    @property
    def params(self) -> dict[str, CitedParameter]:
        return self.model.parameters

    def column_table(self) -> dict[str, str]:
        """Column id -> the table declaring it."""
        return {c: t for t, spec in self.model.tables.items() for c in spec.columns}

    def where(self, *path: str | int) -> dict[str, Any]:
        line, col = nearest_mark(self.marks, tuple(path))
        return {"file": self.source, "line": line, "col": col}


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` (a Pydantic error location without the offending key): follows
    sub-models, the values of mappings (skipping their keys) and list items."""
    current: Any = model
    parts = list(loc)
    while parts:
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            part = parts.pop(0)
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return []
            current = field.annotation
        elif origin is dict:
            parts.pop(0)
            current = typing.get_args(current)[1]
        elif origin is list:
            parts.pop(0)
            current = typing.get_args(current)[0]
        else:  # a union (X | None): the model in it
            models = [a for a in typing.get_args(current) if isinstance(a, type) and issubclass(a, BaseModel)]
            if not models:
                return []
            current = models[0]
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        models = [a for a in typing.get_args(current) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not models:
            return []
        current = models[0]
    return [f.alias or n for n, f in current.model_fields.items()]

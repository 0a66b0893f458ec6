"""Strict models of a ledger mapping file: which columns of one district's extract hold what.

A mapping names the columns (fund, function, object, program, location, description, and
either ``amount`` or ``debit``/``credit``), the fiscal year (a column or a fixed year), and
exclusion rules that take summary, total or budget rows out of the import with a reason.
An exclusion rule holds when every one of its conditions holds; a condition tests one column:
``blank: true`` (the cell is empty), ``matches`` (a regular expression found in the cell) or
``equals`` (the cell is one of a list of values). ``fallback`` names, for a code role, the column
to read where the named one is blank (an extract that moves the function to the program column on
some rows); every row taken from a fallback is counted in the import's manifest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from fairshare.rules._yaml import Marks, key_mark, load_yaml_file
from fairshare.rules.schema import StrictModel, validate_spec

__all__ = ["Columns", "Condition", "ExcludeRule", "LedgerMapping", "LoadedMapping", "load_mapping"]

Name = Annotated[str, Field(min_length=1)]


class Columns(StrictModel):
    """Column names of the extract; ``None`` where the extract has no such column."""

    fund: Name
    object: Name | None = None
    function: Name | None = None
    program: Name | None = None
    location: Name | None = None
    description: Name | None = None
    district: Name | None = None
    fiscal_year: Name | None = None
    amount: Name | None = None
    debit: Name | None = None
    credit: Name | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> Columns:
        if (self.amount is None) == (self.debit is None and self.credit is None):
            raise ValueError("give either amount, or debit and credit (amount = debit - credit)")
        if self.amount is None and (self.debit is None or self.credit is None):
            raise ValueError("debit and credit go together: give both")
        return self

    def named(self) -> dict[str, str]:
        """Role -> column name, for the roles this extract has."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Condition(StrictModel):
    column: Name
    blank: bool | None = None
    matches: str | None = None
    equals: list[str] | None = None

    @field_validator("matches")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if sum(x is not None for x in (self.blank, self.matches, self.equals)) != 1:
            raise ValueError("a condition has exactly one test: blank, matches or equals")
        return self


class ExcludeRule(StrictModel):
    id: Name
    reason: Name
    when: list[Condition] = Field(min_length=1)


class LedgerMapping(StrictModel):
    source: Name
    district: Name | None = None
    fiscal_year: int | None = Field(default=None, ge=1900, le=2200)
    note: str | None = None
    columns: Columns
    #: code role -> the column read where the role's own column is blank
    fallback: dict[Literal["fund", "function", "object", "program", "location"], Name] = Field(default_factory=dict)
    exclude: list[ExcludeRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _whole(self) -> LedgerMapping:
        if (self.district is None) == (self.columns.district is None):
            raise ValueError("name the district once: either district: (fixed) or columns.district")
        if (self.fiscal_year is None) == (self.columns.fiscal_year is None):
            raise ValueError("give the fiscal year once: either fiscal_year: (fixed) or columns.fiscal_year")
        for role in self.fallback:
            if getattr(self.columns, role) is None:
                raise ValueError(f"fallback for {role}: name the {role} column in columns: first")
        ids = [r.id for r in self.exclude]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"exclusion rule ids repeat: {', '.join(dup)}")
        return self


@dataclass(frozen=True)
class LoadedMapping:
    mapping: LedgerMapping
    file: str
    marks: Marks

    def where(self, *path: str | int) -> tuple[int | None, int | None]:
        return key_mark(self.marks, path)


def load_mapping(path: str | Path) -> LoadedMapping:
    """Read and check a mapping file; every problem at file:line:col (a :class:`FormulaError`)."""
    p = Path(path)
    data, marks = load_yaml_file(p)
    m = validate_spec(LedgerMapping, data, str(p), marks, "a ledger mapping")
    return LoadedMapping(mapping=m, file=str(p), marks=marks)

"""The spec of a spending profile (``fairshare ledger profile``): strict models, errors at file:line:col.

A profile reads the rows ``fairshare ledger import`` wrote (``transactions.csv``) with an enrollment
table (one count per district, or per district and fiscal year) and, optionally, a locations table that
says which of a district's location codes are schools and which are the central office. It states which
categories make up **operating spending** (the per-pupil total; by default everything but debt/capital,
other and not_spending), and, optionally, how comparable districts are chosen among the profiled ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from fairshare.ledger.crosswalk import CATEGORIES
from fairshare.rules._yaml import Marks, key_mark, load_yaml_file
from fairshare.rules.schema import Cited, Reference, StrictModel, validate_spec

__all__ = ["OPERATING", "LoadedProfile", "ProfileModel", "load_profile_spec"]

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
#: the categories of operating spending unless a spec says otherwise
OPERATING: tuple[str, ...] = CATEGORIES[: CATEGORIES.index("food") + 1]
Name = str


class Enrollment(StrictModel):
    """Columns of the enrollment table (``--enrollment``): district name as in the ledger, students."""

    district: Name = Field(min_length=1)
    students: Name = Field(min_length=1)
    #: a fiscal-year column (YYYY); without it one count serves every year of the ledger, and the report says so
    fiscal_year: Name | None = None
    #: further columns kept for the comparison (size, need, wealth, region ...)
    attributes: list[Name] = Field(default_factory=list)
    reference: Reference


class Locations(StrictModel):
    """Columns of the locations table (``--locations``): which location codes are schools."""

    district: Name = Field(min_length=1)
    location: Name = Field(min_length=1)
    kind: Name = Field(min_length=1, description="school or central")
    name: Name | None = None
    students: Name | None = None
    reference: Reference


class PeerVariable(StrictModel):
    weight: Cited
    scale: Literal["linear", "log"] = "linear"


class Compare(StrictModel):
    """Comparable districts among the profiled ones, by stated variables (students or attributes)."""

    k: Cited
    variables: dict[str, PeerVariable] = Field(min_length=1)
    #: attribute columns whose values must be equal (region, a rural flag)
    match: list[str] = Field(default_factory=list)
    #: the fiscal year compared (default: the latest year of the ledger)
    fiscal_year: int | None = None
    note: str | None = None


class ProfileModel(StrictModel):
    profile: str = Field(min_length=1)
    label: str = Field(min_length=1)
    description: str | None = None
    enrollment: Enrollment
    locations: Locations | None = None
    operating: list[Category] = Field(default_factory=lambda: list(OPERATING), min_length=1)
    compare: Compare | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ProfileModel:
        bad = sorted(set(self.operating) & {"not_spending"})
        if bad:
            raise ValueError("operating spending cannot include not_spending")
        if len(set(self.operating)) != len(self.operating):
            raise ValueError("operating lists a category twice")
        if self.compare is not None:
            known = {"students", *self.enrollment.attributes}
            for name in [*self.compare.variables, *self.compare.match]:
                if name not in known:
                    raise ValueError(
                        f"compare uses {name!r}, which is neither students nor an enrollment attribute "
                        f"({', '.join(sorted(known))})"
                    )
        return self


@dataclass(frozen=True)
class LoadedProfile:
    spec: ProfileModel
    file: str
    marks: Marks

    def where(self, *path: str | int) -> tuple[int | None, int | None]:
        return key_mark(self.marks, path)


def load_profile_spec(path: str | Path) -> LoadedProfile:
    """Read and check a profile spec; every problem at file:line:col (a :class:`FormulaError`)."""
    p = Path(path)
    data, marks = load_yaml_file(p)
    spec = validate_spec(ProfileModel, data, str(p), marks, "a spending profile spec")
    return LoadedProfile(spec=spec, file=str(p), marks=marks)

"""The spec of a benchmark against comparable districts (``fairshare ledger benchmark``): strict models, checks.

A spec names the table's id and name columns, the **quantities** it computes for every unit (a column, or
the sum of some columns ÷ the sum of others × a scale), the **measures** (quantities compared with the
peers), the **peer rule** (k, standardisation, the peer variables with cited weights and linear or log
scale, columns whose values must match) and the **targets** the report covers. Every number that
decides who is a peer (k, each weight) carries a reference. Loading collects every problem and names
``file:line:col``; :func:`spec_problems` runs the same cross-checks on a spec built in code.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from fairshare.errors import FormulaError, Problem
from fairshare.rules._yaml import Marks, key_mark, load_yaml_file, nearest_mark
from fairshare.rules.schema import Cited, Reference, StrictModel, validate_spec

__all__ = [
    "RESERVED_IDS",
    "BenchmarkModel",
    "PeerRule",
    "PeerVar",
    "Quantity",
    "UnitColumns",
    "load_benchmark_spec",
    "spec_problems",
]

Path_ = tuple[str | int, ...]
Columns = str | list[str]
#: column names of the output frames a quantity id may not take
RESERVED_IDS = ("id", "name", "note", "unit", "rank", "peer", "peer_name", "distance", "peers")
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _names(v: Columns | None, what: str) -> Columns | None:
    if isinstance(v, list):
        if not v:
            raise ValueError(f"{what} lists no column")
        if any(not c.strip() for c in v):
            raise ValueError(f"{what} has a blank column name")
        if len(set(v)) != len(v):
            raise ValueError(f"{what} names a column twice")
    elif v is not None and not v.strip():
        raise ValueError(f"{what} is blank")
    return v


def columns_of(v: Columns | None) -> list[str]:
    """The column names of a ``column``/``numerator``/``denominator`` entry."""
    return [] if v is None else [v] if isinstance(v, str) else list(v)


class Quantity(StrictModel):
    """A figure computed for every unit: a column × scale, or Σ numerator × scale ÷ Σ denominator."""

    label: str = Field(min_length=1)
    unit: str = Field(min_length=1, description="free text: 'FTE per 100 students', '% of administrators'")
    column: str | None = None
    numerator: Columns | None = None
    denominator: Columns | None = None
    scale: float = 1.0
    digits: int = Field(default=1, ge=0, le=6, description="decimals shown in the report, workbook and terminal")
    description: str | None = None

    @field_validator("column")
    @classmethod
    def _column(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("column is blank")
        return v

    @field_validator("numerator", "denominator")
    @classmethod
    def _columns(cls, v: Columns | None) -> Columns | None:
        return _names(v, "the entry")

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: float) -> float:
        if not math.isfinite(v) or v == 0:
            raise ValueError("scale must be a finite number other than 0")
        return v

    @model_validator(mode="after")
    def _shape(self) -> Quantity:
        if (self.column is None) == (self.numerator is None):
            raise ValueError("a quantity needs exactly one of `column` and `numerator`")
        if self.denominator is not None and self.numerator is None:
            raise ValueError("`denominator` goes with `numerator` (a `column` is read as it is)")
        return self

    def inputs(self) -> list[str]:
        """Every column the quantity reads, in the order written."""
        return [*columns_of(self.column), *columns_of(self.numerator), *columns_of(self.denominator)]

    def formula(self) -> str:
        """The quantity in words: ``teachers ÷ students × 100``."""

        def side(v: Columns | None) -> str:
            cols = columns_of(v)
            return cols[0] if len(cols) == 1 else "(" + " + ".join(cols) + ")"

        text = side(self.column if self.column is not None else self.numerator)
        if self.denominator is not None:
            text += f" ÷ {side(self.denominator)}"
        return text + ("" if self.scale == 1 else f" × {self.scale:g}")


class PeerVar(StrictModel):
    """A peer variable (a quantity id): its weight in the distance and whether it is taken as its log."""

    weight: Cited
    scale: Literal["linear", "log"] = "linear"

    @field_validator("weight")
    @classmethod
    def _weight(cls, v: Cited) -> Cited:
        if not math.isfinite(v.value) or v.value <= 0:
            raise ValueError("a weight must be a number above 0")
        return v


class PeerRule(StrictModel):
    """The k nearest units by a weighted distance over the variables; ``match`` columns must be equal."""

    k: Cited
    standardise: Literal["z_score", "none"] = "z_score"
    variables: dict[str, PeerVar] = Field(min_length=1)
    match: list[str] = Field(default_factory=list)

    @field_validator("k")
    @classmethod
    def _k(cls, v: Cited) -> Cited:
        if not math.isfinite(v.value) or v.value < 1 or v.value != int(v.value):
            raise ValueError("k must be a whole number, 1 or more")
        return v

    @field_validator("match")
    @classmethod
    def _match(cls, v: list[str]) -> list[str]:
        if any(not c for c in v):
            raise ValueError("a match column name is blank")
        if len(set(v)) != len(v):
            raise ValueError("a match column is named twice")
        return v


class UnitColumns(StrictModel):
    """Which columns identify and name a unit; ``kind`` is what a unit is called in the report."""

    id: str = Field(min_length=1)
    name: str | None = None
    kind: str = Field(default="district", min_length=1)


class BenchmarkModel(StrictModel):
    benchmark: str = Field(min_length=1, description="the benchmark's id")
    label: str = Field(min_length=1)
    description: str | None = None
    reference: Reference = Field(description="where the table's data come from")
    units: UnitColumns
    quantities: dict[str, Quantity] = Field(min_length=1)
    measures: list[str] = Field(min_length=1)
    peers: PeerRule
    targets: list[str] = Field(default_factory=list)

    @field_validator("targets", mode="before")
    @classmethod
    def _target_text(cls, v: Any) -> Any:
        # a district number such as 043914 must be quoted in YAML, but 129902 may be written bare
        if isinstance(v, list):
            return [str(x) if isinstance(x, int) and not isinstance(x, bool) else x for x in v]
        return v

    def cited(self) -> dict[str, Cited]:
        """Every cited number by its path (for the manifest and the report)."""
        out = {"peers.k": self.peers.k}
        out |= {f"peers.variables.{v}.weight": pv.weight for v, pv in self.peers.variables.items()}
        return out

    def columns(self) -> dict[str, str]:
        """Every column the spec reads -> where the spec names it (first place)."""
        out: dict[str, str] = {self.units.id: "units.id"}
        if self.units.name is not None:
            out.setdefault(self.units.name, "units.name")
        for qid, q in self.quantities.items():
            for c in q.inputs():
                out.setdefault(c, f"quantities.{qid}")
        for c in self.peers.match:
            out.setdefault(c, "peers.match")
        return out


def spec_problems(m: BenchmarkModel, file: str = "(spec)", marks: Marks | None = None) -> list[Problem]:
    """Cross-checks the schema cannot make: measures and peer variables name quantities, ids are usable."""
    problems: list[Problem] = []
    marks = marks or {}

    def add(code: str, message: str, path: Path_, hint: str | None = None, key: bool = False) -> None:
        line, col = key_mark(marks, path) if key else nearest_mark(marks, path)
        problems.append(Problem(code, message, file=file, line=line, col=col, hint=hint))

    def unknown(name: str, path: Path_, key: bool = False) -> None:
        near = difflib.get_close_matches(name, list(m.quantities), n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"quantities: {', '.join(m.quantities)}"
        add("unknown_id", f"{name!r} is not a declared quantity", path, hint, key)

    for qid in m.quantities:
        if not _ID.match(qid):
            add(
                "invalid_value",
                f"quantity id {qid!r} is not a name of letters, digits and _",
                ("quantities", qid),
                key=True,
            )
        elif qid in RESERVED_IDS or qid in m.peers.match or qid in (m.units.id, m.units.name):
            add(
                "duplicate_id",
                f"quantity id {qid!r} is also a column of the outputs (id, name, a match column …)",
                ("quantities", qid),
                hint=f"rename it; reserved: {', '.join(RESERVED_IDS)} and the id, name and match columns",
                key=True,
            )
    seen: set[str] = set()
    for i, name in enumerate(m.measures):
        if name not in m.quantities:
            unknown(name, ("measures", i))
        elif name in seen:
            add("duplicate_id", f"measure {name!r} is listed twice", ("measures", i))
        seen.add(name)
    for name in m.peers.variables:
        if name not in m.quantities:
            unknown(name, ("peers", "variables", name), key=True)
    return problems


def load_benchmark_spec(path: str | Path) -> BenchmarkModel:
    """Read and check a benchmark spec; every problem at file:line:col (a :class:`FormulaError`)."""
    p = Path(path)
    data, marks = load_yaml_file(p)
    model = validate_spec(BenchmarkModel, data, str(p), marks, "a benchmark spec")
    problems = spec_problems(model, str(p), marks)
    if problems:
        raise FormulaError(problems)
    return model

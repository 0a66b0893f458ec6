"""A versioned crosswalk from local accounts to NCES Handbook dimensions and resource-use categories.

The crosswalk has sections of rules: ``functions`` (each sets the NCES function and the category),
``objects`` (the NCES object), and optionally ``funds`` and ``programs``. A rule's ``when`` tests
source fields (``fund``, ``function``, ``object``, ``program``, ``location``, ``description``): an
exact code (``"100"``), an inclusive range of digit codes (``"100-199"``), a list of those, or
``{pattern: REGEX}`` (searched in the text). Every test must hold. Rule order does not matter:
within a section, two rules matching one row is a ``conflict`` naming both and the row; a row
no rule matches is unmapped. A row is mapped when its function and object rules both matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from fairshare.errors import Problem
from fairshare.rules._yaml import load_yaml_file
from fairshare.rules.schema import Reference, StrictModel, validate_spec

__all__ = ["CATEGORIES", "Crosswalk", "apply_crosswalk", "coverage", "load_crosswalk"]

CATEGORIES = (
    "instruction",
    "instructional_support",
    "pupil_support",
    "school_leadership",
    "central_leadership",
    "operations",
    "transportation",
    "food",
    "debt_capital",
    "other",
    "not_spending",
)
Field_ = Literal["fund", "function", "object", "program", "location", "description"]
_RANGE = re.compile(r"^(\d+)-(\d+)$")


class Pattern(StrictModel):
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v


Test = str | list[str] | Pattern


class Rule(StrictModel):
    id: str = Field(min_length=1)
    when: dict[Field_, Test] = Field(min_length=1)
    note: str | None = None
    function: str | None = None
    object: str | None = None
    fund: str | None = None
    program: str | None = None
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]

    @field_validator("when")
    @classmethod
    def _tests(cls, v: dict[str, Test]) -> dict[str, Test]:
        for key, t in v.items():
            for one in t if isinstance(t, list) else [t]:
                if isinstance(one, str) and "-" in one and not _RANGE.match(one):
                    raise ValueError(f"{key}: {one!r} is not a range of digit codes like 100-199")
                if isinstance(one, str) and _RANGE.match(one):
                    lo, hi = (int(x) for x in one.split("-"))
                    if lo > hi:
                        raise ValueError(f"{key}: range {one!r} runs backwards")
        return v


class Crosswalk(StrictModel):
    version: str | int = Field()
    reference: Reference
    note: str | None = None
    functions: list[Rule] = Field(min_length=1)
    objects: list[Rule] = Field(min_length=1)
    funds: list[Rule] = Field(default_factory=list)
    programs: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _targets(self) -> Crosswalk:
        need = {"functions": ("function", "category"), "objects": ("object",), "funds": ("fund",)}
        need["programs"] = ("program",)
        ids: list[str] = []
        for section, keys in need.items():
            for r in getattr(self, section):
                ids.append(r.id)
                for k in keys:
                    if getattr(r, k) is None:
                        raise ValueError(f"rule {r.id!r} in {section} must set {k}")
                if r.category in ("other", "not_spending") and not r.note:
                    raise ValueError(f"rule {r.id!r} puts rows in {r.category!r}: say why in a note")
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"rule ids repeat: {', '.join(dup)}")
        return self


@dataclass(frozen=True)
class LoadedCrosswalk:
    crosswalk: Crosswalk
    file: str


def load_crosswalk(path: str | Path) -> LoadedCrosswalk:
    p = Path(path)
    data, marks = load_yaml_file(p)
    return LoadedCrosswalk(validate_spec(Crosswalk, data, str(p), marks, "a crosswalk"), str(p))


def _one(key: str, t: str | Pattern) -> pl.Expr:
    col = pl.col(key)
    if isinstance(t, Pattern):
        return col.str.contains(t.pattern).fill_null(False)
    r = _RANGE.match(t)
    if r:
        return col.cast(pl.Int64, strict=False).is_between(int(r[1]), int(r[2])).fill_null(False)
    code = str(int(t)) if t.isdigit() else t
    return (col == code).fill_null(False)


def _mask(rule: Rule) -> pl.Expr:
    expr = pl.lit(True)
    for key, t in rule.when.items():
        parts = t if isinstance(t, list) else [t]
        any_ = pl.lit(False)
        for one in parts:
            any_ = any_ | _one(key, one)
        expr = expr & any_
    return expr


def apply_crosswalk(rows: pl.DataFrame, cw: LoadedCrosswalk, problems: list[Problem]) -> pl.DataFrame:
    """``rows`` with nces_fund/function/object/program, category and the rules that set them.

    Conflicts (two rules of one section matching a row) are appended to ``problems``."""
    c = cw.crosswalk
    out = rows
    for section, targets in (
        ("functions", ("function", "category")),
        ("objects", ("object",)),
        ("funds", ("fund",)),
        ("programs", ("program",)),
    ):
        rules: list[Rule] = getattr(c, section)
        if rules and rows.height:
            m = rows.select([_mask(r).alias(str(k)) for k, r in enumerate(rules)]).to_numpy().astype(bool)
        else:
            m = np.zeros((rows.height, max(len(rules), 1)), dtype=bool)
        counts = m.sum(axis=1)
        for i in np.flatnonzero(counts > 1).tolist():
            hit = [rules[k].id for k in np.flatnonzero(m[i]).tolist()]
            problems.append(
                Problem(
                    "conflict",
                    f"rules {hit[0]!r} and {hit[1]!r} in {section} both match this row"
                    + (f" (and {', '.join(hit[2:])})" if len(hit) > 2 else ""),
                    file=str(rows["source"][i]),
                    row=int(rows["row"][i]),
                    rule=f"{cw.file}: {' / '.join(hit)}",
                    hint="narrow one rule's when: so that each row matches one rule of a section",
                )
            )
        first = np.where(counts > 0, m.argmax(axis=1), -1) if rules else np.full(rows.height, -1)
        rid = [rules[k].id if k >= 0 else None for k in first.tolist()]
        out = out.with_columns(pl.Series(f"{section[:-1]}_rule", rid, dtype=pl.String))
        for t in targets:
            vals = [getattr(rules[k], t) if k >= 0 else None for k in first.tolist()]
            name = "category" if t == "category" else f"nces_{t}"
            out = out.with_columns(pl.Series(name, vals, dtype=pl.String))
    return out.with_columns(mapped=pl.col("function_rule").is_not_null() & pl.col("object_rule").is_not_null())


def coverage(mapped: pl.DataFrame) -> pl.DataFrame:
    """Rows and cents mapped/unmapped by source function × object, most unmapped dollars first.

    Dollars are gross (absolute amounts), so debits and credits do not cancel."""
    a = pl.col("amount_cents").abs()
    return (
        mapped.group_by("function", "object")
        .agg(
            districts=pl.col("district").n_unique(),
            rows=pl.len(),
            rows_mapped=pl.col("mapped").sum(),
            rows_unmapped=(~pl.col("mapped")).sum(),
            gross_cents=a.sum(),
            mapped_cents=a.filter(pl.col("mapped")).sum(),
            unmapped_cents=a.filter(~pl.col("mapped")).sum(),
            net_cents=pl.col("amount_cents").sum(),
        )
        .sort(["unmapped_cents", "gross_cents", "function", "object"], descending=[True, True, False, False])
    )

"""The need-index spec (``fairshare index``) and the table it names: strict models, located errors.

A spec names the index, the table's level (one row per school, or one per student with an
aggregation to schools), the indicators — each with its column, the direction in which it
means more need, a normalisation, a cited positive weight and a stated missing-value policy —
the score range, and optionally an eligibility rule, the near-cut distance and the sensitivity
step. Every unknown key and bad value is a :class:`FormulaError` naming ``file:line:col``.

:func:`load_index_data` reads the table (CSV, XLSX or Parquet) and checks every column the spec
names, collecting each problem with its file, row, column, value and rule: a blank where the
indicator's policy is ``error``, a cell that is not a number (or yes/no), a duplicate school (or
student) id, a school named differently on two student rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import Field, ValidationError, field_validator, model_validator

from fairshare.errors import FormulaError, InputError, Problem, ProblemList
from fairshare.io.columns import boolean_column, has_columns, number_column, text_column
from fairshare.io.contract import check_duplicates
from fairshare.io.read import RawTable, read_raw
from fairshare.rules._yaml import Marks, key_mark, load_yaml_file, load_yaml_text, nearest_mark
from fairshare.rules.schema import Reference, StrictModel, validation_problems

__all__ = [
    "DIRECTIONS",
    "MISSING_POLICIES",
    "NORMALISATIONS",
    "Aggregate",
    "IndexData",
    "IndexEntity",
    "IndexSpec",
    "Indicator",
    "load_index_data",
    "load_index_spec",
    "load_index_spec_text",
]

Direction = Literal["more_is_more_need", "less_is_more_need"]
Normalisation = Literal["zscore", "percentile", "minmax"]
MissingPolicy = Literal["error", "mean", "median", "exclude_indicator"]
DIRECTIONS: tuple[str, ...] = ("more_is_more_need", "less_is_more_need")
NORMALISATIONS: tuple[str, ...] = ("zscore", "percentile", "minmax")
MISSING_POLICIES: tuple[str, ...] = ("error", "mean", "median", "exclude_indicator")


class Weight(StrictModel):
    """An indicator's weight: a positive number with the document it comes from."""

    value: float = Field(gt=0, allow_inf_nan=False)
    reference: Reference

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("a weight must be a number, not true/false")
        return v


class Indicator(StrictModel):
    column: str = Field(min_length=1, description="the input column read")
    label: str = Field(min_length=1)
    description: str | None = None
    #: ``number`` (a plain decimal) or ``boolean`` (yes/no words, read as 1/0)
    type: Literal["number", "boolean"] = "number"
    direction: Direction
    normalise: Normalisation
    weight: Weight
    missing: MissingPolicy = "error"


class IndexEntity(StrictModel):
    id: str = Field(min_length=1, description="the column with the school id (on every row, also student rows)")
    name: str | None = Field(default=None, description="the column with the school's name")


class Aggregate(StrictModel):
    """Student scores to one figure per school: their mean, or the share above a cut.

    Written ``aggregate: mean`` or ``aggregate: {share_above: 0.6}``.
    """

    mean: Literal[True] | None = None
    #: a student's score (on the scale's range) must be strictly above this to count
    share_above: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _word(cls, v: Any) -> Any:
        if v == "mean":
            return {"mean": True}
        if isinstance(v, str):
            raise ValueError(f"aggregate {v!r} is not known: write `mean` or `share_above: <cut>`")
        return v

    @model_validator(mode="after")
    def _one(self) -> Aggregate:
        if (self.mean is None) == (self.share_above is None):
            raise ValueError("aggregate is `mean` or `share_above: <cut>`, exactly one")
        return self

    @property
    def text(self) -> str:
        return "mean" if self.mean else f"share above {self.share_above:g}"


class Scale(StrictModel):
    min: float = Field(default=0.01, allow_inf_nan=False)
    max: float = Field(default=0.99, allow_inf_nan=False)

    @model_validator(mode="after")
    def _order(self) -> Scale:
        if self.min >= self.max:
            raise ValueError("scale.min must be below scale.max")
        return self


class Eligibility(StrictModel):
    """The eligible set: the ``top`` N schools by rank, or those scoring at least ``threshold``."""

    top: int | None = Field(default=None, ge=1, strict=True)
    threshold: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one(self) -> Eligibility:
        if (self.top is None) == (self.threshold is None):
            raise ValueError("eligibility takes exactly one of `top: N` or `threshold: x`")
        return self


class NearCut(StrictModel):
    """How close to the eligibility cut a school is listed: within ``ranks`` places or ``score`` points."""

    ranks: int | None = Field(default=None, ge=1, strict=True)
    score: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one(self) -> NearCut:
        if (self.ranks is None) == (self.score is None):
            raise ValueError("near_cut takes exactly one of `ranks: N` or `score: x`")
        return self


class Sensitivity(StrictModel):
    #: each weight is moved by -step and +step (a share: 0.10 = ±10 %), one at a time
    step: float = Field(default=0.10, gt=0, lt=1, allow_inf_nan=False)


class IndexSpec(StrictModel):
    index: str = Field(min_length=1, description="the index's id")
    label: str = Field(min_length=1)
    description: str | None = None
    level: Literal["school", "student"]
    entity: IndexEntity
    #: student level: the column with the student id (optional; when given, duplicates are errors)
    student_id: str | None = None
    aggregate: Aggregate | None = None
    indicators: dict[str, Indicator] = Field(min_length=1)
    scale: Scale = Field(default_factory=Scale)
    eligibility: Eligibility | None = None
    near_cut: NearCut = Field(default_factory=lambda: NearCut(ranks=5))
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)
    # set by the loader
    source: str = "<string>"
    marks: dict[Any, Any] = Field(default_factory=dict, repr=False)

    def where(self, *path: str | int) -> dict[str, Any]:
        line, col = nearest_mark(self.marks, tuple(path))
        return {"file": self.source, "line": line, "col": col}

    @property
    def ids(self) -> list[str]:
        return list(self.indicators)


def _cross_checks(spec: IndexSpec, file: str, marks: Marks) -> list[Problem]:
    """Rules between keys, each located at the key it is about."""
    out: list[Problem] = []

    def bad(path: tuple[str, ...], message: str, hint: str | None = None, at_key: bool = False) -> None:
        line, col = key_mark(marks, path) if at_key else nearest_mark(marks, path)
        out.append(Problem("invalid_value", message, file=file, line=line, col=col, hint=hint))

    if spec.level == "student" and spec.aggregate is None:
        bad(("level",), "a student-level index needs `aggregate: mean` or `aggregate: {share_above: <cut>}`")
    if spec.level == "school":
        for key in ("aggregate", "student_id"):
            if getattr(spec, key) is not None:
                bad((key,), f"`{key}` is only for `level: student`", "remove it, or set `level: student`", True)
    cut = spec.aggregate.share_above if spec.aggregate is not None else None
    lo, hi = spec.scale.min, spec.scale.max
    if cut is not None and not lo <= cut < hi:
        bad(("aggregate", "share_above"), f"share_above {cut:g} is outside the score range [{lo:g}, {hi:g})")
    if spec.eligibility is not None and spec.eligibility.threshold is not None:
        t = spec.eligibility.threshold
        if not lo <= t <= hi:
            bad(("eligibility", "threshold"), f"threshold {t:g} is outside the score range [{lo:g}, {hi:g}]")
    seen: dict[str, str] = {}
    reserved = {spec.entity.id, spec.entity.name, spec.student_id} - {None}
    for iid, ind in spec.indicators.items():
        if not iid.isidentifier():
            bad(
                ("indicators", iid), f"indicator id {iid!r} must be a plain identifier (letters, digits, _)", None, True
            )
        if ind.column in reserved:
            bad(("indicators", iid, "column"), f"column {ind.column!r} is the entity's id or name column")
        if ind.column in seen:
            bad(("indicators", iid, "column"), f"column {ind.column!r} is already read by indicator {seen[ind.column]}")
        seen.setdefault(ind.column, iid)
    return out


def _build(data: Any, file: str, marks: Marks) -> IndexSpec:
    if not isinstance(data, dict):
        raise FormulaError(Problem("invalid_value", "an index spec must be a YAML mapping", file=file, line=1, col=1))
    problems: list[Problem] = []
    for key in ("source", "marks"):  # fields the loader sets; an author cannot
        if key in data:
            line, col = key_mark(marks, (key,))
            problems.append(Problem("unknown_key", f"unknown key {key!r}", file=file, line=line, col=col))
    body = {k: v for k, v in data.items() if k not in ("source", "marks")}
    try:
        spec = IndexSpec.model_validate({**body, "source": file})
    except ValidationError as exc:
        raise FormulaError([*problems, *validation_problems(exc, (), IndexSpec, file, marks)]) from None
    problems += _cross_checks(spec, file, marks)
    if problems:
        raise FormulaError(problems)
    return spec.model_copy(update={"marks": marks})


def load_index_spec_text(text: str, file: str = "<string>") -> IndexSpec:
    data, marks = load_yaml_text(text, file)
    return _build(data, file, marks)


def load_index_spec(path: str | Path) -> IndexSpec:
    """Load and check a need-index spec. Raises :class:`FormulaError` with every problem found."""
    p = Path(path)
    data, marks = load_yaml_file(p)
    return _build(data, str(p), marks)


@dataclass(frozen=True)
class IndexData:
    """The input's rows (schools, or students) in canonical order, with raw indicator values."""

    level: str
    #: the school id of each row
    school: np.ndarray
    #: rows x indicators, NaN where blank
    values: np.ndarray
    #: each school's name (first non-blank; the id when there is none), by school id
    names: dict[str, str]
    source: str
    sha256: str
    rows_read: int


# ------------------------------------------------------------------ reading


def load_index_data(path: str | Path, spec: IndexSpec) -> IndexData:
    """Read the table and check every column the spec names; raise one InputError listing all problems."""
    raw = read_raw(path)
    problems = ProblemList()
    e = spec.entity
    student = spec.level == "student"
    cols = [e.id, *([e.name] if e.name else []), *([spec.student_id] if spec.student_id else [])]
    cols += [ind.column for ind in spec.indicators.values()]
    if not has_columns(raw, cols, problems, "named in the index spec"):
        raise InputError(problems.problems)
    ids = text_column(raw, e.id, problems)
    names = text_column(raw, e.name, problems, required=False) if e.name else np.full(raw.n, "", dtype=object)
    values = np.empty((raw.n, len(spec.indicators)))
    for k, (iid, ind) in enumerate(spec.indicators.items()):
        col = ind.column
        if ind.type == "boolean":
            values[:, k] = boolean_column(raw, col, problems)
        else:
            values[:, k] = number_column(raw, col, problems, required=False)
        blank = raw.frame.get_column(col).is_null().to_numpy()
        if ind.missing == "error":
            for i in np.flatnonzero(blank):
                problems.add(
                    "missing_value",
                    f"{col} is blank (indicator {iid})",
                    file=raw.path,
                    row=int(raw.rows[i]),
                    column=col,
                    rule=f"indicators.{iid}.missing: error",
                    hint="fill in the value, or state a policy for blanks: `missing: mean`, `median` "
                    "or `exclude_indicator`",
                )
        elif blank.all():
            problems.add(
                "missing_value",
                f"{col} is blank on every row: `missing: {ind.missing}` has no known value to work from",
                file=raw.path,
                column=col,
                rule=f"indicators.{iid}.missing: {ind.missing}",
                hint="fill in the column or remove the indicator",
            )
    if all(ind.missing == "exclude_indicator" for ind in spec.indicators.values()):
        blank_rows = np.all(np.isnan(values), axis=1) & np.all(
            np.column_stack(
                [raw.frame.get_column(ind.column).is_null().to_numpy() for ind in spec.indicators.values()]
            ),
            axis=1,
        )
        for i in np.flatnonzero(blank_rows):
            problems.add(
                "missing_value",
                "every indicator is blank on this row: nothing is left to score it on",
                file=raw.path,
                row=int(raw.rows[i]),
                column=next(iter(spec.indicators.values())).column,
                rule="exclude_indicator needs at least one indicator with a value",
                hint="fill in at least one indicator or delete the row",
            )
    if student and spec.student_id:
        text_column(raw, spec.student_id, problems)
        check_duplicates(problems, raw, spec.student_id, "student", code="duplicate_student")
    elif not student:
        check_duplicates(problems, raw, e.id, "school")
    if student and e.name:
        _check_names(raw, ids, names, e.name, problems)
    position = {c: j for j, c in enumerate(raw.columns)}
    problems.problems.sort(key=lambda p: (p.row or 0, position.get(p.column or "", -1)))
    problems.raise_if_any(InputError)
    order = np.lexsort((*(values[:, k] for k in reversed(range(values.shape[1]))), ids.astype(str)))
    first: dict[str, str] = {}
    for sid, name in zip(ids.tolist(), names.tolist(), strict=True):
        if name and sid not in first:
            first[sid] = name
    return IndexData(
        level=spec.level,
        school=ids.astype(str)[order],
        values=values[order],
        names={sid: first.get(sid, sid) for sid in np.unique(ids.astype(str)).tolist()},
        source=raw.path,
        sha256=raw.sha256,
        rows_read=raw.n,
    )


def _check_names(raw: RawTable, ids: np.ndarray, names: np.ndarray, col: str, problems: ProblemList) -> None:
    """Every student row naming its school differently from the school's first named row."""
    f = (
        pl.DataFrame({"i": np.arange(raw.n), "id": ids.astype(str), "name": names.astype(str)})
        .filter(pl.col("name") != "")
        .with_columns(pl.col("name").first().over("id").alias("first"), pl.col("i").first().over("id").alias("at"))
        .filter(pl.col("name") != pl.col("first"))
    )
    for i, sid, name, first, at in f.select("i", "id", "name", "first", "at").iter_rows():
        problems.add(
            "inconsistent_name",
            f"school {sid!r} is named {first!r} in row {raw.rows[at]} but {name!r} here",
            file=raw.path,
            row=int(raw.rows[i]),
            column=col,
            value=name,
            rule="one name per school id",
            hint="use the same name on every row of the school, or leave it blank",
        )

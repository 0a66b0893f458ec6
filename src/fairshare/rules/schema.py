"""Strict Pydantic models of a formula file (the *declare* step).

Every model forbids unknown keys. Parameters are a tree of groups whose leaves
carry ``values`` (dated, each with a reference); components are validated one by
one against the model of their ``kind`` so that every error keeps a clean path
into the YAML (and so a ``file:line:col``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fairshare.errors import FormulaError, Problem
from fairshare.rules._yaml import Marks, key_mark, load_yaml_file, load_yaml_text, nearest_mark
from fairshare.rules.units import UNITS

__all__ = [
    "COMPONENT_KINDS",
    "ENTITY_TOTAL",
    "Cited",
    "CitedParameter",
    "ComponentModel",
    "EntitySpec",
    "Formula",
    "InputColumn",
    "Parameter",
    "Reference",
    "Role",
    "SetAside",
    "load_formula",
    "load_formula_text",
]

ExprField = Annotated[str | float | int, Field(description="an expression, a parameter id or a number")]
_NO_DEFAULT: Any = object()


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Reference(StrictModel):
    """Where a value comes from: a statute, board policy, budget book page."""

    title: str = Field(min_length=1)
    link: str | None = None
    section: str | None = None
    page: str | int | None = None
    table: str | None = None
    note: str | None = None

    def cite(self) -> str:
        parts = [self.title]
        if self.section:
            parts.append(str(self.section))
        if self.table:
            parts.append(f"table {self.table}")
        if self.page is not None:
            parts.append(f"p. {self.page}")
        return ", ".join(parts)


class Cited(StrictModel):
    """A number with the document it comes from (a fund's total, a peer count, a flag threshold)."""

    value: float
    reference: Reference

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("a number is needed, not true/false")
        return v


class DatedValue(Cited):
    """A parameter's value from a date on, with the document it comes from."""


class Parameter(StrictModel):
    label: str = Field(min_length=1)
    description: str | None = None
    unit: str
    values: dict[dt.date, DatedValue] = Field(min_length=1)

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        return check_unit(v)


def check_unit(v: str) -> str:
    if v not in UNITS:
        near = difflib.get_close_matches(v, UNITS, n=1)
        raise ValueError(
            f"unknown unit {v!r}"
            + (f"; did you mean {near[0]!r}?" if near else "")
            + f" (units: {', '.join(sorted(UNITS))})"
        )
    return v


class InputColumn(StrictModel):
    """One column of the input contract."""

    label: str = Field(min_length=1)
    type: Literal["integer", "number", "boolean", "category"]
    unit: str
    min: float | None = None
    max: float | None = None
    #: this count is a subgroup of another count column (must not exceed it)
    part_of: str | None = None
    #: allowed values of a category column
    allowed: list[str] | None = None
    required: bool = True
    #: the value used where an optional column is absent or blank; ``null`` keeps it missing
    default: float | bool | str | None = _NO_DEFAULT

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        return check_unit(v)

    @model_validator(mode="after")
    def _default_rules(self) -> InputColumn:
        has_default = self.default is not _NO_DEFAULT
        if not self.required and not has_default:
            raise ValueError("an optional column must declare its default (use `default: null` to keep blanks missing)")
        if self.required and has_default:
            raise ValueError("a required column cannot have a default; set `required: false`")
        if self.allowed is not None and self.type != "category":
            raise ValueError("`allowed` is only for category columns")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        return self

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    def bounds(self) -> tuple[float | None, float | None]:
        """Allowed range: explicit min/max, else the unit's implied range."""
        u = UNITS[self.unit]
        lo = self.min if self.min is not None else u.min
        hi = self.max if self.max is not None else u.max
        return lo, hi


class EntitySpec(StrictModel):
    kind: str = Field(min_length=1, description="what one row is: school, district, LEA, town")
    id: str = Field(description="the input column that identifies an entity")
    name: str | None = Field(default=None, description="the input column holding its name")
    pupils: str = Field(description="expression for the pupil count used for per-pupil amounts")
    need_share: str | None = Field(default=None, description="expression for the share of high-need pupils (0-1)")
    prior_total: str | None = Field(default=None, description="input column with last year's total, in dollars")
    year: str | None = Field(
        default=None,
        description="input column holding the fiscal year, for tables with one row per entity and year",
    )


class Variable(StrictModel):
    label: str = Field(min_length=1)
    unit: str
    expr: ExprField
    description: str | None = None

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        return check_unit(v)


class Role(StrictModel):
    """A position type: average salary (+ benefits) and whether principals may trade it."""

    label: str = Field(min_length=1)
    salary: ExprField
    benefits_rate: ExprField | None = None
    locked: bool = False
    description: str | None = None


# ----------------------------------------------------------------- components


class _Component(StrictModel):
    kind: str
    label: str = Field(min_length=1)
    description: str | None = None
    #: the policy a letter cites for this line; defaults to the references of its parameters
    policy: str | None = None
    #: condition: only entities for which it holds get this line
    when: ExprField | None = None


class Band(StrictModel):
    label: str = Field(min_length=1)
    count: ExprField
    rate: ExprField


class PerPupil(_Component):
    kind: Literal["per_pupil"]
    count: ExprField | None = None
    rate: ExprField | None = None
    bands: list[Band] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> PerPupil:
        if self.bands is None and (self.count is None or self.rate is None):
            raise ValueError("per_pupil needs `count` and `rate`, or `bands`")
        if self.bands is not None and (self.count is not None or self.rate is not None):
            raise ValueError("per_pupil takes either `count` and `rate` or `bands`, not both")
        if self.bands is not None and not self.bands:
            raise ValueError("`bands` is empty")
        return self


class Point(StrictModel):
    at: ExprField
    weight: ExprField


class Escalating(StrictModel):
    by: ExprField
    low: Point
    high: Point


class Tiers(StrictModel):
    by: ExprField
    steps: list[Point] = Field(min_length=1)


class EscalatingWeight(StrictModel):
    escalating: Escalating


class TieredWeight(StrictModel):
    tiers: Tiers


class Weight(_Component):
    kind: Literal["weight"]
    count: ExprField
    base: ExprField
    weight: ExprField | EscalatingWeight | TieredWeight


class Fixed(_Component):
    kind: Literal["fixed"]
    amount: ExprField


class Ratio(StrictModel):
    count: ExprField
    per: ExprField
    rounding: Literal["up", "down", "nearest", "none"]
    step: float = Field(default=1.0, gt=0)
    min: ExprField | None = None
    max: ExprField | None = None


class Positions(_Component):
    kind: Literal["positions"]
    role: str
    fte: ExprField | None = None
    ratio: Ratio | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Positions:
        if (self.fte is None) == (self.ratio is None):
            raise ValueError("positions needs exactly one of `fte` (fixed) or `ratio` (staffing ratio)")
        return self


class Supplement(_Component):
    kind: Literal["supplement"]
    when: ExprField
    amount: ExprField | None = None
    count: ExprField | None = None
    rate: ExprField | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Supplement:
        per_pupil = self.count is not None or self.rate is not None
        if per_pupil and (self.count is None or self.rate is None):
            raise ValueError("a per-pupil supplement needs both `count` and `rate`")
        if per_pupil == (self.amount is not None):
            raise ValueError("supplement needs either `amount` (per entity) or `count` and `rate` (per pupil)")
        return self


class Pot(_Component):
    kind: Literal["pot"]
    total: ExprField
    driver: ExprField


class Cap(_Component):
    kind: Literal["cap"]
    max: ExprField
    of: list[str] | None = None


class Floor(_Component):
    kind: Literal["floor"]
    min: ExprField
    of: list[str] | None = None


class HoldHarmless(_Component):
    kind: Literal["hold_harmless"]
    prior: ExprField
    max_loss: ExprField = 0.0
    of: list[str] | None = None


class ScaleToBudget(_Component):
    kind: Literal["scale_to_budget"]
    solve: str
    budget: ExprField
    of: list[str] | None = None

    @model_validator(mode="after")
    def _no_condition(self) -> ScaleToBudget:
        if self.when is not None:
            raise ValueError("scale_to_budget does not take `when`; choose the lines it fits with `of`")
        return self


ComponentModel = PerPupil | Weight | Fixed | Positions | Supplement | Pot | Cap | Floor | HoldHarmless | ScaleToBudget

COMPONENT_KINDS: dict[str, type[_Component]] = {
    "per_pupil": PerPupil,
    "weight": Weight,
    "fixed": Fixed,
    "positions": Positions,
    "supplement": Supplement,
    "pot": Pot,
    "cap": Cap,
    "floor": Floor,
    "hold_harmless": HoldHarmless,
    "scale_to_budget": ScaleToBudget,
}


# ----------------------------------------------------------------- set-asides

#: the name a set-aside's ``amount`` reads for the entity's total (integer cents, as dollars)
ENTITY_TOTAL = "entity_total"


class SetAside(StrictModel):
    """A restricted grant carved out of an entity's total: not extra money, a part of it.

    ``amount`` may read everything a component reads, ``entity_total`` and earlier
    set-asides. With ``alternative_to`` it is a proposal shown beside that set-aside
    (its own amount and share) and is not carved out.
    """

    label: str = Field(min_length=1)
    amount: ExprField
    paid_to: str | None = Field(default=None, description="who receives the restricted money")
    alternative_to: str | None = None
    description: str | None = None
    reference: Reference | None = None


# ----------------------------------------------------------- cited numbers (programs' specs)


class SpecVariable(StrictModel):
    """A derived column of a program's spec (identification rules, a review): an expression, unit optional."""

    label: str = Field(min_length=1)
    expr: str | float | int
    unit: str | None = None
    description: str | None = None

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str | None) -> str | None:
        return None if v is None else check_unit(v)


class CitedParameter(StrictModel):
    """A named number of a program's spec: label, value, unit and the document it comes from."""

    label: str = Field(min_length=1)
    value: float
    unit: str
    reference: Reference
    description: str | None = None

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        return check_unit(v)


# ------------------------------------------------------------------- formula


class Formula(StrictModel):
    """A loaded, schema-valid formula. ``marks`` map YAML paths to (line, col)."""

    formula: str = Field(min_length=1, description="the formula's id")
    label: str = Field(min_length=1)
    description: str | None = None
    entity: EntitySpec
    parameters: dict[str, Parameter]
    inputs: dict[str, InputColumn]
    variables: dict[str, Variable] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    components: dict[str, Any]
    set_asides: dict[str, SetAside] = Field(default_factory=dict)
    # set by the loader, not the author
    source: str = "<string>"
    text: str = ""
    marks: dict[Any, Any] = Field(default_factory=dict, repr=False)

    def mark(self, *path: str | int) -> tuple[int | None, int | None]:
        return nearest_mark(self.marks, tuple(path))

    def where(self, *path: str | int) -> dict[str, Any]:
        line, col = self.mark(*path)
        return {"file": self.source, "line": line, "col": col}

    def key_where(self, *path: str | int) -> dict[str, Any]:
        """Where the key of ``path`` is written: for problems about an entry as a whole."""
        line, col = key_mark(self.marks, tuple(path))
        return {"file": self.source, "line": line, "col": col}

    def expr_where(self, path: tuple[str | int, ...], offset: int | None) -> dict[str, Any]:
        """The position of character ``offset`` (1-based) of the expression written at ``path``."""
        line, col = self.mark(*path)
        if offset is None or line is None or col is None:
            return {"file": self.source, "line": line, "col": col}
        from fairshare.rules.speccheck import expression_column  # speccheck imports expr, not schema

        return {"file": self.source, "line": line, "col": expression_column(self.text, line, col, offset)}


_TOP_KEYS = {
    "formula",
    "label",
    "description",
    "entity",
    "parameters",
    "inputs",
    "variables",
    "roles",
    "components",
    "set_asides",
}


def validation_problems(
    exc: ValidationError, prefix: tuple[str | int, ...], model: type[BaseModel], file: str, marks: Marks
) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors():
        loc = tuple(prefix) + tuple(err["loc"])
        line, col = nearest_mark(marks, loc)
        where = ".".join(str(p) for p in loc)
        etype = err["type"]
        if etype == "extra_forbidden":
            line, col = key_mark(marks, loc)
            key = str(err["loc"][-1])
            fields = _fields_at(model, err["loc"][:-1])
            near = difflib.get_close_matches(key, fields, n=1)
            out.append(
                Problem(
                    "unknown_key",
                    f"unknown key {key!r} at {where}",
                    file=file,
                    line=line,
                    col=col,
                    hint=(f"did you mean {near[0]!r}?" if near else f"allowed keys: {', '.join(sorted(fields))}"),
                )
            )
        elif etype == "missing":
            line, col = key_mark(marks, loc[:-1])  # the entry that lacks the key
            out.append(Problem("missing_key", f"missing required key {where}", file=file, line=line, col=col))
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            code = "unknown_unit" if msg.startswith("unknown unit") else "invalid_value"
            out.append(
                Problem(
                    code,
                    f"{where}: {msg}",
                    file=file,
                    line=line,
                    col=col,
                    value=err.get("input") if not isinstance(err.get("input"), (dict, list)) else None,
                )
            )
    return out


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (sub)model found by following ``loc`` (best effort)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            break
        ann = fields[part].annotation
        nxt = None
        for cand in getattr(ann, "__args__", (ann,)):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                nxt = cand
            for sub in getattr(cand, "__args__", ()):
                if isinstance(sub, type) and issubclass(sub, BaseModel):
                    nxt = sub
        if nxt is None:
            break
        current = nxt
    fields = getattr(current, "model_fields", {})
    return [f for f in fields if f not in ("source", "text", "marks")]


def _flatten_parameters(tree: Any, file: str, marks: Marks, problems: list[Problem]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        line, col = nearest_mark(marks, ("parameters", *path))
        if not isinstance(node, dict):
            problems.append(
                Problem(
                    "invalid_value",
                    f"parameters.{'.'.join(path)} must be a mapping (a group or a parameter)",
                    file=file,
                    line=line,
                    col=col,
                )
            )
            return
        if "values" in node or "unit" in node or "label" in node:
            try:
                out[".".join(path)] = Parameter.model_validate(node)
            except ValidationError as exc:
                problems.extend(validation_problems(exc, ("parameters", *path), Parameter, file, marks))
            return
        if not node:
            problems.append(
                Problem(
                    "invalid_value",
                    f"parameter group {'.'.join(path) or 'parameters'} is empty",
                    file=file,
                    line=line,
                    col=col,
                )
            )
        for key, child in node.items():
            if not key.isidentifier():
                kl, kc = nearest_mark(marks, ("parameters", *path, key))
                problems.append(
                    Problem(
                        "invalid_value",
                        f"parameter name {key!r} must be a plain identifier (letters, digits, _)",
                        file=file,
                        line=kl,
                        col=kc,
                    )
                )
                continue
            walk(child, (*path, key))

    if not isinstance(tree, dict):
        line, col = nearest_mark(marks, ("parameters",))
        problems.append(Problem("invalid_value", "parameters must be a mapping", file=file, line=line, col=col))
        return out
    walk(tree, ())
    return out


def _build(data: Any, file: str, text: str, marks: Marks) -> Formula:
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise FormulaError(Problem("invalid_value", "a formula file must be a YAML mapping", file=file, line=1, col=1))
    for key in data:
        if key not in _TOP_KEYS:
            line, col = key_mark(marks, (key,))
            near = difflib.get_close_matches(key, _TOP_KEYS, n=1)
            problems.append(
                Problem(
                    "unknown_key",
                    f"unknown top-level key {key!r}",
                    file=file,
                    line=line,
                    col=col,
                    hint=f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(sorted(_TOP_KEYS))}",
                )
            )
    params = _flatten_parameters(data.get("parameters", {}), file, marks, problems)
    components: dict[str, Any] = {}
    raw_components = data.get("components")
    if not isinstance(raw_components, dict) or not raw_components:
        line, col = nearest_mark(marks, ("components",))
        problems.append(
            Problem(
                "missing_key" if raw_components is None else "invalid_value",
                "components must be a non-empty mapping of id -> component",
                file=file,
                line=line,
                col=col,
            )
        )
        raw_components = {}
    for cid, body in raw_components.items():
        line, col = nearest_mark(marks, ("components", cid))
        if not cid.isidentifier():
            problems.append(
                Problem(
                    "invalid_value", f"component id {cid!r} must be a plain identifier", file=file, line=line, col=col
                )
            )
            continue
        if not isinstance(body, dict):
            problems.append(
                Problem("invalid_value", f"component {cid} must be a mapping", file=file, line=line, col=col)
            )
            continue
        kind = body.get("kind")
        model = COMPONENT_KINDS.get(str(kind))
        if model is None:
            kl, kc = nearest_mark(marks, ("components", cid, "kind"))
            near = difflib.get_close_matches(str(kind), COMPONENT_KINDS, n=1)
            problems.append(
                Problem(
                    "missing_key" if kind is None else "invalid_value",
                    f"component {cid}: kind {kind!r} is not a component kind",
                    file=file,
                    line=kl,
                    col=kc,
                    hint=(f"did you mean {near[0]!r}? " if near else "") + f"kinds: {', '.join(COMPONENT_KINDS)}",
                )
            )
            continue
        try:
            components[cid] = model.model_validate(body)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, ("components", cid), model, file, marks))
    rest = {k: v for k, v in data.items() if k in _TOP_KEYS and k not in ("parameters", "components")}
    formula: Formula | None = None
    try:
        formula = Formula.model_validate({**rest, "parameters": {}, "components": {}, "source": file, "text": text})
    except ValidationError as exc:
        problems.extend(validation_problems(exc, (), Formula, file, marks))
    if problems:
        raise FormulaError(problems)
    assert formula is not None
    return formula.model_copy(update={"parameters": params, "components": components, "marks": marks})


M = TypeVar("M", bound=BaseModel)


def validate_spec(model: type[M], data: Any, file: str, marks: Marks, what: str) -> M:
    """``data`` (a loaded YAML document) as ``model``; a non-mapping or any schema problem is a
    :class:`FormulaError` listing every problem at file:line:col. ``what`` names the file: "a fund spec"."""
    if not isinstance(data, dict):
        raise FormulaError(Problem("invalid_value", f"{what} must be a YAML mapping", file=file, line=1, col=1))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FormulaError(validation_problems(exc, (), model, file, marks)) from None


def load_formula_text(text: str, file: str = "<string>") -> Formula:
    data, marks = load_yaml_text(text, file)
    return _build(data, file, text, marks)


def load_formula(path: str | Path) -> Formula:
    """Load and schema-check a formula file. Raises FormulaError with every problem found."""
    p = Path(path)
    data, marks = load_yaml_file(p)
    return _build(data, str(p), p.read_text(encoding="utf-8"), marks)

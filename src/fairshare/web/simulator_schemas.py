"""The scenario simulator's API bodies (Pydantic): what the OpenAPI schema documents.

Money is integer cents everywhere (``*_cents``); shares are fractions (0.05 = 5 %). A blank
current funding (an entity new this year) is ``null``, never 0.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, FiniteFloat

__all__ = [
    "ChangeOut",
    "CompareComponentOut",
    "CompareEntityOut",
    "CompareOut",
    "CompareParamOut",
    "ComponentOut",
    "EntityOut",
    "EquityOut",
    "EquityPairOut",
    "MetricOut",
    "ModelOut",
    "ParamOut",
    "PreviewIn",
    "PreviewOut",
    "ReferenceOut",
    "ScenarioIn",
    "ScenarioOut",
    "ScenarioRename",
    "ScenarioResultOut",
    "SummaryOut",
    "WinnersOut",
]


#: a name: no control characters, at least one visible character
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


def _by_model(schema: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
    """Document the body exactly: one variant per model, naming its adjustable parameters with their ranges.

    The body is checked by the service (every problem named, with the range), so a request outside the
    documented schema still gets the one error shape; the schema tells a client what will be accepted."""
    from fairshare.web.simulator import models  # the service imports this module

    variants = []
    for m in models():
        props = {
            p.id: {"type": "number", "minimum": p.min, "maximum": p.max, "title": p.label}
            for p in m.info.parameters
            if p.adjustable
        }
        variants.append(
            {
                "type": "object",
                "title": m.spec.id,
                "properties": {
                    **(extra or {}),
                    "model": {"type": "string", "enum": [m.spec.id]},
                    "overrides": {"type": "object", "properties": props, "additionalProperties": False},
                },
                "required": [*(extra or {}), "model"],
                "additionalProperties": False,
            }
        )
    for key in ("properties", "required", "type"):
        schema.pop(key, None)
    schema["oneOf"] = variants


def _preview_schema(schema: dict[str, Any]) -> None:
    _by_model(schema)


def _scenario_schema(schema: dict[str, Any]) -> None:
    name = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NAME_PATTERN}
    _by_model(schema, {"name": name})


#: a scenario's name: 1–200 characters, not only spaces, no control characters (trimmed)
ScenarioName = Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN), AfterValidator(str.strip)]
ModelId = Annotated[str, Field(min_length=1, max_length=80, description="a model id from GET /api/scenarios/models")]
ParamId = Annotated[str, Field(min_length=1, max_length=200)]
Overrides = Annotated[
    dict[ParamId, FiniteFloat],
    Field(
        default_factory=dict,
        max_length=500,
        description="parameter id -> value; parameters not named keep their value in force",
    ),
]


class PreviewIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=_preview_schema)

    model: ModelId
    overrides: Overrides


class ScenarioIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=_scenario_schema)

    name: ScenarioName
    model: ModelId
    overrides: Overrides


class ScenarioRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ScenarioName


class ReferenceOut(BaseModel):
    title: str
    link: str | None = None
    section: str | None = None
    page: str | None = None
    table: str | None = None
    note: str | None = None
    #: the reference as one line ("Board Policy 3110, § 4, p. 3")
    cite: str


class ParamOut(BaseModel):
    id: str
    label: str
    description: str | None
    unit: str
    unit_label: str
    #: the value in force on the model's run date
    value: float
    effective: str
    reference: ReferenceOut
    adjustable: bool
    min: float | None = None
    max: float | None = None
    step: float | None = None
    #: why the parameter cannot be moved (solved by the formula, a figure of the data)
    fixed_reason: str | None = None


class ModelOut(BaseModel):
    id: str
    label: str
    description: str
    formula_id: str
    formula_label: str
    date: str
    fiscal_year: str
    entity_kind: str
    entities: str
    n_entities: int
    current_label: str
    synthetic: bool
    source: str
    parameters: list[ParamOut]


class ComponentOut(BaseModel):
    id: str
    label: str
    kind: str
    amount_cents: int
    #: the same line with every parameter at its value in force
    baseline_cents: int
    #: how many entities get a non-zero amount
    entities: int
    #: the line's base, weight and eligible count in words ("$5,235.80", "10 % to 20 %", "3,979")
    base: str
    weight: str
    eligible: str


class EntityOut(BaseModel):
    id: str
    name: str
    pupils: float
    #: one amount per component, in the order of ``summary.components``
    lines: list[int]
    total_cents: int
    baseline_cents: int
    per_pupil_cents: int | None
    current_cents: int | None
    change_cents: int | None
    change_pct: float | None
    need: float | None


class SummaryOut(BaseModel):
    entities: int
    pupils: float
    total_cents: int
    baseline_total_cents: int
    budget_cents: int | None
    #: current funding of the entities that have it, the model's total for those, and the difference
    current_cents: int
    compared_total_cents: int
    difference_cents: int
    #: entities with no current funding (new this year): not winners, not losers
    new_entities: int
    components: list[ComponentOut]
    #: parameters the formula solved (e.g. the base amount that meets the budget)
    solved: dict[str, float]


class ChangeOut(BaseModel):
    id: str
    name: str
    current_cents: int
    total_cents: int
    change_cents: int
    change_pct: float | None


class WinnersOut(BaseModel):
    winners: int
    losers: int
    unchanged: int
    new: int
    gained_cents: int
    lost_cents: int
    biggest_gains: list[ChangeOut]
    biggest_losses: list[ChangeOut]


class MetricOut(BaseModel):
    value: float | None
    weighted: bool
    definition: str
    note: str | None = None


class EquityOut(BaseModel):
    #: the entities measured and those left out (no pupils, no funding, or a blank need)
    n: int
    excluded: int
    pupils: float
    weighted: bool
    metrics: dict[str, MetricOut]
    note: str | None = None


class EquityPairOut(BaseModel):
    value: str
    model: EquityOut
    current: EquityOut | None


class PreviewOut(BaseModel):
    model: str
    formula_id: str
    plan_hash: str
    date: str
    entities_label: str
    #: the overrides applied (those equal to the value in force are dropped)
    overrides: dict[str, float]
    summary: SummaryOut
    entities: list[EntityOut]
    winners_losers: WinnersOut
    equity: EquityPairOut
    notes: list[str]
    engine_ms: float
    elapsed_ms: float


class ScenarioOut(BaseModel):
    slug: str
    name: str
    model: str
    model_label: str
    overrides: dict[str, float]
    created_by: str
    created_at: str
    #: the share link (any signed-in user who may use the simulator can open it)
    url: str
    #: the formula changed since the scenario was saved (its results are recomputed with today's formula)
    formula_changed: bool


class ScenarioResultOut(BaseModel):
    scenario: ScenarioOut
    result: PreviewOut


class CompareParamOut(BaseModel):
    id: str
    label: str
    unit: str
    value_in_force: float
    values: list[float]


class CompareComponentOut(BaseModel):
    id: str
    label: str
    amounts: list[int]
    #: each scenario's amount less the first scenario's
    deltas: list[int]


class CompareEntityOut(BaseModel):
    id: str
    name: str
    current_cents: int | None
    totals: list[int]
    deltas: list[int]


class CompareOut(BaseModel):
    model: str
    entities_label: str
    scenarios: list[ScenarioOut]
    parameters: list[CompareParamOut]
    components: list[CompareComponentOut]
    totals: list[int]
    total_deltas: list[int]
    #: against the first scenario: entities that gain, lose, stay
    gain: list[int]
    lose: list[int]
    same: list[int]
    #: each scenario's Gini index and coefficient of variation of funding per pupil
    gini: list[float | None]
    coefficient_of_variation: list[float | None]
    entities: list[CompareEntityOut]

"""The scenario simulator's models: a formula, the data set it runs on and what a user may move.

A *model* is one formula file, the loader of its entity table, the run date, the column holding
current funding (winners and losers are counted against it; a blank is "new", never zero) and the
rule that turns each parameter's value in force and unit into the range a slider allows
(:func:`param_range`). Models whose files are missing are left out, so an installed package without
the repository's ``examples/`` (or without ``../shared/data``) offers fewer models, never an error.

SYNTHETIC: ``demo-district`` is the demo's 40 schools (``fairshare demo``, seed 2026) and
``synthetic-state`` is a made-up state of 320 towns generated here (seed 2026) for the demo state
foundation formula; every figure of both is illustrative.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from fairshare.io import EntityTable, RawTable, aggregate_students, load_entities, validate_frame, write_table
from fairshare.programs import DEMO_FORMULA
from fairshare.rules.plan import Plan
from fairshare.rules.schema import Formula

__all__ = [
    "EXAMPLES",
    "SHARED_DATA",
    "ModelSpec",
    "ParamRange",
    "adjustable_params",
    "model_specs",
    "param_range",
    "synthetic_state",
]

#: the repository's examples and the optional real data sets beside it (absent from an installed wheel)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
STATE_SEED = 2026
STATE_TOWNS = 320

Loader = Callable[[Formula], EntityTable]


@dataclass(frozen=True)
class ParamRange:
    """What a control allows: ``min <= value <= max``, moved by ``step`` (the value in force is on the grid)."""

    min: float
    max: float
    step: float


@dataclass(frozen=True)
class ModelSpec:
    id: str
    label: str
    description: str
    formula: Path
    load: Loader
    date: dt.date
    #: what one row is, in the plural for headings ("schools", "towns")
    entities: str
    #: the input column with each entity's current funding (dollars; blank = new, never zero)
    current_column: str
    current_label: str
    #: what the formula's ``entity.need_share`` measures, for the charts
    need_label: str = "need share"
    #: a positive column for fiscal neutrality (wealth per pupil), when the data has one
    wealth_column: str | None = None
    #: parameters shown but not adjustable, with the reason
    fixed: Mapping[str, str] = field(default_factory=dict)
    #: ranges that replace the unit rule for a parameter (e.g. a budget the solver can reach)
    ranges: Mapping[str, ParamRange] = field(default_factory=dict)
    synthetic: bool = False
    source: str = ""


# ----------------------------------------------------------------- ranges

_MONEY = frozenset({"usd", "usd_per_pupil", "usd_per_fte"})
_WHOLE = frozenset({"count", "pupils", "fte", "pupils_per_fte", "rank", "tier"})
_FACTORS = frozenset({"share_of_base", "ratio", "score"})
_ADJUSTABLE_UNITS = _MONEY | _WHOLE | _FACTORS | {"share", "percent"}


def _on_grid(value: float, step: float) -> bool:
    q = value / step
    return abs(q - round(q)) < 1e-6


def _step(value: float, unit: str) -> float:
    """A hundredth of the value's order of magnitude (shares and weights at most 0.01, whole units at
    least 1), made finer until the value in force is a multiple of it."""
    v = abs(value)
    if v == 0:
        return 1.0 if unit in _WHOLE or unit in _MONEY else 0.01
    step = 10.0 ** (math.floor(math.log10(v)) - 2)
    if unit in _WHOLE:
        step = max(step, 1.0)
    elif unit not in _MONEY:
        step = min(step, 0.01)
    while not _on_grid(v, step) and step > 1e-6:
        step /= 10.0
    return float(f"{step:.1g}")


def param_range(value: float, unit: str, tier_max: float = 3.0) -> ParamRange | None:
    """The slider's range for a parameter from its value in force ``v`` and its unit (None: not adjustable).

    * money (``usd``, ``usd_per_pupil``, ``usd_per_fte``): 0 to 2v;
    * ``share``: 0 to 1; ``percent``: 0 to 100;
    * weights and factors (``share_of_base``, ``ratio``, ``score``): 0 to max(2v, 1);
    * counts (``count``, ``pupils``, ``fte``): 0 to max(2v, 10); ``rank``: 1 to max(2v, 10);
      ``tier``: 1 to the highest tier the formula uses; ``pupils_per_fte`` (a divisor): v/2 to 2v;
    * step: see :func:`_step`. A value of 0 gets 0 to 1 (factors, shares) or 0 to 1,000 (money).
    """
    if unit not in _ADJUSTABLE_UNITS:
        return None
    step = _step(value, unit)
    v = abs(value)
    lo = 0.0
    if unit in _MONEY:
        hi = 2 * v if v else 1000.0
    elif unit == "share":
        hi = 1.0
    elif unit == "percent":
        hi = 100.0
    elif unit in _FACTORS:
        hi = max(2 * v, 1.0)
    elif unit == "tier":
        lo, hi = 1.0, max(tier_max, v, 1.0)
    elif unit == "rank":
        lo, hi = 1.0, max(2 * v, 10.0)
    elif unit == "pupils_per_fte":
        lo, hi = v / 2 if v else step, max(2 * v, 10.0)
    else:
        hi = max(2 * v, 10.0)
    if value < 0:  # a negative value in force: the mirror image
        lo, hi = -hi, 0.0
    return ParamRange(_tidy(lo), _tidy(hi), step)


def _tidy(x: float) -> float:
    return float(f"{x:.12g}")


def adjustable_params(plan: Plan, spec: ModelSpec) -> dict[str, ParamRange | str]:
    """Each parameter the lines read (directly or through variables), in formula order: its range,
    or why it cannot be moved (solved by the formula, a figure of the data, a unit without a range).
    Parameters no line reads (e.g. a salary used only for trades) are left out."""
    read = _params_read(plan)
    tier_max = max([p.value for p in plan.params.values() if p.unit == "tier"], default=3.0)
    solved = plan.scale.options["solve"] if plan.scale is not None else None
    out: dict[str, ParamRange | str] = {}
    for pid, p in plan.params.items():
        if pid not in read:
            continue
        if pid == solved:
            out[pid] = "solved: the formula sets it so the total equals the budget"
        elif pid in spec.fixed:
            out[pid] = spec.fixed[pid]
        else:
            rng = spec.ranges.get(pid) or param_range(p.value, p.unit, tier_max)
            out[pid] = rng if rng is not None else f"a parameter in {p.unit} is not adjustable here"
    return out


def _params_read(plan: Plan) -> set[str]:
    names: set[str] = set()
    for comp in plan.components:
        names |= comp.names()
    for sa in plan.set_asides:
        names |= sa.amount.names
    names |= plan.pupils.names
    if plan.need_share is not None:
        names |= plan.need_share.names
    todo = [n for n in names if n in plan.variables]
    while todo:
        for n in plan.variables[todo.pop()].expr.names:
            if n not in names:
                names.add(n)
                if n in plan.variables:
                    todo.append(n)
    return names & set(plan.params)


# ----------------------------------------------------------------- loaders


def _demo_table(formula: Formula) -> EntityTable:
    """The demo's school table exactly as ``fairshare demo`` builds it: the synthetic schools and pupils
    (seed 2026) written to a scratch directory, counted by DuckDB and checked against the contract."""
    from fairshare.demo import generate

    with tempfile.TemporaryDirectory(prefix="fairshare-simulator-") as tmp:
        school_path, student_path = generate(Path(tmp))
        table_path = Path(tmp) / "school_table.csv"
        write_table(aggregate_students(student_path, school_path).frame, table_path)
        table = load_entities(table_path, formula)
    return replace(table, source="synthetic demo district (fairshare demo, seed 2026)")


_PLACES = ["Ash", "Birch", "Brook", "Cedar", "Clear", "East", "Elm", "Fair", "Glen", "Green", "High", "Lake",
           "Maple", "Mill", "North", "Oak", "Pine", "River", "Stone", "West"]  # fmt: skip
_ENDINGS = ["bury", "dale", "field", "ford", "haven", "land", "mont", "port", "ridge", "stead", "ton", "view",
            "ville", "wood", "worth", "brook"]  # fmt: skip


def synthetic_state(n: int = STATE_TOWNS, seed: int = STATE_SEED) -> pl.DataFrame:
    """SYNTHETIC: ``n`` towns in the demo state foundation formula's contract (as text, like a CSV).

    Sizes are log-normal (a few cities, many small towns); the low-income share is Beta(2, 3); wealth
    per student falls as need rises; last year's grant is a town's rough need × aid ratio × $11,525
    times a factor between 0.8 and 1.15, so some towns gain and some lose; about one town in eight,
    more often the poorer, is identified for improvement, with its base-year grant a little below
    last year's. The same seed gives the same rows everywhere."""
    rng = np.random.default_rng(seed)
    students = np.clip(np.round(rng.lognormal(np.log(2200), 1.0, n)), 80, 60_000).astype(np.int64)
    share = rng.beta(2.0, 3.0, n)
    low_income = rng.binomial(students, share)
    wealth = np.clip(np.exp(np.log(380_000) - 1.2 * (share - 0.4) + rng.normal(0, 0.35, n)), 60_000, 3_000_000)
    wealth = np.round(wealth, -2)
    ratio = np.maximum(1 - wealth / 400_000, 0.1)
    last_year = np.round((students + 0.3 * low_income) * ratio * 11_525 * rng.uniform(0.8, 1.15, n), -2)
    identified = rng.random(n) < 0.04 + 0.3 * share
    base_year = np.round(last_year * rng.uniform(0.9, 1.0, n), -2)
    order = rng.permutation(len(_PLACES) * len(_ENDINGS))[:n] if n <= len(_PLACES) * len(_ENDINGS) else None
    if order is not None:
        towns = [_PLACES[k // len(_ENDINGS)] + _ENDINGS[k % len(_ENDINGS)] for k in order]
    else:
        towns = [f"Town {k + 1}" for k in range(n)]
    width = max(3, len(str(n)))
    return pl.DataFrame(
        {
            "town_id": [f"T{k + 1:0{width}d}" for k in range(n)],
            "town": towns,
            "students": students.astype(str),
            "low_income": low_income.astype(str),
            "wealth_per_student": [f"{x:.0f}" for x in wealth],
            "aid_last_year": [f"{x:.0f}" for x in last_year],
            "identified": np.where(identified, "yes", "no"),
            "base_year_aid": [f"{b:.0f}" if i else None for b, i in zip(base_year, identified, strict=True)],
        }
    ).cast(pl.String)


def _state_table(formula: Formula) -> EntityTable:
    frame = synthetic_state()
    digest = hashlib.sha256(frame.write_csv().encode()).hexdigest()
    source = f"synthetic state ({STATE_TOWNS} towns, seed {STATE_SEED})"
    raw = RawTable(frame=frame, path=source, rows=np.arange(2, frame.height + 2, dtype=np.int64), sha256=digest)
    return validate_frame(raw, formula)


def _file_loader(path: Path) -> Loader:
    def load(formula: Formula) -> EntityTable:
        return load_entities(path, formula)

    return load


# ----------------------------------------------------------------- the registry


def model_specs() -> dict[str, ModelSpec]:
    """Every model whose files are present, in the order the picker lists them."""
    from fairshare.demo import DEMO_DATE

    aid = EXAMPLES / "aid-transition"
    ct = SHARED_DATA / "ct_ecs_fy2027" / "town_year_ecs_inputs_fy2027.csv"
    nc = SHARED_DATA / "nc_2023_24" / "traditional_lea_2023_24.csv"
    candidates = [
        ModelSpec(
            id="demo-district",
            label="Demo district student-based budget (synthetic, 40 schools)",
            description="The demo's weighted student funding, fitted to the appropriation: moving a weight "
            "moves money between schools; the base amount is solved so the total stays on budget.",
            formula=DEMO_FORMULA,
            load=_demo_table,
            date=DEMO_DATE,
            entities="schools",
            current_column="prior_year_total",
            current_label="Last year's school budget",
            need_label="share of high-need pupils",
            ranges={"budget.appropriation": ParamRange(180_000_000, 230_000_000, 500_000)},
            synthetic=True,
            source="fairshare demo: synthetic schools and pupils, seed 2026",
        ),
        ModelSpec(
            id="aid-transition",
            label="Demo state foundation aid, FY 2027 (synthetic, 3 towns)",
            description="The aid-transition example's first year (FY 2027): foundation × need students × "
            "aid ratio, phased in from last year's grant with a stop-loss.",
            formula=aid / "foundation.yaml",
            load=_file_loader(aid / "towns.csv"),
            date=dt.date(2026, 7, 1),
            entities="towns",
            current_column="aid_last_year",
            current_label="Last year's grant",
            need_label="share of low-income students",
            wealth_column="wealth_per_student",
            synthetic=True,
            source="examples/aid-transition/towns.csv",
        ),
        ModelSpec(
            id="synthetic-state",
            label=f"Demo state foundation aid, FY 2027 (synthetic, {STATE_TOWNS} towns)",
            description="The same foundation formula on a generated state of "
            f"{STATE_TOWNS} towns, for trying the formula at scale.",
            formula=aid / "foundation.yaml",
            load=_state_table,
            date=dt.date(2026, 7, 1),
            entities="towns",
            current_column="aid_last_year",
            current_label="Last year's grant",
            need_label="share of low-income students",
            wealth_column="wealth_per_student",
            synthetic=True,
            source=f"generated by fairshare (seed {STATE_SEED})",
        ),
        ModelSpec(
            id="ct-ecs-fy2027",
            label="Connecticut ECS grant, FY 2027 (169 towns)",
            description="Connecticut's Education Cost Sharing grant as the OFA/CSDE calculation computes it.",
            formula=EXAMPLES / "ct-ecs-fy2027" / "ecs.yaml",
            load=_file_loader(ct),
            date=dt.date(2026, 7, 1),
            entities="towns",
            current_column="prior_year_entitlement",
            current_label="FY 2026 grant",
            need_label="share of students eligible for free or reduced-price meals",
            fixed={
                "wealth.engl_median": "a statewide figure of the data (median of the towns), not a policy choice",
                "wealth.mhi_median": "a statewide figure of the data (median of the towns), not a policy choice",
            },
            # the threshold divides the wealth measures: keep it away from 0
            ranges={"wealth.threshold_factor": ParamRange(0.5, 2.7, 0.01)},
            source="../shared/data/ct_ecs_fy2027 (OFA/CSDE ECS calculation)",
        ),
        ModelSpec(
            id="nc-2023-24",
            label="North Carolina weighted funding simulator, 2023-24 (115 LEAs)",
            description="The Default scenario of the Public School Forum of NC's funding formula simulator.",
            formula=EXAMPLES / "nc-2023-24" / "default.yaml",
            load=_file_loader(nc),
            date=dt.date(2023, 7, 1),
            entities="LEAs",
            current_column="current_total",
            current_label="Current state funding",
            need_label="share of economically disadvantaged pupils",
            source="../shared/data/nc_2023_24",
        ),
    ]
    data_files = {"aid-transition": aid / "towns.csv", "ct-ecs-fy2027": ct, "nc-2023-24": nc}
    return {
        m.id: m for m in candidates if m.formula.is_file() and (m.id not in data_files or data_files[m.id].is_file())
    }

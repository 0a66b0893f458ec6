"""The scenario simulator's service: cached models, checked overrides, previews, comparisons, exports.

Each model (:mod:`fairshare.web.simulator_registry`) is loaded once per process, at first use and
under a lock: its formula, the plan compiled for its date, its entity table, the run with every
parameter at its value in force (the baseline) and current funding. A preview is then only
``plan.with_params(overrides)`` and :func:`fairshare.rules.evaluate` on the cached table, followed
by the summaries below — the same engine, to the cent, as ``fairshare allocate``.
"""

from __future__ import annotations

import difflib
import math
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from fairshare.errors import InputError, Problem
from fairshare.io import EntityTable
from fairshare.report.html import fiscal_year_label
from fairshare.report.outputs import write_budgets_csv
from fairshare.report.summary import component_summary
from fairshare.report.xlsx import write_workbook
from fairshare.review.metrics import equity_metrics
from fairshare.rules import Plan, Run, compile_formula, evaluate, load_formula
from fairshare.rules.money import to_cents
from fairshare.rules.units import UNITS
from fairshare.web.simulator_registry import ModelSpec, ParamRange, adjustable_params, model_specs
from fairshare.web.simulator_schemas import (
    ChangeOut,
    CompareComponentOut,
    CompareEntityOut,
    CompareOut,
    CompareParamOut,
    ComponentOut,
    EntityOut,
    EquityOut,
    EquityPairOut,
    MetricOut,
    ModelOut,
    ParamOut,
    PreviewOut,
    ReferenceOut,
    ScenarioOut,
    SummaryOut,
    WinnersOut,
)

__all__ = [
    "Model",
    "check_overrides",
    "compare",
    "export_csv",
    "export_xlsx",
    "load_spec",
    "model",
    "model_ids",
    "models",
    "preview",
    "preview_model",
    "run_for",
]

#: how many of the largest gains and losses a preview lists
BIGGEST = 5


@dataclass(frozen=True)
class Model:
    """A loaded model: everything a preview reuses."""

    spec: ModelSpec
    plan: Plan
    table: EntityTable
    #: parameter id -> its range, or why it cannot be moved (only parameters some line reads)
    adjustable: dict[str, ParamRange | str]
    baseline: Run
    #: current funding in cents; -1 where blank (a new entity: never read as 0)
    current: np.ndarray
    current_equity: EquityOut | None
    wealth: np.ndarray | None
    info: ModelOut


@cache
def _specs() -> dict[str, ModelSpec]:
    return model_specs()


_LOCK = threading.Lock()
_LOADING: dict[str, threading.Lock] = {}
_LOADED: dict[str, Model] = {}


def model_ids() -> list[str]:
    """The available models' ids, in the picker's order (nothing is loaded)."""
    return list(_specs())


def models() -> list[Model]:
    """Every available model, loaded (the first call loads them)."""
    return [model(mid) for mid in _specs()]


def model(model_id: str) -> Model:
    """The model ``model_id``, loaded once per process (thread-safe); unknown ids are a located problem."""
    hit = _LOADED.get(model_id)
    if hit is not None:
        return hit
    spec = _specs().get(model_id)
    if spec is None:
        near = difflib.get_close_matches(model_id, _specs(), n=1)
        raise InputError(
            Problem(
                "unknown_id",
                f"no simulator model {model_id!r}",
                column="model",
                value=model_id,
                hint=(f"did you mean {near[0]!r}? " if near else "") + f"models: {', '.join(_specs())}",
            )
        )
    with _LOCK:
        lock = _LOADING.setdefault(model_id, threading.Lock())
    with lock:
        hit = _LOADED.get(model_id)
        if hit is None:
            hit = _LOADED[model_id] = _load(spec)
    return hit


def load_spec(spec: ModelSpec) -> Model:
    """Load a model from its spec (uncached: :func:`model` caches the registered ones)."""
    return _load(spec)


def _load(spec: ModelSpec) -> Model:
    formula = load_formula(spec.formula)
    plan = compile_formula(formula, spec.date)
    table = spec.load(formula)
    baseline = evaluate(plan, table)
    raw = np.asarray(table.columns[spec.current_column], dtype=float)
    current = np.where(np.isnan(raw), -1, to_cents(np.nan_to_num(raw)))
    wealth = None if spec.wealth_column is None else np.asarray(table.columns[spec.wealth_column], dtype=float)
    adjustable = adjustable_params(plan, spec)
    known = current >= 0
    current_equity = _equity(np.where(known, current, 0), baseline, _need(baseline), wealth) if known.any() else None
    info = _info(spec, plan, table, adjustable)
    return Model(spec, plan, table, adjustable, baseline, current, current_equity, wealth, info)


def _info(spec: ModelSpec, plan: Plan, table: EntityTable, adjustable: dict[str, ParamRange | str]) -> ModelOut:
    params = []
    for pid, rule in adjustable.items():
        p = plan.params[pid]
        ref = p.reference
        params.append(
            ParamOut(
                id=pid,
                label=p.label,
                description=p.description,
                unit=p.unit,
                unit_label=UNITS[p.unit].label,
                value=p.value,
                effective=p.effective.isoformat(),
                reference=ReferenceOut(
                    title=ref.title,
                    link=ref.link,
                    section=ref.section,
                    page=None if ref.page is None else str(ref.page),
                    table=ref.table,
                    note=ref.note,
                    cite=ref.cite(),
                ),
                adjustable=isinstance(rule, ParamRange),
                min=rule.min if isinstance(rule, ParamRange) else None,
                max=rule.max if isinstance(rule, ParamRange) else None,
                step=rule.step if isinstance(rule, ParamRange) else None,
                fixed_reason=rule if isinstance(rule, str) else None,
            )
        )
    return ModelOut(
        id=spec.id,
        label=spec.label,
        description=spec.description,
        formula_id=plan.id,
        formula_label=plan.formula.label,
        date=plan.date.isoformat(),
        fiscal_year=fiscal_year_label(plan.date),
        entity_kind=plan.formula.entity.kind,
        entities=spec.entities,
        n_entities=table.n,
        current_label=spec.current_label,
        synthetic=spec.synthetic,
        source=spec.source,
        parameters=params,
    )


# ----------------------------------------------------------------- overrides


def check_overrides(m: Model, overrides: Mapping[str, float]) -> dict[str, float]:
    """The overrides that differ from the values in force; every unknown, fixed or out-of-range one is a
    problem (all of them raised together as one :class:`InputError`, each naming the parameter)."""
    problems: list[Problem] = []
    out: dict[str, float] = {}
    movable = [pid for pid, r in m.adjustable.items() if isinstance(r, ParamRange)]
    for pid, value in overrides.items():
        rule = m.adjustable.get(pid)
        v = float(value)
        if pid not in m.plan.params or rule is None:
            near = difflib.get_close_matches(pid, movable, n=1)
            what = "no parameter" if pid not in m.plan.params else "no amount depends on parameter"
            problems.append(
                Problem(
                    "unknown_id",
                    f"{what} {pid!r} in model {m.spec.id}",
                    column=pid,
                    value=v,
                    hint=f"did you mean {near[0]!r}?" if near else "GET /api/scenarios/models lists the parameters",
                )
            )
        elif isinstance(rule, str):
            problems.append(
                Problem("invalid_value", f"{pid} cannot be set here: {rule}", column=pid, value=v, rule="fixed")
            )
        elif not math.isfinite(v) or not (rule.min - rule.step * 1e-6 <= v <= rule.max + rule.step * 1e-6):
            low = math.isfinite(v) and v < rule.min
            problems.append(
                Problem(
                    "below_minimum" if low else "above_maximum",
                    f"{pid} = {v:g} is outside its range {rule.min:g} to {rule.max:g}",
                    column=pid,
                    value=v,
                    rule=f"{rule.min:g} <= {pid} <= {rule.max:g}",
                    hint=f"choose a value from {rule.min:g} to {rule.max:g} ({m.plan.params[pid].unit})",
                )
            )
        elif v != m.plan.params[pid].value:
            out[pid] = v
    if problems:
        raise InputError(problems)
    return out


def run_for(m: Model, overrides: Mapping[str, float]) -> tuple[Run, dict[str, float], float]:
    """Check the overrides and evaluate: the run, the overrides applied and the engine's milliseconds."""
    applied = check_overrides(m, overrides)
    t0 = time.perf_counter()
    run = evaluate(m.plan.with_params(applied), m.table) if applied else m.baseline
    return run, applied, (time.perf_counter() - t0) * 1000.0


# ----------------------------------------------------------------- preview


def preview(model_id: str, overrides: Mapping[str, float]) -> PreviewOut:
    """Every entity's result, the summary by component, winners and losers against current funding and the
    equity metrics of funding per pupil, for ``overrides`` on the model's values in force."""
    t0 = time.perf_counter()
    m = model(model_id)
    run, applied, engine_ms = run_for(m, overrides)
    return _preview(m, run, applied, engine_ms, t0)


def preview_model(m: Model, overrides: Mapping[str, float]) -> PreviewOut:
    """:func:`preview` on a loaded model (e.g. a model on an uploaded data set)."""
    t0 = time.perf_counter()
    run, applied, engine_ms = run_for(m, overrides)
    return _preview(m, run, applied, engine_ms, t0)


def _preview(m: Model, run: Run, applied: dict[str, float], engine_ms: float, t0: float) -> PreviewOut:
    n = run.table.n
    total = run.total_cents
    base_total = m.baseline.total_cents
    known = m.current >= 0
    change = np.where(known, total - m.current, 0)
    pct = _pct(change, m.current, known)
    need = _need(run)
    per_pupil = run.per_pupil_cents
    cents = run.cents
    ids, names = run.table.ids.astype(str).tolist(), run.table.names.astype(str).tolist()
    pupils = run.pupils.tolist()
    entities = [
        EntityOut(
            id=ids[i],
            name=names[i],
            pupils=pupils[i],
            lines=cents[i].tolist(),
            total_cents=int(total[i]),
            baseline_cents=int(base_total[i]),
            per_pupil_cents=int(per_pupil[i]) if per_pupil[i] >= 0 else None,
            current_cents=int(m.current[i]) if known[i] else None,
            change_cents=int(change[i]) if known[i] else None,
            change_pct=pct[i],
            need=None if need is None or not math.isfinite(need[i]) else float(need[i]),
        )
        for i in range(n)
    ]
    texts = {row["id"]: row for row in component_summary(run)["rows"]}
    components = [
        ComponentOut(
            id=comp.id,
            label=comp.label,
            kind=comp.kind,
            amount_cents=int(run.cent_columns[j].sum()),
            baseline_cents=int(m.baseline.cent_columns[j].sum()),
            entities=int(np.count_nonzero(run.cent_columns[j])),
            base=texts[comp.id]["base"],
            weight=texts[comp.id]["weight"],
            eligible=texts[comp.id]["eligible"],
        )
        for j, comp in enumerate(run.lines)
    ]
    summary = SummaryOut(
        entities=n,
        pupils=float(np.sum(run.pupils)),
        total_cents=int(total.sum()),
        baseline_total_cents=int(base_total.sum()),
        budget_cents=run.budget_cents,
        current_cents=int(m.current[known].sum()),
        compared_total_cents=int(total[known].sum()),
        difference_cents=int(change[known].sum()),
        new_entities=int((~known).sum()),
        components=components,
        solved=dict(run.solved),
    )
    equity = EquityPairOut(
        value="total funding per pupil (pupil-weighted)",
        model=_equity(total, run, need, m.wealth),
        current=m.current_equity,
    )
    return PreviewOut(
        model=m.spec.id,
        formula_id=m.plan.id,
        plan_hash=m.plan.hash,
        date=m.plan.date.isoformat(),
        entities_label=m.spec.entities,
        overrides=applied,
        summary=summary,
        entities=entities,
        winners_losers=_winners(ids, names, total, m.current, known, change, pct),
        equity=equity,
        notes=list(run.notes),
        engine_ms=round(engine_ms, 3),
        elapsed_ms=round((time.perf_counter() - t0) * 1000.0, 3),
    )


def _pct(change: np.ndarray, current: np.ndarray, known: np.ndarray) -> list[float | None]:
    ok = known & (current > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(ok, change / np.where(ok, current, 1), np.nan)
    return [None if not math.isfinite(x) else round(x, 6) for x in share.tolist()]


def _need(run: Run) -> np.ndarray | None:
    if run.plan.need_share is None:
        return None
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(run.plan.need_share(run.env), dtype=float), (run.table.n,)).copy()


def _winners(
    ids: list[str],
    names: list[str],
    total: np.ndarray,
    current: np.ndarray,
    known: np.ndarray,
    change: np.ndarray,
    pct: list[float | None],
) -> WinnersOut:
    win, lose = known & (change > 0), known & (change < 0)

    def rows(mask: np.ndarray, sign: int) -> list[ChangeOut]:
        picked = np.flatnonzero(mask)
        order = sorted(picked.tolist(), key=lambda i: (-sign * int(change[i]), ids[i]))[:BIGGEST]
        return [
            ChangeOut(
                id=ids[i],
                name=names[i],
                current_cents=int(current[i]),
                total_cents=int(total[i]),
                change_cents=int(change[i]),
                change_pct=pct[i],
            )
            for i in order
        ]

    return WinnersOut(
        winners=int(win.sum()),
        losers=int(lose.sum()),
        unchanged=int((known & (change == 0)).sum()),
        new=int((~known).sum()),
        gained_cents=int(change[win].sum()),
        lost_cents=int(change[lose].sum()),
        biggest_gains=rows(win, 1),
        biggest_losses=rows(lose, -1),
    )


def _equity(cents: np.ndarray, run: Run, need: np.ndarray | None, wealth: np.ndarray | None) -> EquityOut:
    """The metrics of ``fairshare review metrics`` for funding per pupil, pupil-weighted, with need and wealth
    when the model has them; entities with no pupils or no funding (or a blank need) are left out."""
    pupils = run.pupils
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(pupils > 0, cents / 100.0 / np.where(pupils > 0, pupils, 1.0), np.nan)
    keep = (pupils > 0) & np.isfinite(values) & (values > 0)
    if need is not None:
        keep &= np.isfinite(need)
    if wealth is not None:
        keep &= np.isfinite(wealth) & (wealth > 0)
    n, excluded = int(keep.sum()), int((~keep).sum())
    try:
        result = equity_metrics(
            values[keep],
            pupils[keep],
            need=None if need is None else need[keep],
            wealth=None if wealth is None else wealth[keep],
        )
    except InputError as exc:
        note = exc.problems[0].message
        return EquityOut(n=n, excluded=excluded, pupils=float(pupils[keep].sum()), weighted=True, metrics={}, note=note)
    d = result.as_dict(6)
    metrics = {
        k: MetricOut(value=v["value"], weighted=v["weighted"], definition=v["definition"], note=v.get("note"))
        for k, v in d["metrics"].items()
    }
    return EquityOut(n=n, excluded=excluded, pupils=float(d["pupils"]), weighted=bool(d["weighted"]), metrics=metrics)


# ----------------------------------------------------------------- compare


def compare(m: Model, scenarios: list[ScenarioOut]) -> CompareOut:
    """Saved scenarios of one model side by side: parameters that differ, totals by component, each entity,
    and every scenario's change against the first."""
    runs = [run_for(m, s.overrides)[0] for s in scenarios]
    first = runs[0].total_cents
    moved = {pid for s in scenarios for pid in s.overrides}
    params = [
        CompareParamOut(
            id=pid,
            label=m.plan.params[pid].label,
            unit=m.plan.params[pid].unit,
            value_in_force=m.plan.params[pid].value,
            values=[s.overrides.get(pid, m.plan.params[pid].value) for s in scenarios],
        )
        for pid in m.adjustable
        if pid in moved
    ]
    components = []
    for j, comp in enumerate(m.plan.lines):
        amounts = [int(r.cent_columns[j].sum()) for r in runs]
        components.append(
            CompareComponentOut(id=comp.id, label=comp.label, amounts=amounts, deltas=[a - amounts[0] for a in amounts])
        )
    totals = [int(r.total_cents.sum()) for r in runs]
    deltas = [r.total_cents - first for r in runs]
    equity = [_equity(r.total_cents, r, _need(r), m.wealth).metrics for r in runs]
    ids, names = m.table.ids.astype(str).tolist(), m.table.names.astype(str).tolist()
    columns = np.stack([r.total_cents for r in runs], axis=1).tolist()
    return CompareOut(
        model=m.spec.id,
        entities_label=m.spec.entities,
        scenarios=scenarios,
        parameters=params,
        components=components,
        totals=totals,
        total_deltas=[t - totals[0] for t in totals],
        gain=[int((d > 0).sum()) for d in deltas],
        lose=[int((d < 0).sum()) for d in deltas],
        same=[int((d == 0).sum()) for d in deltas],
        gini=[e["gini"].value if "gini" in e else None for e in equity],
        coefficient_of_variation=[
            e["coefficient_of_variation"].value if "coefficient_of_variation" in e else None for e in equity
        ],
        entities=[
            CompareEntityOut(
                id=ids[i],
                name=names[i],
                current_cents=int(m.current[i]) if m.current[i] >= 0 else None,
                totals=row,
                deltas=[t - row[0] for t in row],
            )
            for i, row in enumerate(columns)
        ],
    )


# ----------------------------------------------------------------- exports


def export_csv(run: Run) -> bytes:
    """The run's ``budgets.csv``, exactly as ``fairshare allocate`` writes it (exact dollars from cents)."""
    with tempfile.TemporaryDirectory(prefix="fairshare-export-") as tmp:
        path = Path(tmp) / "budgets.csv"
        write_budgets_csv(run, path)
        return path.read_bytes()


def export_xlsx(run: Run) -> bytes:
    """The run's workbook (Summary, Budgets with last year and the change, Positions, Parameters)."""
    with tempfile.TemporaryDirectory(prefix="fairshare-export-") as tmp:
        return write_workbook(run, Path(tmp) / "budgets.xlsx").read_bytes()

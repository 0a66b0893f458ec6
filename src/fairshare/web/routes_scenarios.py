"""The scenario simulator's API (``/api/scenarios``) and pages (``/simulator``); the service is
:mod:`fairshare.web.simulator`.

Every role but the partner viewer may use the simulator (a partner sees contracts, not funding
formulas). A saved scenario is a name, a model and its overrides in the ``scenario`` table, under a
random slug: its share link ``/simulator/s/<slug>`` opens for any signed-in user who may use the
simulator, and its results are recomputed each time from today's formula and data.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from fairshare.errors import FairshareError, InputError, RunError
from fairshare.report.outputs import display_path
from fairshare.rules.units import format_value
from fairshare.web import simulator as sim
from fairshare.web.audit import record
from fairshare.web.auth import COOKIE, require_role, user_for
from fairshare.web.deps import CurrentActor, Db, Router
from fairshare.web.models import ROLES, Scenario, User
from fairshare.web.problems import ApiError, error_responses, problem_dict
from fairshare.web.simulator_registry import EXAMPLES
from fairshare.web.simulator_schemas import (
    CompareOut,
    ModelOut,
    PreviewIn,
    PreviewOut,
    ScenarioIn,
    ScenarioOut,
    ScenarioRename,
    ScenarioResultOut,
)
from fairshare.web.templating import templates

__all__ = ["NAV", "SIMULATOR_ROLES", "pages", "router"]

#: every role but the partner viewer, whose access is the partners' contracts only
SIMULATOR_ROLES = tuple(r for r in ROLES if r != "partner_viewer")
NAV = ("Scenario simulator", "/simulator", SIMULATOR_ROLES)
#: how many saved scenarios one comparison may set side by side
MAX_COMPARE = 6

HERE = Path(__file__).parent
PACKAGE = HERE.parent
ERRORS = error_responses(
    (403, "forbidden (or no CSRF token)"),
    (409, "the formula cannot run with these values (e.g. a budget it cannot meet)"),
    (415, "the body is not JSON"),
    (422, "invalid input: an unknown or fixed parameter, or a value outside its range (each one named)"),
)

Slug = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

router = Router(prefix="/scenarios", tags=["scenario simulator"])
pages = Router(include_in_schema=False)


class CSVResponse(Response):
    media_type = "text/csv"


class XLSXResponse(Response):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ----------------------------------------------------------------------------- helpers


def _engine(fn: Any, *args: Any) -> Any:
    """Call the engine; its problems name files as a reader knows them, never the server's full paths. A run
    the formula cannot complete with values inside their ranges (e.g. a budget it cannot meet) is a 409."""
    try:
        return fn(*args)
    except RunError as exc:
        # in-range values the formula cannot complete with (a budget it cannot meet): a conflict
        probs = [problem_dict(replace(p, file=_shown(p.file))) for p in exc.problems]
        raise ApiError(409, exc.code, str(probs[0]["message"]), probs) from None
    except FairshareError as exc:
        raise type(exc)([replace(p, file=_shown(p.file)) for p in exc.problems]) from None


def _shown(file: str | None) -> str | None:
    """A package file as ``fairshare/...``, an example as ``examples/...``, anything else by its name."""
    if not file or not Path(file).is_absolute():
        return file
    path = Path(file).resolve()
    if path.is_relative_to(PACKAGE):
        return display_path(path)
    return path.relative_to(EXAMPLES.parent).as_posix() if path.is_relative_to(EXAMPLES) else path.name


def _model_label(model_id: str) -> str:
    try:
        return sim.model(model_id).spec.label
    except InputError:
        return f"{model_id} (not available on this server)"


def _scenario_out(s: DbSession, row: Scenario) -> ScenarioOut:
    author = s.get(User, row.created_by)
    params = row.params or {}
    overrides = {str(k): float(v) for k, v in dict(params.get("overrides", {})).items()}
    try:
        changed = params.get("plan_hash") != sim.model(row.model).plan.hash
    except InputError:
        changed = True
    return ScenarioOut(
        slug=row.slug,
        name=row.name,
        model=row.model,
        model_label=_model_label(row.model),
        overrides=overrides,
        created_by=author.name if author is not None else "unknown",
        created_at=row.created_at.isoformat(timespec="seconds"),
        url=f"/simulator/s/{row.slug}",
        formula_changed=changed,
    )


def _find(s: DbSession, slug: str) -> Scenario:
    row = s.scalars(select(Scenario).where(Scenario.slug == slug)).first()
    if row is None:
        raise ApiError(404, "not_found", f"no saved scenario {slug!r}")
    return row


def _may_simulate(user: User) -> None:
    require_role(user, *SIMULATOR_ROLES)


# ----------------------------------------------------------------------------- API


@router.get("/models", response_model=list[ModelOut], responses=ERRORS)
def list_models(actor: CurrentActor) -> list[ModelOut]:
    """The simulator's models (formula and data set) with every parameter a user may move: label, unit,
    value in force, its reference and the allowed range."""
    _may_simulate(actor.user)
    return [m.info for m in _engine(sim.models)]


@router.get("/models/{model_id}", response_model=ModelOut, responses=ERRORS)
def get_model(model_id: Annotated[str, PathParam(max_length=80)], actor: CurrentActor) -> ModelOut:
    """One model and its parameters."""
    _may_simulate(actor.user)
    try:
        m: sim.Model = _engine(sim.model, model_id)
    except InputError:
        raise ApiError(404, "not_found", f"no simulator model {model_id!r}") from None
    return m.info


@router.post("/preview", response_model=PreviewOut, responses=ERRORS)
def preview(body: PreviewIn, actor: CurrentActor) -> PreviewOut:
    """Run the model with the overrides: every entity's result, the summary by component, winners and losers
    against current funding and equity metrics (money in integer cents). A parameter outside its range or
    unknown is a 422 naming it."""
    _may_simulate(actor.user)
    result: PreviewOut = _engine(sim.preview, body.model, body.overrides)
    return result


@router.post("", status_code=201, response_model=ScenarioOut, responses=ERRORS)
def save_scenario(body: ScenarioIn, actor: CurrentActor, s: Db) -> ScenarioOut:
    """Save a named scenario (checked first: it must run); returns its share link."""
    _may_simulate(actor.user)
    m: sim.Model = _engine(sim.model, body.model)
    _, applied, _ = _engine(sim.run_for, m, body.overrides)
    params = {"overrides": applied, "plan_hash": m.plan.hash, "formula_id": m.plan.id, "date": m.plan.date.isoformat()}
    row = Scenario(
        slug=secrets.token_urlsafe(16), name=body.name, model=m.spec.id, params=params, created_by=actor.user.id
    )
    s.add(row)
    s.flush()
    record(
        s,
        actor.user,
        "save_scenario",
        "scenario",
        row.slug,
        None,
        {"name": row.name, "model": row.model, "overrides": applied},
    )
    return _scenario_out(s, row)


@router.get("", response_model=list[ScenarioOut], responses=ERRORS)
def my_scenarios(actor: CurrentActor, s: Db) -> list[ScenarioOut]:
    """The scenarios the signed-in user saved, newest first."""
    _may_simulate(actor.user)
    rows = s.scalars(select(Scenario).where(Scenario.created_by == actor.user.id).order_by(Scenario.id.desc()))
    return [_scenario_out(s, r) for r in rows]


@router.get("/compare", response_model=CompareOut, responses=ERRORS)
def compare_scenarios(
    actor: CurrentActor,
    s: Db,
    slugs: Annotated[list[str], Query(alias="s", min_length=2, max_length=MAX_COMPARE)],
) -> CompareOut:
    """Two to six saved scenarios of one model side by side: totals by component, each entity, and each
    scenario's change against the first."""
    _may_simulate(actor.user)
    return _compare(s, slugs)


def _compare(s: DbSession, slugs: list[str]) -> CompareOut:
    rows = [_find(s, slug) for slug in slugs]
    models = sorted({r.model for r in rows})
    if len(models) > 1:
        raise ApiError(422, "invalid_value", f"scenarios of different models cannot be compared ({', '.join(models)})")
    m: sim.Model = _engine(sim.model, models[0])
    result: CompareOut = _engine(sim.compare, m, [_scenario_out(s, r) for r in rows])
    return result


@router.get("/{slug}", response_model=ScenarioResultOut, responses=ERRORS)
def get_scenario(slug: Slug, actor: CurrentActor, s: Db) -> ScenarioResultOut:
    """A saved scenario (any signed-in user who may use the simulator can read it), recomputed."""
    _may_simulate(actor.user)
    out = _scenario_out(s, _find(s, slug))
    return ScenarioResultOut(scenario=out, result=_engine(sim.preview, out.model, out.overrides))


def _own(s: DbSession, user: User, slug: str) -> Scenario:
    """The saved scenario ``slug``, which only its author may rename or delete (403 for anyone else)."""
    row = _find(s, slug)
    if row.created_by != user.id:
        raise ApiError(403, "forbidden", "only the scenario's author may rename or delete it")
    return row


@router.patch("/{slug}", response_model=ScenarioOut, responses=ERRORS)
def rename_scenario(slug: Slug, body: ScenarioRename, actor: CurrentActor, s: Db) -> ScenarioOut:
    """Rename a saved scenario (its author only); its share link stays the same."""
    _may_simulate(actor.user)
    row = _own(s, actor.user, slug)
    before = {"name": row.name}
    row.name = body.name
    record(s, actor.user, "rename_scenario", "scenario", row.slug, before, {"name": row.name})
    return _scenario_out(s, row)


@router.delete("/{slug}", status_code=204, response_class=Response, responses=ERRORS)
def delete_scenario(slug: Slug, actor: CurrentActor, s: Db) -> Response:
    """Delete a saved scenario (its author only); its share link then answers 404. The audit log keeps
    what it was."""
    _may_simulate(actor.user)
    row = _own(s, actor.user, slug)
    before = {"name": row.name, "model": row.model, "overrides": (row.params or {}).get("overrides", {})}
    s.delete(row)
    record(s, actor.user, "delete_scenario", "scenario", slug, before, None)
    return Response(status_code=204)


#: the downloads' errors are JSON (the one shape), not the download's content type
_DOWNLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": doc["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for code, doc in ERRORS.items()
}
_CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "budgets.csv"}
}
_XLSX_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {XLSXResponse.media_type: {"schema": {"type": "string", "format": "binary"}}},
        "description": "the workbook",
    }
}


@router.get("/{slug}/export.csv", response_class=CSVResponse, responses={**_DOWNLOAD_ERRORS, **_CSV_DOC})
def export_csv(slug: Slug, actor: CurrentActor, s: Db) -> Response:
    """The scenario's results as ``budgets.csv`` (the columns ``fairshare allocate`` writes)."""
    return _export(s, actor.user, slug, sim.export_csv, CSVResponse, "csv")


@router.get("/{slug}/export.xlsx", response_class=XLSXResponse, responses={**_DOWNLOAD_ERRORS, **_XLSX_DOC})
def export_xlsx(slug: Slug, actor: CurrentActor, s: Db) -> Response:
    """The scenario's results as an Excel workbook (Summary, Budgets, Positions, Parameters)."""
    return _export(s, actor.user, slug, sim.export_xlsx, XLSXResponse, "xlsx")


def _export(s: DbSession, user: User, slug: str, render: Any, cls: type[Response], suffix: str) -> Response:
    """A saved scenario's run, recomputed and rendered as a download ``<model>-<slug>.<suffix>``."""
    _may_simulate(user)
    row = _find(s, slug)
    out = _scenario_out(s, row)
    m: sim.Model = _engine(sim.model, out.model)
    run = _engine(sim.run_for, m, out.overrides)[0]
    name = f"{row.model}-{row.slug}.{suffix}"
    return cls(render(run), headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ----------------------------------------------------------------------------- pages


def _plain(x: float) -> str:
    """A number as an input's attribute, exactly (the shortest text that reads back as the same float):
    190000000, 0.25, 0.0001."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


TEMPLATES = templates()
TEMPLATES.env.filters.update(value=format_value, plain=_plain)


def _page(request: Request, s: DbSession, template: str, title: str, ctx: Any) -> Response:
    """Signed out: the sign-in page; a role without the simulator or a refused request: a page saying so."""
    found = user_for(s, request.cookies.get(COOKIE))
    if found is None:
        return RedirectResponse("/", status_code=303)
    user, session = found
    base = {"request": request, "user": user, "csrf": session.csrf_token, "title": title}
    try:
        _may_simulate(user)
        extra = ctx(user)
    except ApiError as exc:
        return _refused(request, base, exc.status, exc.message)
    except FairshareError as exc:
        return _refused(request, base, 422, "; ".join(p.message for p in exc.problems[:5]))
    return TEMPLATES.TemplateResponse(request, template, {**base, **extra})


def _refused(request: Request, base: dict[str, Any], status: int, message: str) -> HTMLResponse:
    ctx = {**base, "title": "Not available", "refused": message, "status": status}
    response: HTMLResponse = TEMPLATES.TemplateResponse(request, "simulator.html.j2", ctx, status_code=status)
    return response


def _simulator_ctx(s: DbSession, user: User, model_id: str | None, saved: Scenario | None) -> dict[str, Any]:
    available = sim.models()
    scenario = None if saved is None else _scenario_out(s, saved)
    wanted = scenario.model if scenario is not None else model_id or available[0].spec.id
    m: sim.Model = _engine(sim.model, wanted)
    mine = s.scalars(select(Scenario).where(Scenario.created_by == user.id).order_by(Scenario.id.desc())).all()
    groups: dict[str, list[Any]] = {}
    for p in m.info.parameters:
        groups.setdefault(p.id.split(".")[0] if "." in p.id else "", []).append(p)
    return {
        "models": [x.info for x in available],
        "model": m.info,
        "groups": groups,
        "scenario": scenario,
        "mine": [_scenario_out(s, r) for r in mine],
        "boot": {
            "model": m.spec.id,
            "overrides": {} if scenario is None else scenario.overrides,
            "entities": m.spec.entities,
            "entity_kind": m.info.entity_kind,
            "current_label": m.spec.current_label,
            "need_label": m.spec.need_label,
            "params": {p.id: {"label": p.label, "unit": p.unit} for p in m.info.parameters},
            "scenario": None if scenario is None else scenario.model_dump(),
        },
    }


@pages.get("/simulator", response_model=None)
def simulator_page(request: Request, s: Db, model: Annotated[str | None, Query(max_length=80)] = None) -> Response:
    return _page(request, s, "simulator.html.j2", "Scenario simulator", lambda u: _simulator_ctx(s, u, model, None))


@pages.get("/simulator/compare", response_model=None)
def compare_page(
    request: Request, s: Db, slugs: Annotated[list[str] | None, Query(alias="s", max_length=MAX_COMPARE)] = None
) -> Response:
    def ctx(_user: User) -> dict[str, Any]:
        if slugs is None or len(slugs) < 2:
            raise ApiError(422, "invalid_value", "choose at least two saved scenarios to compare")
        return {"cmp": _compare(s, slugs)}

    return _page(request, s, "simulator_compare.html.j2", "Compare scenarios", ctx)


@pages.get("/simulator/s/{slug}", response_model=None)
def shared_page(slug: Slug, request: Request, s: Db) -> Response:
    return _page(
        request, s, "simulator.html.j2", "Scenario simulator", lambda u: _simulator_ctx(s, u, None, _find(s, slug))
    )

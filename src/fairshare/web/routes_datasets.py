"""Uploads of data sets for the simulator: ``/api/datasets`` (checked by the CLI's input contracts)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from fairshare.web import datasets
from fairshare.web import simulator as sim
from fairshare.web.audit import record
from fairshare.web.deps import CurrentActor, Db, ReadDb, Router
from fairshare.web.models import Dataset
from fairshare.web.problems import ApiError
from fairshare.web.routes_scenarios import ERRORS, _engine, _may_simulate
from fairshare.web.simulator_schemas import ModelId, Overrides, PreviewOut

__all__ = ["NAV", "pages", "router"]

#: no card on the home page: uploads are made from the simulator
NAV: tuple[str, str, tuple[str, ...]] = ("Data sets", "/simulator", ())
router = Router(prefix="/datasets", tags=["scenario simulator"])
pages = Router(include_in_schema=False)


def _models_enum(schema: dict[str, Any]) -> None:
    schema["properties"]["model"]["enum"] = sim.model_ids()


class DatasetIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=_models_enum)

    model: ModelId
    #: a file name: no folder, no control character, one of the kinds the command line reads
    filename: Annotated[
        str, Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f\x7f]+\.(csv|txt|xlsx|parquet)$")
    ]
    content_base64: Annotated[
        str, Field(min_length=4, max_length=datasets.MAX_BYTES * 2, pattern=r"^[A-Za-z0-9+/]+={0,2}$")
    ]


class DatasetOut(BaseModel):
    slug: str
    model: str
    filename: str
    rows: int
    sha256: str


class DatasetPreviewIn(BaseModel):
    overrides: Overrides


def _out(d: Dataset) -> DatasetOut:
    return DatasetOut(slug=d.slug, model=d.model, filename=d.filename, rows=d.rows, sha256=d.sha256)


@router.post("", status_code=201, response_model=DatasetOut, responses=ERRORS)
def upload(body: DatasetIn, actor: CurrentActor, s: Db) -> DatasetOut:
    """Upload a table for a model: it is checked against the model's input contract exactly as
    ``fairshare allocate`` checks a file (every problem, with file, row, column, value and rule)."""
    _may_simulate(actor.user)
    data = datasets.decode(body.filename, body.content_base64)
    table = _engine(datasets.check_upload, body.model, body.filename, data)
    row = Dataset(
        slug=secrets.token_urlsafe(12),
        model=body.model,
        filename=body.filename,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=table.n,
        content=data,
        created_by=actor.user.id,
    )
    s.add(row)
    s.flush()
    record(s, actor.user, "upload_dataset", "dataset", row.slug, None, _out(row).model_dump())
    return _out(row)


@router.get("", response_model=list[DatasetOut], responses=ERRORS)
def mine(actor: CurrentActor, s: Db) -> list[DatasetOut]:
    """The data sets I uploaded, newest first."""
    _may_simulate(actor.user)
    rows = s.scalars(select(Dataset).where(Dataset.created_by == actor.user.id).order_by(Dataset.id.desc()))
    return [_out(d) for d in rows]


@router.post("/{slug}/preview", response_model=PreviewOut, responses=ERRORS)
def preview(slug: str, body: DatasetPreviewIn, actor: CurrentActor, s: ReadDb) -> PreviewOut:
    """Preview the model on an uploaded data set (the same result shape as /api/scenarios/preview)."""
    _may_simulate(actor.user)
    d = s.scalars(select(Dataset).where(Dataset.slug == slug)).first()
    if d is None:
        raise ApiError(404, "not_found", f"no data set {slug!r}")
    model = _engine(datasets.model_on, d.model, d.filename, d.content)
    result: PreviewOut = _engine(sim.preview_model, model, body.overrides)
    return result

"""Uploaded data sets for the simulator, checked by the same input contract as ``fairshare allocate``.

An upload is a JSON body (``filename``, ``content_base64``): CSV, XLSX or Parquet, at most
:data:`MAX_BYTES`. It is read by :func:`fairshare.io.read.read_raw` and validated by
:func:`fairshare.io.contract.validate_frame` against the model's formula, with the rows of the model's
fiscal year taken as the CLI takes them: every problem comes back in the one JSON error shape with the
uploaded file's name, the row, the column, the value and the rule, exactly as the command line says it.
A valid upload is stored (content and SHA-256) and gets a slug; previews on it reuse the model's
formula and parameter ranges with the uploaded table (loaded once per process per content).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import tempfile
import threading
from pathlib import Path, PurePath

from fairshare.errors import InputError, Problem
from fairshare.io import fiscal_year_of, select_year
from fairshare.io.contract import validate_frame
from fairshare.io.read import read_raw
from fairshare.io.table import EntityTable
from fairshare.rules.schema import Formula
from fairshare.web import simulator as sim

__all__ = ["MAX_BYTES", "check_upload", "decode", "model_on"]

MAX_BYTES = 5 * 1024 * 1024
_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str], sim.Model] = {}


def decode(filename: str, content_base64: str) -> bytes:
    """The upload's bytes; a body that is not base64 or too large is a located problem."""
    try:
        data = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            Problem("invalid_value", "content_base64 is not base64", file=filename, column="content_base64")
        ) from None
    if len(data) > MAX_BYTES:
        raise InputError(
            Problem(
                "invalid_value",
                f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
                file=filename,
                hint="upload a smaller table",
            )
        )
    return data


def _table(data: bytes, filename: str, formula: Formula, fiscal_year: int) -> EntityTable:
    name = PurePath(filename).name or "upload.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            raw = read_raw(path)
        except InputError as exc:  # name the uploaded file, not the temporary copy
            raise InputError([dataclasses.replace(p, file=name) if p.file else p for p in exc.problems]) from None
    raw = dataclasses.replace(raw, path=name)
    return select_year(validate_frame(raw, formula), formula, fiscal_year)


def check_upload(model_id: str, filename: str, data: bytes) -> EntityTable:
    """The uploaded table, validated against the model's formula (raises InputError with every problem)."""
    m = sim.model(model_id)
    table = _table(data, filename, m.plan.formula, fiscal_year_of(m.plan.date))
    column = m.spec.current_column
    if column not in table.columns:
        raise InputError(
            Problem(
                "missing_column",
                f"the file has no column {column!r} ({m.spec.current_label})",
                file=PurePath(filename).name,
                column=column,
            )
        )
    return table


def model_on(model_id: str, filename: str, data: bytes) -> sim.Model:
    """The model with the uploaded table in place of its own (loaded once per process per content)."""
    key = (model_id, hashlib.sha256(data).hexdigest())
    with _LOCK:
        hit = _MODELS.get(key)
    if hit is not None:
        return hit
    table = check_upload(model_id, filename, data)
    base = sim.model(model_id).spec
    spec = dataclasses.replace(base, load=lambda _formula: table, source=f"uploaded: {PurePath(filename).name}")
    loaded = sim.load_spec(spec)  # the model's formula, ranges and current funding, on the upload
    with _LOCK:
        return _MODELS.setdefault(key, loaded)

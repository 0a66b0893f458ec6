"""Uploaded data sets: checked by the same input contract as the CLI, with the same problems."""

from __future__ import annotations

import base64
from pathlib import Path

import polars as pl
from fastapi.testclient import TestClient

from fairshare.demo import DEMO_DATE, generate
from fairshare.errors import InputError
from fairshare.io import aggregate_students, write_table
from fairshare.pipeline import allocate
from fairshare.programs import DEMO_FORMULA
from web_helpers import demo, sign_in


def _demo_table(tmp_path: Path) -> Path:
    schools, students = generate(tmp_path / "data")
    path = tmp_path / "school_table.csv"
    write_table(aggregate_students(students, schools).frame, path)
    return path


def _upload(c: TestClient, headers: dict[str, str], name: str, data: bytes) -> object:
    body = {"model": "demo-district", "filename": name, "content_base64": base64.b64encode(data).decode()}
    return c.post("/api/datasets", json=body, headers=headers)


def test_upload_then_preview_matches_the_engine(client: TestClient, tmp_path: Path) -> None:
    headers = sign_in(client, demo("state"))
    path = _demo_table(tmp_path)
    r = _upload(client, headers, "my-schools.csv", path.read_bytes())
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    out = r.json()  # type: ignore[attr-defined]
    assert out["rows"] == 40 and out["filename"] == "my-schools.csv"
    p = client.post(f"/api/datasets/{out['slug']}/preview", json={"overrides": {}}, headers=headers)
    assert p.status_code == 200, p.text
    run = allocate(DEMO_FORMULA, path, DEMO_DATE)
    assert p.json()["summary"]["total_cents"] == int(run.total_cents.sum())
    assert [d["slug"] for d in client.get("/api/datasets").json()] == [out["slug"]]


def test_a_bad_upload_gets_the_clis_problems(client: TestClient, tmp_path: Path) -> None:
    headers = sign_in(client, demo("budget"))
    path = _demo_table(tmp_path)
    frame = pl.read_csv(path, infer_schema=False)
    col = next(c for c in frame.columns if c.startswith("grade_") or c.endswith("_count") or c == "ell")
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("many")).otherwise(pl.col(col)).alias(col)
    )
    bad_path = tmp_path / "schools.csv"
    bad.write_csv(bad_path)
    r = _upload(client, headers, "schools.csv", bad_path.read_bytes())
    assert r.status_code == 422  # type: ignore[attr-defined]
    err = r.json()["error"]  # type: ignore[attr-defined]
    try:
        allocate(DEMO_FORMULA, bad_path, DEMO_DATE)
    except InputError as exc:
        cli = [(p.code, p.message, p.row, p.column, p.value) for p in exc.problems]
    web = [(p["code"], p["message"], p.get("row"), p.get("column"), p.get("value")) for p in err["problems"]]
    assert web == cli and web[0][0] == "not_a_number" and web[0][2] == 4 and web[0][4] == "many"
    assert {p["file"] for p in err["problems"]} == {"schools.csv"}  # the upload's name, not a temporary path


def test_upload_errors_and_rights(client: TestClient) -> None:
    headers = sign_in(client, demo("budget"))
    r = _upload(client, headers, "notes.csv", b"\n")
    assert r.status_code == 422 and r.json()["error"]["code"] == "empty_file"  # type: ignore[attr-defined]
    bad64 = {"model": "demo-district", "filename": "x.csv", "content_base64": "%%%"}
    assert client.post("/api/datasets", json=bad64, headers=headers).json()["error"]["code"] == "invalid_value"
    for name in ("\x00.csv", "a\nb.csv", "../x.csv", "x.exe"):  # control characters, a path, another kind
        r = _upload(client, headers, name, b"a,b\n1,2\n")
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_value", name
    assert client.post("/api/datasets/nope/preview", json={"overrides": {}}, headers=headers).status_code == 404
    sign_in(client, demo("partner"))
    assert client.get("/api/datasets").status_code == 403

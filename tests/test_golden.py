"""Golden outputs of `fairshare demo`: any change to numbers, letters or files shows as a diff.

Regenerate with `make golden` (FAIRSHARE_UPDATE_GOLDEN=1) and review the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairshare.cli import app

GOLDEN = Path(__file__).parent / "golden" / "demo"
#: files compared byte for byte; the manifest pins the hashes of every other output (xlsx, report, letters)
FILES = [
    "budgets.csv",
    "allocations.csv",
    "manifest.json",
    "letters/S001.html",
    "letters/S003.html",
    "data/school_table.csv",
]
UPDATE = os.environ.get("FAIRSHARE_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    cwd = Path.cwd()
    os.chdir(work)  # the manifest records paths as given: run from a neutral directory
    try:
        result = CliRunner().invoke(app, ["demo", "--out", "demo-out"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return work / "demo-out"


@pytest.mark.parametrize("name", FILES)
def test_demo_output_matches_golden(demo_out: Path, name: str) -> None:
    produced = (demo_out / name).read_bytes()
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
    assert golden.is_file(), f"no golden file {golden}; run `make golden`"
    assert produced == golden.read_bytes(), f"{name} differs from {golden}; if intended, run `make golden` and review"

"""The command line end to end: outputs written, user mistakes reported with a location and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.demo import generate
from fairshare.io import aggregate_students, write_table
from fairshare.programs import DEMO_FORMULA

runner = CliRunner()
FORMULA = str(DEMO_FORMULA)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    schools, students = generate(data)
    path = data / "school_table.csv"
    write_table(aggregate_students(students, schools).frame, path)
    return path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands that write a problems file without --out write it to the working directory."""
    monkeypatch.chdir(tmp_path)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_allocate_writes_every_output(table: Path, tmp_path: Path) -> None:
    code, out = invoke("allocate", FORMULA, "--data", str(table), "--date", "2025-07-01", "--out", str(tmp_path))
    assert code == 0, out
    for name in ("budgets.csv", "allocations.csv", "budgets.xlsx", "report.html", "manifest.json"):
        assert (tmp_path / name).is_file(), name
    assert len(list((tmp_path / "letters").glob("*.html"))) == 40
    budgets = pl.read_csv(tmp_path / "budgets.csv", schema_overrides={"total": pl.String})
    cents = budgets["total"].str.replace(".", "", literal=True).cast(pl.Int64).sum()
    assert cents == 190_000_000_00  # fitted to the appropriation, to the cent
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["totals"]["total"] == "190000000.00"
    assert manifest["inputs"][0]["rows_read"] == 40 and manifest["inputs"][0]["rows_used"] == 40
    assert set(manifest["outputs"]) >= {"budgets.csv", "report.html", "letters/S001.html"}
    assert "Fitted to the budget $190,000,000.00 exactly" in out


def test_allocate_is_byte_identical(table: Path, tmp_path: Path) -> None:
    for d in ("a", "b"):
        code, out = invoke(
            "allocate", FORMULA, "--data", str(table), "--date", "2025-07-01", "--out", str(tmp_path / d)
        )
        assert code == 0, out
    for f in sorted((tmp_path / "a").rglob("*")):
        if f.is_file():
            twin = tmp_path / "b" / f.relative_to(tmp_path / "a")
            assert f.read_bytes() == twin.read_bytes(), f.name


def test_explain_shows_the_arithmetic_and_the_policy(table: Path) -> None:
    code, out = invoke("explain", FORMULA, "--data", str(table), "--entity", "S001", "--date", "2025-07-01")
    assert code == 0, out
    assert "English learners" in out and "× 0.25 ×" in out
    assert "Demo district Board Policy 3110 (synthetic), § 4, weight table" in out
    assert "Base amount per pupil is solved so the total equals the budget" in out


def test_explain_json_carries_format_and_hash(table: Path) -> None:
    code, out = invoke("explain", FORMULA, "--data", str(table), "--entity", "S001", "--date", "2025-07-01", "--json")
    assert code == 0, out
    trace = json.loads(out)
    assert trace["format"] == "fairshare.trace/1" and len(trace["formula_hash"]) == 64
    assert sum(line["amount_cents"] for line in trace["lines"]) == trace["total_cents"]


def test_explain_unknown_entity(table: Path) -> None:
    code, out = invoke("explain", FORMULA, "--data", str(table), "--entity", "NOPE", "--date", "2025-07-01")
    assert code == 1 and "unknown_entity" in out


def test_validate_formula_and_data(table: Path) -> None:
    code, out = invoke("validate", FORMULA, "--data", str(table), "--date", "2025-07-01")
    assert code == 0, out
    assert "40 school rows meet the contract" in out


def test_not_in_force_date_is_a_clear_error() -> None:
    code, out = invoke("validate", FORMULA, "--date", "2020-01-01")
    assert code == 1
    assert "not_in_force" in out and "district-sbb.yaml:" in out
    # every parameter is out of force: more than the 20 printed, so all are in the named file
    assert "every problem is listed in fairshare-problems.csv" in out
    assert len(pl.read_csv("fairshare-problems.csv")) == 33


def test_bad_date_option() -> None:
    code, out = invoke("validate", FORMULA, "--date", "01/07/2025")
    assert code == 1 and "YYYY-MM-DD" in out


BAD_ROWS = {
    # row 2 of the file (first data row): negative count
    ("S001", "english_learners"): "-3",
    ("S002", "enrollment"): "lots",
    ("S003", "low_income"): "99999",
    ("S004", "magnet"): "maybe",
    ("S005", "school_type"): "academy",
}


def test_bad_inputs_are_all_reported_with_row_and_column(table: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(table, infer_schema=False)
    for (sid, col), value in BAD_ROWS.items():
        frame = frame.with_columns(
            pl.when(pl.col("school_id") == sid).then(pl.lit(value)).otherwise(pl.col(col)).alias(col)
        )
    frame = pl.concat([frame, frame.head(1)])  # a duplicate id at the end
    bad = tmp_path / "bad.csv"
    frame.write_csv(bad)
    code, out = invoke("allocate", FORMULA, "--data", str(bad), "--date", "2025-07-01", "--out", str(tmp_path / "o"))
    assert code == 1
    for code_name in (
        "below_minimum",
        "not_a_number",
        "exceeds_total",
        "not_boolean",
        "not_allowed",
        "duplicate_entity",
    ):
        assert code_name in out, code_name
    assert "Traceback" not in out
    assert not (tmp_path / "o" / "budgets.csv").exists()


def test_many_problems_go_to_a_named_file(table: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(table, infer_schema=False).with_columns(pl.lit("-1").alias("english_learners"))
    bad = tmp_path / "bad.csv"
    frame.write_csv(bad)
    code, out = invoke("allocate", FORMULA, "--data", str(bad), "--date", "2025-07-01", "--out", str(tmp_path / "o"))
    assert code == 1
    problems = tmp_path / "o" / "problems.csv"
    assert str(problems) in out.replace("\n", "")
    listed = pl.read_csv(problems)
    assert listed.height == 40 and set(listed["code"]) == {"below_minimum"}
    assert listed["row"].to_list() == list(range(2, 42))


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    code, out = invoke("allocate", FORMULA, "--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"))
    assert code == 1 and "file_not_found" in out
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    code, out = invoke("allocate", FORMULA, "--data", str(empty), "--out", str(tmp_path / "o"))
    assert code == 1 and "empty_file" in out


def test_trade_balanced_and_refused(table: Path, tmp_path: Path) -> None:
    ok = tmp_path / "ok.yaml"
    ok.write_text(
        "requests:\n  - entity: S001\n    trades:\n      - {role: assistant_principal, fte: -1}\n"
        "      - {role: teacher, fte: 1.4}\n",
        encoding="utf-8",
    )
    code, out = invoke(
        "trade", FORMULA, "--data", str(table), "--requests", str(ok), "--date", "2025-07-01", "--out", str(tmp_path)
    )
    assert code == 0, out
    assert "(balanced)" in out
    trades = pl.read_csv(tmp_path / "trades.csv")
    assert trades["role"].to_list() == ["assistant_principal", "teacher"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "requests:\n  - entity: S001\n    trades:\n      - {role: principal, fte: -1}\n"
        "  - entity: S002\n    trades:\n      - {role: teacher, fte: 500}\n",
        encoding="utf-8",
    )
    code, out = invoke("trade", FORMULA, "--data", str(table), "--requests", str(bad), "--date", "2025-07-01")
    assert code == 1
    assert "locked_role" in out and "overspend" in out and "overspent by $" in out


def test_compare_two_formulas(table: Path, tmp_path: Path) -> None:
    alt = tmp_path / "alt.yaml"
    alt.write_text(
        DEMO_FORMULA.read_text(encoding="utf-8").replace(
            "2025-07-01: {value: 0.25, reference: "
            '{title: "Demo district Board Policy 3110 (synthetic)", section: "§ 4, weight table"}}',
            '2025-07-01: {value: 0.40, reference: {title: "Alternative", section: "§ 4"}}',
        ),
        encoding="utf-8",
    )
    code, out = invoke(
        "compare", FORMULA, str(alt), "--data", str(table), "--date", "2025-07-01", "--out", str(tmp_path / "c")
    )
    assert code == 0, out
    assert "40 entities:" in out and "gain" in out
    summary = json.loads((tmp_path / "c" / "summary.json").read_text())
    assert summary["total_a"] == summary["total_b"] == "190000000.00"


def test_aggregate_reports_unknown_schools(tmp_path: Path) -> None:
    schools, students = generate(tmp_path)
    text = students.read_text(encoding="utf-8").splitlines()
    text.append("P9999999,S999,3,false,false,false,false,false")
    text.append(text[1])  # a duplicate student
    students.write_text("\n".join(text) + "\n", encoding="utf-8")
    code, out = invoke("aggregate", str(students), "--schools", str(schools), "--out", str(tmp_path / "t.csv"))
    assert code == 1
    assert "unknown_school" in out and "duplicate_student" in out

"""Ledger import and crosswalk on small synthetic ledgers."""

from __future__ import annotations

from pathlib import Path

from fairshare.errors import Problem
from fairshare.ledger import apply_crosswalk, coverage, import_ledger, load_crosswalk, load_mapping, parse_cents

MAPPING = """source: test
district: Test SD
fiscal_year: 2020
columns:
  fund: Fund
  function: Func
  object: Obj
  description: Desc
  debit: Dr
  credit: Cr
exclude:
  - id: total
    reason: summary row
    when:
      - {column: Desc, matches: 'Total$'}
"""
LEDGER = 'Fund,Func,Obj,Desc,Dr,Cr\n100,100,310,pay,"1,000.50",\n100,400,450,books,,$20.25\n,,,Grand Total,980.25,\n'
CROSSWALK = """version: 1
reference: {title: NCES Handbook}
functions:
  - {id: instr, when: {function: "100-199"}, function: "1000", category: instruction}
  - {id: books, when: {description: {pattern: books}}, function: "2200", category: instructional_support}
objects:
  - {id: sal, when: {object: "310"}, object: "100"}
  - {id: sup, when: {object: ["450", "460"]}, object: "600"}
"""


def _setup(tmp_path: Path, crosswalk: str = CROSSWALK) -> tuple[Path, Path, Path]:
    (tmp_path / "m.yaml").write_text(MAPPING)
    (tmp_path / "l.csv").write_text(LEDGER)
    (tmp_path / "c.yaml").write_text(crosswalk)
    return tmp_path / "m.yaml", tmp_path / "l.csv", tmp_path / "c.yaml"


def test_parse_cents() -> None:
    assert parse_cents("-$   62.74") == -6274
    assert parse_cents("(12.00)") == -1200
    assert parse_cents("1,234.5") == 123450
    assert parse_cents("#VALUE!") is None
    assert parse_cents("-6.56E+189") is None
    assert parse_cents("1.005") is None


def test_import_debit_credit_fixed_year_and_summary(tmp_path: Path) -> None:
    m, data, _ = _setup(tmp_path)
    problems: list[Problem] = []
    r = import_ledger(load_mapping(m), data, problems)
    assert not problems
    assert r.imported["amount_cents"].to_list() == [100050, -2025]
    assert r.imported["fiscal_year"].to_list() == [2020, 2020]
    assert r.excluded["reason"].to_list() == ["summary row"] and r.excluded["row"].to_list() == [4]
    assert r.imported.height + r.excluded.height == r.rows_read
    assert r.imported["amount_cents"].sum() + r.excluded["amount_cents"].sum() == r.file_total_cents


def test_rejected_rows_located(tmp_path: Path) -> None:
    m, data, _ = _setup(tmp_path)
    data.write_text("Fund,Func,Obj,Desc,Dr,Cr\n100,100,310,pay,abc,\n")
    problems: list[Problem] = []
    r = import_ledger(load_mapping(m), data, problems)
    assert r.rejected == 1
    assert problems[0].row == 2 and problems[0].column == "Dr/Cr" and problems[0].code == "not_a_number"


def test_crosswalk_conflict_and_coverage(tmp_path: Path) -> None:
    m, data, cw = _setup(tmp_path)
    problems: list[Problem] = []
    r = import_ledger(load_mapping(m), data, problems)
    mapped = apply_crosswalk(r.imported, load_crosswalk(cw), problems)
    assert mapped["category"].to_list() == ["instruction", "instructional_support"]
    assert mapped["nces_object"].to_list() == ["100", "600"]
    # a description pattern that also matches the instruction row conflicts
    (tmp_path / "c2.yaml").write_text(CROSSWALK.replace("pattern: books", "pattern: '.'"))
    bad: list[Problem] = []
    apply_crosswalk(r.imported, load_crosswalk(tmp_path / "c2.yaml"), bad)
    assert len(bad) == 1 and bad[0].code == "conflict" and "'instr'" in bad[0].message and "'books'" in bad[0].message
    assert bad[0].row == 2
    # drop the supplies rule: that row is unmapped and leads the coverage report
    (tmp_path / "c3.yaml").write_text(
        CROSSWALK.replace('  - {id: sup, when: {object: ["450", "460"]}, object: "600"}\n', "")
    )
    cov = coverage(apply_crosswalk(r.imported, load_crosswalk(tmp_path / "c3.yaml"), []))
    assert cov["object"].to_list() == ["450", "310"]
    assert cov["unmapped_cents"].to_list() == [2025, 0]


def test_fallback_column_fills_blank_codes_only(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "source: t\ndistrict: T\nfiscal_year: 2020\n"
        "columns: {fund: Fund, function: Func, object: Obj, program: Prog, amount: Amt}\n"
        "fallback: {function: Prog}\n"
    )
    (tmp_path / "l.csv").write_text("Fund,Func,Obj,Prog,Amt\n100,100,310,000,5\n255,,459,790,7\n205,,610,,9\n")
    problems: list[Problem] = []
    r = import_ledger(load_mapping(tmp_path / "m.yaml"), tmp_path / "l.csv", problems)
    assert not problems
    assert r.imported["function"].to_list() == ["100", "790", None]
    assert r.imported["program"].to_list() == ["0", "790", None]  # codes lose leading zeros
    assert r.fallback_rows == 1


def test_fallback_needs_the_role_column(tmp_path: Path) -> None:
    import pytest

    from fairshare.errors import FormulaError

    (tmp_path / "m.yaml").write_text(
        "source: t\ndistrict: T\nfiscal_year: 2020\ncolumns: {fund: Fund, amount: Amt}\nfallback: {function: Prog}\n"
    )
    with pytest.raises(FormulaError, match="fallback for function"):
        load_mapping(tmp_path / "m.yaml")

"""aggregate_students and write_table: exact counts and every aggregation error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from io_helpers import only, where

from fairshare.errors import InputError
from fairshare.io import AggregateResult, aggregate_students, load_entities, write_table
from fairshare.io.aggregate import GRADE_COLUMNS
from fairshare.rules.schema import load_formula_text

Write = Callable[[str, str], Path]

STUDENTS = """student_id,school_id,grade,english_learner,low_income
1,A,K,yes,no
2,A,1,no,no
3,B,12,Y,1
4,A,kg,n,t

5,B,03,false,TRUE
6,A,0,1,1
"""
SCHOOLS = "school_id,school_name\nC,Gamma\nA,Alpha\nB,Beta\n"


def counts(result: AggregateResult, school: str) -> dict[str, object]:
    return result.frame.filter(pl.col("school_id") == school).row(0, named=True)


def failing(students: Path, schools: Path, **options: str) -> InputError:
    with pytest.raises(InputError) as e:
        aggregate_students(students, schools, **options)
    return e.value


def test_counts_per_school_in_schools_file_order(write: Write) -> None:
    r = aggregate_students(write("stu.csv", STUDENTS), write("sch.csv", SCHOOLS))
    assert r.students_read == 6 and r.schools == 3 and r.flags == ("english_learner", "low_income")
    assert r.frame.columns == [
        "school_id",
        "school_name",
        "enrollment",
        *GRADE_COLUMNS,
        "english_learner",
        "low_income",
    ]
    assert r.frame.get_column("school_id").to_list() == ["C", "A", "B"]
    a = counts(r, "A")
    assert (a["enrollment"], a["grade_k"], a["grade_01"], a["english_learner"], a["low_income"]) == (4, 3, 1, 2, 2)
    b = counts(r, "B")
    assert (b["enrollment"], b["grade_03"], b["grade_12"], b["english_learner"], b["low_income"]) == (2, 1, 1, 1, 2)
    c = counts(r, "C")
    assert c["school_name"] == "Gamma"
    assert all(c[k] == 0 for k in ("enrollment", *GRADE_COLUMNS, "english_learner", "low_income"))
    assert r.frame.get_column("enrollment").dtype == pl.Int64
    assert sum(r.frame.get_column("enrollment")) == r.students_read


def test_column_names_are_options(write: Write) -> None:
    stu = write("stu.csv", "pupil,campus,gr\np1,A,5\np2,A,5\n")
    r = aggregate_students(
        stu, write("sch.csv", "campus\nA\n"), school_column="campus", student_column="pupil", grade_column="gr"
    )
    assert r.frame.columns[0] == "campus" and r.flags == ()
    assert r.frame.row(0, named=True)["grade_05"] == 2


def test_xlsx_and_parquet_inputs(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    for line in STUDENTS.splitlines():
        wb.active.append(line.split(",") if line else [])
    wb.save(tmp_path / "stu.xlsx")
    pl.DataFrame({"school_id": ["A", "B"]}).write_parquet(tmp_path / "sch.parquet")
    r = aggregate_students(tmp_path / "stu.xlsx", tmp_path / "sch.parquet")
    assert r.frame.get_column("enrollment").to_list() == [4, 2]


def test_round_trip_into_a_formula(tmp_path: Path, write: Write) -> None:
    r = aggregate_students(write("stu.csv", STUDENTS), write("sch.csv", SCHOOLS))
    formula = load_formula_text("""
formula: agg
label: Aggregated
entity: {kind: school, id: school_id, name: school_name, pupils: enrollment}
parameters:
  base: {label: Base, unit: usd_per_pupil, values: {2025-07-01: {value: 1, reference: {title: t}}}}
inputs:
  school_id: {label: School id, type: category, unit: id}
  enrollment: {label: Enrollment, type: integer, unit: pupils}
  grade_k: {label: Kindergarten, type: integer, unit: pupils, part_of: enrollment}
  english_learner: {label: English learners, type: integer, unit: pupils, part_of: enrollment}
components:
  base: {kind: per_pupil, label: Base, count: enrollment, rate: base}
""")
    for name in ("schools.csv", "schools.parquet"):
        write_table(r.frame, tmp_path / name)
        t = load_entities(tmp_path / name, formula)
        assert t.ids.tolist() == ["C", "A", "B"] and t.names.tolist() == ["Gamma", "Alpha", "Beta"]
        assert t.columns["enrollment"].tolist() == [0.0, 4.0, 2.0]
        assert t.columns["english_learner"].tolist() == [0.0, 2.0, 1.0]


def test_write_table_rejects_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        write_table(pl.DataFrame({"a": [1]}), tmp_path / "out.xlsx")
    only(e.value, "file_format")


# ------------------------------------------------------------------- errors


def test_unknown_school_one_problem_per_row(write: Write) -> None:
    stu = write("stu.csv", "student_id,school_id,grade\n1,A,1\n2,Z,1\n3,b,2\n4,Z,3\n")
    probs = only(failing(stu, write("sch.csv", SCHOOLS)), "unknown_school")
    assert where(probs) == [(3, "school_id"), (4, "school_id"), (5, "school_id")]
    assert probs[0].value == "Z" and probs[0].file == str(stu)
    assert probs[1].hint is not None and "'B'" in probs[1].hint


def test_duplicate_student_names_first_row(write: Write) -> None:
    stu = write("stu.csv", "student_id,school_id,grade\n7,A,1\n8,A,1\n\n7,B,2\n7,A,3\n")
    probs = only(failing(stu, write("sch.csv", SCHOOLS)), "duplicate_student")
    assert where(probs) == [(5, "student_id"), (6, "student_id")]
    assert all("row 2" in p.message for p in probs)


def test_missing_columns_in_both_files(write: Write) -> None:
    stu = write("stu.csv", "student,school_id\n1,A\n")
    sch = write("sch.csv", "id,name\nA,Alpha\n")
    probs = only(failing(stu, sch), "missing_column")
    assert [(p.file, p.column) for p in probs] == [
        (str(stu), "student_id"),
        (str(stu), "grade"),
        (str(sch), "school_id"),
    ]
    assert probs[0].hint is not None and "'student'" in probs[0].hint


def test_missing_values(write: Write) -> None:
    stu = write("stu.csv", "student_id,school_id,grade,english_learner\n,A,1,yes\n2,,1,no\n3,A,,no\n4,A,2,\n")
    probs = only(failing(stu, write("sch.csv", SCHOOLS)), "missing_value")
    assert where(probs) == [(2, "student_id"), (3, "school_id"), (4, "grade"), (5, "english_learner")]


def test_blank_school_id_in_schools_file(write: Write) -> None:
    sch = write("sch.csv", "school_id,school_name\nA,Alpha\n,Nameless\n")
    probs = only(failing(write("stu.csv", "student_id,school_id,grade\n1,A,1\n"), sch), "missing_value")
    assert [(p.file, p.row) for p in probs] == [(str(sch), 3)]


def test_grade_not_allowed(write: Write) -> None:
    stu = write("stu.csv", "student_id,school_id,grade\n1,A,PK\n2,A,13\n3,A,12\n4,A,1.0\n")
    probs = only(failing(stu, write("sch.csv", SCHOOLS)), "not_allowed")
    assert where(probs) == [(2, "grade"), (3, "grade"), (5, "grade")]
    assert probs[0].hint is not None and "K (or KG, 0), 1-12 (or 01-12)" in probs[0].hint


def test_flag_not_boolean(write: Write) -> None:
    stu = write("stu.csv", "student_id,school_id,grade,ell,sped\n1,A,1,maybe,no\n2,A,1,yes,2\n")
    probs = only(failing(stu, write("sch.csv", SCHOOLS)), "not_boolean")
    assert where(probs) == [(2, "ell"), (3, "sped")]


def test_empty_students_file(write: Write) -> None:
    probs = only(failing(write("stu.csv", "student_id,school_id,grade\n"), write("sch.csv", SCHOOLS)), "empty_file")
    assert len(probs) == 1


def test_read_errors_from_both_files_are_reported_together(tmp_path: Path, write: Write) -> None:
    e = failing(write("stu.csv", ""), tmp_path / "missing.csv")
    assert [p.code for p in e.problems] == ["empty_file", "file_not_found"]


def test_duplicate_school_in_schools_file(write: Write) -> None:
    sch = write("sch.csv", "school_id\nA\nB\nA\n")
    probs = only(failing(write("stu.csv", "student_id,school_id,grade\n1,A,1\n"), sch), "duplicate_entity")
    assert [(p.file, p.row) for p in probs] == [(str(sch), 4)]


def test_count_column_clash(write: Write) -> None:
    sch = write("sch.csv", "school_id,enrollment\nA,3\n")
    probs = only(failing(write("stu.csv", "student_id,school_id,grade\n1,A,1\n"), sch), "file_format")
    assert probs[0].column == "enrollment"


def test_all_student_problems_collected_in_row_order(write: Write) -> None:
    stu = write("stu.csv", "student_id,school_id,grade,ell\n1,A,PK,yes\n1,Z,1,maybe\n2,,,no\n")
    e = failing(stu, write("sch.csv", SCHOOLS))
    assert [(p.code, p.row, p.column) for p in e.problems] == [
        ("not_allowed", 2, "grade"),
        ("duplicate_student", 3, "student_id"),
        ("unknown_school", 3, "school_id"),
        ("not_boolean", 3, "ell"),
        ("missing_value", 4, "school_id"),
        ("missing_value", 4, "grade"),
    ]

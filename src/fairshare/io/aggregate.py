"""Student-level rows to one row per school, counted in DuckDB.

The students file has one row per student: a student id, a school id, a grade
and any number of yes/no flag columns (every other column, e.g.
``english_learner``). The result has one row per school of the schools file, in
that file's order, with the schools file's columns (as text) followed by
``enrollment``, ``grade_k``, ``grade_01`` … ``grade_12`` and one count per flag,
named after the flag itself (flag ``english_learner`` -> column
``english_learner`` = number of students flagged yes). A school with no
students gets zero counts.

Grades: ``K``, ``KG`` or ``0`` (any case) count as kindergarten; ``1``-``12``
or ``01``-``12`` as grades 1-12. Anything else (``PK``, ``13``, ``1.0``) is a
``not_allowed`` problem.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from fairshare.errors import InputError, Problem, ProblemList
from fairshare.io.contract import BOOLEAN_WORDS, check_duplicates, first_code, parse_boolean
from fairshare.io.read import RawTable, read_raw

__all__ = ["GRADE_COLUMNS", "AggregateResult", "aggregate_students", "write_table"]

GRADE_COLUMNS = ("grade_k", *(f"grade_{g:02d}" for g in range(1, 13)))
_GRADES: dict[str, str] = {"K": "grade_k", "KG": "grade_k", "0": "grade_k", "00": "grade_k"}
_GRADES |= {f"{g}": f"grade_{g:02d}" for g in range(1, 13)} | {f"{g:02d}": f"grade_{g:02d}" for g in range(1, 13)}
_GRADE_LIST = "K (or KG, 0), 1-12 (or 01-12)"


@dataclass(frozen=True)
class AggregateResult:
    """One row per school with enrollment, grade and flag counts."""

    frame: pl.DataFrame
    students_read: int
    schools: int
    #: the flag columns counted, in the students file's order
    flags: tuple[str, ...] = ()


def aggregate_students(
    students: str | Path,
    schools: str | Path,
    *,
    school_column: str = "school_id",
    student_column: str = "student_id",
    grade_column: str = "grade",
) -> AggregateResult:
    """Count students per school. Raises one :class:`InputError` listing every problem in both files."""
    tables: list[RawTable] = []
    problems = ProblemList()
    for path in (students, schools):
        try:
            tables.append(read_raw(path))
        except InputError as exc:
            problems.problems.extend(exc.problems)
    problems.raise_if_any(InputError)
    stu, sch = tables
    for table, needed in ((stu, (student_column, school_column, grade_column)), (sch, (school_column,))):
        for col in needed:
            if col not in table.columns:
                near = difflib.get_close_matches(col, table.columns, n=1)
                problems.add(
                    "missing_column",
                    f"the file has no column {col!r}",
                    file=table.path,
                    column=col,
                    rule="required column",
                    hint=(f"did you mean {near[0]!r}? " if near else "")
                    + "name the column with the school_column/student_column/grade_column options",
                )
    problems.raise_if_any(InputError)

    flags = tuple(c for c in stu.columns if c not in (student_column, school_column, grade_column))
    added = ("enrollment", *GRADE_COLUMNS, *flags)
    for col in sorted(set(added) & set(sch.columns)) + sorted(set(flags) & {"enrollment", *GRADE_COLUMNS}):
        problems.add(
            "file_format",
            f"column {col!r} would clash with a count column the aggregation adds",
            file=sch.path if col in sch.columns else stu.path,
            column=col,
            hint="rename or remove the column (flag counts are named after the flag)",
        )
    problems.raise_if_any(InputError)

    _check_schools(problems, sch, school_column)
    counted = _check_students(problems, stu, sch, student_column, school_column, grade_column, flags)
    order = {c: i for i, c in enumerate(stu.columns)}
    problems.problems.sort(key=lambda p: (p.file != stu.path, p.row or 0, order.get(p.column or "", 0)))
    problems.raise_if_any(InputError)

    con = duckdb.connect()
    try:
        con.register("students", counted)
        con.register("schools", sch.frame.with_row_index("__fs_order"))
        frame = con.sql(_count_sql(school_column, flags)).pl()
    finally:
        con.close()
    return AggregateResult(frame=frame, students_read=stu.n, schools=sch.n, flags=flags)


def write_table(frame: pl.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as CSV (``.csv``) or Parquet (``.parquet``), chosen by the extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        frame.write_csv(path)
    elif suffix == ".parquet":
        frame.write_parquet(path)
    else:
        raise InputError(
            Problem(
                "file_format",
                f"cannot write {str(path)!r}: unknown file type {suffix!r}",
                file=str(path),
                hint="write to a .csv or .parquet file",
            )
        )


# ------------------------------------------------------------------- checks


def _check_schools(problems: ProblemList, sch: RawTable, school: str) -> None:
    for i in sch.frame.with_row_index("i").filter(pl.col(school).is_null()).get_column("i").to_list():
        problems.add(
            "missing_value",
            "school id is blank",
            file=sch.path,
            row=int(sch.rows[i]),
            column=school,
            rule="required",
            hint="fill in the school id or delete the row",
        )
    check_duplicates(problems, sch, school, "school")


def _check_students(
    problems: ProblemList, stu: RawTable, sch: RawTable, student: str, school: str, grade: str, flags: tuple[str, ...]
) -> pl.DataFrame:
    """Add every cell problem; return the frame to count (school, grade column name, flags as booleans)."""
    known = sch.frame.get_column(school).drop_nulls().unique()
    grade_key = pl.col(grade).str.to_uppercase().replace_strict(_GRADES, default=None, return_dtype=pl.String)
    exprs = [first_code([(pl.col(student).is_null(), "missing_value")]).alias(student)]
    exprs.append(
        first_code(
            [(pl.col(school).is_null(), "missing_value"), (~pl.col(school).is_in(known.implode()), "unknown_school")]
        ).alias(school)
    )
    exprs.append(
        first_code([(pl.col(grade).is_null(), "missing_value"), (grade_key.is_null(), "not_allowed")]).alias(grade)
    )
    exprs += [
        first_code([(pl.col(f).is_null(), "missing_value"), (parse_boolean(pl.col(f)).is_null(), "not_boolean")]).alias(
            f
        )
        for f in flags
    ]
    codes = stu.frame.select(exprs)
    rules = {student: "required", school: f"a school id listed in {sch.path}", grade: f"one of {_GRADE_LIST}"}
    near_cache: dict[str, list[str]] = {}
    lowered: dict[str, str] = {}
    for sid in known.to_list():
        lowered.setdefault(sid.lower(), sid)
    for col in codes.columns:
        if codes.get_column(col).null_count() == codes.height:
            continue
        bad = pl.DataFrame({"i": range(stu.n), "code": codes.get_column(col), "value": stu.frame.get_column(col)})
        for i, code, value in bad.filter(pl.col("code").is_not_null()).iter_rows():
            rule = rules.get(col, f"yes/no ({BOOLEAN_WORDS})")
            if code == "missing_value":
                msg, hint = f"{col} is blank", "fill in the cell; every student row needs a value"
            elif code == "unknown_school":
                if value not in near_cache:
                    near = difflib.get_close_matches(value.lower(), list(lowered), n=1)
                    near_cache[value] = [lowered[m] for m in near]
                near = near_cache[value]
                msg = f"school id {value!r} is not in the schools file"
                hint = (f"did you mean {near[0]!r}? " if near else "") + f"add the school to {sch.path} or fix the id"
            elif code == "not_allowed":
                msg, hint = f"grade {value!r} is not an allowed grade", f"allowed grades: {_GRADE_LIST}"
            else:
                msg, hint = f"{col} is not a yes/no value", f"write one of {BOOLEAN_WORDS}"
            problems.add(
                code,
                msg,
                file=stu.path,
                row=int(stu.rows[i]),
                column=col,
                value=value,
                rule=("required; " + rule) if code == "missing_value" and col != student else rule,
                hint=hint,
            )
    check_duplicates(problems, stu, student, "student", code="duplicate_student")
    return stu.frame.select(
        pl.col(school).alias("__fs_school"),
        grade_key.alias("__fs_grade"),
        *(parse_boolean(pl.col(f)).alias(f) for f in flags),
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count_sql(school: str, flags: tuple[str, ...]) -> str:
    counts = ["COUNT(*) AS enrollment"]
    counts += [f"COUNT(*) FILTER (WHERE __fs_grade = '{g}') AS {g}" for g in GRADE_COLUMNS]
    counts += [f"COUNT(*) FILTER (WHERE {_quote(f)}) AS {_quote(f)}" for f in flags]
    outer = ", ".join(f"COALESCE(a.{_quote(c)}, 0) AS {_quote(c)}" for c in ("enrollment", *GRADE_COLUMNS, *flags))
    return (
        f"SELECT s.* EXCLUDE (__fs_order), {outer} FROM schools s LEFT JOIN "
        f"(SELECT __fs_school, {', '.join(counts)} FROM students GROUP BY __fs_school) a "
        f"ON s.{_quote(school)} = a.__fs_school ORDER BY s.__fs_order"
    )

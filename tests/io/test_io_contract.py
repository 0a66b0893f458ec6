"""validate_frame / load_entities: one test per error code, all problems collected, typed output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest
from io_helpers import HEADER, TINY, csv_text, only, row, where

from fairshare.errors import FormulaError, InputError
from fairshare.io import EntityTable, load_entities, read_raw, validate_frame
from fairshare.rules.schema import Formula, load_formula, load_formula_text

Write = Callable[[str, str], Path]
SBB = Path(__file__).parents[2] / "src/fairshare/programs/formulas/district-sbb.yaml"


def bad(path: Path, formula: Formula) -> InputError:
    with pytest.raises(InputError) as e:
        load_entities(path, formula)
    return e.value


# ------------------------------------------------------------------ happy path


def test_valid_file_gives_typed_entity_table(write: Write, tiny: Formula) -> None:
    p = write(
        "s.csv",
        csv_text(
            row("A", magnet="Y", prior="1250000.50", extra_fte="2") + ",x",
            row("B", title1="FALSE", magnet="", enrollment="0", english_learners="0") + ",",
            header=HEADER + ",notes",
        ),
    )
    t = load_entities(p, tiny)
    assert isinstance(t, EntityTable)
    assert t.ids.tolist() == ["A", "B"] and t.ids.dtype == object
    assert t.names.tolist() == ["School A", "School B"]
    assert set(t.columns) == set(tiny.inputs)
    assert t.columns["enrollment"].dtype == np.float64
    assert t.columns["enrollment"].tolist() == [100.0, 0.0]
    assert t.columns["poverty_pct"].tolist() == [45.5, 45.5]
    assert t.columns["title1"].dtype == bool and t.columns["title1"].tolist() == [True, False]
    assert t.columns["magnet"].tolist() == [True, False]
    assert t.columns["level"].dtype == object and t.columns["level"].tolist() == ["middle", "middle"]
    assert t.columns["school_id"].tolist() == ["A", "B"]
    assert t.columns["prior"][0] == 1250000.5 and np.isnan(t.columns["prior"][1])
    assert t.columns["extra_fte"].tolist() == [2.0, 1.5]
    assert {k: v.tolist() for k, v in t.defaults_used.items()} == {
        "magnet": [False, True],
        "prior": [False, True],
        "extra_fte": [False, True],
    }
    assert t.rows is not None and t.rows.tolist() == [2, 3]
    assert t.source == str(p) and t.sha256 == read_raw(p).sha256 and t.rows_read == 2
    assert t.unused_columns == ("notes",)


def test_absent_optional_columns_take_their_default_for_every_row(write: Write, tiny: Formula) -> None:
    header = "school_id,school_name,level,title1,enrollment,english_learners,poverty_pct"
    p = write("s.csv", f"{header}\nA,Alpha,high,no,5,1,0\nB,Beta,high,no,5,1,100\n")
    t = load_entities(p, tiny)
    assert t.columns["magnet"].tolist() == [False, False]
    assert np.isnan(t.columns["prior"]).all()
    assert t.columns["extra_fte"].tolist() == [1.5, 1.5]
    assert all(t.defaults_used[c].tolist() == [True, True] for c in ("magnet", "prior", "extra_fte"))


def test_names_fall_back_to_ids_without_a_name_column(write: Write) -> None:
    formula = load_formula_text(TINY.replace(", name: school_name", ""))
    t = load_entities(write("s.csv", csv_text(row("A"))), formula)
    assert t.names.tolist() == ["A"]


def test_district_sbb_contract(write: Write) -> None:
    formula = load_formula(SBB)
    cols = [c for c in formula.inputs if c != "prior_year_total"]
    cells = {c: "0" for c in cols} | {
        "school_id": "101",
        "school_name": "Elm",
        "school_type": "k8",
        "magnet": "yes",
        "enrollment": "400",
        "grade_k": "50",
    }
    p = write("sbb.csv", ",".join(cols) + "\n" + ",".join(cells[c] for c in cols) + "\n")
    t = load_entities(p, formula)
    assert t.ids.tolist() == ["101"] and t.columns["grade_k"].tolist() == [50.0]
    assert t.defaults_used["prior_year_total"].tolist() == [True]


# ---------------------------------------------------------------- one per code


def test_missing_column_one_problem_each_with_close_names(write: Write, tiny: Formula) -> None:
    header = HEADER.replace("enrollment", "Enrolment").replace(",poverty_pct", ",zzz")
    path = write("s.csv", csv_text(row("A"), header=header))
    probs = only(bad(path, tiny), "missing_column")
    assert where(probs) == [(None, "enrollment"), (None, "poverty_pct")]
    assert probs[0].hint is not None and "'Enrolment'" in probs[0].hint
    assert probs[1].hint is not None and "'school_id'" in probs[1].hint  # lists the file's columns
    assert all(p.file == str(path) for p in probs)


def test_missing_value_in_required_columns(write: Write, tiny: Formula) -> None:
    e = bad(write("s.csv", csv_text(row("A", level=""), row("B"), row("C", enrollment=" "), row("D", title1=""))), tiny)
    probs = only(e, "missing_value")
    assert where(probs) == [(2, "level"), (4, "enrollment"), (5, "title1")]
    assert probs[0].value is None and probs[0].rule is not None and probs[0].rule.startswith("required")


def test_not_a_number_is_strict(write: Write, tiny: Formula) -> None:
    e = bad(
        write(
            "s.csv",
            csv_text(
                row("A", enrollment='"1,234"'),
                row("B", poverty_pct="12%"),
                row("C", enrollment="abc"),
                row("D", poverty_pct="nan"),
                row("E", prior="$5"),
                row("F", poverty_pct="inf"),
            ),
        ),
        tiny,
    )
    probs = only(e, "not_a_number")
    assert where(probs) == [
        (2, "enrollment"),
        (3, "poverty_pct"),
        (4, "enrollment"),
        (5, "poverty_pct"),
        (6, "prior"),
        (7, "poverty_pct"),
    ]
    assert probs[0].value == "1,234"
    assert probs[0].hint is not None and "1234" in probs[0].hint and "thousands" in probs[0].hint
    assert probs[1].hint is not None and "%" in probs[1].hint
    assert probs[0].rule == "integer >= 0 (pupils)"


@pytest.mark.parametrize("text", ["12", "-0", "+3", "1.", ".5", "1e1", "2.5E-1", " 7 "])
def test_plain_numbers_are_accepted(write: Write, tiny: Formula, text: str) -> None:
    t = load_entities(write("s.csv", csv_text(row("A", poverty_pct=text))), tiny)
    assert t.columns["poverty_pct"][0] == float(text)


def test_not_an_integer(write: Write, tiny: Formula) -> None:
    e = bad(
        write(
            "s.csv",
            csv_text(row("A", enrollment="10.5"), row("B", english_learners="0.1"), row("C", enrollment="12.0")),
        ),
        tiny,
    )
    probs = only(e, "not_an_integer")
    assert where(probs) == [(2, "enrollment"), (3, "english_learners")]  # 12.0 is whole


def test_below_minimum_negative_count(write: Write, tiny: Formula) -> None:
    e = bad(
        write(
            "s.csv",
            csv_text(
                row("A", enrollment="-1", english_learners="0"), row("B", poverty_pct="-2"), row("C", extra_fte="-0.5")
            ),
        ),
        tiny,
    )
    probs = only(e, "below_minimum")
    assert where(probs) == [(2, "enrollment"), (3, "poverty_pct"), (4, "extra_fte")]
    assert "negative count" in probs[0].message and probs[0].value == "-1"
    assert probs[1].rule == "number from 0 to 100 (percent)"


def test_above_maximum_percent(write: Write, tiny: Formula) -> None:
    e = bad(
        write(
            "s.csv", csv_text(row("A", poverty_pct="100"), row("B", poverty_pct="100.5"), row("C", poverty_pct="250"))
        ),
        tiny,
    )
    probs = only(e, "above_maximum")
    assert where(probs) == [(3, "poverty_pct"), (4, "poverty_pct")]
    assert "100" in probs[0].message and "percent" in probs[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("Yes", True),
        ("Y", True),
        ("1", True),
        ("t", True),
        ("FALSE", False),
        ("no", False),
        ("n", False),
        ("0", False),
        ("F", False),
    ],
)
def test_boolean_words(write: Write, tiny: Formula, text: str, expected: bool) -> None:
    t = load_entities(write("s.csv", csv_text(row("A", title1=text))), tiny)
    assert t.columns["title1"].tolist() == [expected]


def test_not_boolean(write: Write, tiny: Formula) -> None:
    e = bad(write("s.csv", csv_text(row("A", title1="maybe"), row("B", magnet="2"), row("C", title1="x"))), tiny)
    probs = only(e, "not_boolean")
    assert where(probs) == [(2, "title1"), (3, "magnet"), (4, "title1")]
    assert probs[0].hint is not None and "yes/no" in probs[0].hint


def test_not_allowed_lists_allowed_values(write: Write, tiny: Formula) -> None:
    e = bad(write("s.csv", csv_text(row("A", level="Middle"), row("B", level="k8"), row("C", level="high"))), tiny)
    probs = only(e, "not_allowed")
    assert where(probs) == [(2, "level"), (3, "level")]
    assert probs[0].hint is not None and "did you mean 'middle'" in probs[0].hint
    assert probs[1].hint is not None and "elementary, middle, high" in probs[1].hint


def test_exceeds_total_only_where_both_cells_parse(write: Write, tiny: Formula) -> None:
    e = bad(
        write(
            "s.csv",
            csv_text(
                row("A", english_learners="101"),
                row("B", english_learners="100"),
                row("C", english_learners="5", enrollment="3"),
                row("D", english_learners="500", enrollment="x"),
            ),
        ),
        tiny,
    )
    assert {p.code for p in e.problems} == {"exceeds_total", "not_a_number"}
    probs = [p for p in e.problems if p.code == "exceeds_total"]
    assert where(probs) == [(2, "english_learners"), (4, "english_learners")]
    assert probs[0].rule == "english_learners <= enrollment" and probs[0].value == "101"


def test_duplicate_entity_names_first_row(write: Write, tiny: Formula) -> None:
    e = bad(write("s.csv", csv_text(row("A"), row("B"), row("A"), "", row("A"))), tiny)
    probs = only(e, "duplicate_entity")
    assert where(probs) == [(4, "school_id"), (6, "school_id")]
    assert all("row 2" in p.message and p.value == "A" for p in probs)


# ------------------------------------------------------------ collect them all


def test_every_problem_is_collected_and_sorted_by_row(write: Write, tiny: Formula) -> None:
    text = csv_text(row("A", enrollment="-5", title1="maybe"), "", row("B", level="tiny"), row("A", poverty_pct="x"))
    e = bad(write("s.csv", text), tiny)
    assert [(p.code, p.row, p.column) for p in e.problems] == [
        ("not_boolean", 2, "title1"),
        ("below_minimum", 2, "enrollment"),
        ("not_allowed", 4, "level"),
        ("duplicate_entity", 5, "school_id"),
        ("not_a_number", 5, "poverty_pct"),
    ]
    assert "5 problems" in str(e)


def test_missing_column_and_cell_problems_are_reported_together(write: Write, tiny: Formula) -> None:
    header = HEADER.replace("poverty_pct", "poverty")
    e = bad(write("s.csv", csv_text(row("A", title1="?"), header=header)), tiny)
    assert [(p.code, p.row, p.column) for p in e.problems] == [
        ("missing_column", None, "poverty_pct"),
        ("not_boolean", 2, "title1"),
    ]


# --------------------------------------------------------------- other formats


def test_xlsx_and_parquet_give_the_same_table_as_csv(tmp_path: Path, write: Write, tiny: Formula) -> None:
    rows = [row("A", prior="10.5"), row("B", magnet="yes", enrollment="7", english_learners="7")]
    from_csv = load_entities(write("s.csv", csv_text(*rows)), tiny)
    grid = [r.split(",") for r in (HEADER, *rows)]
    wb = openpyxl.Workbook()
    for r in grid:
        wb.active.append([float(c) if c.replace(".", "").isdigit() else (c or None) for c in r])
    wb.save(tmp_path / "s.xlsx")
    from_xlsx = load_entities(tmp_path / "s.xlsx", tiny)
    pl.DataFrame([dict(zip(grid[0], [c or None for c in r], strict=True)) for r in grid[1:]]).write_parquet(
        tmp_path / "s.parquet"
    )
    from_parquet = load_entities(tmp_path / "s.parquet", tiny)
    for t in (from_xlsx, from_parquet):
        assert t.ids.tolist() == from_csv.ids.tolist()
        for c in tiny.inputs:
            np.testing.assert_array_equal(t.columns[c], from_csv.columns[c])
    assert from_xlsx.rows is not None and from_xlsx.rows.tolist() == [2, 3]
    assert from_parquet.rows is not None and from_parquet.rows.tolist() == [1, 2]


def test_xlsx_problem_rows_are_spreadsheet_rows(tmp_path: Path, tiny: Formula) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    ws.append(row("A").split(","))
    ws.append([])
    ws.append(row("B", enrollment="-3", english_learners="0").split(","))
    wb.save(tmp_path / "s.xlsx")
    e = bad(tmp_path / "s.xlsx", tiny)
    assert where(only(e, "below_minimum")) == [(4, "enrollment")]


def test_validate_frame_takes_a_raw_table(write: Write, tiny: Formula) -> None:
    raw = read_raw(write("s.csv", csv_text(row("A"))))
    assert validate_frame(raw, tiny).ids.tolist() == ["A"]


def test_boolean_column_cannot_default_to_null(write: Write) -> None:
    formula = load_formula_text(TINY.replace("required: false, default: false", "required: false, default: null"))
    with pytest.raises(FormulaError) as e:
        load_entities(write("s.csv", csv_text(row("A"))), formula)
    assert e.value.code == "invalid_value"


def test_large_table_is_validated_whole(tmp_path: Path, tiny: Formula) -> None:
    n = 20_000
    rng = np.random.default_rng(0)
    enrollment = rng.integers(0, 2000, n)
    frame = pl.DataFrame(
        {
            "school_id": [f"S{i}" for i in range(n)],
            "school_name": "x",
            "level": "high",
            "title1": rng.choice(["yes", "no"], n),
            "enrollment": enrollment,
            "english_learners": enrollment // 3,
            "poverty_pct": rng.uniform(0, 100, n),
        }
    )
    frame.write_csv(tmp_path / "big.csv")
    t = load_entities(tmp_path / "big.csv", tiny)
    assert t.n == n and t.columns["enrollment"].sum() == enrollment.sum()

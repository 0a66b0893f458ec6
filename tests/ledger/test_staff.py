"""Staffing and retention (fairshare.ledger.staff) on small tables checked by hand."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fairshare.errors import InputError
from fairshare.ledger.staff import (
    GRAND_TOTAL,
    StaffTable,
    cohort_retention,
    display_pct,
    fte_by_category,
    load_staff,
    teachers_per_100,
)
from fairshare.programs.synthetic import synthetic_staff


def _csv(tmp_path: Path, text: str, name: str = "staff.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


#: 2023: teachers A 1.0 + B 1.0 + C 0.5 = 2.5; paraprofessional D 1.0; administrator E 1.0 -> total 4.5
#: 2024: teachers A 1.0 + B 1.0 + C 1.0 + F 1.0 = 4.0; D stays on the books at FTE 0; counselor G 1.0 -> total 5.0
CATEGORY_CSV = """staff_id,fiscal_year,assignment_category,fte,district
A,2023,teacher,1,North
B,2023,teacher,1,North
C,2023,teacher,0.5,South
D,2023,paraprofessional,1,South
E,2023,administrator,1,North
A,2024,teacher,1,North
B,2024,teacher,1,North
C,2024,teacher,1,South
F,2024,teacher,1,South
D,2024,paraprofessional,0,South
G,2024,counselor,1,
"""


def test_fte_by_category_and_grand_total(tmp_path: Path) -> None:
    staff = load_staff(_csv(tmp_path, CATEGORY_CSV))
    out = fte_by_category(staff, 2023, 2024)
    assert out.get_column("assignment_category").to_list() == [
        "administrator",
        "counselor",
        "paraprofessional",
        "teacher",
        GRAND_TOTAL,
    ]
    rows = {r["assignment_category"]: r for r in out.iter_rows(named=True)}
    # administrator 1.0 -> 0 (no row in 2024): (0 - 1) / 1 = -100 %
    assert (rows["administrator"]["fte_from"], rows["administrator"]["fte_to"]) == (1.0, 0.0)
    assert rows["administrator"]["change_pct"] == pytest.approx(-100.0)
    # counselor 0 -> 1.0: no % change from zero (blank, not infinite)
    assert rows["counselor"]["change_pct"] is None
    assert rows["counselor"]["change_shown"] == ""
    # paraprofessional 1.0 -> 0.0 (an FTE 0 row adds nothing): -100 %
    assert rows["paraprofessional"]["change_pct"] == pytest.approx(-100.0)
    # teacher 2.5 -> 4.0: +1.5 / 2.5 = +60 %
    assert (rows["teacher"]["fte_from"], rows["teacher"]["fte_to"]) == (2.5, 4.0)
    assert rows["teacher"]["change_pct"] == pytest.approx(60.0)
    assert rows["teacher"]["change_shown"] == "+60.0%"
    # Grand Total 4.5 -> 5.0: +0.5 / 4.5 = 11.111… % kept at full precision, shown as +11.1 %
    total = rows[GRAND_TOTAL]
    assert (total["fte_from"], total["fte_to"], total["change"]) == (4.5, 5.0, 0.5)
    assert total["change_pct"] == pytest.approx(100 / 9, rel=1e-12)
    assert total["change_shown"] == "+11.1%"


def test_display_pct_rounds_half_away_from_zero() -> None:
    assert display_pct(2.25) == "+2.3%"
    assert display_pct(-2.25) == "-2.3%"
    assert display_pct(-0.04) == "0.0%"
    assert display_pct(12.345, decimals=2) == "+12.35%"
    assert display_pct(None) == ""


def test_fte_by_category_missing_year(tmp_path: Path) -> None:
    staff = load_staff(_csv(tmp_path, CATEGORY_CSV))
    with pytest.raises(InputError) as err:
        fte_by_category(staff, 2022, 2024)
    assert err.value.code == "missing_year"
    assert "2023, 2024" in str(err.value)


def test_teachers_per_100(tmp_path: Path) -> None:
    staff = load_staff(_csv(tmp_path, CATEGORY_CSV))
    out = teachers_per_100(staff, {2023: 50, 2024: 100, 2025: 120})
    assert out.get_column("fiscal_year").to_list() == [2023, 2024, 2025]
    # 2023: 2.5 teacher FTE / 50 pupils x 100 = 5.0; 2024: 4.0 / 100 x 100 = 4.0
    assert out.get_column("per_100").to_list()[:2] == pytest.approx([5.0, 4.0])
    # 2025 has no staff rows: blank, never zero
    assert out.row(2, named=True) == {"fiscal_year": 2025, "fte": None, "pupils": 120.0, "per_100": None}
    # another category: paraprofessional 1.0 / 50 x 100 = 2.0 in 2023; 0.0 / 100 in 2024 (an FTE 0 row)
    para = teachers_per_100(staff, {2023: 50, 2024: 100}, category="paraprofessional")
    assert para.get_column("per_100").to_list() == pytest.approx([2.0, 0.0])


def test_teachers_per_100_rejects_zero_enrollment(tmp_path: Path) -> None:
    staff = load_staff(_csv(tmp_path, CATEGORY_CSV))
    with pytest.raises(InputError) as err:
        teachers_per_100(staff, {2023: 0})
    assert err.value.code == "below_minimum"


#: data years 2020-2024. Rule: retained after k years = a row with FTE > 0 in year Y + k, any assignment.
#: cohort 2020 (hire_year given): T1 stays; T2 leaves, returns in 2022, leaves again; T3 is on the books at
#: FTE 0 in 2022 then gone; T4 moves to administrator. T5 has no hire year and first appears in 2022 (> 2020,
#: the data's first year) -> cohort 2022. T6 has no hire year and appears in 2020, the first data year: hire
#: year unknown, no cohort. T7 is hired in 2021 at FTE 0 (not working: no cohort). P1 is not a teacher.
RETENTION_CSV = """staff_id,fiscal_year,assignment_category,fte,hire_year
T1,2020,teacher,1,2020
T1,2021,teacher,1,2020
T1,2022,teacher,1,2020
T1,2023,teacher,1,2020
T1,2024,teacher,1,2020
T2,2020,teacher,1,2020
T2,2022,teacher,1,2020
T3,2020,teacher,1,2020
T3,2021,teacher,0.5,2020
T3,2022,teacher,0,2020
T4,2020,teacher,1,2020
T4,2021,administrator,1,2020
T4,2022,administrator,1,2020
T4,2023,administrator,1,2020
T4,2024,administrator,1,2020
T5,2022,teacher,1,
T5,2023,teacher,1,
T6,2020,teacher,1,
T6,2021,teacher,1,
T7,2021,teacher,0,2021
P1,2021,paraprofessional,1,2021
P1,2022,paraprofessional,1,2021
"""


def test_cohort_retention_by_hand(tmp_path: Path) -> None:
    staff = load_staff(_csv(tmp_path, RETENTION_CSV))
    ret = cohort_retention(staff)
    frame = ret.frame
    assert frame.columns[:6] == ["cohort", "hired", "after_1", "after_2", "after_3", "after_4"]
    assert frame.get_column("cohort").to_list() == [2020, 2022]
    c2020, c2022 = frame.iter_rows(named=True)
    # 2020: hired T1-T4 = 4. 2021: T1, T3 (0.5), T4 = 3/4; 2022: T1, T2 (returned), T4 = 3/4 (T3 at FTE 0 is out);
    # 2023: T1, T4 = 2/4; 2024: T1, T4 = 2/4
    assert c2020["hired"] == 4
    assert [c2020[f"after_{k}"] for k in range(1, 5)] == [0.75, 0.75, 0.5, 0.5]
    assert [c2020[f"stayed_{k}"] for k in range(1, 5)] == [3, 3, 2, 2]
    # 2022: T5 alone. 2023 present = 1/1; 2024 observed and absent = 0 (a real zero);
    # 2025 and 2026 are beyond the data: blank, never zero
    assert c2022["hired"] == 1
    assert [c2022[f"after_{k}"] for k in range(1, 5)] == [1.0, 0.0, None, None]
    assert [c2022[f"stayed_{k}"] for k in range(1, 5)] == [1, 0, None, None]
    # left within four years: only cohort 2020 has year Y + 4 observed; 2 of 4 gone -> 0.5
    assert ret.observed_cohorts == [2020]
    assert (ret.hired_observed, ret.left_observed) == (4, 2)
    assert ret.left_within == 0.5


def test_cohort_retention_gap_year_is_blank() -> None:
    # data for 2020, 2021 and 2023 only: after_2 (2022) is blank, after_3 (2023) is observed
    frame = pl.DataFrame(
        {
            "staff_id": ["A", "A", "A", "B"],
            "fiscal_year": [2020, 2021, 2023, 2020],
            "assignment_category": ["teacher"] * 4,
            "fte": [1.0, 1.0, 1.0, 1.0],
            "hire_year": [2020, 2020, 2020, 2020],
        }
    )
    ret = cohort_retention(StaffTable.from_frame(frame), max_years=3)
    row = ret.frame.row(0, named=True)
    # hired A and B; 2021: A = 1/2; 2022 not in the data; 2023: A = 1/2
    assert (row["hired"], row["after_1"], row["after_2"], row["after_3"]) == (2, 0.5, None, 0.5)
    assert ret.left_within == 0.5


def test_load_staff_locates_every_bad_cell(tmp_path: Path) -> None:
    text = """staff_id,fiscal_year,assignment_category,fte,hire_year
A,2023,teacher,1,2020
A,2023,teacher,0.5,2020
,2023,teacher,1,
B,twenty,teacher,1,
C,2023,teacher,-1,
D,2023,,1,
E,2023,teacher,1,abc
F,2023.5,teacher,1,
"""
    with pytest.raises(InputError) as err:
        load_staff(_csv(tmp_path, text))
    found = {(p.code, p.row, p.column) for p in err.value.problems}
    assert found == {
        ("duplicate_entity", 3, "staff_id"),
        ("missing_value", 4, "staff_id"),
        ("not_a_number", 5, "fiscal_year"),
        ("below_minimum", 6, "fte"),
        ("missing_value", 7, "assignment_category"),
        ("not_a_number", 8, "hire_year"),
        ("not_an_integer", 9, "fiscal_year"),
    }
    assert all(p.file and p.file.endswith("staff.csv") for p in err.value.problems)


def test_load_staff_missing_column(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_staff(_csv(tmp_path, "staff_id,fiscal_year,assignment_category,ftee\nA,2023,teacher,1\n"))
    assert [(p.code, p.column) for p in err.value.problems] == [("missing_column", "fte")]
    assert "ftee" in str(err.value)


def test_load_staff_optional_columns(tmp_path: Path) -> None:
    staff = load_staff(_csv(tmp_path, CATEGORY_CSV))
    f = staff.frame
    assert staff.years == [2023, 2024]
    # no hire_year column: each staff member's first year in the data
    assert dict(f.select("staff_id", "hire_year").unique().sort("staff_id").iter_rows()) == {
        "A": 2023, "B": 2023, "C": 2023, "D": 2023, "E": 2023, "F": 2024, "G": 2024,
    }  # fmt: skip
    assert not f.get_column("hire_year_given").any()
    assert f.filter(pl.col("staff_id") == "G").get_column("district").to_list() == [None]


def test_synthetic_staff_is_deterministic_and_most_leave(tmp_path: Path) -> None:
    first = synthetic_staff(n_teachers=120, years=9, seed=7)
    assert first.equals(synthetic_staff(n_teachers=120, years=9, seed=7))
    assert not first.equals(synthetic_staff(n_teachers=120, years=9, seed=8))
    assert first.columns == ["staff_id", "fiscal_year", "assignment_category", "fte", "district", "hire_year"]
    path = tmp_path / "synthetic_staff.csv"
    first.write_csv(path)
    ret = cohort_retention(load_staff(path))
    assert ret.observed_cohorts  # at least one cohort observed for four years
    assert ret.left_within is not None and ret.left_within > 0.5


def test_synthetic_staff_default_district() -> None:
    ret = cohort_retention(StaffTable.from_frame(synthetic_staff()))
    assert ret.observed_cohorts == [2018, 2019, 2020, 2021, 2022]
    # the figures docs/ledger-staff.md quotes: 80 of 136 hired in 2018-2022 gone four years later (58.8 %)
    assert (ret.hired_observed, ret.left_observed) == (136, 80)
    assert ret.left_within is not None and ret.left_within > 0.5


def test_cli_staff_tables(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fairshare.cli import app
    from fairshare.programs.synthetic import synthetic_staff

    table = tmp_path / "staff.csv"
    synthetic_staff().write_csv(table)
    args = ["ledger", "staff", "--data", str(table), "--from", "2017", "--to", "2026", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Teachers who left within 4 years: 58.8% (80 of 136" in result.output
    fte = (tmp_path / "o" / "fte_by_category.csv").read_text(encoding="utf-8")
    assert "Grand Total" in fte and (tmp_path / "o" / "retention.csv").is_file()


def test_cli_teachers_per_100_from_an_enrollment_table(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fairshare.cli import app

    staff = tmp_path / "staff.csv"
    staff.write_text(
        "staff_id,fiscal_year,assignment_category,fte\n"
        "a,2020,teacher,1\nb,2020,teacher,0.5\nc,2020,counselor,1\na,2021,teacher,1\n"
    )
    pupils = tmp_path / "pupils.csv"
    pupils.write_text("fiscal_year,students\n2020,60\n2021,80\n2022,90\n")
    args = ["ledger", "staff", "--data", str(staff), "--from", "2020", "--to", "2021", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, [*args, "--enrollment", str(pupils)])
    assert result.exit_code == 0, result.output
    assert "Teachers per 100 students: 2020: 2.50; 2021: 1.25" in result.output  # 1.5/60, 1/80
    t = (tmp_path / "o" / "teachers_per_100.csv").read_text().splitlines()
    assert t == ["fiscal_year,fte,pupils,per_100", "2020,1.5,60.0,2.5", "2021,1.0,80.0,1.25", "2022,,90.0,"]
    pupils.write_text("fiscal_year,students\n2020,60\n2020,0\n")
    bad = CliRunner().invoke(app, [*args, "--enrollment", str(pupils)])
    assert bad.exit_code == 1 and "duplicate_entity" in bad.output and "below_minimum" in bad.output
    assert "Traceback" not in bad.output

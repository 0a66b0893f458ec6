"""Staffing and retention from HR/staff records: FTE by assignment category, teachers per 100
students, and how many of each hire cohort are still employed after one to four years.

A staff table has one row per staff member and fiscal year (``staff_id``, ``fiscal_year``,
``assignment_category``, ``fte``; optional ``district`` and ``hire_year``). Rules (also in
``docs/ledger-staff.md``):

* A staff member is *employed* in a year when they have a row for that year with FTE > 0
  (an FTE 0 row is on the books but not working: it counts as not employed).
* Retention after *k* years = employed in year Y + k, in any assignment. A teacher who leaves
  and comes back counts as retained in every year they are present again.
* A cohort's share after *k* years is blank (null), never zero, when year Y + k is not in the
  data (beyond the last year, or a year with no rows).
* Hire year: the ``hire_year`` cell when given (the smallest one a staff member's rows give);
  otherwise the first fiscal year the staff id appears. A derived hire year equal to the first
  year of the data is unknown (the person may have been hired earlier), so that person is in
  no cohort.
* A hire cohort Y is the staff hired in Y who are employed in the category (teacher) in Y.
* "Left within four years" = 1 − (cohort members employed in Y + 4) / (hired), pooled over
  the cohorts whose Y + 4 is observed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import polars as pl

from fairshare.errors import InputError, Problem, ProblemList
from fairshare.io.columns import has_columns, number_column, text_column
from fairshare.io.read import read_raw

__all__ = [
    "GRAND_TOTAL",
    "Retention",
    "StaffTable",
    "cohort_retention",
    "display_pct",
    "fte_by_category",
    "load_enrollment",
    "load_staff",
    "teachers_per_100",
]

GRAND_TOTAL = "Grand Total"
_REQUIRED = ["staff_id", "fiscal_year", "assignment_category", "fte"]


@dataclass(frozen=True)
class StaffTable:
    """Validated staff rows: ``staff_id`` (str), ``fiscal_year`` (Int64), ``assignment_category`` (str),
    ``fte`` (Float64), ``district`` (str or null), ``hire_year`` (Int64), ``hire_year_given`` (bool)."""

    frame: pl.DataFrame
    source: str

    @property
    def years(self) -> list[int]:
        """The fiscal years the table has rows for, ascending."""
        return sorted(int(y) for y in self.frame.get_column("fiscal_year").unique().to_list())

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, source: str = "(frame)") -> StaffTable:
        """Build from an already-typed frame (hire year filled as :func:`load_staff` does)."""
        base = frame.select(
            pl.col("staff_id").cast(pl.String),
            pl.col("fiscal_year").cast(pl.Int64),
            pl.col("assignment_category").cast(pl.String),
            pl.col("fte").cast(pl.Float64),
            (pl.col("district") if "district" in frame.columns else pl.lit(None)).cast(pl.String).alias("district"),
            (pl.col("hire_year") if "hire_year" in frame.columns else pl.lit(None)).cast(pl.Int64).alias("given"),
        )
        return cls(_fill_hire_year(base), source)


def _fill_hire_year(base: pl.DataFrame) -> pl.DataFrame:
    per_staff = base.group_by("staff_id").agg(
        pl.col("given").min().alias("given_min"), pl.col("fiscal_year").min().alias("first_year")
    )
    out = base.join(per_staff, on="staff_id", how="left", maintain_order="left")
    return out.select(
        "staff_id",
        "fiscal_year",
        "assignment_category",
        "fte",
        "district",
        pl.coalesce("given_min", "first_year").alias("hire_year"),
        pl.col("given_min").is_not_null().alias("hire_year_given"),
    )


def load_staff(path: str | Path) -> StaffTable:
    """Read and check a staff file (CSV, XLSX or Parquet); every bad cell is a located problem."""
    raw = read_raw(path)
    problems = ProblemList()
    if not has_columns(raw, _REQUIRED, problems, "staff records"):
        raise InputError(problems.problems)
    ids = text_column(raw, "staff_id", problems)
    years = number_column(raw, "fiscal_year", problems, integer=True, minimum=1900)
    category = text_column(raw, "assignment_category", problems)
    fte = number_column(raw, "fte", problems, minimum=0)
    district = text_column(raw, "district", problems, required=False) if "district" in raw.columns else None
    given = (
        number_column(raw, "hire_year", problems, integer=True, minimum=1900, required=False)
        if "hire_year" in raw.columns
        else np.full(raw.n, np.nan)
    )
    first: dict[tuple[str, float], int] = {}
    for i, (sid, year) in enumerate(zip(ids.tolist(), years.tolist(), strict=True)):
        if sid == "" or np.isnan(year):
            continue
        key = (str(sid), float(year))
        if key in first:
            problems.add(
                "duplicate_entity",
                f"staff {sid!r} already has a row for fiscal year {year:g} (row {raw.rows[first[key]]})",
                file=raw.path,
                row=int(raw.rows[i]),
                column="staff_id",
                value=sid,
                rule="one row per staff member and fiscal year",
                hint="combine the person's assignments into one row, or keep the main one",
            )
        else:
            first[key] = i
    problems.raise_if_any(InputError)
    base = pl.DataFrame(
        {
            "staff_id": ids.astype(str).tolist(),
            "fiscal_year": years.astype(np.int64),
            "assignment_category": category.astype(str).tolist(),
            "fte": fte,
            "district": [d or None for d in district.tolist()] if district is not None else [None] * raw.n,
            "given": pl.Series(given, nan_to_null=True).cast(pl.Int64),
        },
        schema_overrides={"district": pl.String},
    )
    return StaffTable(_fill_hire_year(base), raw.path)


def _missing_year(staff: StaffTable, year: int, what: str) -> InputError:
    return InputError(
        Problem(
            "missing_year",
            f"the staff records have no rows for fiscal year {year} ({what})",
            file=staff.source,
            column="fiscal_year",
            value=year,
            hint=f"years in the data: {', '.join(map(str, staff.years)) or 'none'}",
        )
    )


def display_pct(value: float | None, decimals: int = 1) -> str:
    """A percentage for display: rounded half away from zero to ``decimals`` places, signed ("+12.5%").

    Blank ("") when the value is missing (e.g. a change from zero)."""
    if value is None or not np.isfinite(value):
        return ""
    q = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{abs(q)}%" if q == 0 else f"{q:+}%"


def fte_by_category(staff: StaffTable, from_year: int, to_year: int) -> pl.DataFrame:
    """FTE by assignment category in two years and the % change, categories A→Z, then a ``Grand Total`` row.

    Columns ``assignment_category, fte_from, fte_to, change, change_pct, change_shown``: ``change_pct`` is
    (to − from) / from × 100 at full precision (null when ``fte_from`` is 0); ``change_shown`` is the same
    rounded for display only (one decimal, half away from zero, see :func:`display_pct`). A category
    with no rows in a year has 0 FTE that year. Raises ``missing_year`` when a year has no rows at all.
    """
    for year in (from_year, to_year):
        if year not in staff.years:
            raise _missing_year(staff, year, "FTE by category")
    f = staff.frame
    sums = (
        f.filter(pl.col("fiscal_year").is_in([from_year, to_year]))
        .group_by("assignment_category")
        .agg(
            pl.col("fte").filter(pl.col("fiscal_year") == from_year).sum().alias("fte_from"),
            pl.col("fte").filter(pl.col("fiscal_year") == to_year).sum().alias("fte_to"),
        )
        .sort("assignment_category")
    )
    total = pl.DataFrame(
        {
            "assignment_category": [GRAND_TOTAL],
            "fte_from": [float(sums.get_column("fte_from").sum())],
            "fte_to": [float(sums.get_column("fte_to").sum())],
        }
    )
    out = pl.concat([sums.cast({"fte_from": pl.Float64, "fte_to": pl.Float64}), total]).with_columns(
        (pl.col("fte_to") - pl.col("fte_from")).alias("change"),
        pl.when(pl.col("fte_from") > 0)
        .then((pl.col("fte_to") - pl.col("fte_from")) / pl.col("fte_from") * 100.0)
        .otherwise(None)
        .alias("change_pct"),
    )
    shown = [display_pct(v) for v in out.get_column("change_pct").to_list()]
    return out.with_columns(pl.Series("change_shown", shown, dtype=pl.String))


def load_enrollment(path: str | Path) -> dict[int, float]:
    """Students by fiscal year from a table with columns ``fiscal_year`` and ``students`` (one row per year)."""
    raw = read_raw(path)
    problems = ProblemList()
    if not has_columns(raw, ["fiscal_year", "students"], problems, "enrollment by year"):
        problems.raise_if_any(InputError)
    years = number_column(raw, "fiscal_year", problems, integer=True)
    pupils = number_column(raw, "students", problems, minimum=1)
    seen: set[float] = set()
    for i, y in enumerate(years.tolist()):
        if y in seen:
            problems.add("duplicate_entity", f"fiscal year {y:g} has two rows", file=raw.path,
                         row=int(raw.rows[i]), column="fiscal_year", value=f"{y:g}")  # fmt: skip
        seen.add(y)
    problems.raise_if_any(InputError)
    return {int(y): float(p) for y, p in zip(years.tolist(), pupils.tolist(), strict=True)}


def teachers_per_100(staff: StaffTable, enrollment: Mapping[int, float], category: str = "teacher") -> pl.DataFrame:
    """Teacher FTE per 100 students by fiscal year: ``fiscal_year, fte, pupils, per_100``.

    One row per year in the staff records or the enrollment, ascending. ``fte`` is null for a year
    with no staff rows; ``per_100`` is null when either side is missing (blank, never zero).
    Enrollment must be positive (``below_minimum`` otherwise)."""
    problems = ProblemList()
    for year, count in enrollment.items():
        if not np.isfinite(count) or count <= 0:
            problems.add(
                "below_minimum",
                f"enrollment for fiscal year {year} must be more than 0",
                column="enrollment",
                value=count,
                rule="> 0 pupils",
            )
    problems.raise_if_any(InputError)
    have = set(staff.years)
    sums = dict(
        staff.frame.filter(pl.col("assignment_category") == category)
        .group_by("fiscal_year")
        .agg(pl.col("fte").sum())
        .iter_rows()
    )
    years = sorted(have | {int(y) for y in enrollment})
    fte = [float(sums.get(y, 0.0)) if y in have else None for y in years]
    pupils = [float(enrollment[y]) if y in enrollment else None for y in years]
    per = [None if t is None or p is None else t / p * 100.0 for t, p in zip(fte, pupils, strict=True)]
    return pl.DataFrame(
        {"fiscal_year": years, "fte": fte, "pupils": pupils, "per_100": per},
        schema={"fiscal_year": pl.Int64, "fte": pl.Float64, "pupils": pl.Float64, "per_100": pl.Float64},
    )


@dataclass(frozen=True)
class Retention:
    """Hire cohorts' retention and the pooled "left within ``max_years``" summary."""

    #: ``cohort, hired, after_1 … after_k`` (shares 0-1, null when Y + k is not observed), ``stayed_1 … stayed_k``
    frame: pl.DataFrame
    max_years: int
    #: cohorts whose year Y + max_years is observed
    observed_cohorts: list[int]
    #: hires in those cohorts, and how many of them are not employed in Y + max_years
    hired_observed: int
    left_observed: int

    @property
    def left_within(self) -> float | None:
        """Share of teachers not employed ``max_years`` after hire (None when no cohort is observed that long)."""
        return self.left_observed / self.hired_observed if self.hired_observed else None


def cohort_retention(staff: StaffTable, max_years: int = 4, category: str = "teacher") -> Retention:
    """For each hire cohort Y (staff hired in Y and employed in ``category`` in Y), the share employed in Y + k.

    See the module's rules: employed = a row with FTE > 0 in that year, any assignment; a year not in the
    data gives a blank share, never zero; a derived hire year equal to the data's first year is unknown."""
    if max_years < 1:
        raise ValueError("max_years must be at least 1")
    f = staff.frame
    years = staff.years
    have = set(years)
    first_year = years[0] if years else 0
    known = pl.col("hire_year_given") | (pl.col("hire_year") > first_year)
    members = f.filter(
        known
        & (pl.col("fiscal_year") == pl.col("hire_year"))
        & (pl.col("assignment_category") == category)
        & (pl.col("fte") > 0)
    ).select(pl.col("hire_year").alias("cohort"), "staff_id")
    employed = f.filter(pl.col("fte") > 0).select("staff_id", "fiscal_year")
    rows: list[dict[str, int | float | None]] = []
    observed: list[int] = []
    hired_obs = left_obs = 0
    for cohort in sorted(members.get_column("cohort").unique().to_list()):
        ids = members.filter(pl.col("cohort") == cohort).get_column("staff_id")
        row: dict[str, int | float | None] = {"cohort": int(cohort), "hired": ids.len()}
        for k in range(1, max_years + 1):
            if cohort + k in have:
                stayed = employed.filter(
                    (pl.col("fiscal_year") == cohort + k) & pl.col("staff_id").is_in(ids.implode())
                ).height
                row[f"after_{k}"], row[f"stayed_{k}"] = stayed / ids.len(), stayed
            else:
                row[f"after_{k}"] = row[f"stayed_{k}"] = None
        if row[f"stayed_{max_years}"] is not None:
            observed.append(int(cohort))
            hired_obs += ids.len()
            left_obs += ids.len() - int(row[f"stayed_{max_years}"] or 0)
        rows.append(row)
    schema: dict[str, type[pl.DataType]] = {"cohort": pl.Int64, "hired": pl.Int64}
    schema |= {f"after_{k}": pl.Float64 for k in range(1, max_years + 1)}
    schema |= {f"stayed_{k}": pl.Int64 for k in range(1, max_years + 1)}
    frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return Retention(frame, max_years, observed, hired_obs, left_obs)

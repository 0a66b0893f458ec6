"""Spending profile per district and per school from crosswalked ledger rows (``fairshare ledger profile``).

* **Spending by category**: the imported rows' integer cents summed by district, fiscal year and
  resource-use category; rows no rule mapped are ``unmapped`` and never counted as spending.
* **Operating spending**: the sum of the spec's operating categories (by default all but debt/capital,
  other and not_spending). **Per pupil** = cents ÷ students, rounded half to even to a whole cent. A
  category's **share** is its cents over operating cents (percent, computed from integers).
* **School sites and the central office**: each operating line counts for the sites when its location
  is one the locations table calls a ``school``, for the central office when it calls it ``central``,
  and as **unclassified** when the location is blank or not in the table (never guessed). The school
  share is school ÷ (school + central): of the spending charged to a known place, the part charged to
  schools; it is blank for a district with nothing classified. The unclassified share (of all operating
  spending) says how much the split leaves out. It shows where spending is *charged*, the nearest the
  ledger comes to what principals control.
* **Year over year**: for every district, category and pair of consecutive fiscal years in the ledger,
  per-pupil then and now, the change in dollars and in percent (blank when the earlier year is zero).

Enrollment: one count per district (the same for every year, stated in the outputs) or per district and
fiscal year. Rows of districts the ledger does not have are not read; a ledger district missing from the
table, a repeated district (or district-year) and a count below 1 are errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from fairshare.errors import InputError, ProblemList
from fairshare.io.columns import has_columns, number_column, text_column
from fairshare.io.read import RawTable, read_raw
from fairshare.ledger.crosswalk import CATEGORIES
from fairshare.ledger.profile_spec import ProfileModel

__all__ = ["Profile", "compute_profile", "read_enrollment", "read_ledger", "read_locations"]

KEYS = ["district", "fiscal_year"]


@dataclass(frozen=True)
class Profile:
    spec: ProfileModel
    #: district, fiscal_year, students, operating/outside/unmapped/not_spending cents, per_pupil_cents,
    #: <category>_cents and <category>_pp_cents, school/central/unclassified cents and school_share_pct
    districts: pl.DataFrame
    #: long: district, fiscal_year, category, cents, per_pupil_cents, share_pct (operating categories)
    categories: pl.DataFrame
    #: district, category, from_year, to_year, per-pupil then and now, change_cents, change_pct
    change: pl.DataFrame
    #: district, fiscal_year, location, name, kind, <category>_cents, operating_cents, share_pct, students, per_pupil
    schools: pl.DataFrame
    #: the import's manifest (crosswalk version, sources)
    ledger_manifest: dict[str, object]
    enrollment_by_year: bool
    attributes: pl.DataFrame


def _cents(col: str) -> pl.Expr:
    """Exact decimal text with two places (as ``ledger import`` writes it) to integer cents."""
    return pl.col(col).str.replace(".", "", literal=True).cast(pl.Int64)


def read_ledger(directory: Path) -> tuple[pl.DataFrame, dict[str, object]]:
    """``transactions.csv`` and ``manifest.json`` of a ``fairshare ledger import`` output directory."""
    tx, manifest = directory / "transactions.csv", directory / "manifest.json"
    problems = ProblemList()
    for p in (tx, manifest):
        if not p.is_file():
            problems.add(
                "file_not_found",
                f"{p} is missing: --ledger takes the directory `fairshare ledger import --out` wrote",
                file=str(p),
                hint="run fairshare ledger import first, then pass its --out directory",
            )
    problems.raise_if_any(InputError)
    frame = pl.read_csv(tx, infer_schema=False).select(
        "district",
        pl.col("fiscal_year").cast(pl.Int64),
        "location",
        pl.col("category").fill_null("unmapped"),
        _cents("amount").alias("cents"),
    )
    return frame, json.loads(manifest.read_text(encoding="utf-8"))


def _only(raw: RawTable, column: str, keep: set[str]) -> RawTable:
    """The rows whose ``column`` names one of ``keep`` (the ledger's districts)."""
    mask = raw.frame.get_column(column).is_in(list(keep)).to_numpy()
    return RawTable(raw.frame.filter(pl.Series(mask)), raw.path, raw.rows[mask], raw.sha256, raw.blank_rows)


def read_enrollment(path: Path, spec: ProfileModel, pairs: set[tuple[str, int]]) -> pl.DataFrame:
    """district, fiscal_year, students (float) and the attribute columns, for every ledger district-year
    (``pairs``)."""
    districts = {d for d, _ in pairs}
    years = sorted({y for _, y in pairs})
    e = spec.enrollment
    raw = read_raw(path)
    problems = ProblemList()
    cols = [e.district, e.students, *([e.fiscal_year] if e.fiscal_year else []), *e.attributes]
    if not has_columns(raw, cols, problems, "the profile spec's enrollment"):
        problems.raise_if_any(InputError)
    raw = _only(raw, e.district, districts)
    name = text_column(raw, e.district, problems)
    students = number_column(raw, e.students, problems, minimum=1)
    year = number_column(raw, e.fiscal_year, problems, integer=True) if e.fiscal_year else None
    attrs = {a: number_column(raw, a, problems, required=False) for a in e.attributes}
    table = pl.DataFrame({"district": name.astype(str), "students": students, **attrs})
    if year is not None:
        table = table.with_columns(fiscal_year=pl.Series(year, nan_to_null=True).cast(pl.Int64, strict=False))
    else:
        table = table.join(pl.DataFrame({"fiscal_year": years}, schema={"fiscal_year": pl.Int64}), how="cross")
    table = table.with_columns(_row=pl.Series(np.repeat(raw.rows, 1 if year is not None else len(years))))
    dup = table.filter(pl.struct(KEYS).is_duplicated()).unique("_row", keep="first", maintain_order=True)
    for r in dup.iter_rows(named=True):
        problems.add(
            "duplicate_entity",
            f"{r['district']} has more than one enrollment row"
            + (f" for {r['fiscal_year']}" if year is not None else ""),
            file=raw.path,
            row=int(r["_row"]),
            column=e.district,
            value=r["district"],
        )
    have = set(table.select(KEYS).iter_rows())
    for d, y in sorted(pairs):
        if (d, y) not in have:
            problems.add(
                "unknown_entity",
                f"the ledger has {d} in {y}, which the enrollment table does not",
                file=raw.path,
                column=e.district,
                value=d,
                hint="add the district (spelt as in the ledger) to the enrollment table",
            )
    problems.raise_if_any(InputError)
    keep = pl.DataFrame(sorted(pairs), schema={"district": pl.String, "fiscal_year": pl.Int64}, orient="row")
    return table.drop("_row").unique(KEYS, keep="first").join(keep, on=KEYS).sort(KEYS)


def read_locations(path: Path, spec: ProfileModel, districts: set[str]) -> pl.DataFrame:
    """district, location, name, kind ('school'/'central'), students (NaN when not given)."""
    loc = spec.locations
    assert loc is not None
    raw = read_raw(path)
    problems = ProblemList()
    cols = [loc.district, loc.location, loc.kind, *(c for c in (loc.name, loc.students) if c)]
    if not has_columns(raw, cols, problems, "the profile spec's locations"):
        problems.raise_if_any(InputError)
    raw = _only(raw, loc.district, districts)
    d = text_column(raw, loc.district, problems)
    code = text_column(raw, loc.location, problems)
    kind = text_column(raw, loc.kind, problems)
    for i in np.flatnonzero(~np.isin(kind, ["school", "central", ""])):
        problems.add(
            "not_allowed",
            f"{loc.kind} must be school or central",
            file=raw.path,
            row=int(raw.rows[i]),
            column=loc.kind,
            value=str(kind[i]),
            rule="school | central",
        )
    names = text_column(raw, loc.name, problems, required=False) if loc.name else np.full(raw.n, "", dtype=object)
    pupils = number_column(raw, loc.students, problems, minimum=1, required=False) if loc.students else None
    problems.raise_if_any(InputError)
    table = pl.DataFrame(
        {
            "district": d.astype(str),
            "location": [_code(c) for c in code],
            "name": names.astype(str),
            "kind": kind.astype(str),
            "students": pupils if pupils is not None else np.full(raw.n, np.nan),
            "_row": raw.rows,
        }
    )
    for r in table.filter(pl.struct("district", "location").is_duplicated()).iter_rows(named=True):
        problems.add(
            "duplicate_entity",
            f"location {r['location']} of {r['district']} is listed twice",
            file=raw.path,
            row=int(r["_row"]),
            column=loc.location,
            value=r["location"],
        )
    problems.raise_if_any(InputError)
    return table.drop("_row")


def _code(text: str) -> str:
    """A location code as the importer writes it (leading zeros dropped from digit codes)."""
    t = str(text).strip()
    return str(int(t)) if t.isdigit() else t


def _per_pupil(cents: pl.Expr, students: pl.Expr) -> pl.Expr:
    """Whole cents per pupil, rounded half to even (exact: the quotient of two integers below 2**53)."""
    return (cents / students).map_batches(lambda s: pl.Series(np.rint(s.to_numpy())), return_dtype=pl.Float64)


def _pct(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    v = ((part * 1000 / whole).round(0) / 10).round(1)
    return pl.when(whole == 0).then(None).when(v == 0).then(0.0).otherwise(v)


def compute_profile(
    spec: ProfileModel,
    ledger: pl.DataFrame,
    manifest: dict[str, object],
    enrollment: pl.DataFrame,
    locations: pl.DataFrame | None,
) -> Profile:
    operating = list(spec.operating)
    outside = [c for c in CATEGORIES if c not in operating and c != "not_spending"]
    sums = ledger.group_by(KEYS).agg(
        **{f"{c}_cents": pl.col("cents").filter(pl.col("category") == c).sum() for c in (*CATEGORIES, "unmapped")}
    )
    op = pl.sum_horizontal(pl.col(f"{c}_cents") for c in operating)
    out_ = pl.sum_horizontal(pl.col(f"{c}_cents") for c in outside) if outside else pl.lit(0, pl.Int64)
    kinds = (
        ledger.join(locations.select("district", "location", "kind"), on=["district", "location"], how="left")
        if locations is not None
        else ledger.with_columns(kind=pl.lit(None, pl.String))
    )
    site = (
        kinds.filter(pl.col("category").is_in(operating))
        .group_by(KEYS)
        .agg(
            school_cents=pl.col("cents").filter(pl.col("kind") == "school").sum(),
            central_cents=pl.col("cents").filter(pl.col("kind") == "central").sum(),
            unclassified_cents=pl.col("cents")
            .filter(~pl.col("kind").is_in(["school", "central"]).fill_null(False))
            .sum(),
        )
    )
    districts = (
        sums.with_columns(operating_cents=op, outside_cents=out_)
        .join(site, on=KEYS, how="left")
        .fill_null(0)
        .join(enrollment.select(*KEYS, "students"), on=KEYS, how="left")
        .with_columns(per_pupil_cents=_per_pupil(pl.col("operating_cents"), pl.col("students")).cast(pl.Int64))
        .with_columns(
            [
                _per_pupil(pl.col(f"{c}_cents"), pl.col("students")).cast(pl.Int64).alias(f"{c}_pp_cents")
                for c in operating
            ]
        )
        .with_columns(
            school_share_pct=_pct(pl.col("school_cents"), pl.col("school_cents") + pl.col("central_cents")),
            central_share_pct=_pct(pl.col("central_cents"), pl.col("school_cents") + pl.col("central_cents")),
            unclassified_share_pct=_pct(pl.col("unclassified_cents"), pl.col("operating_cents")),
        )
        .sort(KEYS)
    )
    categories = (
        districts.select(
            *KEYS,
            "students",
            "operating_cents",
            pl.concat_list(pl.lit(c) for c in operating).alias("category"),
            pl.concat_list(pl.col(f"{c}_cents") for c in operating).alias("cents"),
            pl.concat_list(pl.col(f"{c}_pp_cents") for c in operating).alias("per_pupil_cents"),
        )
        .explode("category", "cents", "per_pupil_cents")
        .with_columns(share_pct=_pct(pl.col("cents"), pl.col("operating_cents")))
        .drop("operating_cents")
    )
    change = _change(categories, districts)
    schools = _schools(kinds, locations, districts, operating) if locations is not None else pl.DataFrame()
    return Profile(
        spec=spec,
        districts=districts,
        categories=categories,
        change=change,
        schools=schools,
        ledger_manifest=manifest,
        enrollment_by_year=spec.enrollment.fiscal_year is not None,
        attributes=enrollment,
    )


def _change(categories: pl.DataFrame, districts: pl.DataFrame) -> pl.DataFrame:
    """Per district and category (and the operating total): each consecutive pair of fiscal years."""
    total = districts.select(*KEYS, pl.lit("operating_total").alias("category"), pl.col("per_pupil_cents"))
    rows = pl.concat([categories.select(*KEYS, "category", "per_pupil_cents"), total]).sort(
        "district", "category", "fiscal_year"
    )
    prev = rows.with_columns(
        from_year=pl.col("fiscal_year").shift(1).over("district", "category"),
        from_cents=pl.col("per_pupil_cents").shift(1).over("district", "category"),
    ).filter(pl.col("from_year").is_not_null() & (pl.col("from_year") == pl.col("fiscal_year") - 1))
    return prev.select(
        "district",
        "category",
        pl.col("from_year").cast(pl.Int64),
        pl.col("fiscal_year").alias("to_year"),
        pl.col("from_cents").cast(pl.Int64).alias("from_per_pupil_cents"),
        pl.col("per_pupil_cents").alias("to_per_pupil_cents"),
        (pl.col("per_pupil_cents") - pl.col("from_cents")).cast(pl.Int64).alias("change_cents"),
        _pct(pl.col("per_pupil_cents") - pl.col("from_cents"), pl.col("from_cents")).alias("change_pct"),
    )


def _schools(
    kinds: pl.DataFrame, locations: pl.DataFrame, districts: pl.DataFrame, operating: list[str]
) -> pl.DataFrame:
    """Operating spending by school location and category, with its share of the district's operating total."""
    rows = kinds.filter((pl.col("kind") == "school") & pl.col("category").is_in(operating))
    by = rows.group_by(*KEYS, "location").agg(
        **{f"{c}_cents": pl.col("cents").filter(pl.col("category") == c).sum() for c in operating}
    )
    return (
        by.with_columns(operating_cents=pl.sum_horizontal(pl.col(f"{c}_cents") for c in operating))
        .join(locations.select("district", "location", "name", "students"), on=["district", "location"], how="left")
        .join(districts.select(*KEYS, pl.col("operating_cents").alias("_district")), on=KEYS, how="left")
        .with_columns(
            share_pct=_pct(pl.col("operating_cents"), pl.col("_district")),
            per_pupil_cents=pl.when(pl.col("students").is_not_nan())
            .then(_per_pupil(pl.col("operating_cents"), pl.col("students")))
            .otherwise(None)
            .cast(pl.Int64),
        )
        .drop("_district")
        .sort(*KEYS, "location")
    )

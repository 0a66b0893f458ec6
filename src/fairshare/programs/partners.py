"""Partners of a restricted fund: the vetted menu, each school's selection, approvals, and who gains or loses.

Tables (CSV, XLSX or Parquet; one header row):

- menu: ``partner_id, partner_name, vetted`` (yes/no) — the pre-vetted partner organisations;
- selections: ``school_id, partner_id, amount`` and one yes/no column per approval the spec
  names (blank = not yet given) — what each school chose to buy with its restricted amount;
- prior contracts: ``school_id, partner_id, amount`` — what schools paid partners before.

A selection must use partners on the menu that are vetted, at schools the fund pays, within the
school's restricted amount: every breach is a located problem and nothing is written. Missing
approvals are not errors: the plan's status says which are still needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from fairshare.errors import InputError, ProblemList
from fairshare.io.columns import boolean_column, has_columns, number_column, text_column
from fairshare.io.contract import check_duplicates
from fairshare.io.read import RawTable, read_raw
from fairshare.programs.fund import FundResult
from fairshare.report.outputs import cents_text
from fairshare.rules.money import to_cents

__all__ = ["Menu", "check_selections", "impact", "load_menu"]


@dataclass(frozen=True)
class Menu:
    ids: np.ndarray
    names: np.ndarray
    vetted: np.ndarray  # bool
    source: str

    def name_of(self, pid: str) -> str:
        hit = np.flatnonzero(self.ids == pid)
        return str(self.names[hit[0]]) if len(hit) else pid

    def names_of(self, ids: pl.Expr) -> pl.Expr:
        """Partner names for a column of partner ids (the id itself where the menu has none)."""
        lookup = dict(zip(self.ids.astype(str).tolist(), self.names.astype(str).tolist(), strict=True))
        return ids.replace_strict(lookup, default=ids, return_dtype=pl.String)


def load_menu(path: str | Path) -> Menu:
    raw = read_raw(path)
    problems = ProblemList()
    if not has_columns(raw, ["partner_id", "partner_name", "vetted"], problems, "the partner menu"):
        raise InputError(problems.problems)
    ids = text_column(raw, "partner_id", problems)
    names = text_column(raw, "partner_name", problems)
    vetted = boolean_column(raw, "vetted", problems)
    for i in np.flatnonzero(np.isnan(vetted)):
        if raw.frame.get_column("vetted")[int(i)] is None:
            problems.add("missing_value", "vetted is blank", file=raw.path, row=int(raw.rows[i]), column="vetted")
    check_duplicates(problems, raw, "partner_id", "partner")
    if problems:
        raise InputError(problems.problems)
    return Menu(ids, names, vetted == 1.0, raw.path)


def _money_rows(path: str | Path, extra: list[str], what: str) -> tuple[pl.DataFrame, ProblemList, RawTable]:
    raw = read_raw(path)
    problems = ProblemList()
    if not has_columns(raw, ["school_id", "partner_id", "amount", *extra], problems, what):
        raise InputError(problems.problems)
    frame = pl.DataFrame(
        {
            "row": raw.rows.astype(np.int64),
            "school_id": text_column(raw, "school_id", problems).astype(str),
            "partner_id": text_column(raw, "partner_id", problems).astype(str),
            "cents": to_cents(np.nan_to_num(number_column(raw, "amount", problems, minimum=0))),
        }
    )
    return frame, problems, raw


def check_selections(result: FundResult, menu: Menu, path: str | Path) -> pl.DataFrame:
    """One row per school the fund pays: its amount, what it selected, what is left, approvals and status."""
    approvals = list(result.spec.approvals)
    frame, problems, raw = _money_rows(path, approvals, "partner selections")
    given = {a: boolean_column(raw, a, problems) for a in approvals}
    grants = dict(zip(result.table.ids.astype(str), result.grant_cents.tolist(), strict=True))
    on_menu = dict(zip(menu.ids.astype(str), menu.vetted.tolist(), strict=True))
    for r in frame.iter_rows(named=True):
        where = {"file": raw.path, "row": r["row"]}
        if r["partner_id"] not in on_menu:
            problems.add(
                "unknown_partner",
                f"partner {r['partner_id']!r} is not on the menu ({menu.source})",
                column="partner_id",
                value=r["partner_id"],
                rule="partners come from the vetted menu",
                **where,
            )
        elif not on_menu[r["partner_id"]]:
            problems.add(
                "partner_not_vetted",
                f"partner {r['partner_id']!r} ({menu.name_of(r['partner_id'])}) is on the menu but not vetted",
                column="partner_id",
                value=r["partner_id"],
                rule="only vetted partners may be paid from the restricted line",
                **where,
            )
        if grants.get(r["school_id"], 0) <= 0:
            problems.add(
                "school_not_funded",
                f"school {r['school_id']!r} receives nothing from {result.spec.fund}",
                column="school_id",
                value=r["school_id"],
                rule="only schools the fund pays select partners",
                **where,
            )
    spent = frame.group_by("school_id", maintain_order=True).agg(pl.col("cents").sum(), pl.col("row").max())
    for r in spent.iter_rows(named=True):
        grant = grants.get(r["school_id"], 0)
        if grant > 0 and r["cents"] > grant:
            problems.add(
                "selection_over_budget",
                f"school {r['school_id']!r} selects {_money(r['cents'])} of partners, more than its restricted "
                f"amount {_money(grant)} (by {_money(r['cents'] - grant)})",
                file=raw.path,
                row=r["row"],
                column="amount",
                rule="a school's selections fit its restricted amount",
            )
    if problems:
        raise InputError(problems.problems)
    return _plans(result, frame, given, menu)


def _plans(result: FundResult, frame: pl.DataFrame, given: dict[str, np.ndarray], menu: Menu) -> pl.DataFrame:
    """One row per funded school, by rank: its amount, its selections in file order, what is left and the
    status (approved when every approval is yes on every row of the school)."""
    approvals = result.spec.approvals
    rows = frame.with_columns(
        menu.names_of(pl.col("partner_id")).alias("partner"),
        *[pl.Series(f"_ok_{a}", col == 1.0) for a, col in given.items()],
    )
    per_school = rows.group_by("school_id", maintain_order=True).agg(
        pl.col("cents").sum().alias("selected_cents"),
        pl.col("partner").str.join("; ").alias("partners"),
        *[pl.col(f"_ok_{a}").all().alias(f"_ok_{a}") for a in given],
    )
    funded = pl.DataFrame(
        {
            "school_id": result.table.ids.astype(str),
            "name": result.table.names.astype(str),
            "grant_cents": result.grant_cents,
            "rank": result.rank,
        }
    ).filter(pl.Series(result.eligible))
    plans = funded.join(per_school, on="school_id", how="left").sort("rank")
    waiting = pl.concat_list(
        [pl.when(~pl.col(f"_ok_{a}")).then(pl.lit(approvals[a].label)) for a in given] or [pl.lit(None, pl.String)]
    ).list.drop_nulls()
    status = (
        pl.when(pl.col("selected_cents").is_null())
        .then(pl.lit("no partners selected"))
        .when(waiting.list.len() > 0)
        .then(pl.lit("waiting for: ") + waiting.list.join(", "))
        .otherwise(pl.lit("approved"))
    )
    selected = pl.col("selected_cents").fill_null(0)
    return plans.select(
        "school_id",
        "name",
        cents_text(pl.col("grant_cents")).alias("restricted_amount"),
        cents_text(selected).alias("selected"),
        cents_text(pl.col("grant_cents") - selected).alias("remaining"),
        pl.col("partners").fill_null(""),
        status.alias("status"),
    )


def impact(result: FundResult, prior_path: str | Path, menu: Menu | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Against last year's partner contracts: per school (before, now, change) and per partner (funding at
    schools the fund no longer pays — what partners stand to lose)."""
    frame, problems, _raw = _money_rows(prior_path, [], "prior partner contracts")
    if problems:
        raise InputError(problems.problems)
    ids = result.table.ids.astype(str)
    now = pl.DataFrame({"school_id": ids, "name": result.table.names.astype(str), "now": result.grant_cents})
    before = frame.group_by("school_id").agg(pl.col("cents").sum().alias("before"))
    schools = now.join(before, on="school_id", how="full", coalesce=True).with_columns(
        pl.col("now").fill_null(0), pl.col("before").fill_null(0), pl.col("name").fill_null(pl.col("school_id"))
    )
    schools = schools.with_columns(
        (pl.col("now") - pl.col("before")).alias("change"),
        pl.when((pl.col("before") == 0) & (pl.col("now") > 0))
        .then(pl.lit("new"))
        .when((pl.col("before") > 0) & (pl.col("now") == 0))
        .then(pl.lit("ends"))
        .when(pl.col("now") > pl.col("before"))
        .then(pl.lit("gains"))
        .when(pl.col("now") < pl.col("before"))
        .then(pl.lit("loses"))
        .otherwise(pl.lit("same"))
        .alias("status"),
    ).sort("change", "school_id")
    funded = set(ids[result.grant_cents > 0].tolist())
    partners = (
        frame.with_columns(pl.col("school_id").is_in(list(funded)).alias("still_funded"))
        .group_by("partner_id")
        .agg(
            pl.col("cents").sum().alias("before"),
            pl.col("cents").filter(~pl.col("still_funded")).sum().alias("at_risk"),
            pl.col("school_id").filter(~pl.col("still_funded")).sort().str.join("; ").alias("schools_no_longer_funded"),
        )
        .sort("at_risk", "partner_id", descending=[True, False])
    )
    if menu is not None:
        partners = partners.with_columns(menu.names_of(pl.col("partner_id")).alias("partner_name"))
    schools_out = schools.select(
        "school_id", "name", *[cents_text(pl.col(c)).alias(c) for c in ("now", "before", "change")], "status"
    )
    named = ["partner_name"] if menu is not None else []
    partners_out = partners.with_columns(
        cents_text(pl.col("before")).alias("before"), cents_text(pl.col("at_risk")).alias("at_risk")
    ).select("partner_id", *named, "before", "at_risk", "schools_no_longer_funded")
    return schools_out, partners_out


def _money(c: int) -> str:
    return f"${c / 100:,.2f}"

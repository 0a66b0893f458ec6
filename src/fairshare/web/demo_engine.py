"""The engine's results for the demo district, computed once per process and shared by the flows.

The same steps as ``fairshare demo`` (:mod:`fairshare.demo`): generate the SYNTHETIC district (seed
2026), aggregate its pupils to schools with DuckDB, allocate the demo student-based budget
(:data:`fairshare.programs.DEMO_FORMULA` on :data:`fairshare.demo.DEMO_DATE`). On the same school table
the demo partnership fund (``partner_fund.yaml``, SYNTHETIC; its index is each school's high-need
share) gives each school its restricted allocation, and ``examples/partner-fund/partners.csv`` is the
vetted partner menu. The files live in a temporary directory only while they are read.

The :class:`~fairshare.rules.evaluate.Run` caches values as it is read, so every engine call on the
shared results goes through :func:`engine_call` (one lock): calls take milliseconds.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

import polars as pl

from fairshare.io import aggregate_students, fiscal_year_of, write_table
from fairshare.programs import DEMO_FORMULA
from fairshare.programs.fund import FundResult, allocate_fund, load_fund_spec, load_fund_table
from fairshare.programs.partners import Menu, load_menu
from fairshare.rules.evaluate import Run

__all__ = ["FUND_SPEC", "MENU", "DemoEngine", "demo_engine", "engine_call"]

HERE = Path(__file__).parent
#: the demo partnership fund (SYNTHETIC)
FUND_SPEC = HERE / "partner_fund.yaml"
#: the vetted partner menu of the example fund (SYNTHETIC); read from the source tree
MENU = HERE.parents[2] / "examples" / "partner-fund" / "partners.csv"

T = TypeVar("T")
P = ParamSpec("P")
_BUILD = threading.Lock()
_CALL = threading.RLock()
_ENGINE: DemoEngine | None = None


@dataclass(frozen=True)
class DemoEngine:
    """The demo district's run, fund and menu, and the fiscal year they are for."""

    run: Run
    fund: FundResult
    menu: Menu
    fiscal_year: int

    def school_index(self, school_id: str) -> int | None:
        return self.run.table.index_of(school_id)

    def allocation_cents(self, school_id: str) -> int:
        """The school's restricted partnership allocation (0 for a school the fund does not pay)."""
        ids = self.fund.table.ids.astype(str).tolist()
        if school_id not in ids:
            return 0
        return int(self.fund.grant_cents[ids.index(school_id)])

    def funded(self) -> dict[str, int]:
        """Every school the fund pays and its allocation in cents, highest need first."""
        order = self.fund.rank.argsort()
        return {
            str(self.fund.table.ids[i]): int(self.fund.grant_cents[i]) for i in order if self.fund.grant_cents[i] > 0
        }

    def fund_reason(self, school_id: str) -> str:
        ids = self.fund.table.ids.astype(str).tolist()
        return self.fund.reasons[ids.index(school_id)] if school_id in ids else ""


def _build() -> DemoEngine:
    from fairshare.demo import DEMO_DATE, generate
    from fairshare.pipeline import allocate

    with tempfile.TemporaryDirectory(prefix="fairshare-web-") as tmp:
        d = Path(tmp)
        school_path, student_path = generate(d)
        agg = aggregate_students(student_path, school_path)
        table_path = d / "school_table.csv"
        write_table(agg.frame, table_path)
        run = allocate(DEMO_FORMULA, table_path, DEMO_DATE)
        fund_path = d / "fund_table.csv"
        agg.frame.select(
            "school_id",
            "school_name",
            "enrollment",
            (pl.col("high_need") / pl.col("enrollment")).round(6).alias("high_need_share"),
        ).write_csv(fund_path)
        spec = load_fund_spec(FUND_SPEC)
        fund = allocate_fund(spec, load_fund_table(fund_path, spec))
    menu = dataclasses.replace(load_menu(MENU), source="the vetted partner menu")
    _ = run.cents, run.total_cents  # fill the Run's caches before it is shared
    return DemoEngine(run, fund, menu, fiscal_year_of(DEMO_DATE))


def demo_engine() -> DemoEngine:
    """The demo district's results (built on first use, a second or two; then shared)."""
    global _ENGINE
    if _ENGINE is None:
        with _BUILD:
            if _ENGINE is None:
                _ENGINE = _build()
    return _ENGINE


def engine_call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call an engine function on the shared results, one call at a time."""
    with _CALL:
        return fn(*args, **kwargs)

"""``fairshare review schools``: per-pupil spending of every unit, its ranks, groups, views and similar peers.

:func:`run_school_review` reads a spec and its tables and returns a :class:`SchoolReview` — the frames
(one row per unit, per unit and peer, per group), the charts as SVG, the fitted lines, the methods in
words and the notes on the data — from which the outputs (:mod:`fairshare.review.schools_outputs`) and
the meeting packet are built. Nothing here prints or writes files.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare.errors import InputError, Problem, RunError
from fairshare.programs.identify_data import key_text
from fairshare.review.peers import PeerResult, flag_words, nearest, peer_stats, standardise
from fairshare.review.ppe import Fit, group_rows, quadrants, rank_within, wls_fit
from fairshare.review.schools_check import load_review_spec
from fairshare.review.schools_data import Source, load_tables, resolve_tables
from fairshare.review.schools_spec import ReviewSpec
from fairshare.review.schools_text import methods, notes
from fairshare.review.schools_units import Units, read_units
from fairshare.review.views import ViewData, charts

__all__ = ["GROUP_COLUMNS", "PEER_COLUMNS", "SCHOOL_COLUMNS", "SchoolReview", "run_school_review"]

#: the columns of :attr:`SchoolReview.schools` (and schools.csv), in order
SCHOOL_COLUMNS = (
    "id", "name", "district", "district_name", "type", "grade_span", "enrollment", "high_needs_pct", "outcome",
    "school_ppe", "central_ppe", "ppe", "status", "reason", "group", "state_rank", "state_units",
    "state_percentile", "district_rank", "district_units", "district_percentile", "peers", "peer_median",
    "peer_percentile", "gap_pct", "flag", "flag_text", "quadrant", "focus", "in_focus_district", "row",
)  # fmt: skip
#: the columns of :attr:`SchoolReview.peers` (and peers.csv)
PEER_COLUMNS = ("id", "rank", "peer_id", "peer_name", "peer_district", "peer_type", "distance", "peer_ppe")
#: the columns of :attr:`SchoolReview.groups` (and groups.csv)
GROUP_COLUMNS = (
    "group", "label", "reference", "units", "enrollment", "mean_ppe", "weighted_mean_ppe", "gap_pct",
    "weighted_gap_pct",
)  # fmt: skip


@dataclass(frozen=True)
class SchoolReview:
    """Everything a school spending review computes.

    ``schools`` has one row per row of the units' table, in unit-id order (:data:`SCHOOL_COLUMNS`):
    ``status`` is ``in pool``, ``excluded`` or ``left out`` (``reason`` says why); every figure
    compared across units (ranks, percentiles, groups, peers, quadrants) is over the pool. Money is
    float dollars, percents 0-100; a missing figure is null. ``peers`` has one row per unit and peer,
    nearest first (:data:`PEER_COLUMNS`); ``groups`` one row per declared group (:data:`GROUP_COLUMNS`).
    ``charts`` maps a view name (``array``, ``ppe_vs_high_needs``, ``ppe_vs_outcome``, ``quadrants``,
    ``peers``) to inline SVG. ``methods`` states each method in words, ``notes`` what the data left out.
    """

    spec: ReviewSpec
    schools: pl.DataFrame
    peers: pl.DataFrame
    groups: pl.DataFrame
    charts: dict[str, str]
    #: 'high_needs' and 'outcome' -> PPE = intercept + slope × x (enrollment-weighted least squares)
    fits: dict[str, Fit]
    #: the quadrants' split: {'ppe': median, 'outcome': median} (empty without an outcome)
    medians: dict[str, float]
    focus_district: str | None
    focus_unit: str | None
    methods: list[str]
    notes: list[str]
    sources: list[Source]
    #: each peer variable's centre and scale (mean and SD for z-scores)
    scaling: dict[str, tuple[float, float]]
    #: what the charts read (None when run without charts): :meth:`charts_for` redraws them for any unit
    view: ViewData | None = None

    def unit(self, unit_id: str) -> dict[str, Any]:
        """One unit's row of ``schools`` as a dict."""
        rows = self.schools.filter(pl.col("id") == str(unit_id))
        if rows.height == 0:
            raise RunError(Problem("unknown_entity", f"no unit {unit_id!r} in the review", value=str(unit_id)))
        return rows.row(0, named=True)

    def peers_of(self, unit_id: str) -> pl.DataFrame:
        """A unit's peers, nearest first."""
        return self.peers.filter(pl.col("id") == str(unit_id))

    def charts_for(self, unit_id: str) -> dict[str, str]:
        """The views with ``unit_id`` as the focus unit (marked, with its own peers), for its packet."""
        if self.view is None:
            return {}
        row = self.unit(unit_id)
        j = int(np.flatnonzero(self.schools["id"].to_numpy() == str(unit_id))[0])
        mine = self.peers_of(unit_id)
        peers = [(str(n), float(p)) for n, p in zip(mine["peer_name"], mine["peer_ppe"], strict=True)]
        view = dataclasses.replace(
            self.view, focus_unit=j, peers=peers or None, peer_median=row["peer_median"] if peers else None
        )
        return charts(view)

    def district_units(self) -> pl.DataFrame:
        """The focus district's units (every unit without a focus district): the pool by PPE, highest first,
        then those left out, then those excluded."""
        frame = self.schools.filter(pl.col("in_focus_district")) if self.focus_district else self.schools
        order = pl.col("status").replace_strict({"in pool": 0, "left out": 1, "excluded": 2}, return_dtype=pl.Int8)
        return frame.sort([order, pl.col("ppe"), pl.col("id")], descending=[False, True, False], nulls_last=True)


def _focus(spec: ReviewSpec, units: Units) -> tuple[str | None, str | None, int | None]:
    f = spec.model.focus
    if f is None:
        return None, None, None
    district = None if f.district is None else str(key_text(np.array([f.district], dtype=object))[0])
    unit = None if f.unit is None else str(key_text(np.array([f.unit], dtype=object))[0])
    problems = []
    for value, known, what, key in (
        (district, units.district, "district", "district"),
        (unit, units.ids, "unit", "unit"),
    ):
        if value is not None and value not in set(known.tolist()):
            near = difflib.get_close_matches(value, sorted(set(known.tolist())), n=1)
            problems.append(
                Problem(
                    "unknown_entity",
                    f"focus.{key} {value!r} is no {what} of the units' table",
                    value=value,
                    hint=f"did you mean {near[0]!r}?" if near else None,
                    **spec.where("focus", key),
                )
            )
    if problems:
        raise InputError(problems)
    index = None if unit is None else int(np.flatnonzero(units.ids == unit)[0])
    return district, unit, index


def _peers(spec: ReviewSpec, u: Units, ppe: np.ndarray, pool: np.ndarray) -> PeerResult | None:
    p = spec.model.peers
    if p is None:
        return None
    ready = pool & (u.peer_note == "")
    names = list(p.variables)
    z, scaling = standardise(
        {v: u.peer_values[v] for v in names}, {v: p.variables[v].scale == "log" for v in names}, ready, p.standardise
    )
    weights = np.array([p.variables[v].weight.value for v in names])
    k = int(p.k.value)
    idx, dist = nearest(
        z,
        weights,
        ready,
        k,
        types=u.type if p.type is not None else None,
        type_rule=p.type.rule if p.type is not None else None,
        penalty=p.type.penalty.value if p.type is not None and p.type.penalty is not None else 0.0,
        district=None if p.same_district else u.district,
    )
    count, median, pct, gap = peer_stats(ppe, idx)
    why = np.where(pool, u.peer_note, "").astype(object)
    why[ready & (count == 0)] = "no peers: no eligible unit"
    flag, text = flag_words(gap, p.flags.below.value, p.flags.above.value, why)
    flag[~pool] = ""
    return PeerResult(idx, dist, count, median, pct, gap, flag, text, scaling)


def _nulls(a: np.ndarray) -> pl.Series:
    return pl.Series(a, dtype=pl.Float64).fill_nan(None)


def run_school_review(
    spec: ReviewSpec | str | Path,
    tables: str | Path | Mapping[str, str | Path] | list[str],
    *,
    with_charts: bool = True,
) -> SchoolReview:
    """Run a review: ``spec`` (a loaded spec or its YAML file) over ``tables`` (the units' table's path,
    or table id -> path, or ``--data`` items). ``with_charts=False`` skips rendering the views."""
    if not isinstance(spec, ReviewSpec):
        spec = load_review_spec(spec)
    m = spec.model
    t = load_tables(spec, resolve_tables(spec, tables))
    u = read_units(t)
    focus_district, focus_unit, focus_index = _focus(spec, u)
    pool = u.pool
    if not pool.any():
        raise RunError(
            Problem(
                "empty_pool",
                f"no {m.unit.kind} is left to compare: {int((u.excluded != '').sum())} excluded, "
                f"{int((u.left_out != '').sum())} left out for missing values",
                file=spec.source,
                hint="check the exclusions and the `missing` setting (schools.csv lists every unit's reason)",
            )
        )
    n = u.n
    ppe = np.where(pool, u.ppe, np.nan)
    state = rank_within(ppe, pool)
    nowhere = (np.zeros(n, dtype=np.int64), np.full(n, np.nan), np.zeros(n, dtype=np.int64))
    district = rank_within(ppe, pool, u.district) if m.unit.district is not None else nowhere
    labels = {gid: g.label for gid, g in m.groups.items()}
    reference = next((gid for gid, g in m.groups.items() if g.reference), "")
    grows = group_rows(ppe[pool], u.enrollment[pool], u.group[pool], labels, reference) if labels else []
    fits: dict[str, Fit] = {}
    if m.high_needs is not None and (f := wls_fit(u.high_needs[pool], ppe[pool], u.enrollment[pool], "high_needs")):
        fits["high_needs"] = f
    medians: dict[str, float] = {}
    quad = np.full(n, "", dtype=object)
    if m.outcome is not None:
        if f := wls_fit(u.outcome[pool], ppe[pool], u.enrollment[pool], "outcome"):
            fits["outcome"] = f
        q = quadrants(ppe, u.outcome, pool)
        quad = q.label
        if q.n:
            medians = {"ppe": q.ppe_median, "outcome": q.outcome_median}
    pr = _peers(spec, u, ppe, pool)
    in_district = u.district == focus_district if focus_district is not None else np.zeros(n, dtype=bool)
    status = np.where(u.excluded != "", "excluded", np.where(u.left_out != "", "left out", "in pool"))
    excl_label = np.array([m.exclude[x].label if x else "" for x in u.excluded], dtype=object)
    reason = np.where(u.excluded != "", excl_label, np.where(u.left_out != "", u.left_out, u.group_note))
    schools = pl.DataFrame(
        {
            "id": u.ids.astype(str), "name": u.names.astype(str), "district": u.district.astype(str),
            "district_name": u.district_name.astype(str), "type": u.type.astype(str),
            "grade_span": u.grade_span.astype(str), "enrollment": _nulls(u.enrollment),
            "high_needs_pct": _nulls(u.high_needs), "outcome": _nulls(u.outcome),
            "school_ppe": _nulls(np.where(status != "excluded", u.school_ppe, np.nan)),
            "central_ppe": _nulls(np.where(pool, u.central_ppe, np.nan)), "ppe": _nulls(ppe),
            "status": status.astype(str), "reason": reason.astype(str), "group": u.group.astype(str),
            "state_rank": state[0], "state_units": state[2], "state_percentile": _nulls(state[1]),
            "district_rank": district[0], "district_units": district[2], "district_percentile": _nulls(district[1]),
            "peers": pr.count if pr else nowhere[0], "peer_median": _nulls(pr.median if pr else np.full(n, np.nan)),
            "peer_percentile": _nulls(pr.percentile if pr else np.full(n, np.nan)),
            "gap_pct": _nulls(pr.gap_pct if pr else np.full(n, np.nan)),
            "flag": (pr.flag if pr else np.full(n, "", dtype=object)).astype(str),
            "flag_text": (pr.flag_text if pr else np.full(n, "", dtype=object)).astype(str),
            "quadrant": quad.astype(str), "focus": u.ids == focus_unit if focus_unit else np.zeros(n, dtype=bool),
            "in_focus_district": in_district, "row": u.rows.astype(np.int64),
        }
    ).with_columns(
        pl.when(pl.col(c) == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("state_rank", "state_units", "district_rank", "district_units")
    )  # fmt: skip
    peers = _peer_frame(u, pr, ppe)
    groups = pl.DataFrame(
        [dict(zip(GROUP_COLUMNS, (g.group, g.label, g.reference, g.units, g.enrollment, g.mean, g.weighted_mean,
                                  g.gap_pct, g.weighted_gap_pct), strict=True)) for g in grows],
        schema={"group": pl.String, "label": pl.String, "reference": pl.Boolean, "units": pl.Int64,
                "enrollment": pl.Float64, "mean_ppe": pl.Float64, "weighted_mean_ppe": pl.Float64,
                "gap_pct": pl.Float64, "weighted_gap_pct": pl.Float64},
    ).with_columns(pl.col(pl.Float64).fill_nan(None))  # fmt: skip
    svgs: dict[str, str] = {}
    view = None
    if with_charts:
        view = _view_data(spec, u, ppe, pool, in_district, focus_district, focus_index, fits, medians, pr)
        svgs = charts(view)
    return SchoolReview(
        spec, schools, peers, groups, svgs, fits, medians, focus_district, focus_unit,
        methods(spec, fits, medians), notes(spec, u, pr), u.sources, pr.scaling if pr else {}, view,
    )  # fmt: skip


def _peer_frame(u: Units, pr: PeerResult | None, ppe: np.ndarray) -> pl.DataFrame:
    schema = {c: pl.String for c in PEER_COLUMNS} | {"rank": pl.Int64, "distance": pl.Float64, "peer_ppe": pl.Float64}
    if pr is None:
        return pl.DataFrame(schema=schema)
    rows, ranks = np.nonzero(pr.index >= 0)
    j = pr.index[rows, ranks]
    return pl.DataFrame(
        {
            "id": u.ids[rows].astype(str), "rank": (ranks + 1).astype(np.int64), "peer_id": u.ids[j].astype(str),
            "peer_name": u.names[j].astype(str), "peer_district": u.district[j].astype(str),
            "peer_type": u.type[j].astype(str), "distance": pr.distance[rows, ranks], "peer_ppe": ppe[j],
        },
        schema=schema,
    )  # fmt: skip


def _view_data(
    spec: ReviewSpec,
    u: Units,
    ppe: np.ndarray,
    pool: np.ndarray,
    in_district: np.ndarray,
    focus_district: str | None,
    focus_index: int | None,
    fits: dict[str, Fit],
    medians: dict[str, float],
    pr: PeerResult | None,
) -> ViewData:
    m = spec.model
    peers = None
    peer_median = None
    if pr is not None and focus_index is not None and pr.count[focus_index] > 0:
        idx = pr.index[focus_index]
        peers = [(str(u.names[j]), float(ppe[j])) for j in idx[idx >= 0]]
        peer_median = float(pr.median[focus_index])
    district_label = None
    if focus_district is not None:
        names = [x for x in u.district_name[in_district] if x]
        district_label = names[0] if names else f"district {focus_district}"
    return ViewData(
        kind=m.unit.kind, ppe_label=m.spending.label, names=u.names, types=u.type if m.unit.type else None,
        ppe=ppe, enrollment=u.enrollment, high_needs=u.high_needs if m.high_needs else None,
        outcome=u.outcome if m.outcome else None, pool=pool, district=in_district, focus_unit=focus_index,
        district_label=district_label, high_needs_label=m.high_needs.label if m.high_needs else "",
        outcome_label=m.outcome.label if m.outcome else "", fits=fits,
        medians=(medians["ppe"], medians["outcome"]) if medians else None, peers=peers, peer_median=peer_median,
        group_labels=np.array([m.groups[g].label if g else "" for g in u.group], dtype=object) if m.groups else None,
        group_order=[g.label for g in m.groups.values()],
    )  # fmt: skip

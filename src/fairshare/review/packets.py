"""One meeting packet per school from a school spending review (``fairshare review packet``).

Each packet holds the school's figures (its per-pupil spending, its peers' median and the gap, its
share of high-needs pupils, its ranks), the district's schools arrayed with this one marked, the
views redrawn with this school as the focus, its similar schools statewide with the flag in words,
the group comparison, the district's allocation methodology (from its formula when one is given)
and the timed protocol of the 90-minute discussion.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl

from fairshare.report.html import number_text, plural
from fairshare.review.methodology import methodology_from_formula
from fairshare.review.packet import Packet, PacketChart, PacketSection, PacketTable, write_packet
from fairshare.review.schools import SchoolReview
from fairshare.review.schools_outputs import captions, percent_points, whole_dollars

__all__ = ["build_packet", "packet_units", "write_packets"]

_TITLES = {
    "array": "The district's schools arrayed",
    "ppe_vs_high_needs": "Spending against high needs",
    "ppe_vs_outcome": "Spending against outcomes",
    "quadrants": "Spending and outcomes: quadrants",
    "peers": "This school and its peers",
}


def _rank(r: Any, n: Any) -> str:
    return "—" if r is None else f"{r:,} of {n:,}"


def packet_units(review: SchoolReview) -> list[str]:
    """The units that get a packet by default: the focus district's units in the pool (or the focus unit)."""
    if review.focus_district is not None:
        rows = review.schools.filter(pl.col("in_focus_district") & (pl.col("status") == "in pool"))
        return rows.sort("ppe", "id", descending=[False, False])["id"].to_list()
    return [review.focus_unit] if review.focus_unit is not None else []


def _district_table(review: SchoolReview, unit_id: str) -> PacketTable | None:
    if review.focus_district is None:
        return None
    kind = review.spec.model.unit.kind
    rows = review.district_units().filter(pl.col("status") == "in pool")
    body = []
    highlight = []
    for k, r in enumerate(rows.iter_rows(named=True)):
        if r["id"] == unit_id:
            highlight.append(k)
        body.append(
            (
                r["name"],
                r["type"],
                "—" if r["enrollment"] is None else number_text(r["enrollment"]),
                percent_points(r["high_needs_pct"]),
                whole_dollars(r["ppe"]),
                percent_points(r["gap_pct"], signed=True),
            )
        )
    return PacketTable(
        f"Every {kind} of the district, highest spending first",
        (kind.capitalize(), "Type", "Enrollment", "High needs", "Per pupil", "Gap to peers"),
        tuple(body),
        numeric=(2, 3, 4, 5),
        highlight=tuple(highlight),
    )


def _peer_table(review: SchoolReview, unit_id: str, row: dict[str, Any]) -> PacketTable | None:
    mine = review.peers_of(unit_id)
    if mine.height == 0:
        return None
    info = review.schools.select("id", "district_name", "type", "enrollment", "high_needs_pct")
    peers = mine.join(info, left_on="peer_id", right_on="id", how="left").sort("rank")
    body = [(row["name"] + " (this school)", row["type"], number_text(row["enrollment"] or 0),
             percent_points(row["high_needs_pct"]), whole_dollars(row["ppe"]))]  # fmt: skip
    for r in peers.iter_rows(named=True):
        body.append(
            (
                f"{r['peer_name']} ({r['district_name'] or r['peer_district']})",
                r["type"],
                "—" if r["enrollment"] is None else number_text(r["enrollment"]),
                percent_points(r["high_needs_pct"]),
                whole_dollars(r["peer_ppe"]),
            )
        )
    p = review.spec.model.peers
    how = ""
    if p is not None:
        variables = ", ".join(f"{v} (weight {p.variables[v].weight.value:g})" for v in p.variables)
        how = f"Similarity: {variables}; {p.standardise.replace('_', '-')} standardised over the pool."
    return PacketTable(
        f"The {len(body) - 1} most similar {plural(review.spec.model.unit.kind)} statewide",
        ("School (district)", "Type", "Enrollment", "High needs", "Per pupil"),
        tuple(body),
        numeric=(2, 3, 4),
        highlight=(0,),
        note=how or None,
    )


def _group_table(review: SchoolReview) -> PacketTable | None:
    if review.groups.height == 0:
        return None
    body = tuple(
        (
            r["label"] + (" (reference)" if r["reference"] else ""),
            str(r["units"]),
            whole_dollars(r["mean_ppe"]),
            whole_dollars(r["weighted_mean_ppe"]),
            percent_points(r["gap_pct"], signed=True) if not r["reference"] else "",
        )
        for r in review.groups.iter_rows(named=True)
    )
    return PacketTable(
        "Per pupil by group, over the whole pool",
        ("Group", "Units", "Mean", "Enrollment-weighted mean", "Gap to reference"),
        body,
        numeric=(1, 2, 3, 4),
    )


def build_packet(
    review: SchoolReview, unit_id: str, *, formula: Path | None = None, date: dt.date | None = None
) -> Packet:
    """The packet of one unit of the review (its views redrawn with it as the focus)."""
    m = review.spec.model
    kind = m.unit.kind
    row = review.unit(unit_id)
    label = m.spending.label
    district = row["district_name"] or row["district"]
    figures = (
        (label, whole_dollars(row["ppe"])),
        ("Peers' median", whole_dollars(row["peer_median"])),
        ("Gap to peers", percent_points(row["gap_pct"], signed=True)),
        (m.high_needs.label if m.high_needs else "High needs", percent_points(row["high_needs_pct"])),
        ("Enrollment", "—" if row["enrollment"] is None else number_text(row["enrollment"])),
    )
    svgs = review.charts_for(unit_id)
    words = captions(review)
    titles = dict(_TITLES)
    titles["array"] = (
        f"The district's {plural(kind)} arrayed" if review.focus_district is not None else f"The {plural(kind)} arrayed"
    )
    charts = [PacketChart(titles.get(k, k), svg, words.get(k, "")) for k, svg in svgs.items()]
    rank = (
        f"{row['name']} ranks {_rank(row['state_rank'], row['state_units'])} statewide"
        + (f" and {_rank(row['district_rank'], row['district_units'])} in its district" if row["district_rank"] else "")
        + f" by {label.lower()} (1 = highest)."
    )
    sections = [
        PacketSection(
            f"Where the {kind} stands",
            (rank, *([row["flag_text"][:1].upper() + row["flag_text"][1:] + "."] if row["flag_text"] else [])),
            tuple(t for t in (_district_table(review, unit_id),) if t is not None),
            tuple(c for c in charts if c.title == titles["array"]),
        ),
        PacketSection(
            "Spending, need and outcomes",
            (),
            (),
            tuple(
                c
                for c in charts
                if c.title in (_TITLES["ppe_vs_high_needs"], _TITLES["ppe_vs_outcome"], _TITLES["quadrants"])
            ),
        ),
        PacketSection(
            f"Similar {plural(kind)} statewide",
            (),
            tuple(t for t in (_peer_table(review, unit_id, row),) if t is not None),
            tuple(c for c in charts if c.title == _TITLES["peers"]),
        ),
    ]
    groups = _group_table(review)
    if groups is not None:
        sections.append(PacketSection("Groups compared", (), (groups,)))
    sections.append(PacketSection("How these figures are made", (*review.methods, *review.notes)))
    methodology: tuple[str, ...] = ()
    method_tables: tuple[PacketTable, ...] = ()
    if formula is not None:
        paragraphs, lines, params = methodology_from_formula(formula, date or dt.date.today())
        methodology, method_tables = paragraphs, (lines, params)
    else:
        methodology = (
            "No formula was given with this packet: the district describes its resource allocation methodology "
            "at the meeting (block B of the protocol).",
        )
    return Packet(
        title=f"{row['name']}: resource allocation review",
        subtitle=f"{district} · {m.label}" if district else m.label,
        kicker="Resource allocation review · meeting packet",
        figures=figures,
        sections=tuple(sections),
        methodology=methodology,
        methodology_tables=method_tables,
        footer=f"fairshare · {m.label} · {kind} {unit_id}",
        sources=tuple(f"{s.table}: {s.path} (sha256 {s.sha256[:12]}…)" for s in review.sources),
    )


def _stem(unit_id: str) -> str:
    return "packet-" + (re.sub(r"[^A-Za-z0-9_.-]+", "_", unit_id) or "unit")


def write_packets(
    review: SchoolReview,
    unit_ids: list[str],
    out_dir: Path,
    *,
    formula: Path | None = None,
    date: dt.date | None = None,
) -> list[Path]:
    """``packet-<id>.html`` and ``packet-<id>.pdf`` for each unit, in ``out_dir``."""
    files: list[Path] = []
    for uid in unit_ids:
        files.extend(write_packet(build_packet(review, uid, formula=formula, date=date), out_dir, _stem(uid)))
    return files

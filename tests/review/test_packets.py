"""One meeting packet per school from a review: the school's figures, views redrawn for it, peers, method."""

from __future__ import annotations

import re
from pathlib import Path

from test_schools import BASE, _write
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.programs import DEMO_FORMULA
from fairshare.review.packet import render_html
from fairshare.review.packets import build_packet, packet_units
from fairshare.review.schools import SchoolReview, run_school_review


def _review(tmp_path: Path) -> SchoolReview:
    spec, table = _write(tmp_path, BASE)
    return run_school_review(spec, table)


def test_default_units_are_the_focus_district_lowest_spending_first(tmp_path: Path) -> None:
    review = _review(tmp_path)
    # District 1: Adams $10,000, Baker $9,000, Clark $11,000 per pupil (spending ÷ pupils)
    assert packet_units(review) == ["A2", "A1", "A3"]


def test_a_packet_has_the_school_its_peers_and_its_own_views(tmp_path: Path) -> None:
    review = _review(tmp_path)
    packet = build_packet(review, "A1")
    figures = dict(packet.figures)
    assert figures["Spending per pupil"] == "$10,000" and figures["High needs"] == "50.0 %"
    assert packet.title == "Adams: resource allocation review"
    headings = [s.heading for s in packet.sections]
    assert headings[:3] == ["Where the school stands", "Spending, need and outcomes", "Similar schools statewide"]
    district = packet.sections[0].tables[0]
    assert [r[0] for r in district.rows] == ["Clark", "Adams", "Baker"] and district.highlight == (1,)
    peers = packet.sections[2].tables[0]
    assert peers.rows[0][0] == "Adams (this school)" and len(peers.rows) == 3  # k = 2
    # the views are redrawn with this school as the focus: its peer chart names it, not the spec's focus (Baker)
    peer_chart = next(c for c in packet.sections[2].charts)
    assert 'aria-label="Spending per pupil of Adams and its peers' in peer_chart.svg
    assert 'aria-label="Spending per pupil of Baker and its peers' in review.charts["peers"]
    assert "No formula was given" in packet.methodology[0]
    html = render_html(packet)
    assert "Discussion protocol: 90 minutes" in html and "Adams (this school)" in html


def test_the_formula_is_the_methodology(tmp_path: Path) -> None:
    import datetime as dt

    packet = build_packet(_review(tmp_path), "A2", formula=DEMO_FORMULA, date=dt.date(2025, 7, 1))
    assert "Demo district student-based budget" in packet.methodology[0]
    assert [t.title for t in packet.methodology_tables] == ["The formula's lines", "Figures in force and their sources"]


def test_cli_writes_html_and_pdf_per_school(tmp_path: Path) -> None:
    spec, table = _write(tmp_path, BASE)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["review", "packet", str(spec), "--data", str(table), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 packets" in result.output
    for uid in ("A1", "A2", "A3"):
        pdf = (out / f"packet-{uid}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-")
        pages = re.search(rb"/Count (\d+)", pdf)
        assert pages is not None and int(pages.group(1)) >= 2
        assert (out / f"packet-{uid}.html").is_file()
    bad = CliRunner().invoke(
        app, ["review", "packet", str(spec), "--data", str(table), "--unit", "ZZ", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 1 and "ZZ" in bad.output and not (tmp_path / "x").exists()

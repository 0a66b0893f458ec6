"""One meeting packet per school from a review: the school's figures, views redrawn for it, peers, method."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from test_schools import BASE, TABLE, _write
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import FormulaError
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


def test_a_rows_condition_keeps_one_year(tmp_path: Path) -> None:
    """A table with one row per school and year: `rows:` keeps the year reviewed (row numbers as in the file)."""
    spec = copy.deepcopy(BASE)
    spec["tables"]["schools"]["columns"]["year"] = {"type": "integer"}
    spec["tables"]["schools"]["rows"] = "year == 2025"
    header, *rows = TABLE.strip().splitlines()
    table = "\n".join([header + ",year", *(r + ",2024" for r in rows), *(r + ",2025" for r in rows)]) + "\n"
    spec_path, table_path = _write(tmp_path, spec, table)
    review = run_school_review(spec_path, table_path, with_charts=False)
    assert review.schools.height == len(rows)
    assert review.unit("A1")["row"] == len(rows) + 2  # the 2025 row: header is row 1, then 2024 rows
    spec["tables"]["schools"]["rows"] = "yeer == 2025"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(FormulaError) as exc:
        run_school_review(spec_path, table_path, with_charts=False)
    assert exc.value.code == "unknown_id" and "yeer" in str(exc.value) and exc.value.problems[0].line is not None

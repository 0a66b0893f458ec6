"""The review meeting packet: the 90-minute protocol, the data pages, HTML and a deterministic PDF."""

from __future__ import annotations

import re
from pathlib import Path

import altair as alt

from fairshare.report.charts import to_svg
from fairshare.review.packet import (
    AGENDA,
    Packet,
    PacketChart,
    PacketSection,
    PacketTable,
    render_html,
    render_pdf,
    write_packet,
)


def _packet() -> Packet:
    points = [{"x": i / 10, "y": 12000 + 400 * i} for i in range(10)]
    chart = alt.Chart(alt.InlineData(values=points)).mark_circle().encode(x="x:Q", y="y:Q")
    table = PacketTable(
        "Similar schools statewide",
        ("School", "PPE"),
        (("Lincoln Elementary", "$14,320"), ("Peer & Co. <one>", "$16,100")),
        numeric=(1,),
        highlight=(0,),
        note="Distance on % high needs and enrollment.",
    )
    return Packet(
        title="Lincoln Elementary: resource allocation review",
        subtitle="Demo district · 2024-25",
        kicker="Resource allocation review",
        figures=(("Per pupil", "$14,320"), ("Gap to peers", "-11.1 %")),
        sections=(
            PacketSection(
                "Spending and need",
                ("Each dot is a school.",),
                (table,),
                (PacketChart("PPE against need", str(to_svg(chart, "scatter")), "fitted line"),),
            ),
        ),
        methodology=("Weighted student funding: a base per pupil plus weights.",),
        footer="fairshare test",
    )


def test_the_protocol_is_ninety_minutes_in_six_blocks() -> None:
    assert sum(item.total for item in AGENDA) == 90
    blocks = {item.letter: item.total for item in AGENDA if item.letter}
    # questions on the data 10, methodology 10, level of resources 10, doing more 25, opportunities 15, next steps 15
    assert blocks == {"A": 10, "B": 10, "C": 10, "D": 25, "E": 15, "F": 15}
    assert all(len(item.prompts) == len(item.minutes) for item in AGENDA if item.letter)


def test_html_has_every_part_and_escapes_text() -> None:
    html = render_html(_packet())
    for text in (
        "Lincoln Elementary: resource allocation review",
        "Discussion protocol: 90 minutes",
        "<svg",
        "$14,320",
    ):
        assert text in html, text
    assert "The district&#39;s resource allocation methodology" in html or "The district's resource" in html
    assert "Peer &amp; Co. &lt;one&gt;" in html  # table text is escaped
    assert html.count('class="notes"') == len(AGENDA)
    assert "75–90 min" in html


def test_pdf_is_a_pdf_and_deterministic(tmp_path: Path) -> None:
    first = render_pdf(_packet())
    assert first.startswith(b"%PDF-") and first.rstrip().endswith(b"%%EOF")
    assert render_pdf(_packet()) == first  # no creation date, no random ids
    pages = re.search(rb"/Count (\d+)", first)
    assert pages is not None and int(pages.group(1)) >= 2  # the data pages, then the protocol on its own page
    html, pdf = write_packet(_packet(), tmp_path, "lincoln")
    assert html.name == "lincoln.html" and pdf.read_bytes() == first


def test_methodology_from_the_formula() -> None:
    import datetime as dt

    from fairshare.programs import DEMO_FORMULA
    from fairshare.review.methodology import methodology_from_formula
    from fairshare.rules import compile_formula, load_formula

    date = dt.date(2025, 7, 1)
    plan = compile_formula(load_formula(DEMO_FORMULA), date)
    paragraphs, lines, params = methodology_from_formula(DEMO_FORMULA, date)
    assert "fitted to the money available" in paragraphs[0] and "in force on 2025-07-01" in paragraphs[0]
    assert [r[0] for r in lines.rows] == [c.label for c in plan.components]
    by_label = {r[0]: r for r in lines.rows}
    assert by_label["English learners"][2] == "english_learners × base.per_pupil × weights.english_learner"
    assert by_label["Magnet school supplement"][2].endswith(" when magnet")
    assert len(params.rows) == len(plan.params) and all(r[2] for r in params.rows)  # every figure has its source
    assert params.rows[[r[0] for r in params.rows].index("Base amount per pupil")][:2] == (
        "Base amount per pupil",
        "$5,300",
    )

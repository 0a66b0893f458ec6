"""The review meeting packet: one school's data pages, the district's allocation methodology and the
timed agenda of the 90-minute discussion protocol, as HTML and as PDF.

A :class:`Packet` is plain content (figures, tables, charts as SVG, paragraphs); the review builds
one per school and this module lays it out twice: HTML through Jinja2 (charts inline), PDF through
ReportLab (charts converted to PNG by vl-convert, offline). Both are deterministic: the PDF carries
no creation date, so the same packet gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import vl_convert as vlc
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from fairshare.report.html import environment

__all__ = ["AGENDA", "AgendaItem", "Packet", "PacketChart", "PacketSection", "PacketTable", "write_packet"]

INK = colors.HexColor("#1b1f24")
ACCENT = colors.HexColor("#1f4e79")
RULE = colors.HexColor("#d0d7de")
WASH = colors.HexColor("#f6f8fa")


@dataclass(frozen=True)
class AgendaItem:
    letter: str
    title: str
    minutes: tuple[int, ...]
    prompts: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(self.minutes)


#: the discussion protocol of the state's resource allocation review (blocks A-F and their minutes);
#: the opening 5 minutes and the wording of the prompts are fairshare's
AGENDA: tuple[AgendaItem, ...] = (
    AgendaItem("", "Welcome, purpose and norms: a professional conversation, not an evaluation", (5,), ()),
    AgendaItem(
        "A",
        "Questions on the data",
        (5, 5),
        ("What questions do the data pages raise? What needs clarifying?", "What stands out, and what surprises?"),
    ),
    AgendaItem(
        "B",
        "The district's resource allocation methodology",
        (5, 3, 2),
        (
            "The district describes how dollars and positions reach this school.",
            "Clarifying questions.",
            "How does the methodology respond to student need?",
        ),
    ),
    AgendaItem(
        "C",
        "Reactions to the level of resources",
        (5, 5),
        ("Is the level of resources what the school's needs call for?", "How does it compare with similar schools?"),
    ),
    AgendaItem(
        "D",
        "How to do more for students, including the mix of resources",
        (10, 10, 5),
        (
            "Which uses of resources have moved outcomes here, and which have not?",
            "What mix of staff, time and programs would serve these students better?",
            "What could change within the current budget?",
        ),
    ),
    AgendaItem(
        "E",
        "Opportunities and barriers",
        (5, 5, 5),
        ("Opportunities.", "Barriers: policy, contracts, staffing, timing.", "Who can remove them?"),
    ),
    AgendaItem(
        "F",
        "Reflections and next steps",
        (5, 5, 5),
        ("What did we learn?", "Next steps, owners and dates.", "What data to bring next time?"),
    ),
)


@dataclass(frozen=True)
class PacketTable:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: columns (by index) aligned right: numbers
    numeric: tuple[int, ...] = ()
    note: str | None = None
    #: rows (by index) to emphasise, e.g. the school itself among its peers
    highlight: tuple[int, ...] = ()


@dataclass(frozen=True)
class PacketChart:
    title: str
    svg: str
    caption: str = ""


@dataclass(frozen=True)
class PacketSection:
    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[PacketTable, ...] = ()
    charts: tuple[PacketChart, ...] = ()


@dataclass(frozen=True)
class Packet:
    """Everything on one school's packet, already worded and formatted."""

    title: str
    subtitle: str
    kicker: str
    figures: tuple[tuple[str, str], ...]
    sections: tuple[PacketSection, ...]
    #: the district's resource allocation methodology (paragraphs), e.g. from its formula
    methodology: tuple[str, ...] = ()
    methodology_tables: tuple[PacketTable, ...] = ()
    agenda: tuple[AgendaItem, ...] = AGENDA
    footer: str = ""
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def minutes(self) -> int:
        return sum(item.total for item in self.agenda)


def render_html(packet: Packet) -> str:
    """The packet as one self-contained HTML document (charts inline as SVG, print styles for paper)."""
    return environment().get_template("packet.html.j2").render(p=packet)


# ------------------------------------------------------------------ PDF


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=9.5, leading=12.5)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#57606a")),
        "kicker": ParagraphStyle("kicker", parent=body, fontSize=8, textColor=ACCENT, fontName="Helvetica-Bold"),
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=22, fontName="Helvetica-Bold"),
        "h2": ParagraphStyle(
            "h2", parent=body, fontSize=12.5, leading=16, fontName="Helvetica-Bold", textColor=ACCENT, spaceBefore=8
        ),
        "h3": ParagraphStyle("h3", parent=body, fontSize=10.5, leading=13, fontName="Helvetica-Bold", spaceBefore=4),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "num": ParagraphStyle("num", parent=body, fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
        "figure_label": ParagraphStyle(
            "fl", parent=body, fontSize=7.5, leading=9, textColor=colors.HexColor("#57606a")
        ),
        "figure_value": ParagraphStyle("fv", parent=body, fontSize=13, leading=16, fontName="Helvetica-Bold"),
    }


def _table(t: PacketTable, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    head = [
        Paragraph(f"<b>{escape(c)}</b>", st["num"] if k in t.numeric else st["cell"]) for k, c in enumerate(t.columns)
    ]
    body = [
        [Paragraph(escape(v), st["num"] if k in t.numeric else st["cell"]) for k, v in enumerate(row)] for row in t.rows
    ]
    grid = Table([head, *body], repeatRows=1, colWidths=_widths(t, width))
    style: list[Any] = [
        ("LINEBELOW", (0, 0), (-1, 0), 1.2, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for r in t.highlight:
        style.append(("BACKGROUND", (0, r + 1), (-1, r + 1), colors.HexColor("#e8f0f8")))
    grid.setStyle(TableStyle(style))
    out: list[Flowable] = [Paragraph(escape(t.title), st["h3"]), grid]
    if t.note:
        out.append(Paragraph(escape(t.note), st["small"]))
    out.append(Spacer(1, 6))
    return out


def _widths(t: PacketTable, width: float) -> list[float]:
    """Column widths in proportion to their longest text (a cell, or a header's longest word), 8 to 40 characters."""
    longest = [max([max(len(w) for w in c.split()), *(len(r[k]) for r in t.rows)]) for k, c in enumerate(t.columns)]
    weights = [min(max(n, 8), 40) + 2 for n in longest]
    return [width * w / sum(weights) for w in weights]


def _chart(c: PacketChart, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    png = vlc.svg_to_png(c.svg, scale=2.0)
    img = Image(io.BytesIO(png))
    ratio = img.imageHeight / img.imageWidth
    w = min(width, img.imageWidth / 2.0)
    img.drawWidth, img.drawHeight = w, w * ratio
    out: list[Flowable] = [Paragraph(escape(c.title), st["h3"]), img]
    if c.caption:
        out.append(Paragraph(escape(c.caption), st["small"]))
    return [KeepTogether(out), Spacer(1, 6)]


def render_pdf(packet: Packet) -> bytes:
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=LETTER,
        leftMargin=0.7 * inch,
        rightMargin=0.7 * inch,
        topMargin=0.7 * inch,
        bottomMargin=0.7 * inch,
        title=packet.title,
        author="fairshare",
        invariant=1,
    )
    width = LETTER[0] - 1.4 * inch
    story: list[Flowable] = [
        Paragraph(escape(packet.kicker).upper(), st["kicker"]),
        Paragraph(escape(packet.title), st["title"]),
        Paragraph(escape(packet.subtitle), st["body"]),
        Spacer(1, 8),
    ]
    if packet.figures:
        cells = [[Paragraph(escape(label), st["figure_label"]) for label, _ in packet.figures]]
        cells.append([Paragraph(escape(value), st["figure_value"]) for _, value in packet.figures])
        figs = Table(cells, colWidths=[width / len(packet.figures)] * len(packet.figures))
        figs.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), WASH), ("BOX", (0, 0), (-1, -1), 0.5, RULE)]))
        story += [figs, Spacer(1, 8)]
    for section in packet.sections:
        story.append(Paragraph(escape(section.heading), st["h2"]))
        story += [Paragraph(escape(p), st["body"]) for p in section.paragraphs]
        for chart in section.charts:
            story += _chart(chart, st, width)
        for table in section.tables:
            story += _table(table, st, width)
    if packet.methodology or packet.methodology_tables:
        story.append(Paragraph("The district's resource allocation methodology", st["h2"]))
        story += [Paragraph(escape(p), st["body"]) for p in packet.methodology]
        for table in packet.methodology_tables:
            story += _table(table, st, width)
    story += [PageBreak(), *_agenda(packet, st, width)]
    if packet.sources:
        story.append(Paragraph("Sources", st["h3"]))
        story += [Paragraph(escape(s), st["small"]) for s in packet.sources]

    def footer(c: Canvas, doc_: Any) -> None:
        c.saveState()
        c.setFont("Helvetica", 7.5)
        c.setFillColor(colors.HexColor("#57606a"))
        c.drawString(0.7 * inch, 0.45 * inch, packet.footer)
        c.drawRightString(LETTER[0] - 0.7 * inch, 0.45 * inch, f"page {doc_.page}")
        c.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _agenda(packet: Packet, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    out: list[Flowable] = [
        Paragraph(f"Discussion protocol: {packet.minutes} minutes", st["h2"]),
        Paragraph(
            "State, district business leader and school leaders. Each block lists its steps with their minutes; "
            "the space on the right is for notes.",
            st["small"],
        ),
        Spacer(1, 4),
    ]
    clock = 0
    rows: list[list[Any]] = [
        [
            Paragraph("<b>Time</b>", st["cell"]),
            Paragraph("<b>Block</b>", st["cell"]),
            Paragraph("<b>Notes</b>", st["cell"]),
        ]
    ]
    for item in packet.agenda:
        start = clock
        clock += item.total
        steps = "".join(
            f"<br/>{m} min — {escape(prompt)}" for m, prompt in zip(item.minutes, item.prompts, strict=False)
        )
        label = f"<b>{item.letter + '. ' if item.letter else ''}{escape(item.title)}</b> ({item.total} min){steps}"
        rows.append([Paragraph(f"{start}–{clock} min", st["cell"]), Paragraph(label, st["cell"]), ""])
    grid = Table(rows, colWidths=[0.9 * inch, width * 0.55, width - 0.9 * inch - width * 0.55], repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("BOX", (2, 1), (2, -1), 0.25, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 14),
            ]
        )
    )
    out.append(grid)
    return out


def write_packet(packet: Packet, out_dir: Path, stem: str) -> tuple[Path, Path]:
    """``<stem>.html`` and ``<stem>.pdf`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html, pdf = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    html.write_text(render_html(packet), encoding="utf-8")
    pdf.write_bytes(render_pdf(packet))
    return html, pdf

"""Budget letters: the right numbers, from the trace, exactly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape

from fairshare.programs.positions import starter_budget
from fairshare.report import render_letter, write_letters
from fairshare.report.charts import need_scatter
from fairshare.report.html import fiscal_year_label, fte_text, letter_file_names, money, percent_text, signed_money
from fairshare.report.letters import _condition_phrase, role_cost
from fairshare.rules import Run, trace_entity
from fairshare.rules.money import to_cents
from fairshare.rules.trace import EntityTrace, InputRead, LineTrace


def _line(trace: EntityTrace, cid: str) -> LineTrace:
    return next(line for line in trace.lines if line.component == cid)


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end, html.index(start))]


def _entity(run: Run, *, prior: bool, engagement: bool) -> int:
    for i in range(run.table.n):
        t = trace_entity(run, i)
        if (t.prior_total_cents is not None) == prior and _line(t, "engagement_specialist").eligible == engagement:
            return i
    raise AssertionError("no such entity in the synthetic district")


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "$0.00"),
        (5, "$0.05"),
        (-5, "-$0.05"),
        (123456, "$1,234.56"),
        (-100, "-$1.00"),
        (19_000_000_000, "$190,000,000.00"),
        (10**17 + 1, "$1,000,000,000,000,000.01"),
        (np.int64(427199056), "$4,271,990.56"),
    ],
)
def test_money_is_exact(cents: int, text: str) -> None:
    assert money(cents) == text


def test_signed_money_and_percent() -> None:
    assert signed_money(1200) == "+$12.00"
    assert signed_money(-350) == "-$3.50"
    assert signed_money(0) == "$0.00"
    assert percent_text(-0.04921, signed=True) == "-4.9 %"
    assert percent_text(0.0871, signed=True) == "+8.7 %"
    assert percent_text(-0.00001, signed=True) == "0.0 %"


@pytest.mark.parametrize(
    ("date", "label"),
    [
        (dt.date(2025, 7, 1), "FY 2026 (2025-26)"),
        ("2025-07-01", "FY 2026 (2025-26)"),
        (dt.date(2026, 3, 15), "FY 2026 (2025-26)"),
        (dt.date(1999, 7, 1), "FY 2000 (1999-00)"),
    ],
)
def test_fiscal_year_label(date: dt.date | str, label: str) -> None:
    assert fiscal_year_label(date) == label


def test_letter_file_names_are_safe_and_unique() -> None:
    ids = ["S001", "a/b", "a_b", "../etc/passwd", "S1", "s1", "", "..", "école 5"]
    names = letter_file_names(ids)
    assert names[0] == "S001" and names[2] == "a_b" and names[4] == "S1"
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", n) and n.strip(".") for n in names)
    assert len({n.casefold() for n in names}) == len(ids)
    assert letter_file_names(ids) == names


def test_opening_and_lines(run: Run) -> None:
    i = _entity(run, prior=True, engagement=False)
    t = trace_entity(run, i)
    html = render_letter(t, district="Demo district")
    assert f"Your school's budget for FY 2026 (2025-26) is <strong>{money(t.total_cents)}</strong>" in html
    assert f"for <strong>{round(t.pupils):,}</strong> pupils" in html
    assert t.per_pupil_cents is not None and f"<strong>{money(t.per_pupil_cents)}</strong> per pupil" in html
    assert money(t.total_cents) == money(int(run.total_cents[i]))
    el = _line(t, "english_learner_weight")
    # the EL line is count × weight × solved base, to the cent, and the letter shows the trace's arithmetic
    count = float(run.table.columns["english_learners"][i])
    assert el.amount_cents == int(to_cents(count * 0.25 * run.solved["base.per_pupil"]))
    built = _section(html, "How your budget was built", "Not in your budget this year")
    row = _section(built, f'<th scope="row">{el.label}</th>', "</tr>")
    assert f'<div class="calc">{escape(el.numeric)}</div>' in row
    assert el.numeric.startswith(f"{count:,.0f} × 0.25 × $")
    assert f'<td class="num">{money(el.amount_cents)}</td>' in row
    assert f"<em>Policy:</em> {escape(el.policy)}" in row
    assert "§ 4, weight table" in el.policy
    # every line with money has a row, and the rows add up to the total
    for line in t.lines:
        if line.amount_cents:
            assert f'<th scope="row">{escape(line.label)}</th>' in built
    assert sum(line.amount_cents for line in t.lines) == t.total_cents
    assert f'Total budget</th><td class="num">{money(t.total_cents)}</td>' in built


def test_notes_are_shown(run: Run) -> None:
    t = trace_entity(run, 0)
    html = render_letter(t)
    for line in t.lines:
        if line.amount_cents:
            for note in line.notes:
                assert str(escape(note)) in html
    solved_note = next(n for n in _line(t, "english_learner_weight").notes if "solved" in n)
    assert html.count(str(escape(solved_note))) == 1  # shared notes are numbered once


def test_ineligible_lines_listed_with_condition(run: Run) -> None:
    i = _entity(run, prior=True, engagement=False)
    t = trace_entity(run, i)
    html = render_letter(t)
    absent = _section(html, "Not in your budget this year", "Positions in your starter budget")
    for line in t.lines:
        if not line.eligible:
            assert f"<strong>{escape(line.label)}</strong>: not eligible" in absent
    spec = _line(t, "engagement_specialist")
    assert not spec.eligible and spec.condition is not None
    assert "only the 15 schools with the highest share of pupils chronically absent (here " in absent
    assert str(escape(f"the condition {spec.condition} does not hold")) in absent


def test_positions_discretionary_and_teachers(run: Run) -> None:
    i = _entity(run, prior=True, engagement=True)
    t = trace_entity(run, i)
    cost = role_cost(run, "teacher", i)
    assert cost == pytest.approx(79500 * 1.32)
    html = render_letter(t, teacher_cost=cost)
    positions = _section(html, "Positions in your starter budget", "Discretionary dollars")
    sb = starter_budget(run, i)
    fte = sum(p.fte for p in sb.positions)
    assert fte == sum(line.fte or 0.0 for line in t.lines if line.role)
    assert f'Total positions</th><td class="num">{fte_text(fte)}</td>' in positions
    assert f'<td class="num">{money(sb.positions_cents)}</td>' in positions
    for p in sb.positions:
        status = "locked" if p.locked else "tradeable"
        assert (
            f'<th scope="row">{escape(p.label)}</th><td class="num">{fte_text(p.fte)}</td>'
            f'<td class="num">{money(p.unit_cost_cents)}</td><td class="num">{money(p.cents)}</td>'
            f"<td>{status}</td>"
        ) in positions
    assert "Student engagement specialist" in positions
    rest = _section(html, "Discretionary dollars", "Change from last year</h2>")
    assert f"= <strong>{money(sb.discretionary_cents)}</strong>" in rest
    teachers = sb.discretionary_cents / int(to_cents(79500 * 1.32))
    assert f"equivalent to <strong>{teachers:,.1f}</strong> classroom teachers at $104,940.00 per FTE" in rest


def test_change_from_last_year(run: Run) -> None:
    i = _entity(run, prior=True, engagement=False)
    t = trace_entity(run, i)
    assert t.prior_total_cents is not None
    prior_dollars = float(run.table.columns["prior_year_total"][i])
    assert t.prior_total_cents == round(prior_dollars * 100)
    delta = t.total_cents - t.prior_total_cents
    html = render_letter(t)
    change = html[html.index("Change from last year</h2>") :]
    assert f"Last year's budget was {money(t.prior_total_cents)}" in change
    assert signed_money(delta) in change
    assert f"({percent_text(delta / t.prior_total_cents, signed=True)})" in change


def test_no_prior_is_not_a_change_from_zero(run: Run) -> None:
    i = _entity(run, prior=False, engagement=False)
    t = trace_entity(run, i)
    html = render_letter(t)
    change = html[html.index("Change from last year</h2>") :]
    assert "(new or no prior), so no change is shown" in change
    assert signed_money(t.total_cents) not in html
    absent = _section(html, "Not in your budget this year", "Positions in your starter budget")
    assert "Transition protection (hold harmless)</strong>: not eligible — no prior-year amount" in absent


def test_footer(run: Run) -> None:
    t = trace_entity(run, 0)
    html = render_letter(t)
    footer = html[html.index('<footer class="doc">') :]
    assert f"<code>{run.plan.hash[:12]}</code>" in footer
    assert "2025-07-01, FY 2026 (2025-26)" in footer
    assert "rounded to whole cents half away from zero" in footer
    assert "All amounts in US dollars; cents are exact." in footer
    assert run.plan.formula.label in footer


def test_text_from_data_is_escaped(run: Run) -> None:
    t = dataclasses.replace(trace_entity(run, 0), name="<script>alert(1)</script> & Co")
    html = render_letter(t)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_self_contained(run: Run) -> None:
    html = render_letter(trace_entity(run, 0))
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"(src|href)=\"?(https?:)?//", html)
    assert "@media print" in html


def test_write_letters_every_entity_byte_identical(run: Run, tmp_path: Path) -> None:
    first = write_letters(run, tmp_path / "a")
    second = write_letters(run, tmp_path / "b")
    assert [p.name for p in first] == [f"{i}.html" for i in run.table.ids]
    assert all(p.parent == tmp_path / "a" / "letters" for p in first)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    for i in (0, run.table.n - 1):
        assert f"<h1>{escape(str(run.table.names[i]))}</h1>" in first[i].read_text(encoding="utf-8")


def _ineligible(condition: str, inputs: tuple[InputRead, ...]) -> LineTrace:
    return LineTrace(
        "extra",
        "Extra help",
        "supplement",
        0,
        False,
        condition,
        "not eligible",
        f"the condition {condition} does not hold",
        (),
        "policy",
        (),
        inputs,
    )


@pytest.mark.parametrize(
    ("condition", "phrase"),
    [
        ("rank(poverty_rate) <= 3", "only the 3 LEAs with the lowest poverty rate (here 12.5 %)"),
        ("rank(poverty_rate, descending=true) < 11", "only the 10 LEAs with the highest poverty rate (here 12.5 %)"),
        ("poverty_rate > 0.2 and rural", "only where the condition holds (here poverty rate is 12.5 %; Rural is no)"),
    ],
)
def test_condition_phrases(condition: str, phrase: str) -> None:
    inputs = (
        InputRead("poverty_rate", "poverty rate", "share", 0.125, "variable", "poor / pupils"),
        InputRead("rural", "Rural", "flag", False, "input"),
    )
    assert _condition_phrase(_ineligible(condition, inputs), "LEA") == phrase


def test_svg_is_the_same_in_a_fresh_process() -> None:
    points = [{"need": 0.1 * k, "per_pupil": 9000 + 37 * k} for k in range(9)]
    code = (
        "import json, sys; from fairshare.report.charts import need_scatter; "
        "sys.stdout.write(need_scatter(json.loads(sys.argv[1]), 's'))"
    )
    here = str(need_scatter(points, "s"))
    there = subprocess.run(
        [sys.executable, "-c", code, json.dumps(points)], capture_output=True, text=True, check=True
    ).stdout
    assert here.startswith('<svg role="img" aria-label=') and here == there

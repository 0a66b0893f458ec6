"""The district overview: every entity, headline figures, charts as inline SVG, honest change."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from markupsafe import escape

from conftest import MakeRun
from fairshare.report import render_report, write_report
from fairshare.report.html import letter_file_names, money, signed_money
from fairshare.rules import Run


def _prior(run: Run) -> np.ndarray:
    return np.asarray(run.table.columns["prior_year_total"], dtype=float)


def test_every_entity_with_its_letter_link(run: Run) -> None:
    html = render_report(run)
    table = html[html.index("<h2>All schools</h2>") :]
    for i, stem in enumerate(letter_file_names(list(run.table.ids))):
        name = escape(str(run.table.names[i]))
        assert f'<td><code>{run.table.ids[i]}</code></td><td><a href="letters/{stem}.html">{name}</a></td>' in table
        assert f'<td class="num">{money(int(run.total_cents[i]))}</td>' in table
    assert table.count("<tr><td><code>") == run.table.n


def test_headline_and_components(run: Run) -> None:
    html = render_report(run, district="Demo district")
    total = int(run.total_cents.sum())
    assert run.budget_cents == total
    assert f'<div class="label">Total allocated</div><div class="value">{money(total)}</div>' in html
    assert f'<div class="label">Schools</div><div class="value">{run.table.n}</div>' in html
    assert "Base amount per pupil</strong> (<code>base.per_pupil</code>) was solved" in html
    assert "(planning value $5,300)" in html
    comps = html[html.index("<h2>Summary by component</h2>") : html.index("<h2>Model against")]
    for j in range(len(run.lines)):
        col = run.cents[:, j]
        assert (
            f'<td class="num">{money(int(col.sum()))}</td>'
            f'<td class="num">{100 * int(col.sum()) / total:.1f} %</td>'
            f'<td class="num">{np.count_nonzero(col)}</td>'
        ) in comps
    assert "Demo district · District overview · FY 2026 (2025-26)" in html


def test_charts_are_inline_svg(run: Run) -> None:
    html = render_report(run)
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    assert len(svgs) == 4  # model vs prior, both against need, per pupil and need, changes
    against = html[html.index("<h2>Model against last year&#39;s school budget</h2>") : html.index("<h2>Per pupil")]
    assert "Model funding per pupil (US dollars)" in against and "Funding per pupil (US dollars)" in against
    need = html[html.index("<h2>Per pupil and need</h2>") : html.index("<h2>Change against")]
    assert "<svg" in need and "Share of high-need pupils (%)" in need and "Budget per pupil (US dollars)" in need
    assert "Fitted straight line (least squares): about $" in need
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"(src|href)=\"?(https?:)?//", html)


def test_no_prior_is_listed_separately(run: Run) -> None:
    html = render_report(run)
    prior = _prior(run)
    missing = np.flatnonzero(np.isnan(prior))
    assert missing.size  # the synthetic district has new schools
    changes = html[
        html.index("<h2>Change against last year&#39;s school budget</h2>") : html.index("<h2>All schools</h2>")
    ]
    new = changes[changes.index("<h3>New/no prior</h3>") :]
    for i in missing:
        assert f'{escape(str(run.table.names[i]))}</a> <span class="small muted">{run.table.ids[i]}</span>' in new
    have = ~np.isnan(prior)
    delta = run.total_cents[have] - np.round(prior[have] * 100).astype(np.int64)
    assert f'<th scope="row">Gaining</th><td class="num">{int((delta > 0).sum())}</td>' in changes
    assert f'<th scope="row">Losing</th><td class="num">{int((delta < 0).sum())}</td>' in changes
    assert f'<th scope="row">New/no prior</th><td class="num">{missing.size}</td>' in changes
    assert f"Net change {signed_money(int(delta.sum()))}." in changes
    rows = html[html.index("<h2>All schools</h2>") :]
    assert rows.count("new/no prior</td>") == missing.size


def test_report_without_need_share_or_prior(make_run: MakeRun) -> None:
    run = make_run(drop=("  need_share: high_need_share\n", "  prior_total: prior_year_total\n"))
    html = render_report(run)
    assert "Per pupil and need" not in html
    assert "The formula names no prior-year column, so no change is shown." in html
    assert "<svg" not in html


def test_write_report_byte_identical(run: Run, tmp_path: Path) -> None:
    a = write_report(run, tmp_path / "a" / "report.html")
    b = write_report(run, tmp_path / "b" / "report.html")
    assert a.read_bytes() == b.read_bytes()

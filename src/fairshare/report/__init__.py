"""Renderers over a run: budget letters and the district overview (HTML), and the workbook (XLSX).

    from fairshare.report import write_letters, write_report, write_workbook
    write_letters(run, out_dir)              # out_dir/letters/<entity_id>.html
    write_report(run, out_dir / "report.html")
    write_workbook(run, out_dir / "budgets.xlsx")

Every output is self-contained (no network, no JavaScript) and byte-identical
for identical input. Money is shown from integer cents, never through float
(:func:`fairshare.report.html.money`).
"""

from fairshare.report.letters import render_letter, write_letters
from fairshare.report.overview import render_report, write_report
from fairshare.report.xlsx import write_workbook

__all__ = ["render_letter", "render_report", "write_letters", "write_report", "write_workbook"]

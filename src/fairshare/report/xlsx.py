"""The run as an Excel workbook: Summary, Budgets, Positions, Parameters.

Money cells are numbers (whole cents ÷ 100, which Excel stores and shows to
the cent) with a currency format, so the sheet sums like the run. Strings are
never read as formulas or links (an entity name starting with "=" stays text).
The file is byte-identical for identical input: the document's creation time is
the run date, and XlsxWriter fixes the zip timestamps.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

from fairshare import __version__
from fairshare.programs.positions import starter_budget
from fairshare.report.html import fiscal_year_label
from fairshare.rules.evaluate import Run
from fairshare.rules.money import ROUNDING_RULE

__all__ = ["new_workbook", "write_workbook"]

_MONEY = '"$"#,##0.00;-"$"#,##0.00'


class _Formats:
    def __init__(self, wb: Any):
        self.header = wb.add_format(
            {"bold": True, "text_wrap": True, "valign": "bottom", "bottom": 2, "bg_color": "#F2F4F7"}
        )
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.bold = wb.add_format({"bold": True})
        self.money = wb.add_format({"num_format": _MONEY})
        self.money_bold = wb.add_format({"num_format": _MONEY, "bold": True, "top": 1})
        self.pct = wb.add_format({"num_format": "0.0%"})
        self.pct_bold = wb.add_format({"num_format": "0.0%", "bold": True, "top": 1})
        self.int = wb.add_format({"num_format": "#,##0"})
        self.dec = wb.add_format({"num_format": "#,##0.0##"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.total = wb.add_format({"bold": True, "top": 1})


def _dollars(cents: int | np.integer) -> float:
    return int(cents) / 100


def _pupils_format(f: _Formats, pupils: np.ndarray) -> Any:
    return f.int if bool(np.all(np.mod(pupils, 1) == 0)) else f.dec


def _summary(wb: Any, f: _Formats, run: Run) -> None:
    ws = wb.add_worksheet("Summary")
    plan = run.plan
    total = int(run.total_cents.sum())
    pupils = run.pupils
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 42)
    ws.set_column(2, 5, 18)
    ws.write_string(0, 0, plan.formula.label, f.title)
    rows: list[tuple[str, Any, Any]] = [
        ("Formula id", plan.id, None),
        ("Formula hash", plan.hash, None),
        ("Run date", dt.datetime.combine(plan.date, dt.time()), f.date),
        ("Fiscal year", fiscal_year_label(plan.date), None),
        (f"Entities ({plan.formula.entity.kind})", run.table.n, f.int),
        ("Pupils", float(np.sum(pupils)), _pupils_format(f, pupils)),
        ("Budget", None if run.budget_cents is None else _dollars(run.budget_cents), f.money),
        ("Total allocated", _dollars(total), f.money),
    ]
    for pid, value in run.solved.items():
        p = plan.params[pid]
        rows.append((f"Solved: {p.label} ({pid})", value, None))
        rows.append((f"Planning value: {p.label}", p.value, None))
    rows.append(("Rounding rule", ROUNDING_RULE, f.wrap))
    rows.extend((f"Note {k + 1}", note, f.wrap) for k, note in enumerate(run.notes))
    rows.append(("Written by", f"fairshare {__version__}", None))
    r = 2
    for label, value, fmt in rows:
        ws.write_string(r, 0, label, f.bold)
        if value is None:
            ws.write_string(r, 1, "none")
        elif isinstance(value, dt.datetime):
            ws.write_datetime(r, 1, value, fmt)
        elif isinstance(value, str):
            ws.write_string(r, 1, value, fmt)
        else:
            ws.write_number(r, 1, value, fmt)
        r += 1
    r += 1
    ws.write_string(r, 0, "Totals by component", f.title)
    r += 1
    for c, head in enumerate(("Component", "Label", "Kind", "Amount", "Share of total", "Entities receiving it")):
        ws.write_string(r, c, head, f.header)
    for j, comp in enumerate(run.lines):
        r += 1
        amount = int(run.cents[:, j].sum())
        ws.write_string(r, 0, comp.id)
        ws.write_string(r, 1, comp.label)
        ws.write_string(r, 2, comp.kind)
        ws.write_number(r, 3, _dollars(amount), f.money)
        ws.write_number(r, 4, amount / total if total else 0.0, f.pct)
        ws.write_number(r, 5, int(np.count_nonzero(run.cents[:, j])), f.int)
    r += 1
    ws.write_string(r, 0, "Total", f.total)
    ws.write_string(r, 1, "", f.total)
    ws.write_string(r, 2, "", f.total)
    ws.write_number(r, 3, _dollars(total), f.money_bold)
    ws.write_number(r, 4, 1.0 if total else 0.0, f.pct_bold)
    ws.write_number(r, 5, run.table.n, f.total)


def _budgets(wb: Any, f: _Formats, run: Run) -> None:
    ws = wb.add_worksheet("Budgets")
    labels = [c.label for c in run.lines]
    heads = ["Entity id", "Name", "Pupils", *labels, "Total", "Per pupil", "Last year", "Change", "Change %"]
    carved = [sa.alternative_to is None for sa in run.plan.set_asides]
    for sa in run.plan.set_asides:
        heads += [sa.label + ("" if sa.alternative_to is None else " (proposal)"), "Share of total"]
    if any(carved):
        heads.append("After set-asides")
    for c, head in enumerate(heads):
        ws.write_string(0, c, head, f.header)
    ws.set_row(0, 48)
    prior = run.prior_total_cents
    k = len(labels)
    pupils, totals, pp = run.pupils, run.total_cents, run.per_pupil_cents
    pfmt = _pupils_format(f, pupils)
    for i in range(run.table.n):
        r = i + 1
        ws.write_string(r, 0, str(run.table.ids[i]))
        ws.write_string(r, 1, str(run.table.names[i]))
        ws.write_number(r, 2, float(pupils[i]), pfmt)
        for j in range(k):
            ws.write_number(r, 3 + j, _dollars(run.cents[i, j]), f.money)
        ws.write_number(r, 3 + k, _dollars(totals[i]), f.money)
        if pp[i] >= 0:
            ws.write_number(r, 4 + k, _dollars(pp[i]), f.money)
        if prior is not None and prior[i] >= 0:
            delta = int(totals[i]) - int(prior[i])
            ws.write_number(r, 5 + k, _dollars(prior[i]), f.money)
            ws.write_number(r, 6 + k, _dollars(delta), f.money)
            if prior[i] > 0:
                ws.write_number(r, 7 + k, delta / int(prior[i]), f.pct)
        col, left = 8 + k, int(totals[i])
        for m, cents in enumerate(run.set_aside_cents):
            ws.write_number(r, col, _dollars(cents[i]), f.money)
            if totals[i] > 0:
                ws.write_number(r, col + 1, int(cents[i]) / int(totals[i]), f.pct)
            left -= int(cents[i]) if carved[m] else 0
            col += 2
        if any(carved):
            ws.write_number(r, col, _dollars(left), f.money)
    names = [len(str(x)) for x in run.table.names]
    ws.set_column(0, 0, max(10, *(len(str(x)) + 2 for x in run.table.ids)) if run.table.n else 10)
    ws.set_column(1, 1, min(44, max(12, *(n + 2 for n in names))) if names else 12)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3 + k + 3, 16)
    ws.set_column(7 + k, 7 + k, 10)
    if run.plan.set_asides:
        ws.set_column(8 + k, len(heads) - 1, 16)
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, max(run.table.n, 1), len(heads) - 1)


def _positions(wb: Any, f: _Formats, run: Run) -> None:
    ws = wb.add_worksheet("Positions")
    heads = ["Entity id", "Name", "Role", "Role id", "FTE", "Cost per FTE (salary incl. benefits)", "Amount", "Locked"]
    for c, head in enumerate(heads):
        ws.write_string(0, c, head, f.header)
    ws.set_row(0, 32)
    r = 0
    for i in range(run.table.n):
        for pos in starter_budget(run, i).positions:
            r += 1
            ws.write_string(r, 0, str(run.table.ids[i]))
            ws.write_string(r, 1, str(run.table.names[i]))
            ws.write_string(r, 2, pos.label)
            ws.write_string(r, 3, pos.role)
            ws.write_number(r, 4, pos.fte, f.dec)
            ws.write_number(r, 5, _dollars(pos.unit_cost_cents), f.money)
            ws.write_number(r, 6, _dollars(pos.cents), f.money)
            ws.write_string(r, 7, "locked" if pos.locked else "tradeable")
    ws.set_column(0, 0, 10)
    ws.set_column(1, 2, 36)
    ws.set_column(3, 3, 22)
    ws.set_column(4, 4, 8)
    ws.set_column(5, 6, 16)
    ws.set_column(7, 7, 10)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r, 1), len(heads) - 1)


def _parameters(wb: Any, f: _Formats, run: Run) -> None:
    ws = wb.add_worksheet("Parameters")
    heads = [
        "Parameter id",
        "Label",
        "Unit",
        "Value in this run",
        "Planning value (solved only)",
        "Effective date",
        "Reference",
        "Link",
    ]
    for c, head in enumerate(heads):
        ws.write_string(0, c, head, f.header)
    ws.set_row(0, 32)
    plan = run.plan
    for r, (pid, p) in enumerate(sorted(plan.params.items()), start=1):
        ws.write_string(r, 0, pid)
        ws.write_string(r, 1, p.label)
        ws.write_string(r, 2, p.unit)
        ws.write_number(r, 3, float(run.solved.get(pid, p.value)))
        if pid in run.solved:
            ws.write_number(r, 4, p.value)
        ws.write_datetime(r, 5, dt.datetime.combine(p.effective, dt.time()), f.date)
        ws.write_string(r, 6, p.reference.cite())
        if p.reference.link:
            ws.write_string(r, 7, p.reference.link)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 50)
    ws.set_column(2, 2, 14)
    ws.set_column(3, 4, 16)
    ws.set_column(5, 5, 12)
    ws.set_column(6, 6, 70)
    ws.set_column(7, 7, 30)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(plan.params), 1), len(heads) - 1)


def new_workbook(path: Path) -> Any:
    """An XlsxWriter workbook that writes text as text (no numbers, formulas or links guessed from it)."""
    return xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )


def write_workbook(run: Run, path: Path) -> Path:
    """Write the run's workbook to ``path``; identical runs give identical bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = new_workbook(path)
    plan = run.plan
    wb.set_properties(
        {
            "title": f"{plan.formula.label}, {fiscal_year_label(plan.date)}",
            "subject": "School budgets",
            "author": "fairshare",
            "comments": f"formula {plan.id}, plan hash {plan.hash}, run date {plan.date.isoformat()}",
            "created": dt.datetime.combine(plan.date, dt.time()),
        }
    )
    f = _Formats(wb)
    _summary(wb, f, run)
    _budgets(wb, f, run)
    _positions(wb, f, run)
    _parameters(wb, f, run)
    wb.close()
    return path

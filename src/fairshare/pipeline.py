"""The allocate flow as library calls: formula file + data file -> run -> output files.

The CLI, tests and (later) the web app call these; none of them re-implements the flow.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fairshare.io import fiscal_year_of, load_entities, select_year
from fairshare.report import write_letters, write_report, write_workbook
from fairshare.report.outputs import write_allocations_csv, write_budgets_csv, write_manifest
from fairshare.rules import Run, compile_formula, evaluate, load_formula
from fairshare.rules.plan import Plan

__all__ = ["allocate", "load_plan", "write_outputs"]


def load_plan(formula_path: str | Path, date: dt.date) -> Plan:
    return compile_formula(load_formula(formula_path), date)


def allocate(formula_path: str | Path, data_path: str | Path, date: dt.date) -> Run:
    """Load, validate and evaluate. Raises FairshareError subclasses for user mistakes."""
    plan = load_plan(formula_path, date)
    table = select_year(load_entities(data_path, plan.formula), plan.formula, fiscal_year_of(date))
    return evaluate(plan, table)


def write_outputs(run: Run, out_dir: Path, formula_path: Path | None) -> list[Path]:
    """budgets.csv, allocations.csv, budgets.xlsx, letters/, report.html, then manifest.json over them all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    budgets, allocations = out_dir / "budgets.csv", out_dir / "allocations.csv"
    workbook, report = out_dir / "budgets.xlsx", out_dir / "report.html"
    write_budgets_csv(run, budgets)
    write_allocations_csv(run, allocations)
    write_workbook(run, workbook)
    letters = write_letters(run, out_dir)
    write_report(run, report)
    outputs = [budgets, allocations, workbook, report, *letters]
    manifest = write_manifest(run, formula_path, outputs, out_dir)
    return [*outputs, manifest]

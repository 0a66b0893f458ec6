"""`fairshare demo`: the whole flow on a synthetic district the project generates.

1. generate a SYNTHETIC district (seed 2026): a school table and one row per pupil;
2. aggregate the pupils to schools with DuckDB (`fairshare aggregate`);
3. allocate the demo student-based budget, fitted to the appropriation (`fairshare allocate`);
4. price a principal's position trade (`fairshare trade`).
The run date is fixed, so every run writes byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.console import Console

from fairshare.io import aggregate_students, write_table
from fairshare.pipeline import allocate, write_outputs
from fairshare.programs import DEMO_FORMULA, apply_trades, load_trade_requests, synthetic_schools, synthetic_students
from fairshare.rules.money import dollars_text

__all__ = ["DEMO_DATE", "DEMO_SEED", "TRADE_REQUESTS", "run_demo"]

DEMO_SEED = 2026
DEMO_DATE = dt.date(2025, 7, 1)
TRADE_REQUESTS = """\
# A principal's requested trades on the starter budget (synthetic demo).
requests:
  - entity: S001
    requested_by: Principal, Annie Fisher Elementary School
    trades:
      - {role: assistant_principal, fte: -1.0, note: "share one AP with the feeder school"}
      - {role: teacher, fte: 1.4, note: "smaller grade 3 classes"}
"""


def generate(data_dir: Path) -> tuple[Path, Path]:
    """Write the synthetic school list and pupil rows; return their paths."""
    data_dir.mkdir(parents=True, exist_ok=True)
    schools = synthetic_schools(40, DEMO_SEED)
    students = synthetic_students(schools, DEMO_SEED)
    school_path, student_path = data_dir / "schools.csv", data_dir / "students.csv"
    schools.select("school_id", "school_name", "school_type", "magnet", "prior_year_total").write_csv(school_path)
    students.write_csv(student_path)
    return school_path, student_path


def run_demo(out_dir: Path, console: Console) -> None:
    data_dir = out_dir / "data"
    school_path, student_path = generate(data_dir)
    console.print(f"[bold]1.[/] Generated a synthetic district: {school_path} and {student_path}")
    agg = aggregate_students(student_path, school_path)
    table_path = data_dir / "school_table.csv"
    write_table(agg.frame, table_path)
    console.print(
        f"[bold]2.[/] Aggregated {agg.students_read:,} pupils into {agg.schools} schools with DuckDB: {table_path}"
    )
    run = allocate(DEMO_FORMULA, table_path, DEMO_DATE)
    files = write_outputs(run, out_dir, DEMO_FORMULA)
    solved = ", ".join(f"{pid} = ${v:,.2f}" for pid, v in run.solved.items())
    total = dollars_text(int(run.total_cents.sum()))
    console.print(
        f"[bold]3.[/] Allocated ${float(total):,.2f} to {run.table.n} schools "
        f"(budget fitted exactly; {solved}); wrote {len(files)} files"
    )
    requests_path = data_dir / "trade-requests.yaml"
    requests_path.write_text(TRADE_REQUESTS, encoding="utf-8")
    for req in load_trade_requests(requests_path):
        res = apply_trades(run, req, str(requests_path))
        changes = "; ".join(f"{t.fte_change:+g} FTE {t.label}" for t in res.lines)
        net = res.net_cost_cents
        effect = f"saves ${-net / 100:,.2f}" if net < 0 else f"costs ${net / 100:,.2f}"
        console.print(
            f"[bold]4.[/] Trade at {req.entity}: {changes} {effect}; discretionary dollars "
            f"${res.before.discretionary_cents / 100:,.2f} -> ${res.discretionary_after_cents / 100:,.2f}; "
            f"the school total is unchanged"
        )
    console.print(f"\nOpen the district report: [bold]{out_dir / 'report.html'}[/]")
    console.print(f"Budget letters: {out_dir / 'letters'}/<school id>.html; workbook: {out_dir / 'budgets.xlsx'}")

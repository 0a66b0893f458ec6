"""The command line: Typer commands over the library; errors printed, never tracebacks.

Every user mistake is a FairshareError: the CLI prints its problems (the first
rows in a table, all of them to a CSV it names when there are many) and exits
with status 1. Anything else is a bug and keeps its traceback, with locals hidden.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from fairshare import __version__
from fairshare.errors import FairshareError, InputError, Problem
from fairshare.rules.money import dollars_text

app = typer.Typer(
    name="fairshare",
    help="Equitable school resource allocation: formulas as cited data, explained budgets.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SHOWN_PROBLEMS = 20
T = TypeVar("T")

FormulaArg = Annotated[Path, typer.Argument(help="Formula file (YAML).", show_default=False)]
DataOpt = Annotated[Path, typer.Option("--data", "-d", help="Entity table: CSV, XLSX or Parquet.", show_default=False)]
DateOpt = Annotated[
    str | None,
    typer.Option("--date", help="Run date YYYY-MM-DD: picks the parameter values in force. Default: today."),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output directory.", show_default=False)]


def _money(cents: int) -> str:
    text = dollars_text(abs(cents))
    whole, frac = text.split(".")
    return f"{'-' if cents < 0 else ''}${int(whole):,}.{frac}"


def _date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FairshareError(
            Problem(
                "invalid_value",
                f"--date {text!r} is not a date in the form YYYY-MM-DD",
                value=text,
                hint="e.g. --date 2025-07-01",
            )
        ) from None


def report_problems(exc: FairshareError, problems_file: Path | None = None) -> None:
    problems = exc.problems
    counts: dict[str, int] = {}
    for p in problems:
        counts[p.code] = counts.get(p.code, 0) + 1
    summary = ", ".join(f"{n} {c}" for c, n in sorted(counts.items()))
    err.print(f"[bold red]error[/]: {len(problems)} problem{'s' if len(problems) != 1 else ''} ({summary})")
    tabular = isinstance(exc, InputError) or any(p.row is not None for p in problems)
    if tabular:
        t = Table(show_lines=False)
        for col in ("file", "row", "column", "value", "code", "problem"):
            t.add_column(col, overflow="fold")
        for p in problems[:SHOWN_PROBLEMS]:
            msg = p.message + (f" Fix: {p.hint}" if p.hint else "")
            t.add_row(
                p.file or "",
                "" if p.row is None else str(p.row),
                p.column or "",
                "" if p.value is None else str(p.value),
                p.code,
                msg,
            )
        err.print(t)
    else:
        for p in problems[:SHOWN_PROBLEMS]:
            err.print(f"  {p}", markup=False)
    if len(problems) > SHOWN_PROBLEMS:
        target = problems_file or Path("fairshare-problems.csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(problems[0].as_dict()))
            w.writeheader()
            for p in problems:
                w.writerow(p.as_dict())
        err.print(f"… and {len(problems) - SHOWN_PROBLEMS} more: every problem is listed in {target}")


def _guard(fn: Callable[[], T], problems_file: Path | None = None) -> T:
    try:
        return fn()
    except FairshareError as exc:
        report_problems(exc, problems_file)
        raise typer.Exit(1) from None


@app.command()
def validate(
    formula: FormulaArg,
    data: Annotated[Path | None, typer.Option("--data", "-d", help="Also check this table.")] = None,
    date: DateOpt = None,
) -> None:
    """Check a formula (schema, ids, cycles, values in force) and optionally a data table against its contract."""
    from fairshare.io import load_entities
    from fairshare.pipeline import load_plan

    def run() -> None:
        plan = load_plan(formula, _date(date))
        out.print(
            f"[green]ok[/] {formula}: formula [bold]{plan.id}[/], {len(plan.params)} parameters in force on "
            f"{plan.date.isoformat()}, {len(plan.inputs)} inputs, {len(plan.lines)} lines"
            + (f", solves {plan.scale.options['solve']}" if plan.scale is not None else "")
        )
        if data is not None:
            table = load_entities(data, plan.formula)
            out.print(
                f"[green]ok[/] {data}: {table.n} {plan.formula.entity.kind} rows meet the contract"
                + (f" (columns not used: {', '.join(table.unused_columns)})" if table.unused_columns else "")
            )

    _guard(run, None if data is None else Path("fairshare-problems.csv"))


@app.command()
def allocate(formula: FormulaArg, data: DataOpt, out_dir: OutOpt, date: DateOpt = None) -> None:
    """Run a formula over an entity table and write budgets, allocations, workbook, letters, report, manifest."""
    from fairshare.pipeline import allocate as run_allocate
    from fairshare.pipeline import write_outputs

    def go() -> None:
        run = run_allocate(formula, data, _date(date))
        files = write_outputs(run, out_dir, formula)
        _print_run(run, out_dir, files)

    _guard(go, out_dir / "problems.csv")


def _print_run(run: Any, out_dir: Path, files: list[Path]) -> None:
    plan = run.plan
    t = Table(
        title=f"{plan.formula.label} — {run.table.n} {plan.formula.entity.kind}s, run date {plan.date.isoformat()}"
    )
    t.add_column("component")
    t.add_column("label")
    t.add_column("amount", justify="right")
    for j, comp in enumerate(run.lines):
        t.add_row(comp.id, comp.label, _money(int(run.cents[:, j].sum())))
    t.add_row("[bold]total[/]", "", f"[bold]{_money(int(run.total_cents.sum()))}[/]")
    out.print(t)
    if run.budget_cents is not None:
        for pid, value in run.solved.items():
            out.print(
                f"Fitted to the budget {_money(run.budget_cents)} exactly: {plan.params[pid].label} "
                f"({pid}) solved at ${value:,.4f}"
            )
    for note in run.notes:
        out.print(f"[yellow]note[/]: {note}")
    letters = sum(1 for f in files if f.parent.name == "letters")
    out.print(
        f"Wrote {len(files)} files to {out_dir}/: budgets.csv, allocations.csv, budgets.xlsx, report.html, "
        f"manifest.json and {letters} letters in letters/"
    )


@app.command()
def explain(
    formula: FormulaArg,
    data: DataOpt,
    entity: Annotated[str, typer.Option("--entity", "-e", help="Entity id to explain.", show_default=False)],
    date: DateOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the trace as JSON.")] = False,
) -> None:
    """Show why one entity gets each amount: inputs, parameters with references, and the arithmetic."""
    from fairshare.pipeline import allocate as run_allocate
    from fairshare.rules.trace import trace_entity

    def go() -> None:
        run = run_allocate(formula, data, _date(date))
        i = run.table.index_of(entity)
        if i is None:
            raise FairshareError(
                Problem(
                    "unknown_entity",
                    f"entity {entity!r} is not in {data}",
                    file=str(data),
                    value=entity,
                    hint="use an id from the entity id column",
                )
            )
        trace = trace_entity(run, i)
        if as_json:
            out.print_json(json.dumps(trace.as_dict()))
            return
        _print_trace(trace)

    _guard(go)


def _print_trace(trace: Any) -> None:
    out.print(f"[bold]{trace.name}[/] ({trace.entity_id}) — {trace.formula_label}, run date {trace.date}")
    for line in trace.lines:
        if line.amount_cents == 0 and not line.eligible:
            out.print(f"  [dim]{line.label}: not eligible ({line.condition})[/]")
            continue
        out.print(f"  [bold]{line.label}[/] [cyan]{_money(line.amount_cents)}[/]")
        out.print(f"    = {line.symbolic}", markup=False)
        out.print(f"    = {line.numeric}", markup=False)
        for note in line.notes:
            out.print(f"    [dim]{note}[/]")
        for p in line.params:
            if p.solved:
                out.print(
                    f"    [dim]{p.id} = {p.value:,.4f} ({p.unit}), solved to fit the budget "
                    f"(planning value {p.planned:g} from {p.effective}: {p.citation})[/]"
                )
            else:
                out.print(f"    [dim]{p.id} = {p.value:g} ({p.unit}) from {p.effective}: {p.citation}[/]")
        out.print(f"    [italic]policy: {line.policy}[/]")
    pp = "" if trace.per_pupil_cents is None else f", {_money(trace.per_pupil_cents)} per pupil"
    out.print(f"[bold]Total {_money(trace.total_cents)}[/] for {trace.pupils:,.0f} pupils{pp}")
    if trace.prior_total_cents is not None:
        change = trace.total_cents - trace.prior_total_cents
        out.print(f"Last year {_money(trace.prior_total_cents)}; change {_money(change)}")
    for sa in trace.set_asides:
        what = f"proposed instead of {sa.alternative_to}, not carved out" if sa.alternative_to else "set aside"
        to = f", paid to {sa.paid_to}" if sa.paid_to else ""
        out.print(
            f"  [bold]{sa.label}[/] [cyan]{_money(sa.amount_cents)}[/] ({sa.share_pct}% of the total; {what}{to})"
        )
        out.print(f"    = {sa.rule}", markup=False)
        if sa.citation:
            out.print(f"    [dim]{sa.citation}[/]")


@app.command()
def compare(
    formula_a: Annotated[Path, typer.Argument(help="Formula A (the baseline).", show_default=False)],
    formula_b: Annotated[Path, typer.Argument(help="Formula B (the alternative).", show_default=False)],
    data: DataOpt,
    out_dir: OutOpt,
    date: DateOpt = None,
) -> None:
    """Per-entity differences between two formulas on the same data: winners, losers, by how much."""
    from fairshare.pipeline import allocate as run_allocate
    from fairshare.scenarios import compare_runs, write_comparison

    def go() -> None:
        d = _date(date)
        a, b = run_allocate(formula_a, data, d), run_allocate(formula_b, data, d)
        cmp = compare_runs(a, b, str(formula_a), str(formula_b))
        files = write_comparison(cmp, out_dir)
        s = cmp.summary()
        out.print(
            f"{s['entities_compared']} entities: {s['winners']} gain, {s['losers']} lose, "
            f"{s['unchanged']} unchanged. Total A ${float(s['total_a']):,.2f}, total B ${float(s['total_b']):,.2f}; "
            f"gains ${float(s['gained']):,.2f}, losses ${float(s['lost']):,.2f}."
        )
        if s["largest_gain"]:
            out.print(f"Largest gain: {s['largest_gain']['entity_id']} ${float(s['largest_gain']['change']):,.2f}")
        if s["largest_loss"]:
            out.print(f"Largest loss: {s['largest_loss']['entity_id']} ${float(s['largest_loss']['change']):,.2f}")
        out.print(f"Wrote {', '.join(str(f) for f in files)}")

    _guard(go)


@app.command()
def trade(
    formula: FormulaArg,
    data: DataOpt,
    requests: Annotated[
        Path, typer.Option("--requests", "-r", help="YAML file of principals' trade requests.", show_default=False)
    ],
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Write trades.csv here.")] = None,
    date: DateOpt = None,
) -> None:
    """Apply principals' position trades: the budget stays balanced; locked roles and overspending are refused."""
    from fairshare.pipeline import allocate as run_allocate
    from fairshare.programs.positions import apply_trades, load_trade_requests

    def go() -> None:
        reqs = load_trade_requests(requests)
        run = run_allocate(formula, data, _date(date))
        refused: list[Problem] = []
        rows: list[dict[str, Any]] = []
        for req in reqs:
            try:
                res = apply_trades(run, req, str(requests))
            except FairshareError as exc:
                refused.extend(exc.problems)
                continue
            _print_trade(res)
            for t in res.lines:
                rows.append(
                    {
                        "entity_id": req.entity,
                        "role": t.role,
                        "fte_before": t.fte_before,
                        "fte_change": t.fte_change,
                        "fte_after": t.fte_after,
                        "cost_per_fte": dollars_text(t.unit_cost_cents),
                        "cost": dollars_text(t.cost_cents),
                        "discretionary_after": dollars_text(res.discretionary_after_cents),
                    }
                )
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            with (out_dir / "trades.csv").open("w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(
                    fh,
                    fieldnames=[
                        "entity_id",
                        "role",
                        "fte_before",
                        "fte_change",
                        "fte_after",
                        "cost_per_fte",
                        "cost",
                        "discretionary_after",
                    ],
                )
                w.writeheader()
                w.writerows(rows)
            out.print(f"Wrote {out_dir / 'trades.csv'}")
        if refused:
            raise FairshareError(refused)

    _guard(go)


def _print_trade(res: Any) -> None:
    b = res.before
    t = Table(title=f"{b.name} ({b.entity_id}): starter budget {_money(b.total_cents)}")
    for col in ("role", "FTE before", "change", "FTE after", "cost per FTE", "cost"):
        t.add_column(col, justify="left" if col == "role" else "right")
    for line in res.lines:
        t.add_row(
            line.label,
            f"{line.fte_before:g}",
            f"{line.fte_change:+g}",
            f"{line.fte_after:g}",
            _money(line.unit_cost_cents),
            _money(line.cost_cents),
        )
    out.print(t)
    out.print(
        f"Discretionary dollars {_money(b.discretionary_cents)} -> {_money(res.discretionary_after_cents)}; "
        f"net cost {_money(res.net_cost_cents)}; the school total stays {_money(res.total_cents)} (balanced)"
    )


@app.command()
def aggregate(
    students: Annotated[Path, typer.Argument(help="Student rows: CSV, XLSX or Parquet.", show_default=False)],
    schools: Annotated[Path, typer.Option("--schools", help="School table (one row per school).", show_default=False)],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output table (.csv or .parquet).", show_default=False)],
) -> None:
    """Count student rows per school (enrollment, grades, flags) with DuckDB.

    Unknown schools and duplicate students are errors."""
    from fairshare.io import aggregate_students, write_table

    def go() -> None:
        res = aggregate_students(students, schools)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        write_table(res.frame, out_path)
        out.print(f"Aggregated {res.students_read:,} students into {res.schools} schools: {out_path}")

    _guard(go)


@app.command()
def aid(
    formula: FormulaArg,
    data: DataOpt,
    years: Annotated[
        str,
        typer.Option(
            "--years",
            help="Fiscal years FIRST..LAST, e.g. 2027..2030; several joined by commas (2013..2017,2026).",
            show_default=False,
        ),
    ],
    out_dir: OutOpt,
) -> None:
    """Run a state formula year after year, each year's prior amount being the year before's result."""
    from fairshare.programs.aid import parse_years, run_years, write_years

    def go() -> None:
        fiscal_years = parse_years(years)
        runs = run_years(formula, data, fiscal_years)
        files = write_years(runs, out_dir, formula)
        t = Table(title=f"{runs[0].run.plan.formula.label}: {_year_span(fiscal_years)}")
        for col in ("fiscal year", "total", "change", "gaining", "losing"):
            t.add_column(col, justify="right")
        previous: tuple[int, int] | None = None
        for yr in runs:
            total = int(yr.run.total_cents.sum())
            follows = previous is not None and previous[0] == yr.fiscal_year - 1
            change = _money(total - previous[1]) if previous is not None and follows else ""
            prior = yr.run.prior_total_cents
            delta = yr.run.total_cents - (prior if prior is not None else yr.run.total_cents)
            t.add_row(
                f"FY {yr.fiscal_year}", _money(total), change, str(int((delta > 0).sum())), str(int((delta < 0).sum()))
            )
            previous = (yr.fiscal_year, total)
        out.print(t)
        if runs[0].run.plan.set_asides:
            out.print(_set_aside_table(runs))
        out.print(f"Wrote {', '.join(str(f) for f in files)}")

    _guard(go)


def _year_span(years: list[int]) -> str:
    if years == list(range(years[0], years[-1] + 1)):
        return f"FY {years[0]}" if len(years) == 1 else f"FY {years[0]} to FY {years[-1]}"
    return "FY " + ", ".join(map(str, years))


def _set_aside_table(runs: list[Any]) -> Table:
    from fairshare.programs.aid import set_aside_summary

    plan = runs[0].run.plan
    t = Table(
        title="Set-asides: restricted parts of the totals above",
        caption="* a proposed alternative, shown beside the set-aside it would replace; not carved out"
        if any(not sa.carved for sa in plan.set_asides)
        else None,
    )
    kind = plan.formula.entity.kind
    header = ("FY", "set-aside", "amount", "% of total", f"{kind}s", "share range")
    rows: list[tuple[str, ...]] = []
    for yr in runs:
        summary = set_aside_summary(yr.run)
        for sa, cents in zip(yr.run.plan.set_asides, yr.run.set_aside_cents, strict=True):
            low, high = summary[sa.id + "_min_pct"], summary[sa.id + "_max_pct"]
            rows.append(
                (
                    str(yr.fiscal_year),
                    ("" if sa.carved else "* ") + sa.id,
                    _money(int(cents.sum())),
                    f"{summary[sa.id + '_pct']}%",
                    str(summary[sa.id + "_recipients"]),
                    f"{low}-{high}%" if low != "" else "",
                )
            )
    for k, col in enumerate(header):
        if col == "set-aside":  # names give way (with an ellipsis) before any figure does
            t.add_column(col, no_wrap=True, overflow="ellipsis", min_width=12)
        else:
            t.add_column(col, justify="right", no_wrap=True, min_width=max(len(col), *(len(r[k]) for r in rows)))
    for row in rows:
        t.add_row(*row)
    return t


review_app = typer.Typer(
    name="review",
    help="Resource allocation review: per-pupil spending by school, peers, equity metrics, meeting packets.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(review_app, name="review")

# --- fairshare review metrics (review/metrics.py) ---

#: significant digits of the figures `fairshare review metrics` prints (the library keeps full floats)
METRIC_DIGITS = 6


@review_app.command("metrics")
def review_metrics(
    data: Annotated[
        Path,
        typer.Option("--data", "-d", help="One row per school or district: CSV, XLSX or Parquet.", show_default=False),
    ],
    value: Annotated[
        str, typer.Option("--value", help="The column measured, e.g. spending per pupil (every value > 0).")
    ],
    weight: Annotated[
        str | None,
        typer.Option("--weight", help="Pupils column: the metrics become pupil-weighted. Default: rows count once."),
    ] = None,
    need: Annotated[
        str | None,
        typer.Option("--need", help="Need column (e.g. share of low-income pupils): progressivity metrics."),
    ] = None,
    wealth: Annotated[
        str | None,
        typer.Option("--wealth", help="Wealth column (e.g. property wealth per pupil, > 0): fiscal neutrality."),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option("--group", help="Group column (e.g. district type): Theil index between and within groups."),
    ] = None,
) -> None:
    """Equity metrics of a per-pupil figure across schools or districts, printed as JSON.

    Range, restricted range, federal range ratio, coefficient of variation, McLoone, Verstegen, Gini and
    Theil indexes; with --wealth, --need, --group also fiscal neutrality, progressivity and the Theil
    decomposition. Figures are rounded to 6 significant digits; see docs/equity-metrics.md."""
    from fairshare.review.metrics import metrics_from_table

    def go() -> None:
        result = metrics_from_table(data, value, weight=weight, need=need, wealth=wealth, group=group)
        doc: dict[str, Any] = {
            "format": "fairshare.equity-metrics/1",
            "fairshare_version": __version__,
            "data": str(data),
            "value": value,
            "weighted_by": weight,
            "need": need,
            "wealth": wealth,
            "group": group,
            "significant_digits": METRIC_DIGITS,
        }
        doc.update(result.as_dict(METRIC_DIGITS))
        typer.echo(json.dumps(doc, indent=2, allow_nan=False))

    _guard(go)


# --- fairshare review schools (review/schools.py) ---

ReviewSpecArg = Annotated[Path, typer.Argument(help="School spending review spec (YAML).", show_default=False)]
ReviewTablesOpt = Annotated[
    list[str],
    typer.Option(
        "--data",
        "-d",
        help="The units' table (a bare PATH: the spec's first table), and each other table the spec declares "
        "as NAME=PATH. CSV, XLSX or Parquet.",
        show_default=False,
    ),
]

#: units of the focus district shown in the terminal by `fairshare review schools` (all are in schools.csv)
SHOWN_UNITS = 25


@review_app.command("schools")
def review_schools(
    spec: ReviewSpecArg,
    data: ReviewTablesOpt,
    out_dir: OutOpt,
) -> None:
    """Per-pupil spending of every school: ranks statewide and in its district, groups, views, similar peers.

    Writes schools.csv (every unit: PPE, ranks, percentiles, peers' median, gap, flag), peers.csv,
    groups.csv, report.html and manifest.json."""
    from fairshare.review.schools import run_school_review
    from fairshare.review.schools_outputs import write_school_review

    def go() -> None:
        res = run_school_review(spec, data)
        files = write_school_review(res, out_dir, spec)
        m = res.spec.model
        s = res.schools
        pool = s.filter(s["status"] == "in pool")
        out.print(
            f"[bold]{m.label}[/]: {pool.height:,} of {s.height:,} {m.unit.kind} rows compared "
            f"({s.filter(s['status'] == 'excluded').height:,} excluded, "
            f"{s.filter(s['status'] == 'left out').height:,} left out for missing values)"
        )
        listed = res.district_units()
        shown = listed.filter(listed["status"] == "in pool")
        title = "Focus district" if res.focus_district is not None else "Highest first"
        t = Table(title=f"{title}: {m.spending.label} (rank 1 of {pool.height:,} = the highest)")
        for col in ("unit", "pupils", "PPE", "rank", "peers' median", "gap", "flag"):
            t.add_column(col, justify="left" if col in ("unit", "flag") else "right", no_wrap=col != "unit")
        for r in shown.head(SHOWN_UNITS).iter_rows(named=True):
            t.add_row(
                f"[bold]{r['name']}[/]" if r["focus"] else r["name"],
                f"{r['enrollment']:,.0f}",
                f"${r['ppe']:,.0f}",
                f"{r['state_rank']:,}",
                "" if r["peer_median"] is None else f"${r['peer_median']:,.0f}",
                "" if r["gap_pct"] is None else f"{r['gap_pct']:+.1f} %",
                r["flag"],
            )
        out.print(t)
        if shown.height > SHOWN_UNITS:
            out.print(f"… and {shown.height - SHOWN_UNITS} more in {out_dir / 'schools.csv'}")
        for g in res.groups.iter_rows(named=True):
            plain, weighted_gap = (("—" if x is None else f"{x:+.1f} %") for x in (g["gap_pct"], g["weighted_gap_pct"]))
            gap = "reference" if g["reference"] else f"{plain} (weighted {weighted_gap})"
            mean = "—" if g["mean_ppe"] is None else f"${g['mean_ppe']:,.0f}"
            weighted = "—" if g["weighted_mean_ppe"] is None else f"${g['weighted_mean_ppe']:,.0f}"
            out.print(f"{g['label']}: {g['units']:,} units, mean {mean}, enrollment-weighted {weighted}; {gap}")
        if res.focus_unit is not None:
            f = res.unit(res.focus_unit)
            out.print(f"[bold]{f['name']}[/] {f['flag_text'] or f['reason']}")
        out.print(f"Wrote {', '.join(str(f) for f in files)}")

    _guard(go, out_dir / "problems.csv")


@review_app.command("packet")
def review_packet(
    spec: ReviewSpecArg,
    data: ReviewTablesOpt,
    out_dir: OutOpt,
    unit: Annotated[
        list[str] | None,
        typer.Option(
            "--unit", "-u", help="A unit (school) id to make a packet for; repeat for several.", show_default=False
        ),
    ] = None,
    formula: Annotated[
        Path | None,
        typer.Option("--formula", help="The district's allocation formula (YAML), shown as its methodology."),
    ] = None,
    date: DateOpt = None,
) -> None:
    """The review meeting packet, one per school, as HTML and PDF: data pages, methodology, timed protocol.

    Without --unit: every school of the spec's focus district (or its focus unit)."""
    from fairshare.review.packets import packet_units, write_packets
    from fairshare.review.schools import run_school_review

    def go() -> None:
        res = run_school_review(spec, data)
        ids = list(unit) if unit else packet_units(res)
        if not ids:
            raise InputError(
                Problem(
                    "missing_value",
                    "no unit to make a packet for: give --unit, or a focus district or unit in the spec",
                    file=str(spec),
                )
            )
        for uid in ids:
            res.unit(uid)  # an unknown id is a located error before any file is written
        write_packets(res, ids, out_dir, formula=formula, date=_date(date) if formula is not None else None)
        out.print(f"Wrote {len(ids)} packet{'s' if len(ids) != 1 else ''} (HTML and PDF) to {out_dir}/")
        for uid in ids[:SHOWN_UNITS]:
            r = res.unit(uid)
            out.print(f"  {r['name']} ({uid}): packet-{uid}.html, .pdf")

    _guard(go)


# --- fairshare trends (trends/) ---


@app.command()
def trends(
    spec: Annotated[Path, typer.Argument(help="Trends spec (YAML).", show_default=False)],
    data: Annotated[
        Path,
        typer.Option(
            "--data", "-d", help="A folder holding the tables the spec names, or a single table.", show_default=False
        ),
    ],
    out_dir: OutOpt,
) -> None:
    """Which units improved on each indicator between two periods; changes, shares and published claims checked.

    Writes improvement.csv, units.csv, exceeded.csv, one CSV per change and share, claims.csv,
    report.html, trends.xlsx and manifest.json."""
    from fairshare.trends import run_trends, write_trends

    def go() -> None:
        res = run_trends(spec, data)
        files = write_trends(res, out_dir, spec)
        m = res.spec.model
        t = Table(title=m.label)
        for col in ("comparison", "units", "improved", "declined", "unchanged", "missing", "mean change"):
            t.add_column(col, justify="left" if col == "comparison" else "right")
        for (cid, c), r in zip(m.comparisons.items(), res.improvement.iter_rows(named=True), strict=True):
            mc = r["mean_change"]
            t.add_row(
                f"{cid}: {c.from_} → {c.to}",
                str(r["units"]),
                str(r["improved"]),
                str(r["declined"]),
                str(r["unchanged"]),
                str(r["missing"]),
                "" if mc is None else f"{mc:+.2f}",
            )
        out.print(t)
        for r in res.exceeded.iter_rows(named=True):
            out.print(f"{r['exceeded']} of {r['units']} better in {r['period']} than in {r['reference_period']}")
        if res.claims.height:
            ct = Table(title="Claims check")
            for col in ("claim", "claimed", "computed", "status"):
                ct.add_column(col)
            for r in res.claims.iter_rows(named=True):
                ok = r["status"] == "supported"
                ct.add_row(r["text"], r["claimed"], r["computed"], r["status"] if ok else f"[bold red]{r['status']}[/]")
            out.print(ct)
        for note in res.notes:
            out.print(f"[yellow]note[/]: {note}")
        out.print(f"Wrote {len(files)} files to {out_dir}/: {', '.join(f.name for f in files)}")

    _guard(go, out_dir / "problems.csv")


ledger_app = typer.Typer(
    name="ledger",
    help="Spending analysis: district general ledgers through their mappings, crosswalked to a standard.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("import")
def ledger_import(
    crosswalk: Annotated[Path, typer.Option("--crosswalk", help="The crosswalk to the standard (YAML).")],
    source: Annotated[
        list[str],
        typer.Option(
            "--source",
            "-s",
            help="MAPPING=EXTRACT: a mapping file (YAML) and the ledger extract it reads; repeat for each.",
            show_default=False,
        ),
    ],
    out_dir: OutOpt,
) -> None:
    """Import ledger extracts, account for every row, crosswalk to NCES dimensions and categories, report coverage.

    Writes transactions.csv, excluded.csv, coverage.csv (mapped and unmapped dollars by source code),
    summary.csv (per district and year) and manifest.json."""
    from fairshare.ledger.outputs import run_ledger_import, write_ledger_import

    def go() -> None:
        pairs: list[tuple[Path, Path]] = []
        for item in source:
            mapping, sep, data = item.partition("=")
            if not sep or not mapping or not data:
                raise InputError(Problem("invalid_value", f"--source {item!r} is not MAPPING=EXTRACT", value=item))
            pairs.append((Path(mapping), Path(data)))
        run = run_ledger_import(pairs, crosswalk)
        files = write_ledger_import(run, out_dir, pairs, crosswalk)
        gross = int(run.coverage["gross_cents"].sum())
        share = int(run.coverage["mapped_cents"].sum()) / gross * 100 if gross else 0.0
        t = Table(title=f"Ledger extracts (crosswalk {run.crosswalk_version})")
        for col in ("extract", "rows read", "imported", "excluded", "rejected"):
            t.add_column(col, justify="left" if col == "extract" else "right")
        for s in run.sources:
            counts = (s.rows_read, s.imported.height, s.excluded.height, s.rejected)
            t.add_row(Path(s.file).name, *(f"{c:,}" for c in counts))
        out.print(t)
        out.print(f"Mapped {share:.1f} % of gross dollars; coverage.csv lists the unmapped codes, largest first")
        out.print(f"Wrote {', '.join(str(f) for f in files)}")

    _guard(go)


def _pct_or_dash(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f} %"


@ledger_app.command("profile")
def ledger_profile(
    spec_file: Annotated[Path, typer.Argument(help="The profile spec (YAML).", show_default=False)],
    ledger: Annotated[Path, typer.Option("--ledger", help="The --out directory of `fairshare ledger import`.")],
    enrollment: Annotated[Path, typer.Option("--enrollment", help="Students per district (CSV, XLSX, Parquet).")],
    out_dir: OutOpt,
    locations: Annotated[
        Path | None, typer.Option("--locations", help="Which location codes are schools and which central.")
    ] = None,
) -> None:
    """Spending profile per district and school: operating spending per pupil by category, where it is charged
    (school sites or the central office), year-over-year change and, when the spec asks, comparable districts.

    Writes districts.csv, categories.csv, change.csv, schools.csv, peers.csv, comparison.csv, profile.xlsx,
    report.html and manifest.json."""
    import polars as pl

    from fairshare.ledger.profile_run import run_profile
    from fairshare.report.html import money

    def go() -> None:
        result, files = run_profile(spec_file, ledger, enrollment, locations, out_dir)
        d = result.districts
        last = int(d["fiscal_year"].max())  # type: ignore[arg-type]
        t = Table(title=f"Operating spending per pupil, FY{last}")
        for col in ("district", "pupils", "per pupil", "school sites", "central", "unclassified"):
            t.add_column(col, justify="left" if col == "district" else "right")
        for r in d.filter(pl.col("fiscal_year") == last).iter_rows(named=True):
            t.add_row(
                r["district"],
                f"{r['students']:,.0f}",
                money(r["per_pupil_cents"]),
                *(_pct_or_dash(r[c]) for c in ("school_share_pct", "central_share_pct", "unclassified_share_pct")),
            )
        out.print(t)
        out.print(f"Wrote {', '.join(str(f) for f in files)}")

    _guard(go)


@ledger_app.command("staff")
def ledger_staff(
    data: DataOpt,
    out_dir: OutOpt,
    from_year: Annotated[int, typer.Option("--from", help="First fiscal year of the FTE comparison.")],
    to_year: Annotated[int, typer.Option("--to", help="Last fiscal year of the FTE comparison.")],
    enrollment: Annotated[
        Path | None,
        typer.Option("--enrollment", help="Students by year (columns fiscal_year, students): teachers per 100."),
    ] = None,
) -> None:
    """Staffing and retention from staff records: FTE by assignment category and its % change, teachers per
    100 students (with --enrollment), and the share of each hire cohort of teachers still employed after 1-4 years.

    The table has one row per staff member and fiscal year: staff_id, fiscal_year, assignment_category,
    fte (and optionally hire_year). Writes fte_by_category.csv, retention.csv and teachers_per_100.csv."""
    import polars as pl

    from fairshare.ledger.staff import (
        cohort_retention,
        display_pct,
        fte_by_category,
        load_enrollment,
        load_staff,
        teachers_per_100,
    )

    def go() -> None:
        staff = load_staff(data)
        fte = fte_by_category(staff, from_year, to_year)
        retention = cohort_retention(staff)
        ratio = teachers_per_100(staff, load_enrollment(enrollment)) if enrollment is not None else None
        out_dir.mkdir(parents=True, exist_ok=True)
        files = [out_dir / "fte_by_category.csv", out_dir / "retention.csv"]
        fte.write_csv(files[0])
        retention.frame.write_csv(files[1])
        if ratio is not None:
            files.append(out_dir / "teachers_per_100.csv")
            ratio.with_columns(pl.col("per_100").round(2)).write_csv(files[-1])
        t = Table(title=f"FTE by assignment category, {from_year} to {to_year}")
        for col in ("category", str(from_year), str(to_year), "change"):
            t.add_column(col, justify="left" if col == "category" else "right")
        for r in fte.iter_rows(named=True):
            t.add_row(r["assignment_category"], f"{r['fte_from']:,.1f}", f"{r['fte_to']:,.1f}", r["change_shown"])
        out.print(t)
        if ratio is not None:
            shown = [
                f"{r['fiscal_year']}: {r['per_100']:.2f}"
                for r in ratio.iter_rows(named=True)
                if r["per_100"] is not None
            ]
            out.print(f"Teachers per 100 students: {'; '.join(shown) or 'no year with both staff and students'}")
        left = retention.left_within
        if left is not None:
            out.print(
                f"Teachers who left within {retention.max_years} years: {display_pct(left * 100).lstrip('+')} "
                f"({retention.left_observed} of {retention.hired_observed} hired in "
                f"{', '.join(map(str, retention.observed_cohorts))})"
            )
        out.print(f"Wrote {', '.join(str(f) for f in files)}")

    _guard(go)


@ledger_app.command("benchmark")
def ledger_benchmark(
    spec: Annotated[Path, typer.Argument(help="Benchmark spec (YAML).", show_default=False)],
    data: Annotated[
        Path,
        typer.Option("--data", "-d", help="Table with one row per district: CSV, XLSX or Parquet.", show_default=False),
    ],
    out_dir: OutOpt,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            "-t",
            help="A unit id the report covers; repeat for several. Replaces the spec's targets.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Compare each district with its most similar districts: stated quantities, the k nearest peers by
    stated variables, each measure against the peers' median and quartiles.

    Writes comparison.csv and units.csv (every unit), peers.csv, report.html (the targets),
    benchmark.xlsx and manifest.json."""
    from fairshare.io.read import read_raw
    from fairshare.ledger.benchmark import load_benchmark_spec, run_benchmark, write_benchmark
    from fairshare.ledger.benchmark_outputs import number

    def go() -> None:
        model = load_benchmark_spec(spec)
        raw = read_raw(data)
        res = run_benchmark(model, raw.frame, raw.path, target or (), rows=raw.rows)
        files = write_benchmark(res, out_dir, {"spec": spec, "table": data})
        kind = model.units.kind
        with_peers = res.units.filter(res.units["peers"] > 0).height
        out.print(
            f"[bold]{model.label}[/]: {res.units.height:,} {kind} rows, {res.eligible:,} with every peer variable, "
            f"{with_peers:,} with peers (k = {int(model.peers.k.value)})"
        )
        if not res.targets:
            out.print("No target named (targets: in the spec, or --target): comparison.csv compares every unit.")
        for tid in res.targets:
            me = res.units.filter(res.units["id"] == tid).row(0, named=True)
            peers = res.peers.filter(res.peers["unit"] == tid)
            name = me["name"] or tid
            listed = ", ".join(peers["peer_name"].fill_null(peers["peer"]).to_list())
            out.print(f"\n[bold]{name}[/] ({tid}) — " + (f"peers: {listed}" if peers.height else me["note"] or ""))
            t = Table(title=None)
            for col in ("measure", "value", "peers' median", "p25 – p75", "gap", "percentile"):
                t.add_column(col, justify="left" if col == "measure" else "right", no_wrap=col != "measure")
            for r in res.comparison.filter(res.comparison["unit"] == tid).iter_rows(named=True):
                d = model.quantities[r["measure"]].digits
                t.add_row(
                    f"{r['label']} ({r['unit_of_measure']})",
                    number(r["value"], d),
                    number(r["peer_median"], d),
                    "" if r["peer_p25"] is None else f"{number(r['peer_p25'], d)} – {number(r['peer_p75'], d)}",
                    "" if r["gap_pct"] is None else f"{number(r['gap_pct'], 1, signed=True)} %",
                    "" if r["percentile"] is None else f"{r['percentile']:.0f}",
                )
            out.print(t)
        out.print(f"Wrote {len(files)} files to {out_dir}/: {', '.join(f.name for f in files)}")

    _guard(go, out_dir / "problems.csv")


# --- fairshare index (programs/need_index.py) ---

#: schools shown in the terminal by `fairshare index` (all of them are in index.csv)
SHOWN_SCHOOLS = 10


@app.command("index")
def need_index(
    spec: Annotated[Path, typer.Argument(help="Need-index spec (YAML).", show_default=False)],
    data: Annotated[
        Path,
        typer.Option("--data", "-d", help="School or student rows: CSV, XLSX or Parquet.", show_default=False),
    ],
    out_dir: OutOpt,
) -> None:
    """Build a composite need index: normalise, weight and rescale indicators, rank schools, test the weights.

    Writes index.csv (score, rank, each indicator's contribution), sensitivity.csv, near_cut.csv,
    report.html and manifest.json."""
    from fairshare.programs.need_index import run_index
    from fairshare.programs.need_index_output import describe_eligibility, write_index

    def go() -> None:
        res = run_index(spec, data)
        files = write_index(res, out_dir, spec, data)
        b = res.base
        labels = [ind.label for ind in res.spec.indicators.values()]
        t = Table(title=f"{res.spec.label}: {len(res.ids)} schools, {describe_eligibility(res)}")
        for col in ("rank", "school", "score", "eligible", "largest factor"):
            t.add_column(col, justify="right" if col in ("rank", "score") else "left")
        for i in res.order[:SHOWN_SCHOOLS].tolist():
            k = int(b.contributions[i].argmax())
            t.add_row(
                str(b.rank[i]),
                f"{res.names[i]} ({res.ids[i]})",
                f"{b.score[i]:.3f}",
                "" if b.eligible is None else ("yes" if b.eligible[i] else "no"),
                f"{labels[k]} ({b.contributions[i, k]:+.3f})" if b.contributions[i, k] > 0 else "",
            )
        out.print(t)
        if len(res.ids) > SHOWN_SCHOOLS:
            out.print(f"… and {len(res.ids) - SHOWN_SCHOOLS} more in {out_dir / 'index.csv'}")
        out.print(f"Each score = {b.offset:.3f} (the average school) + one contribution per indicator.")
        moved = [s for s in res.sensitivity if s.entering or s.leaving]
        out.print(
            f"Sensitivity (each weight ±{res.spec.sensitivity.step:.0%}): lowest Spearman "
            f"{min(s.spearman for s in res.sensitivity):.4f}"
            + (f"; the eligible set changes in {len(moved)} of {len(res.sensitivity)} cases" if moved else "")
        )
        for note in res.notes:
            out.print(f"[yellow]note[/]: {note}")
        out.print(f"Wrote {len(files)} files to {out_dir}/: {', '.join(f.name for f in files)}")

    _guard(go, out_dir / "problems.csv")


# --- fairshare fund (programs/fund.py) ---


@app.command()
def fund(
    spec: Annotated[Path, typer.Argument(help="Fund spec (YAML).", show_default=False)],
    data: DataOpt,
    out_dir: OutOpt,
    prior: Annotated[
        Path | None, typer.Option("--prior", help="Last year's partner contracts: school_id, partner_id, amount.")
    ] = None,
    partners: Annotated[
        Path | None, typer.Option("--partners", help="The partner menu: partner_id, partner_name, vetted.")
    ] = None,
    selections: Annotated[
        Path | None,
        typer.Option(
            "--selections", help="Schools' partner selections (needs --partners): school, partner, amount, approvals."
        ),
    ] = None,
) -> None:
    """Share a fixed fund among the highest-need schools into a restricted line; check partner plans."""
    import numpy as np
    import polars as pl

    from fairshare.programs.fund import allocate_fund, fund_summary, load_fund_spec, load_fund_table
    from fairshare.programs.fund_outputs import write_fund
    from fairshare.programs.partners import check_selections, impact, load_menu

    def go() -> None:
        if selections is not None and partners is None:
            raise InputError(Problem("invalid_value", "--selections needs --partners (the menu they choose from)"))
        fund_spec = load_fund_spec(spec)
        result = allocate_fund(fund_spec, load_fund_table(data, fund_spec))
        menu = load_menu(partners) if partners is not None else None
        plans = check_selections(result, menu, selections) if selections is not None and menu is not None else None
        effect = impact(result, prior, menu) if prior is not None else None
        inputs = [p for p in (data, prior, partners, selections) if p is not None]
        files = write_fund(result, out_dir, spec, impact=effect, plans=plans, inputs=inputs)
        s = fund_summary(result)
        out.print(
            f"[bold]{fund_spec.label}[/]: {_money(result.total_cents)} to {s['schools']} of {s['of_schools']} schools"
            + (f", {_money(int(s['per_pupil'].replace('.', '')))} per pupil" if s["per_pupil"] else "")
            + (f"; {_money(result.unallocated_cents)} not allocated" if result.unallocated_cents else "")
        )
        t = Table(title=f"Funded schools ({fund_spec.line.label})")
        for col in ("rank", "school", "index", "pupils", "grant"):
            t.add_column(col, justify="left" if col == "school" else "right")
        order = np.argsort(result.rank)
        for i in order[result.eligible[order]][:20]:
            t.add_row(
                str(result.rank[i]),
                str(result.table.names[i]),
                f"{result.table.index[i]:.4g}",
                f"{result.table.pupils[i]:,.0f}",
                _money(int(result.grant_cents[i])),
            )
        out.print(t)
        if plans is not None:
            ready = plans.filter(pl.col("status") == "approved").height
            out.print(f"Partner plans: {ready} of {plans.height} approved")
        out.print(f"Wrote {', '.join(str(f) for f in files)}")

    _guard(go)


# --- fairshare identify (programs/identify.py) ---


def _named_tables(items: list[str]) -> dict[str, Path]:
    """``NAME=PATH`` pairs; a bare PATH is named after its file stem."""
    tables: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = Path(item).stem, item
        if name in tables:
            raise InputError(Problem("missing_table", f"--data names table {name!r} twice", value=item))
        tables[name] = Path(path)
    return tables


@app.command()
def identify(
    rules: Annotated[Path, typer.Argument(help="Identification rules (YAML).", show_default=False)],
    data: Annotated[
        list[str],
        typer.Option(
            "--data",
            "-d",
            help="A table the rules declare, as NAME=PATH (CSV, XLSX or Parquet); repeat for each table. "
            "A bare PATH is named after its file name without extension.",
            show_default=False,
        ),
    ],
    out_dir: OutOpt,
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="The previous list of identified entities (read as `previous.list` says)."),
    ] = None,
) -> None:
    """Identify entities by rank and threshold rules, tier them with their monitoring workload, share a grant."""
    from fairshare.programs.identify import run_identify, summary
    from fairshare.programs.identify_outputs import write_identify

    def go() -> None:
        tables = _named_tables(data)
        result = run_identify(rules, tables, previous)
        files = write_identify(result, out_dir, rules, tables, previous)
        s = summary(result)
        m = result.rules.model
        kind = m.entity.kind
        year = f" ({s['year']})" if s["year"] is not None else ""
        out.print(
            f"[bold]{m.label}[/]{year}: {s['identified']} of {s['entities']} {kind}s identified "
            f"({s['in_universe']} in the universe)"
        )
        if s["previously_identified"] is not None:
            out.print(
                f"Against the previous list of {s['previously_identified']}: {s['entered']} enter, {s['left']} leave, "
                f"{s['stayed']} stay" + (f", {s['transition']} in transition" if s["transition"] else "")
            )
        for sid, levels in s["tiers"].items():
            t = Table(title=m.tiers[sid].label)
            for col in ("tier", "who attends", f"{kind}s", "meetings each", "meetings a year"):
                t.add_column(col, justify="left" if col in ("tier", "who attends") else "right")
            for lv in levels:
                t.add_row(
                    lv["label"],
                    lv["attendees"],
                    str(lv["entities"]),
                    f"{lv['meetings_per_year']:g}",
                    f"{lv['total_meetings']:g}",
                )
            total = sum(lv["total_meetings"] for lv in levels)
            t.add_row("[bold]total[/]", "", str(sum(lv["entities"] for lv in levels)), "", f"[bold]{total:g}[/]")
            out.print(t)
        if result.grant is not None:
            g = result.grant
            out.print(
                f"Grant {_money(g.total_cents)}: {_money(g.admin_cents)} administration, "
                f"{_money(int(g.incentive_cents.sum()))} incentive, {_money(int(g.base_cents.sum()))} base "
                f"to {int(g.recipients.sum())} {kind}s"
            )
        out.print(f"Wrote {', '.join(str(f) for f in files)}")

    _guard(go, out_dir / "problems.csv")


@app.command()
def demo(out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("demo-out")) -> None:
    """Generate the synthetic district, aggregate its students, allocate its budget, apply a sample trade."""
    from fairshare.demo import run_demo

    _guard(lambda: run_demo(out_dir, out))


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Where the embedded database (SQLite) lives.")] = Path(
        ".fairshare"
    ),
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo",
            help="Seed the synthetic demo district and its accounts into an empty database "
            "(default: yes with the embedded database, no with FAIRSHARE_DATABASE_URL).",
        ),
    ] = None,
) -> None:
    """Start the workbench web app: scenario simulator, principal budget builder, partner plans, grants.

    Uses a SQLite file in --data-dir unless FAIRSHARE_DATABASE_URL points at PostgreSQL; the schema is
    migrated on start."""
    import os

    def go() -> None:
        import uvicorn

        from fairshare.web.app import create_app
        from fairshare.web.seed import DEMO_PASSWORD, DEMO_USERS
        from fairshare.web.settings import Settings

        seed = demo if demo is not None else not os.environ.get("FAIRSHARE_DATABASE_URL")
        settings = Settings.from_env(data_dir=data_dir, demo=seed)
        web = create_app(settings)
        out.print(f"fairshare workbench on http://{host}:{port}/  (database: {web.state.db.dialect})")
        if seed:
            out.print(f"Demo accounts (password {DEMO_PASSWORD}): {', '.join(DEMO_USERS)}")
        uvicorn.run(web, host=host, port=port, log_level="warning")

    _guard(go)


@app.command()
def version() -> None:
    """Print the package version."""
    out.print(__version__)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

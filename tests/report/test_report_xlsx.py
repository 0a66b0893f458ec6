"""The workbook: sheets, one row per entity, totals to the cent, identical bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl

from conftest import MakeRun
from fairshare.programs.positions import starter_budget
from fairshare.report import write_workbook
from fairshare.rules import Run


def _cents(v: object) -> int:
    assert isinstance(v, (int, float)), v
    return round(v * 100)


def _rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_sheets_and_properties(run: Run, tmp_path: Path) -> None:
    path = write_workbook(run, tmp_path / "budgets.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Budgets", "Positions", "Parameters"]
    assert wb.properties.created == dt.datetime(2025, 7, 1)
    ws = wb["Budgets"]
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref is not None
    assert ws["D2"].number_format.startswith('"$"#,##0.00')
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Formula id"] == "district-sbb"
    assert summary["Formula hash"] == run.plan.hash
    assert summary["Budget"] == summary["Total allocated"] == 190_000_000
    assert summary["Solved: Base amount per pupil (base.per_pupil)"] == run.solved["base.per_pupil"]
    assert str(summary["Rounding rule"]).startswith("Amounts are computed")
    wb.close()


def test_budgets_to_the_cent(run: Run, tmp_path: Path) -> None:
    rows = _rows(write_workbook(run, tmp_path / "b.xlsx"), "Budgets")
    head, body = rows[0], rows[1:]
    k = len(run.lines)
    assert list(head[3 : 3 + k]) == [c.label for c in run.lines]
    assert head[3 + k :] == ("Total", "Per pupil", "Last year", "Change", "Change %")
    assert len(body) == run.table.n
    prior = np.asarray(run.table.columns["prior_year_total"], dtype=float)
    for i, row in enumerate(body):
        assert row[0] == run.table.ids[i] and row[1] == run.table.names[i]
        assert row[2] == run.pupils[i]
        assert row[3 + k] == run.total_cents[i] / 100  # exact: the same double
        assert [_cents(v) for v in row[3 : 3 + k]] == run.cents[i].tolist()
        assert row[4 + k] == run.per_pupil_cents[i] / 100
        if np.isnan(prior[i]):
            assert row[5 + k :] == (None, None, None)  # new/no prior: blank, never zero
        else:
            assert row[5 + k] == prior[i]
            assert row[6 + k] == (int(run.total_cents[i]) - round(prior[i] * 100)) / 100
    assert sum(_cents(r[3 + k]) for r in body) == int(run.total_cents.sum())


def test_positions_and_parameters(run: Run, tmp_path: Path) -> None:
    path = write_workbook(run, tmp_path / "p.xlsx")
    positions = _rows(path, "Positions")[1:]
    for i in (0, 5, run.table.n - 1):
        sb = starter_budget(run, i)
        mine = [r for r in positions if r[0] == sb.entity_id]
        assert [(r[3], r[4], _cents(r[6]), r[7] == "locked") for r in mine] == [
            (p.role, p.fte, p.cents, p.locked) for p in sb.positions
        ]
        assert [_cents(r[5]) for r in mine] == [p.unit_cost_cents for p in sb.positions]
    params = _rows(path, "Parameters")[1:]
    assert len(params) == len(run.plan.params)
    base = next(r for r in params if r[0] == "base.per_pupil")
    assert base[3] == run.solved["base.per_pupil"] and base[4] == 5300
    assert base[5] == dt.datetime(2025, 7, 1)
    assert "budget book" in str(base[6])


def test_text_is_never_a_formula(make_run: MakeRun, tmp_path: Path) -> None:
    run = make_run(names={0: '=HYPERLINK("http://x","y")', 1: "+1"})
    wb = openpyxl.load_workbook(write_workbook(run, tmp_path / "f.xlsx"))
    b2, b3 = wb["Budgets"]["B2"], wb["Budgets"]["B3"]
    assert (b2.data_type, b2.value) == ("s", '=HYPERLINK("http://x","y")')
    assert (b3.data_type, b3.value) == ("s", "+1")
    wb.close()


def test_byte_identical(run: Run, tmp_path: Path) -> None:
    a = write_workbook(run, tmp_path / "a.xlsx")
    b = write_workbook(run, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()

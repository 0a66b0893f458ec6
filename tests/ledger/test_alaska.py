"""The shipped Alaska mappings and crosswalk on the real ledgers (skipped when the data is absent)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fairshare.errors import Problem
from fairshare.ledger import apply_crosswalk, coverage, import_ledger, load_crosswalk, load_mapping

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "ak_district_ledgers_fy2019_20"
EX = ROOT / "examples" / "ledger-alaska"
SOURCES = {
    "ARSD": "arsd", "CRSD": "crsd", "DGSD": "dgsd", "CSD19": "csd19", "CSD20": "csd20",
    "Cordova": "cordova", "CraigCity": "craig", "KakeCity19": "kake19", "KakeCity20": "kake20",
    "Petersburg": "petersburg", "Valdez": "valdez-yupiit", "Yupiit": "valdez-yupiit",
}  # fmt: skip
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="Alaska ledgers not present")


def _files() -> list[tuple[str, str]]:
    out = []
    for stem in ("ARSD", "CRSD", "DGSD", "CSD", "Cordova", "CraigCity", "KakeCity", "Petersburg", "Valdez", "Yupiit"):
        for yy in ("19", "20"):
            out.append((f"{stem}{yy}.csv", SOURCES.get(stem + yy, SOURCES.get(stem, ""))))
    return out


def _independent_total(path: Path, mapping: str) -> int:
    """Sum of every row's amount, recomputed with polars: cents below $100 billion, else zero."""
    f = pl.read_csv(path, infer_schema=False)

    def cents(col: str) -> pl.Expr:
        s = pl.col(col).str.strip_chars()
        neg = s.str.contains("^-") | s.str.contains(r"^\(")
        num = s.str.replace_all(r"[\$,()\s-]", "").cast(pl.Float64, strict=False)
        v = (num * 100).round(0)
        v = pl.when(v.abs() < 1e13).then(v).otherwise(None)
        return pl.when(neg).then(-v).otherwise(v).fill_null(0).cast(pl.Int64)

    if mapping == "cordova":
        return int(f.select((cents("Debit") - cents("Credit")).sum()).item())
    col = "amount" if "amount" in f.columns else "Amount"
    return int(f.select(cents(col).sum()).item())


def test_every_dollar_accounted_for_and_mapped() -> None:
    imported = []
    for name, mapping in _files():
        problems: list[Problem] = []
        r = import_ledger(load_mapping(EX / f"{mapping}.yaml"), DATA / name, problems)
        assert not problems, (name, problems[:3])
        assert r.imported.height + r.excluded.height == r.rows_read
        got = int(r.imported["amount_cents"].sum()) + int(r.excluded["amount_cents"].fill_null(0).sum())
        assert got == r.file_total_cents == _independent_total(DATA / name, mapping), name
        if name == "CSD19":  # the summary-row trap
            assert r.excluded.height == 766 and set(r.excluded["rule"].str.split("+").explode()) >= {"report_total"}
        imported.append(r.imported)
    rows = pl.concat(imported)
    assert rows["district"].n_unique() == 10
    problems = []
    mapped = apply_crosswalk(rows, load_crosswalk(EX / "crosswalk.yaml"), problems)
    assert not problems  # no conflicts in the shipped crosswalk
    cov = coverage(mapped)
    assert cov["mapped_cents"].sum() / cov["gross_cents"].sum() > 0.99
    # instruction is at least 15 % of every district-year's spending (swapped columns gave 0 %)
    spend = mapped.filter(~pl.col("category").is_in(["not_spending", "other", "debt_capital"]))
    share = spend.group_by("district", "fiscal_year").agg(
        (pl.col("amount_cents").filter(pl.col("category") == "instruction").sum() / pl.col("amount_cents").sum()).alias(
            "s"
        )
    )
    assert share.height == 20 and share["s"].min() > 0.15


@pytest.mark.skipif(not DATA.is_dir(), reason="real data sets live in ../shared/data (present in CI)")
def test_cli_ledger_import_writes_every_output(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fairshare.cli import app

    args = ["ledger", "import", "--crosswalk", str(EX / "crosswalk.yaml"), "--out", str(tmp_path)]
    for mapping, name in (("arsd", "ARSD19"), ("arsd", "ARSD20"), ("csd19", "CSD19")):
        args += ["--source", f"{EX / mapping}.yaml={DATA / name}.csv"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for out in ("transactions.csv", "excluded.csv", "coverage.csv", "summary.csv", "manifest.json"):
        assert (tmp_path / out).is_file(), out
    summary = pl.read_csv(tmp_path / "summary.csv", infer_schema=False)
    assert summary.height == 3  # ARSD 2019, ARSD 2020, CSD 2019
    excluded = pl.read_csv(tmp_path / "excluded.csv", infer_schema=False)
    assert excluded.height == 766  # the CSD19 summary rows, each with its reason
    assert excluded["reason"].null_count() == 0
    bad = CliRunner().invoke(
        app,
        ["ledger", "import", "--crosswalk", str(EX / "crosswalk.yaml"), "--source", "x.yaml", "--out", str(tmp_path)],
    )
    assert bad.exit_code == 1 and "MAPPING=EXTRACT" in bad.output

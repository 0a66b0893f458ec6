"""`fairshare ledger benchmark`: quantities, peers and the comparison checked by hand, properties, errors,
and the Texas example on the real TAPR table (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.errors import FairshareError, FormulaError, InputError
from fairshare.io.read import read_raw
from fairshare.ledger.benchmark import (
    Benchmark,
    BenchmarkModel,
    PeerRule,
    PeerVar,
    Quantity,
    UnitColumns,
    load_benchmark_spec,
    run_benchmark,
    write_benchmark,
)
from fairshare.rules.schema import Cited, Reference

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "benchmark"
UPDATE = os.environ.get("FAIRSHARE_UPDATE_GOLDEN") == "1"
TX = ROOT.parent / "shared" / "data" / "tx_tapr_2024_25" / "tx_districts_2024_25.csv"
EXAMPLE = ROOT / "examples" / "benchmark-tx" / "benchmark.yaml"

# Eight districts. H has 0 students (its ratios are blank), F a blank `ed`, G is alone in region S.
TABLE = """\
district,district_name,region,students,teachers,aides,ed
A,Alder,N,1000,60,10,500
B,Birch,N,2000,130,20,1200
C,Cedar,N,1000,70,10,400
D,Dogwood,N,4000,200,40,2000
E,Elm,N,1000,50,30,900
F,Fir,N,500,40,5,
G,Ginkgo,S,1000,60,10,500
H,Hazel,N,0,0,0,0
"""

SPEC = """\
benchmark: hand
label: Hand-checked benchmark
reference: {title: Made-up districts for a test}
units: {id: district, name: district_name}
quantities:
  students_k: {label: Students, unit: thousand students, numerator: students, scale: 0.001}
  ed_pct: {label: Economically disadvantaged, unit: "%", numerator: ed, denominator: students, scale: 100}
  teachers_per_100:
    label: Teachers
    unit: FTE per 100 students
    numerator: teachers
    denominator: students
    scale: 100
  staff_per_100:
    label: Teachers and aides
    unit: FTE per 100 students
    numerator: [teachers, aides]
    denominator: students
    scale: 100
  aides: {label: Aides, unit: FTE, column: aides, digits: 0}
measures:
  - teachers_per_100
  - staff_per_100
peers:
  k: {value: 2, reference: {title: test}}
  standardise: none
  variables:
    ed_pct: {weight: {value: 1, reference: {title: test}}}
    students_k: {weight: {value: 100, reference: {title: test}}}
  match: [region]
targets: [A, G]
"""


@pytest.fixture
def hand(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    (tmp_path / "table.csv").write_text(TABLE, encoding="utf-8")
    return tmp_path / "spec.yaml", tmp_path / "table.csv"


def _run(spec: Path, table: Path, targets: tuple[str, ...] = ()) -> Benchmark:
    raw = read_raw(table)
    return run_benchmark(load_benchmark_spec(spec), raw.frame, raw.path, targets, rows=raw.rows)


def _row(frame: pl.DataFrame, **where: object) -> dict[str, Any]:
    for k, v in where.items():
        frame = frame.filter(pl.col(k) == v)
    assert frame.height == 1, where
    return frame.row(0, named=True)


# ------------------------------------------------------------------ checked by hand


def test_quantities_by_hand(hand: tuple[Path, Path]) -> None:
    res = _run(*hand)
    u = res.units
    assert u["id"].to_list() == list("ABCDEFGH")
    a = _row(u, id="A")
    assert (a["students_k"], a["ed_pct"], a["teachers_per_100"], a["staff_per_100"], a["aides"]) == (
        1.0, 50.0, 6.0, 7.0, 10.0,
    )  # fmt: skip
    assert _row(u, id="B")["staff_per_100"] == 150 * 100 / 2000  # Σ [teachers, aides] ÷ students × 100
    h = _row(u, id="H")
    assert h["teachers_per_100"] is None and h["ed_pct"] is None and h["students_k"] == 0.0
    assert "teachers_per_100: students is 0" in h["note"]
    f = _row(u, id="F")
    assert f["ed_pct"] is None and f["teachers_per_100"] == 8.0  # a blank is never zero
    assert "ed_pct: ed is blank" in f["note"] and "no peers: ed_pct is blank (ed is blank)" in f["note"]
    assert "no peers: no other district shares its region" in _row(u, id="G")["note"]
    assert u["peers"].to_list() == [2, 2, 2, 2, 2, 0, 0, 0]
    assert res.eligible == 6  # A-E and G have every peer variable and a region


def test_peers_by_hand(hand: tuple[Path, Path]) -> None:
    """Distance = √((Δ ed %)² + 100 × (Δ thousand students)²), region N only, k = 2."""
    res = _run(*hand)
    got = {u: res.peers.filter(pl.col("unit") == u)["peer"].to_list() for u in "ABCDE"}
    # A: C √100 = 10, B √(100 + 100); B: A √200, then C and D tie at √500 -> C by id
    assert got == {"A": ["C", "B"], "B": ["A", "C"], "C": ["A", "B"], "D": ["B", "A"], "E": ["B", "A"]}
    dist = {(r["unit"], r["peer"]): r["distance"] for r in res.peers.iter_rows(named=True)}
    assert dist[("A", "C")] == 10.0
    assert dist[("A", "B")] == math.sqrt(200)
    assert dist[("B", "C")] == math.sqrt(500)
    assert dist[("E", "B")] == math.sqrt(30**2 + 100 * 1**2)
    first = _row(res.peers, unit="A", rank=1)
    assert (first["peer_name"], first["ed_pct"], first["students_k"]) == ("Cedar", 40.0, 1.0)
    assert set(res.peers["unit"]) == set("ABCDE")  # F, G, H have none


EXPECTED = {  # (unit, measure): value, median, p25, p75, percentile, gap %
    ("A", "teachers_per_100"): (6.0, 6.75, 6.625, 6.875, 0.0, (6 - 6.75) / 6.75 * 100),
    ("B", "teachers_per_100"): (6.5, 6.5, 6.25, 6.75, 50.0, 0.0),
    ("C", "teachers_per_100"): (7.0, 6.25, 6.125, 6.375, 100.0, (7 - 6.25) / 6.25 * 100),
    ("D", "teachers_per_100"): (5.0, 6.25, 6.125, 6.375, 0.0, -20.0),
    ("E", "teachers_per_100"): (5.0, 6.25, 6.125, 6.375, 0.0, -20.0),
    ("A", "staff_per_100"): (7.0, 7.75, 7.625, 7.875, 0.0, (7 - 7.75) / 7.75 * 100),
    ("B", "staff_per_100"): (7.5, 7.5, 7.25, 7.75, 50.0, 0.0),
    ("C", "staff_per_100"): (8.0, 7.25, 7.125, 7.375, 100.0, (8 - 7.25) / 7.25 * 100),
    ("D", "staff_per_100"): (6.0, 7.25, 7.125, 7.375, 0.0, (6 - 7.25) / 7.25 * 100),
    ("E", "staff_per_100"): (8.0, 7.25, 7.125, 7.375, 100.0, (8 - 7.25) / 7.25 * 100),
}


@pytest.mark.parametrize(("unit", "measure"), list(EXPECTED))
def test_comparison_by_hand(hand: tuple[Path, Path], unit: str, measure: str) -> None:
    r = _row(_run(*hand).comparison, unit=unit, measure=measure)
    got = (r["value"], r["peer_median"], r["peer_p25"], r["peer_p75"], r["percentile"], r["gap_pct"])
    assert got == pytest.approx(EXPECTED[(unit, measure)], abs=1e-12)
    assert r["peers"] == 2 and r["note"] is None


def test_comparison_blank_and_pool(hand: tuple[Path, Path]) -> None:
    c = _run(*hand).comparison
    assert c.height == 8 * 2 and c["measure"].to_list()[:2] == ["teachers_per_100", "staff_per_100"]
    # pool medians over every unit with a value: 5, 5, 6, 6, 6.5, 7, 8 and 6, 7, 7, 7.5, 8, 8, 9
    assert _row(c, unit="A", measure="teachers_per_100")["pool_median"] == 6.0
    assert _row(c, unit="A", measure="staff_per_100")["pool_median"] == 7.5
    h = _row(c, unit="H", measure="teachers_per_100")
    assert h["value"] is None and h["peers"] == 0 and h["percentile"] is None and h["gap_pct"] is None
    assert h["note"] == "teachers_per_100: students is 0; no peers: ed_pct is blank (students is 0)"
    g = _row(c, unit="G", measure="teachers_per_100")
    assert (g["value"], g["peers"], g["peer_median"]) == (6.0, 0, None)
    assert g["note"] == "no peers: no other district shares its region"


def test_outputs_and_golden(hand: tuple[Path, Path], tmp_path: Path) -> None:
    spec, table = hand
    res = _run(spec, table)
    files = write_benchmark(res, tmp_path / "out", {"spec": spec, "table": table})
    names = [f.name for f in files]
    assert names == ["comparison.csv", "peers.csv", "units.csv", "report.html", "benchmark.xlsx", "manifest.json"]
    produced = (tmp_path / "out" / "comparison.csv").read_bytes()
    golden = GOLDEN / "comparison.csv"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
    assert produced == golden.read_bytes(), (
        "comparison.csv differs; if intended, regenerate with FAIRSHARE_UPDATE_GOLDEN=1"
    )
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 1  # A has a chart; G has no peers
    assert "Ginkgo has no peers" in html and "Hazel" not in html  # the report covers the targets only
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["k"] == 2 and manifest["summary"]["targets"] == ["A", "G"]
    assert [i["role"] for i in manifest["inputs"]] == ["spec", "table"]
    again = write_benchmark(res, tmp_path / "again", {"spec": spec, "table": table})
    assert [f.read_bytes() for f in again] == [f.read_bytes() for f in files]  # byte-identical, xlsx too
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "out" / "benchmark.xlsx")
    assert wb.sheetnames == ["Comparison", "Peers", "Units", "About"]


def test_in_memory_numbers_and_spec_in_code(hand: tuple[Path, Path]) -> None:
    """The ledger profile's way in: a typed polars frame and a spec built in code give the same result."""
    spec, table = hand
    frame = pl.read_csv(table, schema_overrides={"ed": pl.Float64})
    cite = Reference(title="test")
    model = BenchmarkModel(
        benchmark="hand",
        label="Hand-checked benchmark",
        reference=cite,
        units=UnitColumns(id="district", name="district_name"),
        quantities={
            "students_k": Quantity(label="Students", unit="thousand", numerator="students", scale=0.001),
            "ed_pct": Quantity(label="ED", unit="%", numerator="ed", denominator="students", scale=100),
            "teachers_per_100": Quantity(
                label="Teachers", unit="FTE per 100", numerator="teachers", denominator="students", scale=100
            ),
            "staff_per_100": Quantity(
                label="Staff", unit="FTE per 100", numerator=["teachers", "aides"], denominator="students", scale=100
            ),
        },
        measures=["teachers_per_100", "staff_per_100"],
        peers=PeerRule(
            k=Cited(value=2, reference=cite),
            standardise="none",
            variables={
                "ed_pct": PeerVar(weight=Cited(value=1, reference=cite)),
                "students_k": PeerVar(weight=Cited(value=100, reference=cite)),
            },
            match=["region"],
        ),
    )
    mem = run_benchmark(model, frame, "(profile)", ["A"])
    from_file = _run(spec, table)
    assert mem.targets == ("A",)
    assert mem.peers.equals(from_file.peers.drop("students_k", "ed_pct").with_columns(
        mem.peers.select("ed_pct", "students_k")
    ).select(mem.peers.columns))  # fmt: skip
    keep = ["unit", "measure", "value", "peers", "peer_median", "peer_p25", "peer_p75", "percentile", "gap_pct"]
    assert mem.comparison.select(keep).equals(from_file.comparison.select(keep))


def test_log_variable_needs_positive_values(tmp_path: Path) -> None:
    spec = SPEC.replace("    ed_pct: {weight: {value: 1, reference: {title: test}}}\n", "").replace(
        "students_k: {weight:", "students_k: {scale: log, weight:"
    )
    (tmp_path / "s.yaml").write_text(spec, encoding="utf-8")
    (tmp_path / "t.csv").write_text(TABLE, encoding="utf-8")
    res = _run(tmp_path / "s.yaml", tmp_path / "t.csv")
    h = _row(res.units, id="H")
    assert h["students_k"] == 0.0 and h["peers"] == 0
    assert h["note"].endswith("no peers: students_k is 0, and its log needs a value above 0")
    assert _row(res.units, id="F")["peers"] == 2  # ed is no peer variable now


# ------------------------------------------------------------------ properties

_REGIONS = st.sampled_from(["a", "b", "c", None])
_VALUE = st.one_of(st.none(), st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 3)))
_SIZE = st.one_of(st.none(), st.integers(0, 5000))


@st.composite
def _tables(draw: st.DrawFn) -> tuple[pl.DataFrame, BenchmarkModel, list[int]]:
    n = draw(st.integers(1, 14))
    frame = pl.DataFrame(
        {
            "id": [f"U{i:02d}" for i in range(n)],
            "region": [draw(_REGIONS) for _ in range(n)],
            "need": [draw(_VALUE) for _ in range(n)],
            "size": [draw(_SIZE) for _ in range(n)],
            "spend": [draw(_VALUE) for _ in range(n)],
        },
        schema={"id": pl.String, "region": pl.String, "need": pl.Float64, "size": pl.Int64, "spend": pl.Float64},
    )
    cite = Reference(title="test")
    model = BenchmarkModel(
        benchmark="prop",
        label="property",
        reference=cite,
        units=UnitColumns(id="id"),
        quantities={
            "need": Quantity(label="need", unit="%", column="need"),
            "size": Quantity(label="size", unit="pupils", column="size"),
            "spend": Quantity(label="spend", unit="$", column="spend"),
        },
        measures=["spend", "need"],
        peers=PeerRule(
            k=Cited(value=draw(st.integers(1, 5)), reference=cite),
            standardise=draw(st.sampled_from(["z_score", "none"])),
            variables={
                "need": PeerVar(weight=Cited(value=draw(st.sampled_from([0.5, 1.0, 2.0])), reference=cite)),
                "size": PeerVar(weight=Cited(value=1, reference=cite), scale=draw(st.sampled_from(["linear", "log"]))),
            },
            match=draw(st.sampled_from([[], ["region"]])),
        ),
    )
    return frame, model, draw(st.permutations(range(n)))


@given(_tables())
def test_peer_properties(case: tuple[pl.DataFrame, BenchmarkModel, list[int]]) -> None:
    frame, model, order = case
    res = run_benchmark(model, frame, "mem")
    p, k = res.peers, int(model.peers.k.value)
    assert (p["unit"] != p["peer"]).all()  # never its own peer
    counts = p.group_by("unit").len()
    assert counts.is_empty() or counts["len"].max() <= k  # type: ignore[operator]
    region = dict(zip(frame["id"], frame["region"], strict=True))
    if model.peers.match:
        assert all(region[a] == region[b] and region[a] is not None for a, b in zip(p["unit"], p["peer"], strict=True))
    spend = dict(zip(res.units["id"], res.units["spend"], strict=True))
    for r in res.comparison.filter((pl.col("measure") == "spend") & (pl.col("peers") > 0)).iter_rows(named=True):
        vals = [spend[x] for x in p.filter(pl.col("unit") == r["unit"])["peer"] if spend[x] is not None]
        assert len(vals) == r["peers"]
        assert min(vals) <= r["peer_median"] <= max(vals)
        assert min(vals) <= r["peer_p25"] <= r["peer_median"] <= r["peer_p75"] <= max(vals)
    peered = set(p["unit"]) | set(p["peer"])
    blanks = res.units.filter(pl.col("need").is_null() | pl.col("size").is_null())["id"]
    assert peered.isdisjoint(set(blanks))  # a unit missing a peer variable has no peers and is no one's peer
    shuffled = run_benchmark(model, frame[order], "mem")
    assert shuffled.units.equals(res.units)
    assert shuffled.peers.equals(res.peers)
    assert shuffled.comparison.equals(res.comparison)


# ------------------------------------------------------------------ errors


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, ["ledger", "benchmark", *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    return result


def _fails(spec: Path, table: Path, targets: tuple[str, ...] = ()) -> FairshareError:
    with pytest.raises(FairshareError) as info:
        _run(spec, table, targets)
    return info.value


def test_unknown_column_names_the_nearest(hand: tuple[Path, Path], tmp_path: Path) -> None:
    spec, table = hand
    spec.write_text(SPEC.replace("numerator: [teachers, aides]", "numerator: [teachers, aids]"), encoding="utf-8")
    err = _fails(spec, table)
    assert isinstance(err, InputError) and err.code == "missing_column"
    (p,) = err.problems
    assert p.column == "aids" and p.hint == "did you mean 'aides'?" and "quantities.staff_per_100" in p.message
    out = _cli(str(spec), "--data", str(table), "--out", str(tmp_path / "o")).output
    assert "missing_column" in out and "aids" in out


def test_non_numeric_cell_is_located(hand: tuple[Path, Path], tmp_path: Path) -> None:
    spec, table = hand
    table.write_text(TABLE.replace("C,Cedar,N,1000,70,", "C,Cedar,N,1000,70 FTE,"), encoding="utf-8")
    err = _fails(spec, table)
    assert isinstance(err, InputError) and err.code == "not_a_number"
    (p,) = err.problems
    assert (p.file, p.row, p.column, p.value) == (str(table), 4, "teachers", "70 FTE")
    out = _cli(str(spec), "--data", str(table), "--out", str(tmp_path / "o")).output
    assert "not_a_number" in out and "70 FTE" in out


def test_duplicate_id(hand: tuple[Path, Path], tmp_path: Path) -> None:
    spec, table = hand
    table.write_text(TABLE + "B,Birch again,N,10,1,1,1\n", encoding="utf-8")
    err = _fails(spec, table)
    assert err.code == "duplicate_entity"
    (p,) = err.problems
    assert (p.row, p.column, p.value) == (10, "district", "B") and "row 3" in p.message
    assert "duplicate_entity" in _cli(str(spec), "--data", str(table), "--out", str(tmp_path / "o")).output


def test_unknown_quantity_in_measures_is_located(hand: tuple[Path, Path], tmp_path: Path) -> None:
    spec, table = hand
    spec.write_text(SPEC.replace("  - staff_per_100\n", "  - staff_per_10\n"), encoding="utf-8")
    with pytest.raises(FormulaError) as info:
        load_benchmark_spec(spec)
    (p,) = info.value.problems
    line = SPEC.splitlines().index("  - staff_per_100") + 1
    assert (p.code, p.file, p.line, p.col) == ("unknown_id", str(spec), line, 5)
    assert p.hint == "did you mean 'staff_per_100'?"
    out = _cli(str(spec), "--data", str(table), "--out", str(tmp_path / "o")).output
    assert f"{spec}:{line}:5" in out.replace("\n", "") and "unknown_id" in out


def test_unknown_peer_variable_and_bad_k(hand: tuple[Path, Path]) -> None:
    spec, _ = hand
    bad = SPEC.replace("    ed_pct: {weight", "    ed_pc: {weight").replace("k: {value: 2,", "k: {value: 2.5,")
    spec.write_text(bad, encoding="utf-8")
    with pytest.raises(FormulaError) as info:
        load_benchmark_spec(spec)
    assert [p.code for p in info.value.problems] == ["invalid_value"]  # the schema first: k is not whole
    spec.write_text(bad.replace("value: 2.5,", "value: 2,"), encoding="utf-8")
    with pytest.raises(FormulaError) as info:
        load_benchmark_spec(spec)
    (p,) = info.value.problems
    line = bad.splitlines().index("    ed_pc: {weight: {value: 1, reference: {title: test}}}") + 1
    assert (p.code, p.line, p.col, p.hint) == ("unknown_id", line, 5, "did you mean 'ed_pct'?")


def test_quantity_shape_and_spec_in_code_checked(hand: tuple[Path, Path]) -> None:
    spec, table = hand
    bad = SPEC.replace("column: aides, digits: 0", "column: aides, numerator: aides, digits: 0")
    spec.write_text(bad, encoding="utf-8")
    with pytest.raises(FormulaError) as info:
        load_benchmark_spec(spec)
    (p,) = info.value.problems
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if t.startswith("  aides:"))
    assert p.code == "invalid_value" and p.line == line and "exactly one of `column` and `numerator`" in p.message
    model = load_benchmark_spec(_write(spec, SPEC))
    broken = model.model_copy(update={"measures": ["teachers_per_100", "nope"]})
    with pytest.raises(FormulaError, match="'nope' is not a declared quantity"):
        run_benchmark(broken, read_raw(table).frame, "mem")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_example_spec_loads() -> None:
    """The shipped example's spec is valid without the data: 8 measures, 4 cited peer variables, 3 targets."""
    m = load_benchmark_spec(EXAMPLE)
    assert len(m.measures) == 8 and list(m.peers.variables) == [
        "students", "econ_disadv_pct", "emergent_bilingual_pct", "special_ed_pct",
    ]  # fmt: skip
    assert m.targets == ["129902", "212905", "199901"]
    assert all("author" in c.reference.title for c in m.cited().values())


def test_target_not_in_table(hand: tuple[Path, Path], tmp_path: Path) -> None:
    spec, table = hand
    err = _fails(spec, table, ("Z", "Birch"))
    assert err.code == "unknown_entity" and [p.value for p in err.problems] == ["Z", "Birch"]
    assert err.problems[1].hint == "that is the name of district 'B': give its id"
    out = _cli(str(spec), "--data", str(table), "--out", str(tmp_path / "o"), "--target", "Z")
    assert "unknown_entity" in out.output


def test_cli_target_replaces_spec_targets(hand: tuple[Path, Path], tmp_path: Path) -> None:
    spec, table = hand
    result = CliRunner().invoke(
        app, ["ledger", "benchmark", str(spec), "--data", str(table), "--out", str(tmp_path), "--target", "C"]
    )
    assert result.exit_code == 0, result.output
    assert "Cedar (C)" in result.output and "Alder (A) —" not in result.output
    assert json.loads((tmp_path / "manifest.json").read_text())["summary"]["targets"] == ["C"]


# ------------------------------------------------------------------ the Texas example on real data

real = pytest.mark.skipif(not TX.is_file(), reason="real data sets live in ../shared/data")


@pytest.fixture(scope="module")
def tx() -> tuple[Benchmark, pl.DataFrame]:
    if not TX.is_file():
        pytest.skip("real data sets live in ../shared/data")
    raw = read_raw(TX)
    return run_benchmark(load_benchmark_spec(EXAMPLE), raw.frame, raw.path, rows=raw.rows), pl.read_csv(
        TX, infer_schema=False
    )


@real
def test_tx_teachers_per_100_and_peers_recomputed(tx: tuple[Benchmark, pl.DataFrame]) -> None:
    """Forney ISD: teachers per 100 students, its ten peers and their median, recomputed with polars."""
    res, d = tx
    assert res.targets == ("129902", "212905", "199901") and res.units.height == 1230
    pre = "district_2025_"
    mem = pl.col(f"{pre}student_membership_all_students_count").cast(pl.Float64)
    t = d.select(
        pl.col("district_number").alias("id"),
        (pl.col(f"{pre}staff_teacher_total_full_time_equiv_count").cast(pl.Float64) / mem * 100).alias("tp100"),
        mem.log().alias("log_students"),
        *(
            (pl.col(f"{pre}student_membership_{c}_count").cast(pl.Float64) / mem * 100).alias(c)
            for c in ("econ_disadv", "eb_el", "special_ed")
        ),
    )
    variables = ["log_students", "econ_disadv", "eb_el", "special_ed"]
    ok = t.drop_nulls(variables).filter(pl.all_horizontal(pl.col(v).is_finite() for v in variables))
    z = ok.with_columns(((pl.col(v) - pl.col(v).mean()) / pl.col(v).std(ddof=0)).alias(v) for v in variables)
    me = z.filter(pl.col("id") == "129902").row(0, named=True)
    dist = z.filter(pl.col("id") != "129902").with_columns(
        pl.sum_horizontal((pl.col(v) - me[v]) ** 2 for v in variables).sqrt().alias("d")
    )
    expected = dist.sort("d", "id").head(10)
    got = res.peers.filter(pl.col("unit") == "129902")
    assert got["peer"].to_list() == expected["id"].to_list()
    assert got["distance"].to_numpy() == pytest.approx(expected["d"].to_numpy(), abs=1e-9)
    tp = dict(zip(t["id"], t["tp100"], strict=True))
    row = _row(res.comparison, unit="129902", measure="teachers_per_100")
    assert row["value"] == pytest.approx(1212.0 / 18524.0 * 100, abs=1e-12) == pytest.approx(tp["129902"])
    assert row["peer_median"] == pytest.approx(float(np.median([tp[p] for p in expected["id"]])), abs=1e-12)


@real
def test_tx_cli_writes_every_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["ledger", "benchmark", str(EXAMPLE), "--data", str(TX), "--out", str(tmp_path), "--target", "212905"]
    )
    assert result.exit_code == 0, result.output
    assert "TYLER ISD (212905)" in result.output
    comparison = pl.read_csv(tmp_path / "comparison.csv", infer_schema=False)
    assert comparison.height == 1230 * 8
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("<svg") == 1

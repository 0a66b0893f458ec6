"""``fairshare ledger profile`` on a small hand-checked ledger, its errors, and the Alaska example."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fairshare.cli import app
from fairshare.ledger.profile import compute_profile, read_enrollment, read_ledger, read_locations
from fairshare.ledger.profile_spec import ProfileModel, load_profile_spec

SPEC = """profile: t
label: Test profile
enrollment:
  district: name
  students: pupils
  attributes: [rural]
  reference: {title: test counts}
locations:
  district: district
  location: code
  kind: kind
  name: name
  students: pupils
  reference: {title: test locations}
"""
# district A, 3 pupils: FY2020 instruction $100.00 at school 1, central leadership $50.00 at 9 (central),
# operations $10.01 with no location, debt/capital $999.00, not spending $5.00, one unmapped $7.00;
# FY2021 instruction $130.00 at school 1 and central leadership $50.00 at 9.
# district B, 2 pupils, FY2020 only: instruction $1.01 and $1.03 of pupil support (half-even cases).
TRANSACTIONS = """district,fiscal_year,location,category,amount
A,2020,1,instruction,100.00
A,2020,9,central_leadership,50.00
A,2020,,operations,10.01
A,2020,1,debt_capital,999.00
A,2020,,not_spending,5.00
A,2020,1,,7.00
A,2021,1,instruction,130.00
A,2021,9,central_leadership,50.00
B,2020,5,instruction,1.01
B,2020,5,pupil_support,1.03
"""
ENROLLMENT = "name,pupils,rural\nA,3,1\nB,2,0\nC,9,1\n"
LOCATIONS = "district,code,kind,name,pupils\nA,1,school,North,3\nA,9,central,Office,\nB,5,school,Only,\n"


def _ledger(tmp_path: Path, transactions: str = TRANSACTIONS) -> Path:
    d = tmp_path / "ledger"
    d.mkdir()
    (d / "transactions.csv").write_text(transactions)
    (d / "manifest.json").write_text(json.dumps({"crosswalk": {"version": "t1"}}))
    return d


def _files(tmp_path: Path, spec: str = SPEC, enrollment: str = ENROLLMENT, locations: str = LOCATIONS) -> list[str]:
    (tmp_path / "spec.yaml").write_text(spec)
    (tmp_path / "enrollment.csv").write_text(enrollment)
    (tmp_path / "locations.csv").write_text(locations)
    led = tmp_path / "ledger" if (tmp_path / "ledger").exists() else _ledger(tmp_path)
    return [
        "ledger", "profile", str(tmp_path / "spec.yaml"), "--ledger", str(led),
        "--enrollment", str(tmp_path / "enrollment.csv"), "--locations", str(tmp_path / "locations.csv"),
        "--out", str(tmp_path / "out"),
    ]  # fmt: skip


def test_hand_checked_profile(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, _files(tmp_path))
    assert result.exit_code == 0, result.output
    d = pl.read_csv(tmp_path / "out" / "districts.csv", infer_schema=False)
    a20 = d.filter((pl.col("district") == "A") & (pl.col("fiscal_year") == "2020")).row(0, named=True)
    assert a20["operating"] == "160.01"  # 100.00 + 50.00 + 10.01; debt/capital, not spending, unmapped apart
    assert a20["per_pupil"] == "53.34"  # 16001 / 3 = 5333.67 -> 5334 cents
    assert (a20["instruction_pp"], a20["central_leadership_pp"], a20["operations_pp"]) == ("33.33", "16.67", "3.34")
    assert (a20["outside"], a20["not_spending"], a20["unmapped"]) == ("999.00", "5.00", "7.00")
    assert (a20["school"], a20["central"], a20["unclassified"]) == ("100.00", "50.00", "10.01")
    assert (a20["school_share_pct"], a20["central_share_pct"], a20["unclassified_share_pct"]) == ("66.7", "33.3", "6.3")
    b = d.filter(pl.col("district") == "B").row(0, named=True)
    assert (b["instruction_pp"], b["pupil_support_pp"]) == ("0.50", "0.52")  # 50.5 -> 50, 51.5 -> 52: half to even
    ch = pl.read_csv(tmp_path / "out" / "change.csv", infer_schema=False).filter(pl.col("district") == "A")
    total = ch.filter(pl.col("category") == "operating_total").row(0, named=True)
    assert (total["from_per_pupil"], total["to_per_pupil"], total["change"], total["change_pct"]) == (
        "53.34", "60.00", "6.66", "12.5",
    )  # fmt: skip
    instr = ch.filter(pl.col("category") == "instruction").row(0, named=True)
    assert (instr["change"], instr["change_pct"]) == ("10.00", "30.0")  # 33.33 -> 43.33
    ops = ch.filter(pl.col("category") == "operations").row(0, named=True)
    assert (ops["to_per_pupil"], ops["change_pct"]) == ("0.00", "-100.0")
    s = pl.read_csv(tmp_path / "out" / "schools.csv", infer_schema=False)
    north = s.filter((pl.col("location") == "1") & (pl.col("fiscal_year") == "2021")).row(0, named=True)
    assert (north["operating"], north["share_pct"], north["per_pupil"]) == ("130.00", "72.2", "43.33")
    assert s.filter(pl.col("district") == "B")["per_pupil"].to_list() == [None]  # no pupils given
    for name in ("categories.csv", "profile.xlsx", "report.html", "manifest.json"):
        assert (tmp_path / "out" / name).is_file()
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count("<strong>$53.34</strong>") == 1 and "<strong>$60.00</strong>" in html  # every district-year
    assert '<th scope="row">B</th><td>FY2020</td>' in html
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["ledger"]["crosswalk"] == {"version": "t1"} and set(manifest["inputs"]) >= {"enrollment"}


@settings(max_examples=40, deadline=None)
@given(
    amounts=st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=12),
    pupils=st.integers(1, 50_000),
    where=st.lists(st.sampled_from(["1", "9", ""]), min_size=12, max_size=12),
)
def test_sites_add_up_and_per_pupil_is_the_nearest_cent(amounts: list[int], pupils: int, where: list[str]) -> None:
    cats = ["instruction", "operations", "central_leadership", "food"]
    rows = [
        {"district": "A", "fiscal_year": 2020, "location": where[i] or None, "category": cats[i % 4], "cents": c}
        for i, c in enumerate(amounts)
    ]
    ledger = pl.DataFrame(rows, schema={"district": pl.String, "fiscal_year": pl.Int64, "location": pl.String,
                                        "category": pl.String, "cents": pl.Int64})  # fmt: skip
    spec = ProfileModel.model_validate(
        {"profile": "p", "label": "p", "enrollment": {"district": "d", "students": "s", "reference": {"title": "t"}}}
    )
    enrollment = pl.DataFrame({"district": ["A"], "fiscal_year": [2020], "students": [float(pupils)]})
    locs = pl.DataFrame(
        {"district": ["A", "A"], "location": ["1", "9"], "name": ["", ""], "kind": ["school", "central"],
         "students": [float("nan")] * 2}
    )  # fmt: skip
    r = compute_profile(spec, ledger, {}, enrollment, locs).districts.row(0, named=True)
    total = sum(amounts)
    assert r["operating_cents"] == total
    assert r["school_cents"] + r["central_cents"] + r["unclassified_cents"] == total
    assert abs(r["per_pupil_cents"] * pupils - total) * 2 <= pupils  # within half a cent per pupil


def _error(tmp_path: Path, **kw: str) -> str:
    result = CliRunner().invoke(app, _files(tmp_path, **kw))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return result.output


def test_enrollment_must_cover_every_ledger_district(tmp_path: Path) -> None:
    out = _error(tmp_path, enrollment="name,pupils,rural\nA,3,1\n")
    assert "1 problem (1 unknown_entity)" in out  # B in 2020; B has no FY2021 rows to divide


def test_enrollment_errors_are_located(tmp_path: Path) -> None:
    out = _error(tmp_path, enrollment="name,pupils,rural\nA,three,1\nB,2,0\nB,4,0\nC,not read,0\n")
    assert "not_a_number" in out and "three" in out and "duplicate_entity" in out
    assert "not read" not in out  # rows of districts the ledger does not have are not read


def test_location_kind_and_missing_table(tmp_path: Path) -> None:
    out = _error(tmp_path, locations="district,code,kind,name,pupils\nA,1,scool,North,3\n")
    assert "not_allowed" in out and "scool" in out
    args = _files(tmp_path)
    i = args.index("--locations")
    result = CliRunner().invoke(app, args[:i] + args[i + 2 :])
    assert result.exit_code != 0 and "missing_table" in result.output


def test_spec_and_ledger_errors(tmp_path: Path) -> None:
    out = _error(tmp_path, spec=SPEC + "compare:\n  k: {value: 1, reference: {title: t}}\n  variables:\n"
                                       "    wealth: {weight: {value: 1, reference: {title: t}}}\n")  # fmt: skip
    assert "wealth" in out and "spec.yaml" in out
    (tmp_path / "empty").mkdir()
    args = _files(tmp_path)
    args[args.index("--ledger") + 1] = str(tmp_path / "empty")
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0 and "2 problems (2 file_not_found)" in result.output


ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "ak_district_ledgers_fy2019_20"


@pytest.mark.skipif(not DATA.is_dir(), reason="Alaska ledgers not present")
def test_alaska_profile_reconciles_with_the_import(tmp_path: Path) -> None:
    from test_alaska import EX
    from test_alaska import _files as alaska_files

    from fairshare.ledger.outputs import run_ledger_import, write_ledger_import

    pairs = [(EX / f"{m}.yaml", DATA / name) for name, m in alaska_files()]
    run = run_ledger_import(pairs, EX / "crosswalk.yaml")
    write_ledger_import(run, tmp_path / "ledger", pairs, EX / "crosswalk.yaml")
    loaded = load_profile_spec(EX / "profile.yaml").spec
    ledger, manifest = read_ledger(tmp_path / "ledger")
    districts = set(ledger["district"].to_list())
    enrollment = read_enrollment(DATA / "DistrictsNodes.csv", loaded, {(d, y) for d in districts for y in (2019, 2020)})
    p = compute_profile(loaded, ledger, manifest, enrollment, read_locations(EX / "locations.csv", loaded, districts))
    assert p.districts.height == 20
    # operating + outside + not spending + unmapped = every imported cent, per district-year
    m = run.mapped.group_by("district", "fiscal_year").agg(pl.col("amount_cents").sum().alias("all"))
    j = p.districts.join(m, on=["district", "fiscal_year"])
    parts = j["operating_cents"] + j["outside_cents"] + j["not_spending_cents"] + j["unmapped_cents"]
    assert (parts == j["all"]).all()
    # Valdez FY2020, recomputed independently: operating cents / 718 pupils
    v = run.mapped.filter(
        (pl.col("district") == "Valdez City School District")
        & (pl.col("fiscal_year") == 2020)
        & pl.col("category").is_in(list(loaded.operating))
    )
    per_pupil = round(int(v["amount_cents"].sum()) / 718)
    got = p.districts.filter((pl.col("district") == "Valdez City School District") & (pl.col("fiscal_year") == 2020))
    assert got["per_pupil_cents"].item() == per_pupil
    craig = p.districts.filter(pl.col("district").str.starts_with("Craig"))
    assert craig["unclassified_share_pct"].to_list() == [100.0, 100.0]
    assert craig["school_share_pct"].null_count() == 2  # nothing classified: blank, never 0 %


def test_comparable_districts(tmp_path: Path) -> None:
    compare = (
        "compare:\n  k: {value: 1, reference: {title: t}}\n  fiscal_year: 2020\n  variables:\n"
        "    students: {scale: log, weight: {value: 1, reference: {title: t}}}\n"
        "    rural: {weight: {value: 1, reference: {title: t}}}\n"
    )
    result = CliRunner().invoke(app, _files(tmp_path, spec=SPEC + compare))
    assert result.exit_code == 0, result.output
    peers = pl.read_csv(tmp_path / "out" / "peers.csv", infer_schema=False)
    assert peers.select("unit", "peer").rows() == [("A", "B"), ("B", "A")]
    c = pl.read_csv(tmp_path / "out" / "comparison.csv", infer_schema=False)
    a = c.filter((pl.col("unit") == "A") & (pl.col("measure") == "per_pupil")).row(0, named=True)
    assert (a["value"], a["peer_median"], a["gap_pct"]) == ("53.34", "1.02", "5129.4118")  # (53.34 - 1.02) / 1.02
    share = c.filter((pl.col("unit") == "B") & (pl.col("measure") == "school_share_pct")).row(0, named=True)
    assert (share["value"], share["peer_median"]) == ("100.0", "66.7")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Against comparable districts, FY2020" in html and "+5129.4 %" in html

"""The two real examples of `fairshare review schools`, checked against independent computations.

* Texas (TEA TAPR 2024-25, 9,739 campuses): Waco ISD against the state pool; every campus's staff base
  salaries per pupil recomputed with polars from the raw files, the exclusions counted, the groups'
  means, and South Waco EL's ten peers found again by brute force.
* Connecticut (CSDE NCEP FY2025, 165 districts): Alliance against other districts, the group means
  recomputed with polars from the raw files, set beside the state's published school-level figures.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from fairshare.review.schools import SchoolReview, run_school_review

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
TX = DATA / "tx_tapr_2024_25"
CT_NCEP = DATA / "ct_ecs_fy2027" / "district_year_ncep_fy2025.csv"
CT_ALLIANCE = DATA / "ct_alliance_2026" / "identification.csv"
CT_ECS = DATA / "ct_ecs_fy2027" / "town_year_ecs_inputs_fy2027.csv"
CT_AI = DATA / "ct_ecs_fy2027" / "district_year_accountability.csv"
STAFF = "campus_2025_staff_"
MEMBERS = "campus_2025_student_membership_"

tx_present = pytest.mark.skipif(not (TX / "tx_campuses_2024_25.csv").is_file(), reason="real data in ../shared/data")
ct_present = pytest.mark.skipif(not CT_NCEP.is_file(), reason="real data in ../shared/data")


# ------------------------------------------------------------------ Texas


@pytest.fixture(scope="module")
def tx() -> SchoolReview:
    return run_school_review(
        ROOT / "examples" / "review-tx" / "review.yaml",
        [str(TX / "tx_campuses_2024_25.csv"), f"districts={TX / 'tx_districts_2024_25.csv'}"],
    )


def _f(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Float64)


def _salaries(fte: str, salary: str) -> pl.Expr:
    return pl.when(_f(fte) == 0).then(0.0).otherwise(_f(fte) * _f(salary))


@pytest.fixture(scope="module")
def tx_independent() -> pl.DataFrame:
    """Every campus's PPE from the raw files, with polars only."""
    campuses = pl.read_csv(TX / "tx_campuses_2024_25.csv", infer_schema=False)
    districts = pl.read_csv(TX / "tx_districts_2024_25.csv", infer_schema=False).select(
        pl.col("district_number"),
        _salaries(
            "district_2025_staff_central_admin_total_full_time_equiv_count",
            "district_2025_staff_central_admin_total_base_salary_average",
        ).alias("central"),
        _f("district_2025_student_membership_all_students_count").alias("district_members"),
    )
    roles = ("teacher", "support", "school_admin")
    campus = sum(
        (_salaries(f"{STAFF}{r}_total_full_time_equiv_count", f"{STAFF}{r}_total_base_salary_average") for r in roles),
        pl.lit(0.0),
    )
    return (
        campuses.join(districts, on="district_number", how="left")
        .with_columns(
            (campus / _f(f"{MEMBERS}all_students_count") + pl.col("central") / pl.col("district_members")).alias("ppe"),
            _f(f"{MEMBERS}all_students_count").alias("members"),
            (_f(f"{MEMBERS}econ_disadv_count") / _f(f"{MEMBERS}all_students_count") * 100).alias("need"),
            ((pl.col("is_charter") != "1") & (pl.col("aea") != "1")).alias("kept"),
        )
        .with_columns((pl.col("kept") & pl.col("ppe").is_not_null() & (pl.col("members") > 0)).alias("pool"))
    )


@tx_present
def test_tx_every_campus_ppe_recomputed(tx: SchoolReview, tx_independent: pl.DataFrame) -> None:
    ours = tx.schools.filter(pl.col("status") == "in pool").select("id", "ppe")
    theirs = tx_independent.filter(pl.col("pool")).select(pl.col("campus_number").alias("id"), "ppe")
    assert ours.height == theirs.height == 7726
    joined = ours.join(theirs, on="id", how="full", suffix="_check")
    assert joined.null_count().sum_horizontal().item() == 0  # the same campuses
    assert float((joined["ppe"] - joined["ppe_check"]).abs().max()) < 1e-8  # type: ignore[arg-type]


@tx_present
def test_tx_south_waco_by_hand(tx: SchoolReview) -> None:
    row = pl.read_csv(TX / "tx_campuses_2024_25.csv", infer_schema=False).filter(pl.col("campus_number") == "161914130")
    r = row.row(0, named=True)
    campus = sum(
        float(r[f"{STAFF}{role}_total_full_time_equiv_count"]) * float(r[f"{STAFF}{role}_total_base_salary_average"])
        for role in ("teacher", "support", "school_admin")
    )
    central = 51.9 * 102716.0 / 13350.0  # Waco ISD: central administration FTE × average base salary ÷ membership
    unit = tx.unit("161914130")
    assert unit["name"] == "SOUTH WACO EL" and unit["enrollment"] == 490.0
    assert unit["school_ppe"] == pytest.approx(campus / 490.0)
    assert unit["central_ppe"] == pytest.approx(central)
    assert unit["ppe"] == pytest.approx(campus / 490.0 + central)
    assert round(unit["ppe"], 2) == 4352.04
    assert unit["flag"] == "below" and unit["flag_text"].startswith("spends 17.4 % less than its peers' median")
    assert (unit["state_rank"], unit["district_rank"], unit["district_units"]) == (7294, 22, 22)
    assert unit["outcome"] == 0.0 and unit["group"] == "low_rated"


@tx_present
def test_tx_exclusions_and_left_out_counted(tx: SchoolReview, tx_independent: pl.DataFrame) -> None:
    s = tx.schools
    excluded = s.filter(pl.col("status") == "excluded")["reason"].value_counts()
    counts = dict(zip(excluded["reason"].to_list(), excluded["count"].to_list(), strict=True))
    charters = tx_independent.filter(pl.col("is_charter") == "1").height
    aea = tx_independent.filter((pl.col("is_charter") != "1") & (pl.col("aea") == "1")).height
    assert (
        counts
        == {"charter campuses": charters, "alternative-education (AEA) campuses": aea}
        == {
            "charter campuses": 1001,
            "alternative-education (AEA) campuses": 212,
        }
    )
    left = tx_independent.filter(pl.col("kept") & ~pl.col("pool")).height
    assert s.filter(pl.col("status") == "left out").height == left == 800
    blank = s.filter(pl.col("status") == "left out")["reason"].to_list()
    assert all(re.match(r"no (enrollment|spending): .* (is blank|has no row)", x) for x in blank)


@tx_present
def test_tx_group_means_recomputed(tx: SchoolReview, tx_independent: pl.DataFrame) -> None:
    pool = tx_independent.filter(pl.col("pool")).with_columns(
        pl.col("overall_rating_2025").is_in(["D", "F"]).fill_null(False).alias("low")
    )
    g = {r["group"]: r for r in tx.groups.to_dicts()}
    for gid, low in (("low_rated", True), ("other", False)):
        part = pool.filter(pl.col("low") == low)
        assert g[gid]["units"] == part.height
        assert g[gid]["mean_ppe"] == pytest.approx(part["ppe"].mean())
        assert g[gid]["weighted_mean_ppe"] == pytest.approx(
            (part["ppe"] * part["members"]).sum() / part["members"].sum()
        )
    assert g["low_rated"]["gap_pct"] == pytest.approx((g["low_rated"]["mean_ppe"] / g["other"]["mean_ppe"] - 1) * 100)
    assert round(g["low_rated"]["gap_pct"], 1) == -13.1 and round(g["low_rated"]["weighted_gap_pct"], 1) == -1.8


def _grade_mid(span: str | None) -> float:
    """The middle of a grade span, read independently: EE -2, PK -1, KG 0, 01-12, AE 13."""
    codes = {"EE": -2, "PK": -1, "KG": 0, "AE": 13}
    grades = [codes[t] if t in codes else int(t) for t in re.findall(r"EE|PK|KG|AE|\d+", (span or "").upper())]
    return (min(grades) + max(grades)) / 2 if grades else np.nan


@tx_present
def test_tx_peers_found_again_by_brute_force(tx: SchoolReview, tx_independent: pl.DataFrame) -> None:
    pool = tx_independent.filter(pl.col("pool")).with_columns(
        pl.col("grade_range").map_elements(_grade_mid, return_dtype=pl.Float64).alias("grade")
    )
    ready = pool.filter(pl.col("need").is_not_null() & pl.col("grade").is_not_nan())
    x = np.column_stack([ready["need"].to_numpy(), np.log(ready["members"].to_numpy()), ready["grade"].to_numpy()])
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    w = np.array([2.0, 1.0, 1.0])
    ids = ready["campus_number"].to_numpy()
    me = int(np.flatnonzero(ids == "161914130")[0])
    d = np.sqrt((((z - z[me]) ** 2) * w).sum(axis=1))
    same = (ready["school_type"].to_numpy() == "Elementary School") & (ids != ids[me])
    order = sorted(np.flatnonzero(same), key=lambda j: (d[j], ids[j]))[:10]
    peers = tx.peers_of("161914130")
    assert peers["peer_id"].to_list() == ids[order].tolist()
    assert peers["distance"].to_numpy() == pytest.approx(d[order])
    assert tx.unit("161914130")["peer_median"] == pytest.approx(float(np.median(peers["peer_ppe"].to_numpy())))


@tx_present
def test_tx_charts_and_district_first(tx: SchoolReview) -> None:
    assert set(tx.charts) == {"array", "ppe_vs_high_needs", "ppe_vs_outcome", "quadrants", "peers"}
    assert all(svg.startswith("<svg") for svg in tx.charts.values())
    waco = tx.district_units()
    assert waco.height == 23 and set(waco["district"].to_list()) == {"161914"}
    assert waco.filter(pl.col("status") == "in pool").height == 22  # the detention centre is an AEA campus


# ------------------------------------------------------------------ Connecticut


@pytest.fixture(scope="module")
def ct() -> SchoolReview:
    return run_school_review(
        ROOT / "examples" / "review-ct" / "review.yaml",
        [str(CT_NCEP), f"alliance={CT_ALLIANCE}", f"ecs={CT_ECS}", f"accountability={CT_AI}"],
    )


@ct_present
def test_ct_group_means_recomputed_and_set_beside_the_state_figures(ct: SchoolReview) -> None:
    ncep = pl.read_csv(CT_NCEP)
    alliance = set(pl.read_csv(CT_ALLIANCE)["district"].to_list())
    ncep = ncep.with_columns(pl.col("district").is_in(list(alliance)).alias("alliance"))
    assert ncep["alliance"].sum() == 36
    g = {r["group"]: r for r in ct.groups.to_dicts()}
    for gid, flag in (("alliance", True), ("other", False)):
        part = ncep.filter(pl.col("alliance") == flag)
        assert g[gid]["units"] == part.height
        assert g[gid]["mean_ppe"] == pytest.approx(part["ncep"].mean())
        assert g[gid]["weighted_mean_ppe"] == pytest.approx((part["ncep"] * part["adm"]).sum() / part["adm"].sum())
    # FY2025 district NCEP: Alliance $21,455 against $25,031 (mean, -14.3 %), $20,644 against $23,265 weighted
    # (-11.3 %). The state's figures ($16,750 against $18,527, -9.6 %) are 2023-24 school-level spending
    # without central office, charters, magnets, RESCs and technical schools: a different measure.
    assert [round(g["alliance"][k]) for k in ("mean_ppe", "weighted_mean_ppe")] == [21455, 20644]
    assert [round(g["other"][k]) for k in ("mean_ppe", "weighted_mean_ppe")] == [25031, 23265]
    assert (round(g["alliance"]["gap_pct"], 1), round(g["alliance"]["weighted_gap_pct"], 1)) == (-14.3, -11.3)
    assert round((16750 - 18527) / 18527 * 100, 1) == -9.6


@ct_present
def test_ct_joins_and_hartford(ct: SchoolReview) -> None:
    hartford = ct.unit("64")
    ai = pl.read_csv(CT_AI).filter(pl.col("District Code") == 640011)["accountability_index"].item()
    ecs = pl.read_csv(CT_ECS).filter(pl.col("town_code") == 64).row(0, named=True)
    assert hartford["ppe"] == 23793.69 and hartford["enrollment"] == 18417.52
    assert hartford["outcome"] == pytest.approx(ai)
    assert hartford["high_needs_pct"] == pytest.approx(ecs["frpl_count"] / ecs["resident_students"] * 100)
    assert hartford["group"] == "alliance" and hartford["flag"] == "above"
    assert ct.peers_of("64")["peer_name"].to_list()[:3] == ["Bridgeport", "New Haven", "Meriden"]
    regional = ct.schools.filter(pl.col("id").cast(pl.Int64) > 200)
    assert regional.height == 17 and set(regional["flag"].to_list()) == {"no_peers"}  # no town row in the ECS table
    assert ct.fits["outcome"].n == 165 and ct.fits["high_needs"].n == 148


@tx_present
def test_tx_packet_for_south_waco(tx: SchoolReview, tmp_path: Path) -> None:
    """The packet a Waco ISD review meeting would use: the campus against its district and its Texas peers."""
    from fairshare.review.packet import write_packet
    from fairshare.review.packets import build_packet, packet_units

    assert (
        len(packet_units(tx)) == tx.schools.filter(pl.col("in_focus_district") & (pl.col("status") == "in pool")).height
    )
    packet = build_packet(tx, "161914130")
    figures = dict(packet.figures)
    assert figures["Gap to peers"] == "-17.4 %" and figures["Peers' median"].startswith("$")
    assert (
        "Spends 17.4 % less than its peers' median — discuss the allocation strategy." in packet.sections[0].paragraphs
    )
    html, pdf = write_packet(packet, tmp_path, "south-waco")
    data = pdf.read_bytes()
    pages = re.search(rb"/Count (\d+)", data)
    assert data.startswith(b"%PDF-") and pages is not None and int(pages.group(1)) >= 3
    assert "SOUTH WACO EL" in html.read_text(encoding="utf-8")


SEATTLE = DATA / "seattle_school_budgets" / "sps_data_extract.csv"


@pytest.mark.skipif(not SEATTLE.is_file(), reason="real data in ../shared/data")
def test_seattle_one_year_of_a_school_by_year_table() -> None:
    """`rows:` keeps 2023-24 of a table with one row per school and year; PPE and groups recomputed here."""
    review = run_school_review(ROOT / "examples" / "review-seattle" / "review.yaml", str(SEATTLE))
    raw = pl.read_csv(SEATTLE).filter(pl.col("Year") == "2023-24")
    assert review.schools.height == raw.height == 73
    ours = dict(zip(review.schools["id"], review.schools["ppe"], strict=True))
    for r in raw.iter_rows(named=True):
        assert ours[r["School"]] == pytest.approx(
            r["Total Budget (BUDGET)"] / r["Total AAFTE* Enrollment (ENROLLMENT)"]
        )
    title_i = raw.with_columns(
        (pl.col("Total Budget (BUDGET)") / pl.col("Total AAFTE* Enrollment (ENROLLMENT)")).alias("ppe"),
        (pl.col("Federal Title I (BUDGET)").fill_null(0) > 0).alias("t1"),
    )
    groups = {r["group"]: r for r in review.groups.iter_rows(named=True)}
    for gid, flag in (("title_i", True), ("other", False)):
        part = title_i.filter(pl.col("t1") == flag)
        assert groups[gid]["units"] == part.height
        assert groups[gid]["mean_ppe"] == pytest.approx(part["ppe"].mean())
    # Title I schools get more per pupil: a progressive distribution inside the district
    assert groups["title_i"]["gap_pct"] > 30
    gatzert = review.unit("Bailey Gatzert Elementary")
    assert gatzert["flag"] == "below" and review.peers_of("Bailey Gatzert Elementary").height == 5

"""Ledger import, crosswalk and spending profile on generated general ledgers of 100,000 and 1,000,000 rows.

The ledger is SYNTHETIC (seed 2026): Alaska-style fund/function/object/location codes drawn from the
codes the shipped crosswalk maps (and a few it does not), amounts in cents, one district, two fiscal
years. The crosswalk is ``examples/ledger-alaska/crosswalk.yaml``. Prints seconds per step and rows per
second; writes nothing but a temporary directory.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from fairshare.errors import Problem
from fairshare.ledger import apply_crosswalk, import_ledger, load_crosswalk, load_mapping
from fairshare.ledger.profile import compute_profile
from fairshare.ledger.profile_spec import ProfileModel

ROOT = Path(__file__).resolve().parents[1]
CROSSWALK = ROOT / "examples" / "ledger-alaska" / "crosswalk.yaml"
MAPPING = """source: synthetic benchmark ledger
district: Synthetic SD
columns: {fund: Fund, function: Function, object: Object, location: School, description: Memo,
          fiscal_year: FY, amount: Amount}
exclude:
  - id: total
    reason: summary row
    when: [{column: Memo, matches: 'Total$'}]
"""
FUNCTIONS = np.array(
    ["100", "200", "220", "300", "350", "400", "450", "510", "550", "600", "700", "760", "790", "900", "0"]
)
OBJECTS = np.array(["315", "320", "350", "410", "420", "435", "450", "510", "550", "610", "R30"])


def synthetic_ledger(n: int, path: Path, seed: int = 2026) -> None:
    rng = np.random.default_rng(seed)
    cents = rng.integers(-50_000, 2_000_000, n)
    amount = [f"{c / 100:.2f}" for c in cents.tolist()]
    pl.DataFrame(
        {
            "FY": rng.choice(["19", "20"], n),
            "Fund": rng.choice(["100", "205", "255"], n),
            "Function": rng.choice(FUNCTIONS, n),
            "Object": rng.choice(OBJECTS, n),
            "School": rng.choice(["10", "20", "30", "99"], n),
            "Memo": np.where(rng.random(n) < 0.001, "Fund Total", "payment"),
            "Amount": amount,
        }
    ).write_csv(path)


def main() -> None:
    cw = load_crosswalk(CROSSWALK)
    spec = ProfileModel.model_validate(
        {
            "profile": "bench",
            "label": "bench",
            "enrollment": {"district": "d", "students": "s", "reference": {"title": "synthetic"}},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "m.yaml").write_text(MAPPING)
        mapping = load_mapping(Path(tmp) / "m.yaml")
        for n in (100_000, 1_000_000):
            data = Path(tmp) / f"ledger_{n}.csv"
            synthetic_ledger(n, data)
            problems: list[Problem] = []
            t0 = time.perf_counter()
            src = import_ledger(mapping, data, problems)
            t1 = time.perf_counter()
            mapped = apply_crosswalk(src.imported, cw, problems)
            t2 = time.perf_counter()
            assert not problems, problems[:3]
            rows = mapped.select(
                "district",
                "fiscal_year",
                "location",
                pl.col("category").fill_null("unmapped"),
                pl.col("amount_cents").alias("cents"),
            )
            enrollment = pl.DataFrame(
                {"district": ["Synthetic SD"] * 2, "fiscal_year": [2019, 2020], "students": [18_000.0] * 2}
            )
            locs = pl.DataFrame(
                {"district": ["Synthetic SD"] * 4, "location": ["10", "20", "30", "99"], "name": [""] * 4,
                 "kind": ["school", "school", "school", "central"], "students": [float("nan")] * 4}
            )  # fmt: skip
            profile = compute_profile(spec, rows, {}, enrollment, locs)
            t3 = time.perf_counter()
            print(
                f"{n:>9,} rows: import {t1 - t0:6.2f} s ({n / (t1 - t0):>9,.0f} rows/s), "
                f"crosswalk {t2 - t1:5.2f} s, profile {t3 - t2:5.2f} s; "
                f"{src.excluded.height:,} excluded, {profile.districts.height} district-years"
            )


if __name__ == "__main__":
    main()

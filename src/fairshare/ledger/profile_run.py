"""``fairshare ledger profile`` end to end: read the spec and tables, compute, compare, write."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from fairshare.ledger.profile import Profile, compute_profile, read_enrollment, read_ledger, read_locations
from fairshare.ledger.profile_compare import compare_profile, comparison_section
from fairshare.ledger.profile_outputs import write_profile
from fairshare.ledger.profile_spec import load_profile_spec

__all__ = ["run_profile"]


def run_profile(
    spec_file: Path, ledger_dir: Path, enrollment: Path, locations: Path | None, out_dir: Path
) -> tuple[Profile, list[Path]]:
    loaded = load_profile_spec(spec_file)
    spec = loaded.spec
    ledger, manifest = read_ledger(ledger_dir)
    pairs = set(ledger.select("district", "fiscal_year").unique().iter_rows())
    districts = {d for d, _ in pairs}
    table = read_enrollment(enrollment, spec, pairs)
    sites = None
    if spec.locations is not None:
        if locations is None:
            from fairshare.errors import InputError, Problem

            raise InputError(
                Problem(
                    "missing_table",
                    "the spec reads a locations table: give it with --locations",
                    file=loaded.file,
                    hint="or take the locations: section out of the spec",
                )
            )
        sites = read_locations(locations, spec, districts)
    profile = compute_profile(spec, ledger, manifest, table, sites)
    inputs = [("spec", spec_file), ("transactions", ledger_dir / "transactions.csv"), ("enrollment", enrollment)]
    if locations is not None:
        inputs.append(("locations", locations))
    bench = compare_profile(profile)
    extra, section = {}, None
    if bench is not None:
        extra = {name: f.with_columns(pl.col(pl.Float64).round(4)) for name, f in
                 (("peers", bench.peers), ("comparison", bench.comparison))}  # fmt: skip
        year = spec.compare.fiscal_year if spec.compare and spec.compare.fiscal_year else max(y for _, y in pairs)
        section = comparison_section(bench, year)
    return profile, write_profile(profile, out_dir, inputs, extra, section)

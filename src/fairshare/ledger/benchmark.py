"""Each unit (district) against comparable units: stated quantities, the k nearest peers, how it compares.

Rules (also in ``docs/ledger-benchmark.md``):

* **Table**: one row per unit. Numbers are read strictly (:func:`fairshare.io.columns.number_column` for
  text cells: a cell that is not a plain decimal number is a located problem naming the file, row, column
  and value); a blank cell is never read as zero. In-memory frames may hold numbers already (a null or NaN
  is blank; an infinite number is a problem). Row numbers are the user's: given by ``rows``, else 2, 3, …
  (a CSV whose header is row 1). A blank or repeated unit id is a problem; every column the spec names
  must exist (the error lists the nearest names the table has).
* **Quantities**: ``column`` → the cell × ``scale``; ``numerator`` (one column or a list, summed) →
  Σ numerator × ``scale``, ÷ Σ ``denominator`` when one is given. A quantity with a blank input is blank
  for that unit; a denominator of 0 gives a blank; both with the reason in ``note``.
* **Peers** (:mod:`fairshare.review.peers`): each peer variable is a quantity, taken as its natural log
  where ``scale: log``; with ``standardise: z_score`` each is turned into z-scores over the units that can
  have peers (population SD). Distance = √(Σ weight × (z_i − z_j)²). A unit's peers are its k nearest
  units, nearest first, equal distances by id; a unit is never its own peer. Units whose ``match``
  values differ are never peers. A unit with a blank peer variable (or a log variable ≤ 0) or a blank
  match value gets no peers and is no one's peer; the reason is in ``note``.
* **Against the peers**, for each measure: ``peers`` = how many of the unit's peers have a value;
  ``peer_median``; ``peer_p25``/``peer_p75`` (linear interpolation between the sorted values, as NumPy's
  default and Excel's PERCENTILE.INC); ``percentile`` = % of those peers at or below the unit's value;
  ``gap_pct`` = (value − median) ÷ median × 100 (blank when the median is 0 or below);
  ``pool_median`` = the median over every unit of the table with a value.
* **Deterministic**: units are sorted by id before anything is computed, so the row order of the
  table never changes a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from fairshare.errors import FormulaError, InputError
from fairshare.ledger.benchmark_outputs import rule_text, write_benchmark
from fairshare.ledger.benchmark_spec import (
    BenchmarkModel,
    PeerRule,
    PeerVar,
    Quantity,
    UnitColumns,
    load_benchmark_spec,
    spec_problems,
)
from fairshare.ledger.benchmark_table import compute_quantity, missing_columns, read_units, resolve_targets
from fairshare.review.peers import nearest, peer_stats, standardise

__all__ = [
    "COMPARISON_COLUMNS",
    "PEER_COLUMNS",
    "Benchmark",
    "BenchmarkModel",
    "PeerRule",
    "PeerVar",
    "Quantity",
    "UnitColumns",
    "load_benchmark_spec",
    "rule_text",
    "run_benchmark",
    "write_benchmark",
]

#: the columns of :attr:`Benchmark.comparison` (and comparison.csv)
COMPARISON_COLUMNS = (
    "unit", "name", "measure", "label", "unit_of_measure", "value", "peers", "peer_median", "peer_p25",
    "peer_p75", "percentile", "gap_pct", "pool_median", "note",
)  # fmt: skip
#: the fixed columns of :attr:`Benchmark.peers`; one column per peer variable follows
PEER_COLUMNS = ("unit", "name", "rank", "peer", "peer_name", "distance")


@dataclass(frozen=True)
class Benchmark:
    """The result: every unit's quantities, its peers and each measure against them.

    ``units``: ``id, name``, the match columns, one column per quantity, ``peers`` (how many) and
    ``note``. ``peers``: one row per unit and peer, nearest first (:data:`PEER_COLUMNS`, then the peer's
    value of each peer variable). ``comparison``: one row per unit and measure (:data:`COMPARISON_COLUMNS`).
    Units are in id order; values keep full precision (null where blank). ``scaling``: each peer
    variable's centre and scale (mean and SD, after the log where asked; 0 and 1 without z-scores)."""

    spec: BenchmarkModel
    units: pl.DataFrame
    peers: pl.DataFrame
    comparison: pl.DataFrame
    scaling: dict[str, tuple[float, float]]
    #: the units the report covers
    targets: tuple[str, ...] = ()
    #: the table's file name (or what the caller called it)
    source: str = "(table)"
    #: units that can have peers (every peer variable and match value present)
    eligible: int = 0


# ------------------------------------------------------------------ the run


def run_benchmark(
    spec: BenchmarkModel,
    table: pl.DataFrame,
    source: str,
    targets: Sequence[str] = (),
    *,
    rows: Sequence[int] | np.ndarray | None = None,
) -> Benchmark:
    """Compute the quantities, the peers and the comparison of every unit of ``table``.

    ``source`` names the table in error messages. ``targets`` (unit ids) replace the spec's targets when
    given. Raises :class:`FormulaError` for a spec whose measures or peer variables name no quantity and
    :class:`InputError` listing every problem of the table (missing columns, bad cells, blank or repeated
    ids, unknown targets)."""
    bad = spec_problems(spec)
    if bad:
        raise FormulaError(bad)
    missing = missing_columns(spec, table, source)
    if missing:
        raise InputError(missing)
    ids, names, match, numbers, problems = read_units(spec, table, source, rows)
    problems.raise_if_any(InputError)
    wanted = resolve_targets(spec, targets, ids, names, source)
    order = sorted(range(len(ids)), key=ids.__getitem__)
    ids = [ids[i] for i in order]
    names = [names[i] for i in order]
    match = {c: [v[i] for i in order] for c, v in match.items()}
    numbers = {c: v[order] for c, v in numbers.items()}
    n = len(ids)

    values: dict[str, np.ndarray] = {}
    notes: dict[str, list[str]] = {}
    for qid, q in spec.quantities.items():
        values[qid], notes[qid] = compute_quantity(qid, q, numbers, n)

    rule = spec.peers
    why = np.full(n, "", dtype=object)
    for v, pv in rule.variables.items():
        x = values[v]
        for i in np.flatnonzero(~np.isfinite(x) & (why == "")):
            why[i] = f"no peers: {v} is blank" + (f" ({notes[v][i].split(': ', 1)[1]})" if notes[v][i] else "")
        if pv.scale == "log":
            for i in np.flatnonzero(np.isfinite(x) & (x <= 0) & (why == "")):
                why[i] = f"no peers: {v} is {x[i]:g}, and its log needs a value above 0"
    for c, col in match.items():
        for j in (j for j, v in enumerate(col) if v is None and why[j] == ""):
            why[j] = f"no peers: {c} is blank"
    ready = why == ""
    names_v = list(rule.variables)
    z, scaling = standardise(
        {v: values[v] for v in names_v}, {v: rule.variables[v].scale == "log" for v in names_v}, ready, rule.standardise
    )
    key = np.array(["\x1f".join(match[c][i] or "" for c in rule.match) for i in range(n)], dtype=object)
    k = int(rule.k.value)
    idx, dist = nearest(
        z,
        np.array([rule.variables[v].weight.value for v in names_v]),
        ready,
        k,
        types=key if rule.match else None,
        type_rule="exact" if rule.match else None,
    )
    count = (idx >= 0).sum(axis=1)
    alone = "shares its " + " and ".join(rule.match) if rule.match else "can be compared with it"
    why[ready & (count == 0)] = f"no peers: no other {spec.units.kind} {alone}"

    unit_frame = _units_frame(spec, ids, names, match, values, notes, why, count)
    peer_frame = _peers_frame(spec, ids, names, values, idx, dist)
    comparison = _comparison(spec, ids, names, values, notes, why, idx)
    return Benchmark(spec, unit_frame, peer_frame, comparison, scaling, wanted, source, int(ready.sum()))


def _name_list(names: list[str | None]) -> pl.Series:
    return pl.Series(names, dtype=pl.String)


def _units_frame(
    spec: BenchmarkModel,
    ids: list[str],
    names: list[str | None],
    match: dict[str, list[str | None]],
    values: dict[str, np.ndarray],
    notes: dict[str, list[str]],
    why: np.ndarray,
    count: np.ndarray,
) -> pl.DataFrame:
    n = len(ids)
    note = []
    for i in range(n):
        parts = [notes[q][i] for q in spec.quantities if notes[q][i]]
        if why[i]:
            parts.append(str(why[i]))
        note.append("; ".join(parts) or None)
    cols: dict[str, pl.Series] = {"id": pl.Series(ids, dtype=pl.String), "name": _name_list(names)}
    cols |= {c: pl.Series(v, dtype=pl.String) for c, v in match.items()}
    cols |= {q: pl.Series(values[q], dtype=pl.Float64).fill_nan(None) for q in spec.quantities}
    cols["peers"] = pl.Series(count, dtype=pl.Int64)
    cols["note"] = pl.Series(note, dtype=pl.String)
    return pl.DataFrame(cols)


def _peers_frame(
    spec: BenchmarkModel,
    ids: list[str],
    names: list[str | None],
    values: dict[str, np.ndarray],
    idx: np.ndarray,
    dist: np.ndarray,
) -> pl.DataFrame:
    rows, ranks = np.nonzero(idx >= 0)  # row-major: by unit, then rank
    peer = idx[rows, ranks]
    cols: dict[str, pl.Series] = {
        "unit": pl.Series([ids[i] for i in rows], dtype=pl.String),
        "name": _name_list([names[i] for i in rows]),
        "rank": pl.Series(ranks + 1, dtype=pl.Int64),
        "peer": pl.Series([ids[j] for j in peer], dtype=pl.String),
        "peer_name": _name_list([names[j] for j in peer]),
        "distance": pl.Series(dist[rows, ranks], dtype=pl.Float64),
    }
    cols |= {v: pl.Series(values[v][peer], dtype=pl.Float64).fill_nan(None) for v in spec.peers.variables}
    return pl.DataFrame(cols)


def _comparison(
    spec: BenchmarkModel,
    ids: list[str],
    names: list[str | None],
    values: dict[str, np.ndarray],
    notes: dict[str, list[str]],
    why: np.ndarray,
    idx: np.ndarray,
) -> pl.DataFrame:
    n, measures = len(ids), spec.measures
    parts: list[pl.DataFrame] = []
    has = idx >= 0
    for order, mid in enumerate(measures):
        q = spec.quantities[mid]
        x = values[mid]
        with_value = has & np.isfinite(x[np.maximum(idx, 0)])
        idx_m = np.where(with_value, idx, -1)
        count, median, pct, gap = peer_stats(x, idx_m)
        pct[~np.isfinite(x)] = np.nan
        p25, p75 = np.full(n, np.nan), np.full(n, np.nan)
        some = count > 0
        if some.any():
            peer_values = np.where(idx_m >= 0, x[np.maximum(idx_m, 0)], np.nan)[some]
            p25[some], p75[some] = np.nanpercentile(peer_values, [25, 75], axis=1)
        finite = x[np.isfinite(x)]
        pool = float(np.median(finite)) if len(finite) else None
        note = []
        for i in range(n):
            bits = [notes[mid][i]] if notes[mid][i] else []
            if why[i]:
                bits.append(str(why[i]))
            elif count[i] == 0:
                bits.append("no peer has a value for this measure")
            elif np.isfinite(x[i]) and not np.isfinite(gap[i]):
                bits.append("no gap: the peers' median is 0 or below")
            note.append("; ".join(bits) or None)
        parts.append(
            pl.DataFrame(
                {
                    "unit": pl.Series(ids, dtype=pl.String),
                    "name": _name_list(names),
                    "measure": [mid] * n,
                    "label": [q.label] * n,
                    "unit_of_measure": [q.unit] * n,
                    "value": pl.Series(x, dtype=pl.Float64).fill_nan(None),
                    "peers": pl.Series(count, dtype=pl.Int64),
                    "peer_median": pl.Series(median, dtype=pl.Float64).fill_nan(None),
                    "peer_p25": pl.Series(p25, dtype=pl.Float64).fill_nan(None),
                    "peer_p75": pl.Series(p75, dtype=pl.Float64).fill_nan(None),
                    "percentile": pl.Series(pct, dtype=pl.Float64).fill_nan(None),
                    "gap_pct": pl.Series(gap, dtype=pl.Float64).fill_nan(None),
                    "pool_median": pl.Series([pool] * n, dtype=pl.Float64),
                    "note": pl.Series(note, dtype=pl.String),
                    "_order": [order] * n,
                    "_i": np.arange(n),
                }
            )
        )
    return pl.concat(parts).sort("_i", "_order").drop("_i", "_order")

"""Compute a trends report: read the tables a spec names, compare periods, recompute changes and shares, check claims.

"Improved" means strictly better in the indicator's direction; a unit lacking either value is missing,
never unchanged. Changes are always written in the indicator's own sign (to − from). Every data problem is
collected with its file, row and column (or the spec's file:line:col) before raising.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare.errors import InputError, Problem, ProblemList
from fairshare.io.columns import has_columns, number_column, text_column
from fairshare.io.read import RawTable, read_raw
from fairshare.trends.spec import Change, Share, TrendsSpec, load_trends_spec

__all__ = ["TrendsResult", "run_trends"]

#: digits kept in the CSVs (values are printed with one or two decimals; this removes float noise only)
DIGITS = 6


@dataclass
class LongTable:
    #: (indicator, period) -> unit -> value (NaN where the cell is blank)
    values: dict[tuple[str, str], dict[str, float]]
    #: indicator -> every unit with a row for it
    units: dict[str, set[str]]


@dataclass
class TrendsResult:
    spec: TrendsSpec
    improvement: pl.DataFrame
    units: pl.DataFrame
    exceeded: pl.DataFrame
    changes: dict[str, pl.DataFrame]
    shares: dict[str, pl.DataFrame]
    claims: pl.DataFrame
    #: comparison id -> the units.csv rows of that comparison
    by_comparison: dict[str, list[dict[str, Any]]]
    inputs: list[Path]
    notes: list[str] = field(default_factory=list)


def _r(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(x, DIGITS) + 0.0


class _Reader:
    def __init__(self, spec: TrendsSpec, data: Path) -> None:
        self.spec, self.data = spec, data
        self.problems = ProblemList()
        self.inputs: list[Path] = []
        self._raw: dict[str, RawTable] = {}

    def path(self, name: str) -> Path:
        return self.data if self.data.is_file() else self.data / name

    def raw(self, name: str) -> RawTable:
        if name not in self._raw:
            p = self.path(name)
            self._raw[name] = read_raw(p)
            if p not in self.inputs:
                self.inputs.append(p)
        return self._raw[name]

    def filtered(self, raw: RawTable, where: dict[str, Any]) -> np.ndarray:
        keep = np.ones(raw.n, dtype=bool)
        for col, wanted in where.items():
            values = {str(v) for v in (wanted if isinstance(wanted, list) else [wanted])}
            cells = raw.frame.get_column(col).fill_null("").to_numpy().astype(object)
            keep &= np.array([c in values for c in cells], dtype=bool)
        return keep

    def names(self, raw: RawTable, col: str) -> np.ndarray:
        norm = self.spec.model.names.normalise
        return np.array([norm(str(s)) for s in text_column(raw, col, self.problems)], dtype=object)

    def long(self, tid: str) -> LongTable | None:
        t = self.spec.model.tables[tid]
        raw = self.raw(t.file)
        if not has_columns(raw, [t.unit, t.indicator, t.period, t.value, *t.where], self.problems, f"table {tid}"):
            return None
        keep = self.filtered(raw, t.where)
        units = self.names(raw, t.unit)
        inds = text_column(raw, t.indicator, self.problems)
        periods = text_column(raw, t.period, self.problems)
        values = number_column(raw, t.value, self.problems, required=False)
        out = LongTable({}, {})
        seen: dict[tuple[str, str, str], int] = {}
        for i in np.flatnonzero(keep):
            key = (str(inds[i]), str(periods[i]), str(units[i]))
            row = int(raw.rows[i])
            if key in seen:
                self.problems.add(
                    "duplicate_observation",
                    f"{key[2]!r} has two {key[0]} values for {key[1]} (first on row {seen[key]})",
                    file=raw.path,
                    row=row,
                    column=t.unit,
                    value=raw.frame.get_column(t.unit)[int(i)],
                    hint=f"filter the rows (tables.{tid}.where) so each unit, indicator and period appears once",
                )
                continue
            seen[key] = row
            out.values.setdefault(key[:2], {})[key[2]] = float(values[i])
            out.units.setdefault(key[0], set()).add(key[2])
        return out

    def group(self, gid: str) -> list[str]:
        g = self.spec.model.groups[gid]
        norm = self.spec.model.names.normalise
        if g.units is not None:
            return sorted({norm(u) for u in g.units})
        assert g.from_table is not None
        raw = self.raw(g.from_table.file)
        if not has_columns(raw, [g.from_table.unit, *g.from_table.where], self.problems, f"group {gid}"):
            return []
        keep = self.filtered(raw, g.from_table.where)
        return sorted({str(n) for n in self.names(raw, g.from_table.unit)[keep] if n})


def _status(change: float, sign: float) -> str:
    if math.isnan(change):
        return "missing"
    return "improved" if change * sign > 0 else "declined" if change * sign < 0 else "unchanged"


def _mean(xs: list[float]) -> float:
    return float(np.mean(xs)) if xs else math.nan


def _decimals(x: float | str) -> int:
    text = str(x)
    return len(text.split(".")[1]) if "." in text else 0


def _agrees(computed: float, reported_text: str | float) -> bool:
    """The recomputed figure rounds to the printed one (half a unit in its last printed place)."""
    if math.isnan(computed):
        return False
    return bool(abs(computed - float(reported_text)) <= 0.5 * 10 ** -_decimals(reported_text) + 1e-9)


def run_trends(spec_path: str | Path, data: str | Path) -> TrendsResult:
    spec = load_trends_spec(spec_path)
    return compute(spec, Path(data))


def compute(spec: TrendsSpec, data: Path) -> TrendsResult:
    if not data.exists():
        raise InputError(
            Problem("file_not_found", "--data does not exist (a folder of tables or one table)", file=str(data))
        )
    m = spec.model
    rd = _Reader(spec, data)
    tables = {tid: rd.long(tid) for tid in m.tables}
    groups = {gid: rd.group(gid) for gid in m.groups}
    rd.problems.raise_if_any(InputError)
    problems = ProblemList()
    notes: list[str] = []

    def universe(tid: str, ind: str, units: str) -> list[str]:
        t = tables[tid]
        assert t is not None
        return sorted(t.units.get(ind, set())) if units == "all" else groups[units]

    def series(tid: str, ind: str, period: str, path: tuple[str, ...]) -> dict[str, float]:
        t = tables[tid]
        assert t is not None
        if (ind, period) not in t.values:
            have = sorted({p for (i, p) in t.values if i == ind})
            problems.add(
                "period_not_in_data",
                f"table {tid} has no {ind} values for period {period!r}",
                hint=f"periods it has: {', '.join(have)}" if have else f"the table has no rows for {ind}",
                **spec.where(*path),
            )
            return {}
        return t.values[(ind, period)]

    imp_rows: list[dict[str, Any]] = []
    unit_rows: list[dict[str, Any]] = []
    by_comparison: dict[str, list[dict[str, Any]]] = {}
    for cid, c in m.comparisons.items():
        sign = m.indicators[c.indicator].sign
        a = series(c.table, c.indicator, c.from_, ("comparisons", cid, "from"))
        b = series(c.table, c.indicator, c.to, ("comparisons", cid, "to"))
        members = universe(c.table, c.indicator, c.units)
        rows: list[dict[str, Any]] = []
        changes: list[float] = []
        improved: list[float] = []
        for u in members:
            va, vb = a.get(u, math.nan), b.get(u, math.nan)
            ch = vb - va
            if not math.isnan(ch):
                changes.append(ch)
                if _status(ch, sign) == "improved":
                    improved.append(ch)
            rows.append(
                {
                    "unit": u,
                    "indicator": c.indicator,
                    "from": c.from_,
                    "to": c.to,
                    "value_from": _r(va),
                    "value_to": _r(vb),
                    "change": _r(ch),
                    "status": _status(ch, sign),
                }
            )
        absent = [u for u in members if u not in a and u not in b]
        if c.units != "all" and absent:
            notes.append(
                f"{cid}: {len(absent)} of group {c.units}'s units have no row in table {c.table}: " + ", ".join(absent)
            )
        by_comparison[cid] = rows
        unit_rows.extend(rows)
        imp_rows.append(
            {
                "indicator": c.indicator,
                "from_period": c.from_,
                "to_period": c.to,
                "units": len(rows),
                "improved": len(improved),
                "declined": sum(r["status"] == "declined" for r in rows),
                "unchanged": sum(r["status"] == "unchanged" for r in rows),
                "missing": sum(r["status"] == "missing" for r in rows),
                "mean_change": _r(_mean(changes)),
                "mean_change_improved": _r(_mean(improved)),
            }
        )

    ex_rows: list[dict[str, Any]] = []
    for eid, e in m.exceeded.items():
        sign = m.indicators[e.indicator].sign
        ref = series(e.table, e.indicator, e.reference, ("exceeded", eid, "reference"))
        cur = series(e.table, e.indicator, e.period, ("exceeded", eid, "period"))
        members = universe(e.table, e.indicator, e.units)
        st = {u: _status(cur.get(u, math.nan) - ref.get(u, math.nan), sign) for u in members}
        above = [u for u in members if st[u] == "improved"]
        ex_rows.append(
            {
                "id": eid,
                "indicator": e.indicator,
                "reference_period": e.reference,
                "period": e.period,
                "units": len(members),
                "exceeded": len(above),
                "not_exceeded": sum(s in ("declined", "unchanged") for s in st.values()),
                "missing": sum(s == "missing" for s in st.values()),
                "exceeded_units": "; ".join(above),
            }
        )

    change_frames = {xid: _change(rd, x, groups) for xid, x in m.changes.items()}
    share_frames = {sid: _share(rd, s) for sid, s in m.shares.items()}
    rd.problems.raise_if_any(InputError)
    if problems:
        raise InputError(problems.problems)

    improvement = _frame(imp_rows, _IMPROVEMENT)
    units = _frame(unit_rows, _UNITS)
    exceeded = _frame(ex_rows, _EXCEEDED)
    claims = _claims(spec, dict(zip(m.comparisons, imp_rows, strict=True)), ex_rows, change_frames, share_frames)
    return TrendsResult(
        spec, improvement, units, exceeded, change_frames, share_frames, claims, by_comparison, rd.inputs, notes
    )


_TYPES = {"i": pl.Int64, "f": pl.Float64}


def _schema(spec: str) -> dict[str, pl.DataType]:
    """Column names with an optional type suffix (``:i`` integer, ``:f`` float; text otherwise)."""
    out: dict[str, pl.DataType] = {}
    for item in spec.split():
        name, _, t = item.partition(":")
        out[name] = _TYPES[t]() if t else pl.String()
    return out


def _frame(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


_IMPROVEMENT = _schema(
    "indicator from_period to_period units:i improved:i declined:i unchanged:i missing:i mean_change:f "
    "mean_change_improved:f"
)
_UNITS = _schema("unit indicator from to value_from:f value_to:f change:f status")
_EXCEEDED = _schema("id indicator reference_period period units:i exceeded:i not_exceeded:i missing:i exceeded_units")
_CHANGE = _schema(
    "series row kind units:i from_period to_period value_from:f value_to:f change:f change_reported agrees"
)
_SHARE = _schema("period part:f whole:f share_pct:f share_reported agrees")
_CLAIMS = _schema("text claimed computed status note")


def _change(rd: _Reader, x: Change, groups: dict[str, list[str]]) -> pl.DataFrame:
    raw = rd.raw(x.file)
    cols = [x.row, x.from_.column, x.to.column, *(c for c in (x.by, x.reported) if c)]
    if not has_columns(raw, cols, rd.problems, f"change {x.label}"):
        return pl.DataFrame(schema=_CHANGE)
    names = rd.names(raw, x.row)
    by = text_column(raw, x.by, rd.problems) if x.by else np.full(raw.n, "", dtype=object)
    va = number_column(raw, x.from_.column, rd.problems, required=False)
    vb = number_column(raw, x.to.column, rd.problems, required=False)
    reported = raw.frame.get_column(x.reported).fill_null("").to_list() if x.reported else [""] * raw.n
    if x.reported:
        number_column(raw, x.reported, rd.problems, required=False)
    ch = vb - va if x.kind == "points" else (vb / np.where(va == 0, np.nan, va) - 1.0) * 100.0
    rows: list[dict[str, Any]] = []
    base = {"kind": "", "from_period": x.from_.period, "to_period": x.to.period}
    for s in dict.fromkeys(by.tolist()):
        idx = [i for i in range(raw.n) if by[i] == s]
        if x.groups:
            for gid in x.groups:
                members = set(groups[gid]) if gid != "all" else {str(names[i]) for i in idx} - set(x.keep)
                sel = [i for i in idx if names[i] in members and not (math.isnan(va[i]) or math.isnan(vb[i]))]
                label = rd.spec.model.groups[gid].label if gid != "all" else "all units"
                rows.append(
                    {
                        **base,
                        "series": s,
                        "row": label,
                        "kind": "group mean",
                        "units": len(sel),
                        "value_from": _r(_mean([float(va[i]) for i in sel])),
                        "value_to": _r(_mean([float(vb[i]) for i in sel])),
                        "change": _r(_mean([float(ch[i]) for i in sel])),
                        "change_reported": "",
                        "agrees": "",
                    }
                )
        for i in idx:
            if x.groups and names[i] not in x.keep:
                continue
            rep = str(reported[i])
            rows.append(
                {
                    **base,
                    "series": s,
                    "row": str(names[i]),
                    "kind": "row",
                    "units": 1,
                    "value_from": _r(va[i]),
                    "value_to": _r(vb[i]),
                    "change": _r(ch[i]),
                    "change_reported": rep,
                    "agrees": ("yes" if _agrees(ch[i], rep) else "no") if rep else "",
                }
            )
    return _frame(rows, _CHANGE)


def _share(rd: _Reader, s: Share) -> pl.DataFrame:
    raw = rd.raw(s.file)
    if not has_columns(raw, [s.period, s.part, s.whole, *([s.reported] if s.reported else [])], rd.problems, s.label):
        return pl.DataFrame(schema=_SHARE)
    periods = text_column(raw, s.period, rd.problems)
    part = number_column(raw, s.part, rd.problems, required=False)
    whole = number_column(raw, s.whole, rd.problems, required=False)
    reported = raw.frame.get_column(s.reported).fill_null("").to_list() if s.reported else [""] * raw.n
    if s.reported:
        number_column(raw, s.reported, rd.problems, required=False)
    pct = part / np.where(whole == 0, np.nan, whole) * 100.0
    rows = [
        {
            "period": str(periods[i]),
            "part": _r(part[i]),
            "whole": _r(whole[i]),
            "share_pct": _r(pct[i]),
            "share_reported": str(reported[i]),
            "agrees": ("yes" if _agrees(pct[i], reported[i]) else "no") if reported[i] else "",
        }
        for i in range(raw.n)
    ]
    return _frame(rows, _SHARE)


def _claims(
    spec: TrendsSpec,
    comparisons: dict[str, dict[str, Any]],
    exceeded: list[dict[str, Any]],
    changes: dict[str, pl.DataFrame],
    shares: dict[str, pl.DataFrame],
) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    ex = {r["id"]: r for r in exceeded}
    for c in spec.model.claims:
        note = ""
        if c.kind in ("comparison", "exceeded"):
            assert c.count is not None
            r = comparisons[c.comparison] if c.comparison else ex[str(c.exceeded)]
            got = int(r["improved"] if c.comparison else r["exceeded"])
            claimed = f"{c.count}" + (f" of {c.of}" if c.of is not None else "")
            computed = f"{got} of {r['units']}"
            ok = got == c.count and (c.of is None or c.of == r["units"])
            if r["missing"]:
                note = f"{r['missing']} of {r['units']} units lack a value in one of the two periods"
            if c.of is not None and c.of != r["units"]:
                note = (note + "; " if note else "") + f"the data have {r['units']} units, the claim {c.of}"
        else:
            assert c.percent is not None
            if c.change is not None:
                f = changes[c.change].filter(pl.col("row") == spec.model.names.normalise(str(c.row)))
                if c.series is not None:
                    f = f.filter(pl.col("series") == c.series)
                value = f.get_column("change")[0] if f.height == 1 else None
                what = f"{c.change} row {c.row!r}"
            else:
                f = shares[str(c.share)].filter(pl.col("period") == c.period)
                value = f.get_column("share_pct")[0] if f.height == 1 else None
                what = f"{c.share} period {c.period!r}"
            claimed = f"{c.percent:g}"
            if value is None:
                computed, ok = "", False
                note = f"{what}: " + ("no such row" if f.height == 0 else f"{f.height} rows match; name a series")
            else:
                computed = f"{value:.{_decimals(c.percent) + 2}f}"
                ok = _agrees(float(value), c.percent)
                note = f"rounds to {round(float(value), _decimals(c.percent)):.{_decimals(c.percent)}f}"
        rows.append(
            {
                "text": c.text,
                "claimed": claimed,
                "computed": computed,
                "status": "supported" if ok else "not supported",
                "note": note,
            }
        )
    return _frame(rows, _CLAIMS)

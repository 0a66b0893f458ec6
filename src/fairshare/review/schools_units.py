"""The units of a review: roles read, exclusions and groups decided, and every missing value accounted for.

A unit is **excluded** by the first exclusion whose condition holds. Otherwise it is **in the pool**
when its PPE can be computed (enrollment above 0, spending, central office) and every exclusion could be
decided; with ``missing: leave_out`` a unit that is not is **left out** with the reason, and with
``missing: error`` each such value is a located problem. A unit in the pool without a value a peer
variable (or its type) needs has no peers; one whose group cannot be decided is in no group — both
with the reason, or a problem with ``missing: error``. A missing outcome only means the unit has none.
Values of excluded units are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fairshare.errors import FormulaError, InputError, Problem, ProblemList
from fairshare.programs.identify_data import key_text
from fairshare.review.grades import parse_grade_spans
from fairshare.review.ppe import central_per_pupil, district_total
from fairshare.review.schools_data import Source, Tables

__all__ = ["Units", "read_units"]


@dataclass(frozen=True)
class Units:
    """One entry per unit, in id order. Text is '' where absent; numbers NaN."""

    ids: np.ndarray
    names: np.ndarray
    district: np.ndarray
    district_name: np.ndarray
    type: np.ndarray
    grade_span: np.ndarray
    grade_low: np.ndarray
    grade_high: np.ndarray
    enrollment: np.ndarray
    #: the unit's own spending per pupil, before central office
    school_ppe: np.ndarray
    #: central office per pupil (0 where the spec allocates none)
    central_ppe: np.ndarray
    #: percent of pupils with high needs, 0-100
    high_needs: np.ndarray
    outcome: np.ndarray
    #: exclusion id, '' when not excluded
    excluded: np.ndarray
    #: why a unit that is not excluded is not in the pool ('' when it is)
    left_out: np.ndarray
    #: group id, '' when in none
    group: np.ndarray
    group_note: np.ndarray
    #: why a unit of the pool has no peers
    peer_note: np.ndarray
    #: each peer variable's values, before log and standardisation
    peer_values: dict[str, np.ndarray]
    #: each unit's row in the first table's file
    rows: np.ndarray
    sources: list[Source] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def pool(self) -> np.ndarray:
        return np.asarray((self.excluded == "") & (self.left_out == ""), dtype=bool)

    @property
    def ppe(self) -> np.ndarray:
        return np.asarray(self.school_ppe + self.central_ppe, dtype=float)


class _Reader:
    """Roles read from the tables; problems collected; reasons recorded where values are missing."""

    def __init__(self, t: Tables) -> None:
        self.t, self.spec, self.n = t, t.spec, t.n
        self.problems = ProblemList()
        self.strict = self.spec.model.missing == "error"
        self.ids = np.full(self.n, "", dtype=object)

    def text(self, name: str | None) -> np.ndarray:
        if name is None:
            return np.full(self.n, "", dtype=object)
        v = self.t.get(name)
        out = key_text(v) if v.dtype.kind == "f" else np.array([str(x) for x in v], dtype=object)
        out[self.t.miss(name)] = ""
        return out

    def number(self, name: str, *path: str) -> np.ndarray:
        v = self.t.get(name)
        if v.dtype.kind != "f":
            where = self.spec.where(*path)
            raise FormulaError(
                Problem("invalid_value", f"{'.'.join(path)}: {name} is text; a number is needed", **where)
            )
        return v

    def where(self, name: str, i: int) -> dict[str, Any]:
        """File, row and column of ``name``'s cell for unit ``i`` (the unit's own row for a variable)."""
        owner = self.t.owner.get(name)
        if owner is not None and owner != self.spec.primary:
            j = int(self.t.match[owner][0][i])
            raw = self.t.raws[owner]
            return {"file": raw.path, "row": int(raw.rows[j]) if j >= 0 else None, "column": self.header(name)}
        raw = self.t.raws[self.spec.primary]
        return {"file": raw.path, "row": int(raw.rows[i]), "column": self.header(name)}

    def header(self, name: str) -> str:
        return (self.spec.column(name).column or name) if name in self.t.owner else name

    def bad(self, code: str, name: str, rows: np.ndarray, message: str, rule: str, values: np.ndarray) -> None:
        """A located problem for each unit in ``rows`` (a value that breaks a rule, whatever ``missing`` says)."""
        for i in np.flatnonzero(rows):
            v = values[i]
            shown = f"{v:g}" if isinstance(v, float) else str(v)
            self.problems.add(
                code, f"unit {self.ids[i]}: {message}", value=shown, rule=rule, **self.where(name, int(i))
            )

    def why(self, name: str, rows: np.ndarray, reason: np.ndarray, what: str) -> None:
        """Record why ``name`` has no value for the units in ``rows`` (first reason kept); a problem when strict."""
        for i in np.flatnonzero(rows & (reason == "")):
            if self.t.miss(name)[i]:
                words, where = self.t.locate(name, int(i))
            else:
                where = self.where(name, int(i))
                value = self.t.get(name)[i]
                state = "is blank" if value == "" else f"is {value:g}, not a finite number"
                words = f"{where['column']} {state} (row {where['row']})"
            reason[i] = f"{what}: {words}"
            if self.strict:
                code = "not_finite" if "finite" in words else "missing_value"
                self.problems.add(code, f"unit {self.ids[i]}: {what} — {words}", **where)


def read_units(t: Tables) -> Units:
    """The units of the review from its tables; every data problem is collected before raising."""
    r = _Reader(t)
    m, n = t.spec.model, t.n
    r.ids = ids = r.text(m.unit.id)
    names = r.text(m.unit.name)
    names = np.where(names == "", ids, names)
    district, district_name, utype = r.text(m.unit.district), r.text(m.unit.district_name), r.text(m.unit.type)
    span = r.text(m.unit.grade_span)
    low, high, bad_span = parse_grade_spans(span)
    excluded, left_out = _exclusions(r)
    live = excluded == ""
    if m.unit.district is not None:
        r.why(m.unit.district, live & (district == ""), left_out, "no district")
    if m.unit.grade_span is not None:
        r.bad(
            "not_allowed",
            m.unit.grade_span,
            live & bad_span,
            "not a grade span",
            "EE, PK, KG, 01-12, AE: e.g. EE-05",
            span,
        )
    s = m.spending
    enrollment = r.number(s.enrollment, "spending", "enrollment")
    r.why(s.enrollment, live & np.isnan(enrollment), left_out, "no enrollment")
    r.bad("below_minimum", s.enrollment, live & (enrollment < 0), "enrollment is negative", ">= 0", enrollment)
    zero = live & (enrollment == 0) & (left_out == "")
    if r.strict:
        r.bad("below_minimum", s.enrollment, zero, "enrollment is 0: no per-pupil figure", "> 0", enrollment)
    left_out[zero] = "enrollment is 0: no per-pupil figure"
    spend_key = "expenditure" if s.expenditure is not None else "per_pupil"
    spend_name = s.expenditure or s.per_pupil or ""
    spend = r.number(spend_name, "spending", spend_key)
    r.why(spend_name, live & ~np.isfinite(spend), left_out, "no spending")
    r.bad("below_minimum", spend_name, live & (spend < 0), "spending is negative", ">= 0", spend)
    with np.errstate(divide="ignore", invalid="ignore"):
        school_ppe = spend / np.where(enrollment > 0, enrollment, np.nan) if s.expenditure else spend.copy()
    central = _central(r, live, left_out, district, enrollment)
    high_needs = _high_needs(r, live, enrollment)
    outcome = _outcome(r, live)
    pool = live & (left_out == "")
    group, group_note = _groups(r, pool)
    peer_note = np.full(n, "", dtype=object)
    peer_values = _peer_values(r, pool, peer_note, high_needs, enrollment, low, high)
    if m.peers is not None and m.peers.type is not None and m.unit.type is not None:
        r.why(m.unit.type, pool & (utype == "") & (peer_note == ""), peer_note, "no peers: no type")
    r.problems.raise_if_any(InputError)
    return Units(
        ids, names, district, district_name, utype, span, low, high, enrollment, school_ppe, central, high_needs,
        outcome, excluded, left_out, group, group_note, peer_note, peer_values, t.rows(), t.sources,
    )  # fmt: skip


def _exclusions(r: _Reader) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's exclusion (the first that holds), and why a unit that none excludes but one cannot decide
    (a value its condition reads is missing) is left out."""
    t, m, n = r.t, r.spec.model, r.n
    excluded = np.full(n, "", dtype=object)
    left_out = np.full(n, "", dtype=object)
    undecided = np.full(n, "", dtype=object)
    for xid, e in r.spec.exclusions.items():
        holds = t.evaluate(e, ("exclude", xid, "when"), f"exclusion {xid}").astype(bool)
        miss = t.any_missing(e)
        open_ = excluded == ""  # one this exclusion cannot decide may still be excluded by a later one
        excluded[open_ & holds & ~miss] = xid
        undecided[open_ & (undecided == "") & miss] = xid
    for xid, e in r.spec.exclusions.items():
        rows = (excluded == "") & (undecided == xid)
        for name in sorted(e.names() - set(m.parameters)):
            r.why(name, rows & t.miss(name), left_out, f"cannot tell whether it is one of the {m.exclude[xid].label}")
    return excluded, left_out


def _same_in_district(r: _Reader, name: str, values: np.ndarray, district: np.ndarray) -> None:
    """A district-level value must be the same on every row of the district that has it."""
    first: dict[str, int] = {}
    for i in np.flatnonzero(np.isfinite(values)):
        d = str(district[i])
        if d not in first:
            first[d] = int(i)
        elif values[i] != values[first[d]]:
            r.problems.add(
                "district_amount_varies",
                f"unit {r.ids[i]}: {name} is {values[i]:g} here but {values[first[d]]:g} for unit "
                f"{r.ids[first[d]]} of the same district {d}",
                value=f"{values[i]:g}",
                rule="one value per district",
                hint="a district-level amount is repeated on every row of its district: correct the row that differs",
                **r.where(name, int(i)),
            )


def _central(r: _Reader, live: np.ndarray, left_out: np.ndarray, district: np.ndarray, enr: np.ndarray) -> np.ndarray:
    co = r.spec.model.spending.central_office
    if co is None:
        return np.zeros(r.n)
    if co.per_pupil is not None:
        central = r.number(co.per_pupil, "spending", "central_office", "per_pupil")
        r.why(co.per_pupil, live & np.isnan(central), left_out, "no central-office amount")
        return central
    assert co.amount is not None
    amount = r.number(co.amount, "spending", "central_office", "amount")
    _same_in_district(r, co.amount, amount, district)
    r.why(co.amount, live & np.isnan(amount), left_out, "no central-office amount")
    if co.enrollment is not None:
        denom = r.number(co.enrollment, "spending", "central_office", "enrollment")
        _same_in_district(r, co.enrollment, denom, district)
        r.why(co.enrollment, live & np.isnan(denom), left_out, "no district enrollment")
    else:
        denom = district_total(enr, district)
        name = r.spec.model.spending.enrollment
        for i in np.flatnonzero(live & np.isnan(denom) & (left_out == "")):
            j = int(np.flatnonzero((district == district[i]) & np.isnan(enr))[0])
            words, where = r.t.locate(name, j)
            left_out[i] = f"no district enrollment: unit {r.ids[j]} of its district has none ({words})"
            if r.strict:
                r.problems.add("missing_value", f"unit {r.ids[i]}: {left_out[i]}", **where)
    return central_per_pupil(amount, denom)


def _high_needs(r: _Reader, live: np.ndarray, enrollment: np.ndarray) -> np.ndarray:
    hn = r.spec.model.high_needs
    if hn is None:
        return np.full(r.n, np.nan)
    key = "count" if hn.count else "percent" if hn.percent else "share"
    name = hn.count or hn.percent or hn.share or ""
    raw = r.number(name, "high_needs", key)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = raw / enrollment * 100.0 if hn.count else raw if hn.percent else raw * 100.0
    top, rule = {
        "count": (raw > enrollment, "a count <= the enrollment"),
        "percent": (raw > 100.0, "a percent <= 100"),
        "share": (raw > 1.0, "a share <= 1"),
    }[key]
    code = "exceeds_total" if key == "count" else "above_maximum"
    r.bad(code, name, live & top, "more high-need pupils than pupils", rule, raw)
    r.bad("below_minimum", name, live & (raw < 0), "high needs are negative", ">= 0", raw)
    return np.asarray(pct, dtype=float)


def _outcome(r: _Reader, live: np.ndarray) -> np.ndarray:
    o = r.spec.model.outcome
    if o is None:
        return np.full(r.n, np.nan)
    if o.scale is None:
        return r.number(o.value, "outcome", "value").copy()
    text = r.text(o.value)
    out = np.full(r.n, np.nan)
    for label, score in o.scale.items():
        out[text == label] = score
    unknown = live & (text != "") & np.isnan(out) & ~np.isin(text, o.not_scored)
    allowed = ", ".join([*o.scale, *o.not_scored])
    r.bad("not_allowed", o.value, unknown, "an outcome the scale does not list", f"one of: {allowed}", text)
    return out


def _groups(r: _Reader, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pooled unit's group: the first whose condition holds; none when a condition before it is undecided."""
    t, m = r.t, r.spec.model
    group = np.full(r.n, "", dtype=object)
    note = np.full(r.n, "", dtype=object)
    open_ = pool.copy()
    for gid, e in r.spec.groups.items():
        if e is None:
            group[open_] = gid
            break
        holds = t.evaluate(e, ("groups", gid, "when"), f"group {gid}").astype(bool)
        miss = t.any_missing(e)
        group[open_ & holds & ~miss] = gid
        for name in sorted(e.names() - set(m.parameters)):
            r.why(name, open_ & t.miss(name), note, f"in no group: cannot tell whether it is in {m.groups[gid].label}")
        open_ &= ~(holds | miss)
    return group, note


def _peer_values(
    r: _Reader,
    pool: np.ndarray,
    note: np.ndarray,
    high_needs: np.ndarray,
    enrollment: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> dict[str, np.ndarray]:
    m = r.spec.model
    out: dict[str, np.ndarray] = {}
    if m.peers is None:
        return out
    builtin = {
        "high_needs": (high_needs, m.high_needs and (m.high_needs.count or m.high_needs.percent or m.high_needs.share)),
        "enrollment": (enrollment, m.spending.enrollment),
        "grade_span": ((low + high) / 2.0, m.unit.grade_span),
        "grade_low": (low, m.unit.grade_span),
        "grade_high": (high, m.unit.grade_span),
    }
    for v, pv in m.peers.variables.items():
        if v in builtin:
            values, src = builtin[v][0], str(builtin[v][1] or v)
        else:
            values, src = r.number(v, "peers", "variables", v), v
        out[v] = values
        r.why(src, pool & ~np.isfinite(values), note, f"no peers: no {v}")
        if pv.scale == "log":
            nonpos = pool & (values <= 0) & (note == "")
            if r.strict:
                r.bad("below_minimum", src, nonpos, f"{v} must be above 0 for its log", "> 0 (log scale)", values)
            for i in np.flatnonzero(nonpos):
                note[i] = f"no peers: {v} is {values[i]:g}, and its log needs a value above 0"
    return out

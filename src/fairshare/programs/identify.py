"""Rule-based identification and tiering (``fairshare identify``): who is identified, why, in which tier.

For each year needed (the run year, and the years before it that look-back or a phased exit read),
the universe is applied in order (an entity outside it is not ranked and the first entry it fails is
its reason), then the rule tree. Ranks: ``bottom`` ranks 1 = lowest value, ``top`` 1 = highest, among
the universe's entities of that year that have a value; ties share the better rank (competition
ranking), so every entity tied at the cut is within it. Lists are ordered by rank, then by id.

Status against the previous list: *entered* (identified, not before), *stayed*, *transition* (before,
no longer meets the rule, kept until it has failed ``after_years`` consecutive years), *left*.
Tiers: each scheme's levels in order, the first that holds wins; ranks in a tier rule are among the
identified entities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairshare.errors import InputError, Problem, ProblemList, RunError
from fairshare.programs.identify_data import Frame, PreviousList, load_frame, read_previous
from fairshare.programs.identify_grant import GrantResult, grant_for
from fairshare.programs.identify_reasons import label_of, reasons
from fairshare.programs.identify_rules import load_rules
from fairshare.programs.identify_schema import AllOf, AnyOf, Cond, IdentifyRules, Node, Not, Rank

__all__ = ["Identification", "LeafResult", "identify", "run_identify", "summary"]


@dataclass(frozen=True)
class LeafResult:
    """One rank or condition test over the rows of a year: values, ranks, pass."""

    leaf: Rank | Cond
    value: np.ndarray
    passed: np.ndarray
    missing: np.ndarray
    rank: np.ndarray | None = None
    ties: np.ndarray | None = None
    ranked: int = 0
    count: int | None = None


@dataclass
class _Year:
    rows: np.ndarray
    in_universe: np.ndarray
    failed_entry: np.ndarray
    qualifies: np.ndarray
    leaves: dict[str, LeafResult]


@dataclass
class Identification:
    rules: IdentifyRules
    frame: Frame
    year: int | None
    years: list[int]
    rows: np.ndarray
    ids: np.ndarray
    names: np.ndarray
    in_universe: np.ndarray
    failed_entry: np.ndarray
    leaves: dict[str, LeafResult]
    qualifies: np.ndarray
    history: np.ndarray  # entities × years used (oldest first): qualified that year
    meets: np.ndarray
    previous: PreviousList | None
    identified: np.ndarray
    status: np.ndarray
    years_failing: np.ndarray
    tiers: dict[str, np.ndarray] = field(default_factory=dict)
    tier_leaves: dict[str, dict[str, LeafResult]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    tier_reasons: dict[str, list[str]] = field(default_factory=dict)
    grant: GrantResult | None = None
    notes: list[str] = field(default_factory=list)

    def order(self) -> np.ndarray:
        """Row order for listings: identified first, by primary tier order, then by name and id."""
        tier_pos = np.zeros(len(self.ids), dtype=np.int64)
        if self.tiers:
            sid = next(iter(self.tiers))
            levels = list(self.rules.model.tiers[sid].levels)
            tier_pos = np.array([levels.index(t) if t else len(levels) for t in self.tiers[sid]], dtype=np.int64)
        keys = [
            (not self.identified[i], int(tier_pos[i]), str(self.names[i]), str(self.ids[i]))
            for i in range(len(self.ids))
        ]
        return np.array(sorted(range(len(self.ids)), key=lambda i: keys[i]), dtype=np.int64)


# ------------------------------------------------------------------ tests of one year


def _competition(x: np.ndarray, among: np.ndarray, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    key = -x if descending else x
    pool = np.sort(key[among])
    rank = np.zeros(len(x), dtype=np.int64)
    ties = np.zeros(len(x), dtype=np.int64)
    left = np.searchsorted(pool, key[among], side="left")
    right = np.searchsorted(pool, key[among], side="right")
    rank[among] = left + 1
    ties[among] = right - left - 1
    return rank, ties


class _Eval:
    """Evaluates criterion trees over some rows, collecting located problems for missing values."""

    def __init__(self, frame: Frame, rows: np.ndarray, extra: dict[str, np.ndarray], problems: ProblemList) -> None:
        self.frame, self.rows, self.problems = frame, rows, problems
        self.env = frame.env(rows) | extra
        self.results: dict[str, LeafResult] = {}

    def _missing(self, names: set[str], leaf_id: str, rule: str, policy: str, scope: np.ndarray) -> np.ndarray:
        miss = self.frame.missing_of(names, self.rows)
        if policy == "error":
            for j in np.flatnonzero(miss & scope):
                row = int(self.rows[j])
                bad = next(n for n in sorted(names) if n in self.frame.missing and self.frame.missing[n][row])
                where = self.frame.locate(bad, row)
                why = where.pop("why")
                needs = label_of(self.frame.rules, bad)
                self.problems.add(
                    "missing_value",
                    f"{self.frame.names[row]} ({self.frame.ids[row]}): {why}; {rule} needs {needs}",
                    rule=f"{rule} ({leaf_id})",
                    hint="fill the value, or declare `missing: not_met` on the rule so that no value counts as not met",
                    **where,
                )
        return miss

    def node(self, node: Node, scope: np.ndarray) -> np.ndarray:
        out: np.ndarray
        if isinstance(node, AnyOf):
            out = np.zeros(len(self.rows), dtype=bool)
            for c in node.children:
                out = out | self.node(c, scope)
            return out
        if isinstance(node, AllOf):
            out = np.array(scope, dtype=bool)
            for c in node.children:
                out = out & self.node(c, scope)
            return out
        if isinstance(node, Not):
            out = scope & ~self.node(node.child, scope)
            return out
        if isinstance(node, Rank):
            return self.rank(node, scope)
        return self.cond(node, scope)

    def rank(self, leaf: Rank, scope: np.ndarray) -> np.ndarray:
        rules = self.frame.rules
        x = np.asarray(self.env[leaf.by])
        if x.dtype.kind not in "fiub":
            raise RunError(
                Problem(
                    "invalid_value",
                    f"rule {leaf.id} ranks by {leaf.by!r}, which is not a number",
                    **rules.where(*leaf.path, "by"),
                )
            )
        x = x.astype(float)
        miss = self._missing({leaf.by}, leaf.id, f"rule {leaf.id}", leaf.missing, scope)
        among = scope & ~miss
        rank, ties = _competition(x, among, leaf.direction == "top")
        n = int(rules.params[leaf.count].value)
        passed: np.ndarray = among & (rank <= n)
        self.results[leaf.id] = LeafResult(leaf, x, passed, miss, rank, ties, int(among.sum()), n)
        return passed

    def cond(self, leaf: Cond, scope: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            value = np.broadcast_to(np.asarray(leaf.expr.compile()(self.env)), (len(self.rows),)).astype(bool)
        miss = self._missing(leaf.expr.names(), leaf.id, f"rule {leaf.id}", leaf.missing, scope)
        passed: np.ndarray = value & scope & ~miss
        self.results[leaf.id] = LeafResult(leaf, value, passed, miss)
        return passed


def _year(rules: IdentifyRules, frame: Frame, rows: np.ndarray, problems: ProblemList) -> _Year:
    ev = _Eval(frame, rows, {}, problems)
    inside = np.ones(len(rows), dtype=bool)
    failed = np.full(len(rows), "", dtype=object)
    for uid, e in rules.universe.items():
        entry = rules.model.universe[uid]
        with np.errstate(all="ignore"):
            value = np.broadcast_to(np.asarray(e.compile()(ev.env)), (len(rows),)).astype(bool)
        miss = ev._missing(e.names(), uid, f"universe entry {uid}", entry.missing, inside)
        ok = value & ~miss
        failed[inside & ~ok] = uid
        inside &= ok
    qualifies = ev.node(rules.rule, inside)
    return _Year(rows, inside, failed, qualifies, ev.results)


# ------------------------------------------------------------------ the run


def identify(rules: IdentifyRules, frame: Frame, previous_path: Path | None = None) -> Identification:
    m = rules.model
    problems = ProblemList()
    all_years = sorted({int(y) for y in frame.years}) if frame.years is not None else []
    year = m.year if m.year is not None else (all_years[-1] if all_years else None)
    if year is not None and year not in all_years:
        raise InputError(
            Problem(
                "missing_year",
                f"the rules identify for year {year} but the data has {_span(all_years)}",
                **rules.where("year"),
            )
        )
    k = int(rules.params[m.lookback.years].value) if m.lookback else 1
    phased = m.exit is not None and m.exit.rule == "phased" and m.exit.after_years is not None
    exit_after = int(rules.params[m.exit.after_years].value) if phased and m.exit and m.exit.after_years else 0
    past = [y for y in all_years if year is None or y <= year]
    used = past[-max(k, exit_after, 1) :] if past else []
    if m.lookback is not None and len(past) < k:
        raise InputError(
            Problem(
                "missing_year",
                f"look-back reads the last {k} years but the data has {_span(past)}",
                **rules.where("lookback", "years"),
            )
        )
    run_rows = np.flatnonzero(frame.years == year) if frame.years is not None else np.arange(frame.n)
    ids = frame.ids[run_rows]
    position = {str(i): j for j, i in enumerate(ids)}
    history = np.zeros((len(run_rows), max(len(used), 1)), dtype=bool)
    current: _Year | None = None
    for t, y in enumerate(used or [None]):
        rows = run_rows if y is None or y == year else np.flatnonzero(frame.years == y)
        res = _year(rules, frame, rows, problems)
        if y is None or y == year:
            current = res
        for j, row in enumerate(rows):
            at = position.get(str(frame.ids[row]))
            if at is not None:
                history[at, t] = res.qualifies[j]
    if problems:
        raise InputError(problems.problems)
    assert current is not None
    window = history[:, -k:]
    meets: np.ndarray = np.asarray(
        window.any(axis=1) if (m.lookback is None or m.lookback.require == "any") else window.all(axis=1)
    )
    failing = np.zeros(len(run_rows), dtype=np.int64)
    for j in range(len(run_rows)):
        for q in history[j, ::-1]:
            if q:
                break
            failing[j] += 1
    prev = read_previous(rules, frame, run_rows, previous_path)
    identified, status = _status(rules, meets, failing, prev, exit_after)
    result = Identification(
        rules,
        frame,
        year,
        used,
        run_rows,
        ids,
        frame.names[run_rows],
        current.in_universe,
        current.failed_entry,
        current.leaves,
        current.qualifies,
        history,
        meets,
        prev,
        identified,
        status,
        failing,
    )
    result.notes = list(frame.notes)
    _tiers(result, problems)
    if problems:
        raise InputError(problems.problems)
    reasons(result)
    if m.grant is not None:
        result.grant = grant_for(result)
    return result


def _status(
    rules: IdentifyRules, meets: np.ndarray, failing: np.ndarray, prev: PreviousList | None, exit_after: int
) -> tuple[np.ndarray, np.ndarray]:
    n = len(meets)
    if prev is None:
        return meets.copy(), np.where(meets, "identified", "not identified").astype(object)
    before = prev.identified
    rule = rules.model.exit.rule if rules.model.exit else "immediate"
    keep = np.zeros(n, dtype=bool)
    if rule == "never":
        keep = before & ~meets
    elif rule == "phased":
        keep = before & ~meets & (failing < exit_after)
    identified = meets | keep
    status = np.full(n, "not identified", dtype=object)
    status[meets & ~before] = "entered"
    status[meets & before] = "stayed"
    status[keep] = "transition" if rule == "phased" else "stayed"
    status[before & ~identified] = "left"
    return identified, status


def _tiers(result: Identification, problems: ProblemList) -> None:
    rules, frame = result.rules, result.frame
    n = len(result.rows)
    extra: dict[str, np.ndarray] = {lid: lr.passed for lid, lr in result.leaves.items()}
    extra["previously_identified"] = result.previous.identified if result.previous else np.zeros(n, dtype=bool)
    extra["transition"] = result.status == "transition"
    if result.previous is not None and result.previous.tier is not None:
        extra["previous_tier"] = result.previous.tier
    for sid, levels in rules.tier_rules.items():
        ev = _Eval(frame, result.rows, extra, problems)
        tier = np.full(n, "", dtype=object)
        free = result.identified.copy()
        for lid, node in levels.items():
            hit = free.copy() if node is None else free & ev.node(node, result.identified)
            tier[hit] = lid
            free &= ~hit
        for j in np.flatnonzero(free):
            problems.add(
                "no_tier",
                f"{result.names[j]} ({result.ids[j]}) is identified but matches no tier of {sid}",
                **rules.where("tiers", sid, "levels"),
                hint="add a last tier without `when` to catch the rest",
            )
        result.tiers[sid] = tier
        result.tier_leaves[sid] = ev.results


def _span(years: list[int]) -> str:
    return "no years" if not years else f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"


def run_identify(rules_path: Path, tables: dict[str, Path], previous: Path | None = None) -> Identification:
    rules = load_rules(rules_path)
    return identify(rules, load_frame(rules, tables), previous)


def summary(result: Identification) -> dict[str, Any]:
    """Headline counts: identified, by status, by tier of each scheme with its meetings."""
    rules = result.rules
    out: dict[str, Any] = {
        "entities": len(result.ids),
        "in_universe": int(result.in_universe.sum()),
        "identified": int(result.identified.sum()),
        "year": result.year,
        "years_read": result.years,
    }
    for s in ("entered", "stayed", "transition", "left"):
        out[s] = int((result.status == s).sum())
    out["previously_identified"] = int(result.previous.identified.sum()) if result.previous else None
    schemes: dict[str, Any] = {}
    for sid, scheme in rules.model.tiers.items():
        rows = []
        for lid, level in scheme.levels.items():
            count = int((result.tiers[sid] == lid).sum())
            meetings = rules.params[level.meetings].value
            rows.append(
                {
                    "tier": lid,
                    "label": level.label,
                    "attendees": level.attendees,
                    "entities": count,
                    "meetings_per_year": meetings,
                    "total_meetings": count * meetings,
                }
            )
        schemes[sid] = rows
    out["tiers"] = schemes
    return out

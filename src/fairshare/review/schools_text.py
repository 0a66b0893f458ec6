"""The methods of a school spending review and the notes on its data, in words (report, packet, manifest)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from fairshare.report.html import plural
from fairshare.review.peers import PeerResult
from fairshare.review.ppe import Fit
from fairshare.review.schools_spec import ReviewSpec
from fairshare.review.schools_units import Units

__all__ = ["methods", "notes"]

_PEER_WORDS = {
    "high_needs": "% high needs",
    "enrollment": "enrollment",
    "grade_span": "grade-span midpoint",
    "grade_low": "lowest grade",
    "grade_high": "highest grade",
}


def _money(x: float) -> str:
    return f"${x:,.0f}"


def methods(spec: ReviewSpec, fits: dict[str, Fit], medians: dict[str, float]) -> list[str]:
    """Each method of the review in one paragraph of words."""
    m = spec.model
    s = m.spending
    kind = m.unit.kind
    kinds = plural(kind)
    out = [f"{s.label}: {' '.join(s.description.split())}"]
    base = f"{s.expenditure} ÷ {s.enrollment}" if s.expenditure else f"{s.per_pupil} (per pupil, as given)"
    co = s.central_office
    if co is None:
        out.append(f"PPE = {base}; no central-office spending is allocated.")
    elif co.per_pupil is not None:
        out.append(f"PPE = {base} + {co.per_pupil} ({co.label}, per pupil as given).")
    else:
        denom = co.enrollment or f"the sum of {s.enrollment} over the district's {kind} rows (excluded ones included)"
        out.append(
            f"PPE = {base} + central office per pupil ({co.label}): {co.amount}, a district-level amount, "
            f"÷ the district's enrollment ({denom}) — the same amount per pupil for every {kind} of the district."
        )
    out.append(
        f"Ranks: 1 = the highest PPE among the {kinds} of the pool statewide, and within the district; "
        "equal PPEs share the better rank. Percentile: the share of units spending at or below the unit "
        "(100 = the highest)."
    )
    if m.exclude:
        parts = "; ".join(f"{x.label} ({x.when})" for x in m.exclude.values())
        out.append(f"Excluded from the pool: {parts}.")
    out.append(
        {
            "leave_out": f"Missing values: a {kind} whose PPE cannot be computed, or for which an exclusion cannot be "
            "decided, is left out of the pool with the reason; one without a peer variable has no peers.",
            "error": "Missing values: every value the review reads must be present (missing: error).",
        }[m.missing]
    )
    if m.groups:
        ref = next(g.label for g in m.groups.values() if g.reference)
        parts = "; ".join(f"{g.label} ({g.when or 'every other unit'})" for g in m.groups.values())
        out.append(
            f"Groups (first match): {parts}. Mean: every {kind} counts once; weighted mean: Σ PPE × enrollment ÷ "
            f"Σ enrollment; gap: (group − {ref}) ÷ {ref} × 100."
        )
    for key, fit in fits.items():
        if key == "high_needs" and m.high_needs is not None:
            what = f"% {m.high_needs.label}"
        else:
            what = m.outcome.label if m.outcome is not None else key
        out.append(
            f"Fitted line on {what}: enrollment-weighted least squares (each {kind} weighs its enrollment) over "
            f"{fit.n:,} {kinds}: PPE = {_money(fit.intercept)} {'+' if fit.slope >= 0 else '−'} "
            f"${abs(fit.slope):,.2f} × ({what}); weighted R² {fit.r2:.3f}."
        )
    if medians and m.outcome is not None:
        out.append(
            f"Quadrants: PPE and {m.outcome.label} split at their medians ({_money(medians['ppe'])} and "
            f"{medians['outcome']:.4g}) over the {kinds} of the pool with an outcome, each counting once; "
            "a value at a median counts as higher."
        )
    p = m.peers
    if p is not None:
        words = _PEER_WORDS | ({"high_needs": f"% {m.high_needs.label}"} if m.high_needs else {})
        terms = ", ".join(
            f"{'log ' if pv.scale == 'log' else ''}{words.get(v, v)} (weight {pv.weight.value:g})"
            for v, pv in p.variables.items()
        )
        scale = (
            "z-scores over the units that can have peers (population SD)" if p.standardise == "z_score" else "unscaled"
        )
        rule = ""
        if p.type is not None and p.type.penalty is not None:
            rule = f" Type: {p.type.penalty.value:g} is added to the distance when the types differ."
        elif p.type is not None:
            rule = f" Type: only {kinds} of the same type."
        out.append(
            f"Peers: the {int(p.k.value)} most similar {kinds} statewide by √(Σ weight × (z_i − z_j)²) over {terms}; "
            f"{scale}.{rule}{'' if p.same_district else ' Units of the same district are not peers.'} Equal distances "
            f"by unit id. Flags: {p.flags.below.value:g} % or more below the peers' median PPE, or "
            f"{p.flags.above.value:g} % or more above it (the gap rounded to 0.1 %)."
        )
    return out


def _reasons(texts: np.ndarray) -> str:
    counts = Counter(str(t).rsplit(": ", 1)[0] for t in texts)  # the reason without where it was found
    return ", ".join(f"{why} ({n:,})" for why, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def notes(spec: ReviewSpec, u: Units, pr: PeerResult | None) -> list[str]:
    """What the data left out, in counts and reasons."""
    m = spec.model
    kinds = plural(m.unit.kind)
    pool = u.pool
    out = [
        f"{u.n:,} {kinds} in the table: {int(pool.sum()):,} in the pool, {int((u.excluded != '').sum()):,} excluded, "
        f"{int((u.left_out != '').sum()):,} left out for missing values."
    ]
    if (u.excluded != "").any():
        counts = Counter(str(x) for x in u.excluded if x)
        out.append(
            "Excluded: " + ", ".join(f"{m.exclude[x].label} ({counts[x]:,})" for x in m.exclude if counts[x]) + "."
        )
    if (u.left_out != "").any():
        out.append(f"Left out: {_reasons(u.left_out[u.left_out != ''])}.")
    if pr is not None:
        none = pool & (pr.count == 0)
        if none.any():
            out.append(f"{int(none.sum()):,} {kinds} of the pool have no peers: {_reasons(pr.flag_text[none])}.")
        short = pool & (pr.count > 0) & (pr.count < int(m.peers.k.value if m.peers else 0))
        if short.any():
            out.append(f"{int(short.sum()):,} {kinds} have fewer than k peers (not enough eligible units).")
    if m.outcome is not None:
        missing = pool & np.isnan(u.outcome)
        if missing.any():
            out.append(f"{int(missing.sum()):,} {kinds} of the pool have no outcome ({m.outcome.label}).")
    if m.groups:
        none = pool & (u.group == "")
        if none.any():
            out.append(f"{int(none.sum()):,} {kinds} of the pool are in no group.")
    return out

"""The demo district's draft school improvement grant plan (SYNTHETIC: invented amounts and goals).

An award of $150,000.00 for FY 2027 (2026-07-01 to 2027-06-30): a reading interventionist and materials
at S001, a half-time mathematics coach at S002, professional development district-wide; $5,200.00 of
the award is not yet budgeted, so the district has something left to plan.
"""

from __future__ import annotations

from fairshare.web.grants_rules import band_for
from fairshare.web.models import GrantLine, GrantPlan, utcnow

__all__ = ["demo_plan"]

AWARD_CENTS = 15_000_000
STRATEGIES = [
    {
        "title": "Tiered reading intervention in kindergarten to grade 3",
        "description": "A reading interventionist at S001 teaches daily small groups for pupils below benchmark.",
    },
    {
        "title": "Coaching for mathematics teachers",
        "description": "A half-time coach at S002 plans with grade teams and models lessons every week.",
    },
]
GOALS = [
    {
        "indicator": "Grade 3 pupils at or above the reading benchmark (S001)",
        "unit": "percent",
        "baseline": 38.0,
        "target": 50.0,
        "year": 2027,
    },
    {
        "indicator": "Grade 5 pupils proficient in mathematics (S002)",
        "unit": "percent",
        "baseline": 31.0,
        "target": 40.0,
        "year": 2028,
    },
]
#: school, object code, role, FTE, amount in cents
LINES: list[tuple[str | None, str, str, float, int]] = [
    ("S001", "110", "Reading interventionist", 1.0, 6_200_000),
    ("S001", "200", "Benefits of the reading interventionist", 0.0, 1_860_000),
    ("S002", "110", "Mathematics coach", 0.5, 3_400_000),
    ("S002", "200", "Benefits of the mathematics coach", 0.0, 1_020_000),
    (None, "320", "Professional development for K-3 teachers", 0.0, 1_200_000),
    ("S001", "610", "Levelled readers and intervention materials", 0.0, 800_000),
]


def demo_plan(district_id: str, fiscal_year: int) -> tuple[GrantPlan, list[GrantLine]]:
    """The plan and its lines (not yet added to a session; the lines' ``plan_id`` is set by the caller)."""
    plan = GrantPlan(
        district_id=district_id,
        fiscal_year=fiscal_year,
        award_cents=AWARD_CENTS,
        status="draft",
        strategies=[dict(x) for x in STRATEGIES],
        goals=[dict(x) for x in GOALS],
        comment="",
        version=1,
        updated_at=utcnow(),
    )
    lines = []
    for school, code, role, fte, cents in LINES:
        band = band_for(code)
        assert band is not None
        lines.append(
            GrantLine(
                school_id=school,
                object_code=code,
                role=role,
                fte=fte,
                amount_cents=cents,
                tolerance_pct=band.pct,
                drawn_cents=0,
                carried_cents=0,
            )
        )
    return plan, lines

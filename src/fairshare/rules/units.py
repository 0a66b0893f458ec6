"""The units registry. A unit outside this table is a load error (``unknown_unit``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UNITS", "Unit", "format_value"]


@dataclass(frozen=True)
class Unit:
    id: str
    label: str
    #: implied bounds for input columns in this unit (None = unbounded)
    min: float | None = None
    max: float | None = None
    money: bool = False


UNITS: dict[str, Unit] = {
    u.id: u
    for u in [
        Unit("usd", "US dollars", money=True),
        Unit("usd_per_pupil", "US dollars per pupil", money=True),
        Unit("usd_per_fte", "US dollars per FTE (average salary)", money=True),
        Unit("pupils", "pupils (headcount or membership)", min=0),
        Unit("fte", "full-time equivalents", min=0),
        Unit("pupils_per_fte", "pupils per FTE (staffing ratio)", min=0),
        Unit("ratio", "a plain number (factor)"),
        Unit("share", "a share between 0 and 1", min=0, max=1),
        Unit("share_of_base", "a weight as a share of the base amount"),
        Unit("percent", "a percentage between 0 and 100", min=0, max=100),
        Unit("rank", "a rank (1 = first)", min=1),
        Unit("tier", "a tier number (1, 2, 3 …)", min=1),
        Unit("count", "a count of things", min=0),
        Unit("score", "an index or score"),
        Unit("flag", "yes/no"),
        Unit("category", "a category label"),
        Unit("square_miles", "square miles", min=0),
        Unit("year", "a calendar or school year"),
        Unit("id", "an identifier"),
        Unit("text", "free text"),
    ]
}


def format_value(value: float, unit: str) -> str:
    """Render a number the way a budget letter shows it in its unit."""
    u = UNITS.get(unit)
    if u is not None and u.money:
        return f"${value:,.2f}" if value != round(value) else f"${value:,.0f}"
    if unit == "percent":
        return f"{value:g} %"
    if unit == "share":
        return f"{value * 100:.4g} %"
    if unit in ("fte",):
        return f"{value:,.2f} FTE"
    if value == round(value) and abs(value) < 1e15:
        return f"{round(value):,}"
    return f"{value:,.4g}"

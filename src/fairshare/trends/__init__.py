"""Trends reports (``fairshare trends``): which units improved between two periods, changes, shares, claims checked."""

from fairshare.trends.compute import TrendsResult, run_trends
from fairshare.trends.outputs import summary, write_trends
from fairshare.trends.spec import TrendsSpec, load_trends_spec, load_trends_spec_text

__all__ = [
    "TrendsResult",
    "TrendsSpec",
    "load_trends_spec",
    "load_trends_spec_text",
    "run_trends",
    "summary",
    "write_trends",
]

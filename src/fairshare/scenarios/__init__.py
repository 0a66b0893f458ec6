"""The same policy under other parameters or formulas: comparisons, winners and losers."""

from fairshare.scenarios.compare import Comparison, compare_runs, write_comparison

__all__ = ["Comparison", "compare_runs", "write_comparison"]

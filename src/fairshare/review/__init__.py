"""Resource allocation review: per-pupil spending of every school, similar-school peers, equity metrics,
and the packet for the review meeting."""

from fairshare.review.metrics import EquityMetrics, equity_metrics, metrics_from_table

__all__ = ["EquityMetrics", "equity_metrics", "metrics_from_table"]

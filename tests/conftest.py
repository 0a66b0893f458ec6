"""Suite-wide settings: Hypothesis runs a modest, derandomised number of examples (same inputs every run)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fairshare",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("fairshare")

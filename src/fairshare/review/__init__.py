"""Resource allocation review: per-pupil spending of every school, similar-school peers, equity metrics,
and the packet for the review meeting."""

__all__: list[str] = []

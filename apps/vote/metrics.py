"""The vote role's own counters (the shared ones are in pollsite.observability.metrics).

Registered when the app is ready, so a vote pod exports them from its first scrape.
"""

from prometheus_client import Counter

VOTES_CAST = Counter("pollsite_votes_cast", "Votes recorded by the vote role.")
VOTES_REFUSED = Counter("pollsite_votes_refused", "Vote casts refused, by the error code of the answer.", ["reason"])


def vote_refused(reason: str) -> None:
    VOTES_REFUSED.labels(reason=reason).inc()

"""The vote role's two limits on casting, counted with the other limits in one round trip
(pollsite.api.throttling.OneTripThrottling). Rates: ``POLLSITE_RATE_VOTES_PER_*`` (settings/vote.py)."""

from pollsite.api.throttling import FixedWindowThrottle, client_address


class VotesPerVoter(FixedWindowThrottle):
    """Per token subject: one voter cannot flood, whatever address they come from."""

    scope = "vote_voter"

    def identity(self, request) -> str | None:
        user = request.user
        return getattr(user, "subject", None) if user is not None and user.is_authenticated else None


class VotesPerClient(FixedWindowThrottle):
    """Per client address (X-Forwarded-For as far as ``NUM_PROXIES`` trusted proxies say)."""

    scope = "vote_client"

    def identity(self, request) -> str | None:
        return client_address(request) or None

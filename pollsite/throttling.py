"""Rate limits for hot write paths, counted in the shared cache (Redis in production).

DRF's SimpleRateThrottle keeps a list of timestamps per key and rewrites it on every
request, which grows with the rate; these throttles keep one integer per key and fixed
window (``incr``), so a check costs one cache round trip whatever the limit.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` under the throttle's
scope (``"<n>/<second|minute|hour|day>"``); an empty rate switches that limit off.
With the default local-memory cache the counts are per process; production points
``CACHE_URL`` at Redis so every pod counts together.
"""

import hashlib
import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"30/min"`` → (30, 60); None when the limit is switched off."""
    if not rate:
        return None
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[:1].lower()]


def window_hit(key: str, *, timeout: int) -> int:
    """Count one request under ``key`` (created with ``timeout``); the count so far.

    On Redis (django-redis) one pipelined round trip, SET NX then INCR, instead of
    django-redis's INCR script, a miss and an ADD for every new key: the vote path pays
    this once per throttle per request.
    """
    client = getattr(cache, "client", None)
    if hasattr(client, "get_client"):
        full_key = cache.make_key(key)
        pipe = client.get_client(write=True).pipeline(transaction=False)
        pipe.set(full_key, 0, ex=timeout, nx=True)
        pipe.incr(full_key)
        return pipe.execute()[1]
    try:
        return cache.incr(key)
    except ValueError:  # first request of this window
        return 1 if cache.add(key, 1, timeout=timeout) else cache.incr(key)


class FixedWindowThrottle(BaseThrottle):
    scope = ""

    def identity(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        rate = parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))
        ident = self.identity(request)
        if rate is None or ident is None:
            return True
        limit, period = rate
        now = time.time()
        window = int(now // period)
        digest = hashlib.blake2b(ident.encode(), digest_size=12).hexdigest()
        count = window_hit(f"throttle:{self.scope}:{window}:{digest}", timeout=period + 1)
        self.retry_after = (window + 1) * period - now
        return count <= limit

    def wait(self) -> float:
        return self.retry_after


class VoterRateThrottle(FixedWindowThrottle):
    """Per token subject: one voter cannot flood, whatever address they come from."""

    scope = "vote_voter"

    def identity(self, request) -> str | None:
        user = request.user
        return getattr(user, "subject", None) if user is not None and user.is_authenticated else None


class ClientRateThrottle(FixedWindowThrottle):
    """Per client address (X-Forwarded-For as far as ``NUM_PROXIES`` trusted proxies say)."""

    scope = "vote_client"

    def identity(self, request) -> str | None:
        return self.get_ident(request) or None

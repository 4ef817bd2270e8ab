"""Rate limits for hot write paths, counted in the shared cache (Redis in production).

DRF's SimpleRateThrottle keeps a list of timestamps per key and rewrites it on every
request, which grows with the rate; these throttles keep one integer per key and fixed
window (``incr``), so a check costs one cache round trip whatever the limit.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` under the throttle's
scope (``"<n>/<second|minute|hour|day>"``); an empty rate switches that limit off.
With the default local-memory cache the counts are per process; production points
``CACHE_URL`` at Redis so every pod counts together.

Every role limits writes per token subject and anonymous reads per client address
(``DEFAULT_THROTTLE_CLASSES``); a view adds its own (composed reads, vote casting).

When the store does not answer, limits fail open: the request goes through, the
``pollsite_rate_limit_store_errors_total`` counter counts it, a warning is logged at most
every few seconds, and the chart's alert rule fires (RELIABILITY.md says why: the
limits protect capacity, while correctness, such as one vote per voter, is the database's).
"""

import functools
import hashlib
import logging
import threading
import time
from abc import ABC, abstractmethod

from django.core.cache import caches
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from pollsite.observability.metrics import RATE_LIMIT_STORE_ERRORS

logger = logging.getLogger("pollsite.throttling")
#: At most one "store unreachable" warning per this many seconds and process.
STORE_WARNING_INTERVAL = 10.0
_last_store_warning = 0.0

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.lru_cache(maxsize=64)
def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"30/min"`` → (30, 60); None when the limit is switched off. Parsed once per rate."""
    if not rate:
        return None
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[:1].lower()]


# SET NX EX then INCR for every key, in one command: a pipeline of the same commands cost
# twice the CPU in redis-py (bench/run.py --profile).
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[i], 'NX')
  counts[i] = redis.call('INCR', key)
end
return counts
"""
_COUNT_SHA = hashlib.sha1(_COUNT_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1


def window_hits(windows: list[tuple[str, int]]) -> list[int]:
    """Count one request under each ``(key, timeout)``; each key's count so far (0 for
    every key when the store does not answer: limits fail open).

    On Redis (django-redis) one round trip for them all, instead of django-redis's INCR
    script, a miss and an ADD for every new key.
    """
    backend = caches["default"]  # once: every attribute of the ``cache`` proxy looks the backend up again
    client = getattr(backend, "client", None)
    try:
        if hasattr(client, "get_client"):
            keys = [backend.make_key(key) for key, _ in windows]
            return [int(count) for count in _count_on_redis(client.get_client(write=True), keys, [timeout for _, timeout in windows])]
        return [_window_hit(key, timeout) for key, timeout in windows]
    except (RedisConnectionError, RedisTimeoutError) as exc:
        _store_unreachable(exc)
        return [0] * len(windows)


_counting = threading.local()


def _count_on_redis(redis, keys: list[str], timeouts: list[int]) -> list[int]:
    """The count script, by its SHA-1 (sent whole the first time a server lacks it), on a
    connection of this thread's own made from django-redis's pool settings: one round trip,
    without redis-py's per-command layers (pool checkout and its readiness poll, retries,
    argument checks, response callbacks), which cost as much CPU as the round trip."""
    pool = redis.connection_pool
    connection = getattr(_counting, "connection", None)
    if connection is None or _counting.pool is not pool:  # a new cache configuration brings a new pool
        connection, _counting.pool = pool.make_connection(), pool
        _counting.connection = connection
    try:
        try:
            connection.send_command("EVALSHA", _COUNT_SHA, len(keys), *keys, *timeouts)
            return connection.read_response()
        except NoScriptError:
            connection.send_command("EVAL", _COUNT_SCRIPT, len(keys), *keys, *timeouts)
            return connection.read_response()
    except (RedisConnectionError, RedisTimeoutError):
        connection.disconnect()  # as redis-py does: the next call reconnects
        raise


def _store_unreachable(exc: Exception) -> None:
    global _last_store_warning
    RATE_LIMIT_STORE_ERRORS.inc()
    now = time.monotonic()
    if now - _last_store_warning >= STORE_WARNING_INTERVAL:
        _last_store_warning = now
        logger.warning("rate limits fail open: the rate-limit store does not answer (%s)", exc.__class__.__name__)


def _window_hit(key: str, timeout: int) -> int:
    cache = caches["default"]
    try:
        return cache.incr(key)
    except ValueError:  # first request of this window
        return 1 if cache.add(key, 1, timeout=timeout) else cache.incr(key)


def client_address(request) -> str:
    """The caller's address: X-Forwarded-For read as far as ``NUM_PROXIES`` trusted proxies
    say, else the peer. Shared by the rate limits and the admin's lockout.

    DRF's rule (BaseThrottle.get_ident), read from META: DRF's own goes through
    ``request.headers``, which copies every header of the request first."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    peer = request.META.get("REMOTE_ADDR")
    proxies = api_settings.NUM_PROXIES
    if proxies is None:
        return "".join(forwarded.split()) if forwarded else peer
    if proxies == 0 or forwarded is None:
        return peer
    hops = forwarded.split(",")
    return hops[-min(proxies, len(hops))].strip()


class FixedWindowThrottle(BaseThrottle, ABC):
    """A limit per identity and fixed window; subclasses say whose identity (and the scope)."""

    scope = ""

    def get_ident(self, request) -> str:
        return client_address(request)

    @abstractmethod
    def identity(self, request) -> str | None:
        """Who this request counts against, or None when it is not limited."""

    def window(self, request) -> tuple[str, int, int] | None:
        """(cache key, limit, key timeout) of this request's window, or None when unlimited."""
        rate = parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))
        ident = self.identity(request)
        if rate is None or ident is None:
            return None
        limit, period = rate
        now = time.time()
        window = int(now // period)
        digest = hashlib.blake2b(ident.encode(), digest_size=12).hexdigest()
        self.retry_after = (window + 1) * period - now
        return f"throttle:{self.scope}:{window}:{digest}", limit, period + 1

    def allow_request(self, request, view) -> bool:
        window = self.window(request)
        if window is None:
            return True
        key, limit, timeout = window
        return window_hits([(key, timeout)])[0] <= limit

    def wait(self) -> float:
        return self.retry_after


class OneTripThrottling:
    """View mixin: every FixedWindowThrottle of the view counted in one cache round trip
    (DRF asks each throttle in turn: one round trip each). Same outcome as DRF's check:
    every throttle counts the request, and the longest wait is the one answered."""

    def check_throttles(self, request):
        throttles = self.get_throttles()
        if not all(isinstance(throttle, FixedWindowThrottle) for throttle in throttles):
            return super().check_throttles(request)
        active = [(throttle, window) for throttle in throttles if (window := throttle.window(request)) is not None]
        counts = window_hits([(key, timeout) for _, (key, _, timeout) in active]) if active else []
        waits = [throttle.wait() for (throttle, (_, limit, _)), count in zip(active, counts, strict=True) if count > limit]
        if waits:
            self.throttled(request, max(waits))
        return None


class WritesPerSubject(FixedWindowThrottle):
    """Every role's writes, per token subject: one creator cannot flood a role."""

    scope = "writes_per_subject"

    def identity(self, request) -> str | None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        user = request.user
        return getattr(user, "subject", None) if user is not None and user.is_authenticated else None


class ReadsPerClient(FixedWindowThrottle):
    """Anonymous reads, per client address (a token bearer's reads count as theirs: unlimited here)."""

    scope = "reads_per_client"

    def identity(self, request) -> str | None:
        if request.method not in ("GET", "HEAD") or (request.user is not None and request.user.is_authenticated):
            return None
        return self.get_ident(request) or None


class ComposedReadsPerClient(FixedWindowThrottle):
    """Reads that fan out to other roles (the overview), per client address, whoever asks."""

    scope = "composed_reads_per_client"

    def identity(self, request) -> str | None:
        return self.get_ident(request) or None

"""Prometheus metrics of every role: the shared counters (events, limits), the request metrics and the exposition with a ``role`` label.

A role's own counters live in its app (e.g. ``apps/vote/metrics.py``).

- Every series a role exports (django-prometheus's, the process's, ours) leaves with a
  ``role`` label added at exposition time (:class:`RoleLabels`): one mechanism, so no
  metric definition has to remember it and dashboards can group by role.
- Under gunicorn (``PROMETHEUS_MULTIPROC_DIR`` set) the values of every worker are
  summed by ``prometheus_client``'s multiprocess collector; pollsite/config/gunicorn.py wipes the
  directory at start and marks dead workers.
- The outbox gauges are computed at scrape time from the role's own database
  (:class:`OutboxCollector`): one indexed query per scrape, nothing on the write path.
- The relay and consumer processes have no web server: with ``POLLSITE_METRICS_PORT``
  set they serve the same exposition on that port (:func:`serve_worker_metrics`).

Incrementing a counter is all the vote path pays (no query, no lock beyond the value's).
"""

from __future__ import annotations

import logging
import os
import time
from functools import cache

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Metric, exposition, multiprocess
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger("pollsite.metrics")

# --- domain metrics ------------------------------------------------------------------

EVENTS_PUBLISHED = Counter("pollsite_events_published", "Events the relay published to the broker.", ["event_type"])
EVENTS_CONSUMED = Counter(
    "pollsite_events_consumed",
    "Messages the consumer took, by outcome (applied, ignored, duplicate, retrying, dead_lettered).",
    ["event_type", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "pollsite_events_dead_lettered",
    "Messages the consumer set aside in its dead-letter store, by reason (manage.py dead_letters).",
    ["reason"],
)
EVENT_HANDLER_ERRORS = Counter(
    "pollsite_event_handler_errors",
    "Failed attempts to apply an event (retried with back-off, then dead-lettered).",
    ["event_type"],
)

RATE_LIMIT_STORE_ERRORS = Counter(
    "pollsite_rate_limit_store_errors",
    "Requests let through unlimited because the rate-limit store (Redis) did not answer (limits fail open).",
)


# --- request metrics -------------------------------------------------------------------

#: Methods django-prometheus labels by name; anything else is "<invalid method>", as there.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"})


class RequestMetrics:
    """The request metrics docs/OPERATIONS.md lists and the dashboard reads, with django-prometheus's
    own metric objects (names, labels, buckets), and nothing else; recorded for every
    request by pollsite.api.edge.

    django-prometheus's pair of middlewares updates a dozen series on every request (body
    sizes, charsets, transports, latency with and without middlewares...), a sixth of the
    vote path's CPU (docs/BENCHMARKS.md); this updates the four that are read: requests
    by view, responses by status and by status and view, latency by view, plus exceptions
    by type. The latency is that of the whole middleware stack, as django-prometheus's
    pair measures it.
    """

    def __init__(self):
        from django_prometheus.middleware import Metrics

        metrics = Metrics.get_instance()  # the same metric objects as django-prometheus's own middleware
        self.requests_by_view = metrics.requests_by_view_transport_method
        self.responses_by_status = metrics.responses_by_status
        self.responses_by_status_view = metrics.responses_by_status_view_method
        self.latency_by_view = metrics.requests_latency_by_view_method
        self.exceptions_by_type = metrics.exceptions_by_type

        #: The labelled series of one (view, transport, method, status), looked up once each.
        self.series: dict[tuple, tuple] = {}

    def record(self, request, response, seconds: float) -> None:
        match = getattr(request, "resolver_match", None)
        method = request.method if request.method in KNOWN_METHODS else "<invalid method>"  # bounded, whatever clients send
        key = (match.view_name if match is not None else None, request.is_secure(), method, response.status_code)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = self._series(match, *key)
        requests, responses, responses_by_view, latency = series
        if requests is not None:
            requests.inc()
        responses.inc()
        responses_by_view.inc()
        latency.observe(seconds)

    def _series(self, match, view_name, secure, method, status_code) -> tuple:
        view, status = view_name or "<unnamed view>", str(status_code)
        requests = self.requests_by_view.labels(view, "https" if secure else "http", method) if match is not None else None
        return (
            requests,
            self.responses_by_status.labels(status),
            self.responses_by_status_view.labels(status, view, method),
            self.latency_by_view.labels(view, method),
        )

    def exception(self, exception: BaseException) -> None:
        self.exceptions_by_type.labels(type(exception).__name__).inc()


# --- collectors ------------------------------------------------------------------------


class RoleLabels:
    """Re-exports what ``source`` collects with ``role="<role>"`` on every sample."""

    def __init__(self, source, role: str):
        self.source = source
        self.role = role

    def describe(self):
        return []  # no collect() at registration: the outbox query runs only on a scrape

    def collect(self):
        for metric in self.source.collect():
            labelled = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            labelled.samples = [sample._replace(labels={**sample.labels, "role": self.role}) for sample in metric.samples]
            yield labelled


class OutboxCollector:
    """Unpublished events in this role's outbox and the age of the oldest, read at scrape time."""

    def describe(self):
        return []

    def collect(self):
        from pollsite.models import OutboxEvent  # models load after the app registry

        try:
            unpublished = OutboxEvent.objects.filter(published_at__isnull=True)
            backlog = unpublished.count()
            oldest = unpublished.order_by("id").values_list("occurred_at", flat=True).first()
        except DatabaseError as exc:
            logger.warning("outbox metrics unavailable: %s", exc)
            connection.close_if_unusable_or_obsolete()
            return
        age = max(0.0, time.time() - oldest.timestamp()) if oldest is not None else 0.0
        yield GaugeMetricFamily("pollsite_outbox_backlog", "Events in this role's outbox not yet published to the broker.", value=backlog)
        yield GaugeMetricFamily(
            "pollsite_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox event (0 when the outbox is empty).", value=age
        )


class _Sources:
    """What a process exports: every worker's values (multiprocess mode) or this process's."""

    def __init__(self, *extra):
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.values = multiprocess.MultiProcessCollector(None, path=folder) if folder else REGISTRY
        self.extra = extra

    def collect(self):
        yield from self.values.collect()
        for collector in self.extra:
            yield from collector.collect()


def _registry(*extra) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RoleLabels(_Sources(*extra), settings.ROLE))
    return registry


@cache
def web_registry() -> CollectorRegistry:
    return _registry(OutboxCollector())


@cache
def worker_registry() -> CollectorRegistry:
    return _registry()


def metrics_view(request) -> HttpResponse:
    """``/metrics`` of a web process (served by pollsite.observability.probes before any other middleware)."""
    encoder, content_type = exposition.choose_encoder(request.META.get("HTTP_ACCEPT", ""))
    return HttpResponse(encoder(web_registry()), content_type=content_type)


def serve_worker_metrics() -> int | None:
    """Serve ``/metrics`` on ``POLLSITE_METRICS_PORT`` from a relay or consumer process; the port."""
    port = os.environ.get("POLLSITE_METRICS_PORT")
    if not port:
        return None
    address = os.environ.get("POLLSITE_METRICS_ADDR", "0.0.0.0")
    exposition.start_http_server(int(port), addr=address, registry=worker_registry())
    logger.info("metrics served", extra={"port": int(port)})
    return int(port)

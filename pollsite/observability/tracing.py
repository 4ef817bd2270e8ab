"""Optional OpenTelemetry tracing: off unless the environment switches it on.

On with ``POLLSITE_TRACING=true`` or an OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``); ``OTEL_SDK_DISABLED=true`` wins over both.
Spans go to the OTLP/HTTP exporter (configured by the standard ``OTEL_EXPORTER_OTLP_*``
variables), or with ``OTEL_TRACES_EXPORTER=console`` to stdout, one JSON object per
line like the logs. Django requests and outgoing ``requests`` calls are instrumented,
so a call from one role to another carries ``traceparent`` and both sides' spans share
one trace id. The probes are not traced.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger("pollsite.tracing")

#: Matched against the full URL (scheme://host/path): the probes at the root, and nothing else.
PROBE_URLS = "://[^/]+/healthz$,://[^/]+/readyz$,://[^/]+/metrics$"
_enabled = False


def tracing_wanted(environ=os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    switched_on = environ.get("POLLSITE_TRACING", "").lower() in {"1", "true", "yes", "on"}
    return switched_on or bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _console_line(span) -> str:
    return span.to_json(indent=None) + os.linesep


def tracing_setup(*, role: str, environ=os.environ) -> bool:
    """Install the tracer provider and the instrumentation once per process; whether tracing is on."""
    global _enabled
    if _enabled or not tracing_wanted(environ):
        return _enabled
    from opentelemetry import trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    service_name = environ.get("OTEL_SERVICE_NAME") or f"pollsite-{role}"
    provider = TracerProvider(resource=Resource.create({"service.name": service_name, "pollsite.role": role}))
    exporter = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=_console_line)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(excluded_urls=environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS", PROBE_URLS))
    RequestsInstrumentor().instrument()
    _enabled = True
    logger.info("tracing on", extra={"exporter": exporter, "service_name": service_name})
    return True


def current_trace_id() -> str:
    """The current span's trace id (32 hex digits) when tracing is on and a span is active, else ''."""
    if not _enabled:
        return ""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""

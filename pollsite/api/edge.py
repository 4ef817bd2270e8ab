"""What pollsite does around every request of every role, in one middleware layer.

Four concerns, each kept in its own module and called from here in this order:

1. the probes (/healthz, /readyz, /metrics: pollsite.observability.probes), answered
   before anything else, so they work whatever the Host header and leave no log line;
2. the request id and the per-request context (pollsite.observability.access_log);
3. ``Cache-Control: no-store, private`` on answers to a bearer of a token
   (pollsite.api.cache_control);
4. the request metrics and the JSON access-log line, once the answer is known
   (pollsite.observability.metrics, pollsite.observability.access_log).

One layer instead of one middleware each: Django wraps every middleware in an exception
converter and a call of its own, which on the vote path cost more than the work they
wrapped (docs/BENCHMARKS.md). It sits first in ``MIDDLEWARE``; Django's own middleware
(security headers, host validation, static files) runs inside it.
"""

import time

from pollsite.api.cache_control import mark_private
from pollsite.observability import access_log
from pollsite.observability.metrics import RequestMetrics
from pollsite.observability.probes import PROBES


class EdgeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.metrics = RequestMetrics()

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None:
            return probe(request)
        context = access_log.request_begin(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            mark_private(request, response)
            access_log.response_identify(request, response)
            seconds = time.perf_counter() - started
            self.metrics.record(request, response, seconds)
            access_log.request_log(request, response, seconds)
            return response
        finally:
            access_log.request_end(context)

    def process_exception(self, request, exception):
        """A view's exception, counted by type (Django then answers it: a 500, logged above)."""
        self.metrics.exception(exception)

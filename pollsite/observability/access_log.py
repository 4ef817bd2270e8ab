"""X-Request-ID in and out, and one JSON access-log line per request."""

import logging
import time

from pollsite.observability.request_context import REQUEST_ID_HEADER, accept_request_id, bearer_token_var, request_id_var, subject_var

access_log = logging.getLogger("pollsite.access")
REQUEST_ID_META = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")


class AccessLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_request_id(request.META.get(REQUEST_ID_META))  # not request.headers: it copies every header
        request.request_id = request_id
        id_token = request_id_var.set(request_id)
        subject_token = subject_var.set("")
        bearer_token = bearer_token_var.set("")
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(id_token)
            subject_var.reset(subject_token)
            bearer_token_var.reset(bearer_token)

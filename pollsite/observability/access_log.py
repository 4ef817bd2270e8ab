"""X-Request-ID in and out, the per-request context, and one JSON access-log line per request
(called around every request by pollsite.api.edge)."""

import logging

from pollsite.observability.request_context import REQUEST_ID_HEADER, accept_request_id, bearer_token_var, request_id_var, subject_var

access_log = logging.getLogger("pollsite.access")
REQUEST_ID_META = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")


def request_begin(request) -> tuple:
    """The caller's request id (or a new one) on ``request`` and in the context; what :func:`request_end` resets."""
    request_id = accept_request_id(request.META.get(REQUEST_ID_META))  # not request.headers: it copies every header
    request.request_id = request_id
    return request_id_var.set(request_id), subject_var.set(""), bearer_token_var.set("")


def request_end(context: tuple) -> None:
    id_token, subject_token, bearer_token = context
    request_id_var.reset(id_token)
    subject_var.reset(subject_token)
    bearer_token_var.reset(bearer_token)


def response_identify(request, response) -> None:
    response[REQUEST_ID_HEADER] = request.request_id


def request_log(request, response, seconds: float) -> None:
    access_log.info(
        "request",
        extra={"method": request.method, "path": request.path, "status": response.status_code, "duration_ms": round(seconds * 1000, 2)},
    )

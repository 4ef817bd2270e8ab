"""One error shape for every role.

    {"error": {"status": 409, "code": "already_voted", "message": "...", "details": {...}},
     "request_id": "..."}

Domain errors (:mod:`pollsite.exceptions`, raised by services and selectors), raised API
exceptions, Django's own 404/403/400 and database outages all come out in that shape
through :func:`exception_handler` (DRF) and the ``handler*`` views (plain Django paths):
this module is the one place that maps errors to HTTP. Unknown errors stay 500, without
a traceback in the body.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from pollsite import exceptions as domain
from pollsite.exceptions import ErrorCode
from pollsite.observability.request_context import current_request_id

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = ErrorCode.CONFLICT
    default_detail = "The request conflicts with the current state."


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = ErrorCode.SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is unavailable; nothing was written."


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = ErrorCode.PAYLOAD_TOO_LARGE
    default_detail = "The request body is larger than this service accepts."


def error_body(status_code: int, code: str, message: str, details=None) -> dict:
    error = {"status": status_code, "code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error, "request_id": current_request_id()}


#: Each domain error's HTTP status, by its class.
DOMAIN_STATUS = {
    domain.NotFound: exceptions.NotFound,
    domain.NotAllowed: exceptions.PermissionDenied,
    domain.Conflict: Conflict,
    domain.Unavailable: ServiceUnavailable,
}


def _translate(exc):
    """Map exceptions that are not DRF's own to the API exception that describes them."""
    if isinstance(exc, domain.Invalid):
        return exceptions.ValidationError(exc.fields, exc.code)
    if isinstance(exc, domain.DomainError):
        api_exception = next(DOMAIN_STATUS[kind] for kind in type(exc).__mro__ if kind in DOMAIN_STATUS)
        return api_exception(exc.message, exc.code)
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc)
        return ServiceUnavailable("The database is unavailable; nothing was written. Try again shortly.", ErrorCode.DATABASE_UNAVAILABLE)
    return exc


def exception_handler(exc, context):
    exc = _translate(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # unknown: Django answers 500 (handler500) and logs the traceback
    if isinstance(exc.detail, dict):
        message, details = "The request is invalid.", exc.detail
        code = exc.default_code if not isinstance(exc, exceptions.ValidationError) else ErrorCode.INVALID
    elif isinstance(exc.detail, list):
        message, details, code = " ".join(str(item) for item in exc.detail), {"non_field_errors": exc.detail}, ErrorCode.INVALID
    else:
        message, details, code = str(exc.detail), None, getattr(exc.detail, "code", exc.default_code)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait) + 1)
    return Response(error_body(exc.status_code, str(code), message, details), status=exc.status_code, headers=headers)


def _json_error(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status_code, code, message), status=status_code)


def handler400(request, exception=None):
    return _json_error(400, ErrorCode.BAD_REQUEST, "The request is malformed.")


def handler403(request, exception=None):
    return _json_error(403, ErrorCode.PERMISSION_DENIED, "You do not have permission to do this.")


def handler404(request, exception=None):
    return _json_error(404, ErrorCode.NOT_FOUND, f"Nothing is served at {request.path}.")


def handler500(request):
    return _json_error(500, ErrorCode.SERVER_ERROR, "Internal error; it has been logged with this request id.")

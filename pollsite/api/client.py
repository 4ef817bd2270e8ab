"""Calls to other roles: timeout, bounded retries (idempotent GETs only), circuit breaker.

When the other role is down, slow or broken, a call raises
:class:`pollsite.exceptions.Unavailable` (the caller answers 503 and writes nothing).
A 404 to a GET is an answer, not a failure: it comes back as ``None``. A write
(:meth:`ServiceClient.post_json`, :meth:`ServiceClient.delete`) is made on the caller's
behalf, with the caller's bearer token, and the other role's refusal comes back as the
domain error it answered (its code and message). The request id travels with every call.
"""

from __future__ import annotations

import logging
from functools import cache

import pybreaker
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pollsite.exceptions import Conflict, DomainError, ErrorCode, Invalid, NotAllowed, NotFound, Unavailable
from pollsite.observability.request_context import REQUEST_ID_HEADER, bearer_token_var, current_request_id
from pollsite.roles import get_role

logger = logging.getLogger("pollsite.client")


class _RemoteFailure(Exception):
    """A call that failed in a way that counts against the breaker."""


#: The domain error a refusal (4xx) of another role stands for, by its status.
REFUSALS: dict[int, type[DomainError]] = {403: NotAllowed, 404: NotFound, 409: Conflict}


class ServiceClient:
    def __init__(self, role_name: str):
        role = get_role(role_name)
        self.role_name = role.name
        self.api_root = f"{role.base_url()}{role.url_prefix()}api/v1/"
        self.timeout = settings.SERVICE_CALL_TIMEOUT
        self.session = requests.Session()
        retry = Retry(
            total=settings.SERVICE_CALL_RETRIES,
            connect=settings.SERVICE_CALL_RETRIES,
            # A role that took the call but did not answer within the timeout is not asked
            # again: the caller's wait for a hung role stays one timeout, not several.
            read=0,
            status=settings.SERVICE_CALL_RETRIES,
            backoff_factor=0.05,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            raise_on_status=False,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=settings.SERVICE_BREAKER_FAILURES,
            reset_timeout=settings.SERVICE_BREAKER_RESET_SECONDS,
            name=f"{role.name}-breaker",
        )

    def get_json(self, path: str, *, params: dict | None = None) -> dict | list | None:
        """GET ``<api root><path>``: the decoded body, or None for a 404."""
        try:
            return self.breaker.call(self._get, path, params)
        except pybreaker.CircuitBreakerError:
            raise self._unavailable("circuit open after repeated failures") from None
        except _RemoteFailure as exc:
            raise self._unavailable(str(exc)) from None

    def post_json(self, path: str) -> dict:
        """POST ``<api root><path>`` on the caller's behalf: the decoded body, or the refusal raised."""
        return self._write("POST", path)

    def delete(self, path: str) -> None:
        """DELETE ``<api root><path>`` on the caller's behalf; a refusal is raised."""
        self._write("DELETE", path)

    def _write(self, method: str, path: str) -> dict | None:
        try:
            response = self.breaker.call(self._send, method, path, None, on_behalf=True)
        except pybreaker.CircuitBreakerError:
            raise self._unavailable("circuit open after repeated failures") from None
        except _RemoteFailure as exc:
            raise self._unavailable(str(exc)) from None
        if response.status_code >= 400:
            raise self._refusal(response)
        return response.json() if response.content else None

    def _get(self, path: str, params: dict | None):
        response = self._send("GET", path, params)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def _send(self, method: str, path: str, params: dict | None, *, on_behalf: bool = False) -> requests.Response:
        headers = {REQUEST_ID_HEADER: current_request_id(), "Accept": "application/json"}
        if on_behalf and bearer_token_var.get():
            headers["Authorization"] = f"Bearer {bearer_token_var.get()}"
        try:
            response = self.session.request(method, self.api_root + path.lstrip("/"), params=params, timeout=self.timeout, headers=headers)
        except requests.RequestException as exc:
            raise _RemoteFailure(f"{exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise _RemoteFailure(f"answered {response.status_code}")
        return response

    def _refusal(self, response: requests.Response) -> DomainError:
        """The domain error another role's 4xx answer stands for, with its code and message."""
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            return self._unavailable(f"answered {response.status_code} without an error body")
        if response.status_code == 400:
            return Invalid({"non_field_errors": [message]}, code)
        kind = REFUSALS.get(response.status_code)
        if kind is None:  # 401, 429...: not the caller's fault here, and nothing was written
            return self._unavailable(f"answered {response.status_code} {code}")
        return kind(message, code)

    def _unavailable(self, why: str) -> Unavailable:
        logger.warning("call to %s failed: %s", self.role_name, why)
        return Unavailable(
            f"The {self.role_name} service is unavailable ({why}); nothing was written. Try again shortly.",
            ErrorCode.unavailable(self.role_name),
        )


@cache
def service_client(role_name: str) -> ServiceClient:
    """One client (and so one breaker and connection pool) per role per process."""
    return ServiceClient(role_name)

"""Calls to other roles: timeout, bounded retries (idempotent GETs only), circuit breaker.

When the other role is down, slow or broken, a call raises
:class:`pollsite.exceptions.Unavailable` (the caller answers 503 and writes nothing).
A 404 is an answer, not a failure: it comes back as ``None``. The request id travels
with every call.
"""

from __future__ import annotations

import logging
from functools import cache

import pybreaker
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pollsite.exceptions import ErrorCode, Unavailable
from pollsite.request_context import REQUEST_ID_HEADER, current_request_id
from pollsite.roles import get_role

logger = logging.getLogger("pollsite.client")


class _RemoteFailure(Exception):
    """A call that failed in a way that counts against the breaker."""


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

    def _get(self, path: str, params: dict | None):
        try:
            response = self.session.get(
                self.api_root + path.lstrip("/"),
                params=params,
                timeout=self.timeout,
                headers={REQUEST_ID_HEADER: current_request_id(), "Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise _RemoteFailure(f"{exc.__class__.__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 500:
            raise _RemoteFailure(f"answered {response.status_code}")
        response.raise_for_status()
        return response.json()

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

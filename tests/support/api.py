"""Helpers for the role suites (in-process, under one role's settings)."""

from collections.abc import Iterator
from contextlib import contextmanager

import responses
from rest_framework.test import APIClient

from pollsite.auth import token_issue
from pollsite.client import service_client


def client_for(subject: str | None = "alice") -> APIClient:
    """An API client with a bearer token for ``subject`` (None: anonymous)."""
    client = APIClient()
    if subject:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(subject=subject)}")
    return client


@contextmanager
def faked_roles() -> Iterator[responses.RequestsMock]:
    """Other roles answer only what a test registers; anything else fails like a role that
    is down. Fresh clients (breakers, pools) before and after, so no state leaks between tests."""
    service_client.cache_clear()
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            yield mock
    finally:
        service_client.cache_clear()

"""Helpers for the role suites (in-process, under one role's settings)."""

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import responses
from rest_framework.test import APIClient

from pollsite.api.auth import token_issue
from pollsite.api.client import service_client
from pollsite.roles import ROLES


def client_for(subject: str | None = "alice") -> APIClient:
    """An API client with a bearer token for ``subject`` (None: anonymous)."""
    client = APIClient()
    if subject:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(subject=subject)}")
    return client


def role_api(role: str) -> str:
    """Where the code under test reaches another role's API (its ``<ROLE>_URL``, then its prefix)."""
    other = ROLES[role]
    return f"{other.base_url()}{other.url_prefix()}api/v1/"


#: The vote role's edit-lease endpoints (pollsite.api.edit_lease), as the polls and choice roles call them.
EDIT_LEASE = re.compile(re.escape(role_api("vote")) + r"polls/(\d+)/edit-lease/")
LEASE_TAKE = re.compile(EDIT_LEASE.pattern + "$")
LEASE_RELEASE = re.compile(EDIT_LEASE.pattern + r"[0-9a-f-]+/$")


def grant_edit_leases(mock: responses.RequestsMock, seconds: int = 10) -> None:
    """The vote role as it answers for a poll with no vote yet: every edit lease granted, every release taken."""

    def grant(request):
        poll_id = int(EDIT_LEASE.match(request.url).group(1))
        body = {"poll_id": poll_id, "lease_id": str(uuid.uuid4()), "expires_at": "2099-01-01T00:00:00Z", "seconds": seconds}
        return 201, {"Content-Type": "application/json"}, json.dumps(body)

    mock.add_callback(responses.POST, LEASE_TAKE, callback=grant)
    mock.add(responses.DELETE, LEASE_RELEASE, status=204)


def refuse_edit_leases(mock: responses.RequestsMock) -> None:
    """The vote role as it answers once the poll has votes (instead of granting leases)."""
    mock.remove(responses.POST, LEASE_TAKE)
    body = {"error": {"status": 409, "code": "poll_has_votes", "message": "Poll 7 has votes."}, "request_id": "r"}
    mock.add(responses.POST, LEASE_TAKE, status=409, json=body)


def vote_down(mock: responses.RequestsMock) -> None:
    """The vote role does not answer (instead of granting leases)."""
    mock.remove(responses.POST, LEASE_TAKE)
    mock.add(responses.POST, LEASE_TAKE, body=requests.ConnectionError("vote is down"))


def lease_calls(mock: responses.RequestsMock) -> list[str]:
    """The edit-lease calls made so far, as "POST" (take) and "DELETE" (release)."""
    return [call.request.method for call in mock.calls if EDIT_LEASE.match(call.request.url)]


@contextmanager
def faked_roles(*, edit_leases: bool = True) -> Iterator[responses.RequestsMock]:
    """Other roles answer only what a test registers; anything else fails like a role that
    is down. By default the vote role grants edit leases (the poll has no vote yet;
    ``edit_leases=False`` leaves that to the test). Fresh clients (breakers, pools) before
    and after, so no state leaks between tests."""
    service_client.cache_clear()
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            if edit_leases:
                grant_edit_leases(mock)
            yield mock
    finally:
        service_client.cache_clear()

"""Vote casting is rate-limited per voter and per client address (429 + Retry-After)."""

import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.vote.models import KnownPoll, Vote
from apps.vote.services import known_choice_add, known_poll_apply
from tests.support.api import client_for

API = "/vote/api/v1/"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def polls():
    if 3600 - time.time() % 3600 < 5:
        time.sleep(6)  # limits count in fixed hourly windows here: stay inside one
    cache.clear()
    for poll_id in range(1, 11):
        known_poll_apply(poll_id=poll_id, status=KnownPoll.Status.OPEN)
        known_choice_add(choice_id=poll_id * 10, poll_id=poll_id)
    yield
    cache.clear()


@pytest.fixture
def rates(settings):
    def set_rates(voter: str = "", client: str = "", proxies: int = 0):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"vote_voter": voter, "vote_client": client},
            "NUM_PROXIES": proxies,
        }

    return set_rates


def cast(subject: str, poll_id: int, **extra):
    return client_for(subject).post(f"{API}polls/{poll_id}/votes/", {"choice_id": poll_id * 10}, format="json", **extra)


def assert_throttled(response):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["error"]["status"] == 429 and body["error"]["code"] == "throttled" and body["request_id"]
    assert 1 <= int(response["Retry-After"]) <= 3600
    return body


def test_one_voter_is_limited_whatever_the_poll(rates):
    rates(voter="3/hour")
    answers = [cast("eager", poll_id).status_code for poll_id in range(1, 6)]
    assert answers == [201, 201, 201, 429, 429]
    assert_throttled(cast("eager", 6))
    assert cast("someone-else", 6).status_code == 201  # other voters are not affected
    assert Vote.objects.filter(voter="eager").count() == 3


def test_one_client_address_is_limited_whatever_the_voter(rates):
    rates(client="4/hour")
    answers = [cast(f"voter-{n}", 1, REMOTE_ADDR="198.51.100.7").status_code for n in range(6)]
    assert answers == [201, 201, 201, 201, 429, 429]
    assert_throttled(cast("voter-9", 2, REMOTE_ADDR="198.51.100.7"))
    assert cast("voter-9", 2, REMOTE_ADDR="198.51.100.8").status_code == 201


def test_client_address_behind_one_proxy_cannot_be_forged(rates):
    """Behind the Ingress (NUM_PROXIES=1) the address is the last X-Forwarded-For hop, the
    one the proxy appended: what the client wrote before it does not change its identity."""
    rates(client="2/hour", proxies=1)
    statuses = [
        cast(f"forger-{n}", 1, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9").status_code for n in range(3)
    ]
    assert statuses == [201, 201, 429]
    other = cast("forger-9", 1, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert other.status_code == 201


def test_limits_can_be_switched_off(rates):
    rates(voter="", client="")
    assert all(cast("tireless", poll_id).status_code == 201 for poll_id in range(1, 11))


def test_reads_are_not_limited(rates):
    rates(voter="1/hour", client="1/hour")
    assert cast("reader", 1).status_code == 201
    client = APIClient()
    assert all(client.get(f"{API}polls/1/results/").status_code == 200 for _ in range(5))

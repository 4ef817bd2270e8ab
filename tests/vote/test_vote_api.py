"""The vote role: casting, results, and its read model fed by events (or read-through)."""

import itertools
import uuid

import pytest
import requests
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.vote.models import KnownPoll, TallyShard, Vote
from pollsite.models import DeadLetter, InboxEvent
from tests.support import events
from tests.support.api import client_for, role_api

API = "/vote/api/v1/"
POLLS = role_api("polls") + "polls/"
CHOICES = role_api("choice") + "choices/"

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)


def deliver(producer: str, event_type: str, payload: dict, event_id: str | None = None) -> str:
    return events.deliver("vote", producer, event_type, payload, event_id=event_id)


def open_poll(poll_id: int, choice_ids=(1, 2)):
    deliver("polls", "poll.created", {"poll_id": poll_id, "status": "open", "closes_at": None})
    for choice_id in choice_ids:
        deliver("choice", "choice.created", {"choice_id": choice_id, "poll_id": poll_id})


def cast(subject: str, poll_id: int, choice_id: int):
    return client_for(subject).post(f"{API}polls/{poll_id}/votes/", {"choice_id": choice_id}, format="json")


def results(poll_id: int):
    return APIClient().get(f"{API}polls/{poll_id}/results/")


def test_vote_counts_and_second_vote_is_409():
    open_poll(1)
    response = cast("bob", 1, 2)
    assert response.status_code == 201, response.content
    assert response.json()["voter"] == "bob"
    again = cast("bob", 1, 1)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_voted"
    assert Vote.objects.count() == 1
    assert results(1).json() == {"poll_id": 1, "total": 1, "choices": [{"choice_id": 1, "votes": 0}, {"choice_id": 2, "votes": 1}]}


def test_results_are_exact_across_shards():
    open_poll(1)
    for n in range(40):
        assert cast(f"voter{n}", 1, 1 + n % 2).status_code == 201
    body = results(1).json()
    assert body["total"] == 40 == Vote.objects.count()
    assert {c["choice_id"]: c["votes"] for c in body["choices"]} == {1: 20, 2: 20}
    assert TallyShard.objects.filter(poll_id=1).count() > 2  # spread over several counters


def test_choice_of_another_poll_is_400():
    open_poll(1, choice_ids=(1,))
    open_poll(2, choice_ids=(5,))
    response = cast("bob", 1, 5)
    assert response.status_code == 400 and response.json()["error"]["details"]["choice_id"]
    assert not Vote.objects.exists()


def test_closed_poll_refuses_votes_with_409():
    open_poll(1)
    deliver("polls", "poll.closed", {"poll_id": 1, "status": "closed", "closes_at": None})
    response = cast("bob", 1, 1)
    assert response.status_code == 409 and response.json()["error"]["code"] == "poll_closed"
    assert not Vote.objects.exists()


def test_poll_past_its_closing_time_refuses_votes_without_waiting_for_an_event():
    deliver("polls", "poll.created", {"poll_id": 3, "status": "open", "closes_at": "2020-01-01T00:00:00+00:00"})
    deliver("choice", "choice.created", {"choice_id": 9, "poll_id": 3})
    assert cast("bob", 3, 9).status_code == 409


def test_a_late_created_event_does_not_reopen_a_closed_poll():
    open_poll(1)
    deliver("polls", "poll.closed", {"poll_id": 1, "status": "closed", "closes_at": None})
    deliver("polls", "poll.updated", {"poll_id": 1, "status": "open", "closes_at": None})
    assert KnownPoll.objects.get(poll_id=1).status == KnownPoll.Status.CLOSED


def test_my_vote_needs_a_token_and_shows_only_mine():
    open_poll(1)
    cast("bob", 1, 2)
    assert client_for("bob").get(f"{API}polls/1/votes/mine/").json()["choice_id"] == 2
    assert client_for("carol").get(f"{API}polls/1/votes/mine/").status_code == 404
    assert APIClient().get(f"{API}polls/1/votes/mine/").status_code == 401


def test_poll_deleted_removes_votes_and_results_and_stays_deleted():
    open_poll(1)
    cast("bob", 1, 1)
    deliver("polls", "poll.deleted", {"poll_id": 1})
    assert not Vote.objects.exists() and not TallyShard.objects.exists()
    assert results(1).status_code == 404
    deliver("choice", "choice.created", {"choice_id": 3, "poll_id": 1})  # late event from choice
    assert cast("carol", 1, 3).status_code == 404


def test_choice_deleted_removes_its_votes_from_results():
    open_poll(1)
    cast("bob", 1, 1)
    cast("carol", 1, 2)
    deliver("choice", "choice.deleted", {"choice_id": 1, "poll_id": 1})
    assert results(1).json() == {"poll_id": 1, "total": 1, "choices": [{"choice_id": 2, "votes": 1}]}
    assert cast("dave", 1, 1).status_code == 400


def test_the_same_event_twice_changes_nothing():
    open_poll(1)
    cast("bob", 1, 1)
    event_id = str(uuid.uuid4())
    assert deliver("choice", "choice.deleted", {"choice_id": 2, "poll_id": 1}, event_id=event_id) == "applied"
    before = (Vote.objects.count(), list(TallyShard.objects.values_list("count", flat=True)))
    assert deliver("choice", "choice.deleted", {"choice_id": 2, "poll_id": 1}, event_id=event_id) == "duplicate"
    assert (Vote.objects.count(), list(TallyShard.objects.values_list("count", flat=True))) == before
    assert InboxEvent.objects.filter(event_id=event_id).count() == 1


def test_declared_events_vote_does_not_read_are_recorded_as_ignored():
    assert deliver("choice", "choice.updated", {"choice_id": 1, "poll_id": 1}) == "ignored"
    assert InboxEvent.objects.get().outcome == "ignored"


def test_undeclared_event_types_are_dead_lettered():
    assert deliver("polls", "poll.renamed_in_v9", {"poll_id": 1}) == "dead_lettered"
    assert not InboxEvent.objects.exists()
    assert DeadLetter.objects.get().reason == "unknown_type"


def test_read_through_on_a_miss_when_the_roles_are_up(other_roles):
    other_roles.get(f"{CHOICES}11/", json={"id": 11, "poll_id": 4, "text": "Yes", "order": 1})
    other_roles.get(f"{POLLS}4/", json={"id": 4, "status": "open", "closes_at": None, "creator": "alice"})
    assert cast("bob", 4, 11).status_code == 201
    assert cast("carol", 4, 11).status_code == 201
    assert len(other_roles.calls) == 2  # learned once, then served from the read model


def test_a_miss_with_the_roles_down_is_503_and_writes_nothing(other_roles):
    other_roles.get(f"{CHOICES}11/", body=requests.ConnectionError("refused"))
    response = cast("bob", 4, 11)
    assert response.status_code == 503 and response.json()["error"]["code"] == "choice_unavailable"
    assert not Vote.objects.exists()


def test_unknown_choice_is_400_and_unknown_poll_404(other_roles):
    other_roles.get(f"{CHOICES}12/", status=404, json={})
    assert cast("bob", 4, 12).status_code == 400
    other_roles.get(f"{CHOICES}13/", json={"id": 13, "poll_id": 5, "text": "x", "order": 1})
    other_roles.get(f"{POLLS}5/", status=404, json={})
    assert cast("bob", 5, 13).status_code == 404
    assert not Vote.objects.exists()


@pytest.mark.parametrize("body", [{}, {"choice_id": "one"}, {"choice_id": -1}, {"choice_id": 2**70}])
def test_invalid_vote_is_400(body):
    open_poll(1)
    response = client_for("bob").post(f"{API}polls/1/votes/", body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert not Vote.objects.exists()


def test_recount_rebuilds_tallies_from_votes():
    open_poll(1)
    for n in range(5):
        cast(f"v{n}", 1, 1)
    TallyShard.objects.update(count=999)  # corrupt them
    call_command("recount_results", "--poll", "1")
    assert results(1).json()["total"] == 5

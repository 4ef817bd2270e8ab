from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.polls.models import Poll
from pollsite.models import OutboxEvent
from tests.polls.conftest import API

pytestmark = pytest.mark.django_db


def create(client, question="Tea or coffee?", **extra):
    response = client.post(f"{API}polls/", {"question": question, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def events():
    return list(OutboxEvent.objects.order_by("id").values_list("event_type", flat=True))


def test_create_records_creator_from_token_and_an_event(client_as):
    poll = create(client_as("alice"))
    assert poll["creator"] == "alice"
    assert poll["status"] == "open"
    assert events() == ["poll.created"]
    event = OutboxEvent.objects.get()
    assert event.payload["poll_id"] == poll["id"]
    assert event.producer == "polls"
    assert event.published_at is None  # the relay publishes it


def test_creator_in_body_is_ignored(client_as):
    assert create(client_as("alice"), creator="mallory")["creator"] == "alice"


@pytest.mark.parametrize(
    "body",
    [{}, {"question": ""}, {"question": "x" * 201}, {"question": "ok", "closes_at": "yesterday"}],
    ids=["missing", "empty", "too-long", "bad-date"],
)
def test_invalid_create_is_400_and_writes_nothing(client_as, body):
    response = client_as().post(f"{API}polls/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert Poll.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_closing_time_in_the_past_is_refused(client_as):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = client_as().post(f"{API}polls/", {"question": "Late?", "closes_at": past}, format="json")
    assert response.status_code == 400
    assert "closes_at" in response.json()["error"]["details"]


def test_list_is_paginated_and_filters_by_status(client_as):
    alice = client_as("alice")
    first = create(alice, "one")
    create(alice, "two")
    alice.post(f"{API}polls/{first['id']}/close/")
    everything = client_as(None).get(f"{API}polls/", {"limit": 1}).json()
    assert everything["count"] == 2 and len(everything["results"]) == 1 and everything["next"]
    closed = client_as(None).get(f"{API}polls/", {"status": "closed"}).json()
    assert [p["question"] for p in closed["results"]] == ["one"]
    opened = client_as(None).get(f"{API}polls/", {"status": "open"}).json()
    assert [p["question"] for p in opened["results"]] == ["two"]
    bad = client_as(None).get(f"{API}polls/", {"status": "sideways"})
    assert bad.status_code == 400


def test_a_poll_past_its_closing_time_is_closed(client_as):
    poll = create(client_as(), closes_at=(timezone.now() + timedelta(hours=1)).isoformat())
    Poll.objects.filter(pk=poll["id"]).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert client_as(None).get(f"{API}polls/{poll['id']}/").json()["status"] == "closed"
    assert client_as(None).get(f"{API}polls/", {"status": "closed"}).json()["count"] == 1


def test_retrieve_unknown_is_404(client_as):
    response = client_as(None).get(f"{API}polls/999999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_only_the_creator_may_update_close_or_delete(client_as):
    poll = create(client_as("alice"))
    bob = client_as("bob")
    for response in (
        bob.patch(f"{API}polls/{poll['id']}/", {"question": "Hijacked"}, format="json"),
        bob.post(f"{API}polls/{poll['id']}/close/"),
        bob.delete(f"{API}polls/{poll['id']}/"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_poll_creator"
    assert Poll.objects.get().question == "Tea or coffee?"
    assert events() == ["poll.created"]


def test_update_question_then_close_then_delete_emit_events(client_as):
    alice = client_as("alice")
    poll = create(alice)
    updated = alice.patch(f"{API}polls/{poll['id']}/", {"question": "Coffee or tea?"}, format="json")
    assert updated.status_code == 200 and updated.json()["question"] == "Coffee or tea?"
    closed = alice.post(f"{API}polls/{poll['id']}/close/")
    assert closed.json()["status"] == "closed"
    assert alice.post(f"{API}polls/{poll['id']}/close/").status_code == 409
    assert alice.patch(f"{API}polls/{poll['id']}/", {"question": "Again"}, format="json").status_code == 409
    assert alice.delete(f"{API}polls/{poll['id']}/").status_code == 204
    assert not Poll.objects.exists()
    assert events() == ["poll.created", "poll.updated", "poll.closed", "poll.deleted"]


def test_empty_update_is_400(client_as):
    alice = client_as("alice")
    poll = create(alice)
    assert alice.patch(f"{API}polls/{poll['id']}/", {}, format="json").status_code == 400


def test_reads_are_public_but_writes_need_a_token(client_as):
    create(client_as())
    anonymous = client_as(None)
    assert anonymous.get(f"{API}polls/").status_code == 200
    assert anonymous.post(f"{API}polls/", {"question": "?"}, format="json").status_code == 401


def test_close_expired_polls_command(client_as):
    poll = create(client_as(), closes_at=(timezone.now() + timedelta(hours=1)).isoformat())
    create(client_as(), "still open")
    Poll.objects.filter(pk=poll["id"]).update(closes_at=timezone.now() - timedelta(seconds=1))
    call_command("close_expired_polls")
    assert Poll.objects.get(pk=poll["id"]).closed_at is not None
    assert events().count("poll.closed") == 1
    call_command("close_expired_polls")  # nothing more to close
    assert events().count("poll.closed") == 1

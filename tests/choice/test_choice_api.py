"""The choice role; the polls role's answers are faked at the HTTP layer (responses)."""

import pytest
import requests
from rest_framework.test import APIClient

from apps.choice.models import Choice
from pollsite.models import OutboxEvent
from tests.support import events
from tests.support.api import client_for, role_api

API = "/choice/api/v1/"
POLLS = role_api("polls") + "polls/"

pytestmark = pytest.mark.django_db


def poll_answer(other_roles, poll_id=7, creator="alice", status="open"):
    other_roles.get(f"{POLLS}{poll_id}/", json={"id": poll_id, "creator": creator, "status": status, "question": "?"})


def add(client, text, poll_id=7, **extra):
    return client.post(f"{API}polls/{poll_id}/choices/", {"text": text, **extra}, format="json")


def test_creator_adds_choices_in_order_and_each_emits_an_event(other_roles):
    poll_answer(other_roles)
    alice = client_for()
    assert add(alice, "Tea").status_code == 201
    assert add(alice, "Coffee").status_code == 201
    listed = APIClient().get(f"{API}polls/7/choices/").json()
    assert [(c["text"], c["order"]) for c in listed] == [("Tea", 1), ("Coffee", 2)]
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == ["choice.created"] * 2


def test_explicit_order_and_duplicates(other_roles):
    poll_answer(other_roles)
    alice = client_for()
    assert add(alice, "Second", order=2).status_code == 201
    assert add(alice, "First", order=1).status_code == 201
    assert [c["text"] for c in APIClient().get(f"{API}polls/7/choices/").json()] == ["First", "Second"]
    duplicate = add(alice, "First")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "duplicate_choice"
    assert add(alice, "Other", order=1).status_code == 409
    assert Choice.objects.count() == 2 and OutboxEvent.objects.count() == 2


def test_unknown_poll_is_404_and_closed_poll_409(other_roles):
    other_roles.get(f"{POLLS}8/", status=404, json={"error": {}})
    poll_answer(other_roles, poll_id=9, status="closed")
    missing = add(client_for(), "Tea", poll_id=8)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "poll_not_found"
    closed = add(client_for(), "Tea", poll_id=9)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "poll_closed"
    assert not Choice.objects.exists() and not OutboxEvent.objects.exists()


def test_only_the_polls_creator_changes_its_choices(other_roles):
    poll_answer(other_roles)
    response = add(client_for("bob"), "Tea")
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_poll_creator"
    assert not Choice.objects.exists()


def test_polls_down_is_503_and_writes_nothing(other_roles):
    other_roles.get(f"{POLLS}7/", body=requests.ConnectionError("connection refused"))
    response = add(client_for(), "Tea")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "polls_unavailable" and "nothing was written" in error["message"]
    assert not Choice.objects.exists() and not OutboxEvent.objects.exists()


def test_breaker_opens_after_repeated_failures(other_roles, settings):
    other_roles.get(f"{POLLS}7/", body=requests.ConnectionError("connection refused"))
    for _ in range(settings.SERVICE_BREAKER_FAILURES):
        add(client_for(), "Tea")
    calls_before = len(other_roles.calls)
    response = add(client_for(), "Tea")
    assert response.status_code == 503 and "circuit open" in response.json()["error"]["message"]
    assert len(other_roles.calls) == calls_before  # refused without calling polls


def test_polls_5xx_is_503(other_roles):
    other_roles.get(f"{POLLS}7/", status=500, json={})
    assert add(client_for(), "Tea").status_code == 503


def test_rename_and_delete(other_roles):
    poll_answer(other_roles)
    alice = client_for()
    choice = add(alice, "Tea").json()
    renamed = alice.patch(f"{API}choices/{choice['id']}/", {"text": "Green tea"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["text"] == "Green tea"
    assert client_for("bob").delete(f"{API}choices/{choice['id']}/").status_code == 403
    assert alice.delete(f"{API}choices/{choice['id']}/").status_code == 204
    assert alice.delete(f"{API}choices/{choice['id']}/").status_code == 404
    types = list(OutboxEvent.objects.order_by("id").values_list("event_type", flat=True))
    assert types == ["choice.created", "choice.updated", "choice.deleted"]


def test_poll_deleted_event_removes_its_choices_once(other_roles):
    poll_answer(other_roles)
    add(client_for(), "Tea")
    add(client_for(), "Coffee")
    event_id = "6f1c1f7e-0000-4000-8000-000000000001"
    assert events.deliver("choice", "polls", "poll.deleted", {"poll_id": 7}, event_id=event_id) == "applied"
    assert not Choice.objects.exists()
    assert events.deliver("choice", "polls", "poll.deleted", {"poll_id": 7}, event_id=event_id) == "duplicate"

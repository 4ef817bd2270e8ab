"""A choice's text changes, and a choice is deleted, only while its poll has no vote."""

import pytest

from apps.choice.models import Choice
from pollsite.models import OutboxEvent
from tests.support.api import client_for, lease_calls, refuse_edit_leases, role_api, vote_down

API = "/choice/api/v1/"
POLLS = role_api("polls") + "polls/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def poll_seven(other_roles):
    other_roles.get(f"{POLLS}7/", json={"id": 7, "creator": "alice", "status": "open", "question": "Ban feature X?"})


@pytest.fixture
def choice():
    created = client_for("alice").post(f"{API}polls/7/choices/", {"text": "No"}, format="json")
    assert created.status_code == 201, created.content
    return created.json()


def events() -> list[str]:
    return list(OutboxEvent.objects.order_by("id").values_list("event_type", flat=True))


def test_a_new_text_takes_and_releases_a_lease(choice, other_roles):
    renamed = client_for("alice").patch(f"{API}choices/{choice['id']}/", {"text": "Never"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["text"] == "Never"
    assert lease_calls(other_roles) == ["POST", "DELETE"]


def test_once_the_poll_has_votes_texts_and_deletions_are_refused(choice, other_roles):
    refuse_edit_leases(other_roles)
    alice = client_for("alice")
    renamed = alice.patch(f"{API}choices/{choice['id']}/", {"text": "Yes"}, format="json")
    deleted = alice.delete(f"{API}choices/{choice['id']}/")
    for refused in (renamed, deleted):
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "poll_has_votes"
    assert Choice.objects.get().text == "No"
    assert events() == ["choice.created"]
    # Its order is no part of what a vote means: it still changes.
    assert alice.patch(f"{API}choices/{choice['id']}/", {"order": 5}, format="json").status_code == 200


def test_adding_a_choice_needs_no_lease(other_roles):
    vote_down(other_roles)
    assert client_for("alice").post(f"{API}polls/7/choices/", {"text": "Maybe"}, format="json").status_code == 201
    assert lease_calls(other_roles) == []


def test_with_vote_down_a_deletion_is_503_and_nothing_changes(choice, other_roles):
    vote_down(other_roles)
    refused = client_for("alice").delete(f"{API}choices/{choice['id']}/")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "vote_unavailable"
    assert Choice.objects.exists() and events() == ["choice.created"]

"""A poll's question changes only while it has no vote: the polls side of the edit lease."""

import pytest
import responses

from apps.polls.models import Poll
from pollsite.models import OutboxEvent
from tests.polls.conftest import API
from tests.support.api import LEASE_TAKE, grant_edit_leases, lease_calls, refuse_edit_leases, vote_down

pytestmark = pytest.mark.django_db


def create(client):
    return client.post(f"{API}polls/", {"question": "Ban feature X?"}, format="json").json()


def events() -> list[str]:
    return list(OutboxEvent.objects.order_by("id").values_list("event_type", flat=True))


def test_a_new_question_takes_a_lease_and_releases_it(client_as, other_roles):
    alice = client_as("alice")
    poll = create(alice)
    updated = alice.patch(f"{API}polls/{poll['id']}/", {"question": "Ban feature Y?"}, format="json")
    assert updated.status_code == 200 and updated.json()["question"] == "Ban feature Y?"
    assert lease_calls(other_roles) == ["POST", "DELETE"]
    take = next(call.request for call in other_roles.calls if call.request.method == "POST")
    assert take.headers["Authorization"].startswith("Bearer "), "asked on the creator's behalf"


def test_once_the_poll_has_votes_its_question_is_refused_and_nothing_changes(client_as, other_roles):
    alice = client_as("alice")
    poll = create(alice)
    refuse_edit_leases(other_roles)
    refused = alice.patch(f"{API}polls/{poll['id']}/", {"question": "Allow feature X?"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"] == {"status": 409, "code": "poll_has_votes", "message": "Poll 7 has votes."}
    assert Poll.objects.get().question == "Ban feature X?"
    assert events() == ["poll.created"]


def test_with_vote_down_a_new_question_is_503_and_nothing_changes(client_as, other_roles):
    alice = client_as("alice")
    poll = create(alice)
    vote_down(other_roles)
    refused = alice.patch(f"{API}polls/{poll['id']}/", {"question": "Allow feature X?"}, format="json")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "vote_unavailable"
    assert Poll.objects.get().question == "Ban feature X?" and events() == ["poll.created"]


def test_closing_time_and_the_same_question_need_no_lease(client_as, other_roles):
    alice = client_as("alice")
    poll = create(alice)
    vote_down(other_roles)  # not asked at all
    later = "2099-01-01T00:00:00Z"
    assert alice.patch(f"{API}polls/{poll['id']}/", {"closes_at": later}, format="json").status_code == 200
    assert alice.patch(f"{API}polls/{poll['id']}/", {"question": "Ban feature X?"}, format="json").status_code == 200
    assert lease_calls(other_roles) == []


def test_a_stranger_is_refused_before_vote_is_asked(client_as, other_roles):
    poll = create(client_as("alice"))
    assert client_as("bob").patch(f"{API}polls/{poll['id']}/", {"question": "Hijacked"}, format="json").status_code == 403
    assert lease_calls(other_roles) == []


def test_a_new_poll_vote_has_not_learned_of_yet_is_asked_about_again(client_as, other_roles):
    alice = client_as("alice")
    poll = create(alice)
    not_yet = {"error": {"status": 409, "code": "not_yet_known", "message": "not learned yet"}, "request_id": "r"}
    other_roles.remove(responses.POST, LEASE_TAKE)
    other_roles.add(responses.POST, LEASE_TAKE, status=409, json=not_yet)
    grant_edit_leases(other_roles)  # the poll.created event has arrived: the next ask is granted
    updated = alice.patch(f"{API}polls/{poll['id']}/", {"question": "Ban feature Y?"}, format="json")
    assert updated.status_code == 200, updated.content
    assert lease_calls(other_roles) == ["POST", "POST", "DELETE"]

"""Edit leases: the vote role lets a poll's wording change only while the poll has no vote."""

import threading
from datetime import timedelta

import pytest
import requests
from django.db import connection, connections, transaction
from django.utils import timezone

from apps.vote import services
from apps.vote.models import KnownPoll, Vote
from pollsite.exceptions import Conflict
from tests.support import events
from tests.support.api import client_for, role_api

API = "/vote/api/v1/"
POLLS = role_api("polls") + "polls/"

pytestmark = pytest.mark.django_db


def open_poll(poll_id: int = 1, creator: str = "alice") -> None:
    events.deliver("vote", "polls", "poll.created", {"poll_id": poll_id, "status": "open", "closes_at": None, "creator": creator})
    events.deliver("vote", "choice", "choice.created", {"choice_id": poll_id * 10 + 1, "poll_id": poll_id})


def take(subject: str = "alice", poll_id: int = 1):
    return client_for(subject).post(f"{API}polls/{poll_id}/edit-lease/")


def cast(subject: str, poll_id: int = 1):
    return client_for(subject).post(f"{API}polls/{poll_id}/votes/", {"choice_id": poll_id * 10 + 1}, format="json")


def test_a_poll_without_votes_gets_a_lease_and_votes_wait_until_it_is_released():
    open_poll()
    lease = take()
    assert lease.status_code == 201, lease.content
    body = lease.json()
    assert body["poll_id"] == 1 and body["seconds"] == 10 and body["lease_id"]
    refused = cast("bob")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "poll_being_edited"
    assert not Vote.objects.exists()
    released = client_for("alice").delete(f"{API}polls/1/edit-lease/{body['lease_id']}/")
    assert released.status_code == 204
    assert cast("bob").status_code == 201


def test_once_a_poll_has_a_vote_no_lease_is_granted():
    open_poll()
    assert cast("bob").status_code == 201
    refused = take()
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "poll_has_votes"
    assert KnownPoll.objects.get(poll_id=1).edit_lease_id is None


def test_a_lease_runs_out_by_itself():
    open_poll()
    assert take().status_code == 201
    KnownPoll.objects.filter(poll_id=1).update(edit_lease_until=timezone.now() - timedelta(seconds=1))
    assert cast("bob").status_code == 201


def test_only_the_creator_takes_or_releases_a_lease():
    open_poll(creator="alice")
    refused = take("mallory")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_poll_creator"
    lease = take("alice").json()
    assert client_for("mallory").delete(f"{API}polls/1/edit-lease/{lease['lease_id']}/").status_code == 204
    assert KnownPoll.objects.get(poll_id=1).edit_lease_id is not None, "someone else's release changes nothing"
    assert client_for(None).post(f"{API}polls/1/edit-lease/").status_code == 401


def test_a_second_lease_replaces_the_first_and_only_its_own_release_ends_it():
    open_poll()
    first, second = take().json(), take().json()
    assert first["lease_id"] != second["lease_id"]
    client_for("alice").delete(f"{API}polls/1/edit-lease/{first['lease_id']}/")
    assert cast("bob").json()["error"]["code"] == "poll_being_edited", "the first edit's release must not end the second's lease"
    client_for("alice").delete(f"{API}polls/1/edit-lease/{second['lease_id']}/")
    assert cast("bob").status_code == 201


def test_a_poll_not_learned_yet_is_not_yet_known_and_no_one_is_asked(other_roles):
    refused = take(poll_id=4)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_yet_known"
    assert len(other_roles.calls) == 0, "the polls role is the caller: vote must not call it back"


def test_a_row_from_before_creators_were_recorded_learns_its_creator(other_roles):
    KnownPoll.objects.create(poll_id=4, status=KnownPoll.Status.OPEN)
    other_roles.get(f"{POLLS}4/", json={"id": 4, "status": "open", "closes_at": None, "creator": "alice"})
    assert take(poll_id=4).status_code == 201
    assert KnownPoll.objects.get(poll_id=4).creator == "alice"


def test_deleted_polls_and_legacy_rows_polls_cannot_tell_about(other_roles):
    open_poll(poll_id=6)
    events.deliver("vote", "polls", "poll.deleted", {"poll_id": 6})
    assert take(poll_id=6).json()["error"]["code"] == "poll_not_found"
    KnownPoll.objects.create(poll_id=5, status=KnownPoll.Status.OPEN)
    other_roles.get(f"{POLLS}5/", status=404, json={})
    assert take(poll_id=5).json()["error"]["code"] == "poll_not_found"
    KnownPoll.objects.create(poll_id=7, status=KnownPoll.Status.OPEN)
    other_roles.get(f"{POLLS}7/", body=requests.ConnectionError("down"))
    down = take(poll_id=7)
    assert down.status_code == 503 and down.json()["error"]["code"] == "polls_unavailable"


# --- the race, on PostgreSQL's row locks ---------------------------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the race is decided by PostgreSQL's row locks (set POLLSITE_TEST_POSTGRES)"
)


def in_thread(work, *, hold: threading.Event | None = None, started: threading.Event | None = None):
    """Run ``work()`` on a connection of its own, inside a transaction that waits for ``hold``
    before it commits; the result (or the exception) lands in the returned dict."""
    outcome = {}

    def run():
        try:
            with transaction.atomic():
                outcome["result"] = work()
                if started:
                    started.set()
                if hold:
                    hold.wait(10)
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def blocked(thread: threading.Thread, seconds: float = 0.5) -> bool:
    thread.join(seconds)
    return thread.is_alive()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_first_vote_in_flight_makes_the_lease_wait_then_refuses_it():
    open_poll()
    commit_vote, vote_done = threading.Event(), threading.Event()
    voter, voted = in_thread(lambda: services.vote_cast(poll_id=1, choice_id=11, voter="bob"), hold=commit_vote, started=vote_done)
    assert vote_done.wait(10)
    editor, edited = in_thread(lambda: services.edit_lease_take(poll_id=1, actor="alice"))
    assert blocked(editor), "the lease must wait for the vote in flight (FOR UPDATE behind FOR SHARE)"
    commit_vote.set()
    voter.join(10)
    editor.join(10)
    assert "result" in voted
    assert isinstance(edited.get("error"), Conflict) and edited["error"].code == "poll_has_votes"
    assert KnownPoll.objects.get(poll_id=1).edit_lease_id is None


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_lease_being_taken_makes_the_first_vote_wait_then_refuses_it():
    open_poll()
    commit_lease, lease_done = threading.Event(), threading.Event()
    editor, edited = in_thread(lambda: services.edit_lease_take(poll_id=1, actor="alice"), hold=commit_lease, started=lease_done)
    assert lease_done.wait(10)
    voter, voted = in_thread(lambda: services.vote_cast(poll_id=1, choice_id=11, voter="bob"))
    assert blocked(voter), "the vote must wait for the lease being taken (FOR SHARE behind FOR UPDATE)"
    commit_lease.set()
    editor.join(10)
    voter.join(10)
    assert "result" in edited
    assert isinstance(voted.get("error"), Conflict) and voted["error"].code == "poll_being_edited"
    assert not Vote.objects.exists()

"""The polls role's rules, at the services and selectors: creating, rewording, closing,
deleting, and the event each change leaves in the outbox in the same transaction.

Set-up through tests.support.builders; the vote role's edit leases are faked by the
suite's conftest (granted unless a test refuses them).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.polls import selectors, services
from apps.polls.models import Poll
from pollsite.exceptions import Conflict, ErrorCode, Invalid, NotAllowed
from pollsite.models import OutboxEvent
from tests.support.api import lease_calls, refuse_edit_leases
from tests.support.builders import a_poll

pytestmark = pytest.mark.django_db


def events() -> list[tuple[str, dict]]:
    return [(row.event_type, row.payload) for row in OutboxEvent.objects.order_by("id")]


def test_a_new_poll_is_open_and_announced():
    poll = services.poll_create(question="Tea or coffee?", creator="alice")
    assert poll.status_at(timezone.now()) == Poll.Status.OPEN
    [(event_type, payload)] = events()
    assert event_type == "poll.created"
    assert payload == {"poll_id": poll.pk, "question": "Tea or coffee?", "creator": "alice", "status": "open", "closes_at": None}


def test_a_closing_time_must_be_in_the_future():
    with pytest.raises(Invalid):
        services.poll_create(question="Too late?", creator="alice", closes_at=timezone.now() - timedelta(minutes=1))
    assert not Poll.objects.exists() and not events()


def test_only_its_creator_closes_a_poll_and_only_once():
    poll = a_poll()
    with pytest.raises(NotAllowed) as refused:
        services.poll_close(poll_id=poll.pk, actor="mallory")
    assert refused.value.code == ErrorCode.NOT_POLL_CREATOR and not events()
    services.poll_close(poll_id=poll.pk, actor="alice")
    assert [event_type for event_type, _ in events()] == ["poll.closed"]
    with pytest.raises(Conflict) as again:
        services.poll_close(poll_id=poll.pk, actor="alice")
    assert again.value.code == ErrorCode.POLL_CLOSED


def test_a_new_question_takes_an_edit_lease_and_a_new_closing_time_does_not(other_roles):
    poll = a_poll()
    services.poll_update(poll_id=poll.pk, actor="alice", closes_at=timezone.now() + timedelta(days=1))
    assert lease_calls(other_roles) == []
    services.poll_update(poll_id=poll.pk, actor="alice", question="Tea, or coffee?")
    assert lease_calls(other_roles) == ["POST", "DELETE"]  # taken, then released
    assert Poll.objects.get(pk=poll.pk).question == "Tea, or coffee?"
    assert [event_type for event_type, _ in events()] == ["poll.updated", "poll.updated"]


def test_a_poll_with_votes_keeps_its_question(other_roles):
    poll = a_poll()
    refuse_edit_leases(other_roles)
    with pytest.raises(Conflict) as refused:
        services.poll_update(poll_id=poll.pk, actor="alice", question="Something else?")
    assert refused.value.code == ErrorCode.POLL_HAS_VOTES
    assert Poll.objects.get(pk=poll.pk).question == "Tea or coffee?" and not events()


def test_a_closed_poll_cannot_change():
    poll = a_poll(closed_at=timezone.now())
    with pytest.raises(Conflict) as refused:
        services.poll_update(poll_id=poll.pk, actor="alice", question="Reopened?")
    assert refused.value.code == ErrorCode.POLL_CLOSED


def test_deleting_a_poll_announces_it():
    poll = a_poll()
    with pytest.raises(NotAllowed):
        services.poll_delete(poll_id=poll.pk, actor="mallory")
    services.poll_delete(poll_id=poll.pk, actor="alice")
    assert not Poll.objects.exists()
    assert events() == [("poll.deleted", {"poll_id": poll.pk})]


def test_polls_past_their_closing_time_are_closed_once():
    past = a_poll(question="Expired?")
    Poll.objects.filter(pk=past.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    a_poll(question="Still open?", closes_at=timezone.now() + timedelta(days=1))
    assert services.polls_close_expired() == 1
    assert services.polls_close_expired() == 0
    assert [event_type for event_type, _ in events()] == ["poll.closed"]


def test_the_status_filter_reads_the_closing_time_too():
    open_poll = a_poll(question="Open?")
    closed = a_poll(question="Closed?", closed_at=timezone.now())
    expired = a_poll(question="Expired?")
    Poll.objects.filter(pk=expired.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert set(selectors.poll_list(status="open")) == {open_poll}
    assert set(selectors.poll_list(status="closed")) == {closed, expired}

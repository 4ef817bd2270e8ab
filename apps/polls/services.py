"""Writes of the polls role. Each change and its event commit together."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.polls.models import Poll
from pollsite.api.edit_lease import wording_change
from pollsite.db.fields import save_given
from pollsite.events.contract import PollDeleted, PollSnapshot
from pollsite.events.outbox import event_record
from pollsite.exceptions import Conflict, ErrorCode, Invalid, NotAllowed, get_or_not_found


def _poll_payload(poll: Poll) -> PollSnapshot:
    return PollSnapshot(
        poll_id=poll.pk,
        question=poll.question,
        creator=poll.creator,
        status=poll.status_at(timezone.now()),
        closes_at=poll.closes_at,
    )


def _require_creator(poll: Poll, actor: str, action: str) -> None:
    if poll.creator != actor:
        raise NotAllowed(f"Only the poll's creator may {action} it.", ErrorCode.NOT_POLL_CREATOR)


def _require_future(closes_at: datetime | None) -> None:
    if closes_at is not None and closes_at <= timezone.now():
        raise Invalid({"closes_at": ["must be in the future"]})


@transaction.atomic
def poll_create(*, question: str, creator: str, closes_at: datetime | None = None) -> Poll:
    _require_future(closes_at)
    poll = Poll.objects.create(question=question, creator=creator, closes_at=closes_at)
    event_record(event_type="poll.created", payload=_poll_payload(poll))
    return poll


def _require_changeable(poll: Poll, actor: str) -> None:
    _require_creator(poll, actor, "change")
    if poll.status_at(timezone.now()) == Poll.Status.CLOSED:
        raise Conflict("The poll is closed; it can no longer be changed.", ErrorCode.POLL_CLOSED)


def poll_update(*, poll_id: int, actor: str, question: str | None = None, closes_at: datetime | None = None) -> Poll:
    """Change a poll. A new question only while the poll has no vote (the vote role holds
    its votes meanwhile: pollsite.api.edit_lease); its closing time whenever it is open."""
    if closes_at is not None:
        _require_future(closes_at)
    poll = get_or_not_found(Poll, pk=poll_id)
    _require_changeable(poll, actor)  # before asking the vote role anything
    with wording_change(poll_id=poll_id, needed=question is not None and question != poll.question):
        poll = get_or_not_found(Poll.objects.select_for_update(), pk=poll_id)
        _require_changeable(poll, actor)
        save_given(poll, question=question, closes_at=closes_at)
        event_record(event_type="poll.updated", payload=_poll_payload(poll))
    return poll


def _close(poll: Poll, closed_at: datetime) -> None:
    poll.closed_at = closed_at
    poll.save(update_fields=["closed_at"])
    event_record(event_type="poll.closed", payload=_poll_payload(poll))


@transaction.atomic
def poll_close(*, poll_id: int, actor: str) -> Poll:
    poll = get_or_not_found(Poll.objects.select_for_update(), pk=poll_id)
    _require_creator(poll, actor, "close")
    if poll.closed_at is not None:
        raise Conflict("The poll is already closed.", ErrorCode.POLL_CLOSED)
    _close(poll, timezone.now())
    return poll


@transaction.atomic
def poll_delete(*, poll_id: int, actor: str) -> None:
    poll = get_or_not_found(Poll.objects.select_for_update(), pk=poll_id)
    _require_creator(poll, actor, "delete")
    payload = PollDeleted(poll_id=poll.pk)
    poll.delete()
    event_record(event_type="poll.deleted", payload=payload)


@transaction.atomic
def polls_close_expired(*, now: datetime | None = None) -> int:
    """Close every poll past its closing time that nobody closed yet; how many."""
    now = now or timezone.now()
    expired = Poll.objects.select_for_update().filter(closed_at__isnull=True, closes_at__lte=now)
    count = 0
    for poll in expired:
        _close(poll, poll.closes_at)
        count += 1
    return count

"""Small builders for the service tests: rows as a role's own tables hold them, without a
service call or an HTTP round trip. Each suite runs under one role's settings, so each
builder imports its role's models when called."""

from __future__ import annotations

from datetime import datetime


def a_poll(*, question: str = "Tea or coffee?", creator: str = "alice", closes_at: datetime | None = None, closed_at=None):
    from apps.polls.models import Poll

    return Poll.objects.create(question=question, creator=creator, closes_at=closes_at, closed_at=closed_at)


def a_choice(*, poll_id: int = 7, text: str = "Tea", order: int | None = None):
    from apps.choice.models import Choice

    if order is None:
        order = Choice.objects.filter(poll_id=poll_id).count() + 1
    return Choice.objects.create(poll_id=poll_id, text=text, order=order)


def a_known_poll(*, poll_id: int = 7, status: str = "open", closes_at: datetime | None = None, creator: str = "alice"):
    """The vote role's read model of a poll; ``status`` is open, closed or deleted."""
    from apps.vote.models import KnownPoll

    code = {"open": KnownPoll.Status.OPEN, "closed": KnownPoll.Status.CLOSED, "deleted": KnownPoll.Status.DELETED}[status]
    return KnownPoll.objects.create(poll_id=poll_id, status=code, closes_at=closes_at, creator=creator)


def a_known_choice(*, choice_id: int, poll_id: int = 7, deleted: bool = False):
    from apps.vote.models import KnownChoice

    return KnownChoice.objects.create(choice_id=choice_id, poll_id=poll_id, deleted=deleted)


def a_votable_poll(*, poll_id: int = 7, choice_ids: tuple[int, ...] = (71, 72), **poll) -> tuple[int, ...]:
    """A poll and its choices as the vote role learned them from the events; the choice ids."""
    a_known_poll(poll_id=poll_id, **poll)
    for choice_id in choice_ids:
        a_known_choice(choice_id=choice_id, poll_id=poll_id)
    return choice_ids

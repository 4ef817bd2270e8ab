"""Events the vote role applies (see pollsite.events.consumer): its read model's feed.

Each handler takes the typed payload its event declares in pollsite.events.contract.
"""

from apps.vote import services
from apps.vote.models import KnownPoll
from pollsite.events.contract import ChoiceDeleted, ChoiceSnapshot, PollDeleted, PollSnapshot


def on_poll_changed(payload: PollSnapshot) -> None:
    status = KnownPoll.Status.of(payload.status)
    services.known_poll_apply(poll_id=payload.poll_id, status=status, closes_at=payload.closes_at, creator=payload.creator)


def on_poll_closed(payload: PollSnapshot) -> None:
    status = KnownPoll.Status.CLOSED
    services.known_poll_apply(poll_id=payload.poll_id, status=status, closes_at=payload.closes_at, creator=payload.creator)


def on_poll_deleted(payload: PollDeleted) -> None:
    services.known_poll_delete(poll_id=payload.poll_id)


def on_choice_created(payload: ChoiceSnapshot) -> None:
    services.known_choice_add(choice_id=payload.choice_id, poll_id=payload.poll_id)


def on_choice_deleted(payload: ChoiceDeleted) -> None:
    services.known_choice_delete(choice_id=payload.choice_id, poll_id=payload.poll_id)


HANDLERS = {
    "polls.poll.created": on_poll_changed,
    "polls.poll.updated": on_poll_changed,
    "polls.poll.closed": on_poll_closed,
    "polls.poll.deleted": on_poll_deleted,
    "choice.choice.created": on_choice_created,
    "choice.choice.deleted": on_choice_deleted,
}

"""Events the vote role applies (see pollsite.events.consumer): its read model's feed."""

from apps.vote import services
from apps.vote.models import KnownPoll


def on_poll_changed(payload: dict) -> None:
    status = services.POLL_STATUS[payload["status"]]
    services.known_poll_apply(poll_id=payload["poll_id"], status=status, closes_at=payload.get("closes_at"))


def on_poll_closed(payload: dict) -> None:
    services.known_poll_apply(poll_id=payload["poll_id"], status=KnownPoll.Status.CLOSED, closes_at=payload.get("closes_at"))


def on_poll_deleted(payload: dict) -> None:
    services.known_poll_delete(poll_id=payload["poll_id"])


def on_choice_created(payload: dict) -> None:
    services.known_choice_add(choice_id=payload["choice_id"], poll_id=payload["poll_id"])


def on_choice_deleted(payload: dict) -> None:
    services.known_choice_delete(choice_id=payload["choice_id"], poll_id=payload["poll_id"])


HANDLERS = {
    "polls.poll.created": on_poll_changed,
    "polls.poll.updated": on_poll_changed,
    "polls.poll.closed": on_poll_closed,
    "polls.poll.deleted": on_poll_deleted,
    "choice.choice.created": on_choice_created,
    "choice.choice.deleted": on_choice_deleted,
}

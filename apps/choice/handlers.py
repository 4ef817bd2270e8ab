"""Events the choice role applies (see pollsite.events.consumer)."""

from apps.choice.services import choices_delete_for_poll


def on_poll_deleted(payload: dict) -> None:
    choices_delete_for_poll(poll_id=payload["poll_id"])


HANDLERS = {
    "polls.poll.deleted": on_poll_deleted,
}

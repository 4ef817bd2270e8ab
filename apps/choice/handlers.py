"""Events the choice role applies (see pollsite.events.consumer), each with its typed payload."""

from apps.choice.services import choices_delete_for_poll
from pollsite.events.contract import PollDeleted


def on_poll_deleted(payload: PollDeleted) -> None:
    choices_delete_for_poll(poll_id=payload.poll_id)


HANDLERS = {
    "polls.poll.deleted": on_poll_deleted,
}

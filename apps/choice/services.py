"""Writes of the choice role.

Changing a poll's choices needs an answer now from the polls role (does the poll
exist, is it open, is the caller its creator), so that is a synchronous call; if
polls is down the call raises Unavailable (503) before anything is written. Changing a
choice's text or deleting it also needs the vote role's edit lease (the poll must have
no vote yet: pollsite.api.edit_lease); if vote is down, the same 503.
"""

from django.db import IntegrityError, transaction
from django.db.models import Max

from apps.choice.models import Choice
from pollsite.api.client import service_client
from pollsite.api.edit_lease import wording_change
from pollsite.db.fields import save_given
from pollsite.events.contract import ChoiceDeleted, ChoiceSnapshot, PollStatus
from pollsite.events.outbox import event_record
from pollsite.exceptions import Conflict, ErrorCode, NotAllowed, NotFound, get_or_not_found

#: Most choices a poll may have.
MAX_CHOICES_PER_POLL = 50


def _payload(choice: Choice) -> ChoiceSnapshot:
    return ChoiceSnapshot(choice_id=choice.pk, poll_id=choice.poll_id, text=choice.text, order=choice.order)


def _require_open_poll_of(*, poll_id: int, actor: str) -> None:
    poll = service_client("polls").get_json(f"polls/{poll_id}/")
    if poll is None:
        raise NotFound(f"Poll {poll_id} does not exist.", ErrorCode.POLL_NOT_FOUND)
    if poll["creator"] != actor:
        raise NotAllowed("Only the poll's creator may change its choices.", ErrorCode.NOT_POLL_CREATOR)
    if poll["status"] != PollStatus.OPEN:
        raise Conflict(f"Poll {poll_id} is closed; its choices can no longer change.", ErrorCode.POLL_CLOSED)


def _duplicate(exc: IntegrityError) -> Conflict:
    return Conflict("The poll already has a choice with this text or this order.", ErrorCode.DUPLICATE_CHOICE)


def choice_create(*, poll_id: int, actor: str, text: str, order: int | None = None) -> Choice:
    _require_open_poll_of(poll_id=poll_id, actor=actor)
    try:
        with transaction.atomic():
            existing = Choice.objects.select_for_update().filter(poll_id=poll_id)
            if existing.count() >= MAX_CHOICES_PER_POLL:
                raise Conflict(f"A poll has at most {MAX_CHOICES_PER_POLL} choices.", ErrorCode.TOO_MANY_CHOICES)
            if order is None:
                order = (existing.aggregate(top=Max("order"))["top"] or 0) + 1
            choice = Choice.objects.create(poll_id=poll_id, text=text, order=order)
            event_record(event_type="choice.created", payload=_payload(choice))
    except IntegrityError as exc:
        raise _duplicate(exc) from None
    return choice


def choice_update(*, choice_id: int, actor: str, text: str | None = None, order: int | None = None) -> Choice:
    """Change a choice. A new text only while its poll has no vote (the vote role holds the
    poll's votes meanwhile: pollsite.api.edit_lease); its order whenever the poll is open."""
    choice = get_or_not_found(Choice, pk=choice_id)
    _require_open_poll_of(poll_id=choice.poll_id, actor=actor)
    try:
        with wording_change(poll_id=choice.poll_id, needed=text is not None and text != choice.text):
            choice = get_or_not_found(Choice.objects.select_for_update(), pk=choice_id)
            save_given(choice, text=text, order=order)
            event_record(event_type="choice.updated", payload=_payload(choice))
    except IntegrityError as exc:
        raise _duplicate(exc) from None
    return choice


def choice_delete(*, choice_id: int, actor: str) -> None:
    """Delete a choice, only while its poll has no vote: a vote's choice never disappears."""
    choice = get_or_not_found(Choice, pk=choice_id)
    _require_open_poll_of(poll_id=choice.poll_id, actor=actor)
    with wording_change(poll_id=choice.poll_id):
        deleted, _ = Choice.objects.filter(pk=choice_id).delete()
        if deleted:
            event_record(event_type="choice.deleted", payload=ChoiceDeleted(choice_id=choice_id, poll_id=choice.poll_id))


@transaction.atomic
def choices_delete_for_poll(*, poll_id: int) -> int:
    """The poll is gone (event from polls): its choices go too. Vote learns it from polls' event."""
    deleted, _ = Choice.objects.filter(poll_id=poll_id).delete()
    return deleted


def choices_find_orphans(*, delete: bool = False) -> dict[int, int]:
    """Polls that have choices here but no longer exist in the polls role: {poll id: choice count}."""
    polls = service_client("polls")
    orphans = {}
    for poll_id in Choice.objects.values_list("poll_id", flat=True).distinct().order_by("poll_id"):
        if polls.get_json(f"polls/{poll_id}/") is None:
            orphans[poll_id] = Choice.objects.filter(poll_id=poll_id).count()
            if delete:
                choices_delete_for_poll(poll_id=poll_id)
    return orphans

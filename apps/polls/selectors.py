from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.polls.models import Poll


def poll_list(*, status: str | None = None) -> QuerySet[Poll]:
    polls = Poll.objects.all()
    if status == Poll.Status.OPEN:
        return polls.open()
    if status == Poll.Status.CLOSED:
        return polls.closed()
    return polls


def poll_get(*, poll_id: int) -> Poll:
    return get_object_or_404(Poll, pk=poll_id)

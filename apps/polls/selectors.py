from django.db.models import QuerySet

from apps.polls.models import Poll
from pollsite.exceptions import get_or_not_found


def poll_list(*, status: str | None = None) -> QuerySet[Poll]:
    polls = Poll.objects.all()
    if status == Poll.Status.OPEN:
        return polls.open()
    if status == Poll.Status.CLOSED:
        return polls.closed()
    return polls


def poll_get(*, poll_id: int) -> Poll:
    return get_or_not_found(Poll, pk=poll_id)

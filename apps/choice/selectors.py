from django.db.models import QuerySet

from apps.choice.models import Choice
from pollsite.exceptions import get_or_not_found


def choice_list(*, poll_id: int) -> QuerySet[Choice]:
    return Choice.objects.filter(poll_id=poll_id).order_by("order", "id")


def choice_get(*, choice_id: int) -> Choice:
    return get_or_not_found(Choice, pk=choice_id)

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.choice.models import Choice


def choice_list(*, poll_id: int) -> QuerySet[Choice]:
    return Choice.objects.filter(poll_id=poll_id).order_by("order", "id")


def choice_get(*, choice_id: int) -> Choice:
    return get_object_or_404(Choice, pk=choice_id)

from django.contrib import admin

from apps.choice.models import Choice
from pollsite.admin import ReadOnlyAdmin


@admin.register(Choice)
class ChoiceAdmin(ReadOnlyAdmin):
    list_display = ["id", "poll_id", "order", "text"]
    search_fields = ["text"]
    list_filter = ["poll_id"]

from django.contrib import admin

from apps.polls.models import Poll
from pollsite.admin import ReadOnlyAdmin


@admin.register(Poll)
class PollAdmin(ReadOnlyAdmin):
    list_display = ["id", "question", "creator", "created_at", "closes_at", "closed_at"]
    list_filter = ["closed_at"]
    search_fields = ["question", "creator"]

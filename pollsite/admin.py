from django.contrib import admin

from pollsite.models import DeadLetter, InboxEvent, OutboxEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Domain rows are changed through the API's services, which also write the events
    other roles need; the admin is for looking, so it cannot bypass them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "event_type", "occurred_at", "published_at", "request_id"]
    list_filter = ["event_type", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "request_id"]


@admin.register(InboxEvent)
class InboxEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "producer", "event_type", "outcome", "received_at", "request_id"]
    list_filter = ["producer", "event_type", "outcome"]
    search_fields = ["event_id", "request_id"]


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    """Replay and discard go through ``manage.py dead_letters``, which logs what it did."""

    list_display = ["id", "state", "reason", "routing_key", "user_id", "event_id", "attempts", "received_at"]
    list_filter = ["state", "reason", "routing_key"]
    search_fields = ["event_id", "detail"]

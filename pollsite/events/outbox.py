"""Writing events: in the same transaction as the change they describe."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pollsite.models import OutboxEvent
from pollsite.request_context import current_request_id


def event_record(*, event_type: str, payload: dict, version: int = 1) -> OutboxEvent:
    """Add an event to this role's outbox. Must run inside the transaction of the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_record() must be called inside the transaction that makes the change")
    return OutboxEvent.objects.create(
        event_type=event_type,
        version=version,
        occurred_at=timezone.now(),
        producer=settings.ROLE,
        request_id=current_request_id(),
        payload=payload,
    )


def envelope(event: OutboxEvent) -> dict:
    """The message body on the wire: every field a consumer needs to apply the event once."""
    return {
        "id": str(event.event_id),
        "type": event.event_type,
        "version": event.version,
        "occurred_at": event.occurred_at.isoformat(),
        "producer": event.producer,
        "request_id": event.request_id,
        "payload": event.payload,
    }

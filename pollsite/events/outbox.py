"""Writing events: in the same transaction as the change they describe."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pollsite.events.contract import Model, event_type_of, payload_dump
from pollsite.models import OutboxEvent
from pollsite.observability.request_context import current_request_id


def event_record(*, event_type: str, payload: Model) -> OutboxEvent:
    """Add an event this role declares to its outbox. Must run inside the transaction of the change.

    The payload is the declared model of ``event_type`` (pollsite.events.contract), so
    a producer cannot write what its consumers would refuse.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_record() must be called inside the transaction that makes the change")
    declaration = event_type_of(settings.ROLE, event_type)
    if declaration is None:
        raise LookupError(f"the {settings.ROLE} role declares no event {event_type!r} in pollsite.events.contract")
    if type(payload) is not declaration.payload:
        raise TypeError(f"{declaration.key} carries a {declaration.payload.__name__}, not a {type(payload).__name__}")
    return OutboxEvent.objects.create(
        event_type=event_type,
        version=declaration.version,
        occurred_at=timezone.now(),
        producer=settings.ROLE,
        request_id=current_request_id()[:128],
        payload=payload_dump(payload),
    )


def envelope(event: OutboxEvent) -> dict:
    """The message body on the wire (pollsite.events.contract.Envelope)."""
    return {
        "id": str(event.event_id),
        "type": event.event_type,
        "version": event.version,
        "occurred_at": event.occurred_at.isoformat(),
        "producer": event.producer,
        "request_id": event.request_id,
        "payload": event.payload,
    }

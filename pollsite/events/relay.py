"""The relay: publishes the outbox to the broker, in order, until stopped.

Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) so a second relay
replica never publishes the same row concurrently; a row is stamped published only after
the broker confirmed it. If the broker is down, events wait in the outbox and the relay
retries with back-off; a duplicate after a crash is absorbed by the consumers' inbox.
"""

import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu import Producer

from pollsite.events.broker import declare_topology, events_exchange, routing_key
from pollsite.events.outbox import envelope
from pollsite.events.worker import Stopper, run_connected
from pollsite.models import OutboxEvent
from pollsite.observability.metrics import EVENTS_PUBLISHED

logger = logging.getLogger("pollsite.events.relay")


def outbox_publish_batch(*, producer: Producer, limit: int, user_id: str | None = None) -> int:
    """Publish up to ``limit`` unpublished events; the number published.

    ``user_id``: the broker user of the connection. RabbitMQ refuses a message whose
    ``user_id`` is not the connection's user, so consumers can trust it (pollsite.events.trust).
    """
    with transaction.atomic():
        pending = OutboxEvent.objects.filter(published_at__isnull=True).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        batch = list(pending[:limit])
        published = []
        for event in batch:
            producer.publish(
                envelope(event),
                exchange=events_exchange(),
                routing_key=routing_key(event.producer, event.event_type),
                serializer="json",
                delivery_mode=2,
                message_id=str(event.event_id),
                headers={"x-request-id": event.request_id},
                retry=False,
                **({"user_id": user_id} if user_id else {}),
            )
            published.append(event.pk)
        if published:
            OutboxEvent.objects.filter(pk__in=published).update(published_at=timezone.now())
    for event in batch:
        EVENTS_PUBLISHED.labels(event_type=routing_key(event.producer, event.event_type)).inc()
        logger.info(
            "event published", extra={"event_id": str(event.event_id), "event_type": event.event_type, "request_id": event.request_id}
        )
    return len(published)


def relay_run(*, once: bool = False, stopper: Stopper | None = None) -> None:
    """Publish the outbox until stopped (``once``: until it is empty)."""
    stopper = stopper or Stopper()

    def session(conn) -> None:
        channel = conn.channel()
        declare_topology(channel)
        producer = Producer(channel)
        user_id = conn.userid if conn.transport_cls not in ("filesystem", "memory") else None
        logger.info("relay connected", extra={"broker": conn.as_uri()})
        while not stopper.stopped:
            count = outbox_publish_batch(producer=producer, limit=settings.EVENTS_RELAY_BATCH, user_id=user_id)
            if count == 0:
                if once:
                    return
                time.sleep(settings.EVENTS_RELAY_IDLE_SECONDS)

    run_connected(session, what="relay", stopper=stopper, retry=not once)

"""The relay: publishes the outbox to the broker, in order, until stopped.

Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) so a second relay
replica never publishes the same row concurrently; a row is stamped published only after
the broker confirmed it. If the broker is down, events wait in the outbox and the relay
retries with back-off; a duplicate after a crash is absorbed by the consumers' inbox.
"""

import logging
import signal
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu import Producer

from pollsite.events.broker import broker_connection, declare_topology, events_exchange, routing_key
from pollsite.events.outbox import envelope
from pollsite.models import OutboxEvent

logger = logging.getLogger("pollsite.events.relay")


def outbox_publish_batch(*, producer: Producer, limit: int) -> int:
    """Publish up to ``limit`` unpublished events; the number published."""
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
            )
            published.append(event.pk)
        if published:
            OutboxEvent.objects.filter(pk__in=published).update(published_at=timezone.now())
    for event in batch:
        logger.info(
            "event published", extra={"event_id": str(event.event_id), "event_type": event.event_type, "request_id": event.request_id}
        )
    return len(published)


class Stopper:
    """SIGTERM/SIGINT ask the loop to finish its batch and exit."""

    def __init__(self):
        self.stopped = False
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def stop(self, *_):
        self.stopped = True


def relay_run(*, once: bool = False, stopper: Stopper | None = None) -> None:
    stopper = stopper or Stopper()
    backoff = 0.5
    while not stopper.stopped:
        try:
            with broker_connection() as conn:
                conn.ensure_connection(max_retries=1)
                channel = conn.channel()
                declare_topology(channel)
                producer = Producer(channel)
                logger.info("relay connected", extra={"broker": conn.as_uri()})
                backoff = 0.5
                while not stopper.stopped:
                    count = outbox_publish_batch(producer=producer, limit=settings.EVENTS_RELAY_BATCH)
                    if once and count == 0:
                        return
                    if count == 0:
                        time.sleep(settings.EVENTS_RELAY_IDLE_SECONDS)
        except Exception as exc:
            logger.warning("relay cannot publish, retrying in %.1fs: %s: %s", backoff, exc.__class__.__name__, exc)
            connection.close()
            if once:
                raise
            time.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

"""The consumer: applies each event at most once, in the same transaction as its effect.

A consuming role's app provides ``handlers.py`` with ``HANDLERS``: a map from event key
(``polls.poll.closed``) to a function taking the typed payload of that event
(:mod:`pollsite.events.contract`). Every message is first checked
(:func:`pollsite.events.trust.delivery_verify`); one that fails is dead-lettered at once.
The event id goes into the inbox in the handler's transaction, so a redelivery changes
nothing. A handler that raises is recorded for a retry with back-off and the message
acknowledged, so the queue moves on; due retries run between messages. The message is
acknowledged only after its inbox row or dead-letter row committed: a consumer killed
mid-stream leaves it unacknowledged and the broker delivers it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from kombu import Consumer

from pollsite.events import deadletters
from pollsite.events.broker import role_queue
from pollsite.events.contract import Model
from pollsite.events.trust import Delivery, Event, Refused, delivery_verify
from pollsite.events.worker import Stopper, run_connected
from pollsite.models import DeadLetter, InboxEvent
from pollsite.observability.metrics import EVENT_HANDLER_ERRORS, EVENTS_CONSUMED
from pollsite.observability.request_context import request_id_var
from pollsite.roles import get_role

logger = logging.getLogger("pollsite.events.consumer")

Handler = Callable[[Model], None]

#: How often, at most, the consumer looks for retries that are due.
RETRY_CHECK_SECONDS = 0.5


def role_handlers(role_name: str) -> dict[str, Handler]:
    return import_module(f"{get_role(role_name).app}.handlers").HANDLERS


def event_apply(*, event: Event, handlers: dict[str, Handler]) -> str:
    """Apply one checked event once; the inbox outcome (``applied``, ``ignored``, or ``duplicate``)."""
    envelope = event.envelope
    handler = handlers.get(event.declaration.key)
    try:
        with transaction.atomic():
            InboxEvent.objects.create(
                event_id=envelope.id,
                event_type=envelope.type,
                producer=envelope.producer,
                request_id=envelope.request_id,
                occurred_at=envelope.occurred_at,
                outcome=InboxEvent.Outcome.APPLIED if handler else InboxEvent.Outcome.IGNORED,
            )
            if handler:
                handler(event.payload)
    except IntegrityError:
        if InboxEvent.objects.filter(event_id=envelope.id).exists():
            return "duplicate"
        raise
    return "applied" if handler else "ignored"


class EventConsumer:
    def __init__(self, role_name: str):
        self.role_name = role_name
        self.handlers = role_handlers(role_name)
        self.next_retry_check = 0.0

    def on_message(self, message) -> None:
        """Check, apply or set aside one message, then acknowledge it. Raises only on a database outage."""
        try:
            delivery = Delivery.from_message(message)
        except Exception as exc:  # a message kombu could hand over but not describe: keep what we can
            logger.exception("unreadable message")
            delivery = Delivery(body=b"", properties={"unreadable": f"{exc.__class__.__name__}: {exc}"})
        outcome, event_key = self.deliver(delivery)
        message.ack()
        EVENTS_CONSUMED.labels(event_type=event_key, outcome=outcome).inc()
        self.retry_due()

    def deliver(self, delivery: Delivery, *, letter: DeadLetter | None = None) -> tuple[str, str]:
        """(outcome, event key). ``letter``: the stored row this delivery is a retry of."""
        try:
            event = delivery_verify(delivery, role=self.role_name)
        except Refused as refusal:
            logger.error("message dead-lettered: %s", refusal, extra={"routing_key": delivery.routing_key})
            if letter is None:
                deadletters.dead_letter_record(delivery=delivery, reason=refusal.reason, detail=refusal.detail)
            else:
                deadletters.dead_letter_failed_again(letter=letter, reason=refusal.reason, detail=refusal.detail)
            return "dead_lettered", ""
        envelope = event.envelope
        token = request_id_var.set(envelope.request_id)
        try:
            outcome = event_apply(event=event, handlers=self.handlers)
        except (OperationalError, InterfaceError):
            raise  # the database, not the event: unacknowledged, redelivered after reconnecting
        except Exception as exc:  # a bug or an unexpected state: retry later, without holding the queue
            if not connection.in_atomic_block:  # a retry runs inside the batch's transaction
                connection.close_if_unusable_or_obsolete()
            EVENT_HANDLER_ERRORS.labels(event_type=event.declaration.key).inc()
            logger.exception("event failed", extra={"event_id": str(envelope.id), "event_type": envelope.type})
            detail = f"{exc.__class__.__name__}: {exc}"
            if letter is None:
                deadletters.dead_letter_record(
                    delivery=delivery,
                    reason=DeadLetter.Reason.HANDLER_ERROR,
                    detail=detail,
                    state=DeadLetter.State.RETRYING,
                    event_id=str(envelope.id),
                    event_type=event.declaration.key,
                )
            else:
                deadletters.dead_letter_failed_again(letter=letter, reason=DeadLetter.Reason.HANDLER_ERROR, detail=detail)
            return "retrying", event.declaration.key
        finally:
            request_id_var.reset(token)
        if letter is not None:
            letter.delete()
        logger.info(
            "event %s", outcome, extra={"event_id": str(envelope.id), "event_type": envelope.type, "request_id": envelope.request_id}
        )
        return outcome, event.declaration.key

    def retry_due(self, *, force: bool = False) -> int:
        """Apply the stored retries that are due (at most every RETRY_CHECK_SECONDS); how many were tried."""
        now = time.monotonic()
        if not force and now < self.next_retry_check:
            return 0
        self.next_retry_check = now + RETRY_CHECK_SECONDS
        with transaction.atomic():
            due = deadletters.dead_letters_due()
            for letter in due:
                outcome, event_key = self.deliver(deadletters.dead_letter_delivery(letter), letter=letter)
                EVENTS_CONSUMED.labels(event_type=event_key, outcome=outcome).inc()
        return len(due)

    def run(self, *, stopper: Stopper | None = None, idle_exit_seconds: float | None = None) -> None:
        """Consume until stopped (``idle_exit_seconds``: or until the queue stayed empty that long)."""
        stopper = stopper or Stopper()

        def session(conn) -> None:
            queue = role_queue(self.role_name)
            with Consumer(conn, queues=[queue], on_message=self.on_message, prefetch_count=settings.EVENTS_PREFETCH):
                logger.info("consumer connected", extra={"queue": queue.name})
                idle_since = time.monotonic()
                while not stopper.stopped:
                    try:
                        conn.drain_events(timeout=RETRY_CHECK_SECONDS)
                        idle_since = time.monotonic()
                    except TimeoutError:
                        if self.retry_due():
                            idle_since = time.monotonic()
                        elif idle_exit_seconds is not None and time.monotonic() - idle_since > idle_exit_seconds:
                            return
                        conn.heartbeat_check()

        run_connected(session, what="consumer", stopper=stopper)

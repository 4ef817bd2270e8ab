"""The consumer: applies each event at most once, in the same transaction as its effect.

A consuming role's app provides ``handlers.py`` with ``HANDLERS``: a map from event
type (``polls.poll.closed``) to a function taking the payload. The event id goes into
the inbox in the handler's transaction, so a redelivery finds it and changes nothing.
The message is acknowledged only after that transaction committed: a consumer killed
mid-stream leaves the message unacknowledged and the broker delivers it again.
"""

import logging
import time
import uuid
from collections.abc import Callable
from importlib import import_module

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils.dateparse import parse_datetime
from kombu import Consumer

from pollsite.events.broker import role_queue
from pollsite.events.worker import Stopper, run_connected
from pollsite.metrics import EVENT_HANDLER_ERRORS, EVENTS_CONSUMED, EVENTS_FAILED
from pollsite.models import InboxEvent
from pollsite.request_context import request_id_var
from pollsite.roles import get_role

logger = logging.getLogger("pollsite.events.consumer")

Handler = Callable[[dict], None]

#: A handler that raised this many times in a row is recorded as failed and skipped.
MAX_ATTEMPTS = 5


def role_handlers(role_name: str) -> dict[str, Handler]:
    return import_module(f"{get_role(role_name).app}.handlers").HANDLERS


def event_apply(*, event: dict, handlers: dict[str, Handler]) -> str:
    """Apply one event envelope once; the inbox outcome (``applied``, ``ignored``, or ``duplicate``)."""
    key = f"{event['producer']}.{event['type']}"
    handler = handlers.get(key)
    try:
        with transaction.atomic():
            InboxEvent.objects.create(
                event_id=event["id"],
                event_type=event["type"],
                producer=event["producer"],
                request_id=event.get("request_id", ""),
                occurred_at=parse_datetime(event["occurred_at"]),
                outcome=InboxEvent.Outcome.APPLIED if handler else InboxEvent.Outcome.IGNORED,
            )
            if handler:
                handler(event["payload"])
    except IntegrityError:
        if InboxEvent.objects.filter(event_id=event["id"]).exists():
            return "duplicate"
        raise
    return "applied" if handler else "ignored"


ENVELOPE_FIELDS = {"id": str, "type": str, "version": int, "occurred_at": str, "producer": str, "payload": dict}


def envelope_problem(body) -> str | None:
    """Why this message is not a well-formed event envelope, or None."""
    if not isinstance(body, dict):
        return f"body is {type(body).__name__}, not an object"
    for name, kind in ENVELOPE_FIELDS.items():
        if not isinstance(body.get(name), kind):
            return f"field {name!r} missing or not {kind.__name__}"
    try:
        uuid.UUID(body["id"])
    except ValueError:
        return "field 'id' is not a UUID"
    if parse_datetime(body["occurred_at"]) is None:
        return "field 'occurred_at' is not a timestamp"
    return None


def event_record_failure(*, event: dict, error: str) -> None:
    InboxEvent.objects.get_or_create(
        event_id=event["id"],
        defaults={
            "event_type": event["type"],
            "producer": event["producer"],
            "request_id": event.get("request_id", ""),
            "occurred_at": parse_datetime(event["occurred_at"]),
            "outcome": InboxEvent.Outcome.FAILED,
            "error": error[:5000],
        },
    )


class EventConsumer:
    def __init__(self, role_name: str):
        self.role_name = role_name
        self.handlers = role_handlers(role_name)
        self.failures: dict[str, int] = {}

    def on_message(self, body: dict, message) -> None:
        problem = envelope_problem(body)
        if problem:  # not an event we could ever apply: redelivering it would not help
            EVENTS_FAILED.labels(event_type="", reason="malformed").inc()
            logger.error("malformed event rejected: %s", problem, extra={"event_id": str(body.get("id")) if isinstance(body, dict) else ""})
            message.reject()
            return
        token = request_id_var.set(body.get("request_id") or "")
        try:
            outcome = event_apply(event=body, handlers=self.handlers)
        except (OperationalError, InterfaceError):
            raise  # the database, not the event: unacknowledged, redelivered after reconnecting
        except Exception as exc:  # the handler failed: retry a few times, then record it as failed
            connection.close_if_unusable_or_obsolete()
            attempts = self.failures[body["id"]] = self.failures.get(body["id"], 0) + 1
            EVENT_HANDLER_ERRORS.labels(event_type=f"{body['producer']}.{body['type']}").inc()
            logger.exception(
                "event failed (attempt %d of %d)",
                attempts,
                MAX_ATTEMPTS,
                extra={"event_id": body.get("id"), "event_type": body.get("type")},
            )
            if attempts < MAX_ATTEMPTS:
                time.sleep(min(0.2 * 2**attempts, 5))
                message.requeue()
                return
            event_record_failure(event=body, error=f"{exc.__class__.__name__}: {exc}")
            EVENTS_FAILED.labels(event_type=f"{body['producer']}.{body['type']}", reason="handler").inc()
            outcome = "failed"
        finally:
            request_id_var.reset(token)
        self.failures.pop(body["id"], None)
        message.ack()
        EVENTS_CONSUMED.labels(event_type=f"{body['producer']}.{body['type']}", outcome=outcome).inc()
        logger.info(
            "event %s", outcome, extra={"event_id": body["id"], "event_type": body["type"], "request_id": body.get("request_id", "")}
        )

    def run(self, *, stopper: Stopper | None = None, idle_exit_seconds: float | None = None) -> None:
        """Consume until stopped (``idle_exit_seconds``: or until the queue stayed empty that long)."""
        stopper = stopper or Stopper()

        def session(conn) -> None:
            queue = role_queue(self.role_name)
            with Consumer(conn, queues=[queue], callbacks=[self.on_message], accept=["json"], prefetch_count=1):
                logger.info("consumer connected", extra={"queue": queue.name})
                idle_since = time.monotonic()
                while not stopper.stopped:
                    try:
                        conn.drain_events(timeout=1)
                        idle_since = time.monotonic()
                    except TimeoutError:
                        if idle_exit_seconds is not None and time.monotonic() - idle_since > idle_exit_seconds:
                            return
                        conn.heartbeat_check()

        run_connected(session, what="consumer", stopper=stopper)

"""The dead-letter store: messages set aside instead of applied, and handler retries.

It is a table in the consuming role's own database (:class:`pollsite.models.DeadLetter`),
not a broker queue, so that it works the same on RabbitMQ and on the filesystem
transport, an operator can list, show, requeue and discard single messages
(``manage.py dead_letters``), and a retry waits without holding a queue: the message is
acknowledged once its row is committed, and the consumer retries due rows between
messages. A requeued row is checked again exactly like a new message, with the
routing key and user the broker vouched for when it first arrived; consumers never
publish.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from pollsite.events.trust import Delivery
from pollsite.models import DeadLetter
from pollsite.observability.metrics import EVENTS_DEAD_LETTERED

logger = logging.getLogger("pollsite.events.deadletters")

State, Reason = DeadLetter.State, DeadLetter.Reason


def _ascii(text: str, limit: int) -> str:
    """Printable ASCII (everything else escaped), at most ``limit`` characters: storable anywhere."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    return "".join(ch if ch.isprintable() or ch in "\n\t" else f"\\x{ord(ch):02x}" for ch in escaped)[:limit]


def _body_text(body: bytes) -> tuple[str, bool]:
    kept = body[: settings.EVENTS_DEAD_LETTER_MAX_BODY]
    text = kept.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    return text, len(kept) < len(body)


def retry_delay(attempts: int) -> timedelta:
    """Back-off before the next attempt after ``attempts`` failed ones (capped at 5 minutes)."""
    return timedelta(seconds=min(settings.EVENTS_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 300))


def dead_letter_record(
    *, delivery: Delivery, reason: Reason, detail: str, state: State = State.DEAD, event_id: str = "", event_type: str = ""
) -> DeadLetter:
    """Set a message aside. Whatever the message holds, this stores it or raises a database outage.

    The full record keeps the body; should it still fail for a reason other than the
    database being away, a minimal record (reason, size, SHA-256; all ASCII) is stored
    instead, so the message is never lost and never blocks the queue.
    """
    attempts = 1 if state == State.RETRYING else 0
    fields = {
        "state": state,
        "reason": reason,
        "detail": _ascii(detail, 4000),
        "attempts": attempts,
        "next_attempt_at": timezone.now() + retry_delay(attempts) if state == State.RETRYING else None,
        "routing_key": _ascii(delivery.routing_key, 255),
        "user_id": _ascii(delivery.user_id, 255),
        "content_type": _ascii(delivery.content_type, 255),
        "body_size": len(delivery.body),
        "body_sha256": hashlib.sha256(delivery.body).hexdigest(),
        "event_id": _ascii(event_id, 36),
        "event_type": _ascii(event_type, 100),
    }
    body, truncated = _body_text(delivery.body)
    properties = _ascii(json.dumps(delivery.properties, default=repr, ensure_ascii=True), 16000)
    try:
        with transaction.atomic():
            letter = DeadLetter.objects.create(**fields, body=body, body_truncated=truncated, properties=properties)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("dead letter could not be stored whole; storing its digest only")
        letter = DeadLetter.objects.create(**fields, body="", body_truncated=bool(delivery.body), properties="")
    if state == State.DEAD:
        dead_letter_count(reason)
    return letter


def dead_letter_count(reason: str) -> None:
    EVENTS_DEAD_LETTERED.labels(reason=reason).inc()


def dead_letter_delivery(letter: DeadLetter) -> Delivery:
    """The message of a stored row, as the consumer checks it again (retry, requeue)."""
    return Delivery(
        body=letter.body.encode("utf-8", "surrogateescape"),
        routing_key=letter.routing_key,
        user_id=letter.user_id,
        content_type=letter.content_type,
        properties={"requeued_from": letter.pk},
    )


def dead_letter_failed_again(*, letter: DeadLetter, reason: Reason, detail: str) -> None:
    """Another attempt failed: retry later with back-off, or give up once attempts are spent."""
    letter.attempts += 1
    letter.reason, letter.detail = reason, _ascii(detail, 4000)
    if reason == Reason.HANDLER_ERROR and letter.attempts < settings.EVENTS_MAX_ATTEMPTS:
        letter.state, letter.next_attempt_at = State.RETRYING, timezone.now() + retry_delay(letter.attempts)
    else:
        letter.state, letter.next_attempt_at = State.DEAD, None
        dead_letter_count(reason)
    letter.save(update_fields=["attempts", "reason", "detail", "state", "next_attempt_at"])


def dead_letters_due(*, limit: int = 10) -> list[DeadLetter]:
    """Retrying rows whose next attempt is due, oldest first (locked, skipping rows another replica holds)."""
    due = DeadLetter.objects.filter(state=State.RETRYING, next_attempt_at__lte=timezone.now()).order_by("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    return list(due[:limit])


# --- what operators do (manage.py dead_letters) ------------------------------------------


def dead_letters_list(*, state: str | None = None, reason: str | None = None, limit: int = 50):
    letters = DeadLetter.objects.all()
    if state:
        letters = letters.filter(state=state)
    if reason:
        letters = letters.filter(reason=reason)
    return letters.order_by("-id")[:limit]


def dead_letter_requeue(*, letter_id: int) -> DeadLetter:
    """Give a row one more attempt now; the consumer checks and applies it like a new message."""
    with transaction.atomic():
        letter = DeadLetter.objects.select_for_update().get(pk=letter_id)
        letter.state, letter.next_attempt_at = State.RETRYING, timezone.now()
        letter.save(update_fields=["state", "next_attempt_at"])
    logger.warning("dead letter %s requeued", letter_id, extra={"event_id": letter.event_id})
    return letter


def dead_letter_discard(*, letter_id: int) -> DeadLetter:
    """Delete a row for good (it was looked at and is not wanted)."""
    letter = DeadLetter.objects.get(pk=letter_id)
    letter.delete()
    logger.warning("dead letter %s discarded (%s, sha256 %s)", letter_id, letter.reason, letter.body_sha256)
    return letter

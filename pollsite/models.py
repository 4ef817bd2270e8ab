"""Tables every role has: its transactional outbox and its inbox of applied events."""

import uuid

from django.db import models


class OutboxEvent(models.Model):
    """An event written in the same transaction as the change it describes.

    The relay (``manage.py relay_events``) publishes unpublished rows in id order and
    stamps ``published_at``; the table, not the broker, is the source of truth.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=100)
    version = models.PositiveSmallIntegerField(default=1)
    occurred_at = models.DateTimeField()
    producer = models.CharField(max_length=50)
    request_id = models.CharField(max_length=128, blank=True)
    payload = models.JSONField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["id"], name="outbox_unpublished", condition=models.Q(published_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class InboxEvent(models.Model):
    """An event this role has consumed, recorded in the same transaction as its effect.

    The unique event id is what makes a redelivered event change nothing.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied"
        IGNORED = "ignored"
        FAILED = "failed"

    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=100)
    producer = models.CharField(max_length=50)
    request_id = models.CharField(max_length=128, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.outcome})"


class DeadLetter(models.Model):
    """A message the consumer set aside instead of applying: refused, or a handler that kept failing.

    Every field is plain bounded ASCII text or a number, so recording one cannot fail on
    what the message holds. ``retrying`` rows are a handler's failed attempts waiting for
    their next try (``next_attempt_at``); ``dead`` rows wait for an operator
    (``manage.py dead_letters``). The consumer only ever reads these rows back to retry
    them, with the routing key and user the broker vouched for when they arrived.
    """

    class State(models.TextChoices):
        RETRYING = "retrying"
        DEAD = "dead"

    class Reason(models.TextChoices):
        TOO_LARGE = "too_large"
        CONTENT_TYPE = "content_type"
        BAD_JSON = "bad_json"
        INVALID_ENVELOPE = "invalid_envelope"
        ROUTING_KEY = "routing_key"
        MISSING_USER_ID = "missing_user_id"
        FORGED_PRODUCER = "forged_producer"
        UNKNOWN_TYPE = "unknown_type"
        UNKNOWN_VERSION = "unknown_version"
        INVALID_PAYLOAD = "invalid_payload"
        HANDLER_ERROR = "handler_error"

    state = models.CharField(max_length=10, choices=State.choices, db_index=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    #: What the broker said about the message (routing key, user_id, content type, ...): JSON, ASCII.
    routing_key = models.CharField(max_length=255, blank=True)
    user_id = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    properties = models.TextField(blank=True)
    #: The body as received (UTF-8, undecodable bytes escaped), cut at EVENTS_DEAD_LETTER_MAX_BODY.
    body = models.TextField(blank=True)
    body_size = models.PositiveIntegerField(default=0)
    body_sha256 = models.CharField(max_length=64, blank=True)
    body_truncated = models.BooleanField(default=False)
    #: Filled when the envelope was readable; for looking up and for the admin.
    event_id = models.CharField(max_length=36, blank=True, db_index=True)
    event_type = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="deadletter_retry_due", condition=models.Q(state="retrying")),
        ]

    def __str__(self) -> str:
        return f"dead letter {self.pk} ({self.state}, {self.reason})"

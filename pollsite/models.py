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

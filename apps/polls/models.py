from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from pollsite.events.contract import PollStatus


class PollQuerySet(models.QuerySet):
    def open(self):
        return self.filter(Q(closed_at__isnull=True) & (Q(closes_at__isnull=True) | Q(closes_at__gt=Now())))

    def closed(self):
        return self.exclude(pk__in=self.open().values("pk"))


class Poll(models.Model):
    """A question put by its creator (the subject of the token that created it)."""

    #: The status vocabulary is the contract's, shared with the other roles.
    Status = PollStatus

    question = models.CharField(max_length=200)
    creator = models.CharField(max_length=150, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: When the poll stops taking votes by itself; None: open until closed by hand.
    closes_at = models.DateTimeField(null=True, blank=True)
    #: When it was closed (by hand, or by ``close_expired_polls`` once past closes_at).
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = PollQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.question

    def status_at(self, moment) -> PollStatus:
        """A poll past its closing time is closed, whether or not anyone closed it yet."""
        if self.closed_at is not None or (self.closes_at is not None and self.closes_at <= moment):
            return self.Status.CLOSED
        return self.Status.OPEN

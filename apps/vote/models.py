"""The vote role's own data: votes, their tallies, and its read model of polls and choices.

``KnownPoll`` and ``KnownChoice`` are fed by the polls and choice roles' events (and
by a read-through call on a miss), so casting a vote needs neither role to be up.
"""

from __future__ import annotations

from django.db import models

from pollsite.events.contract import PollStatus


class KnownPoll(models.Model):
    """What vote knows of a poll. Status only moves forward: open → closed → deleted."""

    class Status(models.IntegerChoices):
        OPEN = 0
        CLOSED = 1
        DELETED = 2

        @classmethod
        def of(cls, status: PollStatus) -> KnownPoll.Status:
            """The read model's code for a status of the contract's vocabulary."""
            return {PollStatus.OPEN: cls.OPEN, PollStatus.CLOSED: cls.CLOSED}[status]

    poll_id = models.BigIntegerField(primary_key=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.OPEN)
    closes_at = models.DateTimeField(null=True, blank=True)
    #: The poll's creator (the subject of the token that created it): who may take an edit lease.
    creator = models.CharField(max_length=150, blank=True)
    #: While its creator changes the poll's wording, new votes wait (apps.vote.services.edit_lease_take).
    edit_lease_id = models.UUIDField(null=True, blank=True)
    edit_lease_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"poll {self.poll_id} ({self.get_status_display()})"


class KnownChoice(models.Model):
    """A choice and the poll it belongs to. Deleted choices stay as tombstones."""

    choice_id = models.BigIntegerField(primary_key=True)
    poll_id = models.BigIntegerField(db_index=True)
    deleted = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"choice {self.choice_id} of poll {self.poll_id}"


class Vote(models.Model):
    poll_id = models.BigIntegerField()
    choice_id = models.BigIntegerField(db_index=True)
    voter = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["poll_id", "voter"], name="vote_one_per_voter_per_poll")]

    def __str__(self) -> str:
        return f"{self.voter} → choice {self.choice_id} of poll {self.poll_id}"


class TallyShard(models.Model):
    """One of N counters per (poll, choice), bumped in the vote's own transaction.

    A vote increments one shard picked at random, so votes into a hot poll spread over
    N rows instead of queueing on one lock; results sum at most N rows per choice, so
    reading them costs the same at a thousand votes as at a million, and is exact.
    """

    poll_id = models.BigIntegerField()
    choice_id = models.BigIntegerField()
    shard = models.PositiveSmallIntegerField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["poll_id", "choice_id", "shard"], name="tally_one_row_per_shard")]

    def __str__(self) -> str:
        return f"poll {self.poll_id} choice {self.choice_id} shard {self.shard}: {self.count}"

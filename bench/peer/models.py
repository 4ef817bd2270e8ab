"""The vote role's tables, as the peer's own models (the vote role's migrations made them)."""

from django.db import models


class KnownPoll(models.Model):
    poll_id = models.BigIntegerField(primary_key=True)
    status = models.PositiveSmallIntegerField(default=0)
    closes_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "vote_knownpoll"

    def __str__(self) -> str:
        return f"poll {self.poll_id}"


class KnownChoice(models.Model):
    choice_id = models.BigIntegerField(primary_key=True)
    poll_id = models.BigIntegerField()
    deleted = models.BooleanField(default=False)

    class Meta:
        managed = False
        db_table = "vote_knownchoice"

    def __str__(self) -> str:
        return f"choice {self.choice_id}"


class Vote(models.Model):
    poll_id = models.BigIntegerField()
    choice_id = models.BigIntegerField()
    voter = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        managed = False
        db_table = "vote_vote"

    def __str__(self) -> str:
        return f"{self.voter} in poll {self.poll_id}"


class Tally(models.Model):
    poll_id = models.BigIntegerField()
    choice_id = models.BigIntegerField()
    shard = models.PositiveSmallIntegerField(default=0)
    count = models.BigIntegerField(default=0)

    class Meta:
        managed = False
        db_table = "vote_tallyshard"

    def __str__(self) -> str:
        return f"poll {self.poll_id} choice {self.choice_id}: {self.count}"

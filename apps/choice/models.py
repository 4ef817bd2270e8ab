from django.db import models


class Choice(models.Model):
    """One answer of a poll. The poll lives in the polls role: referenced by id only."""

    poll_id = models.BigIntegerField(db_index=True)
    text = models.CharField(max_length=200)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["poll_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["poll_id", "order"], name="choice_unique_order_per_poll"),
            models.UniqueConstraint(fields=["poll_id", "text"], name="choice_unique_text_per_poll"),
        ]

    def __str__(self) -> str:
        return self.text

from django.apps import AppConfig


class VoteConfig(AppConfig):
    name = "apps.vote"
    label = "vote"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.backends.signals import connection_created

        from apps.vote import metrics  # noqa: F401 - the vote counters exist from the first scrape
        from apps.vote.services import vote_statement_forget

        connection_created.connect(vote_statement_forget, dispatch_uid="vote-statement-forget")

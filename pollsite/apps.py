from django.apps import AppConfig


class PollsiteConfig(AppConfig):
    """Shared app installed in every role: outbox/inbox tables and the shared commands."""

    name = "pollsite"
    verbose_name = "pollsite (shared)"
    default_auto_field = "django.db.models.BigAutoField"

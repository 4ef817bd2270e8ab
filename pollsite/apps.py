import logging

from django.apps import AppConfig
from django.conf import settings


class PollsiteConfig(AppConfig):
    """Shared app installed in every role: outbox/inbox tables and the shared commands."""

    name = "pollsite"
    verbose_name = "pollsite (shared)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from pollsite.config import checks  # noqa: F401 - registers pollsite's deploy checks
        from pollsite.observability.tracing import tracing_setup

        # Python's warnings go through logging too, so every line a process prints is JSON.
        logging.captureWarnings(True)
        tracing_setup(role=settings.ROLE)

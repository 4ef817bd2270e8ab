from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pollsite.events.relay import relay_run
from pollsite.observability.metrics import serve_worker_metrics
from pollsite.observability.probes import wait_until_migrated


class Command(BaseCommand):
    help = "Publish this role's outbox to the broker, in order, until SIGTERM (--once: until the outbox is empty)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="exit when nothing is left to publish")

    def handle(self, *args, once: bool = False, **options):
        if not settings.EVENTS_PUBLISHES:
            raise CommandError(f"the {settings.ROLE} role publishes no events: it has no relay")
        serve_worker_metrics()
        wait_until_migrated()
        relay_run(once=once)

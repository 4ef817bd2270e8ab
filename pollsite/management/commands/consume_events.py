from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pollsite.events.consumer import EventConsumer
from pollsite.observability.metrics import serve_worker_metrics
from pollsite.observability.probes import wait_until_migrated


class Command(BaseCommand):
    help = "Apply the events this role consumes, each at most once, until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument(
            "--idle-exit", type=float, default=None, metavar="SECONDS", help="exit after this long without a message (tests, backfills)"
        )

    def handle(self, *args, idle_exit=None, **options):
        if not settings.EVENTS_CONSUMES:
            raise CommandError(f"the {settings.ROLE} role consumes no events")
        serve_worker_metrics()
        wait_until_migrated()
        EventConsumer(settings.ROLE).run(idle_exit_seconds=idle_exit)

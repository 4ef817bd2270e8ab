import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Wait until this role's database accepts connections (init containers, start-up scripts)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds (default 60)")

    def handle(self, *args, timeout: float = 60.0, **options):
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.ensure_connection()
                self.stdout.write(f"database {connection.settings_dict['NAME']} is up")
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise CommandError(f"database not reachable after {timeout:.0f}s: {exc}") from exc
                connection.close()
                time.sleep(1)

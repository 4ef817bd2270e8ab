from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from pollsite.auth import token_issue


class Command(BaseCommand):
    help = "Mint a bearer JWT for a subject (a poll creator or a voter), signed with the configured key."

    def add_arguments(self, parser):
        parser.add_argument("--sub", required=True, help="the token's subject: the creator or voter name")
        parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")

    def handle(self, *args, sub: str, ttl: int, **options):
        if not sub.strip() or len(sub) > 150:
            raise CommandError("--sub must be a non-empty name of at most 150 characters")
        if ttl <= 0:
            raise CommandError("--ttl must be positive")
        try:
            self.stdout.write(token_issue(subject=sub, ttl=timedelta(seconds=ttl)))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

from datetime import timedelta
from pathlib import Path

import jwt
from django.core.management.base import BaseCommand, CommandError

from pollsite.api.auth import token_issue


class Command(BaseCommand):
    help = (
        "Mint a bearer JWT for a subject (a poll creator or a voter). HS* (development) signs with the "
        "configured secret; RS*/ES* need --private-key-file, since no pod of a release holds a signing key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sub", required=True, help="the token's subject: the creator or voter name")
        parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600; JWT_MAX_LIFETIME_SECONDS caps it)")
        parser.add_argument("--private-key-file", type=Path, help="PEM private key for RS*/ES* tokens (kept outside the release)")

    def handle(self, *args, sub: str, ttl: int, private_key_file: Path | None = None, **options):
        if ttl <= 0:
            raise CommandError("--ttl must be positive")
        try:
            private_key = private_key_file.read_text() if private_key_file else None
        except OSError as exc:
            raise CommandError(f"cannot read --private-key-file: {exc}") from exc
        try:
            self.stdout.write(token_issue(subject=sub, ttl=timedelta(seconds=ttl), private_key=private_key))
        except (ValueError, jwt.InvalidTokenError) as exc:
            raise CommandError(str(exc)) from exc

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _role_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


class Command(BaseCommand):
    help = (
        "Scaffold a new role in this checkout: registry entry, apps/<name>/, settings/<name>.py, "
        "tests/<name>/, the chart's roles: entry and the import contract (pollsite.scaffold)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("name", help="the role's name: 2-20 lowercase letters and digits")
        parser.add_argument("--consumes", type=_role_list, default=(), help="roles whose events it consumes, comma-separated")
        parser.add_argument("--calls", type=_role_list, default=(), help="roles it calls over HTTP, comma-separated")

    def handle(self, *args, name: str, consumes: tuple[str, ...], calls: tuple[str, ...], **options):
        try:
            from pollsite.scaffold import ScaffoldError, role_scaffold
        except ImportError as exc:  # the image leaves the scaffold out: it writes a checkout
            raise CommandError("startrole writes a checkout of pollsite; this installation has no pollsite.scaffold") from exc
        try:
            scaffold = role_scaffold(name=name, consumes=consumes, calls=calls, root=settings.BASE_DIR)
        except ScaffoldError as exc:
            raise CommandError(f"{exc} (nothing was written)") from exc
        for path in scaffold.written:
            self.stdout.write(f"  created {path}")
        for path in scaffold.edited:
            self.stdout.write(f"  edited  {path}")
        self.stdout.write(
            f"Role {name} is ready. Next: shape apps/{name}/models.py and write its migration "
            f"(./manage.py --role {name} makemigrations {name}), then `make test` and `make run`."
        )

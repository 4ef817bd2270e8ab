from django.core.management.base import BaseCommand

from apps.choice.services import choices_find_orphans


class Command(BaseCommand):
    help = "List choices whose poll the polls role no longer has (a missed poll.deleted event); --delete removes them."

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="delete the orphans found")

    def handle(self, *args, delete: bool = False, **options):
        orphans = choices_find_orphans(delete=delete)
        for poll_id, count in orphans.items():
            self.stdout.write(f"poll {poll_id}: {count} orphan choice(s){' deleted' if delete else ''}")
        self.stdout.write(f"{len(orphans)} poll(s) with orphan choices")

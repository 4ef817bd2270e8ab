from django.core.management.base import BaseCommand

from apps.polls.services import polls_close_expired


class Command(BaseCommand):
    help = "Close the polls past their closing time and tell the other roles (a CronJob runs this)."

    def handle(self, *args, **options):
        self.stdout.write(f"closed {polls_close_expired()} expired poll(s)")

from django.core.management.base import BaseCommand

from apps.vote.services import results_recount


class Command(BaseCommand):
    help = "Rebuild the result tallies from the votes themselves (all polls, or --poll ID)."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=int, default=None, help="only this poll")

    def handle(self, *args, poll=None, **options):
        self.stdout.write(f"recounted {results_recount(poll_id=poll)} poll(s)")

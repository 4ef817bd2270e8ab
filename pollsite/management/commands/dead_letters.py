import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pollsite.events import deadletters
from pollsite.models import DeadLetter


class Command(BaseCommand):
    help = (
        "See and replay the messages this role's consumer set aside: list, show ID, requeue ID... "
        "(the consumer checks and applies them again), discard ID... (delete for good)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="newest first")
        listing.add_argument("--state", choices=DeadLetter.State.values)
        listing.add_argument("--reason", choices=DeadLetter.Reason.values)
        listing.add_argument("--limit", type=int, default=50)
        actions.add_parser("show", help="one message: what the broker said, the reason, the body").add_argument("id", type=int)
        for name, what in (("requeue", "give one more attempt now"), ("discard", "delete for good")):
            actions.add_parser(name, help=what).add_argument("ids", type=int, nargs="+", metavar="id")

    def handle(self, *args, action: str, **options):
        if not settings.EVENTS_CONSUMES:
            raise CommandError(f"the {settings.ROLE} role consumes no events: it has no dead letters")
        try:
            getattr(self, f"do_{action}")(**options)
        except DeadLetter.DoesNotExist as exc:
            raise CommandError(f"no such dead letter: {exc}") from None

    def do_list(self, *, state=None, reason=None, limit=50, **_):
        letters = deadletters.dead_letters_list(state=state, reason=reason, limit=limit)
        self.stdout.write(f"{'id':>6}  {'state':8}  {'reason':16}  {'attempts':>8}  {'received (UTC)':19}  routing key / event id")
        for letter in letters:
            self.stdout.write(
                f"{letter.pk:>6}  {letter.state:8}  {letter.reason:16}  {letter.attempts:>8}  "
                f"{letter.received_at:%Y-%m-%d %H:%M:%S}  {letter.routing_key} {letter.event_id}"
            )

    def do_show(self, *, id, **_):
        letter = DeadLetter.objects.get(pk=id)
        fields = ["state", "reason", "detail", "attempts", "next_attempt_at", "received_at", "routing_key", "user_id", "content_type"]
        shown = {name: str(getattr(letter, name)) for name in fields}
        shown.update(event_id=letter.event_id, event_type=letter.event_type, body_size=letter.body_size, body_sha256=letter.body_sha256)
        shown["body_truncated"] = letter.body_truncated
        shown["properties"] = letter.properties
        self.stdout.write(json.dumps(shown, indent=2))
        self.stdout.write("--- body ---")
        self.stdout.write(letter.body)

    def do_requeue(self, *, ids, **_):
        for letter_id in ids:
            deadletters.dead_letter_requeue(letter_id=letter_id)
            self.stdout.write(f"requeued {letter_id}: the consumer retries it within a second")

    def do_discard(self, *, ids, **_):
        for letter_id in ids:
            letter = deadletters.dead_letter_discard(letter_id=letter_id)
            self.stdout.write(f"discarded {letter_id} ({letter.reason}, sha256 {letter.body_sha256})")

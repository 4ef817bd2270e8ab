"""The polls role, as the shared suites see it (tests.support.facts)."""

from datetime import timedelta

from tests.support.facts import RoleFacts


def produce_events() -> None:
    from django.utils import timezone

    from apps.polls import services
    from tests.support.api import faked_roles

    poll = services.poll_create(question="Tea or coffee?", creator="alice", closes_at=timezone.now() + timedelta(days=1))
    with faked_roles():  # the vote role grants the edit lease a new question needs
        services.poll_update(poll_id=poll.pk, actor="alice", question="Tea, or coffee?")
    services.poll_close(poll_id=poll.pk, actor="alice")
    services.poll_delete(poll_id=poll.pk, actor="alice")


FACTS = RoleFacts(write_path="polls/", read_paths=("polls/", "polls/1/"), produce_events=produce_events)

"""The choice role, as the shared suites see it (tests.support.facts)."""

from tests.support.facts import RoleFacts


def produce_events() -> None:
    from apps.choice import services
    from tests.support.api import faked_roles, role_api

    with faked_roles() as polls:
        polls.get(role_api("polls") + "polls/7/", json={"id": 7, "creator": "alice", "status": "open"})
        choice = services.choice_create(poll_id=7, actor="alice", text="Tea")
        services.choice_update(choice_id=choice.pk, actor="alice", text="Green tea")
        services.choice_delete(choice_id=choice.pk, actor="alice")


FACTS = RoleFacts(write_path="polls/1/choices/", read_paths=("polls/1/choices/", "choices/1/"), produce_events=produce_events)

"""The choice role's rules, at the services: who may change a poll's choices and when,
their order and uniqueness, and what a deleted poll leaves behind.

Set-up through tests.support.builders; the polls role's answers (and the vote role's edit
leases) are faked at the HTTP layer.
"""

import pytest
import requests

from apps.choice import selectors, services
from apps.choice.models import Choice
from pollsite.exceptions import Conflict, ErrorCode, NotAllowed, NotFound, Unavailable
from pollsite.models import OutboxEvent
from tests.support.api import refuse_edit_leases, role_api
from tests.support.builders import a_choice

pytestmark = pytest.mark.django_db


def poll_is(other_roles, *, poll_id: int = 7, creator: str = "alice", status: str = "open") -> None:
    other_roles.get(role_api("polls") + f"polls/{poll_id}/", json={"id": poll_id, "creator": creator, "status": status, "question": "?"})


def event_types() -> list[str]:
    return list(OutboxEvent.objects.order_by("id").values_list("event_type", flat=True))


def test_choices_take_the_next_order_and_are_announced(other_roles):
    poll_is(other_roles)
    tea = services.choice_create(poll_id=7, actor="alice", text="Tea")
    coffee = services.choice_create(poll_id=7, actor="alice", text="Coffee")
    assert [(c.text, c.order) for c in selectors.choice_list(poll_id=7)] == [("Tea", 1), ("Coffee", 2)]
    assert event_types() == ["choice.created", "choice.created"]
    assert OutboxEvent.objects.last().payload == {"choice_id": coffee.pk, "poll_id": 7, "text": "Coffee", "order": 2}
    assert tea.pk != coffee.pk


@pytest.mark.parametrize(
    ("poll", "error", "code"),
    [
        ({"creator": "bob"}, NotAllowed, ErrorCode.NOT_POLL_CREATOR),
        ({"status": "closed"}, Conflict, ErrorCode.POLL_CLOSED),
    ],
    ids=["not-the-creator", "closed-poll"],
)
def test_only_the_creator_of_an_open_poll_adds_choices(other_roles, poll, error, code):
    poll_is(other_roles, **poll)
    with pytest.raises(error) as refused:
        services.choice_create(poll_id=7, actor="alice", text="Tea")
    assert refused.value.code == code
    assert not Choice.objects.exists() and not event_types()


def test_an_unknown_poll_or_an_unreachable_polls_role_writes_nothing(other_roles):
    other_roles.get(role_api("polls") + "polls/8/", status=404, json={"error": {"code": "not_found"}})
    with pytest.raises(NotFound):
        services.choice_create(poll_id=8, actor="alice", text="Tea")
    other_roles.get(role_api("polls") + "polls/9/", body=requests.ConnectionError("polls is down"))
    with pytest.raises(Unavailable):
        services.choice_create(poll_id=9, actor="alice", text="Tea")
    assert not Choice.objects.exists() and not event_types()


def test_a_poll_has_each_text_once_and_at_most_fifty_choices(other_roles):
    poll_is(other_roles)
    a_choice(text="Tea")
    with pytest.raises(Conflict) as duplicate:
        services.choice_create(poll_id=7, actor="alice", text="Tea")
    assert duplicate.value.code == ErrorCode.DUPLICATE_CHOICE
    for n in range(2, services.MAX_CHOICES_PER_POLL + 1):
        a_choice(text=f"Option {n}")
    with pytest.raises(Conflict) as full:
        services.choice_create(poll_id=7, actor="alice", text="One more")
    assert full.value.code == ErrorCode.TOO_MANY_CHOICES
    assert not event_types()


def test_a_choice_of_a_poll_with_votes_keeps_its_text_and_stays(other_roles):
    poll_is(other_roles)
    tea = a_choice(text="Tea")
    refuse_edit_leases(other_roles)
    for change in (lambda: services.choice_update(choice_id=tea.pk, actor="alice", text="Green tea"),
                   lambda: services.choice_delete(choice_id=tea.pk, actor="alice")):  # fmt: skip
        with pytest.raises(Conflict) as refused:
            change()
        assert refused.value.code == ErrorCode.POLL_HAS_VOTES
    assert Choice.objects.get(pk=tea.pk).text == "Tea" and not event_types()
    services.choice_update(choice_id=tea.pk, actor="alice", order=5)  # its order needs no lease
    assert Choice.objects.get(pk=tea.pk).order == 5


def test_a_deleted_poll_takes_its_choices_along():
    a_choice(poll_id=7, text="Tea")
    a_choice(poll_id=7, text="Coffee")
    kept = a_choice(poll_id=8, text="Tea")
    assert services.choices_delete_for_poll(poll_id=7) == 2
    assert list(Choice.objects.all()) == [kept]

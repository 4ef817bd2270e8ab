"""The vote role's rules, at the services and selectors: casting, the results, the read model.

Set-up through tests.support.builders (rows of the read model), no HTTP; the API tests
(test_vote_api.py) cover the same rules through the endpoints.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.vote import selectors, services
from apps.vote.models import KnownChoice, KnownPoll, TallyShard, Vote
from pollsite.exceptions import Conflict, ErrorCode, Invalid, NotFound
from tests.support.builders import a_known_choice, a_known_poll, a_votable_poll

pytestmark = pytest.mark.django_db


def test_a_vote_is_recorded_and_counted_in_one_step():
    tea, coffee = a_votable_poll()
    vote = services.vote_cast(poll_id=7, choice_id=coffee, voter="bob")
    assert (vote.poll_id, vote.choice_id, vote.voter) == (7, coffee, "bob")
    assert selectors.poll_results(poll_id=7) == {
        "poll_id": 7,
        "total": 1,
        "choices": [{"choice_id": tea, "votes": 0}, {"choice_id": coffee, "votes": 1}],
    }


def test_one_vote_per_voter_per_poll():
    tea, coffee = a_votable_poll()
    services.vote_cast(poll_id=7, choice_id=tea, voter="bob")
    with pytest.raises(Conflict) as refused:
        services.vote_cast(poll_id=7, choice_id=coffee, voter="bob")
    assert refused.value.code == ErrorCode.ALREADY_VOTED
    assert selectors.poll_results(poll_id=7)["total"] == 1
    assert services.vote_cast(poll_id=7, choice_id=coffee, voter="carol").voter == "carol"


@pytest.mark.parametrize(
    "poll",
    [{"status": "closed"}, {"closes_at": timezone.now() - timedelta(seconds=1)}],
    ids=["closed", "past-its-closing-time"],
)
def test_a_closed_poll_takes_no_vote(poll):
    (tea,) = a_votable_poll(choice_ids=(71,), **poll)
    with pytest.raises(Conflict) as refused:
        services.vote_cast(poll_id=7, choice_id=tea, voter="bob")
    assert refused.value.code == ErrorCode.POLL_CLOSED
    assert not Vote.objects.exists() and not TallyShard.objects.exists()


def test_a_choice_must_be_a_live_choice_of_the_poll():
    a_votable_poll(poll_id=7, choice_ids=(71,))
    a_votable_poll(poll_id=8, choice_ids=(81,))
    a_known_choice(choice_id=72, poll_id=7, deleted=True)
    with pytest.raises(Invalid) as elsewhere:
        services.vote_cast(poll_id=7, choice_id=81, voter="bob")
    assert elsewhere.value.code == ErrorCode.CHOICE_NOT_IN_POLL
    with pytest.raises(Invalid) as gone:
        services.vote_cast(poll_id=7, choice_id=72, voter="bob")
    assert gone.value.code == ErrorCode.CHOICE_NOT_FOUND
    assert not Vote.objects.exists()


def test_a_deleted_poll_takes_no_vote_and_has_no_results():
    (tea,) = a_votable_poll(choice_ids=(71,), status="deleted")
    with pytest.raises(NotFound):
        services.vote_cast(poll_id=7, choice_id=tea, voter="bob")
    with pytest.raises(NotFound):
        selectors.poll_results(poll_id=7)


def test_a_poll_being_reworded_holds_new_votes():
    (tea,) = a_votable_poll(choice_ids=(71,))
    services.edit_lease_take(poll_id=7, actor="alice")
    with pytest.raises(Conflict) as held:
        services.vote_cast(poll_id=7, choice_id=tea, voter="bob")
    assert held.value.code == ErrorCode.POLL_BEING_EDITED


def test_the_read_model_never_moves_a_poll_backwards():
    a_known_poll(status="closed")
    services.known_poll_apply(poll_id=7, status=KnownPoll.Status.OPEN, creator="alice")  # a late poll.updated
    assert KnownPoll.objects.get(poll_id=7).status == KnownPoll.Status.CLOSED


def test_a_deleted_poll_loses_its_votes_and_tallies_and_leaves_a_tombstone():
    tea, _ = a_votable_poll()
    services.vote_cast(poll_id=7, choice_id=tea, voter="bob")
    services.known_poll_delete(poll_id=7)
    assert KnownPoll.objects.get(poll_id=7).status == KnownPoll.Status.DELETED
    assert not Vote.objects.exists() and not TallyShard.objects.exists()
    assert set(KnownChoice.objects.values_list("deleted", flat=True)) == {True}
    services.known_choice_add(choice_id=73, poll_id=7)  # a choice.created arriving after the deletion
    assert KnownChoice.objects.get(choice_id=73).deleted


def test_a_deleted_choice_leaves_the_results():
    tea, coffee = a_votable_poll()
    services.vote_cast(poll_id=7, choice_id=tea, voter="bob")
    services.vote_cast(poll_id=7, choice_id=coffee, voter="carol")
    services.known_choice_delete(choice_id=tea, poll_id=7)
    assert selectors.poll_results(poll_id=7) == {"poll_id": 7, "total": 1, "choices": [{"choice_id": coffee, "votes": 1}]}


def test_a_recount_rebuilds_the_tallies_from_the_votes():
    tea, coffee = a_votable_poll()
    for voter in ("bob", "carol"):
        services.vote_cast(poll_id=7, choice_id=tea, voter=voter)
    TallyShard.objects.all().delete()
    assert services.results_recount(poll_id=7) == 1
    assert selectors.poll_results(poll_id=7)["choices"] == [{"choice_id": tea, "votes": 2}, {"choice_id": coffee, "votes": 0}]

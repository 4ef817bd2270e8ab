from django.db.models import Sum

from apps.vote.models import KnownChoice, KnownPoll, TallyShard, Vote
from pollsite.exceptions import ErrorCode, NotFound, get_or_not_found


def poll_results(*, poll_id: int) -> dict:
    """Votes per choice and in total; exact (tallies commit with the votes)."""
    poll = KnownPoll.objects.filter(poll_id=poll_id).exclude(status=KnownPoll.Status.DELETED).first()
    if poll is None:
        raise NotFound(f"The vote service knows no poll {poll_id}.", ErrorCode.POLL_NOT_FOUND)
    counts = dict(
        TallyShard.objects.filter(poll_id=poll_id).values("choice_id").annotate(votes=Sum("count")).values_list("choice_id", "votes")
    )
    choice_ids = set(KnownChoice.objects.filter(poll_id=poll_id, deleted=False).values_list("choice_id", flat=True)) | set(counts)
    choices = [{"choice_id": choice_id, "votes": counts.get(choice_id, 0)} for choice_id in sorted(choice_ids)]
    return {"poll_id": poll_id, "total": sum(counts.values()), "choices": choices}


def vote_of_voter(*, poll_id: int, voter: str) -> Vote:
    return get_or_not_found(Vote, poll_id=poll_id, voter=voter)
